//! The recordings archive end to end: a pushed call's recording link is
//! downloaded from a local vendor server, kept, retried on failure, given
//! up for the right reason, deleted with its call, and a download cut by
//! `kill -9` is finished after the restart with nothing lost or doubled.
//! The archiver is driven pass by pass at chosen times (its `serve` task
//! is off), except in the `kill -9` test, which runs the real binary.

use crate::process::Server;
use crate::recording_server::RecordingServer;
use crate::support::*;
use callhook::recordings::archiver::Archiver;
use jiff::Timestamp;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::time::Duration;

/// Archiving by hand, recordings allowed from this machine.
const CONFIG: &str = r#"
[recordings]
enabled = false
allow_private_networks = ["127.0.0.1/32"]
"#;

/// A Bland call `id` whose recording is at `url`.
fn bland_call(id: &str, url: &str) -> Vec<u8> {
    let mut v: Value = serde_json::from_slice(&fixture("bland-call", "completed.json")).unwrap();
    v["call_id"] = json!(id);
    v["recording_url"] = json!(url);
    body(&v)
}

fn archiver(app: &TestApp) -> Archiver {
    let st = app.state();
    Archiver::new(
        &st.config.recordings,
        st.recordings.clone(),
        st.store.clone(),
    )
    .unwrap()
}

/// Pushes call `id` with recording `url` and returns its call id.
async fn push(app: &TestApp, id: &str, url: &str) -> String {
    app.push_ok("bland-call", bland_call(id, url)).await;
    app.settle().await;
    app.call_id("bland", id).await
}

async fn recording(app: &TestApp, call: &str) -> Value {
    app.get_json(&format!("/api/v1/calls/{call}")).await["recording"].clone()
}

fn later(secs: u64) -> Timestamp {
    Timestamp::now()
        .checked_add(Duration::from_secs(secs))
        .unwrap()
}

fn sha256_hex(b: &[u8]) -> String {
    hex::encode(Sha256::digest(b))
}

