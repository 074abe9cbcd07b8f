//! Property: whatever pushes, re-projections, deletes and retention did,
//! every rollup answer equals a scan of the calls, for random filters,
//! groupings and time zones; on SQLite, and on PostgreSQL with
//! `CALLHOOK_TEST_BACKEND=postgres`.

use super::check::mismatches;
use super::{Dim, RollupFilter, SumSet, Sums};
use crate::domain::{
    Analysis, AnalysisKind, CallUpdate, Direction, Intent, Money, Outcome, SourceKind, Vendor,
};
use crate::storage::postgres::testdb::on_postgres;
use crate::storage::test_rig::rig_with;
use crate::storage::*;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use proptest::prelude::*;
use rust_decimal::Decimal;

/// 2025-06-01T00:00:00Z; calls start within three days of it.
fn base() -> Timestamp {
    "2025-06-01T00:00:00Z".parse().unwrap()
}

fn minute(m: u32) -> Timestamp {
    base() + SignedDuration::from_mins(i64::from(m))
}

const MINUTES: u32 = 3 * 24 * 60;

/// One call's state as a push reports it.
#[derive(Debug, Clone)]
struct Spec {
    call: u8,
    laaffic: bool,
    /// 0 none (only an analysis: awaiting its report), then answered,
    /// no answer, busy.
    outcome: u8,
    minute: u32,
    task: u8,
    cost: Option<(u16, bool)>,
    talk: Option<u16>,
    intent: u8,
    qa: Option<u8>,
}

#[derive(Debug, Clone)]
enum Op {
    Push {
        specs: Vec<Spec>,
        minute: u32,
    },
    /// Re-reads push `n` (modulo the pushes made) as `specs`.
    Replay {
        n: usize,
        specs: Vec<Spec>,
    },
    Delete(u8),
}

fn spec() -> impl Strategy<Value = Spec> {
    (
        (0u8..6, any::<bool>(), 0u8..4, 0..MINUTES, 0u8..3),
        (
            proptest::option::of((0u16..5000, any::<bool>())),
            proptest::option::of(0u16..900),
            0u8..4,
            proptest::option::of(0u8..=100),
        ),
    )
        .prop_map(
            |((call, laaffic, outcome, minute, task), (cost, talk, intent, qa))| Spec {
                call,
                laaffic,
                outcome,
                minute,
                task,
                cost,
                talk,
                intent,
                qa,
            },
        )
}

fn op() -> impl Strategy<Value = Op> {
    let specs = || proptest::collection::vec(spec(), 1..4);
    prop_oneof![
        4 => (specs(), 0..MINUTES).prop_map(|(specs, minute)| Op::Push { specs, minute }),
        1 => (0usize..8, specs()).prop_map(|(n, specs)| Op::Replay { n, specs }),
        1 => (0u8..6).prop_map(Op::Delete),
    ]
}

/// A random filter the rollups accept: some key equalities and bounds at
/// a whole day, a whole hour, or any minute.
fn filter() -> impl Strategy<Value = CallFilter> {
    let bound = proptest::option::of(prop_oneof![
        (0u32..4).prop_map(|d| minute(d * 24 * 60)),
        (0u32..72).prop_map(|h| minute(h * 60)),
        (0..MINUTES).prop_map(minute),
    ]);
    (
        proptest::option::of(any::<bool>()),
        proptest::option::of(0u8..3),
        proptest::option::of(0u8..3),
        bound.clone(),
        bound,
    )
        .prop_map(|(laaffic, outcome, task, since, until)| CallFilter {
            vendor: laaffic.map(vendor),
            outcome: outcome.map(outcome_of).and_then(|o| o),
            task_id: task.and_then(task_of),
            since,
            until,
            ..Default::default()
        })
}

fn vendor(laaffic: bool) -> Vendor {
    if laaffic {
        Vendor::Laaffic
    } else {
        Vendor::Aliyun
    }
}

fn outcome_of(n: u8) -> Option<Outcome> {
    [
        None,
        Some(Outcome::Answered),
        Some(Outcome::NoAnswer),
        Some(Outcome::Busy),
    ][n as usize % 4]
}

