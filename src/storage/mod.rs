//! The [`Store`]: durable receipts and calls behind one trait, so the
//! handlers and adapters never see SQL (docs/decisions.md: one store trait,
//! two backends). [`sqlite`] is the embedded default.

mod codec;
pub mod copy;
mod cursor;
pub mod doc_codec;
pub mod filter;
mod filter_text;
mod outbox;
pub mod outbox_sql;
pub mod postgres;
pub mod projection;
pub mod purge;
pub mod retry;
pub mod rollup;
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

pub use codec::{pack_body, unpack_body, BodyCodec, PackedBody};
pub use cursor::{CallCursor, CursorError};
pub use filter_text::{FilterError, FilterText};
pub use outbox::*;
pub use purge::{PurgeBatch, PurgeCounts};
pub use shared::CostSums;
#[cfg(test)]
pub(crate) use test_batch::test_batch;
pub use types::*;

use async_trait::async_trait;

/// Durable storage of receipts and canonical calls.
///
/// Every method's `Err` is a [`StoreError`]: [`StoreError::Unavailable`]
/// (answer 503, retry later) or [`StoreError::Corrupt`] (a stored row that
/// cannot be read back).
#[async_trait]
pub trait Store: Send + Sync {
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
    /// key: from the rollups when they can answer the filter
    /// ([`rollup::RollupFilter::of`]), else by [`Store::scan_stats`].
    async fn stats(
        &self,
        group_by: GroupBy,
        filter: &CallFilter,
    ) -> Result<Vec<StatsRow>, StoreError> {
        match rollup::RollupFilter::of(filter) {
            Some(rf) => {
                let dims = [rollup::Dim::of(group_by), rollup::Dim::Currency];
                rollup::stats_rows(group_by, self.rollup(&dims, &rf).await?)
            }
            None => self.scan_stats(group_by, filter).await,
        }
    }

    /// [`Store::stats`] computed from every matching call (any filter).
    async fn scan_stats(
        &self,
        group_by: GroupBy,
        filter: &CallFilter,
    ) -> Result<Vec<StatsRow>, StoreError>;

    /// The rollups matching `filter` summed per distinct value of `dims`,
    /// groups without calls left out, in no particular order.
    async fn rollup(
        &self,
        dims: &[rollup::Dim],
        filter: &rollup::RollupFilter,
    ) -> Result<Vec<rollup::RollupRow>, StoreError>;

    /// Receipts matching `filter`, newest first, without bodies.
    async fn list_receipts(
        &self,
        filter: &ReceiptFilter,
        page: &PageRequest,
    ) -> Result<Page<ReceiptSummary>, StoreError>;

    /// One receipt with its raw body; `None` if unknown.
    async fn get_receipt(&self, id: &str) -> Result<Option<Receipt>, StoreError>;

    /// Ids of the receipts with `status` (all statuses when `None`), oldest first.
    async fn receipt_ids(&self, status: Option<ReceiptStatus>) -> Result<Vec<String>, StoreError>;

    /// Due deliveries to `target`, oldest due first, at most `limit`, each
    /// leased until `now + lease` so no other worker takes it meanwhile.
    /// Only the oldest pending delivery of a call is due: one call's events
    /// go out in the order they were made.
    async fn claim_deliveries(
        &self,
        target: &str,
        now: jiff::Timestamp,
        limit: usize,
        lease: std::time::Duration,
    ) -> Result<Vec<OutboundMessage>, StoreError>;

    /// Records attempts' results (one transaction, durable on return) and
    /// ends their leases.
    async fn record_attempts(&self, records: Vec<AttemptRecord>) -> Result<(), StoreError>;

    /// When the next pending delivery to `target` that is neither waiting
    /// behind an earlier one of its call nor in flight is due (now or in the
    /// past if one is due already); `None` without one.
    async fn next_due(&self, target: &str) -> Result<Option<jiff::Timestamp>, StoreError>;

    /// Ends every lease: for a single-process store at worker start, so
    /// deliveries in flight when the last process stopped are due at once.
    /// Returns how many were leased.
    async fn release_leases(&self) -> Result<u64, StoreError>;

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

    /// Disables `target` (`reason` given) or enables it (`None`). A
    /// disabled target keeps getting deliveries but none is attempted.
    async fn set_target_disabled(
        &self,
        target: &str,
        reason: Option<String>,
        at: jiff::Timestamp,
    ) -> Result<(), StoreError>;

    /// The state of each target named in `names`, in that order.
    async fn target_states(&self, names: &[String]) -> Result<Vec<TargetState>, StoreError>;

    /// The number of pending deliveries (due, waiting or in flight) of each
    /// target that has any, in no particular order: the outbox backlog
    /// `/metrics` reports. Reads only the pending rows, so its cost grows
    /// with the backlog, not with the history.
    async fn pending_deliveries(&self) -> Result<Vec<(String, u64)>, StoreError>;

    /// Woken (`notify_waiters`) whenever this process writes deliveries or
    /// makes some due (a push that changed calls, a retry, an enable), so
    /// dispatchers need not wait for their next poll.
    fn outbox_signal(&self) -> std::sync::Arc<tokio::sync::Notify>;

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
