//! `GET /api/v1/calls/{id}/recording` (and `HEAD`): the kept copy of a
//! call's recording ([`crate::http::recording::serve`]). A link that is
//! not archived answers `404` with its `status` and why.

use super::params::{path, query};
use crate::domain::RecordingStatus;
use crate::http::error::{ApiError, Code, ErrorBody};
use crate::http::recording::{serve, LinkQuery, Unservable};
use crate::http::AppState;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

/// The body of a recording's `404`: the API's error body, with the
/// recording's `status` when the link is known but not archived.
#[derive(Debug, Serialize, ToSchema)]
pub struct RecordingErrorBody {
    pub error: RecordingErrorDetail,
}

/// `code` (`not_found`, or `recording_not_archived` with `status`) and
/// `message`.
#[derive(Debug, Serialize, ToSchema)]
pub struct RecordingErrorDetail {
    /// `not_found` (no such call, link or kept file) or
    /// `recording_not_archived`.
    #[schema(example = "recording_not_archived")]
    pub code: &'static str,
    /// What was wrong, e.g. `not archived: not_found — HTTP 404 Not Found
    /// from rec.example.com`.
    pub message: String,
    /// Where the archive of the link stands; only with
    /// `recording_not_archived`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<RecordingStatus>,
}

/// A failure of this route: the API's usual errors, or the recording's.
#[derive(Debug)]
pub enum Failure {
    Api(ApiError),
    NotArchived {
        status: RecordingStatus,
        message: String,
    },
}

impl From<ApiError> for Failure {
    fn from(e: ApiError) -> Failure {
        Failure::Api(e)
    }
}

impl From<Unservable> for Failure {
    fn from(e: Unservable) -> Failure {
        match e {
            Unservable::NotArchived { status, message } => Failure::NotArchived { status, message },
            Unservable::Store(e) => Failure::Api(e.into()),
            Unservable::Unavailable => {
                Failure::Api(ApiError::new(Code::ArchiveUnavailable, e.to_string()))
            }
            other => Failure::Api(ApiError::not_found(other.to_string())),
        }
    }
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        match self {
            Failure::Api(e) => e.into_response(),
            Failure::NotArchived { status, message } => {
                let error = RecordingErrorDetail {
                    code: Code::RecordingNotArchived.as_str(),
                    message,
                    status: Some(status),
                };
                let status = Code::RecordingNotArchived.status();
                (status, Json(RecordingErrorBody { error })).into_response()
            }
        }
    }
}

/// The kept copy of a call's recording, streamed; one byte range with `Range`; `HEAD` answers the same headers.
#[utoipa::path(
    get,
    path = "/api/v1/calls/{id}/recording",
    operation_id = "get_call_recording",
    tag = "calls",
    params(
        ("id" = String, Path, description = "callhook's call id (32 hex digits)."),
        LinkQuery,
        ("Range" = Option<String>, Header, description = "One byte range (`bytes=0-99`, `bytes=100-`, `bytes=-50`): `206`. Several ranges, or one that cannot be parsed, are ignored (`200`, the whole file)."),
    ),
    responses(
        (status = 200, description = "The whole file. Headers: `Content-Type` (the stored type when audio or video, else from the link's extension, else `application/octet-stream`), `Content-Length` (bytes), `Accept-Ranges: bytes`, `ETag: \"<sha256>\"`, `Content-Disposition: inline; filename=\"<id>.<ext>\"`.",
            content_type = "application/octet-stream", body = Vec<u8>),
        (status = 206, description = "The range asked for, with `Content-Range: bytes <first>-<last>/<size>` and the headers of 200.",
            content_type = "application/octet-stream", body = Vec<u8>),
        (status = 400, description = "An unknown query parameter, or an id that is not UTF-8.", body = ErrorBody),
        (status = 404, description = "No such call, no such link, or the link is not archived (`recording_not_archived`, with `status` and why).", body = RecordingErrorBody),
        (status = 416, description = "The range starts at or after the end of the file: `Content-Range: bytes */<size>`, no body."),
    ),
)]
pub async fn get(
    State(st): State<AppState>,
    id: Result<Path<String>, PathRejection>,
    q: Result<Query<LinkQuery>, QueryRejection>,
    headers: HeaderMap,
) -> Result<Response, Failure> {
    let id = path(id)?;
    let q = query(q)?;
    Ok(serve(&st, &id, q.link(), &headers).await?)
}
