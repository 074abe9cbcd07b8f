//! The [`Store`]: durable receipts and calls behind one trait, so the
//! handlers and adapters never see SQL (docs/decisions.md: one store trait,
//! two backends). [`sqlite`] is the embedded default.

pub mod alerts;
mod codec;
mod columns;
pub mod copy;
mod cursor;
pub mod doc_codec;
mod error;
pub mod filter;
mod filter_text;
mod outbox;
pub mod outbox_sql;
mod outbox_trait;
pub mod page_reads;
pub mod postgres;
pub mod projection;
pub mod purge;
pub mod recordings;
pub mod retry;
pub mod rollup;
#[cfg(test)]
mod rollup_migration_tests;
pub mod search;
#[cfg(test)]
mod search_migration_tests;
mod shared;
pub mod sqlite;
pub mod synthetic;
#[cfg(test)]
mod test_batch;
#[cfg(test)]
pub(crate) mod test_rig;
mod types;

pub use alerts::{
    AlertFilter, AlertRecord, AlertState, HealthFigures, HealthQuery, NotifiedChannels,
};
pub use codec::{pack_body, unpack_body, BodyCodec, PackedBody};
pub use cursor::{CallCursor, CursorError};
pub use error::{Cause, StoreError};
pub use filter_text::{FilterError, FilterText};
pub use outbox::*;
pub use outbox_trait::Outbox;
pub use page_reads::{FailedAttempt, ReceiptCounts, TargetActivity};
pub use purge::{PurgeBatch, PurgeCounts};
#[cfg(test)]
pub(crate) use test_batch::test_batch;
pub use types::*;

use async_trait::async_trait;

/// Durable storage of receipts and canonical calls. The deliveries the
/// workers claim and record are its [`Outbox`] supertrait.
///
/// Every method's `Err` is a [`StoreError`]: [`StoreError::Unavailable`]
/// (answer 503, retry later) or [`StoreError::Corrupt`] (a stored row that
/// cannot be read back).
#[async_trait]
pub trait Store: Outbox + Send + Sync {
    /// Appends one receipt to the log (the acknowledgement path): its
    /// verbatim body (compressed) with status `pending` (or `rejected`),
    /// and nothing else. Returns only after the commit is durable.
    ///
    /// Errors: [`StoreError::Busy`] when `append.deadline` passed before the
    /// commit started (nothing stored), [`StoreError::Unavailable`].
    async fn append(&self, append: Append) -> Result<(), StoreError>;

    /// Projects the oldest pending receipts, in log order, up to about
    /// `max_records` records (at least one receipt), into calls, links,
    /// rollups and the outbox, and marks each receipt's final status, all
    /// in one transaction. Bodies are read with `reader`. An empty report
    /// means nothing was pending (or another projector holds the rest).
    ///
    /// Errors: [`StoreError::Unavailable`]; nothing of the batch is kept
    /// and it is projected again by the next call.
    async fn project(
        &self,
        reader: std::sync::Arc<dyn BodyReader>,
        max_records: usize,
    ) -> Result<ProjectReport, StoreError>;

    /// Reads again, with `reader`, at most `limit` projected or rejected
    /// receipts matching `filter` after log position `after_seq`, and
    /// rebuilds every call they touch (now or before) from all of that
    /// call's receipts. A call whose canonical form changed is written with
    /// one `call.updated` (or `call.analyzed`/`call.created`) event stamped
    /// `at`; the receipts' statuses and issues are replaced and their
    /// replay count raised. With `dry_run` nothing is written.
    ///
    /// Errors: [`StoreError::Unavailable`].
    async fn reproject(
        &self,
        filter: &ReprojectFilter,
        after_seq: i64,
        limit: usize,
        reader: std::sync::Arc<dyn BodyReader>,
        at: jiff::Timestamp,
        dry_run: bool,
    ) -> Result<ReprojectReport, StoreError>;

    /// How many receipts [`Store::reproject`] with `filter` would read.
    async fn count_reprojectable(&self, filter: &ReprojectFilter) -> Result<u64, StoreError>;

    /// The projection backlog: pending receipts, their records, the oldest.
    async fn projection_lag(&self) -> Result<ProjectionLag, StoreError>;

    /// Test helper: appends `batch.receipt` and projects it at once with
    /// `batch.result` (a `replay` re-projects the stored receipt instead).
    #[cfg(test)]
    async fn ingest(&self, batch: IngestBatch) -> Result<IngestOutcome, StoreError> {
        synthetic::ingest(self, batch).await
    }

    /// Calls matching `filter`, newest `started_at` first, `page.limit` at
    /// most, after `page.cursor`.
    async fn list_calls(
        &self,
        filter: &CallFilter,
        page: &PageRequest,
    ) -> Result<Page<crate::domain::Call>, StoreError>;

