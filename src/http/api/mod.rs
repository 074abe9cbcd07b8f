//! The JSON query API under `/api/v1` (`interfaces.md`, Query API), guarded
//! by `Authorization: Bearer <api_token>` when `api_token` is configured.

mod calls;
mod deletes;
mod deliveries;
mod params;
mod receipts;
mod stats;
mod subscribers;

use super::error::ApiError;
use super::{bearer, AppState};
use crate::config::secret_matches;
use axum::extract::{Request, State};
use axum::http::{Method, StatusCode, Uri};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{any, get, post};
use axum::Router;

pub fn router(state: AppState) -> Router<AppState> {
    Router::new()
        .route("/api/v1/calls", get(calls::list))
        .route("/api/v1/calls/{id}", get(calls::get).delete(deletes::call))
        .route("/api/v1/stats", get(stats::get))
        .route("/api/v1/receipts", get(receipts::list))
        .route(
            "/api/v1/receipts/{id}",
            get(receipts::get).delete(deletes::receipt),
        )
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

async fn require_token(
    State(st): State<AppState>,
    req: Request,
    next: Next,
) -> Result<Response, ApiError> {
    if let Some(token) = &st.config.api_token {
        let given = bearer(req.headers()).unwrap_or_default();
        if !secret_matches(token, given) {
            return Err(ApiError::unauthorized());
        }
    }
    Ok(next.run(req).await)
}