fn task_of(n: u8) -> Option<String> {
    [None, Some("T1".to_owned()), Some("T2".to_owned())][n as usize % 3].clone()
}

fn update(s: &Spec) -> CallUpdate {
    let mut u = CallUpdate::new(
        vendor(s.laaffic),
        format!("C{}", s.call),
        Direction::Outbound,
    );
    if let Some(q) = s.qa {
        u.analyses.push(Analysis {
            kind: AnalysisKind::QualityInspection,
            success: true,
            error_code: None,
            reported_at: Some(minute(s.minute)),
            score: Some(f64::from(q)),
            full_score: Some(100.0),
            items: None,
            tags: None,
            vendor_fields: Default::default(),
        });
    }
    let Some(outcome) = outcome_of(s.outcome) else {
        // Only an analysis: the call awaits its report.
        return u;
    };
    u.set.outcome = Some(outcome);
    u.set.originated_at = Some(minute(s.minute));
    u.set.task_id = task_of(s.task);
    u.set.talk_seconds = s.talk.map(i64::from);
    u.set.cost = s.cost.map(|(c, eur)| {
        Money::new(
            Decimal::new(i64::from(c), 3),
            if eur { "EUR" } else { "USD" },
        )
    });
    u.set.intent = match s.intent {
        1 => Some(Intent {
            code: None,
            label: Some("A".into()),
        }),
        2 => Some(Intent {
            code: Some("B".into()),
            label: None,
        }),
        3 => Some(Intent {
            code: Some("x".into()),
            label: Some("C".into()),
        }),
        _ => None,
    };
    u
}

fn batch(id: &str, specs: &[Spec], received: Timestamp, replay: bool) -> IngestBatch {
    let updates: Vec<CallUpdate> = specs.iter().map(update).collect();
    IngestBatch {
        receipt: NewReceipt {
            id: id.to_owned(),
            source: if id.len() % 2 == 0 { "ali" } else { "lf" }.into(),
            kind: SourceKind::AliyunCallReport,
            received_at: received,
            remote_addr: "127.0.0.1:1".into(),
            body: format!("body of {id}").into(),
        },
        replay,
        result: BodyResult::Parsed {
            record_count: updates.len(),
            updates,
            errors: vec![],
            warnings: vec![],
        },
        deadline: None,
    }
}

/// `a` equals `b`, averages within rounding.
fn same_stats(a: &[StatsRow], b: &[StatsRow]) -> bool {
    let close = |x: Option<f64>, y: Option<f64>| match (x, y) {
        (Some(x), Some(y)) => (x - y).abs() < 1e-9,
        (x, y) => x == y,
    };
    a.len() == b.len()
        && a.iter().zip(b).all(|(x, y)| {
            (
                &x.key,
                x.calls,
                x.answered,
                x.awaiting_report,
                x.talk_seconds,
                &x.cost,
            ) == (
                &y.key,
                y.calls,
                y.answered,
                y.awaiting_report,
                y.talk_seconds,
                &y.cost,
            ) && close(Some(x.answer_rate), Some(y.answer_rate))
                && close(x.avg_talk_seconds, y.avg_talk_seconds)
                && close(x.avg_qa_score, y.avg_qa_score)
        })
}

/// Every level and every stats grouping (UTC, Shanghai, Kolkata) under
/// each filter equals a scan; `Err` says where not.
async fn check(store: &dyn Store, filters: &[CallFilter]) -> Result<(), String> {
    let zones = [
        TimeZone::UTC,
        TimeZone::get("Asia/Shanghai").unwrap(),
        TimeZone::get("Asia/Kolkata").unwrap(),
    ];
    let groupings = [
        GroupBy::Vendor,
        GroupBy::Source,
        GroupBy::Outcome,
        GroupBy::Day,
        GroupBy::TaskId,
        GroupBy::Hour,
    ];
    for f in filters.iter().chain([&CallFilter::default()]) {
        let rf = RollupFilter::of(f).expect("rollup filter");
        let off = mismatches(store, &rf).await.map_err(|e| e.to_string())?;
        if !off.is_empty() {
            return Err(format!("{f:?}: {off:#?}"));
        }
        outcome_columns_count_each_outcome(store, f, &rf).await?;
        totals_are_the_first_sums(store, &rf).await?;
        for g in groupings {
            for tz in &zones {
                let got = store.stats(g, f, tz).await.map_err(|e| e.to_string())?;
                let want = store
                    .scan_stats(g, f, tz)
                    .await
                    .map_err(|e| e.to_string())?;
                if !same_stats(&got, &want) {
                    return Err(format!(
                        "{f:?} by {} in {tz:?}:\n{got:#?}\n{want:#?}",
                        g.as_str()
                    ));
                }
            }
        }
    }
    Ok(())
}

