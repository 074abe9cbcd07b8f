//! Query-string parameters of the list and stats routes, checked one by one
//! so a mistake is answered 400 naming the parameter.

use crate::http::error::ApiError;
use crate::storage::{CallCursor, CallFilter, PageRequest};
use axum::extract::rejection::QueryRejection;
use axum::extract::Query;
use jiff::Timestamp;
use serde::Deserialize;
use std::str::FromStr;

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

fn parsed<T: FromStr<Err = String>>(name: &str, v: &Option<String>) -> Result<Option<T>, ApiError> {
    v.as_deref()
        .filter(|s| !s.is_empty())
        .map(|s| T::from_str(s).map_err(|e| ApiError::invalid(format!("{name}: {e}"))))
        .transpose()
}

fn time(name: &str, v: &Option<String>) -> Result<Option<Timestamp>, ApiError> {
    v.as_deref()
        .filter(|s| !s.is_empty())
        .map(|s| {
            // An unencoded `+` of an offset arrives as a space: put it back.
            let plus = s.rsplit_once(' ').map(|(a, b)| format!("{a}+{b}"));
            Timestamp::from_str(s)
                .or_else(|e| plus.as_deref().map_or(Err(e), Timestamp::from_str))
                .map_err(|_| {
                    ApiError::invalid(format!(
                        "{name}: `{s}` is not an RFC 3339 time such as 2025-06-01T00:00:00Z"
                    ))
                })
        })
        .transpose()
}

fn nonempty(v: &Option<String>) -> Option<String> {
    v.clone().filter(|s| !s.is_empty())
}

impl CallQuery {
    /// The filter. Errors: 400 naming the first bad parameter.
    pub fn filter(&self) -> Result<CallFilter, ApiError> {
        let f = CallFilter {
            vendor: parsed("vendor", &self.vendor)?,
            source: nonempty(&self.source),
            direction: parsed("direction", &self.direction)?,
            outcome: parsed("outcome", &self.outcome)?,
            task_id: nonempty(&self.task_id),
            out_id: nonempty(&self.out_id),
            customer_number: nonempty(&self.customer_number),
            vendor_call_id: nonempty(&self.vendor_call_id),
            since: time("since", &self.since)?,
            until: time("until", &self.until)?,
            search: nonempty(&self.q),
        };
        if let (Some(s), Some(u)) = (f.since, f.until) {
            if s > u {
                return Err(ApiError::invalid("since: must not be after until"));
            }
        }
        Ok(f)
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
