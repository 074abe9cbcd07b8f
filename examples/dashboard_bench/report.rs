//! `MODE=campaign`'s run: load, then time every overview request, stats
//! grouping (UTC and `tz=Asia/Shanghai`), the campaign pages, a task page's
//! rollup reads and a `since` inside a day; print rollup rows and bytes per
//! level, and the rows expected at `ESTIMATE` calls (default 10,000,000).
//! `STEPS` (e.g. `500000,1000000,2000000`) loads and times at each size in
//! turn: the growth curve. `ROLLUPS=off` only loads, with every rollup
//! write skipped, and prints the projection rate: the cost of the upkeep.
//! `LOADED=N` with `DATABASE` of an earlier run holding N calls times it
//! again (after a migration, say) without loading.

use super::campaign::{self, first_day, DAYS};
use super::{env, time};
use callhook::app::App;
use callhook::config::{Config, Overrides};
use std::time::Duration;

pub async fn run(calls: usize, runs: usize) -> anyhow::Result<()> {
    let dir = tempfile::Builder::new()
        .prefix("bench-campaign")
        .tempdir_in("target")?;
    let database = std::env::var("DATABASE")
        .unwrap_or_else(|_| format!("sqlite://{}", dir.path().join("callhook.db").display()));
    let steps: Vec<usize> = match std::env::var("STEPS") {
        Ok(s) => s
            .split(',')
            .map(|n| n.trim().parse())
            .collect::<Result<_, _>>()?,
        Err(_) => vec![calls],
    };
    let store = campaign::open(&database).await?;
    let upkeep = std::env::var("ROLLUPS").as_deref() != Ok("off");
    if !upkeep {
        campaign::skip_rollup_writes(&database).await?;
    }
    // `LOADED`: calls the database at `DATABASE` already holds (from an
    // earlier run of the same generator): time it again without loading.
    let mut loaded = env("LOADED", 0);
    for step in steps {
        let rate = campaign::load(&*store, loaded, step).await?;
        println!(
            "loaded {loaded}..{step} calls ({} tasks, {DAYS} days, 5 vendors) into {database}: projection {rate:.0} calls/s{}\n",
            campaign::TASKS,
            if upkeep { "" } else { " (rollup writes skipped)" }
        );
        loaded = step;
        if upkeep {
            time_all(&database, step, runs).await?;
        }
    }
    drop(store);
    let estimate = env("ESTIMATE", 10_000_000);
    if estimate > 0 && upkeep {
        let rows = campaign::estimate_rows(estimate);
        let all: usize = rows.iter().map(|r| r.1).sum();
        println!("\nexpected rows at {estimate} calls (same generator, no database):");
        for (table, n) in rows {
            println!(
                "- {table}: {n} ({:.2} %)",
                n as f64 * 100.0 / estimate as f64
            );
        }
        println!(
            "- all levels: {all} ({:.2} %)",
            all as f64 * 100.0 / estimate as f64
        );
    }
    Ok(())
}

