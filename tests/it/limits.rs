//! Every `[limits]` key answered with its documented status (README,
//! Limits): records per push 413 (kept), JSON depth 400 (kept), body read
//! timeout 408, header read timeout (connection closed), concurrency and
//! in-flight body bytes 503 + `Retry-After`, acknowledgement budget 503 +
//! `Retry-After`. The body size limit (413) is tested in `ingest.rs`.

use crate::load::{report, SlowPush};
use crate::support::{body, spawn_app, spawn_app_on, spawn_app_with, TestApp};
use reqwest::StatusCode;
use serde_json::Value;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn batch(prefix: &str, n: usize) -> Vec<u8> {
    body(&Value::Array(
        (0..n).map(|i| report(&format!("{prefix}-{i}"))).collect(),
    ))
}

fn addr(app: &TestApp) -> String {
    app.base.trim_start_matches("http://").to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn more_records_than_the_default_limit_is_413_and_kept_for_replay() {
    let app = spawn_app().await;
    let big = batch("many", 10_001);
    let (status, answer) = app.push("aliyun-call-report", big.clone()).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{answer}");
    assert_eq!(answer["code"], 413);
    let msg = answer["msg"].as_str().unwrap();
    assert!(
        msg.contains("10001 records") && msg.contains("10000"),
        "{msg}"
    );
    assert!(app.calls("").await.is_empty(), "nothing stored as a call");
    let receipt = app.receipt_of(&big).await;
    assert_eq!(receipt["status"], "rejected");

    app.push_ok("aliyun-call-report", batch("limit", 10_000))
        .await;
    let stats = app.get_json("/api/v1/stats?group_by=vendor").await;
    assert_eq!(stats["rows"][0]["calls"], 10_000, "{stats}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_configured_record_limit_applies_to_wrapped_bodies_too() {
    let app = spawn_app_with("[limits]\nmax_records_per_push = 3\n").await;
    app.push_ok("aliyun-call-report", batch("three", 3)).await;
    let (status, answer) = app.push("aliyun-call-report", batch("four", 4)).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{answer}");
    // LAAFFIC keeps its records in `array`.
    let records: Vec<Value> = (0..4)
        .map(|i| serde_json::json!({"voiceId": format!("lf-{i}"), "callDescription": 1}))
        .collect();
    let wrapped = body(&serde_json::json!({"array": records}));
    let (status, answer) = app.push("laaffic-voice-report", wrapped.clone()).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{answer}");
    assert_eq!(app.receipt_of(&wrapped).await["status"], "rejected");
    assert_eq!(app.calls("").await.len(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bare_record_with_a_transcript_longer_than_the_record_limit_is_one_record() {
    // ITNIO documents an array, and a bare record is accepted too: its
    // 12,000 transcript lines are one call's, not 12,000 records.
    let lines: Vec<Value> = (0..12_000)
        .map(|i| serde_json::json!({"text": format!("line {i}"), "type": if i % 2 == 0 { "ROBOT" } else { "PERSON" }}))
        .collect();
    let bare = body(&serde_json::json!({
        "callId": "long-talk-1", "resultStatus": "ANSWERED", "startTime": 1748754000,
        "callDetailList": lines,
    }));
    let app = spawn_app().await;
    app.push_ok("itnio-call-record", bare).await;
    let calls = app.calls("").await;
    assert_eq!(calls.len(), 1);
    let id = calls[0]["id"].as_str().unwrap();
    let call = app.get_json(&format!("/api/v1/calls/{id}")).await;
    let turns = call["turns"].as_array();
    assert_eq!(
        turns.map(Vec::len),
        Some(12_000),
        "{}",
        &call.to_string()[..300]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_nested_past_the_depth_limit_is_400_and_kept() {
    let app = spawn_app().await;
    // A record whose one field nests 70 arrays deep.
    let deep = format!(
        r#"[{{"callId": "deep-1", "extra": {}1{}}}]"#,
        "[".repeat(70),
        "]".repeat(70)
    );
    let (status, answer) = app.push("aliyun-call-report", deep.clone()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    let msg = answer["msg"].as_str().unwrap();
    assert!(msg.contains("deeper than 64 levels"), "{msg}");
    assert_eq!(app.receipt_of(deep.as_bytes()).await["status"], "rejected");
    assert!(app.calls("").await.is_empty());

    // 60 deep is within the limit: stored, the odd field kept verbatim.
    let ok = format!(
        r#"[{{"callId": "deep-2", "extra": {}1{}}}]"#,
        "[".repeat(60),
        "]".repeat(60)
    );
    app.push_ok("aliyun-call-report", ok).await;
    assert_eq!(app.call_ids("").await, ["deep-2"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_not_sent_in_time_is_408() {
    let app = spawn_app_with("[limits]\nbody_read_timeout = \"300ms\"\n").await;
    let full = batch("slow", 1);
    let started = Instant::now();
    let slow = SlowPush::begin(&addr(&app), "/hooks/aliyun-call-report", &full, 10).await;
    let (status, text) = slow.answer().await;
    assert_eq!(status, 408, "{text}");
    assert!(text.contains("\"code\":408"), "{text}");
    assert!(started.elapsed() < Duration::from_secs(10));
    assert!(app.calls("").await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn headers_not_sent_in_time_close_the_connection() {
    let app = spawn_app_with("[limits]\nheader_read_timeout = \"300ms\"\n").await;
    let mut conn = tokio::net::TcpStream::connect(addr(&app)).await.unwrap();
    conn.write_all(b"POST /hooks/aliyun-call-report HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let started = Instant::now();
    let mut raw = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(10), conn.read_to_end(&mut raw)).await;
    assert!(read.is_ok(), "the server kept a half-sent request open");
    assert!(started.elapsed() >= Duration::from_millis(250));
    // The service is still there for well-behaved clients.
    app.push_ok("aliyun-call-report", batch("after", 1)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_over_the_concurrency_limit_get_503_with_retry_after() {
    let app = spawn_app_with("[limits]\nmax_concurrent_requests = 2\n").await;
    let full = batch("held", 1);
    let path = "/hooks/aliyun-call-report";
    let a = SlowPush::begin(&addr(&app), path, &full, 5).await;
    let b = SlowPush::begin(&addr(&app), path, &full, 5).await;
    let (status, answer, retry_after) = wait_for_503(&app).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{answer}");
    assert_eq!(answer["code"], 503);
    assert_eq!(retry_after.as_deref(), Some("1"));
    // Health checks are not counted.
    let health = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), StatusCode::OK);
    // The held pushes complete, and capacity returns.
    assert_eq!(a.finish().await.0, 200);
    assert_eq!(b.finish().await.0, 200);
    app.push_ok("aliyun-call-report", batch("later", 1)).await;
}

/// Pushes until one is refused with 503 (the held requests may take a moment
/// to reach the handler); status, answer and `Retry-After`.
async fn wait_for_503(app: &TestApp) -> (StatusCode, Value, Option<String>) {
    for i in 0..100 {
        let resp = app
            .client
            .post(app.url("/hooks/aliyun-call-report"))
            .body(batch(&format!("probe{i}"), 1))
            .send()
            .await
            .unwrap();
        let status = resp.status();
        let retry_after = resp
            .headers()
            .get("retry-after")
            .map(|v| v.to_str().unwrap().to_owned());
        let answer: Value = resp.json().await.unwrap();
        if status != StatusCode::OK {
            return (status, answer, retry_after);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("never refused while the limit was held");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bodies_over_the_in_flight_byte_budget_get_503() {
    let app =
        spawn_app_with("[limits]\nmax_body_bytes = 300000\nmax_inflight_body_bytes = 400000\n")
            .await;
    // One held push declares 250 kB: the budget has 150 kB left.
    let mut big = batch("big", 1);
    big.resize(250_000, b' ');
    let held = SlowPush::begin(&addr(&app), "/hooks/aliyun-call-report", &big, 100).await;
    let mut second = batch("second", 1);
    second.resize(200_000, b' ');
    let mut refused = None;
    for _ in 0..100 {
        // The refusal is answered before the body is read, so the server
        // may close the connection while a loaded machine is still
        // sending it: that attempt has no answer to read; try again.
        let sent = app
            .client
            .post(app.url("/hooks/aliyun-call-report"))
            .header("content-type", "application/json")
            .body(second.clone())
            .send()
            .await;
        if let Ok(resp) = sent {
            let status = resp.status();
            if status != StatusCode::OK {
                refused = Some((status, resp.json::<serde_json::Value>().await.unwrap()));
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let (status, answer) = refused.expect("a push over the byte budget was refused");
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{answer}");
    assert!(answer["msg"].as_str().unwrap().contains("overloaded"));
    // Small pushes still fit beside the held one.
    app.push_ok("aliyun-call-report", batch("small", 1)).await;
    assert_eq!(held.finish().await.0, 200);
    app.push_ok("aliyun-call-report", second).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_that_cannot_commit_within_the_budget_gets_503_then_recovers() {
    // SQLite's write lock is the fault held here: SQLite on either backend run.
    let dir = tempfile::TempDir::new().unwrap();
    let path = dir.path().join("callhook.db");
    let app = spawn_app_on(dir, path, "[limits]\nack_budget = \"200ms\"\n").await;
    app.push_ok("aliyun-call-report", batch("before", 1)).await;
    // Another process holds SQLite's write lock (a backup, a sqlite3 shell).
    let locker = rusqlite_lock(&app);
    let started = Instant::now();
    let resp = app
        .client
        .post(app.url("/hooks/aliyun-call-report"))
        .body(batch("during", 1))
        .send()
        .await
        .unwrap();
    let elapsed = started.elapsed();
    assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(resp.headers()["retry-after"], "1");
    let answer: Value = resp.json().await.unwrap();
    assert!(
        answer["msg"].as_str().unwrap().contains("200 ms"),
        "{answer}"
    );
    assert!(
        elapsed < Duration::from_millis(2_000),
        "answered after {elapsed:?}, not at the budget"
    );
    drop(locker);
    app.push_ok("aliyun-call-report", batch("after", 1)).await;
    assert_eq!(app.call_ids("").await.len(), 2, "`during` was not kept");
}

/// A connection holding SQLite's exclusive lock on the app's database, as
/// another process would (SQLite's locks work between connections of one
/// process too); released when dropped.
fn rusqlite_lock(app: &TestApp) -> rusqlite::Connection {
    let conn = rusqlite::Connection::open(&app.db_path).unwrap();
    conn.execute_batch("BEGIN EXCLUSIVE").unwrap();
    conn
}
