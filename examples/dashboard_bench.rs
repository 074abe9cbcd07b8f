//! Dashboard and stats benchmark: loads `CALLS` calls through the
//! real push path, then times the overview page and `GET /api/v1/stats`
//! (answered from rollups) against `/healthz` on the same server (the HTTP
//! floor) and against the same stats forced to scan every call.
//!
//! Usage: `cargo run --release --example dashboard_bench` (env `CALLS`
//! 1000000, `DAYS` 90, `RUNS` 20, `DATABASE` a `postgres://` URL of an
//! empty database, by default an SQLite file under `target/`; `SETTLE`
//! seconds to wait before timing, e.g. 65 on PostgreSQL so that its
//! compactor has folded the past days' rollup shards once).
//!
//! The calls: three in four Alibaba call reports (tasks T0–T19, outcomes
//! from the vendor's codes, talk times up to 15 minutes), one in four
//! LAAFFIC reports (cost in USD or EUR), and an Alibaba QA inspection for
//! every tenth Alibaba call, spread over `DAYS` days.
//!
//! `MODE=campaign` instead loads a year of realistic campaigns (1,000 task
//! ids living days to weeks, 5 vendors, every outcome; `CALLS` of them,
//! default 1,000,000) straight through the store's projector and times
//! every overview request, each `group_by` (with and without
//! `tz=Asia/Shanghai`), a task page's queries and a `since` inside a day,
//! p50 and p99, then prints the rollup rows and bytes of each level and
//! the rows expected at `ESTIMATE` calls (default 10,000,000). With
//! `STEPS=500000,1000000,2000000` it loads and times at each size in turn
//! (one database, the growth curve); `ROLLUPS=off` only loads, with every
//! rollup write skipped, to compare the projection rate without upkeep.

#[path = "dashboard_bench/campaign.rs"]
mod campaign;
#[path = "dashboard_bench/report.rs"]
mod report;

use callhook::app::App;
use callhook::config::{Config, Overrides};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

const PER_PUSH: usize = 200;
const IN_FLIGHT: usize = 8;
const STATUSES: [&str; 6] = [
    "ANSWERED",
    "ANSWERED",
    "NO_ANSWER",
    "USER_BUSY",
    "POWERED_OFF",
    "NETWORK_BUSY",
];

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The bodies of push `n`: (source, body).
fn pushes(n: usize, days: usize) -> Vec<(&'static str, Vec<u8>)> {
    let mut rng = StdRng::seed_from_u64(n as u64);
    let first = n * PER_PUSH;
    let mut out = Vec::new();
    let day = |rng: &mut StdRng| rng.random_range(0..days as i64);
    let base_ms = 1_748_736_000_000_i64 - (days as i64 - 30) * 86_400_000; // ends 2025-06-30
    if n % 4 == 3 {
        let records: Vec<Value> = (first..first + PER_PUSH)
            .map(|i| {
                let at = base_ms + day(&mut rng) * 86_400_000 + rng.random_range(0..86_400_000);
                let desc = [1, 1, 6, 8][rng.random_range(0..4)];
                json!({"voiceId": format!("L{i}"), "taskId": 500 + i % 7, "callee": format!("65{i:09}"),
                       "callTime": at, "hangupTime": at + 60_000, "callDescription": desc,
                       "callDuration": if desc == 1 { rng.random_range(1..900) } else { 0 },
                       "cost": format!("0.{:03}", rng.random_range(1..999)),
                       "currency": if i % 3 == 0 { "EUR" } else { "USD" }})
            })
            .collect();
        out.push((
            "laaffic-voice-report",
            serde_json::to_vec(&json!({"array": records})).unwrap(),
        ));
        return out;
    }
    let mut notes = Vec::new();
    let records: Vec<Value> = (first..first + PER_PUSH)
        .map(|i| {
            let status = STATUSES[rng.random_range(0..STATUSES.len())];
            let d = jiff::civil::date(2025, 6, 30) - jiff::Span::new().days(days as i64 - 1 - day(&mut rng));
            let t = format!("{d} {:02}:{:02}:00", rng.random_range(0..24), rng.random_range(0..60));
            if i % 10 == 0 {
                let item = json!({"item": "Greeting", "score": rng.random_range(0..=10), "full_score": 10});
                notes.push(json!({"call_id": format!("A{i}"), "biz_id": format!("n{i}"), "success": true,
                    "type": "Call Quality Inspection", "report_time": t, "result": json!([item]).to_string()}));
            }
            json!({"callId": format!("A{i}"), "taskId": format!("T{}", i % 20), "outId": format!("crm-{i}"),
                   "callee": format!("139{i:08}"), "smartStatusCode": status, "originateTime": t,
                   "duration": if status == "ANSWERED" { rng.random_range(1..900) } else { 0 }})
        })
        .collect();
    out.push(("aliyun-call-report", serde_json::to_vec(&records).unwrap()));
    if !notes.is_empty() {
        out.push(("aliyun-call-notes", serde_json::to_vec(&notes).unwrap()));
    }
    out
}

