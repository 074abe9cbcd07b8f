//! `GET /api/v1/receipts` (filters `status`, `source`, received `since`
//! and `until`; newest first),
//! `GET /api/v1/receipts/{id}` (with the raw body: `body` when it is UTF-8,
//! else `body_base64`), `POST /api/v1/receipts/{id}/replay`.

use super::params::{date_time_or_empty, limit_or_empty, or_empty, page, path, query};
use crate::http::error::{ApiError, ErrorBody};
use crate::http::AppState;
use crate::ingest::ReplayError;
use crate::storage::{FilterText, Page, ReceiptFilter, ReceiptStatus, ReceiptSummary};
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::Json;
use base64::Engine;
use serde::{Deserialize, Serialize};
use utoipa::openapi::schema::Schema;
use utoipa::{IntoParams, PartialSchema, ToSchema};

/// The parameters of `GET /api/v1/receipts`; an empty value is no filter.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ReceiptQuery {
    #[param(schema_with = receipt_status_or_empty)]
    status: Option<String>,
    /// A configured source's name.
    source: Option<String>,
    /// RFC 3339 instant; receipts with `received_at` at or after it.
    #[param(schema_with = date_time_or_empty)]
    since: Option<String>,
    /// RFC 3339 instant; receipts with `received_at` before it.
    #[param(schema_with = date_time_or_empty)]
    until: Option<String>,
    /// Items per page (default 50).
    #[param(schema_with = limit_or_empty)]
    limit: Option<String>,
    /// The `next_cursor` of the previous page (opaque).
    cursor: Option<String>,
}

fn receipt_status_or_empty() -> Schema {
    or_empty(ReceiptStatus::schema())
}

/// A receipt with its body: `body` (text) when the body is UTF-8, else
/// `body_base64` (standard base64); exactly one of the two is present.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReceiptDetail {
    #[serde(flatten)]
    pub summary: ReceiptSummary,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub body: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub body_base64: Option<String>,
}

/// What a replay did: the receipt as it is now, and the calls it changed.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReplayResult {
    /// The receipt after the replay (`null` only if it vanished meanwhile).
    #[schema(required = true)]
    pub receipt: Option<ReceiptSummary>,
    /// Calls made, changed, given an analysis, and left as they were.
    pub created: usize,
    pub updated: usize,
    pub analyzed: usize,
    pub unchanged: usize,
}

/// Stored pushes, newest first.
#[utoipa::path(
    get,
    path = "/api/v1/receipts",
    operation_id = "list_receipts",
    tag = "receipts",
    params(ReceiptQuery),
    responses(
        (status = 200, description = "One page of receipts, without bodies.", body = Page<ReceiptSummary>),
        (status = 400, description = "A parameter is wrong or unknown.", body = ErrorBody),
    ),
)]
pub async fn list(
    State(st): State<AppState>,
    q: Result<Query<ReceiptQuery>, QueryRejection>,
) -> Result<Json<Page<ReceiptSummary>>, ApiError> {
    let q = query(q)?;
    let status = q
        .status
        .as_deref()
        .filter(|s| !s.is_empty())
        .map(|s| ReceiptStatus::parse(s).map_err(|e| ApiError::invalid(format!("status: {e}"))))
        .transpose()?;
    // The calls' time rules (RFC 3339, `since` not after `until`), on
    // `received_at`.
    let times = FilterText {
        since: q.since.as_deref(),
        until: q.until.as_deref(),
        ..FilterText::default()
    }
    .parse()
    .map_err(|e| ApiError::invalid(e.to_string()))?;
    let filter = ReceiptFilter {
        status,
        source: q.source.filter(|s| !s.is_empty()),
        since: times.since,
        until: times.until,
    };
    Ok(Json(
        st.store
            .list_receipts(&filter, &page(&q.limit, &q.cursor, false)?)
            .await?,
    ))
}

/// One receipt with the body exactly as it was pushed.
#[utoipa::path(
    get,
    path = "/api/v1/receipts/{id}",
    operation_id = "get_receipt",
    tag = "receipts",
    params(("id" = String, Path, description = "The receipt's id (a ULID).")),
    responses(
        (status = 200, description = "The receipt and its body.", body = ReceiptDetail),
        (status = 400, description = "The id is not valid UTF-8.", body = ErrorBody),
        (status = 404, description = "No receipt with this id.", body = ErrorBody),
    ),
)]
pub async fn get(
    State(st): State<AppState>,
    id: Result<Path<String>, PathRejection>,
) -> Result<Json<ReceiptDetail>, ApiError> {
    let id = path(id)?;
    let r = st
        .store
        .get_receipt(&id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no receipt with id `{id}`")))?;
    let (body, body_base64) = match String::from_utf8(r.body) {
        Ok(text) => (Some(text), None),
        Err(e) => (
            None,
            Some(base64::engine::general_purpose::STANDARD.encode(e.into_bytes())),
        ),
    };
    Ok(Json(ReceiptDetail {
        summary: r.summary,
        body,
        body_base64,
    }))
}

/// Runs a stored body through its source's adapter again, under the same receipt id.
#[utoipa::path(
    post,
    path = "/api/v1/receipts/{id}/replay",
    operation_id = "replay_receipt",
    tag = "receipts",
    params(("id" = String, Path, description = "The receipt's id (a ULID).")),
    responses(
        (status = 200, description = "Replayed: the receipt's new status and what changed.", body = ReplayResult),
        (status = 400, description = "The id is not valid UTF-8.", body = ErrorBody),
        (status = 404, description = "No receipt with this id.", body = ErrorBody),
        (status = 409, description = "The receipt's source is no longer configured, or the receipt is still `pending` (not projected yet).", body = ErrorBody),
    ),
)]
pub async fn replay(
    State(st): State<AppState>,
    id: Result<Path<String>, PathRejection>,
) -> Result<Json<ReplayResult>, ApiError> {
    let id = path(id)?;
    let r = st.ingestor.replay(&id).await.map_err(|e| match e {
        ReplayError::NotFound(_) => ApiError::not_found(e.to_string()),
        ReplayError::SourceGone { .. } | ReplayError::Pending(_) => {
            ApiError::conflict(e.to_string())
        }
        ReplayError::Store(s) => s.into(),
    })?;
    let receipt = st.store.get_receipt(&id).await?.map(|r| r.summary);
    let o = r;
    Ok(Json(ReplayResult {
        receipt,
        created: o.created,
        updated: o.updated,
        analyzed: o.analyzed,
        unchanged: o.unchanged,
    }))
}
