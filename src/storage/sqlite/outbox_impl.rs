//! [`Outbox`] for [`SqliteStore`]: claims, attempts, lease releases and
//! target switches go through the single writer; `next_due` is a read.
//! The SQL is in [`super::outbox`].

use super::{outbox, SqliteStore};
use crate::storage::{AttemptRecord, OutboundMessage, Outbox, StoreError};
use async_trait::async_trait;

#[async_trait]
impl Outbox for SqliteStore {
    async fn claim_deliveries(
        &self,
        target: &str,
        now: jiff::Timestamp,
        limit: usize,
        lease: std::time::Duration,
    ) -> Result<Vec<OutboundMessage>, StoreError> {
        let target = target.to_owned();
        self.write(move |c| outbox::claim(c, &target, now, limit, lease))
            .await
    }

    async fn record_attempts(&self, records: Vec<AttemptRecord>) -> Result<(), StoreError> {
        self.write(move |c| outbox::record(c, &records)).await
    }

    async fn next_due(&self, target: &str) -> Result<Option<jiff::Timestamp>, StoreError> {
        let target = target.to_owned();
        self.read(move |c| outbox::next_due(c, &target, jiff::Timestamp::now()))
            .await
    }

    async fn release_leases(&self) -> Result<u64, StoreError> {
        self.write(outbox::release_leases).await
    }

    async fn set_target_disabled(
        &self,
        target: &str,
        reason: Option<String>,
        at: jiff::Timestamp,
    ) -> Result<(), StoreError> {
        let target = target.to_owned();
        self.write(move |c| outbox::set_disabled(c, &target, reason.as_deref(), at))
            .await?;
        self.signal.notify_waiters();
        Ok(())
    }

    fn outbox_signal(&self) -> std::sync::Arc<tokio::sync::Notify> {
        self.signal.clone()
    }
}
