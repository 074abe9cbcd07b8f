//! Outbound deliveries and dead letters (issue 4):
//! `GET /api/v1/deliveries` (filters `subscriber`, `status`; newest first),
//! `GET /api/v1/deliveries/{id}` (with the event it sends),
//! `POST /api/v1/deliveries/{id}/retry` (a dead or pending delivery is due
//! at once with a fresh retry schedule; 409 when already delivered), and
//! `POST /api/v1/deliveries/retry?subscriber=…&status=…` (bulk; `status`
//! defaults to `dead`), answering `{"retried": n}`.

use super::params::{page, query};
use crate::http::error::ApiError;
use crate::http::AppState;
use crate::storage::retry::{self, RetryOneError};
use crate::storage::{Delivery, DeliveryDetail, DeliveryFilter, DeliveryStatus, Page};
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::Json;
use jiff::Timestamp;
use serde::Deserialize;
use serde_json::{json, Value};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeliveryQuery {
    subscriber: Option<String>,
    status: Option<String>,
    limit: Option<String>,
    cursor: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetryQuery {
    subscriber: Option<String>,
    status: Option<String>,
}

fn status(s: &Option<String>) -> Result<Option<DeliveryStatus>, ApiError> {
    s.as_deref()
        .filter(|s| !s.is_empty())
        .map(|s| DeliveryStatus::parse(s).map_err(|e| ApiError::invalid(format!("status: {e}"))))
        .transpose()
}

fn subscriber(st: &AppState, s: &Option<String>) -> Result<Option<String>, ApiError> {
    let Some(name) = s.as_deref().filter(|s| !s.is_empty()) else {
        return Ok(None);
    };
    if !st.config.target_names().iter().any(|n| n == name) {
        return Err(ApiError::invalid(format!(
            "subscriber: no subscriber named `{name}` (configured: {})",
            st.config.target_names().join(", ")
        )));
    }
    Ok(Some(name.to_owned()))
}

pub async fn list(
    State(st): State<AppState>,
    q: Result<Query<DeliveryQuery>, QueryRejection>,
) -> Result<Json<Page<Delivery>>, ApiError> {
    let q = query(q)?;
    let filter = DeliveryFilter {
        subscriber: q.subscriber.filter(|s| !s.is_empty()),
        status: status(&q.status)?,
    };
    Ok(Json(
        st.store
            .list_deliveries(&filter, &page(&q.limit, &q.cursor, false)?)
            .await?,
    ))
}

pub async fn get(
    State(st): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<DeliveryDetail>, ApiError> {
    let d = st
        .store
        .get_delivery(&id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no delivery with id `{id}`")))?;
    Ok(Json(d))
}

pub async fn retry_one(
    State(st): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Delivery>, ApiError> {
    let d = retry::retry_one(&*st.store, &id, Timestamp::now())
        .await
        .map_err(|e| match e {
            RetryOneError::NotFound(_) => ApiError::not_found(e.to_string()),
            RetryOneError::Delivered { .. } => ApiError::conflict(e.to_string()),
            RetryOneError::Store(s) => s.into(),
        })?;
    Ok(Json(d))
}

pub async fn retry_many(
    State(st): State<AppState>,
    q: Result<Query<RetryQuery>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let q = query(q)?;
    let status = status(&q.status)?.unwrap_or(DeliveryStatus::Dead);
    if status == DeliveryStatus::Delivered {
        return Err(ApiError::invalid(
            "status: delivered deliveries cannot be retried (use dead or pending)",
        ));
    }
    let filter = DeliveryFilter {
        subscriber: subscriber(&st, &q.subscriber)?,
        status: Some(status),
    };
    let n = st
        .store
        .retry_deliveries(None, &filter, Timestamp::now())
        .await?;
    Ok(Json(json!({ "retried": n })))
}
