//! Nothing acknowledged is ever lost, whatever happens to the process:
//! the real binary under concurrent pushes is killed with
//! SIGKILL, or stopped with SIGTERM, and started again on the same database.

use crate::load::{report, Pushers, SlowPush};
use crate::process::Server;
use crate::support::body;
use serde_json::Value;
use std::time::Duration;
use tempfile::TempDir;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigkill_during_concurrent_pushes_loses_no_acknowledged_push() {
    let dir = TempDir::new().unwrap();
    let database = format!("sqlite://{}", dir.path().join("k.db").display());
    let server = Server::start(dir.path(), &database).await;
    let url = format!("{}/hooks/aliyun-call-report", server.base);
    let pushers = Pushers::start(&url, "k9", 16);
    pushers
        .wait_for(60, "300 acknowledged pushes", |t| t.acked.len() >= 300)
        .await;
    server.kill(); // mid-stream: 16 pushes are in flight
    let tally = pushers.stop().await;

    let server = Server::start(dir.path(), &database).await;
    let stored = server.all_call_ids().await;
    let lost: Vec<_> = tally.acked.difference(&stored).collect();
    assert!(
        lost.is_empty(),
        "{} of {} acknowledged pushes missing after SIGKILL: {lost:?}",
        lost.len(),
        tally.acked.len()
    );
    // Unanswered pushes may or may not have been committed; nothing else is there.
    assert!(stored.len() >= tally.acked.len());
    assert!(stored.len() <= tally.acked.len() + tally.dropped.len() + tally.refused.len());
    // Projection interrupted by the kill applied nothing twice: the
    // rollups count each call once, as a scan of the calls does.
    let stats = server.get_json("/api/v1/stats?group_by=vendor").await;
    assert_eq!(stats["rows"][0]["calls"], stored.len(), "{stats}");
    let receipts = server
        .get_json("/api/v1/receipts?status=accepted&limit=1000")
        .await;
    let accepted = receipts["items"].as_array().unwrap().len();
    assert!(
        accepted >= tally.acked.len().min(1000),
        "{accepted} accepted receipts"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigterm_under_load_answers_every_push_in_flight_and_loses_none() {
    let dir = TempDir::new().unwrap();
    let database = format!("sqlite://{}", dir.path().join("t.db").display());
    let mut server = Server::start(dir.path(), &database).await;
    let addr = server.base.trim_start_matches("http://").to_owned();
    let url = format!("{}/hooks/aliyun-call-report", server.base);
    let pushers = Pushers::start(&url, "term", 8);
    // Sixteen pushes held in flight: headers and half a body sent.
    let mut held = Vec::new();
    for i in 0..16 {
        let b = body(&Value::Array(vec![report(&format!("held-{i}"))]));
        held.push(SlowPush::begin(&addr, "/hooks/aliyun-call-report", &b, b.len() / 2).await);
    }
    pushers
        .wait_for(60, "100 acknowledged pushes", |t| t.acked.len() >= 100)
        .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    server.terminate();
    // The held pushes finish after the signal, and are answered.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut answers = Vec::new();
    for h in held {
        answers.push(h.finish().await);
    }
    let status = server.wait_exit(40).await;
    let tally = pushers.stop().await;
    assert!(status.success(), "exit status {status}: {}", server.log());
    for (i, (code, text)) in answers.iter().enumerate() {
        assert_eq!(*code, 200, "held push {i} after SIGTERM: {text}");
    }

    let server = Server::start(dir.path(), &database).await;
    let stored = server.all_call_ids().await;
    let lost: Vec<_> = tally.acked.difference(&stored).collect();
    assert!(lost.is_empty(), "acknowledged but missing: {lost:?}");
    for i in 0..16 {
        assert!(stored.contains(&format!("held-{i}")), "held-{i} not stored");
    }
    // A push that got no answer was never processed: had it been stored,
    // the server would have dropped an answer it owed.
    let answerless: Vec<_> = tally
        .dropped
        .iter()
        .filter(|(id, _)| stored.contains(id))
        .collect();
    assert!(
        answerless.is_empty(),
        "stored but never answered: {answerless:?}"
    );
    assert!(
        tally.refused.iter().all(|(status, _)| *status == 503),
        "refusals other than 503: {:?}",
        tally.refused
    );
}