/// The archive's file of `sha` (local directory layout `aa/bb/sha`).
fn archived_file(app: &TestApp, sha: &str) -> std::path::PathBuf {
    app.state()
        .recordings
        .dir()
        .join(&sha[0..2])
        .join(&sha[2..4])
        .join(sha)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_link_that_404s_is_retried_on_schedule_then_kept_byte_for_byte() {
    let vendor = RecordingServer::start(1.5).await;
    let app = spawn_app_with(CONFIG).await;
    let call = push(&app, "rec-flaky", &vendor.url("/flaky.wav")).await;
    let a = archiver(&app);

    let first = a.pass(Timestamp::now()).await.unwrap();
    assert_eq!((first.attempted, first.retrying), (1, 1), "{first:?}");
    let r = recording(&app, &call).await;
    assert_eq!(r["status"], "pending");
    assert_eq!(r["attempts"], 1);
    assert!(r["error"].as_str().unwrap().contains("404"), "{r}");
    let next: Timestamp = r["next_attempt_at"].as_str().unwrap().parse().unwrap();
    let wait = next.as_second() - Timestamp::now().as_second();
    assert!(
        (50..=70).contains(&wait),
        "the first retry is about 1 min away: {wait} s"
    );
    // Not due yet: nothing is tried.
    assert_eq!(a.pass(Timestamp::now()).await.unwrap().attempted, 0);
    assert_eq!(vendor.hits("flaky.wav"), 1);

    let second = a.pass(later(120)).await.unwrap();
    assert_eq!((second.attempted, second.archived), (1, 1), "{second:?}");
    assert_eq!(vendor.hits("flaky.wav"), 2);
    let r = recording(&app, &call).await;
    let sha = sha256_hex(&vendor.wav);
    assert_eq!(r["status"], "archived", "{r}");
    assert_eq!(r["bytes"], vendor.wav.len() as u64);
    assert_eq!(r["sha256"], sha.as_str());
    assert_eq!(r["error"], Value::Null);
    assert!(r["archived_at"].is_string());
    let kept = std::fs::read(archived_file(&app, &sha)).unwrap();
    assert!(
        kept == *vendor.wav,
        "the kept file is the vendor's, byte for byte"
    );
    // Archived: never fetched again.
    assert_eq!(a.pass(later(86_400)).await.unwrap().attempted, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_link_is_recorded_as_expired_without_a_request_or_retries() {
    let vendor = RecordingServer::start(0.5).await;
    let app = spawn_app_with(CONFIG).await;
    let gone = Timestamp::now().as_second() - 3600;
    let url = vendor.url(&format!("/ok.wav?Expires={gone}&Signature=x"));
    let call = push(&app, "rec-expired", &url).await;
    let a = archiver(&app);
    let pass = a.pass(Timestamp::now()).await.unwrap();
    assert_eq!((pass.attempted, pass.given_up), (1, 1), "{pass:?}");
    let r = recording(&app, &call).await;
    assert_eq!(r["status"], "expired", "{r}");
    assert!(r["error"].as_str().unwrap().contains("expired"), "{r}");
    assert_eq!(r["next_attempt_at"], Value::Null);
    for days in [1, 7, 30] {
        assert_eq!(a.pass(later(days * 86_400)).await.unwrap().attempted, 0);
    }
    assert_eq!(vendor.hits("ok.wav"), 0, "a dead link is never requested");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_two_gigabyte_recording_is_refused_by_its_length_without_reading_it() {
    let vendor = RecordingServer::start(0.5).await;
    let app = spawn_app_with(CONFIG).await;
    let call = push(&app, "rec-huge", &vendor.url("/huge.wav")).await;
    let a = archiver(&app);
    let started = std::time::Instant::now();
    let pass = a.pass(Timestamp::now()).await.unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "refused at once, not read: {:?}",
        started.elapsed()
    );
    assert_eq!(pass.given_up, 1, "{pass:?}");
    let r = recording(&app, &call).await;
    assert_eq!(r["status"], "too_large", "{r}");
    assert!(r["error"].as_str().unwrap().contains("2147483648"), "{r}");
    assert_eq!(a.pass(later(86_400)).await.unwrap().attempted, 0);
    assert_eq!(vendor.hits("huge.wav"), 1);
    let partials = std::fs::read_dir(app.state().recordings.tmp_dir())
        .map(|d| d.count())
        .unwrap_or(0);
    assert_eq!(partials, 0, "nothing left in the download directory");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redirects_to_private_addresses_and_private_links_are_refused() {
    let vendor = RecordingServer::start(0.5).await;
    let app = spawn_app_with(CONFIG).await;
    let call = push(&app, "rec-redirect", &vendor.url("/redirect")).await;
    let a = archiver(&app);
    assert_eq!(a.pass(Timestamp::now()).await.unwrap().given_up, 1);
    let r = recording(&app, &call).await;
    assert_eq!(r["status"], "refused", "{r}");
    assert!(
        r["error"].as_str().unwrap().contains("169.254.169.254"),
        "{r}"
    );

    // Without `allow_private_networks`, the vendor server itself (on
    // 127.0.0.1) is refused.
    let strict = spawn_app_with("[recordings]\nenabled = false\n").await;
    let call = push(&strict, "rec-private", &vendor.url("/ok.wav")).await;
    assert_eq!(
        archiver(&strict)
            .pass(Timestamp::now())
            .await
            .unwrap()
            .given_up,
        1
    );
    assert_eq!(recording(&strict, &call).await["status"], "refused");
    assert_eq!(vendor.hits("ok.wav"), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_a_call_deletes_its_kept_recording() {
    let vendor = RecordingServer::start(0.5).await;
    let app = spawn_app_with(CONFIG).await;
    let call = push(&app, "rec-deleted", &vendor.url("/ok.wav")).await;
    let a = archiver(&app);
    assert_eq!(a.pass(Timestamp::now()).await.unwrap().archived, 1);
    let sha = sha256_hex(&vendor.wav);
    let file = archived_file(&app, &sha);
    assert!(file.exists());
    // Retention of everything started before now: the call goes.
    let store = &app.state().store;
    store.purge(later(1), 1000).await.unwrap();
    assert_eq!(
        app.get(&format!("/api/v1/calls/{call}")).await.0,
        reqwest::StatusCode::NOT_FOUND
    );
    let pass = a.pass(Timestamp::now()).await.unwrap();
    assert_eq!(pass.orphans_removed, 1, "{pass:?}");
    assert!(!file.exists(), "the recording went with its call");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_download_cut_by_kill_9_is_finished_after_the_restart_once() {
    let vendor = RecordingServer::start(2.0).await;
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("archive");
    let config = dir.path().join("callhook.toml");
    std::fs::write(
        &config,
        format!(
            "[recordings]\npath = {:?}\nallow_private_networks = [\"127.0.0.1/32\"]\n",
            archive.display().to_string()
        ),
    )
    .unwrap();
    let db = format!("sqlite://{}", dir.path().join("callhook.db").display());
    let server = Server::start_with(dir.path(), &db, Some(&config)).await;
    let resp = reqwest::Client::new()
        .post(format!("{}/hooks/bland-call", server.base))
        .body(bland_call("rec-killed", &vendor.url("/slow.wav")))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    // The slow download takes about 1.6 s: cut it in the middle.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while vendor.hits("slow.wav") == 0 {
        assert!(std::time::Instant::now() < deadline, "never fetched");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(600)).await;
    server.kill();
    let partial_before = std::fs::read_dir(archive.join("tmp")).unwrap().count();
    assert_eq!(partial_before, 1, "a download was cut in the middle");

    let server = Server::start_with(dir.path(), &db, Some(&config)).await;
    let listed = server.get_json("/api/v1/calls?vendor=bland").await;
    let call = listed["items"][0]["id"].as_str().unwrap().to_owned();
    let r = loop {
        let r = server.get_json(&format!("/api/v1/calls/{call}")).await["recording"].clone();
        if r["status"] != "pending" {
            break r;
        }
        assert!(std::time::Instant::now() < deadline, "not archived: {r}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let sha = sha256_hex(&vendor.wav);
    assert_eq!(r["status"], "archived", "{r}");
    assert_eq!(r["sha256"], sha.as_str());
    assert_eq!(
        vendor.hits("slow.wav"),
        2,
        "fetched again once after the restart"
    );
    let kept = std::fs::read(archive.join(&sha[0..2]).join(&sha[2..4]).join(&sha)).unwrap();
    assert!(kept == *vendor.wav, "complete and byte for byte");
    let files: Vec<_> = walk(&archive);
    assert_eq!(files.len(), 1, "one file kept, no partial left: {files:?}");
}

/// Every file under `dir`.
fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_recording_failures_rule_counts_a_sources_failing_links() {
    let vendor = RecordingServer::start(0.5).await;
    let app = spawn_app_with(&format!(
        "{CONFIG}
[[alerts]]
name = \"bland-recordings\"
kind = \"recording_failures\"
source = \"bland-call\"
window_minutes = 60

[[alerts]]
name = \"any-recordings\"
kind = \"recording_failures\"
above = 1
window_minutes = 60
"
    ))
    .await;
    push(&app, "rec-fail-1", &vendor.url("/missing.wav")).await;
    push(&app, "rec-ok", &vendor.url("/ok.wav")).await;
    archiver(&app).pass(Timestamp::now()).await.unwrap();
    let st = app.state();
    let measure = |i: usize| {
        callhook::alerts::measure::measure(
            &*st.store,
            &st.config.alerts[i],
            Timestamp::now(),
            Timestamp::now(),
            None,
            &[],
        )
    };
    let m = measure(0).await.unwrap();
    assert_eq!((m.value, m.holds), (1.0, true), "{m:?}");
    assert!(m.message.contains("source `bland-call`"), "{}", m.message);
    let m = measure(1).await.unwrap();
    assert_eq!((m.value, m.holds), (1.0, false), "above 1: {m:?}");
}

#[tokio::test]
async fn a_recording_failures_rule_names_its_mistakes() {
    for (rule, says) in [
        ("kind = \"recording_failures\"", "window_minutes: required"),
        (
            "kind = \"recording_failures\"\nwindow_minutes = 5\nsource = \"nope\"",
            "no source named `nope`",
        ),
        (
            "kind = \"recording_failures\"\nwindow_minutes = 5\nabove = 1.5",
            "above: 1.5 is not a whole number",
        ),
        (
            "kind = \"recording_failures\"\nwindow_minutes = 5\nbelow = 0.5",
            "below: not a key of kind recording_failures",
        ),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("c.toml");
        std::fs::write(&file, format!("[[alerts]]\nname = \"r\"\n{rule}\n")).unwrap();
        let e = callhook::config::Config::load(Some(&file), &Default::default())
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(e.contains(says), "{rule}: {e}");
    }
}

/// Archivers of two instances on one PostgreSQL database (two archivers
/// of one instance without PostgreSQL: SQLite is one instance's), passing
/// at once over 24 links: each file is requested once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_archivers_never_fetch_the_same_link_twice() {
    let vendor = RecordingServer::start(0.3).await;
    let pg = crate::backend::postgres_database().await;
    let apps = match &pg {
        Some((db, _)) => vec![
            spawn_app_on_database(db, CONFIG).await,
            spawn_app_on_database(db, CONFIG).await,
        ],
        None => vec![spawn_app_with(CONFIG).await],
    };
    let (first, second) = (&apps[0], apps.last().unwrap());
    for i in 0..24 {
        let url = vendor.url(&format!("/ok.wav?n={i}"));
        first
            .push_ok("bland-call", bland_call(&format!("rec-twice-{i}"), &url))
            .await;
    }
    first.settle().await;
    let (a, b) = (archiver(first), archiver(second));
    let mut archived = 0;
    for _ in 0..10 {
        let (x, y) = tokio::join!(a.pass(Timestamp::now()), b.pass(Timestamp::now()));
        let (x, y) = (x.unwrap(), y.unwrap());
        archived += x.archived + y.archived;
        if x.attempted + y.attempted == 0 {
            break;
        }
    }
    assert_eq!(archived, 24);
    assert_eq!(vendor.hits("ok.wav"), 24, "each link fetched exactly once");
}
