//! `DELETE /api/v1/calls/{id}` and `DELETE /api/v1/receipts/{id}` (deleting is an
//! admin action). A call goes as retention would take it
//! (receipt links, events, rollup sums), plus its pending deliveries and
//! the receipts that mention no other call, whose raw bodies hold its
//! data; a receipt goes alone, its calls stay. 204 when deleted, 404
//! (`not_found`) when there is nothing by that id. Counted in
//! `callhook_retention_deleted_total{reason="api"}`.

use super::params::path;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::AppState;
use crate::retention::{count_deleted, Reason};
use crate::storage::PurgeCounts;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;

/// Deletes a call, its receipt links, events and deliveries, and the
/// receipts that mention only it (admin scope).
#[utoipa::path(
    delete,
    path = "/api/v1/calls/{id}",
    operation_id = "delete_call",
    tag = "calls",
    params(("id" = String, Path, description = "callhook's call id (32 hex digits).")),
    responses(
        (status = 204, description = "Deleted."),
        (status = 400, description = "The id is not valid UTF-8.", body = ErrorBody),
        (status = 404, description = "No call with this id.", body = ErrorBody),
    ),
)]
pub async fn call(
    State(st): State<AppState>,
    id: Result<Path<String>, PathRejection>,
) -> Result<StatusCode, ApiError> {
    let id = path(id)?;
    let counts = st
        .store
        .delete_call(&id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no call with id `{id}`")))?;
    count_deleted(&counts, Reason::Api);
    tracing::info!(
        call = %id,
        receipts = counts.receipts,
        events = counts.events,
        "call deleted through the API"
    );
    Ok(StatusCode::NO_CONTENT)
}

/// Deletes one receipt and its raw body; its calls stay (admin scope).
#[utoipa::path(
    delete,
    path = "/api/v1/receipts/{id}",
    operation_id = "delete_receipt",
    tag = "receipts",
    params(("id" = String, Path, description = "The receipt's id.")),
    responses(
        (status = 204, description = "Deleted."),
        (status = 400, description = "The id is not valid UTF-8.", body = ErrorBody),
        (status = 404, description = "No receipt with this id.", body = ErrorBody),
    ),
)]
pub async fn receipt(
    State(st): State<AppState>,
    id: Result<Path<String>, PathRejection>,
) -> Result<StatusCode, ApiError> {
    let id = path(id)?;
    if !st.store.delete_receipt(&id).await? {
        return Err(ApiError::not_found(format!("no receipt with id `{id}`")));
    }
    let counts = PurgeCounts {
        receipts: 1,
        ..Default::default()
    };
    count_deleted(&counts, Reason::Api);
    tracing::info!(receipt = %id, "receipt deleted through the API");
    Ok(StatusCode::NO_CONTENT)
}
