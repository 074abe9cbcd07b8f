//! Query-string parameters of the list and stats routes, checked one by one
//! so a mistake is answered 400 naming the parameter (the filters' rules
//! are [`crate::storage::FilterText`]'s, shared with `callhook export`).

use crate::domain::{Direction, Outcome, Vendor};
use crate::http::error::ApiError;
use crate::storage::{CallCursor, CallFilter, FilterText, GroupBy, PageRequest};
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query};
use serde::Deserialize;
use utoipa::openapi::schema::{AnyOfBuilder, ObjectBuilder, Schema, Type};
use utoipa::openapi::RefOr;
use utoipa::{IntoParams, PartialSchema};

/// `schema`, or the empty string: an empty query value is the same as an
/// absent one (the parameter's default, or no filter).
pub fn or_empty(schema: impl Into<RefOr<Schema>>) -> Schema {
    AnyOfBuilder::new()
        .item(schema)
        .item(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .enum_values(Some([""])),
        )
        .build()
        .into()
}

/// An RFC 3339 instant, or empty.
pub fn date_time_or_empty() -> Schema {
    or_empty(ObjectBuilder::new().schema_type(Type::String).format(Some(
        utoipa::openapi::SchemaFormat::KnownFormat(utoipa::openapi::KnownFormat::DateTime),
    )))
}

/// A page size from 1 to [`MAX_LIMIT`], or empty (the default, [`DEFAULT_LIMIT`]).
pub fn limit_or_empty() -> Schema {
    or_empty(
        ObjectBuilder::new()
            .schema_type(Type::Integer)
            .minimum(Some(1))
            .maximum(Some(MAX_LIMIT as u32)),
    )
}

/// The vendors a filter accepts: the built-in ones and the configured
/// mapped sources' (the document is built once, after the configuration is
/// loaded), or empty. An unknown name is a 400, so the schema lists them.
fn vendor_or_empty() -> Schema {
    let names: Vec<&'static str> = Vendor::known().iter().map(|v| v.as_str()).collect();
    or_empty(
        ObjectBuilder::new()
            .schema_type(Type::String)
            .enum_values(Some(names))
            .description(Some(
                "A vendor: built in, or a configured mapped source's `vendor`.",
            )),
    )
}

fn direction_or_empty() -> Schema {
    or_empty(Direction::schema())
}

fn outcome_or_empty() -> Schema {
    or_empty(Outcome::schema())
}

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
    /// The stats' time zone (IANA name).
    pub tz: Option<String>,
    /// Full-text search of transcripts, summaries, intent and tags.
    pub text: Option<String>,
}

/// Unwraps a query extraction, answering 400 with serde's message (which
/// names an unknown parameter and lists the known ones).
pub fn query<T>(q: Result<Query<T>, QueryRejection>) -> Result<T, ApiError> {
    q.map(|Query(t)| t)
        .map_err(|e| ApiError::invalid(e.body_text()))
}

/// Unwraps a path segment, answering 400 for one that is not UTF-8 once
/// percent-decoded (axum's own answer would be plain text).
pub fn path(p: Result<Path<String>, PathRejection>) -> Result<String, ApiError> {
    p.map(|Path(s)| s)
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
            text: self.text.as_deref(),
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

/// The filters of `GET /api/v1/calls` and `GET /api/v1/stats`, as the
/// OpenAPI document describes them (parsed from [`CallQuery`]; a test
/// checks the two name the same parameters). An empty value is no filter.
/// (`Option` fields only mark the parameters optional.)
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct FilterParams {
    #[param(schema_with = vendor_or_empty)]
    vendor: Option<String>,
    /// A configured source's name.
    source: Option<String>,
    #[param(schema_with = direction_or_empty)]
    direction: Option<String>,
    #[param(schema_with = outcome_or_empty)]
    outcome: Option<String>,
    task_id: Option<String>,
    /// The customer's own pass-through id.
    out_id: Option<String>,
    customer_number: Option<String>,
    vendor_call_id: Option<String>,
    /// RFC 3339 instant; calls with `started_at` at or after it.
    #[param(schema_with = date_time_or_empty)]
    since: Option<String>,
    /// RFC 3339 instant; calls with `started_at` before it.
    #[param(schema_with = date_time_or_empty)]
    until: Option<String>,
    /// One value matched exactly against the customer number, `out_id`,
    /// the vendor call id and the call id.
    q: Option<String>,
    /// Full-text search: calls whose transcript, summary tags, intent
    /// (label or code) or tags contain this text, case-insensitively (a
    /// substring: Chinese needs no spaces). At most 200 characters (else
    /// 400). 3 characters or more use the search index; 1 or 2 characters
    /// scan the calls (slower). On `/api/v1/calls` each item then carries
    /// a `snippet`; on `/api/v1/stats` it forces a scan of the calls.
    /// Control characters (newlines, tabs, C1 codes) are refused (400).
    #[param(max_length = 200, pattern = r"^[^\u0000-\u001F\u007F-\u009F]*$")]
    text: Option<String>,
}

/// A list's page parameters.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct PageParams {
    /// Items per page (default 50).
    #[param(schema_with = limit_or_empty)]
    limit: Option<String>,
    /// The `next_cursor` of the previous page (opaque).
    cursor: Option<String>,
}

