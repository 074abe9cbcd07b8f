//! `GET /api/v1/calls` (`{"items": [call…], "next_cursor"}`, newest
//! `started_at` first; items without `turns` and `vendor_fields`, with a
//! `snippet` of the match when `text` is given) and
//! `GET /api/v1/calls/{id}` (the whole call with its `receipts`).

use super::params::{path, query, CallQuery, FilterParams, PageParams};
use crate::domain::Call;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::AppState;
use crate::storage::search::{snippet, Snippet, TextQuery};
use crate::storage::{CallDetail, Page};
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::Json;
use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::openapi::schema::Schema;
use utoipa::openapi::RefOr;
use utoipa::{PartialSchema, ToSchema};

/// A list item: the call without `turns` and `vendor_fields`.
#[derive(Serialize)]
pub struct CallItem(Map<String, Value>);

/// Fields of [`Call`] that list items leave out.
const LIST_OMITS: [&str; 2] = ["turns", "vendor_fields"];

/// The schema `CallListItem`: [`Call`]'s, without [`LIST_OMITS`].
impl PartialSchema for CallItem {
    fn schema() -> RefOr<Schema> {
        let mut schema = Call::schema();
        if let RefOr::T(Schema::Object(object)) = &mut schema {
            for name in LIST_OMITS {
                object.properties.shift_remove(name);
                object.required.retain(|r| r != name);
            }
            object
                .properties
                .insert("snippet".into(), Snippet::schema());
            object.description = Some(
                "A call as listed: every field of `Call` but `turns` and `vendor_fields`; \
                 with `text=`, `snippet`: where the call matched."
                    .into(),
            );
        }
        schema
    }
}

impl ToSchema for CallItem {
    fn name() -> std::borrow::Cow<'static, str> {
        "CallListItem".into()
    }

    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        schemas.push((Call::name().into_owned(), Call::schema()));
        Call::schemas(schemas);
        schemas.push((Snippet::name().into_owned(), Snippet::schema()));
    }
}

/// The list item of `call`; with a text query `text`, its snippet
/// (omitted if, unexpectedly, no single field holds the match).
fn item(call: Call, text: Option<&TextQuery>) -> CallItem {
    let found = text.and_then(|q| snippet(&call, q));
    let mut v = match serde_json::to_value(call) {
        Ok(Value::Object(m)) => m,
        _ => Map::new(),
    };
    for name in LIST_OMITS {
        v.shift_remove(name);
    }
    if let Some(s) = found.and_then(|s| serde_json::to_value(s).ok()) {
        v.insert("snippet".into(), s);
    }
    CallItem(v)
}

/// The calls matching the filters, newest `started_at` first.
#[utoipa::path(
    get,
    path = "/api/v1/calls",
    operation_id = "list_calls",
    tag = "calls",
    params(FilterParams, PageParams),
    responses(
        (status = 200, description = "One page of calls.", body = Page<CallItem>),
        (status = 400, description = "A parameter is wrong, unknown, or `group_by` or `tz` was given.", body = ErrorBody),
    ),
)]
pub async fn list(
    State(st): State<AppState>,
    q: Result<Query<CallQuery>, QueryRejection>,
) -> Result<Json<Page<CallItem>>, ApiError> {
    let q = query(q)?;
    if q.group_by.is_some() {
        return Err(ApiError::invalid("group_by: only for /api/v1/stats"));
    }
    if q.tz.is_some() {
        return Err(ApiError::invalid("tz: only for /api/v1/stats"));
    }
    let filter = q.filter()?;
    let page = st.store.list_calls(&filter, &q.page()?).await?;
    let text = filter.text.as_deref().and_then(TextQuery::lenient);
    Ok(Json(Page {
        items: page
            .items
            .into_iter()
            .map(|c| item(c, text.as_ref()))
            .collect(),
        next_cursor: page.next_cursor,
    }))
}

/// One whole call: turns, analyses, vendor fields and the receipts that described it.
#[utoipa::path(
    get,
    path = "/api/v1/calls/{id}",
    operation_id = "get_call",
    tag = "calls",
    params(("id" = String, Path, description = "callhook's call id (32 hex digits).")),
    responses(
        (status = 200, description = "The call.", body = CallDetail),
        (status = 400, description = "The id is not valid UTF-8.", body = ErrorBody),
        (status = 404, description = "No call with this id.", body = ErrorBody),
    ),
)]
pub async fn get(
    State(st): State<AppState>,
    id: Result<Path<String>, PathRejection>,
) -> Result<Json<CallDetail>, ApiError> {
    let id = path(id)?;
    st.store
        .get_call(&id)
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::not_found(format!("no call with id `{id}`")))
}
