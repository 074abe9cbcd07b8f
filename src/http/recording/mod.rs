//! Serving a kept recording from the archive, shared by
//! `GET /api/v1/calls/{id}/recording` and the dashboard's
//! `GET /calls/{id}/recording` (same bytes, same headers): streamed, never
//! held whole in memory, with single-range requests (`206`, `416`).

mod media;
mod range;

use crate::domain::RecordingStatus;
use crate::recordings::{ArchiveError, ObjectRead};
use crate::storage::recordings::{RecordingRecord, CANONICAL_LINK};
use crate::storage::StoreError;
use axum::body::Body;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use range::Wanted;
use serde::Deserialize;
use utoipa::IntoParams;

use super::AppState;

/// The query of both recording routes.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct LinkQuery {
    /// Which recording link: `recording_url` (the default), or a vendor
    /// field named as a link (`artifact.stereoRecordingUrl`,
    /// `customerAudioUrl`, `recording_multi_channel_url`).
    pub link: Option<String>,
}

impl LinkQuery {
    /// The link asked for; `recording_url` when absent or empty.
    pub fn link(&self) -> &str {
        self.link
            .as_deref()
            .filter(|l| !l.is_empty())
            .unwrap_or(CANONICAL_LINK)
    }
}

/// Why a recording cannot be served.
#[derive(Debug, thiserror::Error)]
pub enum Unservable {
    /// No call with this id (404).
    #[error("no call with id `{0}`")]
    NoCall(String),
    /// The call has no recording link of this name (404).
    #[error("call `{id}` has no recording link `{link}`")]
    NoLink { id: String, link: String },
    /// The link is known but no file is kept (404): `status` and why.
    #[error("{message}")]
    NotArchived {
        status: RecordingStatus,
        message: String,
    },
    /// The row says archived but the archive has no such file (404).
    #[error("the recording of call `{0}` is missing from the archive")]
    Missing(String),
    /// The archive cannot be reached (503; the cause is logged).
    #[error("the recordings archive is unavailable; retry later")]
    Unavailable,
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The kept file of call `id`'s `link`, whole or the range `headers` ask
/// for: `200`/`206` with `Content-Type`, `Content-Length`,
/// `Accept-Ranges: bytes`, `ETag: "<sha256>"`, `Content-Disposition:
/// inline; filename="<id>.<ext>"` (and `Content-Range` for `206`), or
/// `416` with `Content-Range: bytes */<size>`. The body is streamed.
///
/// Errors: [`Unservable`].
pub async fn serve(
    st: &AppState,
    id: &str,
    link: &str,
    headers: &HeaderMap,
) -> Result<Response, Unservable> {
    let rec = find(st, id, link).await?;
    let (Some(sha256), RecordingStatus::Archived) = (rec.sha256.as_deref(), rec.status) else {
        return Err(not_archived(&rec));
    };
    let etag = format!("\"{sha256}\"");
    let archive = st.recordings.open().await.map_err(unavailable)?;
    let range = match rec.bytes.map(|size| range::wanted(headers, size, &etag)) {
        Some(Wanted::Unsatisfiable) => return Ok(unsatisfiable(rec.bytes.unwrap_or(0))),
        Some(Wanted::Part(r)) => Some(r),
        Some(Wanted::Whole) | None => None,
    };
    let partial = range.is_some();
    let read = match archive.get(sha256, range).await {
        Ok(read) => read,
        Err(ArchiveError::BadRange { size, .. }) => return Ok(unsatisfiable(size)),
        Err(ArchiveError::NotFound { .. }) => return Err(Unservable::Missing(id.to_owned())),
        Err(e) => return Err(unavailable(e)),
    };
    Ok(respond(&rec, read, partial, &etag))
}

/// The row of `id`'s `link`, telling an unknown call from an unknown link.
async fn find(st: &AppState, id: &str, link: &str) -> Result<RecordingRecord, Unservable> {
    if let Some(rec) = st.store.recording(id, link).await? {
        return Ok(rec);
    }
    match st.store.get_call(id).await? {
        None => Err(Unservable::NoCall(id.to_owned())),
        Some(_) => Err(Unservable::NoLink {
            id: id.to_owned(),
            link: link.to_owned(),
        }),
    }
}

/// `not archived: not_found — HTTP 404 Not Found from rec.example.com`.
fn not_archived(rec: &RecordingRecord) -> Unservable {
    let why = rec.error.as_deref().unwrap_or(match rec.status {
        RecordingStatus::Pending => "not fetched yet",
        _ => "no reason recorded",
    });
    Unservable::NotArchived {
        status: rec.status,
        message: format!("not archived: {} — {why}", rec.status.as_str()),
    }
}

fn unavailable(e: ArchiveError) -> Unservable {
    tracing::error!(error = %e, "recordings archive unavailable");
    Unservable::Unavailable
}

/// `416` with `Content-Range: bytes */<size>`.
fn unsatisfiable(size: u64) -> Response {
    let mut resp = Response::new(Body::empty());
    *resp.status_mut() = StatusCode::RANGE_NOT_SATISFIABLE;
    let h = resp.headers_mut();
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    h.insert(header::CONTENT_RANGE, value(format!("bytes */{size}")));
    resp
}

/// The `200` or `206` answer streaming `read`.
fn respond(rec: &RecordingRecord, read: ObjectRead, partial: bool, etag: &str) -> Response {
    let kind = media::content_type(rec.content_type.as_deref(), &rec.url);
    let ext = media::extension(&kind, &rec.url);
    let (start, end) = (read.range.start, read.range.end);
    let mut resp = Response::new(Body::from_stream(read.stream));
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, value(kind));
    h.insert(
        header::CONTENT_LENGTH,
        value(end.saturating_sub(start).to_string()),
    );
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    h.insert(header::ETAG, value(etag.to_owned()));
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=3600"),
    );
    let stem: String = rec
        .call_id
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect();
    let name = format!("inline; filename=\"{stem}.{ext}\"");
    h.insert(header::CONTENT_DISPOSITION, value(name));
    if partial {
        let last = end.saturating_sub(1);
        h.insert(
            header::CONTENT_RANGE,
            value(format!("bytes {start}-{last}/{}", read.size)),
        );
        *resp.status_mut() = StatusCode::PARTIAL_CONTENT;
    }
    resp
}

/// A header value of `s`; an unusable one (control characters, which
/// none of the values above can hold) becomes empty rather than a panic.
fn value(s: String) -> HeaderValue {
    HeaderValue::try_from(s).unwrap_or_else(|_| HeaderValue::from_static(""))
}