/// A read of [`SumSet::Totals`] has the same counts, talk, cost and QA
/// sums as one of every column, and zero talk buckets and outcome counts.
async fn totals_are_the_first_sums(store: &dyn Store, rf: &RollupFilter) -> Result<(), String> {
    let err = |e: StoreError| e.to_string();
    for dims in [
        &[Dim::Vendor, Dim::Currency][..],
        &[Dim::Hour, Dim::Currency],
    ] {
        let all = store.rollup(dims, rf).await.map_err(err)?;
        let totals = super::plan::answer(store, dims, rf, SumSet::Totals)
            .await
            .map_err(err)?;
        let first = |s: &Sums| {
            let (calls, answered, awaiting) = (s.calls, s.answered, s.awaiting_report);
            let talk = (s.talk_seconds, s.answered_talk_seconds);
            (
                calls,
                answered,
                awaiting,
                talk,
                s.cost,
                s.qa_micros,
                s.qa_count,
            )
        };
        let same = all.len() == totals.len()
            && all
                .iter()
                .zip(&totals)
                .all(|(a, t)| a.key == t.key && first(&a.sums) == first(&t.sums));
        if !same {
            return Err(format!(
                "{rf:?} by {dims:?}: all {all:#?} totals {totals:#?}"
            ));
        }
        // Calls scanned (partial hours, or no level keeps the filter) have
        // every sum; a plan read from a level alone sums no bucket or outcome.
        let p = super::plan::plan(dims, rf);
        if p.level.is_some() && p.scans.is_empty() {
            let left: i64 = totals
                .iter()
                .map(|t| {
                    t.sums
                        .talk_buckets
                        .iter()
                        .chain(&t.sums.outcomes)
                        .sum::<i64>()
                })
                .sum();
            if left != 0 {
                return Err(format!(
                    "{rf:?} by {dims:?}: {left} bucket and outcome counts read"
                ));
            }
        }
    }
    Ok(())
}

/// Each campaign's outcome columns (read from a level) hold the calls a
/// scan keyed by outcome finds: the columns are the outcomes they name.
async fn outcome_columns_count_each_outcome(
    store: &dyn Store,
    f: &CallFilter,
    rf: &RollupFilter,
) -> Result<(), String> {
    let err = |e: StoreError| e.to_string();
    let dims = [Dim::TaskId, Dim::Vendor, Dim::Currency];
    let got = store.rollup(&dims, rf).await.map_err(err)?;
    let by_outcome = [Dim::TaskId, Dim::Vendor, Dim::Currency, Dim::Outcome];
    let want = store.scan_rollup(&by_outcome, f).await.map_err(err)?;
    for w in &want {
        let outcome: Outcome = w.key[3].parse()?;
        let row = got.iter().find(|g| g.key[..] == w.key[..3]);
        let n = row.map_or(0, |g| g.sums.of_outcome(outcome));
        if n != w.sums.calls {
            return Err(format!("{f:?}: {:?} has {n}, scan {}", w.key, w.sums.calls));
        }
    }
    let total: i64 = got
        .iter()
        .map(|g| g.sums.outcomes.iter().sum::<i64>())
        .sum();
    let calls: i64 = want.iter().map(|w| w.sums.calls).sum();
    match total == calls {
        true => Ok(()),
        false => Err(format!("{f:?}: outcome columns {total}, calls {calls}")),
    }
}

