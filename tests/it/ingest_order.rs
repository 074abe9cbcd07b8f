//! Receipt ids sort by arrival (`storage::NewReceipt::id`: "unique, sortable
//! by arrival"), even for pushes within the same millisecond: the receipt
//! list is newest first and a call's receipts oldest first by id.
//!
//! HTTP pushes wait for a durable append and rarely share a millisecond,
//! so this drives [`Ingestor`] over a store that answers at once.

use async_trait::async_trait;
use callhook::config::Config;
use callhook::domain::Call;
use callhook::ingest::Ingestor;
use callhook::storage::*;
use std::sync::{Arc, Mutex};

/// Records the receipt id of each ingest; nothing else.
#[derive(Default)]
struct IdRecorder(Mutex<Vec<String>>);

#[async_trait]
impl Outbox for IdRecorder {
    async fn claim_deliveries(
        &self,
        _: &str,
        _: jiff::Timestamp,
        _: usize,
        _: std::time::Duration,
    ) -> Result<Vec<OutboundMessage>, StoreError> {
        unimplemented!()
    }
    async fn record_attempts(&self, _: Vec<AttemptRecord>) -> Result<(), StoreError> {
        unimplemented!()
    }
    async fn next_due(&self, _: &str) -> Result<Option<jiff::Timestamp>, StoreError> {
        unimplemented!()
    }
    async fn release_leases(&self) -> Result<u64, StoreError> {
        unimplemented!()
    }
    async fn set_target_disabled(
        &self,
        _: &str,
        _: Option<String>,
        _: jiff::Timestamp,
    ) -> Result<(), StoreError> {
        unimplemented!()
    }
    fn outbox_signal(&self) -> Arc<tokio::sync::Notify> {
        unimplemented!()
    }
}

#[async_trait]
impl Store for IdRecorder {
    async fn append(&self, append: Append) -> Result<(), StoreError> {
        self.0.lock().unwrap().push(append.receipt.id.clone());
        Ok(())
    }
    async fn project(&self, _: Arc<dyn BodyReader>, _: usize) -> Result<ProjectReport, StoreError> {
        unimplemented!()
    }
    async fn reproject(
        &self,
        _: &ReprojectFilter,
        _: i64,
        _: usize,
        _: Arc<dyn BodyReader>,
        _: jiff::Timestamp,
        _: bool,
    ) -> Result<ReprojectReport, StoreError> {
        unimplemented!()
    }
    async fn count_reprojectable(&self, _: &ReprojectFilter) -> Result<u64, StoreError> {
        unimplemented!()
    }
    async fn projection_lag(&self) -> Result<ProjectionLag, StoreError> {
        unimplemented!()
    }
    async fn list_calls(&self, _: &CallFilter, _: &PageRequest) -> Result<Page<Call>, StoreError> {
        unimplemented!()
    }
    async fn get_call(&self, _: &str) -> Result<Option<CallDetail>, StoreError> {
        unimplemented!()
    }
    async fn read_rollup(
        &self,
        _: &'static callhook::storage::rollup::Level,
        _: &[callhook::storage::rollup::Dim],
        _: &callhook::storage::rollup::RollupFilter,
        _: callhook::storage::rollup::SumSet,
    ) -> Result<Vec<callhook::storage::rollup::RollupRow>, StoreError> {
        unimplemented!()
    }
    async fn scan_rollup_in(
        &self,
        _: &[callhook::storage::rollup::Dim],
        _: &CallFilter,
        _: &jiff::tz::TimeZone,
    ) -> Result<Vec<callhook::storage::rollup::RollupRow>, StoreError> {
        unimplemented!()
    }
    async fn list_receipts(
        &self,
        _: &ReceiptFilter,
        _: &PageRequest,
    ) -> Result<Page<ReceiptSummary>, StoreError> {
        unimplemented!()
    }
    async fn get_receipt(&self, _: &str) -> Result<Option<Receipt>, StoreError> {
        unimplemented!()
    }
    async fn receipt_ids(&self, _: Option<ReceiptStatus>) -> Result<Vec<String>, StoreError> {
        unimplemented!()
    }
    async fn count_receipts(&self, _: &ReceiptFilter) -> Result<ReceiptCounts, StoreError> {
        unimplemented!()
    }
    async fn list_deliveries(
        &self,
        _: &DeliveryFilter,
        _: &PageRequest,
    ) -> Result<Page<Delivery>, StoreError> {
        unimplemented!()
    }
    async fn get_delivery(&self, _: &str) -> Result<Option<DeliveryDetail>, StoreError> {
        unimplemented!()
    }
    async fn retry_deliveries(
        &self,
        _: Option<&str>,
        _: &DeliveryFilter,
        _: jiff::Timestamp,
    ) -> Result<u64, StoreError> {
        unimplemented!()
    }
    async fn target_states(&self, _: &[String]) -> Result<Vec<TargetState>, StoreError> {
        unimplemented!()
    }
    async fn target_activity(&self, _: &[String]) -> Result<Vec<TargetActivity>, StoreError> {
        unimplemented!()
    }
    async fn pending_deliveries(&self) -> Result<Vec<(String, u64)>, StoreError> {
        unimplemented!()
    }
    async fn purge(&self, _: jiff::Timestamp, _: usize) -> Result<PurgeBatch, StoreError> {
        unimplemented!()
    }
    async fn count_purgeable(&self, _: jiff::Timestamp) -> Result<PurgeCounts, StoreError> {
        unimplemented!()
    }
    async fn delete_call(&self, _: &str) -> Result<Option<PurgeCounts>, StoreError> {
        unimplemented!()
    }
    async fn delete_receipt(&self, _: &str) -> Result<bool, StoreError> {
        unimplemented!()
    }
    async fn ping(&self) -> Result<(), StoreError> {
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn receipt_ids_increase_with_arrival_within_a_millisecond() {
    let store = Arc::new(IdRecorder::default());
    let config = Arc::new(Config::defaults());
    let ingestor = Ingestor::new(store.clone(), config.clone());
    let source = config.source("aliyun-call-report").unwrap();
    for i in 0..2000 {
        let body = format!(r#"[{{"callId": "order-{i}"}}]"#).into_bytes();
        ingestor
            .push(source, body.into(), "test".into(), None)
            .await
            .expect("push");
    }
    let ids = store.0.lock().unwrap().clone();
    assert_eq!(ids.len(), 2000);
    let out_of_order = ids.windows(2).filter(|w| w[0] >= w[1]).count();
    assert_eq!(out_of_order, 0, "receipt ids not increasing with arrival");
}
