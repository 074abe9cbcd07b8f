//! Store contract tests of retention and deletes, on SQLite, and on
//! PostgreSQL with `CALLHOOK_TEST_BACKEND=postgres` (as `worker/tests.rs`).

use crate::domain::CallUpdate;
use crate::domain::{call_id_for, Direction, Money, Outcome, SourceKind, Vendor};
use crate::storage::postgres::testdb::on_postgres;
use crate::storage::rollup::{Dim, RollupFilter};
use crate::storage::test_rig::{rig_with, target, Rig};
use crate::storage::*;
use jiff::{SignedDuration, Timestamp};
use rust_decimal::Decimal;

/// A store with one outbound target, `crm`, so pushes make events.
async fn rig() -> Rig {
    rig_with(vec![target("crm")]).await
}

/// The cutoff of these tests: 2025-06-15T00:00:00Z.
fn cutoff() -> Timestamp {
    "2025-06-15T00:00:00Z".parse().unwrap()
}

/// The cutoff moved by `secs` seconds.
fn at(secs: i64) -> Timestamp {
    cutoff() + SignedDuration::from_secs(secs)
}

const DAY: i64 = 86_400;

/// A push (receipt `id`, received at `received`) of one answered Alibaba
/// call per `(vendor call id, started at, talk seconds)`, costing 0.25 USD
/// each, in task `T` + the talk seconds' last digit.
fn push(id: &str, received: Timestamp, calls: &[(&str, Timestamp, i64)]) -> IngestBatch {
    let updates: Vec<CallUpdate> = calls
        .iter()
        .map(|(c, started, talk)| {
            let mut u = CallUpdate::new(Vendor::Aliyun, (*c).to_owned(), Direction::Outbound);
            u.set.outcome = Some(Outcome::Answered);
            u.set.originated_at = Some(*started);
            u.set.talk_seconds = Some(*talk);
            u.set.task_id = Some(format!("T{}", talk % 10));
            u.set.cost = Some(Money::new(Decimal::new(25, 2), "USD"));
            u
        })
        .collect();
    IngestBatch {
        receipt: NewReceipt {
            id: id.to_owned(),
            source: "ali".into(),
            kind: SourceKind::AliyunCallReport,
            received_at: received,
            remote_addr: "127.0.0.1:1".into(),
            body: format!("body of {id}").into(),
        },
        replay: false,
        result: BodyResult::Parsed {
            record_count: updates.len(),
            updates,
            errors: vec![],
            warnings: vec![],
        },
        deadline: None,
    }
}

fn id(c: &str) -> String {
    call_id_for(Vendor::Aliyun, c)
}

fn everything() -> PageRequest {
    PageRequest {
        limit: 1000,
        cursor: None,
    }
}

async fn deliveries(store: &dyn Store) -> Vec<Delivery> {
    store
        .list_deliveries(&DeliveryFilter::default(), &everything())
        .await
        .unwrap()
        .items
}

/// Marks every pending delivery delivered, except those of `keep_pending`.
async fn deliver_all_but(store: &dyn Store, keep_pending: &[&str]) {
    let far = Timestamp::from_second(4_000_000_000).unwrap();
    let claimed = store
        .claim_deliveries("crm", far, 1000, std::time::Duration::from_secs(30))
        .await
        .unwrap();
    let keep: Vec<String> = keep_pending.iter().map(|c| id(c)).collect();
    let records = claimed
        .into_iter()
        .filter(|m| !keep.contains(&m.call_id))
        .map(|m| AttemptRecord {
            delivery_id: m.delivery_id,
            at: far,
            response_status: Some(200),
            error: None,
            next: NextStep::Delivered,
        })
        .collect();
    store.record_attempts(records).await.unwrap();
}

/// Asserts the rollup-backed stats equal a scan of the calls left, for
/// every grouping.
async fn assert_rollups_match_a_scan(store: &dyn Store) {
    for g in [
        GroupBy::Vendor,
        GroupBy::Source,
        GroupBy::Outcome,
        GroupBy::Day,
        GroupBy::TaskId,
        GroupBy::Hour,
    ] {
        let f = CallFilter::default();
        let utc = jiff::tz::TimeZone::UTC;
        let rolled = store.stats(g, &f, &utc).await.unwrap();
        let scanned = store.scan_stats(g, &f, &utc).await.unwrap();
        let exact = |rows: &[StatsRow]| -> Vec<_> {
            rows.iter()
                .map(|r| {
                    (
                        r.key.clone(),
                        r.calls,
                        r.answered,
                        r.talk_seconds,
                        r.cost.clone(),
                    )
                })
                .collect()
        };
        assert_eq!(exact(&rolled), exact(&scanned), "group_by {}", g.as_str());
        for (a, b) in rolled.iter().zip(&scanned) {
            let close = |x: Option<f64>, y: Option<f64>| match (x, y) {
                (Some(x), Some(y)) => (x - y).abs() < 1e-9,
                (x, y) => x == y,
            };
            assert!(
                close(Some(a.answer_rate), Some(b.answer_rate)),
                "{a:?} {b:?}"
            );
            assert!(close(a.avg_talk_seconds, b.avg_talk_seconds), "{a:?} {b:?}");
            assert!(close(a.avg_qa_score, b.avg_qa_score), "{a:?} {b:?}");
        }
    }
    let all = crate::storage::rollup::RollupFilter::default();
    let off = crate::storage::rollup::check::mismatches(store, &all)
        .await
        .unwrap();
    assert!(off.is_empty(), "{off:#?}");
}

