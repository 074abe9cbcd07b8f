//! `MODE=campaign`: a year of realistic campaigns. 1,000 task ids, each
//! running 2 to 35 days (one vendor, one in five two) somewhere in the 365
//! days ending 2025-06-30, 5 vendors with their own currency, every
//! outcome, intents on answered calls, a QA score on one answered call in
//! ten, one call in a hundred known only from an analysis (awaiting its
//! report). Loaded through the store's projector (synthetic receipts of
//! 2,000 calls), then timed through HTTP and `Store::rollup`.

use callhook::domain::{
    Analysis, AnalysisKind, CallUpdate, Direction, Intent, Money, Outcome, SourceKind, Vendor,
};
use callhook::storage::rollup::{Dim, RollupFilter, LEVELS};
use callhook::storage::{synthetic, BodyResult, IngestBatch, NewReceipt, Store};
use jiff::{SignedDuration, Timestamp};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rust_decimal::Decimal;
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Instant;

pub const DAYS: i64 = 365;
pub const TASKS: usize = 1000;
const PER_RECEIPT: usize = 2000;
const VENDORS: [(Vendor, &str, &str); 5] = [
    (Vendor::Aliyun, "aliyun-call-report", "CNY"),
    (Vendor::Itnio, "itnio-call-record", "USD"),
    (Vendor::Longlonglong, "longlonglong-call", "CNY"),
    (Vendor::Laaffic, "laaffic-voice-report", "USD"),
    (Vendor::Vapi, "vapi", "USD"),
];
/// Outcomes and their weights (all of them).
const OUTCOMES: [(Outcome, u32); 14] = [
    (Outcome::Answered, 35),
    (Outcome::NoAnswer, 22),
    (Outcome::Busy, 9),
    (Outcome::Rejected, 5),
    (Outcome::PoweredOff, 5),
    (Outcome::Voicemail, 5),
    (Outcome::Suspended, 2),
    (Outcome::Unreachable, 4),
    (Outcome::InvalidNumber, 3),
    (Outcome::Blocked, 2),
    (Outcome::Abandoned, 2),
    (Outcome::Canceled, 2),
    (Outcome::Failed, 2),
    (Outcome::Other, 2),
];
const INTENTS: [&str; 6] = ["A", "B", "C", "D", "E", "F"];

/// The first day, 2025-06-30 minus 364 days, at midnight UTC.
pub fn first_day() -> Timestamp {
    "2024-07-01T00:00:00Z".parse().unwrap()
}

/// One campaign: its id, first day (from [`first_day`]), length in days,
/// and vendors (indexes into [`VENDORS`]).
pub struct Task {
    pub id: String,
    pub start: i64,
    pub days: i64,
    pub vendors: Vec<usize>,
}

/// The campaigns (the same every run).
pub fn tasks() -> Vec<Task> {
    let mut rng = StdRng::seed_from_u64(7);
    (0..TASKS)
        .map(|i| {
            let days = match rng.random_range(0..10) {
                0..=3 => rng.random_range(2..7),
                4..=7 => rng.random_range(7..15),
                _ => rng.random_range(15..36),
            };
            let v = rng.random_range(0..VENDORS.len());
            let mut vendors = vec![v];
            if rng.random_range(0..5) == 0 {
                vendors.push((v + 1 + rng.random_range(0..VENDORS.len() - 1)) % VENDORS.len());
            }
            Task {
                id: format!("T{i:04}"),
                start: rng.random_range(0..DAYS - days + 1),
                days,
                vendors,
            }
        })
        .collect()
}

/// One generated call: what its update says, and its level keys' parts.
pub struct Gen {
    pub update: CallUpdate,
    pub vendor: usize,
    pub at: Option<Timestamp>,
}

/// Call `i` of receipt `r` (vendor `r % 5`), deterministic.
fn call(rng: &mut StdRng, tasks: &[&Task], v: usize, n: usize) -> Gen {
    let (vendor, _, currency) = VENDORS[v];
    let mut u = CallUpdate::new(
        vendor,
        format!("{}-{n}", vendor.as_str()),
        if v == 4 && rng.random_range(0..10) < 3 {
            Direction::Inbound
        } else {
            Direction::Outbound
        },
    );
    if rng.random_range(0..100) == 0 {
        // Known only from its analysis: awaiting the report.
        u.analyses.push(qa(rng, None));
        return Gen {
            update: u,
            vendor: v,
            at: None,
        };
    }
    let task = tasks[rng.random_range(0..tasks.len())];
    let day = task.start + rng.random_range(0..task.days);
    // Business hours 08:00–21:00 in China: 00–13 UTC.
    let secs = day * 86_400 + rng.random_range(0..13 * 3600);
    let at = first_day() + SignedDuration::from_secs(secs);
    let mut w = rng.random_range(0..OUTCOMES.iter().map(|o| o.1).sum::<u32>());
    let outcome = OUTCOMES
        .iter()
        .find(|(_, weight)| {
            if w < *weight {
                true
            } else {
                w -= weight;
                false
            }
        })
        .map(|o| o.0)
        .unwrap_or(Outcome::Other);
    u.set.outcome = Some(outcome);
    u.set.originated_at = Some(at);
    u.set.task_id = Some(task.id.clone());
    u.set.out_id = Some(format!("crm-{n}"));
    u.set.customer_number = Some(format!("139{n:08}"));
    let currency = if v == 3 && n % 3 == 0 {
        "EUR"
    } else {
        currency
    };
    if outcome == Outcome::Answered {
        let talk = rng.random_range(1..900);
        u.set.talk_seconds = Some(talk);
        u.set.cost = Some(Money::new(Decimal::new(talk * 3, 4), currency));
        if rng.random_range(0..5) > 0 {
            u.set.intent = Some(Intent {
                code: None,
                label: Some(INTENTS[rng.random_range(0..INTENTS.len())].into()),
            });
        }
        if rng.random_range(0..10) == 0 {
            u.analyses.push(qa(rng, Some(at)));
        }
    } else {
        u.set.talk_seconds = Some(0);
        u.set.cost = Some(Money::new(Decimal::ZERO, currency));
    }
    Gen {
        update: u,
        vendor: v,
        at: Some(at),
    }
}

