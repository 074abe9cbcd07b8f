//! The projection backlog is bounded: with the projector stalled, pushes
//! are acknowledged until `limits.max_pending_records`, then answered 503
//! with `Retry-After` (nothing kept); once the projector resumes, the
//! backlog drains, pushes succeed again, and every acknowledged push is a
//! call.

use crate::support::{body, spawn_app_with};
use reqwest::StatusCode;
use serde_json::{json, Value};

fn report(id: &str) -> Vec<u8> {
    body(&json!([{"callId": id, "smartStatusCode": "ANSWERED",
                  "originateTime": "2025-06-01 10:00:00", "duration": 12}]))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_projector_makes_pushes_503_at_the_limit_and_loses_nothing() {
    let app = spawn_app_with("[limits]\nmax_pending_records = 5\n").await;
    app.projector().pause();
    let mut acked = Vec::new();
    let mut refused = None;
    for i in 0..20 {
        let id = format!("bp-{i}");
        let resp = app
            .client
            .post(app.url("/hooks/aliyun-call-report"))
            .body(report(&id))
            .send()
            .await
            .unwrap();
        match resp.status() {
            StatusCode::OK => acked.push(id),
            StatusCode::SERVICE_UNAVAILABLE => {
                assert!(resp.headers().contains_key("retry-after"));
                let answer: Value = resp.json().await.unwrap();
                assert_eq!(answer["code"], 503);
                assert!(
                    answer["msg"]
                        .as_str()
                        .unwrap()
                        .contains("waiting to be projected"),
                    "{answer}"
                );
                refused = Some(id);
                break;
            }
            other => panic!("push {i}: {other}"),
        }
    }
    assert_eq!(acked.len(), 5, "acknowledged up to the limit, then refused");
    let refused = refused.expect("a push was refused at the limit");
    let ready = app.get_json("/readyz").await;
    assert_eq!(ready["projection"]["pending_records"], 5, "{ready}");
    assert!(
        app.calls("").await.is_empty(),
        "nothing projected while paused"
    );
    let (_, pending) = app.get("/api/v1/receipts?status=pending").await;
    assert_eq!(pending["items"].as_array().unwrap().len(), 5);

    app.projector().resume();
    app.settle().await;
    // The backlog the push path reads catches up once the projector has
    // counted its last batch.
    for _ in 0..2000 {
        let ready = app.get_json("/readyz").await;
        if ready["projection"]["pending_records"] == 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    // The vendor retries the refused push; it is taken now.
    app.push_ok("aliyun-call-report", report(&refused)).await;
    let mut stored: Vec<String> = app
        .calls("limit=100")
        .await
        .iter()
        .map(|c| c["vendor_call_id"].as_str().unwrap().to_owned())
        .collect();
    stored.sort();
    acked.push(refused);
    acked.sort();
    assert_eq!(stored, acked, "every acknowledged push became its call");
    // The backlog /readyz shows is refreshed by the projector after it
    // commits: it reaches 0 shortly after the last call is listed.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let ready = app.get_json("/readyz").await;
        if ready["projection"]["pending_records"] == 0 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "backlog never emptied: {ready}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}
