//! `GET /api/v1/receipts`, `GET /api/v1/receipts/{id}` and
//! `POST /api/v1/receipts/{id}/replay` (docs/http-contract.md).

use crate::calls_api::assert_api_error;
use crate::support::{body, sample, spawn_app, spawn_app_with, TestApp};
use reqwest::StatusCode;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::collections::HashSet;

fn report(call_id: &str) -> Vec<u8> {
    body(&json!([{"callId": call_id, "smartStatusCode": "ANSWERED",
        "startTime": "2025-06-01 10:00:00"}]))
}

/// The ids of `GET /api/v1/receipts?{query}` followed to the last page.
async fn walk(app: &TestApp, query: &str) -> Vec<Value> {
    let mut out = Vec::new();
    let mut cursor = String::new();
    loop {
        let page = app
            .get_json(&format!("/api/v1/receipts?{query}&cursor={cursor}"))
            .await;
        out.extend(page["items"].as_array().unwrap().iter().cloned());
        match page["next_cursor"].as_str() {
            Some(c) => cursor = crate::support::urlencode(c),
            None => return out,
        }
    }
}

fn ids(items: &[Value]) -> Vec<String> {
    items
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn receipts_list_filters_and_pages_newest_first() {
    let app = spawn_app().await;
    let mut pushed = Vec::new();
    for id in ["r-1", "r-2", "r-3", "r-1"] {
        // The second r-1 is a duplicate.
        app.push_ok("aliyun-call-report", report(id)).await;
        pushed.push(report(id));
    }
    let partial = body(&json!([{"callId": "r-5"}, {}]));
    app.push_ok("aliyun-call-report", partial.clone()).await;
    pushed.push(partial);
    for bad in ["{", "\"x\""] {
        let (status, _) = app.push("laaffic-voice-report", bad).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        pushed.push(bad.as_bytes().to_vec());
    }

    let all = walk(&app, "limit=2").await;
    assert_eq!(all.len(), 7);
    let unique: HashSet<String> = ids(&all).into_iter().collect();
    assert_eq!(unique.len(), 7, "a receipt listed twice");
    let listed = ids(&all);
    let mut sorted = listed.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(listed, sorted, "newest (largest id) first");
    let shas: Vec<&str> = all.iter().map(|r| r["sha256"].as_str().unwrap()).collect();
    let newest_first: Vec<String> = pushed
        .iter()
        .rev()
        .map(|b| hex::encode(Sha256::digest(b)))
        .collect();
    assert_eq!(shas, newest_first, "not in reverse arrival order");
    assert_eq!(all, walk(&app, "limit=1000").await);

    let count =
        |items: &[Value], status: &str| items.iter().filter(|r| r["status"] == status).count();
    assert_eq!(count(&all, "accepted"), 3);
    assert_eq!(count(&all, "duplicate"), 1);
    assert_eq!(count(&all, "partial"), 1);
    assert_eq!(count(&all, "rejected"), 2);

    let rejected = walk(&app, "status=rejected&limit=1").await;
    assert_eq!(rejected.len(), 2);
    assert!(rejected
        .iter()
        .all(|r| r["source"] == "laaffic-voice-report"));
    let aliyun = walk(&app, "source=aliyun-call-report").await;
    assert_eq!(aliyun.len(), 5);
    let partial = walk(&app, "status=partial&source=aliyun-call-report").await;
    assert_eq!(partial.len(), 1);
    assert_eq!(partial[0]["errors"][0]["index"], 1);
    assert!(walk(&app, "status=partial&source=laaffic-voice-report")
        .await
        .is_empty());

    for query in ["status=lost", "limit=0", "limit=1001", "colour=red"] {
        let (status, answer) = app.get(&format!("/api/v1/receipts?{query}")).await;
        assert_api_error(
            status,
            &answer,
            StatusCode::BAD_REQUEST,
            "invalid_parameter",
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_receipt_carries_its_raw_body_and_metadata() {
    let app = spawn_app().await;
    let raw = sample("longlonglong-inbound");
    app.push_ok("longlonglong-inbound", raw.clone()).await;
    let summary = app.receipt_of(&raw).await;
    let id = summary["id"].as_str().unwrap();
    let r = app.get_json(&format!("/api/v1/receipts/{id}")).await;
    assert_eq!(
        r["body"].as_str().unwrap().as_bytes(),
        &raw[..],
        "byte for byte"
    );
    assert_eq!(r["source"], "longlonglong-inbound");
    assert_eq!(r["kind"], "longlonglong-inbound");
    assert_eq!(r["status"], "accepted");
    assert_eq!(r["sha256"], hex::encode(Sha256::digest(&raw)));
    assert_eq!(r["body_bytes"], raw.len());
    assert_eq!(r["record_count"], 1);
    assert_eq!(r["replay_count"], 0);
    assert_eq!(r["replayed_at"], Value::Null);
    assert!(r["remote_addr"].as_str().unwrap().starts_with("127.0.0.1:"));
    assert!(r["received_at"].as_str().unwrap().ends_with('Z'));

    let (status, answer) = app.get("/api/v1/receipts/01ARZ3NDEKTSV4RRFFQ69G5FAV").await;
    assert_api_error(status, &answer, StatusCode::NOT_FOUND, "not_found");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replaying_an_accepted_receipt_changes_nothing_and_keeps_its_status() {
    let app = spawn_app().await;
    let raw = report("rp-1");
    app.push_ok("aliyun-call-report", raw.clone()).await;
    let before = app.call_by_vendor_id("aliyun", "rp-1").await;
    let id = app.receipt_of(&raw).await["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let (status, answer) = app.post_api(&format!("/api/v1/receipts/{id}/replay")).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["receipt"]["id"], id.as_str());
    // Re-projection: the status is the receipt's in log order (it made the
    // call); the counts say what the replay changed (nothing).
    assert_eq!(answer["receipt"]["status"], "accepted");
    assert_eq!(answer["receipt"]["replay_count"], 1);
    assert!(answer["receipt"]["replayed_at"].is_string());
    assert_eq!(
        (
            answer["created"].clone(),
            answer["updated"].clone(),
            answer["unchanged"].clone()
        ),
        (json!(0), json!(0), json!(1))
    );
    let after = app.call_by_vendor_id("aliyun", "rp-1").await;
    assert_eq!(after["updated_at"], before["updated_at"]);
    assert_eq!(
        after["receipts"].as_array().unwrap().len(),
        1,
        "same receipt, not a new one"
    );
    assert_eq!(app.receipts_of(&raw).await.len(), 1);

    let (status, answer) = app
        .post_api("/api/v1/receipts/no-such-receipt/replay")
        .await;
    assert_api_error(status, &answer, StatusCode::NOT_FOUND, "not_found");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rejected_receipt_replays_after_the_source_is_fixed() {
    // The vendor was given a URL whose source has the wrong kind.
    let wrong = r#"
        [[sources]]
        name = "feed"
        kind = "laaffic-voice-report"

        [[sources]]
        name = "old"
        kind = "aliyun-call-report"
    "#;
    let app = spawn_app_with(wrong).await;
    let raw = sample("longlonglong-inbound");
    let (status, answer) = app.push("feed", raw.clone()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    app.push_ok("old", report("old-1")).await;
    let rejected = app.receipt_of(&raw).await;
    assert_eq!(rejected["status"], "rejected");
    let old = app.receipt_of(&report("old-1")).await;
    let stopped = app.stop().await;

    let fixed = r#"
        [[sources]]
        name = "feed"
        kind = "longlonglong-inbound"
    "#;
    let app = stopped.restart(fixed).await;
    let id = rejected["id"].as_str().unwrap();
    let (status, answer) = app.post_api(&format!("/api/v1/receipts/{id}/replay")).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["receipt"]["status"], "accepted");
    assert_eq!(answer["receipt"]["errors"], json!([]));
    assert_eq!(answer["created"], 1);
    let call = app
        .call_by_vendor_id("longlonglong", "3e7ff3fb-2e65-4a51-b322-a01db56f8a90")
        .await;
    assert_eq!(call["source"], "feed");
    assert_eq!(call["receipts"][0]["id"], id);
    assert_eq!(call["receipts"][0]["status"], "accepted");

    // The source of this receipt is gone from the configuration.
    let (status, answer) = app
        .post_api(&format!(
            "/api/v1/receipts/{}/replay",
            old["id"].as_str().unwrap()
        ))
        .await;
    assert_api_error(status, &answer, StatusCode::CONFLICT, "conflict");
}
