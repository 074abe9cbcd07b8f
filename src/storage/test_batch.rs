//! Pushes built in code for the store's and the dispatcher's unit tests.

use crate::domain::{CallUpdate, Direction, Outcome, SourceKind, Vendor};
use crate::storage::{BodyResult, IngestBatch, NewReceipt};
use jiff::Timestamp;

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
