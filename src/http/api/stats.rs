//! `GET /api/v1/stats?group_by=vendor|source|outcome|day|task_id|hour&tz=`
//! with the list's filters: `{"rows": [{key, calls, answered,
//! awaiting_report, answer_rate, talk_seconds, avg_talk_seconds, cost,
//! avg_qa_score}]}`, rows by key. `group_by` defaults to `vendor`; `day` is
//! the date of `started_at` and `hour` its hour of day, in `tz` (an IANA
//! zone, default UTC). Answered from rollups where they can (docs/rollups.md).

use super::params::{query, CallQuery, FilterParams, GroupByParams};
use crate::http::error::{ApiError, ErrorBody};
use crate::http::AppState;
use crate::storage::{GroupBy, StatsRow};
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

/// The stats: the grouping used and one row per key, ordered by key.
#[derive(Serialize, ToSchema)]
pub struct Stats {
    #[schema(value_type = GroupBy)]
    pub group_by: &'static str,
    pub rows: Vec<StatsRow>,
}

/// Counts, answer rate, talk time, cost and QA score per key, over the filtered calls.
#[utoipa::path(
    get,
    path = "/api/v1/stats",
    operation_id = "get_stats",
    tag = "stats",
    params(FilterParams, GroupByParams),
    responses(
        (status = 200, description = "One row per key.", body = Stats),
        (status = 400, description = "A parameter is wrong or unknown (`limit` and `cursor` included: stats are not paginated), or `tz` is not a known time zone.", body = ErrorBody),
    ),
)]
pub async fn get(
    State(st): State<AppState>,
    q: Result<Query<CallQuery>, QueryRejection>,
) -> Result<Json<Stats>, ApiError> {
    let q = query(q)?;
    if q.limit.is_some() || q.cursor.is_some() {
        return Err(ApiError::invalid("limit, cursor: stats are not paginated"));
    }
    let name = q.group_by.as_deref().unwrap_or("vendor");
    let group_by = GroupBy::parse(name).map_err(|e| ApiError::invalid(format!("group_by: {e}")))?;
    let tz = q.time_zone()?;
    let rows = st.store.stats(group_by, &q.filter()?, &tz).await?;
    Ok(Json(Stats {
        group_by: group_by.as_str(),
        rows,
    }))
}
