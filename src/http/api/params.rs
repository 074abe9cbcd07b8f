//! Query-string parameters of the list and stats routes, checked one by one
//! so a mistake is answered 400 naming the parameter (the filters' rules
//! are [`crate::storage::FilterText`]'s, shared with `callhook export`).

use crate::http::error::ApiError;
use crate::storage::{CallCursor, CallFilter, FilterText, PageRequest};
use axum::extract::rejection::QueryRejection;
use axum::extract::Query;
use serde::Deserialize;

/// Default and largest page sizes.
pub const DEFAULT_LIMIT: usize = 50;
pub const MAX_LIMIT: usize = 1000;

/// The raw parameters of `GET /api/v1/calls` and `GET /api/v1/stats`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CallQuery {
    pub vendor: Option<String>,
    pub source: Option<String>,
    pub direction: Option<String>,
    pub outcome: Option<String>,
    pub task_id: Option<String>,
    pub out_id: Option<String>,
    pub customer_number: Option<String>,
    pub vendor_call_id: Option<String>,
    pub since: Option<String>,
    pub until: Option<String>,
    pub limit: Option<String>,
    pub cursor: Option<String>,
    pub group_by: Option<String>,
    /// Exact match on customer number, `out_id`, vendor call id or call id.
    pub q: Option<String>,
}

/// Unwraps a query extraction, answering 400 with serde's message (which
/// names an unknown parameter and lists the known ones).
pub fn query<T>(q: Result<Query<T>, QueryRejection>) -> Result<T, ApiError> {
    q.map(|Query(t)| t)
        .map_err(|e| ApiError::invalid(e.body_text()))
}

fn nonempty(v: &Option<String>) -> Option<String> {
    v.clone().filter(|s| !s.is_empty())
}

impl CallQuery {
    /// The filter. Errors: 400 naming the first bad parameter.
    pub fn filter(&self) -> Result<CallFilter, ApiError> {
        FilterText {
            vendor: self.vendor.as_deref(),
            source: self.source.as_deref(),
            direction: self.direction.as_deref(),
            outcome: self.outcome.as_deref(),
            task_id: self.task_id.as_deref(),
            out_id: self.out_id.as_deref(),
            customer_number: self.customer_number.as_deref(),
            vendor_call_id: self.vendor_call_id.as_deref(),
            since: self.since.as_deref(),
            until: self.until.as_deref(),
            search: self.q.as_deref(),
        }
        .parse()
        .map_err(|e| ApiError::invalid(e.to_string()))
    }

    /// The page. Errors: 400 for a limit outside 1–1000 or a foreign cursor.
    pub fn page(&self) -> Result<PageRequest, ApiError> {
        page(&self.limit, &self.cursor, true)
    }
}

/// A page from `limit` and `cursor`; `call_cursor` checks the cursor is one
/// of the call list's.
pub fn page(
    limit: &Option<String>,
    cursor: &Option<String>,
    call_cursor: bool,
) -> Result<PageRequest, ApiError> {
    let limit = match limit.as_deref().filter(|s| !s.is_empty()) {
        None => DEFAULT_LIMIT,
        Some(s) => match s.parse::<usize>() {
            Ok(n) if (1..=MAX_LIMIT).contains(&n) => n,
            _ => {
                return Err(ApiError::invalid(format!(
                    "limit: `{s}` is not a whole number from 1 to {MAX_LIMIT}"
                )))
            }
        },
    };
    let cursor = nonempty(cursor);
    if let (true, Some(c)) = (call_cursor, &cursor) {
        CallCursor::decode(c).map_err(|e| ApiError::invalid(format!("cursor: {e}")))?;
    }
    Ok(PageRequest { limit, cursor })
}
