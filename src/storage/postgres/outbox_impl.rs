//! [`Outbox`] for [`PgStore`]: each call takes a pooled connection. The
//! SQL is in [`super::outbox`].

use super::{outbox, PgStore};
use crate::storage::{AttemptRecord, OutboundMessage, Outbox, StoreError};
use async_trait::async_trait;
use std::sync::Arc;

#[async_trait]
impl Outbox for PgStore {
    async fn claim_deliveries(
        &self,
        target: &str,
        now: jiff::Timestamp,
        limit: usize,
        lease: std::time::Duration,
    ) -> Result<Vec<OutboundMessage>, StoreError> {
        outbox::claim(&*self.client().await?, target, now, limit, lease).await
    }

    async fn record_attempts(&self, records: Vec<AttemptRecord>) -> Result<(), StoreError> {
        outbox::record(&mut *self.client().await?, &records).await
    }

    async fn next_due(&self, target: &str) -> Result<Option<jiff::Timestamp>, StoreError> {
        outbox::next_due(&*self.client().await?, target, jiff::Timestamp::now()).await
    }

    /// Nothing: instances share the database, so a lease is another
    /// instance's until it ends.
    async fn release_leases(&self) -> Result<u64, StoreError> {
        Ok(0)
    }

    async fn set_target_disabled(
        &self,
        target: &str,
        reason: Option<String>,
        at: jiff::Timestamp,
    ) -> Result<(), StoreError> {
        outbox::set_disabled(&mut *self.client().await?, target, reason.as_deref(), at).await?;
        self.signal.notify_waiters();
        Ok(())
    }

    fn outbox_signal(&self) -> Arc<tokio::sync::Notify> {
        self.signal.clone()
    }
}