/// Times every request against a server over `database` holding `calls`
/// calls, and prints the levels' sizes.
async fn time_all(database: &str, calls: usize, runs: usize) -> anyhow::Result<()> {
    if database.starts_with("postgres") {
        // What each instance's compactor does a minute later: past days'
        // shard rows folded into one per key.
        let pg = callhook::storage::postgres::PgStore::open(database, &Default::default(), vec![])
            .await?;
        let folded = pg.compact_rollups("2025-07-01").await?;
        eprintln!("compacted: {folded} keys folded");
    }
    let settle = env("SETTLE", 0);
    if settle > 0 {
        eprintln!("waiting {settle} s (PostgreSQL folds past days' rollup shards every 60 s)");
        tokio::time::sleep(Duration::from_secs(settle as u64)).await;
    }
    let overrides = Overrides {
        listen: Some("127.0.0.1:0".parse()?),
        database: Some(database.to_owned()),
    };
    let app = App::start(Config::load(None, &overrides)?).await?;
    let base = format!("http://{}", app.addr);
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(300))
        .build()?;
    let first = first_day().to_zoned(jiff::tz::TimeZone::UTC).date();
    let last = first + jiff::Span::new().days(DAYS - 1);
    let tasks = campaign::tasks();
    let task = campaign::sample_task(&tasks);
    let mid = first + jiff::Span::new().days(task.start + task.days / 2);
    let mut http: Vec<(String, String, usize)> = vec![
        (
            "healthz (HTTP floor)".into(),
            format!("{base}/healthz"),
            runs,
        ),
        ("overview, default 30 days".into(), format!("{base}/"), runs),
        (
            "overview, 365 days".into(),
            format!("{base}/?from={first}&to={last}"),
            runs,
        ),
    ];
    for g in ["vendor", "source", "outcome", "day", "task_id", "hour"] {
        http.push((
            format!("stats group_by={g}"),
            format!("{base}/api/v1/stats?group_by={g}"),
            runs,
        ));
    }
    for g in ["day", "hour"] {
        http.push((
            format!("stats group_by={g}&tz=Asia/Shanghai"),
            format!("{base}/api/v1/stats?group_by={g}&tz=Asia/Shanghai"),
            runs,
        ));
    }
    http.push((
        "stats group_by=vendor, since inside a day".into(),
        format!("{base}/api/v1/stats?group_by=vendor&since={mid}T13:27:00Z"),
        runs,
    ));
    http.push((
        "stats group_by=day, since and until inside days".into(),
        format!("{base}/api/v1/stats?group_by=day&since={mid}T05:27:00Z&until={last}T03:10:00Z"),
        runs,
    ));
    for g in ["day", "hour"] {
        http.push((
            format!("task page: stats task_id={}&group_by={g}", task.id),
            format!(
                "{base}/api/v1/stats?task_id={}&group_by={g}&tz=Asia/Shanghai",
                task.id
            ),
            runs,
        ));
    }
    http.push(("campaigns list".into(), format!("{base}/tasks"), runs));
    http.push((
        format!("campaign page /tasks/{}", task.id),
        format!("{base}/tasks/{}", task.id),
        runs,
    ));
    http.push((
        "stats group_by=day&tz=Asia/Kolkata (scan)".into(),
        format!("{base}/api/v1/stats?group_by=day&tz=Asia/Kolkata"),
        3,
    ));
    println!("| request | p50 ms | p99 ms | status |\n|---|---:|---:|---:|");
    for (name, url, n) in http {
        let (p50, p99, status) = time(&client, &url, n).await;
        println!("| {name} | {p50:.1} | {p99:.1} | {status} |");
    }
    let store = app.state.store.clone();
    for (name, dims, filter) in campaign::store_queries(task) {
        let (p50, p99) = campaign::time_store(runs, || {
            let (store, dims, filter) = (store.clone(), dims.clone(), filter.clone());
            async move {
                store.rollup(&dims, &filter).await.expect("rollup");
            }
        })
        .await;
        println!(
            "| store.rollup {name} ({}) | {p50:.1} | {p99:.1} | - |",
            task.id
        );
    }
    println!("\n| level | rows | rows / calls | bytes |\n|---|---:|---:|---:|");
    let mut total = 0;
    for (table, rows, bytes) in campaign::level_sizes(database).await? {
        total += rows;
        let bytes = bytes.map_or("n/a".into(), |b| format!("{:.1} MiB", b as f64 / 1048576.0));
        println!(
            "| {table} | {rows} | {:.2} % | {bytes} |",
            rows as f64 * 100.0 / calls as f64
        );
    }
    println!(
        "| all levels | {total} | {:.2} % | |",
        total as f64 * 100.0 / calls as f64
    );
    app.shutdown().await?;
    Ok(())
}
