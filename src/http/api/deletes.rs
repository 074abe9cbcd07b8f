//! `DELETE /api/v1/calls/{id}` and `DELETE /api/v1/receipts/{id}` (issue 7:
//! delete is an admin action). A call goes as retention would take it
//! (receipt links, events, rollup sums), plus its pending deliveries and
//! the receipts that mention no other call, whose raw bodies hold its
//! data; a receipt goes alone, its calls stay. 204 when deleted, 404
//! (`not_found`) when there is nothing by that id. Counted in
//! `callhook_retention_deleted_total{reason="api"}`.

use crate::http::error::ApiError;
use crate::http::AppState;
use crate::retention::{count_deleted, Reason};
use crate::storage::PurgeCounts;
use axum::extract::{Path, State};
use axum::http::StatusCode;

pub async fn call(
    State(st): State<AppState>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
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

pub async fn receipt(
    State(st): State<AppState>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
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
