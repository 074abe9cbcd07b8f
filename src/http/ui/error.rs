//! Errors of the dashboard's pages, answered as an HTML page with the
//! right status (the JSON API has its own, `http::error`).

use super::templates::ErrorPage;
use crate::storage::StoreError;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

/// Why a page could not be shown.
#[derive(Debug, thiserror::Error)]
pub enum UiError {
    /// A filter or form value that is not valid: 400.
    #[error("{0}")]
    BadRequest(String),
    /// Nothing with that id: 404.
    #[error("{0}")]
    NotFound(String),
    /// A post without a valid CSRF token or from another site: 403.
    #[error("{0}")]
    Forbidden(String),
    /// The action cannot be done in the current state: 409.
    #[error("{0}")]
    Conflict(String),
    /// A backing service (the recordings archive) cannot be reached: 503.
    #[error("{0}")]
    Unavailable(String),
    /// The store failed: 503 (its cause is logged, not shown).
    #[error("the database is unavailable; try again shortly")]
    Store(#[from] StoreError),
}

impl IntoResponse for UiError {
    fn into_response(self) -> Response {
        let (status, heading) = match &self {
            UiError::BadRequest(_) => (StatusCode::BAD_REQUEST, "Bad request"),
            UiError::NotFound(_) => (StatusCode::NOT_FOUND, "Not found"),
            UiError::Forbidden(_) => (StatusCode::FORBIDDEN, "Forbidden"),
            UiError::Conflict(_) => (StatusCode::CONFLICT, "Cannot do that now"),
            UiError::Unavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, "Unavailable"),
            UiError::Store(e) => {
                tracing::error!(error = %crate::error_chain::ErrorChain(e), "dashboard page failed");
                (StatusCode::SERVICE_UNAVAILABLE, "Unavailable")
            }
        };
        let page = ErrorPage {
            nav: "",
            chrome: Default::default(),
            heading,
            message: self.to_string(),
        };
        (status, super::html(&page)).into_response()
    }
}
