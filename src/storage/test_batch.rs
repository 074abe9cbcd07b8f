//! Pushes built in code for the store's and the dispatcher's unit tests.

use crate::domain::{CallUpdate, Direction, Outcome, SourceKind, Vendor};
use crate::storage::{
    Append, BodyReader, BodyResult, IngestBatch, IngestOutcome, NewReceipt, ReceiptHead,
    ReceiptStatus, ReprojectFilter, Store, StoreError,
};
use jiff::Timestamp;
use std::sync::Arc;

/// A push (receipt `id`, received 2025-06-15) of one answered Alibaba call
/// per `(vendor call id, talk seconds)`; `replay` re-runs receipt `id`.
pub fn test_batch(id: &str, calls: &[(&str, i64)], replay: bool) -> IngestBatch {
    let updates = calls
        .iter()
        .map(|(c, talk)| {
            let mut u = CallUpdate::new(Vendor::Aliyun, (*c).to_owned(), Direction::Outbound);
            u.set.outcome = Some(Outcome::Answered);
            u.set.talk_seconds = Some(*talk);
            u
        })
        .collect();
    IngestBatch {
        receipt: NewReceipt {
            id: id.to_owned(),
            source: "ali".into(),
            kind: SourceKind::AliyunCallReport,
            received_at: Timestamp::from_second(1_750_000_000).expect("a valid time"),
            remote_addr: "127.0.0.1:1".into(),
            body: format!("body of {id}").into(),
        },
        replay,
        result: BodyResult::Parsed {
            record_count: calls.len(),
            updates,
            errors: vec![],
            warnings: vec![],
        },
        deadline: None,
    }
}

/// The readings of test receipts, by receipt id: bodies built in code are
/// not vendor JSON, so the test reader looks up what they mean.
static READINGS: std::sync::LazyLock<
    std::sync::Mutex<std::collections::HashMap<String, BodyResult>>,
> = std::sync::LazyLock::new(Default::default);

/// The [`BodyReader`] of test receipts ([`READINGS`]); an unknown one reads
/// as rejected.
pub struct TestReader;

impl BodyReader for TestReader {
    fn read(&self, _source: &str, _kind: SourceKind, body: &[u8]) -> BodyResult {
        let id = String::from_utf8_lossy(body)
            .trim_start_matches("body of ")
            .to_owned();
        let readings = READINGS.lock().unwrap_or_else(|p| p.into_inner());
        readings.get(&id).cloned().unwrap_or_else(|| {
            BodyResult::Rejected(crate::adapters::RecordIssue {
                index: None,
                path: "$".into(),
                message: format!("no test reading for `{id}`"),
            })
        })
    }
}

/// The shared [`TestReader`].
pub static TEST_READER: std::sync::LazyLock<Arc<dyn BodyReader>> =
    std::sync::LazyLock::new(|| Arc::new(TestReader));

/// [`Store::ingest`]: appends the receipt (body `body of {id}`) and
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
            .reproject(&filter, 0, 10, TEST_READER.clone(), at, false)
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
        let report = store.project(TEST_READER.clone(), 10_000).await?;
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
