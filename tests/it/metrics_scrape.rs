//! `GET /metrics` itself: answered at the concurrency limit (outside it,
//! like `/healthz`), counting the 503s it gives pushes, and guarded by the
//! API token when one is set.

use crate::load::{report, SlowPush};
use crate::metrics::{delta, KIND};
use crate::prom::scrape;
use crate::support::{body, sample, spawn_app_with};
use reqwest::StatusCode;
use serde_json::Value;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_answer_at_the_concurrency_limit_and_count_the_503s() {
    let app = spawn_app_with(
        "[limits]\nmax_concurrent_requests = 1\n\n[[sources]]\nname = \"mx-gate\"\nkind = \"aliyun-call-report\"\n",
    )
    .await;
    let before = scrape(&app).await;
    let full = body(&Value::Array(vec![report("mx-held")]));
    let addr = app.base.trim_start_matches("http://").to_owned();
    let held = SlowPush::begin(&addr, "/hooks/mx-gate", &full, 5).await;
    // Nothing else reaches this app meanwhile, so the held push takes the
    // only slot (a push of ours in flight at that moment would make it the
    // one refused).
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let mut refused = 0.0;
    for i in 0..100 {
        let (status, _) = app
            .push(
                "mx-gate",
                body(&Value::Array(vec![report(&format!("mx-g{i}"))])),
            )
            .await;
        if status == StatusCode::SERVICE_UNAVAILABLE {
            refused += 1.0;
            break;
        }
        assert_eq!(status, StatusCode::OK);
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(refused, 1.0, "the held push never took the only slot");
    // The slot is still held: /metrics answers anyway.
    let during = scrape(&app).await;
    let overloaded = [("source", "mx-gate"), ("result", "overloaded")];
    assert_eq!(
        delta(&before, &during, "callhook_pushes_total", &overloaded),
        1.0
    );
    assert_eq!(held.finish().await.0, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_need_the_api_token_when_one_is_set() {
    let app = spawn_app_with("api_token = \"mx-api-secret\"\n").await;
    let url = app.url("/metrics");
    let none = app.client.get(&url).send().await.unwrap();
    assert_eq!(none.status(), StatusCode::UNAUTHORIZED);
    let wrong = app
        .client
        .get(&url)
        .bearer_auth("nope")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    let body: Value = wrong.json().await.unwrap();
    assert_eq!(body["error"]["code"], "unauthorized");
    // The helper sends the token and asserts 200 and the content type.
    app.push_ok("aliyun-call-report", sample(KIND)).await;
    let s = scrape(&app).await;
    assert!(
        s.get(
            "callhook_push_ack_seconds_count",
            &[("source", "aliyun-call-report")]
        ) >= 1.0
    );
}
