//! Outbound delivery benchmark: how fast callhook relays events to
//! a webhook subscriber on this machine, against a bare client posting the
//! same bodies to the same receiver in the same run.
//!
//! 1. **bare**: a reqwest client with `CONCURRENCY` requests in flight posts
//!    `EVENTS` event-sized bodies straight to the receiver: the ceiling of
//!    any relay on this machine.
//! 2. **drain**: `EVENTS` new calls are pushed (50 per push) while the
//!    subscriber is disabled, then it is enabled: events/s until the
//!    receiver has every one (signing, claiming, recording included).
//! 3. **end to end**: one-record pushes paced at `RATE`/s for `SECONDS`;
//!    latency from sending the push to the receiver getting its event.
//!
//! Usage: `cargo run --release --example delivery_bench` (env `EVENTS`
//! 20000, `CONCURRENCY` 16, `RATE` 200, `SECONDS` 10). The database is a
//! file under `target/` (on disk: commits are fsynced).

use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::post;
use axum::Router;
use callhook::app::App;
use callhook::config::{Config, Overrides};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

/// Arrival time of each event by the call's vendor id.
#[derive(Default)]
struct Seen(Mutex<HashMap<String, Instant>>);

async fn receive(State(seen): State<Arc<Seen>>, _h: HeaderMap, body: Bytes) -> &'static str {
    let now = Instant::now();
    let v: Value = serde_json::from_slice(&body).unwrap_or_default();
    let key = v["data"]["vendor_call_id"]
        .as_str()
        .unwrap_or("bare")
        .to_owned();
    seen.0.lock().unwrap().entry(key).or_insert(now);
    "ok"
}

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn record(template: &Value, id: &str) -> Value {
    let mut r = template.clone();
    r["callId"] = Value::String(id.to_owned());
    r
}

fn pct(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

#[tokio::main(flavor = "multi_thread")]
async fn main() -> anyhow::Result<()> {
    let events = env("EVENTS", 20_000);
    let concurrency = env("CONCURRENCY", 16);
    let rate = env("RATE", 200);
    let seconds = env("SECONDS", 10);

    let seen = Arc::new(Seen::default());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let hook = format!("http://{}/hook", listener.local_addr()?);
    let app = Router::new()
        .route("/hook", post(receive))
        .with_state(seen.clone());
    tokio::spawn(async move { axum::serve(listener, app).await });

    let template: Value = serde_json::from_str::<Value>(include_str!(
        "../tests/fixtures/aliyun-call-report/sample.json"
    ))?[0]
        .clone();

    // 1. bare: the same body size straight to the receiver.
    let client = reqwest::Client::new();
    let body = format!(
        r#"{{"id":"evt_x","type":"call.created","timestamp":"2026-01-01T00:00:00Z","data":{}}}"#,
        serde_json::to_string(&template)?
    );
    let started = Instant::now();
    let per = events / concurrency;
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (client, hook, body) = (client.clone(), hook.clone(), body.clone());
        tasks.push(tokio::spawn(async move {
            for _ in 0..per {
                client
                    .post(&hook)
                    .body(body.clone())
                    .send()
                    .await?
                    .error_for_status()?;
            }
            Ok::<_, reqwest::Error>(())
        }));
    }
    for t in tasks {
        t.await??;
    }
    let bare = (per * concurrency) as f64 / started.elapsed().as_secs_f64();
    seen.0.lock().unwrap().clear();

    // callhook with one subscriber at the receiver.
    let dir = tempfile::Builder::new()
        .prefix("bench-delivery")
        .tempdir_in("target")?;
    let file = dir.path().join("callhook.toml");
    std::fs::write(
        &file,
        format!(
            "allow_private_subscribers = true\n[[subscribers]]\nname = \"bench\"\nurl = \"{hook}\"\nsecret = \"{SECRET}\"\nmax_in_flight = {concurrency}\n"
        ),
    )?;
    let overrides = Overrides {
        listen: Some("127.0.0.1:0".parse()?),
        database: Some(format!(
            "sqlite://{}",
            dir.path().join("callhook.db").display()
        )),
    };
    let callhook = App::start(Config::load(Some(&file), &overrides)?).await?;
    let base = format!("http://{}", callhook.addr);
    let push = format!("{base}/hooks/aliyun-call-report");

    // 2. drain: a backlog of `events`, then enable.
    client
        .post(format!("{base}/api/v1/subscribers/bench/disable"))
        .send()
        .await?
        .error_for_status()?;
    for start in (0..events).step_by(50) {
        let records: Vec<Value> = (start..(start + 50).min(events))
            .map(|i| record(&template, &format!("drain-{i}")))
            .collect();
        client
            .post(&push)
            .json(&records)
            .send()
            .await?
            .error_for_status()?;
    }
    let started = Instant::now();
    client
        .post(format!("{base}/api/v1/subscribers/bench/enable"))
        .send()
        .await?
        .error_for_status()?;
    while seen.0.lock().unwrap().len() < events {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let drain = events as f64 / started.elapsed().as_secs_f64();

    // 3. end to end, paced.
    let total = rate * seconds;
    let mut sent: HashMap<String, Instant> = HashMap::with_capacity(total);
    let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / rate as f64));
    let mut pushes = Vec::new();
    for i in 0..total {
        tick.tick().await;
        let id = format!("e2e-{i}");
        sent.insert(id.clone(), Instant::now());
        let (client, push, r) = (client.clone(), push.clone(), vec![record(&template, &id)]);
        pushes.push(tokio::spawn(async move {
            client.post(&push).json(&r).send().await
        }));
    }
    for p in pushes {
        p.await??.error_for_status()?;
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    while seen.0.lock().unwrap().len() < events + total && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let got = seen.0.lock().unwrap().clone();
    let mut lat: Vec<Duration> = sent
        .iter()
        .filter_map(|(id, t0)| got.get(id).map(|t1| t1.duration_since(*t0)))
        .collect();
    lat.sort();
    let rss = std::fs::read_to_string("/proc/self/status")?
        .lines()
        .find(|l| l.starts_with("VmHWM"))
        .map(|l| {
            l.split_whitespace()
                .nth(1)
                .unwrap_or("0")
                .parse::<f64>()
                .unwrap_or(0.0)
                / 1024.0
        })
        .unwrap_or(0.0);

    println!("| measure | value |");
    println!("|---|---:|");
    println!("| bare client → receiver ({concurrency} in flight) | {bare:.0} req/s |");
    println!("| callhook drain of {events} events ({concurrency} in flight) | {drain:.0} events/s ({:.2} of bare) |", drain / bare);
    println!(
        "| end to end, {rate} pushes/s for {seconds} s: delivered | {} of {total} |",
        lat.len()
    );
    if !lat.is_empty() {
        println!(
            "| end to end p50 / p99 / max | {:.1} / {:.1} / {:.1} ms |",
            pct(&lat, 0.5),
            pct(&lat, 0.99),
            pct(&lat, 1.0)
        );
    }
    println!("| peak RSS of the whole process (receiver + callhook + client) | {rss:.0} MiB |");
    callhook.shutdown().await?;
    anyhow::ensure!(
        lat.len() == total,
        "{} events never arrived",
        total - lat.len()
    );
    Ok(())
}