async fn run(ops: Vec<Op>, filters: Vec<CallFilter>, purge_at: Option<u32>) -> Result<(), String> {
    let rig = rig_with(vec![]).await;
    let s = &*rig.store;
    let mut pushes = Vec::new();
    for (i, op) in ops.into_iter().enumerate() {
        match op {
            Op::Push { specs, minute: m } => {
                let id = format!("R{i:02}{}", "x".repeat(i % 2));
                s.ingest(batch(&id, &specs, minute(m), false))
                    .await
                    .map_err(|e| e.to_string())?;
                pushes.push((id, minute(m)));
            }
            Op::Replay { n, specs } => {
                if pushes.is_empty() {
                    continue;
                }
                let (id, at) = pushes[n % pushes.len()].clone();
                // Deleting a call deletes the receipts that named only it.
                if s.get_receipt(&id)
                    .await
                    .map_err(|e| e.to_string())?
                    .is_none()
                {
                    continue;
                }
                s.ingest(batch(&id, &specs, at, true))
                    .await
                    .map_err(|e| e.to_string())?;
            }
            Op::Delete(c) => {
                for v in [Vendor::Aliyun, Vendor::Laaffic] {
                    let id = crate::domain::call_id_for(v, &format!("C{c}"));
                    s.delete_call(&id).await.map_err(|e| e.to_string())?;
                }
            }
        }
    }
    check(s, &filters).await?;
    if let Some(m) = purge_at {
        loop {
            match s.purge(minute(m), 3).await.map_err(|e| e.to_string())? {
                PurgeBatch::Deleted(n) if n.is_full(3) => continue,
                PurgeBatch::Deleted(_) => break,
                PurgeBatch::Busy => return Err("purge busy on a store of its own".into()),
            }
        }
        check(s, &filters)
            .await
            .map_err(|e| format!("after purge: {e}"))?;
    }
    Ok(())
}

#[test]
fn rollups_equal_a_scan_whatever_happened() {
    let cases = if on_postgres() { 8 } else { 32 };
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    });
    let rt = tokio::runtime::Runtime::new().unwrap();
    let strategy = (
        proptest::collection::vec(op(), 1..12),
        proptest::collection::vec(filter(), 1..4),
        proptest::option::of(0..MINUTES),
    );
    runner
        .run(&strategy, |(ops, filters, purge_at)| {
            rt.block_on(run(ops, filters, purge_at))
                .map_err(TestCaseError::fail)
        })
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_latest_reported_day_skips_calls_awaiting_their_report() {
    let rig = rig_with(vec![]).await;
    let s = &*rig.store;
    assert_eq!(s.latest_reported_day().await.unwrap(), None);
    let reported = Spec {
        call: 1,
        laaffic: false,
        outcome: 1,
        minute: 90, // 2025-06-01T01:30Z
        task: 1,
        cost: None,
        talk: Some(30),
        intent: 0,
        qa: None,
    };
    let awaiting = Spec {
        call: 2,
        outcome: 0,
        qa: Some(80),
        ..reported.clone()
    };
    s.ingest(batch("R1", &[reported], minute(90), false))
        .await
        .unwrap();
    // Heard of on 2025-06-03 only through its analysis.
    s.ingest(batch("R2", &[awaiting], minute(2 * 24 * 60 + 10), false))
        .await
        .unwrap();
    let day = s.latest_reported_day().await.unwrap();
    assert_eq!(day, Some(jiff::civil::date(2025, 6, 1)));
    let utc = TimeZone::UTC;
    let rows = s
        .stats(GroupBy::Day, &CallFilter::default(), &utc)
        .await
        .unwrap();
    let awaiting: Vec<_> = rows
        .iter()
        .map(|r| {
            (
                r.key.clone().unwrap(),
                r.calls,
                r.awaiting_report,
                r.answer_rate,
            )
        })
        .collect();
    assert_eq!(
        awaiting,
        [
            ("2025-06-01".to_owned(), 1, 0, 1.0),
            ("2025-06-03".to_owned(), 1, 1, 0.0)
        ]
    );
}