fn qa(rng: &mut StdRng, at: Option<Timestamp>) -> Analysis {
    Analysis {
        kind: AnalysisKind::QualityInspection,
        success: true,
        error_code: None,
        reported_at: at,
        score: Some(f64::from(rng.random_range(0..=10))),
        full_score: Some(10.0),
        items: None,
        tags: None,
        vendor_fields: Default::default(),
    }
}

/// Receipt `r`'s calls (vendor `r % 5`; `PER_RECEIPT` of them).
pub fn receipt_calls(tasks: &[Task], r: usize) -> Vec<Gen> {
    let v = r % VENDORS.len();
    let mine: Vec<&Task> = tasks.iter().filter(|t| t.vendors.contains(&v)).collect();
    let mut rng = StdRng::seed_from_u64(1000 + r as u64);
    (0..PER_RECEIPT)
        .map(|i| call(&mut rng, &mine, v, r * PER_RECEIPT + i))
        .collect()
}

/// Loads the calls from the `from`th to the `to`th into `store` (whole
/// receipts of `PER_RECEIPT`); returns calls per second.
pub async fn load(store: &dyn Store, from: usize, to: usize) -> anyhow::Result<f64> {
    let tasks = tasks();
    let receipts = from / PER_RECEIPT..to.div_ceil(PER_RECEIPT);
    let loaded = receipts.len() * PER_RECEIPT;
    let started = Instant::now();
    for r in receipts {
        let gens = receipt_calls(&tasks, r);
        let received = gens
            .iter()
            .filter_map(|g| g.at)
            .max()
            .unwrap_or(first_day());
        let updates: Vec<CallUpdate> = gens.into_iter().map(|g| g.update).collect();
        let batch = IngestBatch {
            receipt: NewReceipt {
                id: format!("{:026}", r),
                source: VENDORS[r % VENDORS.len()].1.into(),
                kind: SourceKind::AliyunCallReport,
                received_at: received,
                remote_addr: "bench".into(),
                body: bytes::Bytes::new(),
            },
            replay: false,
            result: BodyResult::Parsed {
                record_count: updates.len(),
                updates,
                errors: vec![],
                warnings: vec![],
            },
            deadline: None,
        };
        synthetic::ingest(store, batch).await?;
        if (r + 1) % 100 == 0 {
            eprintln!(
                "loaded {} calls in {:.0} s",
                (r + 1) * PER_RECEIPT,
                started.elapsed().as_secs_f64()
            );
        }
    }
    Ok(loaded as f64 / started.elapsed().as_secs_f64())
}

/// Distinct keys per level for `calls` generated calls (no database):
/// the rollup size at that scale.
pub fn estimate_rows(calls: usize) -> Vec<(&'static str, usize)> {
    let tasks = tasks();
    let mut sets: Vec<HashSet<Vec<String>>> = vec![HashSet::new(); LEVELS.len()];
    for r in 0..calls.div_ceil(PER_RECEIPT) {
        for g in receipt_calls(&tasks, r) {
            let source = VENDORS[g.vendor].1.to_owned();
            let c = callhook::domain::Call::from_update(
                &g.update,
                &source,
                g.at.unwrap_or(first_day()),
            );
            let key = callhook::storage::rollup::RollupKey::of(&c, &jiff::tz::TimeZone::UTC);
            for (set, level) in sets.iter_mut().zip(&LEVELS) {
                set.insert(level.key_of(&key));
            }
        }
    }
    LEVELS
        .iter()
        .map(|l| l.table)
        .zip(sets.iter().map(|s| s.len()))
        .collect()
}

/// p50 and p99 in ms of `runs` runs of `f` (after one warm-up run).
pub async fn time_store<F, Fut>(runs: usize, mut f: F) -> (f64, f64)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let mut ms = Vec::new();
    for i in 0..=runs {
        let t = Instant::now();
        f().await;
        if i > 0 {
            ms.push(t.elapsed().as_secs_f64() * 1000.0);
        }
    }
    ms.sort_by(f64::total_cmp);
    let p99 = ((ms.len() as f64 * 0.99).ceil() as usize).clamp(1, ms.len()) - 1;
    (ms[ms.len() / 2], ms[p99])
}

