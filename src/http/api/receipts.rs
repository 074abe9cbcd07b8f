//! `GET /api/v1/receipts` (filters `status`, `source`; newest first),
//! `GET /api/v1/receipts/{id}` (with the raw body: `body` when it is UTF-8,
//! else `body_base64`), `POST /api/v1/receipts/{id}/replay`.

use super::params::{page, query};
use crate::http::error::ApiError;
use crate::http::AppState;
use crate::ingest::ReplayError;
use crate::storage::{Page, ReceiptFilter, ReceiptStatus, ReceiptSummary};
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::Json;
use base64::Engine;
use serde::Deserialize;
use serde_json::{json, Value};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReceiptQuery {
    status: Option<String>,
    source: Option<String>,
    limit: Option<String>,
    cursor: Option<String>,
}

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
    let filter = ReceiptFilter {
        status,
        source: q.source.filter(|s| !s.is_empty()),
    };
    Ok(Json(
        st.store
            .list_receipts(&filter, &page(&q.limit, &q.cursor, false)?)
            .await?,
    ))
}

pub async fn get(
    State(st): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let r = st
        .store
        .get_receipt(&id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no receipt with id `{id}`")))?;
    let mut v = serde_json::to_value(&r.summary).unwrap_or_default();
    match String::from_utf8(r.body) {
        Ok(text) => v["body"] = Value::String(text),
        Err(e) => {
            v["body_base64"] =
                Value::String(base64::engine::general_purpose::STANDARD.encode(e.into_bytes()))
        }
    }
    Ok(Json(v))
}

pub async fn replay(
    State(st): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let r = st.ingestor.replay(&id).await.map_err(|e| match e {
        ReplayError::NotFound(_) => ApiError::not_found(e.to_string()),
        ReplayError::SourceGone { .. } => ApiError::conflict(e.to_string()),
        ReplayError::Store(s) => s.into(),
    })?;
    let receipt = st.store.get_receipt(&id).await?.map(|r| r.summary);
    let o = r.outcome;
    Ok(Json(json!({
        "receipt": receipt,
        "created": o.created, "updated": o.updated, "analyzed": o.analyzed, "unchanged": o.unchanged,
    })))
}
