//! [`ApiError`]: the query API's error body,
//! `{"error": {"code": "snake_case_code", "message": "…"}}`, with a stable
//! [`Code`] per failure, all listed once in [`error_codes!`]'s table. 5xx
//! bodies never carry internals (they are logged).

use crate::storage::StoreError;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

/// Defines [`Code`] from one table: variant, wire code, HTTP status, doc.
macro_rules! error_codes {
    ($($variant:ident = $code:literal, $status:ident, $doc:literal;)*) => {
        /// The stable `code` of an API error body (`{"error": {"code", …}}`),
        /// with the HTTP status it comes with.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum Code {
            $(#[doc = $doc] $variant,)*
        }

        impl Code {
            /// Every code, in table order.
            pub const ALL: &'static [Code] = &[$(Code::$variant),*];

            /// The wire code, e.g. `not_found`.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(Code::$variant => $code,)*
                }
            }

            /// The HTTP status answered with this code.
            pub const fn status(self) -> StatusCode {
                match self {
                    $(Code::$variant => StatusCode::$status,)*
                }
            }

            /// What the code means (for the OpenAPI document).
            pub const fn doc(self) -> &'static str {
                match self {
                    $(Code::$variant => $doc,)*
                }
            }
        }
    };
}

error_codes! {
    InvalidParameter = "invalid_parameter", BAD_REQUEST, "A query parameter or body field is wrong; the message names it.";
    Invalid = "invalid", BAD_REQUEST, "The request body could not be read (the connection broke).";
    Unauthorized = "unauthorized", UNAUTHORIZED, "No API token, or not a configured one.";
    Forbidden = "forbidden", FORBIDDEN, "The token's scope does not allow this method.";
    NotFound = "not_found", NOT_FOUND, "No such route, or nothing by this id.";
    RecordingNotArchived = "recording_not_archived", NOT_FOUND, "The call's recording link is known but its file is not kept (yet); `status` says where it stands.";
    MethodNotAllowed = "method_not_allowed", METHOD_NOT_ALLOWED, "The route exists but not with this method.";
    Timeout = "timeout", REQUEST_TIMEOUT, "The request body did not arrive within `limits.body_read_timeout`.";
    Conflict = "conflict", CONFLICT, "The request cannot run in the current state.";
    TooLarge = "too_large", PAYLOAD_TOO_LARGE, "The request body is larger than the API accepts.";
    Internal = "internal", INTERNAL_SERVER_ERROR, "Stored data could not be read (logged; no details in the body).";
    Overloaded = "overloaded", SERVICE_UNAVAILABLE, "At `limits.max_concurrent_api_requests`; retry after `Retry-After`.";
    StorageUnavailable = "storage_unavailable", SERVICE_UNAVAILABLE, "The store is unavailable or busy; retry after `Retry-After`.";
    ArchiveUnavailable = "archive_unavailable", SERVICE_UNAVAILABLE, "The recordings archive cannot be reached.";
}

/// The body of every API failure: `{"error": {"code", "message"}}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

/// What went wrong: a stable `code` to branch on and a message for people.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable snake_case code, one of [`Code::ALL`] (the OpenAPI document
    /// lists them with their statuses).
    #[schema(example = "invalid_parameter")]
    pub code: &'static str,
    /// What was wrong, naming the parameter; 5xx messages carry no internals.
    #[schema(example = "limit: `0` is not a whole number from 1 to 1000")]
    pub message: String,
}

/// An API failure: its code (which gives the status) and a message for
/// people.
#[derive(Debug)]
pub struct ApiError {
    pub code: Code,
    pub message: String,
}

impl ApiError {
    /// A failure with `code`.
    pub fn new(code: Code, message: impl Into<String>) -> ApiError {
        ApiError {
            code,
            message: message.into(),
        }
    }

    /// 400 `invalid_parameter`: a query parameter or body field is wrong.
    pub fn invalid(message: impl Into<String>) -> ApiError {
        ApiError::new(Code::InvalidParameter, message)
    }

    /// 404 `not_found`.
    pub fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::new(Code::NotFound, message)
    }

    /// 401 `unauthorized`: no token, or not a configured one.
    pub fn unauthorized_because(message: impl Into<String>) -> ApiError {
        ApiError::new(Code::Unauthorized, message)
    }

    /// 403 `forbidden`: the token's scope does not allow this.
    pub fn forbidden(message: impl Into<String>) -> ApiError {
        ApiError::new(Code::Forbidden, message)
    }

    /// 409 `conflict`: the request cannot run in the current state.
    pub fn conflict(message: impl Into<String>) -> ApiError {
        ApiError::new(Code::Conflict, message)
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        match e {
            StoreError::Unavailable(detail) | StoreError::Busy(detail) => {
                tracing::error!(%detail, "store unavailable");
                ApiError::new(
                    Code::StorageUnavailable,
                    "storage is unavailable; retry later",
                )
            }
            StoreError::Corrupt(detail) => {
                tracing::error!(%detail, "stored data unreadable");
                ApiError::new(Code::Internal, "internal error")
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code.as_str(),
                message: self.message,
            },
        };
        let status = self.code.status();
        let mut resp = (status, Json(body)).into_response();
        if status == StatusCode::SERVICE_UNAVAILABLE {
            resp.headers_mut()
                .insert(axum::http::header::RETRY_AFTER, 1.into());
        }
        resp
    }
}

#[cfg(test)]
mod tests {
    use super::Code;

    #[test]
    fn every_code_is_unique_snake_case_with_an_error_status() {
        let mut seen = std::collections::HashSet::new();
        for c in Code::ALL {
            let s = c.as_str();
            assert!(seen.insert(s), "`{s}` twice");
            assert!(
                s.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
                "{s}"
            );
            assert!(
                c.status().is_client_error() || c.status().is_server_error(),
                "{s}"
            );
            assert!(!c.doc().is_empty(), "{s}");
        }
    }
}
