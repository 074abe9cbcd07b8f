//! Retention (Secrets and PII): purging receipts, calls and
//! finished outbound events older than `retention_days`, in batches
//! ([`purge_all`]), by a background job of `serve` ([`job`]) and by
//! `callhook purge`; and the metric that counts every deletion, the admin
//! API's deletes included ([`count_deleted`]).

pub mod job;

use crate::storage::{PurgeBatch, PurgeCounts, Store, StoreError};
use jiff::Timestamp;

/// Rows of each kind one purge batch deletes at most. On SQLite a batch
/// holds the single writer while it runs (pushes wait behind it): 1,000
/// calls with their receipts and events took 32 ms (p50, 107 ms at most);
/// on PostgreSQL, where a batch blocks no push, 116 ms, and smaller
/// batches lose more than half the speed (`examples/purge_bench.rs`,
/// `docs/retention.md`).
pub const BATCH: usize = 1000;

/// The counter of deleted rows, labelled `kind` (`calls`, `receipts`,
/// `events`) and `reason` (`retention` or `api`).
pub const DELETED_TOTAL: &str = "callhook_retention_deleted_total";

/// Why rows were deleted: the `reason` label of [`DELETED_TOTAL`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// Older than `retention_days` (the background job, `callhook purge`).
    Retention,
    /// `DELETE /api/v1/calls/{id}` or `DELETE /api/v1/receipts/{id}`.
    Api,
}

impl Reason {
    /// The label value.
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Retention => "retention",
            Reason::Api => "api",
        }
    }
}

/// Describes [`DELETED_TOTAL`] to the installed recorder and makes its
/// series exist at 0, so a dashboard sees them before the first deletion.
pub fn describe() {
    metrics::describe_counter!(
        DELETED_TOTAL,
        metrics::Unit::Count,
        "Rows deleted: by retention_days (reason=retention) or an admin's DELETE (reason=api); \
         kind = calls, receipts or events"
    );
    for reason in [Reason::Retention, Reason::Api] {
        count_deleted(&PurgeCounts::default(), reason);
    }
}

/// Adds `counts` to [`DELETED_TOTAL`].
pub fn count_deleted(counts: &PurgeCounts, reason: Reason) {
    for (kind, n) in [
        ("calls", counts.calls),
        ("receipts", counts.receipts),
        ("events", counts.events),
    ] {
        metrics::counter!(DELETED_TOTAL, "kind" => kind, "reason" => reason.as_str()).increment(n);
    }
}

/// How a whole purge ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purged {
    /// Everything older than the cutoff that was not locked is gone.
    Done(PurgeCounts),
    /// Another instance was purging (PostgreSQL) when a batch began; the
    /// counts are what this one deleted before that.
    Busy(PurgeCounts),
}

/// Purges everything older than `cutoff` in batches of `limit` rows per
/// kind until a batch comes back short, counting each batch in
/// [`DELETED_TOTAL`] and passing it to `on_batch`; stops early, between
/// batches, once `stop` says so (returning what was done).
///
/// Errors: the store's, for the failing batch (earlier batches stay
/// committed).
pub async fn purge_all(
    store: &dyn Store,
    cutoff: Timestamp,
    limit: usize,
    stop: &(dyn Fn() -> bool + Sync),
    on_batch: &mut (dyn FnMut(PurgeCounts) + Send),
) -> Result<Purged, StoreError> {
    let mut total = PurgeCounts::default();
    loop {
        let batch = match store.purge(cutoff, limit).await? {
            PurgeBatch::Busy => return Ok(Purged::Busy(total)),
            PurgeBatch::Deleted(b) => b,
        };
        count_deleted(&batch, Reason::Retention);
        total.add(batch);
        on_batch(batch);
        if !batch.is_full(limit) || stop() {
            return Ok(Purged::Done(total));
        }
    }
}
