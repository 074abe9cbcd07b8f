//! Receipts built in code (benchmarks and tests): their updates are made
//! directly, not parsed from vendor JSON, so [`ingest`] stores each with
//! the body `body of {id}` and projects it with [`SyntheticReader`], which
//! looks the reading up by receipt id. Not for real pushes.

use crate::domain::SourceKind;
use crate::storage::{
    Append, BodyReader, BodyResult, IngestBatch, IngestOutcome, ReceiptHead, ReceiptStatus,
    ReprojectFilter, Store, StoreError,
};
use jiff::Timestamp;
use std::sync::Arc;

/// The readings of synthetic receipts, by receipt id: bodies built in code are
/// not vendor JSON, so the reader looks up what they mean.
static READINGS: std::sync::LazyLock<
    std::sync::Mutex<std::collections::HashMap<String, BodyResult>>,
> = std::sync::LazyLock::new(Default::default);

/// The [`BodyReader`] of synthetic receipts ([`READINGS`]); an unknown one reads
/// as rejected.
pub struct SyntheticReader;

impl BodyReader for SyntheticReader {
    fn read(&self, _source: &str, _kind: SourceKind, body: &[u8]) -> BodyResult {
        let id = String::from_utf8_lossy(body)
            .trim_start_matches("body of ")
            .to_owned();
        let readings = READINGS.lock().unwrap_or_else(|p| p.into_inner());
        readings.get(&id).cloned().unwrap_or_else(|| {
            BodyResult::Rejected(crate::adapters::RecordIssue {
                index: None,
                path: "$".into(),
                message: format!("no synthetic reading for `{id}`"),
            })
        })
    }
}

/// The shared [`SyntheticReader`].
pub static READER: std::sync::LazyLock<Arc<dyn BodyReader>> =
    std::sync::LazyLock::new(|| Arc::new(SyntheticReader));

/// Appends the receipt (body `body of {id}`) and
/// projects until it is projected; a `replay` re-projects the stored one.
pub async fn ingest<S: Store + ?Sized>(
    store: &S,
    batch: IngestBatch,
) -> Result<IngestOutcome, StoreError> {
    let id = batch.receipt.id.clone();
    READINGS
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .insert(id.clone(), batch.result.clone());
    if batch.replay {
        let filter = ReprojectFilter {
            ids: Some(vec![id.clone()]),
            ..Default::default()
        };
        let at = Timestamp::now()
            .round(jiff::Unit::Millisecond)
            .expect("now");
        let report = store
            .reproject(&filter, 0, 10, READER.clone(), at, false)
            .await?;
        return report
            .outcomes
            .into_iter()
            .find(|o| o.receipt_id == id)
            .ok_or_else(|| StoreError::Corrupt(format!("receipt {id} was not re-projected")));
    }
    let mut receipt = batch.receipt;
    receipt.body = format!("body of {id}").into();
    let head = ReceiptHead::of(&batch.result);
    let rejected = head.status == ReceiptStatus::Rejected;
    store
        .append(Append {
            receipt,
            head,
            deadline: batch.deadline,
        })
        .await?;
    if rejected {
        let mut o = IngestOutcome::of(&id);
        o.status = Some(ReceiptStatus::Rejected);
        return Ok(o);
    }
    loop {
        let report = store.project(READER.clone(), 10_000).await?;
        if let Some(o) = report.receipts.into_iter().find(|o| o.receipt_id == id) {
            return Ok(o);
        }
        if let Some(stored) = store.get_receipt(&id).await? {
            if stored.summary.status != ReceiptStatus::Pending {
                // Projected by another task: its outcome is in the receipt.
                let mut o = IngestOutcome::of(&id);
                o.status = Some(stored.summary.status);
                return Ok(o);
            }
        }
        tokio::task::yield_now().await;
    }
}
