//! Outbound deliveries and dead letters:
//! `GET /api/v1/deliveries` (filters `subscriber`, `status`; newest first),
//! `GET /api/v1/deliveries/{id}` (with the event it sends),
//! `POST /api/v1/deliveries/{id}/retry` (a dead or pending delivery is due
//! at once with a fresh retry schedule; 409 when already delivered), and
//! `POST /api/v1/deliveries/retry?subscriber=…&status=…` (bulk; `status`
//! defaults to `dead`), answering `{"retried": n}`.

use super::params::{limit_or_empty, or_empty, page, path, query};
use crate::http::error::{ApiError, ErrorBody};
use crate::http::AppState;
use crate::storage::retry::{self, RetryOneError};
use crate::storage::{Delivery, DeliveryDetail, DeliveryFilter, DeliveryStatus, Page};
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::Json;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::openapi::schema::Schema;
use utoipa::{IntoParams, PartialSchema, ToSchema};

/// The parameters of `GET /api/v1/deliveries`; an empty value is no filter.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DeliveryQuery {
    /// A subscriber's name, or `nats`.
    subscriber: Option<String>,
    #[param(schema_with = delivery_status_or_empty)]
    status: Option<String>,
    /// Items per page (default 50).
    #[param(schema_with = limit_or_empty)]
    limit: Option<String>,
    /// The `next_cursor` of the previous page (opaque).
    cursor: Option<String>,
}

/// The parameters of `POST /api/v1/deliveries/retry`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RetryQuery {
    /// Only this configured subscriber's (or `nats`) deliveries; 400 for a name not configured.
    subscriber: Option<String>,
    /// Which deliveries to retry: `dead` (the default) or `pending`.
    #[param(schema_with = retry_status_or_empty)]
    status: Option<String>,
}

/// The statuses a bulk retry takes (a delivered delivery cannot be retried).
#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
#[allow(dead_code)]
enum RetryStatus {
    Dead,
    Pending,
}

fn delivery_status_or_empty() -> Schema {
    or_empty(DeliveryStatus::schema())
}

fn retry_status_or_empty() -> Schema {
    or_empty(RetryStatus::schema())
}

/// How many deliveries a bulk retry made due at once.
#[derive(Debug, Serialize, ToSchema)]
pub struct Retried {
    pub retried: u64,
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

/// Deliveries of events to subscribers and NATS, newest first.
#[utoipa::path(
    get,
    path = "/api/v1/deliveries",
    operation_id = "list_deliveries",
    tag = "deliveries",
    params(DeliveryQuery),
    responses(
        (status = 200, description = "One page of deliveries.", body = Page<Delivery>),
        (status = 400, description = "A parameter is wrong or unknown.", body = ErrorBody),
    ),
)]
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

/// One delivery with the exact event it sends.
#[utoipa::path(
    get,
    path = "/api/v1/deliveries/{id}",
    operation_id = "get_delivery",
    tag = "deliveries",
    params(("id" = String, Path, description = "The delivery's id (`dlv_` + ULID).")),
    responses(
        (status = 200, description = "The delivery and its event.", body = DeliveryDetail),
        (status = 400, description = "The id is not valid UTF-8.", body = ErrorBody),
        (status = 404, description = "No delivery with this id.", body = ErrorBody),
    ),
)]
pub async fn get(
    State(st): State<AppState>,
    id: Result<Path<String>, PathRejection>,
) -> Result<Json<DeliveryDetail>, ApiError> {
    let id = path(id)?;
    let d = st
        .store
        .get_delivery(&id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no delivery with id `{id}`")))?;
    Ok(Json(d))
}

/// Makes a dead or pending delivery due at once, with a fresh retry schedule.
#[utoipa::path(
    post,
    path = "/api/v1/deliveries/{id}/retry",
    operation_id = "retry_delivery",
    tag = "deliveries",
    params(("id" = String, Path, description = "The delivery's id (`dlv_` + ULID).")),
    responses(
        (status = 200, description = "The delivery, pending and due now.", body = Delivery),
        (status = 400, description = "The id is not valid UTF-8.", body = ErrorBody),
        (status = 404, description = "No delivery with this id.", body = ErrorBody),
        (status = 409, description = "Already delivered.", body = ErrorBody),
    ),
)]
pub async fn retry_one(
    State(st): State<AppState>,
    id: Result<Path<String>, PathRejection>,
) -> Result<Json<Delivery>, ApiError> {
    let id = path(id)?;
    let d = retry::retry_one(&*st.store, &id, Timestamp::now())
        .await
        .map_err(|e| match e {
            RetryOneError::NotFound(_) => ApiError::not_found(e.to_string()),
            RetryOneError::Delivered { .. } => ApiError::conflict(e.to_string()),
            RetryOneError::Store(s) => s.into(),
        })?;
    Ok(Json(d))
}

/// Makes every matching dead (or pending) delivery due at once.
#[utoipa::path(
    post,
    path = "/api/v1/deliveries/retry",
    operation_id = "retry_deliveries",
    tag = "deliveries",
    params(RetryQuery),
    responses(
        (status = 200, description = "How many were made due.", body = Retried),
        (status = 400, description = "A parameter is wrong or unknown, the subscriber is not configured, or `status=delivered`.", body = ErrorBody),
    ),
)]
pub async fn retry_many(
    State(st): State<AppState>,
    q: Result<Query<RetryQuery>, QueryRejection>,
) -> Result<Json<Retried>, ApiError> {
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
    Ok(Json(Retried { retried: n }))
}