    /// One whole call with the receipts that mentioned it; `None` if unknown.
    async fn get_call(&self, id: &str) -> Result<Option<CallDetail>, StoreError>;

    /// Aggregates over the calls matching `filter`, one row per `group_by`
    /// key, days and hours of day taken in `tz`: from the rollups when
    /// they can answer the filter ([`rollup::RollupFilter::of`], by
    /// [`rollup::plan`]), else by [`Store::scan_stats`] (docs/rollups.md).
    async fn stats(
        &self,
        group_by: GroupBy,
        filter: &CallFilter,
        tz: &jiff::tz::TimeZone,
    ) -> Result<Vec<StatsRow>, StoreError> {
        rollup::plan::stats(self, group_by, filter, tz).await
    }

    /// [`Store::stats`] computed from every matching call (any filter).
    async fn scan_stats(
        &self,
        group_by: GroupBy,
        filter: &CallFilter,
        tz: &jiff::tz::TimeZone,
    ) -> Result<Vec<StatsRow>, StoreError> {
        rollup::plan::scan_stats(self, group_by, filter, tz).await
    }

    /// The calls matching `filter` summed per distinct value of `dims`,
    /// groups without calls left out, in key order: read from the smallest
    /// rollup level keeping every asked dim and filtered column, plus a
    /// scan of the partial hours at the edges of the range
    /// ([`rollup::plan::plan`]). The key text of [`rollup::Dim::Hour`] is
    /// `YYYY-MM-DDTHH` (UTC), of [`rollup::Dim::Day`] `YYYY-MM-DD` (UTC).
    async fn rollup(
        &self,
        dims: &[rollup::Dim],
        filter: &rollup::RollupFilter,
    ) -> Result<Vec<rollup::RollupRow>, StoreError> {
        rollup::plan::answer(self, dims, filter, rollup::SumSet::All).await
    }

    /// [`Store::rollup`] with only the totals summed
    /// ([`rollup::SumSet::Totals`]: counts, talk, cost, QA; talk buckets
    /// and outcome counts 0 where a level answers): for lists and extents
    /// that show no outcome mix or durations, at about a third of the cost.
    async fn rollup_totals(
        &self,
        dims: &[rollup::Dim],
        filter: &rollup::RollupFilter,
    ) -> Result<Vec<rollup::RollupRow>, StoreError> {
        rollup::plan::answer(self, dims, filter, rollup::SumSet::Totals).await
    }

    /// The rows of rollup `level` matching `filter` (bounds starting
    /// buckets of the level's grain) summed per distinct value of `dims`
    /// (each kept by the level), groups without calls left out; the sums
    /// of `set` (the others 0).
    async fn read_rollup(
        &self,
        level: &'static rollup::Level,
        dims: &[rollup::Dim],
        filter: &rollup::RollupFilter,
        set: rollup::SumSet,
    ) -> Result<Vec<rollup::RollupRow>, StoreError>;

    /// [`Store::rollup`]'s rows computed from the calls matching `filter`
    /// (any filter), through the `calls_by_started`/`calls_by_task`
    /// indexes when bounded.
    async fn scan_rollup(
        &self,
        dims: &[rollup::Dim],
        filter: &CallFilter,
    ) -> Result<Vec<rollup::RollupRow>, StoreError> {
        self.scan_rollup_in(dims, filter, &jiff::tz::TimeZone::UTC)
            .await
    }

    /// [`Store::scan_rollup`] with hours and days taken in `tz`.
    async fn scan_rollup_in(
        &self,
        dims: &[rollup::Dim],
        filter: &CallFilter,
        tz: &jiff::tz::TimeZone,
    ) -> Result<Vec<rollup::RollupRow>, StoreError>;

    /// The latest UTC day holding a call that has its report (not only
    /// awaiting it), from the daily rollups; `None` without one.
    async fn latest_reported_day(&self) -> Result<Option<jiff::civil::Date>, StoreError> {
        rollup::plan::latest_reported_day(self).await
    }

    /// Receipts matching `filter`, newest first, without bodies.
    async fn list_receipts(
        &self,
        filter: &ReceiptFilter,
        page: &PageRequest,
    ) -> Result<Page<ReceiptSummary>, StoreError>;

    /// One receipt with its raw body; `None` if unknown.
    async fn get_receipt(&self, id: &str) -> Result<Option<Receipt>, StoreError>;

    /// How many receipts match `filter` (its `status` ignored), per status,
    /// in one grouped query: the receipts page's tab counts.
    async fn count_receipts(&self, filter: &ReceiptFilter) -> Result<ReceiptCounts, StoreError>;

    /// Ids of the receipts with `status` (all statuses when `None`), oldest first.
    async fn receipt_ids(&self, status: Option<ReceiptStatus>) -> Result<Vec<String>, StoreError>;

