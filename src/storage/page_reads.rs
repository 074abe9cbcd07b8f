//! What the dashboard's receipts and deliveries pages read besides the
//! lists: receipts counted per status ([`super::Store::count_receipts`])
//! and each target's last success and last failure
//! ([`super::Store::target_activity`]).

use super::filter::{Conditions, Param};
use super::{ReceiptFilter, ReceiptStatus, StoreError};
use jiff::Timestamp;
use serde::Serialize;

/// How many receipts have each status; statuses without any are absent.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ReceiptCounts(pub Vec<(ReceiptStatus, u64)>);

impl ReceiptCounts {
    /// The count of `status` (0 when absent).
    pub fn of(&self, status: ReceiptStatus) -> u64 {
        self.0
            .iter()
            .find(|(s, _)| *s == status)
            .map_or(0, |(_, n)| *n)
    }

    /// Every status together.
    pub fn total(&self) -> u64 {
        self.0.iter().map(|(_, n)| n).sum()
    }
}

/// A failed attempt: when, the HTTP status if a response came, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FailedAttempt {
    pub at: Timestamp,
    pub response_status: Option<u16>,
    pub error: String,
}

/// A target's recent history, for its health row: the newest
/// acknowledged delivery, and the newest attempt still recorded as failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TargetActivity {
    pub name: String,
    pub last_delivered_at: Option<Timestamp>,
    pub last_failure: Option<FailedAttempt>,
}

/// The indexes these reads use (SQLite and PostgreSQL alike): the newest
/// delivery of a target and its newest failed attempt are each the end of
/// a small partial index, not a scan of the target's history.
pub const ACTIVITY_INDEXES: &str = r#"
CREATE INDEX IF NOT EXISTS deliveries_last_delivered ON deliveries(target, delivered_at) WHERE status = 'delivered';
CREATE INDEX IF NOT EXISTS deliveries_last_failed ON deliveries(target, last_attempt_at) WHERE last_error IS NOT NULL;
"#;

/// The newest delivery of target `$1`.
pub const LAST_DELIVERED_SQL: &str =
    "SELECT MAX(delivered_at) FROM deliveries WHERE target = $1 AND status = 'delivered'";

/// The newest failed attempt of target `$1`.
pub const LAST_FAILED_SQL: &str = "SELECT last_attempt_at, last_response_status, last_error \
     FROM deliveries WHERE target = $1 AND last_error IS NOT NULL \
     ORDER BY last_attempt_at DESC LIMIT 1";

/// The conditions of `filter` on the receipts table (`status` only when
/// `with_status`): equality on `status` and `source`, `since ≤
/// received_at < until` (epoch milliseconds).
pub fn receipt_conditions(filter: &ReceiptFilter, with_status: bool) -> Conditions {
    let mut c = Conditions::default();
    if let (true, Some(s)) = (with_status, filter.status) {
        c.push("status = ?", [Param::Text(s.as_str().into())]);
    }
    if let Some(s) = &filter.source {
        c.push("source = ?", [Param::Text(s.clone())]);
    }
    if let Some(t) = filter.since {
        c.push("received_at >= ?", [Param::Int(t.as_millisecond())]);
    }
    if let Some(t) = filter.until {
        c.push("received_at < ?", [Param::Int(t.as_millisecond())]);
    }
    c
}

/// Reads one `(status, count)` row of the grouped count.
///
/// Errors: [`StoreError::Corrupt`] for a status no build writes.
pub fn status_count(status: &str, n: i64) -> Result<(ReceiptStatus, u64), StoreError> {
    let s = ReceiptStatus::parse(status).map_err(|e| StoreError::corrupt("receipt status", e))?;
    Ok((s, n.max(0) as u64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn receipt_filters_become_conditions() {
        let f = ReceiptFilter {
            status: Some(ReceiptStatus::Rejected),
            source: Some("shop".into()),
            since: Some("2025-06-01T00:00:00Z".parse().unwrap()),
            until: None,
        };
        let (sql, params) = receipt_conditions(&f, true).render(1, |_| "?".into());
        assert_eq!(sql, "WHERE status = ? AND source = ? AND received_at >= ?");
        assert_eq!(params.len(), 3);
        let (sql, _) = receipt_conditions(&f, false).render(1, |n| format!("${n}"));
        assert_eq!(sql, "WHERE source = $1 AND received_at >= $2");
        let counts = ReceiptCounts(vec![status_count("partial", 2).unwrap()]);
        assert_eq!((counts.of(ReceiptStatus::Partial), counts.total()), (2, 2));
        assert_eq!(counts.of(ReceiptStatus::Accepted), 0);
        assert!(status_count("lost", 1).is_err());
    }
}
