//! [`Outbox`]: the part of the store the delivery workers use (claiming
//! due deliveries, recording attempts, leases, disabling a target), so a
//! dispatcher holds `Arc<dyn Outbox>` rather than the whole [`Store`]
//! (a supertrait: every store is an outbox, and `Arc<dyn Store>` coerces
//! to `Arc<dyn Outbox>`).
//!
//! [`Store`]: super::Store

use super::{AttemptRecord, OutboundMessage, StoreError};
use async_trait::async_trait;
use std::sync::Arc;
use tokio::sync::Notify;

/// The deliveries of the outbox as the workers see them.
///
/// Every method's `Err` is a [`StoreError`]: [`StoreError::Unavailable`]
/// (retry later) or [`StoreError::Corrupt`] (a stored row that cannot be
/// read back). A failed call changes nothing.
#[async_trait]
pub trait Outbox: Send + Sync {
    /// Due deliveries to `target`, oldest due first, at most `limit`, each
    /// leased until `now + lease` so no other worker takes it meanwhile.
    /// Only the oldest pending delivery of a call is due: one call's events
    /// go out in the order they were made. A disabled target has none due.
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
    /// Returns how many were leased (always 0 for a store shared by
    /// instances, whose leases belong to the others until they end).
    async fn release_leases(&self) -> Result<u64, StoreError>;

    /// Disables `target` (`reason` given) or enables it (`None`), as of
    /// `at`. A disabled target keeps getting deliveries but none is
    /// attempted. Wakes [`Outbox::outbox_signal`].
    async fn set_target_disabled(
        &self,
        target: &str,
        reason: Option<String>,
        at: jiff::Timestamp,
    ) -> Result<(), StoreError>;

    /// Woken (`notify_waiters`) whenever this process writes deliveries or
    /// makes some due (a push that changed calls, a retry, an enable), so
    /// dispatchers need not wait for their next poll. Never fails.
    fn outbox_signal(&self) -> Arc<Notify>;
}