    /// Deliveries matching `filter`, newest first.
    async fn list_deliveries(
        &self,
        filter: &DeliveryFilter,
        page: &PageRequest,
    ) -> Result<Page<Delivery>, StoreError>;

    /// One delivery with its event; `None` if unknown.
    async fn get_delivery(&self, id: &str) -> Result<Option<DeliveryDetail>, StoreError>;

    /// Makes the deliveries matching `filter` that are not delivered (all of
    /// them when `filter.status` is `None`: dead and pending) due at `now`
    /// with a fresh retry schedule. `id` narrows to one delivery. Returns
    /// how many changed.
    async fn retry_deliveries(
        &self,
        id: Option<&str>,
        filter: &DeliveryFilter,
        now: jiff::Timestamp,
    ) -> Result<u64, StoreError>;

    /// The state of each target named in `names`, in that order.
    async fn target_states(&self, names: &[String]) -> Result<Vec<TargetState>, StoreError>;

    /// Each target named in `names`, in that order, with its newest
    /// delivered time and newest failed attempt (the deliveries page's
    /// health table; each read is the end of a partial index).
    async fn target_activity(&self, names: &[String]) -> Result<Vec<TargetActivity>, StoreError>;

    /// The number of pending deliveries (due, waiting or in flight) of each
    /// target that has any, in no particular order: the outbox backlog
    /// `/metrics` reports. Reads only the pending rows, so its cost grows
    /// with the backlog, not with the history.
    async fn pending_deliveries(&self) -> Result<Vec<(String, u64)>, StoreError>;

    /// One retention batch ([`purge`]): deletes, in one transaction, at
    /// most `limit` calls with `started_at` before `cutoff`, at most
    /// `limit` receipts with `received_at` before it, the deleted calls'
    /// finished events, and finished events made before it up to `limit`
    /// events in all (a call has a few events, so more only when its
    /// calls had more than one each); strictly older only. A deleted call takes its
    /// receipt links, finished events and deliveries, and rollup sums with
    /// it. Callers loop until a batch is not [`PurgeCounts::is_full`].
    /// Rows locked by a push at that moment are left for the next batch
    /// (PostgreSQL); [`PurgeBatch::Busy`] when another instance is purging.
    async fn purge(&self, cutoff: jiff::Timestamp, limit: usize) -> Result<PurgeBatch, StoreError>;

    /// What purging everything before `cutoff` would delete now, in all
    /// batches together (`callhook purge --dry-run`).
    async fn count_purgeable(&self, cutoff: jiff::Timestamp) -> Result<PurgeCounts, StoreError>;

    /// Deletes call `id` as a purge would, and also its pending deliveries
    /// and the receipts that mention no other call (their bodies hold its
    /// data; receipts that also mention other calls stay, unlinked from
    /// it). `None` when there is no such call.
    async fn delete_call(&self, id: &str) -> Result<Option<PurgeCounts>, StoreError>;

    /// Deletes receipt `id` (body included) and its links; its calls stay.
    /// `false` when there is no such receipt.
    async fn delete_receipt(&self, id: &str) -> Result<bool, StoreError>;

    /// The figures of the dashboard's health strip and of alert rules
    /// ([`HealthQuery`]): each source's last push, rejected and partial
    /// receipts since `since` (and all of them with `with_total`), the
    /// projection lag, each target's dead deliveries, and the alerts
    /// firing. Reads index ranges only (never the whole history).
    async fn health(&self, query: &HealthQuery) -> Result<HealthFigures, StoreError> {
        let _ = query;
        Err(no_alerts())
    }

    /// Stores a new firing `alert` unless its rule has a firing alert
    /// already (from this instance or another): `true` when stored.
    async fn open_alert(&self, alert: &AlertRecord) -> Result<bool, StoreError> {
        let _ = alert;
        Err(no_alerts())
    }

    /// Marks firing alert `id` resolved at `at`: `true` when it was firing
    /// (`false`: unknown, or resolved already, e.g. by another instance).
    async fn resolve_alert(&self, id: &str, at: jiff::Timestamp) -> Result<bool, StoreError> {
        let _ = (id, at);
        Err(no_alerts())
    }

    /// Records which channels acknowledged the notification of alert `id`
    /// for `phase` (its firing or its resolution), replacing the list.
    async fn set_alert_notified(
        &self,
        id: &str,
        phase: AlertState,
        channels: &[String],
    ) -> Result<(), StoreError> {
        let _ = (id, phase, channels);
        Err(no_alerts())
    }

    /// Alerts matching `filter`, newest first, `filter.limit` at most.
    async fn list_alerts(&self, filter: &AlertFilter) -> Result<Vec<AlertRecord>, StoreError> {
        let _ = filter;
        Err(no_alerts())
    }

