//! `GET /api/v1/alerts`: the firings of `[[alerts]]` rules, newest first,
//! filtered by `state` (`firing` or `resolved`) and `rule`
//! (docs/alerts.md).

use super::params::{limit_or_empty, or_empty, page, query};
use crate::http::error::{ApiError, ErrorBody};
use crate::http::AppState;
use crate::storage::{AlertFilter, AlertRecord, AlertState, Page};
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::Json;
use serde::Deserialize;
use utoipa::openapi::schema::Schema;
use utoipa::{IntoParams, PartialSchema};

/// The parameters of `GET /api/v1/alerts`; an empty value is no filter.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AlertQuery {
    #[param(schema_with = alert_state_or_empty)]
    state: Option<String>,
    /// One rule's alerts (its `name`).
    rule: Option<String>,
    /// Items per page (default 50).
    #[param(schema_with = limit_or_empty)]
    limit: Option<String>,
    /// The `next_cursor` of the previous page (opaque).
    cursor: Option<String>,
}

fn alert_state_or_empty() -> Schema {
    or_empty(AlertState::schema())
}

/// Alerts (rule firings), newest first.
#[utoipa::path(
    get,
    path = "/api/v1/alerts",
    operation_id = "list_alerts",
    tag = "alerts",
    params(AlertQuery),
    responses(
        (status = 200, description = "One page of alerts.", body = Page<AlertRecord>),
        (status = 400, description = "A parameter is wrong or unknown.", body = ErrorBody),
    ),
)]
pub async fn list(
    State(st): State<AppState>,
    q: Result<Query<AlertQuery>, QueryRejection>,
) -> Result<Json<Page<AlertRecord>>, ApiError> {
    let q = query(q)?;
    let state = q
        .state
        .as_deref()
        .filter(|s| !s.is_empty())
        .map(|s| AlertState::parse(s).map_err(|e| ApiError::invalid(format!("state: {e}"))))
        .transpose()?;
    let p = page(&q.limit, &q.cursor, false)?;
    // The cursor is the last id of the previous page: any other value
    // only bounds the ids listed (as the receipts' and deliveries' do).
    let filter = AlertFilter {
        state,
        rule: q.rule.filter(|r| !r.is_empty()),
        before: p.cursor.clone(),
        limit: p.limit + 1,
    };
    let mut items = st.store.list_alerts(&filter).await?;
    let next_cursor = if items.len() > p.limit {
        items.truncate(p.limit);
        items.last().map(|a| a.id.clone())
    } else {
        None
    };
    Ok(Json(Page { items, next_cursor }))
}