/// Whether the call `call` is there.
async fn present(store: &dyn Store, call: &str) -> bool {
    store.get_call(&id(call)).await.unwrap().is_some()
}

#[tokio::test]
async fn a_purge_deletes_exactly_what_is_older_than_the_cutoff() {
    let rig = rig().await;
    let s = &*rig.store;
    s.ingest(push("r-old", at(-1), &[("old", at(-1), 31)]))
        .await
        .unwrap();
    s.ingest(push("r-at", at(0), &[("at", at(0), 42)]))
        .await
        .unwrap();
    // A call that started long ago, pushed after the cutoff: the call goes
    // (with its finished event), the receipt stays.
    s.ingest(push(
        "r-new",
        at(1),
        &[("new", at(1), 53), ("ancient", at(-10 * DAY), 64)],
    ))
    .await
    .unwrap();
    // An old call whose event is still pending: the call goes, the event
    // (and its delivery) stays until it is delivered or dead.
    s.ingest(push("r-stuck", at(-2), &[("stuck", at(-5 * DAY), 75)]))
        .await
        .unwrap();
    deliver_all_but(s, &["stuck"]).await;

    let due = s.count_purgeable(cutoff()).await.unwrap();
    let want = PurgeCounts {
        calls: 3,
        receipts: 2,
        events: 2,
    };
    assert_eq!(due, want, "the dry run counts what the purge deletes");
    assert_eq!(
        s.purge(cutoff(), 100).await.unwrap(),
        PurgeBatch::Deleted(want)
    );
    assert_eq!(
        s.purge(cutoff(), 100).await.unwrap(),
        PurgeBatch::Deleted(PurgeCounts::default()),
        "nothing is left to purge"
    );
    assert_eq!(s.count_purgeable(cutoff()).await.unwrap().total(), 0);

    for (call, kept) in [
        ("old", false),
        ("at", true),
        ("new", true),
        ("ancient", false),
        ("stuck", false),
    ] {
        assert_eq!(present(s, call).await, kept, "call {call}");
    }
    assert_eq!(s.receipt_ids(None).await.unwrap(), ["r-at", "r-new"]);
    let new = s.get_call(&id("new")).await.unwrap().unwrap();
    let linked: Vec<&str> = new.receipts.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(linked, ["r-new"]);
    let mut left: Vec<(String, &str)> = deliveries(s)
        .await
        .into_iter()
        .map(|d| (d.call_id, d.status.as_str()))
        .collect();
    left.sort();
    let mut want_left = vec![
        (id("at"), "delivered"),
        (id("new"), "delivered"),
        (id("stuck"), "pending"),
    ];
    want_left.sort();
    assert_eq!(left, want_left);

    assert_rollups_match_a_scan(s).await;
    let days = s
        .rollup(&[Dim::Day], &RollupFilter::default())
        .await
        .unwrap();
    let mut days: Vec<&str> = days.iter().map(|r| r.key[0].as_str()).collect();
    days.sort();
    assert_eq!(days, ["2025-06-15"], "the purged days have no calls left");
    if !on_postgres() {
        // SQLite keeps one row per key: the purged keys' rows are gone, not zero.
        let c = rusqlite::Connection::open(rig.dir.path().join("t.db")).unwrap();
        let rows: i64 = c
            .query_row(
                "SELECT (SELECT count(*) FROM rollup_days WHERE day < '2025-06-15')
                    + (SELECT count(*) FROM rollup_day_totals WHERE day < '2025-06-15')
                    + (SELECT count(*) FROM rollup_hours WHERE hour < '2025-06-15')
                    + (SELECT count(*) FROM rollup_task_days WHERE day < '2025-06-15')
                    + (SELECT count(*) FROM rollup_task_hours WHERE hour < '2025-06-15')
                    + (SELECT count(*) FROM rollup_task_intents WHERE day < '2025-06-15')",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(rows, 0);
    }
}

#[tokio::test]
async fn more_rows_than_a_batch_are_all_purged_over_several_batches() {
    let rig = rig().await;
    let s = &*rig.store;
    for i in 0..25 {
        let name = format!("c{i}");
        let t = at(-3600 - i);
        s.ingest(push(&format!("r{i:02}"), t, &[(&name, t, 20 + i)]))
            .await
            .unwrap();
    }
    // A call after the cutoff, with its receipt and event: untouched.
    s.ingest(push("r-keep", at(5), &[("keep", at(5), 60)]))
        .await
        .unwrap();
    deliver_all_but(s, &[]).await;
    let mut batches = Vec::new();
    loop {
        let PurgeBatch::Deleted(b) = s.purge(cutoff(), 10).await.unwrap() else {
            panic!("busy with one instance");
        };
        batches.push((b.calls, b.receipts, b.events));
        if !b.is_full(10) {
            break;
        }
    }
    assert_eq!(batches, [(10, 10, 10), (10, 10, 10), (5, 5, 5)]);
    let calls = s
        .list_calls(&CallFilter::default(), &everything())
        .await
        .unwrap();
    let ids: Vec<&str> = calls
        .items
        .iter()
        .map(|c| c.vendor_call_id.as_str())
        .collect();
    assert_eq!(ids, ["keep"]);
    assert_eq!(s.receipt_ids(None).await.unwrap(), ["r-keep"]);
    assert_eq!(deliveries(s).await.len(), 1);
    assert_rollups_match_a_scan(s).await;
}

#[path = "purge_more_tests.rs"]
mod more;
