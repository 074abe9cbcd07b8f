//! `GET /api/v1/calls` (`{"items": [call…], "next_cursor"}`, newest
//! `started_at` first; items without `turns` and `vendor_fields`) and
//! `GET /api/v1/calls/{id}` (the whole call with its `receipts`).

use super::params::{query, CallQuery};
use crate::domain::Call;
use crate::http::error::ApiError;
use crate::http::AppState;
use crate::storage::{CallDetail, Page};
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::Json;
use serde::Serialize;
use serde_json::{Map, Value};

/// A list item: the call without `turns` and `vendor_fields`.
#[derive(Serialize)]
pub struct CallItem(Map<String, Value>);

fn item(call: Call) -> CallItem {
    let mut v = match serde_json::to_value(call) {
        Ok(Value::Object(m)) => m,
        _ => Map::new(),
    };
    v.shift_remove("turns");
    v.shift_remove("vendor_fields");
    CallItem(v)
}

pub async fn list(
    State(st): State<AppState>,
    q: Result<Query<CallQuery>, QueryRejection>,
) -> Result<Json<Page<CallItem>>, ApiError> {
    let q = query(q)?;
    if q.group_by.is_some() {
        return Err(ApiError::invalid("group_by: only for /api/v1/stats"));
    }
    let page = st.store.list_calls(&q.filter()?, &q.page()?).await?;
    Ok(Json(Page {
        items: page.items.into_iter().map(item).collect(),
        next_cursor: page.next_cursor,
    }))
}

pub async fn get(
    State(st): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<CallDetail>, ApiError> {
    st.store
        .get_call(&id)
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::not_found(format!("no call with id `{id}`")))
}
