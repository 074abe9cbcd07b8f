//! The [`Store`]: durable receipts and calls behind one trait, so the
//! handlers and adapters never see SQL (`architecture.md`: one store trait,
//! two backends). [`sqlite`] is the embedded default.

mod cursor;
pub mod sqlite;
mod types;

pub use cursor::{CallCursor, CursorError};
pub use types::*;

use async_trait::async_trait;

/// Durable storage of receipts and canonical calls.
///
/// Every method's `Err` is a [`StoreError`]: [`StoreError::Unavailable`]
/// (answer 503, retry later) or [`StoreError::Corrupt`] (a stored row that
/// cannot be read back).
#[async_trait]
pub trait Store: Send + Sync {
    /// Stores a receipt (new, or the replay of a stored one) and merges its
    /// records into calls, in one transaction. Returns only after the commit
    /// is durable.
    async fn ingest(&self, batch: IngestBatch) -> Result<IngestOutcome, StoreError>;

    /// Calls matching `filter`, newest `started_at` first, `page.limit` at
    /// most, after `page.cursor`.
    async fn list_calls(
        &self,
        filter: &CallFilter,
        page: &PageRequest,
    ) -> Result<Page<crate::domain::Call>, StoreError>;

    /// One whole call with the receipts that mentioned it; `None` if unknown.
    async fn get_call(&self, id: &str) -> Result<Option<CallDetail>, StoreError>;

    /// Aggregates over the calls matching `filter`, one row per `group_by` key.
    async fn stats(
        &self,
        group_by: GroupBy,
        filter: &CallFilter,
    ) -> Result<Vec<StatsRow>, StoreError>;

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

    /// Answers when the store can serve reads and writes.
    async fn ping(&self) -> Result<(), StoreError>;
}
