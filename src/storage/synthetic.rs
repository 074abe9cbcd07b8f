//! Receipts built in code (benchmarks and tests): their updates are made
//! directly, not parsed from vendor JSON, so [`ingest`] stores each with
//! the body `body of {id} #{n}` (n unique in the process, so tests running
//! side by side with the same receipt ids do not mix) and projects it with [`SyntheticReader`], which
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
        let id = String::from_utf8_lossy(body).into_owned();
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

/// Registers `result` as the reading of a synthetic body made from `tag`
/// (which must be unique); returns the body to store.
pub fn register(tag: &str, result: BodyResult) -> String {
    let body = format!("body of {tag}");
    READINGS
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .insert(body.clone(), result);
    body
}

/// The shared [`SyntheticReader`].
pub static READER: std::sync::LazyLock<Arc<dyn BodyReader>> =
    std::sync::LazyLock::new(|| Arc::new(SyntheticReader));

/// Appends the receipt (body `body of {id} #{n}`) and
/// projects until it is projected; a `replay` re-projects the stored one.
pub async fn ingest<S: Store + ?Sized>(
    store: &S,
    batch: IngestBatch,
) -> Result<IngestOutcome, StoreError> {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let id = batch.receipt.id.clone();
    let key = if batch.replay {
        let stored = store.get_receipt(&id).await?.ok_or_else(|| {
            StoreError::corrupt(
                format!("receipt {id}"),
                "the receipt to replay is not stored",
            )
        })?;
        String::from_utf8_lossy(&stored.body).into_owned()
    } else {
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        format!("body of {id} #{n}")
    };
    READINGS
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .insert(key.clone(), batch.result.clone());
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
            .ok_or_else(|| {
                StoreError::corrupt(format!("receipt {id}"), "it was not re-projected")
            });
    }
    let mut receipt = batch.receipt;
    receipt.body = key.into();
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