/// The task page's questions for task `t` over its days, and the overview's
/// per-vendor comparison: (name, dims, filter).
pub fn store_queries(t: &Task) -> Vec<(String, Vec<Dim>, RollupFilter)> {
    let day = |d: i64| first_day() + SignedDuration::from_hours(24 * d);
    let task = RollupFilter {
        task_id: Some(t.id.clone()),
        since: Some(day(t.start)),
        until: Some(day(t.start + t.days)),
        ..Default::default()
    };
    let vendor = RollupFilter {
        vendor: Some(VENDORS[t.vendors[0]].0.as_str().to_owned()),
        ..task.clone()
    };
    let last30 = RollupFilter {
        since: Some(day(DAYS - 30)),
        until: Some(day(DAYS)),
        ..Default::default()
    };
    use Dim::*;
    vec![
        (
            "task: by day, vendor, outcome, currency".into(),
            vec![Day, Vendor, Outcome, Currency],
            task.clone(),
        ),
        (
            "task: by hour, vendor, currency".into(),
            vec![Hour, Vendor, Currency],
            task.clone(),
        ),
        (
            "task: intents by day".into(),
            vec![Day, Intent],
            task.clone(),
        ),
        (
            "task + vendor: by day, outcome, currency".into(),
            vec![Day, Outcome, Currency],
            vendor.clone(),
        ),
        (
            "task + vendor: by hour".into(),
            vec![Hour, Currency],
            vendor,
        ),
        (
            "overview: vendors compared, 30 days".into(),
            vec![Vendor, Outcome, Currency],
            last30,
        ),
    ]
}

/// Rows and bytes of each level (bytes `None` where the database cannot say).
pub async fn level_sizes(database: &str) -> anyhow::Result<Vec<(String, i64, Option<i64>)>> {
    let mut out = Vec::new();
    if database.starts_with("postgres") {
        let (client, conn) = tokio_postgres::connect(database, tokio_postgres::NoTls).await?;
        tokio::spawn(conn);
        for l in &LEVELS {
            let sql = format!(
                "SELECT count(*), pg_total_relation_size('{t}') FROM {t}",
                t = l.table
            );
            let r = client.query_one(&sql, &[]).await?;
            out.push((l.table.to_owned(), r.get(0), Some(r.get(1))));
        }
    } else {
        let path = database.trim_start_matches("sqlite://");
        let c = rusqlite::Connection::open(path)?;
        for l in &LEVELS {
            let n: i64 = c.query_row(&format!("SELECT count(*) FROM {}", l.table), [], |r| {
                r.get(0)
            })?;
            let bytes: Option<i64> = c
                .query_row(
                    "SELECT SUM(pgsize) FROM dbstat WHERE name = ?1",
                    [l.table],
                    |r| r.get(0),
                )
                .ok();
            out.push((l.table.to_owned(), n, bytes));
        }
    }
    Ok(out)
}

/// The busiest task (most calls expected: longest run).
pub fn sample_task(tasks: &[Task]) -> &Task {
    tasks.iter().max_by_key(|t| t.days).expect("tasks")
}

/// Makes every write to the rollup levels a no-op (a `BEFORE INSERT`
/// trigger that skips the row), so that a load measures projection without
/// rollup upkeep (the deltas are still computed). The rollups are then
/// wrong: for the throughput comparison only.
pub async fn skip_rollup_writes(database: &str) -> anyhow::Result<()> {
    if database.starts_with("postgres") {
        let (client, conn) = tokio_postgres::connect(database, tokio_postgres::NoTls).await?;
        tokio::spawn(conn);
        client
            .batch_execute(
                "CREATE OR REPLACE FUNCTION bench_skip() RETURNS trigger AS \
                 $$ BEGIN RETURN NULL; END $$ LANGUAGE plpgsql",
            )
            .await?;
        for l in &LEVELS {
            let t = l.table;
            client
                .batch_execute(&format!(
                    "CREATE TRIGGER bench_skip BEFORE INSERT ON {t} \
                     FOR EACH ROW EXECUTE FUNCTION bench_skip()"
                ))
                .await?;
        }
    } else {
        let c = rusqlite::Connection::open(database.trim_start_matches("sqlite://"))?;
        for l in &LEVELS {
            let t = l.table;
            c.execute_batch(&format!(
                "CREATE TRIGGER bench_skip_{t} BEFORE INSERT ON {t} \
                 BEGIN SELECT RAISE(IGNORE); END"
            ))?;
        }
    }
    Ok(())
}

/// Opens the store at `database` on its own (no server).
pub async fn open(database: &str) -> anyhow::Result<Arc<dyn Store>> {
    Ok(if database.starts_with("postgres") {
        Arc::new(
            callhook::storage::postgres::PgStore::open(database, &Default::default(), vec![])
                .await?,
        )
    } else {
        let path = database.trim_start_matches("sqlite://");
        Arc::new(callhook::storage::sqlite::SqliteStore::open(
            std::path::Path::new(path),
        )?)
    })
}
