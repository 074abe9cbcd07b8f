//! [`ApiError`]: the query API's error body,
//! `{"error": {"code": "snake_case_code", "message": "…"}}`, with a stable
//! code per failure. 5xx bodies never carry internals (they are logged).

use crate::storage::StoreError;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

/// The body of every API failure: `{"error": {"code", "message"}}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

/// What went wrong: a stable `code` to branch on and a message for people.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable snake_case code: `invalid_parameter`, `unauthorized`,
    /// `forbidden`, `not_found`, `method_not_allowed`, `conflict`, `overloaded`,
    /// `storage_unavailable`, `archive_unavailable`, `internal`.
    #[schema(example = "invalid_parameter")]
    pub code: &'static str,
    /// What was wrong, naming the parameter; 5xx messages carry no internals.
    #[schema(example = "limit: `0` is not a whole number from 1 to 1000")]
    pub message: String,
}

/// An API failure: status, stable code, human message.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

impl ApiError {
    /// 400 `invalid_parameter`: a query parameter or body field is wrong.
    pub fn invalid(message: impl Into<String>) -> ApiError {
        ApiError {
            status: StatusCode::BAD_REQUEST,
            code: "invalid_parameter",
            message: message.into(),
        }
    }

    /// 404 `not_found`.
    pub fn not_found(message: impl Into<String>) -> ApiError {
        ApiError {
            status: StatusCode::NOT_FOUND,
            code: "not_found",
            message: message.into(),
        }
    }

    /// 401 `unauthorized`: no token, or not a configured one.
    pub fn unauthorized_because(message: impl Into<String>) -> ApiError {
        ApiError {
            status: StatusCode::UNAUTHORIZED,
            code: "unauthorized",
            message: message.into(),
        }
    }

    /// 403 `forbidden`: the token's scope does not allow this.
    pub fn forbidden(message: impl Into<String>) -> ApiError {
        ApiError {
            status: StatusCode::FORBIDDEN,
            code: "forbidden",
            message: message.into(),
        }
    }

    /// 409 `conflict`: the request cannot run in the current state.
    pub fn conflict(message: impl Into<String>) -> ApiError {
        ApiError {
            status: StatusCode::CONFLICT,
            code: "conflict",
            message: message.into(),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        match e {
            StoreError::Unavailable(detail) | StoreError::Busy(detail) => {
                tracing::error!(%detail, "store unavailable");
                ApiError {
                    status: StatusCode::SERVICE_UNAVAILABLE,
                    code: "storage_unavailable",
                    message: "storage is unavailable; retry later".into(),
                }
            }
            StoreError::Corrupt(detail) => {
                tracing::error!(%detail, "stored data unreadable");
                ApiError {
                    status: StatusCode::INTERNAL_SERVER_ERROR,
                    code: "internal",
                    message: "internal error".into(),
                }
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code,
                message: self.message,
            },
        };
        let mut resp = (self.status, Json(body)).into_response();
        if self.status == StatusCode::SERVICE_UNAVAILABLE {
            resp.headers_mut()
                .insert(axum::http::header::RETRY_AFTER, 1.into());
        }
        resp
    }
}
