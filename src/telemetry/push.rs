//! What a push came to, for `callhook_pushes_total` and the ingest
//! counters. The push handler (and the concurrency gate) tag each answer
//! with a [`CountedPush`] response extension; [`crate::http::request`] counts it
//! once, with the time since the request arrived.

use super::names;
use crate::adapters::UnknownValue;

/// The `result` label of `callhook_pushes_total`: one per kind of answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PushOutcome {
    /// 200: acknowledged, every record usable (the receipt is `pending`
    /// until projected, then `accepted` or `duplicate`).
    Accepted,
    /// 200: acknowledged, some records unusable (the receipt will be
    /// `partial`).
    Partial,
    /// 503: the projection backlog is at `limits.max_pending_records`.
    Backlog,
    /// 400, body kept as a `rejected` receipt (not JSON, wrong shape, too deep).
    Rejected,
    /// 401: missing or wrong token.
    Unauthorized,
    /// 401: a signed kind's signature missing, malformed, stale or wrong.
    BadSignature,
    /// 403: address outside `allow_ips`.
    Forbidden,
    /// 404: no such source.
    NotFound,
    /// 408: the body did not arrive within `body_read_timeout`.
    Timeout,
    /// 413: body over `max_body_bytes` (not kept) or more records than
    /// `max_records_per_push` (kept as a `rejected` receipt).
    TooLarge,
    /// 429: over the source's `rate_limit`.
    RateLimited,
    /// 503: the store is unavailable or did not start the commit within
    /// `ack_budget`.
    Unavailable,
    /// 503: at `max_concurrent_requests` or `max_inflight_body_bytes`.
    Overloaded,
    /// 400: the connection broke while the body was read.
    Aborted,
    /// Any other answer (e.g. a path axum could not decode).
    Other,
}

impl PushOutcome {
    /// The label value.
    pub fn as_str(self) -> &'static str {
        match self {
            PushOutcome::Accepted => "accepted",
            PushOutcome::BadSignature => "bad_signature",
            PushOutcome::Backlog => "backlog",
            PushOutcome::Partial => "partial",
            PushOutcome::Rejected => "rejected",
            PushOutcome::Unauthorized => "unauthorized",
            PushOutcome::Forbidden => "forbidden",
            PushOutcome::NotFound => "not_found",
            PushOutcome::Timeout => "timeout",
            PushOutcome::TooLarge => "too_large",
            PushOutcome::RateLimited => "rate_limited",
            PushOutcome::Unavailable => "unavailable",
            PushOutcome::Overloaded => "overloaded",
            PushOutcome::Aborted => "aborted",
            PushOutcome::Other => "other",
        }
    }
}

/// Response extension on every answer to a push: its `result` label (a
/// [`PushOutcome::as_str`], or a refusal's reason), and the configured
/// source's name when the push named one.
#[derive(Debug, Clone)]
pub struct CountedPush {
    pub result: &'static str,
    pub source: Option<String>,
}

/// Counts one answered push and its time to answer.
pub fn count_push(source: String, result: &'static str, seconds: f64) {
    metrics::histogram!(names::PUSH_ACK_SECONDS, "source" => source.clone()).record(seconds);
    metrics::counter!(names::PUSHES, "source" => source, "result" => result).increment(1);
}

/// Counts what an acknowledged push held: its `usable` records (by
/// vendor) and its `unusable` records. (Records that changed nothing are
/// counted by the projector.)
/// `vendor` is the source's vendor name (`""` for a mapped source without
/// one).
pub fn count_stored(source: &str, vendor: &'static str, (usable, unusable): (usize, usize)) {
    if usable > 0 {
        metrics::counter!(names::RECORDS, "source" => source.to_owned(), "vendor" => vendor)
            .increment(usable as u64);
    }
    if unusable > 0 {
        metrics::counter!(names::REJECTED_RECORDS, "source" => source.to_owned())
            .increment(unusable as u64);
    }
}

/// Counts unknown vendor values by `vendor` and field (never by value).
pub fn count_unknown_values(vendor: &'static str, values: &[UnknownValue]) {
    for v in values {
        metrics::counter!(names::UNKNOWN_VALUES, "vendor" => vendor, "field" => v.field)
            .increment(1);
    }
}