    /// Due, unleased recording jobs, oldest due first, at most `limit`,
    /// each leased until `now + lease` so no other archiver (of this or
    /// another instance) takes it meanwhile (`storage/recordings.rs`).
    async fn claim_recordings(
        &self,
        now: jiff::Timestamp,
        limit: usize,
        lease: std::time::Duration,
    ) -> Result<Vec<recordings::RecordingClaim>, StoreError> {
        let _ = (now, limit, lease);
        Err(no_recordings())
    }

    /// Records archivers' reports (one transaction, durable on return) and
    /// ends their leases. A report whose URL is no longer the row's (a
    /// newer push changed the link) changes nothing.
    async fn report_recordings(
        &self,
        reports: Vec<recordings::RecordingReport>,
    ) -> Result<(), StoreError> {
        let _ = reports;
        Err(no_recordings())
    }

    /// Writes recording jobs outside a push (`callhook recordings fetch
    /// --backfill`): new rows, or rows whose URL changed; returns how many.
    async fn enqueue_recordings(
        &self,
        jobs: Vec<recordings::RecordingJob>,
    ) -> Result<u64, StoreError> {
        let _ = jobs;
        Err(no_recordings())
    }

    /// Every recording row of call `call_id`, the canonical link first.
    async fn call_recordings(
        &self,
        call_id: &str,
    ) -> Result<Vec<recordings::RecordingRecord>, StoreError> {
        let _ = call_id;
        Err(no_recordings())
    }

    /// The recording row of `call_id`'s `link`; `None` without one.
    async fn recording(
        &self,
        call_id: &str,
        link: &str,
    ) -> Result<Option<recordings::RecordingRecord>, StoreError> {
        let _ = (call_id, link);
        Err(no_recordings())
    }

    /// Recording rows per status, archived bytes, the oldest due job.
    async fn recording_counts(&self) -> Result<recordings::RecordingCounts, StoreError> {
        Err(no_recordings())
    }

    /// The pending recording jobs (the backlog) and when the first is due:
    /// `/metrics` at every scrape, so it reads the pending rows only (a
    /// partial index), never the history.
    async fn recording_backlog(&self) -> Result<(u64, Option<jiff::Timestamp>), StoreError> {
        Err(no_recordings())
    }

    /// Recording links of `source` (all sources when `None`) whose last
    /// download attempt, at or after `since`, failed (retrying or given
    /// up): the `recording_failures` alert rule. Reads a partial index.
    async fn recording_failures(
        &self,
        source: Option<&str>,
        since: jiff::Timestamp,
    ) -> Result<u64, StoreError> {
        let _ = (source, since);
        Err(no_recordings())
    }

    /// When the first pending recording job is due; `None` without one.
    async fn next_recording_due(&self) -> Result<Option<jiff::Timestamp>, StoreError> {
        Err(no_recordings())
    }

    /// Makes every recording not archived, received at or after `since`
    /// (all when `None`), due at `now`; returns how many.
    async fn refetch_recordings(
        &self,
        since: Option<jiff::Timestamp>,
        now: jiff::Timestamp,
    ) -> Result<u64, StoreError> {
        let _ = (since, now);
        Err(no_recordings())
    }

    /// Takes up to `limit` archived files that no call refers to any more
    /// (their calls were deleted): the caller deletes them from the archive.
    async fn take_recording_orphans(&self, limit: usize) -> Result<Vec<String>, StoreError> {
        let _ = limit;
        Err(no_recordings())
    }

    /// Ends every recording lease (a single-process store at start, so a
    /// download cut by a crash is tried again at once); returns how many.
    async fn release_recording_leases(&self) -> Result<u64, StoreError> {
        Err(no_recordings())
    }

    /// Answers when the store can serve reads and writes.
    async fn ping(&self) -> Result<(), StoreError>;

    /// Answers when a write can be made durable now (`/readyz`'s write
    /// path check): SQLite commits a tiny probe write through its writer
    /// (a full or read-only disk, or a poisoned store, fails it);
    /// PostgreSQL checks that the session is not read-only (a standby).
    /// The default is [`Store::ping`].
    ///
    /// Errors: [`StoreError::Unavailable`] naming why writes fail.
    async fn check_writable(&self) -> Result<(), StoreError> {
        self.ping().await
    }
}

/// What the recordings archive's methods answer on a store without them
/// (the defaults; both backends have them).
fn no_recordings() -> StoreError {
    StoreError::Unavailable("this store keeps no recordings archive".into())
}

/// What the health and alert methods answer on a store without them (the
/// defaults; both backends have them).
fn no_alerts() -> StoreError {
    StoreError::Unavailable("this store keeps no health figures or alerts".into())
}
