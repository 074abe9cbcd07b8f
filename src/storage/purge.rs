//! Retention (Secrets and PII): what a purge deletes, counted,
//! and the SQL both backends run to choose it. Parameters are numbered
//! `#1`, `#2` and written out by [`super::outbox_sql::numbered`].
//!
//! A purge with cutoff `t` deletes, in one transaction per batch:
//! - every call whose `started_at` is before `t` (strictly), with its
//!   receipt links, its events whose deliveries are all finished (and those
//!   deliveries), and its contribution to the rollups;
//! - every receipt whose `received_at` is before `t`, with its links;
//! - every event made before `t` whose deliveries are all finished
//!   (delivered or dead), with those deliveries.
//!
//! Pending deliveries (and their events) are never purged: they are data
//! on its way to a subscriber, and go once delivered or dead.

use serde::Serialize;

/// How many rows of each kind a purge (or a delete) removed, or would
/// remove. Deliveries and receipt links go with their events and
/// calls/receipts and are not counted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct PurgeCounts {
    pub calls: u64,
    pub receipts: u64,
    /// Outbound events (each with its deliveries).
    pub events: u64,
}

impl PurgeCounts {
    /// Adds `other` to these counts.
    pub fn add(&mut self, other: PurgeCounts) {
        self.calls += other.calls;
        self.receipts += other.receipts;
        self.events += other.events;
    }

    /// All rows counted.
    pub fn total(&self) -> u64 {
        self.calls + self.receipts + self.events
    }

    /// Whether a batch of at most `limit` rows per kind came back full, so
    /// more may remain (a caller loops until it does not).
    pub fn is_full(&self, limit: usize) -> bool {
        let limit = limit as u64;
        self.calls >= limit || self.receipts >= limit || self.events >= limit
    }
}

/// What one [`super::Store::purge`] batch did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PurgeBatch {
    /// The rows deleted (all zero: nothing older than the cutoff is left,
    /// or what is left is locked by pushes right now).
    Deleted(PurgeCounts),
    /// Another instance is purging the same PostgreSQL database; nothing
    /// was done (never on SQLite).
    Busy,
}

/// The calls to purge: `#1` the cutoff (epoch ms), `#2` the batch size.
pub const CALLS_DUE: &str =
    "SELECT id, doc FROM calls WHERE started_at < #1 ORDER BY started_at LIMIT #2";

/// The receipts to purge: `#1` the cutoff (epoch ms), `#2` the batch size.
/// A receipt still `pending` is never purged: it is acknowledged and not
/// yet projected.
pub const RECEIPTS_DUE: &str =
    "SELECT id FROM receipts WHERE received_at < #1 AND status <> 'pending'
    ORDER BY received_at LIMIT #2";

/// Whether event `e` has a delivery still pending.
pub const EVENT_PENDING: &str =
    "EXISTS (SELECT 1 FROM deliveries p WHERE p.event_seq = e.seq AND p.status = 'pending')";

/// The events to purge by age: `#1` the cutoff (epoch ms), `#2` the batch
/// size.
pub fn events_due() -> String {
    format!(
        "SELECT e.seq FROM events e WHERE e.created_at < #1 AND NOT {EVENT_PENDING}
         ORDER BY e.created_at LIMIT #2"
    )
}

/// How many rows a purge with cutoff `#1` (epoch ms) would delete: calls,
/// receipts, events (by age, or of a purged call; never with a pending
/// delivery).
pub fn count_due() -> String {
    format!(
        "SELECT
            (SELECT count(*) FROM calls WHERE started_at < #1),
            (SELECT count(*) FROM receipts WHERE received_at < #1 AND status <> 'pending'),
            (SELECT count(*) FROM events e WHERE NOT {EVENT_PENDING} AND (e.created_at < #1
                OR EXISTS (SELECT 1 FROM calls c WHERE c.id = e.call_id AND c.started_at < #1)))"
    )
}

/// The receipts of call `#1` that mention no other call: deleted with it
/// by [`super::Store::delete_call`] (their bodies hold its data).
pub const SOLE_RECEIPTS: &str = "SELECT cr.receipt_id FROM call_receipts cr WHERE cr.call_id = #1
    AND NOT EXISTS (SELECT 1 FROM call_receipts o
                    WHERE o.receipt_id = cr.receipt_id AND o.call_id <> #1)";

/// The cutoff of a retention window of `days` days ending at `now`:
/// `now - days × 24 h` (the earliest time there is, when that is before
/// it: nothing goes). Rows strictly older go.
pub fn cutoff(now: jiff::Timestamp, days: u32) -> jiff::Timestamp {
    now.checked_sub(jiff::SignedDuration::from_hours(24 * i64::from(days)))
        .unwrap_or(jiff::Timestamp::MIN)
}

#[cfg(test)]
#[path = "purge_tests.rs"]
mod tests;