/// The stats' grouping.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct GroupByParams {
    /// The key of each row (default `vendor`; unlike the filters, an empty
    /// value is a 400); `day` is the date of `started_at` and `hour` its
    /// hour of day (`00`..`23`), both in `tz`.
    #[param(value_type = Option<GroupBy>)]
    group_by: Option<String>,
    /// The IANA time zone (e.g. `Asia/Shanghai`) deciding the days of
    /// `group_by=day` and the hours of `group_by=hour`; default `UTC`. An
    /// unknown zone is a 400 naming it.
    #[param(example = "Asia/Shanghai")]
    tz: Option<String>,
}

impl CallQuery {
    /// The stats' time zone: `tz`, default UTC.
    ///
    /// Errors: 400 naming a zone that is not in the time zone database.
    pub fn time_zone(&self) -> Result<jiff::tz::TimeZone, ApiError> {
        match self.tz.as_deref() {
            None | Some("") | Some("UTC") => Ok(jiff::tz::TimeZone::UTC),
            Some(name) => jiff::tz::TimeZone::get(name).map_err(|_| {
                ApiError::invalid(format!(
                    "tz: unknown time zone `{name}` (expected an IANA name such as Asia/Shanghai)"
                ))
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use utoipa::openapi::path::ParameterIn;

    fn names<P: IntoParams>() -> Vec<String> {
        P::into_params(|| Some(ParameterIn::Query))
            .into_iter()
            .map(|p| p.name)
            .collect()
    }

    /// The documented parameters are exactly the ones `CallQuery` reads:
    /// each documented name parses, and together they set every field.
    #[test]
    fn documented_parameters_are_the_parsed_ones() {
        let mut all = names::<FilterParams>();
        all.extend(names::<PageParams>());
        all.extend(names::<GroupByParams>());
        assert_eq!(all.len(), 16, "{all:?}");
        let qs = all
            .iter()
            .map(|n| format!("{n}=x"))
            .collect::<Vec<_>>()
            .join("&");
        let uri: axum::http::Uri = format!("/?{qs}").parse().unwrap();
        let Query(q) = Query::<CallQuery>::try_from_uri(&uri).unwrap();
        let CallQuery {
            vendor,
            source,
            direction,
            outcome,
            task_id,
            out_id,
            customer_number,
            vendor_call_id,
            since,
            until,
            limit,
            cursor,
            group_by,
            q,
            tz,
            text,
        } = q;
        for (name, v) in [
            ("vendor", vendor),
            ("source", source),
            ("direction", direction),
            ("outcome", outcome),
            ("task_id", task_id),
            ("out_id", out_id),
            ("customer_number", customer_number),
            ("vendor_call_id", vendor_call_id),
            ("since", since),
            ("until", until),
            ("limit", limit),
            ("cursor", cursor),
            ("group_by", group_by),
            ("q", q),
            ("tz", tz),
            ("text", text),
        ] {
            assert_eq!(v.as_deref(), Some("x"), "{name} is not documented");
        }
    }
}
