//! Retention benchmark: how fast a purge deletes, and how long each batch
//! holds the store (on SQLite, the single writer every push waits for).
//!
//! Loads `CALLS` (default 100,000) old calls into a new store, 10 per
//! receipt, each with an event to one subscriber, marked delivered (so a
//! purge takes calls, receipts and events), then purges everything in
//! batches of `BATCH` (default `callhook::retention::BATCH`) while a
//! pusher sends one-record pushes of new calls. Prints rows/s, the batch
//! durations (p50, p99, max) and the pushes' latency during the purge.
//!
//! Usage: `cargo run --release --example purge_bench` (SQLite under
//! `target/`), or with `POSTGRES=postgres://user@host/db` to run on a new
//! database on that server (dropped afterwards).

use callhook::domain::{CallUpdate, Direction, EventType, Money, Outcome, SourceKind, Vendor};
use callhook::storage::postgres::PgStore;
use callhook::storage::sqlite::SqliteStore;
use callhook::storage::*;
use jiff::Timestamp;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const PER_RECEIPT: usize = 10;

fn env(key: &str, default: usize) -> usize {
    std::env::var(key)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Call `i`: six a minute from 2025-01-01.
fn update(i: usize, prefix: &str, start: Timestamp) -> CallUpdate {
    let mut u = CallUpdate::new(
        Vendor::Aliyun,
        format!("{prefix}-{i:07}"),
        Direction::Outbound,
    );
    let s = &mut u.set;
    s.outcome = Some([Outcome::Answered, Outcome::NoAnswer, Outcome::Busy][i % 3]);
    s.task_id = Some(format!("{}", 1000 + i % 50));
    s.customer_number = Some(format!("1390{i:07}"));
    s.originated_at = Some(start);
    s.talk_seconds = Some((i % 300) as i64);
    s.cost = Some(Money::new(rust_decimal::Decimal::new(400, 4), "USD"));
    u
}

fn batch(id: String, received_at: Timestamp, updates: Vec<CallUpdate>) -> IngestBatch {
    IngestBatch {
        receipt: NewReceipt {
            id,
            source: "ali".into(),
            kind: SourceKind::AliyunCallReport,
            received_at,
            remote_addr: "bench".into(),
            body: "[{\"callId\":\"bench\"}]".into(),
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

/// Ingests `calls` old calls, runs `analyze` (PostgreSQL's planner needs
/// statistics of the tables it just filled, as autovacuum would have
/// gathered), and marks every delivery delivered.
async fn load(store: &dyn Store, calls: usize, analyze: Option<&str>) {
    let base = 1_735_689_600_i64;
    for (n, first) in (0..calls).step_by(PER_RECEIPT).enumerate() {
        let t = Timestamp::from_second(base + first as i64 * 10).expect("a valid time");
        let updates = (first..(first + PER_RECEIPT).min(calls))
            .map(|i| update(i, "old", t))
            .collect();
        let b = batch(format!("old-{n:08}"), t, updates);
        // On PostgreSQL a push to a past day can lose a deadlock with the
        // rollup compaction (answered 503): retry as a vendor would.
        let mut tries = 0;
        while let Err(e) = callhook::storage::synthetic::ingest(store, b.clone()).await {
            tries += 1;
            assert!(tries < 5, "load: {e}");
        }
    }
    if let Some(url) = analyze {
        admin(url, "VACUUM ANALYZE").await;
    }
    let far = Timestamp::from_second(4_000_000_000).expect("a valid time");
    loop {
        let claimed = store
            .claim_deliveries("crm", far, 1000, Duration::from_secs(60))
            .await
            .expect("claim");
        if claimed.is_empty() {
            break;
        }
        let records = claimed
            .into_iter()
            .map(|m| AttemptRecord {
                delivery_id: m.delivery_id,
                at: far,
                response_status: Some(200),
                error: None,
                next: NextStep::Delivered,
            })
            .collect();
        store.record_attempts(records).await.expect("record");
    }
    if let Some(url) = analyze {
        admin(url, "VACUUM ANALYZE").await;
    }
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

async fn bench(store: Arc<dyn Store>, calls: usize, limit: usize, analyze: Option<&str>) {
    let started = Instant::now();
    load(&*store, calls, analyze).await;
    println!(
        "loaded {calls} calls, {} receipts, {calls} delivered events in {:.1} s",
        calls.div_ceil(PER_RECEIPT),
        started.elapsed().as_secs_f64()
    );
    let done = Arc::new(AtomicBool::new(false));
    let pusher = tokio::spawn({
        let (store, done) = (store.clone(), done.clone());
        async move {
            let mut latencies = Vec::new();
            let mut i = 0;
            while !done.load(Ordering::Relaxed) {
                let now = Timestamp::now();
                let b = batch(format!("new-{i:08}"), now, vec![update(i, "new", now)]);
                let t = Instant::now();
                callhook::storage::synthetic::ingest(&*store, b)
                    .await
                    .expect("push during the purge");
                latencies.push(t.elapsed());
                i += 1;
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            latencies
        }
    });
    // 2025-06-01: after every loaded call, before the pusher's.
    let cutoff = Timestamp::from_second(1_748_736_000).expect("a valid time");
    let mut total = PurgeCounts::default();
    let mut batches = Vec::new();
    let started = Instant::now();
    loop {
        let t = Instant::now();
        let PurgeBatch::Deleted(b) = store.purge(cutoff, limit).await.expect("purge") else {
            panic!("another instance is purging");
        };
        batches.push(t.elapsed());
        total.add(b);
        if !b.is_full(limit) {
            break;
        }
    }
    let took = started.elapsed().as_secs_f64();
    done.store(true, Ordering::Relaxed);
    let mut pushes = pusher.await.expect("pusher");
    batches.sort();
    pushes.sort();
    println!(
        "purged {} calls, {} receipts, {} events in {took:.2} s: {:.0} rows/s, {:.0} calls/s",
        total.calls,
        total.receipts,
        total.events,
        total.total() as f64 / took,
        total.calls as f64 / took
    );
    println!(
        "{} batches of up to {limit} per kind: p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        batches.len(),
        percentile(&batches, 0.5),
        percentile(&batches, 0.99),
        percentile(&batches, 1.0)
    );
    println!(
        "{} one-record pushes meanwhile: p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        pushes.len(),
        percentile(&pushes, 0.5),
        percentile(&pushes, 0.99),
        percentile(&pushes, 1.0)
    );
    let left = store.count_purgeable(cutoff).await.expect("count").total();
    assert_eq!(left, 0, "everything old is gone");
}

async fn admin(server: &str, sql: &str) {
    let (client, conn) = tokio_postgres::connect(server, tokio_postgres::NoTls)
        .await
        .expect("POSTGRES reachable");
    tokio::spawn(conn);
    client.batch_execute(sql).await.expect("admin statement");
}

#[tokio::main]
async fn main() {
    let calls = env("CALLS", 100_000);
    let limit = env("BATCH", callhook::retention::BATCH);
    let targets = vec![Target {
        name: "crm".into(),
        events: EventType::ALL.to_vec(),
        vendors: vec![],
    }];
    match std::env::var("POSTGRES") {
        Ok(server) => {
            let name = format!("callhook_purge_bench_{}", std::process::id());
            admin(&server, &format!("CREATE DATABASE {name}")).await;
            let mut url = url::Url::parse(&server).expect("POSTGRES is a URL");
            url.set_path(&name);
            let store = PgStore::open(url.as_str(), &Default::default(), targets)
                .await
                .expect("open");
            println!("PostgreSQL, {calls} calls");
            bench(Arc::new(store), calls, limit, Some(url.as_str())).await;
            admin(&server, &format!("DROP DATABASE {name} WITH (FORCE)")).await;
        }
        Err(_) => {
            let dir = tempfile::tempdir_in("target").expect("a directory under target/");
            let store = SqliteStore::open_with_targets(&dir.path().join("bench.db"), targets)
                .expect("open");
            println!("SQLite, {calls} calls");
            bench(Arc::new(store), calls, limit, None).await;
        }
    }
}
