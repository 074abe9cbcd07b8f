//! The JSON query API under `/api/v1` (`interfaces.md`, Query API), guarded
//! by `Authorization: Bearer <api_token>` when `api_token` is configured.

mod calls;
mod deliveries;
mod params;
mod receipts;
mod stats;
mod subscribers;

use super::error::ApiError;
use super::{bearer, AppState};
use crate::http::auth::{authorize, Denied};
use axum::extract::{Request, State};
use axum::http::{Method, StatusCode, Uri};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{any, get, post};
use axum::Router;

pub fn router(state: AppState) -> Router<AppState> {
    Router::new()
        .route("/api/v1/calls", get(calls::list))
        .route("/api/v1/calls/{id}", get(calls::get))
        .route("/api/v1/stats", get(stats::get))
        .route("/api/v1/receipts", get(receipts::list))
        .route("/api/v1/receipts/{id}", get(receipts::get))
        .route("/api/v1/receipts/{id}/replay", post(receipts::replay))
        .route("/api/v1/deliveries", get(deliveries::list))
        .route("/api/v1/deliveries/retry", post(deliveries::retry_many))
        .route("/api/v1/deliveries/{id}", get(deliveries::get))
        .route("/api/v1/deliveries/{id}/retry", post(deliveries::retry_one))
        .route("/api/v1/subscribers", get(subscribers::list))
        .route(
            "/api/v1/subscribers/{name}/enable",
            post(subscribers::enable),
        )
        .route(
            "/api/v1/subscribers/{name}/disable",
            post(subscribers::disable),
        )
        // Unknown paths and methods answer with the API's error body too.
        .route("/api/{*rest}", any(unknown_route))
        .method_not_allowed_fallback(method_not_allowed)
        .route_layer(middleware::from_fn_with_state(state, require_token))
}

async fn unknown_route(uri: Uri) -> ApiError {
    ApiError::not_found(format!("no API route `{}`", uri.path()))
}

async fn method_not_allowed(method: Method, uri: Uri) -> ApiError {
    ApiError {
        status: StatusCode::METHOD_NOT_ALLOWED,
        code: "method_not_allowed",
        message: format!("`{method}` is not allowed on `{}`", uri.path()),
    }
}

/// Middleware: 401 without a configured API token, 403 when the token's
/// scope does not allow the method ([`crate::http::auth`]); the holder is
/// put in the request's extensions for the handlers' logs.
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
