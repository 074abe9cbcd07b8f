//! The AI voice platforms through the HTTP path: each vendor's documented
//! example read back through the API, and Retell's two events of one call
//! merged the same way in either order.

use crate::support::{fixture, spawn_app};
use reqwest::StatusCode;
use serde_json::Value;

/// The call without what depends on arrival (ids of receipts, times of receipt).
fn comparable(mut call: Value) -> Value {
    // `recording`: how far the archive of the recording link got.
    for k in [
        "first_received_at",
        "updated_at",
        "receipts",
        "source",
        "recording",
    ] {
        call.as_object_mut().unwrap().remove(k);
    }
    call
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retells_ended_and_analyzed_events_make_the_same_call_in_either_order() {
    let ended = fixture("retell-call-event", "call-ended.json");
    let analyzed = fixture("retell-call-event", "call-analyzed.json");
    let started = fixture("retell-call-event", "call-started.json");
    let mut calls = Vec::new();
    for order in [
        [&started, &ended, &analyzed],
        [&analyzed, &ended, &started],
        [&ended, &started, &analyzed],
    ] {
        let app = spawn_app().await;
        for body in order {
            let (status, answer) = app.push("retell-call-event", body.clone()).await;
            assert_eq!(status, StatusCode::OK, "{answer}");
        }
        app.settle().await;
        let call = app
            .call_by_vendor_id("retell", "Q7vKd2nXbT4wLpR8sYc3mHf6Ze1Uj9Ag")
            .await;
        assert_eq!(call["receipts"].as_array().unwrap().len(), 3);
        calls.push(comparable(call));
    }
    assert_eq!(calls[0], calls[1]);
    assert_eq!(calls[0], calls[2]);
    let c = &calls[0];
    assert_eq!(c["outcome"], "answered");
    assert_eq!(c["analyses"].as_array().unwrap().len(), 1);
    assert_eq!(c["analyses"][0]["tags"]["user_sentiment"], "Positive");
    assert_eq!(c["talk_seconds"], 32);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_ai_vendors_example_reads_back_field_by_field() {
    let app = spawn_app().await;
    for (kind, file) in [
        ("vapi-end-of-call-report", "answered.json"),
        ("vapi-end-of-call-report", "busy.json"),
        ("retell-call-event", "no-answer.json"),
        ("bland-call", "voicemail.json"),
    ] {
        let (status, answer) = app.push(kind, fixture(kind, file)).await;
        assert_eq!(status, StatusCode::OK, "{kind}/{file}: {answer}");
    }
    app.settle().await;
    let vapi = app
        .call_by_vendor_id("vapi", "019a9ccb-ea3e-777e-924a-d4c8f7483d58")
        .await;
    assert_eq!(vapi["direction"], "outbound");
    assert_eq!(vapi["line_number"], "+14155550123");
    assert_eq!(vapi["answered_at"], "2026-03-12T17:00:01.907Z");
    assert_eq!(
        vapi["started_at"], "2026-03-12T16:59:58.412Z",
        "the earliest: createdAt"
    );
    assert_eq!(vapi["hangup_by"], "customer");
    assert_eq!(vapi["turns"][0]["speaker"], "agent");
    assert_eq!(vapi["analyses"][0]["kind"], "summary");
    let busy: Vec<Value> = app.calls("vendor=vapi&outcome=busy").await;
    assert_eq!(busy.len(), 1);
    let retell = app.calls("vendor=retell&outcome=no_answer").await;
    assert_eq!(retell.len(), 1);
    let bland = app.calls("vendor=bland").await;
    assert_eq!(bland[0]["outcome"], "voicemail");
    assert_eq!(bland[0]["cost"]["amount"], "0.036");
    let stats = app.get_json("/api/v1/stats?group_by=vendor").await;
    let vendors: Vec<&str> = stats["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["key"].as_str().unwrap())
        .collect();
    for v in ["bland", "retell", "vapi"] {
        assert!(vendors.contains(&v), "{vendors:?}");
    }
}
