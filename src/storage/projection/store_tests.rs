//! The projection contract on a real store (SQLite, or PostgreSQL with
//! `CALLHOOK_TEST_BACKEND=postgres`): the same receipts projected in
//! batches of 1, 7 and 500 records give identical calls, rollups and
//! events (ids, types, times, payloads).

use crate::domain::{CallUpdate, Direction, Outcome, SourceKind, Vendor};
use crate::storage::rollup::{Dim, RollupFilter};
use crate::storage::synthetic::{register, READER};
use crate::storage::test_rig::{rig_with, target, Rig};
use crate::storage::*;
use jiff::Timestamp;

async fn rig() -> Rig {
    rig_with(vec![target("crm")]).await
}

/// 40 receipts over 9 calls, each call set several times with other talk
/// times (the order of application shows), 1 to 3 records each.
fn readings() -> Vec<(String, Timestamp, BodyResult)> {
    (1..=40i64)
        .map(|seq| {
            let updates: Vec<CallUpdate> = (0..(seq % 3 + 1))
                .map(|k| {
                    let mut u = CallUpdate::new(
                        Vendor::Aliyun,
                        format!("c{}", (seq * (k + 2)) % 9),
                        Direction::Outbound,
                    );
                    u.set.outcome = Some(if seq % 4 == 0 {
                        Outcome::NoAnswer
                    } else {
                        Outcome::Answered
                    });
                    u.set.talk_seconds = Some(seq * 10 + k);
                    u
                })
                .collect();
            let at = Timestamp::from_second(1_750_000_000 + seq * 3_600).unwrap();
            let result = BodyResult::Parsed {
                record_count: updates.len(),
                updates,
                errors: vec![],
                warnings: vec![],
            };
            (format!("batch-r{seq:03}"), at, result)
        })
        .collect()
}

/// Appends every reading, then projects `batch` records at a time; the
/// calls, rollups and events it ends with.
async fn project_in(batch: usize) -> (Vec<String>, Vec<String>, Vec<String>) {
    let rig = rig().await;
    let s = &rig.store;
    for (id, at, result) in readings() {
        let body = register(&format!("{id} in {batch}"), result.clone());
        s.append(Append {
            receipt: NewReceipt {
                id,
                source: "ali".into(),
                kind: SourceKind::AliyunCallReport,
                received_at: at,
                remote_addr: "127.0.0.1:1".into(),
                body: body.into(),
            },
            head: ReceiptHead::of(&result),
            deadline: None,
        })
        .await
        .unwrap();
    }
    loop {
        let r = s.project(READER.clone(), batch).await.unwrap();
        if r.receipts.is_empty() {
            break;
        }
        assert!(
            r.receipts.len() == 1 || r.records <= batch,
            "batch of {batch}"
        );
    }
    let page = PageRequest {
        limit: 100,
        cursor: None,
    };
    let mut calls: Vec<String> = s
        .list_calls(&CallFilter::default(), &page)
        .await
        .unwrap()
        .items
        .iter()
        .map(|c| serde_json::to_string(c).unwrap())
        .collect();
    calls.sort();
    let dims = [Dim::Day, Dim::TaskId, Dim::Vendor, Dim::Currency];
    let mut rollups: Vec<String> = s
        .rollup(&dims, &RollupFilter::default())
        .await
        .unwrap()
        .iter()
        .map(|r| format!("{:?} {:?}", r.key, r.sums))
        .collect();
    rollups.sort();
    let page = PageRequest {
        limit: 1000,
        cursor: None,
    };
    let mut events = Vec::new();
    for d in s
        .list_deliveries(&DeliveryFilter::default(), &page)
        .await
        .unwrap()
        .items
    {
        let detail = s.get_delivery(&d.id).await.unwrap().unwrap();
        events.push(format!("{} {}", d.call_id, detail.event));
    }
    events.sort();
    (calls, rollups, events)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batch_sizes_give_identical_calls_rollups_and_events() {
    let one = project_in(1).await;
    assert_eq!(one.0.len(), 9, "nine calls");
    assert!(
        one.2.len() > 9,
        "events for creations and updates: {}",
        one.2.len()
    );
    for batch in [7, 500] {
        let other = project_in(batch).await;
        assert_eq!(one.0, other.0, "calls differ at batch {batch}");
        assert_eq!(one.1, other.1, "rollups differ at batch {batch}");
        assert_eq!(one.2, other.2, "events differ at batch {batch}");
    }
}