/// p50 and p99 (the maximum below 100 runs) of `runs` sequential GETs of
/// `url`, in milliseconds.
async fn time(client: &reqwest::Client, url: &str, runs: usize) -> (f64, f64, u16) {
    let mut ms = Vec::new();
    let mut status = 0;
    for i in 0..=runs {
        let t = Instant::now();
        let resp = client.get(url).send().await.expect("GET");
        status = resp.status().as_u16();
        let _ = resp.bytes().await.expect("body");
        if i > 0 {
            ms.push(t.elapsed().as_secs_f64() * 1000.0);
        }
    }
    ms.sort_by(f64::total_cmp);
    let p99 = ((ms.len() as f64 * 0.99).ceil() as usize).clamp(1, ms.len()) - 1;
    (ms[ms.len() / 2], ms[p99], status)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let (calls, days, runs) = (env("CALLS", 1_000_000), env("DAYS", 90), env("RUNS", 20));
    if std::env::var("MODE").as_deref() == Ok("campaign") {
        return report::run(calls, runs).await;
    }
    let dir = tempfile::Builder::new()
        .prefix("bench-dashboard")
        .tempdir_in("target")?;
    let database = std::env::var("DATABASE")
        .unwrap_or_else(|_| format!("sqlite://{}", dir.path().join("callhook.db").display()));
    let overrides = Overrides {
        listen: Some("127.0.0.1:0".parse()?),
        database: Some(database.clone()),
    };
    let app = App::start(Config::load(None, &overrides)?).await?;
    let base = format!("http://{}", app.addr);
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(120))
        .build()?;

    let started = Instant::now();
    let total = calls.div_ceil(PER_PUSH);
    let mut next = 0;
    let mut running = tokio::task::JoinSet::new();
    while next < total || !running.is_empty() {
        while next < total && running.len() < IN_FLIGHT {
            let (client, base, n) = (client.clone(), base.clone(), next);
            running.spawn(async move {
                for (source, body) in pushes(n, days) {
                    // A 503 (busy past the acknowledgement budget) is retried,
                    // as every vendor does.
                    for attempt in 0.. {
                        let r = client
                            .post(format!("{base}/hooks/{source}"))
                            .body(body.clone())
                            .send()
                            .await
                            .expect("push");
                        if r.status().is_success() {
                            break;
                        }
                        assert!(
                            r.status() == 503 && attempt < 50,
                            "push {n}: {}",
                            r.status()
                        );
                        tokio::time::sleep(Duration::from_millis(200)).await;
                    }
                }
            });
            next += 1;
            if next % (100_000 / PER_PUSH) == 0 {
                eprintln!(
                    "loaded {} calls in {:.0} s",
                    next * PER_PUSH,
                    started.elapsed().as_secs_f64()
                );
            }
        }
        if let Some(done) = running.join_next().await {
            done?;
        }
    }
    let load_s = started.elapsed().as_secs_f64();
    println!(
        "loaded {} calls over {days} days into {database} in {load_s:.0} s ({:.0} calls/s)\n",
        total * PER_PUSH,
        (total * PER_PUSH) as f64 / load_s
    );

    let settle = env("SETTLE", 0);
    if settle > 0 {
        eprintln!("waiting {settle} s (PostgreSQL folds past days' rollup shards every 60 s)");
        tokio::time::sleep(Duration::from_secs(settle as u64)).await;
    }
    let first =
        (jiff::civil::date(2025, 6, 30) - jiff::Span::new().days(days as i64 - 1)).to_string();
    let mut table = vec![("healthz (HTTP floor)", format!("{base}/healthz"), runs)];
    table.push(("overview, default 30 days", format!("{base}/"), runs));
    table.push((
        "overview, all days",
        format!("{base}/?from={first}&to=2025-06-30"),
        runs,
    ));
    for g in ["day", "vendor", "outcome", "task_id", "source"] {
        let name: &'static str = Box::leak(format!("stats group_by={g}").into_boxed_str());
        table.push((name, format!("{base}/api/v1/stats?group_by={g}"), runs));
    }
    table.push((
        "stats group_by=vendor, scan (since not midnight)",
        format!("{base}/api/v1/stats?group_by=vendor&since={first}T00:00:01Z"),
        3,
    ));
    table.push(("calls page (first 50)", format!("{base}/calls"), runs));
    println!("| request | p50 ms | p99 ms | status |\n|---|---:|---:|---:|");
    for (name, url, n) in table {
        let (p50, max, status) = time(&client, &url, n).await;
        println!("| {name} | {p50:.1} | {max:.1} | {status} |");
    }
    app.shutdown().await?;
    Ok(())
}
