//! `callhook simulate` (alias `push`): the real binary plays a vendor against
//! callhook itself and against scripted receivers, with the vendor's retry
//! schedule compressed by `--time-scale`.

use crate::process::Binary;
use crate::receiver::{Reply, TestReceiver};
use crate::support::{fixture, spawn_app};
use std::path::PathBuf;
use std::process::Output;
use std::time::Duration;
use tempfile::TempDir;

/// Runs the binary with `args` off the async threads (the app and the
/// receivers keep serving).
async fn simulate(args: Vec<String>) -> (Output, String) {
    let dir = TempDir::new().unwrap();
    let out = tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        Binary::run(dir.path(), &args)
    })
    .await
    .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    (out, text)
}

fn sample_file(kind: &str) -> String {
    let p: PathBuf = [
        env!("CARGO_MANIFEST_DIR"),
        "tests/fixtures",
        kind,
        "sample.json",
    ]
    .iter()
    .collect();
    p.display().to_string()
}

/// Asserts exit code 0, showing both outputs otherwise.
fn assert_success(out: &Output, text: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{text}\n{stderr}");
}

fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

/// `callhook simulate --kind KIND --url URL --time-scale SCALE <the kind's sample>`.
async fn play(kind: &str, url: &str, scale: &str) -> (Output, String) {
    let file = sample_file(kind);
    simulate(args(&[
        "simulate",
        "--kind",
        kind,
        "--url",
        url,
        "--time-scale",
        scale,
        &file,
    ]))
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_push_alias_plays_alibaba_against_callhook_itself() {
    let app = spawn_app().await;
    let url = app.url("/hooks/aliyun-call-report");
    let file = sample_file("aliyun-call-report");
    let (out, text) = simulate(args(&[
        "push",
        "--kind",
        "aliyun-call-report",
        "--url",
        &url,
        &file,
    ]))
    .await;
    assert_success(&out, &text);
    assert!(text.contains("body 1/1 attempt 1: HTTP 200 in "), "{text}");
    assert!(text.contains("accepted"), "{text}");
    // Calls are projected behind the acknowledgement.
    app.settle().await;
    let calls = app.calls("vendor=aliyun").await;
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0]["vendor_call_id"], "10000161****^1000018****");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_receiver_failing_twice_is_retried_on_the_scaled_schedule() {
    let ok = Reply::status(200).body(r#"{"code":0,"msg":"ok"}"#);
    let rx = TestReceiver::start(vec![Reply::status(503), Reply::status(503)], ok).await;
    let (out, text) = play("aliyun-call-report", &rx.url, "0.001").await;
    assert_eq!(out.status.code(), Some(0), "{text}");
    let got = rx.got();
    assert_eq!(got.len(), 3, "two failures and a success: {text}");
    let (gap1, gap2) = (got[1].at - got[0].at, got[2].at - got[1].at);
    // Alibaba: 1 minute, then 5 minutes, scaled by 0.001.
    assert!(
        gap1 >= Duration::from_millis(60) && gap1 < Duration::from_millis(1000),
        "{gap1:?}"
    );
    assert!(
        gap2 >= Duration::from_millis(300) && gap2 < Duration::from_millis(2000),
        "{gap2:?}"
    );
    assert!(
        got.iter().all(|r| r.body == got[0].body),
        "the same body every time"
    );
    let lines: Vec<&str> = text.lines().filter(|l| l.contains(" attempt ")).collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert!(
        lines[0].contains("attempt 1: HTTP 503") && lines[0].contains("retry in 60ms"),
        "{text}"
    );
    assert!(
        lines[1].contains("attempt 2: HTTP 503") && lines[1].contains("retry in 300ms"),
        "{text}"
    );
    assert!(
        lines[2].contains("attempt 3: HTTP 200") && lines[2].ends_with("accepted"),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alibaba_gives_up_after_three_retries_and_a_non_numeric_code_is_a_failure() {
    let rx = TestReceiver::start(vec![], Reply::status(200).body(r#"{"code":"ok"}"#)).await;
    let (out, text) = play("aliyun-call-notes", &rx.url, "0.0001").await;
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert_eq!(rx.got().len(), 4, "one attempt and three retries");
    assert!(text.contains("`code` is not a number"), "{text}");
    assert!(
        text.contains("attempt 4: HTTP 200") && text.contains("gave up"),
        "{text}"
    );
    assert!(
        text.contains("0 of 1 bodies accepted, 1 given up"),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn load_mode_generates_unique_calls() {
    let app = spawn_app().await;
    let url = app.url("/hooks/laaffic-voice-report");
    let (out, text) = simulate(args(&[
        "simulate",
        "--kind",
        "laaffic-voice-report",
        "--url",
        &url,
        "--generate",
        "--count",
        "200",
        "--concurrency",
        "8",
    ]))
    .await;
    assert_success(&out, &text);
    assert!(
        text.contains("sent 200 laaffic-voice-report bodies"),
        "{text}"
    );
    assert!(
        text.contains("200 accepted, 0 given up, 0 retries"),
        "{text}"
    );
    assert!(text.contains("p99"), "{text}");
    app.settle().await;
    let stats = app.get_json("/api/v1/stats?group_by=vendor").await;
    let records_per_body = {
        let v: serde_json::Value =
            serde_json::from_slice(&fixture("laaffic-voice-report", "sample.json")).unwrap();
        v["array"].as_array().unwrap().len() as u64
    };
    assert_eq!(stats["rows"][0]["key"], "laaffic");
    assert_eq!(
        stats["rows"][0]["calls"],
        200 * records_per_body,
        "every body made new calls"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn help_lists_simulate_with_its_push_alias() {
    let (out, text) = simulate(args(&["--help"])).await;
    assert_success(&out, &text);
    let line = text
        .lines()
        .find(|l| l.trim_start().starts_with("simulate "))
        .unwrap_or_else(|| panic!("no `simulate` command in:\n{text}"));
    assert!(line.contains("[alias: push]"), "{line}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_flags_are_clear_errors() {
    for (kind, expected) in [
        ("nope", "aliyun-call-report"),
        ("aliyun-call-report", "--generate"),
    ] {
        let (out, _) = simulate(args(&[
            "simulate",
            "--kind",
            kind,
            "--url",
            "http://127.0.0.1:1/",
        ]))
        .await;
        assert_eq!(out.status.code(), Some(2), "--kind {kind}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(expected), "--kind {kind}: {stderr}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_closed_stdout_does_not_stop_the_pushes() {
    let app = spawn_app().await;
    let url = app.url("/hooks/aliyun-call-report");
    let file = sample_file("aliyun-call-report");
    let dir = TempDir::new().unwrap();
    let status = tokio::task::spawn_blocking(move || {
        let mut child = Binary::command(dir.path())
            .args([
                "simulate",
                "--kind",
                "aliyun-call-report",
                "--url",
                &url,
                &file,
            ])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        // As `callhook simulate … | head -0`: the reader is gone before anything is printed.
        drop(child.stdout.take());
        child.wait().unwrap()
    })
    .await
    .unwrap();
    assert_eq!(
        status.code(),
        Some(0),
        "exit 101 is a panic on the broken pipe"
    );
    app.settle().await;
    assert_eq!(
        app.calls("vendor=aliyun").await.len(),
        1,
        "the push went out"
    );
}
