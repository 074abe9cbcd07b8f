//! The JSON query API under `/api/v1` (docs/http-contract.md), guarded
//! by `Authorization: Bearer <api_token>` when `api_token` is configured.
//!
//! A new route: put `#[utoipa::path(...)]` on its handler (path, method,
//! parameters, 200 and its own 4xx; 401, 500 and 503 are added to every
//! `/api` operation by [`crate::http::openapi`]) and add one
//! `.routes(routes!(module::handler))` line to [`routes`]: the router and
//! `/openapi.json` then both have it.

mod alerts;
mod calls;
mod deletes;
mod deliveries;
mod params;
mod receipts;
mod recording;
mod stats;
mod subscribers;

use super::error::{ApiError, Code};
use super::{bearer, AppState};
use crate::http::auth::{authorize, Denied};
use axum::extract::{Request, State};
use axum::http::{Method, Uri};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::any;
use axum::Router;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub use calls::CallItem;
pub use receipts::{ReceiptDetail, ReplayResult};
pub use stats::Stats;
pub use subscribers::{Subscriber, Subscribers};

/// Every API route with its OpenAPI path (paths and methods come from the
/// handlers' `#[utoipa::path]`).
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(calls::list))
        .routes(routes!(calls::get, deletes::call))
        .routes(routes!(recording::get))
        .routes(routes!(stats::get))
        .routes(routes!(receipts::list))
        .routes(routes!(receipts::get, deletes::receipt))
        .routes(routes!(receipts::replay))
        .routes(routes!(deliveries::list))
        .routes(routes!(deliveries::retry_many))
        .routes(routes!(deliveries::get))
        .routes(routes!(deliveries::retry_one))
        .routes(routes!(subscribers::list))
        .routes(routes!(subscribers::enable))
        .routes(routes!(subscribers::disable))
        .routes(routes!(alerts::list))
}

pub fn router(state: AppState) -> Router<AppState> {
    Router::from(routes())
        // Unknown paths and methods answer with the API's error body too.
        .route("/api/{*rest}", any(unknown_route))
        .method_not_allowed_fallback(method_not_allowed)
        .route_layer(middleware::from_fn_with_state(state, require_token))
}

async fn unknown_route(uri: Uri) -> ApiError {
    ApiError::not_found(format!("no API route `{}`", uri.path()))
}

async fn method_not_allowed(method: Method, uri: Uri) -> ApiError {
    ApiError::new(
        Code::MethodNotAllowed,
        format!("`{method}` is not allowed on `{}`", uri.path()),
    )
}

/// Middleware: 401 without a configured API token, 403 when the token's
/// scope does not allow the method ([`crate::http::auth`]); the holder is
/// put in the request's extensions for the handlers' logs. Guards `/api`
/// and `/metrics`.
pub(crate) async fn require_token(
    State(st): State<AppState>,
    mut req: Request,
    next: Next,
) -> Result<Response, ApiError> {
    match authorize(&st.config, req.method(), bearer(req.headers())) {
        Ok(holder) => {
            if let Some(h) = holder {
                req.extensions_mut().insert(h);
            }
            Ok(next.run(req).await)
        }
        Err(d @ Denied::Unauthenticated) => Err(ApiError::unauthorized_because(d.message())),
        Err(d) => Err(ApiError::forbidden(d.message())),
    }
}
