//! Real answers of every documented route conform to the schema
//! `/openapi.json` gives for their status (OpenAPI): calls, their
//! details, stats by every key, receipts (text and binary bodies, replay),
//! deliveries (and retries), subscribers, push answers, API errors, health.

use crate::openapi::{config, READ_TOKEN, TOKEN};
use crate::openapi_schema::Checker;
use crate::support::{fixture, spawn_app_with};
use reqwest::StatusCode;
use serde_json::Value;
use std::time::{Duration, Instant};

fn ids(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn real_answers_conform_to_the_documented_schemas() {
    let app = spawn_app_with(&config()).await;
    let doc: Value = app
        .client
        .get(app.url("/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut c = Checker::new(&app, doc, TOKEN);
    let hook = "/hooks/{source}";
    // Every fixture of every kind but the 200-record batches: good, partial, odd and rejected bodies.
    for kind in crate::openapi::KINDS {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(kind);
        for entry in std::fs::read_dir(&dir).unwrap() {
            let name = entry.unwrap().file_name().into_string().unwrap();
            if !name.ends_with(".json") || name.starts_with("batch_200") {
                continue;
            }
            let body = fixture(kind, &name);
            let status = app.push(kind, body.clone()).await.0;
            assert!(
                status == StatusCode::OK || status == StatusCode::BAD_REQUEST,
                "{kind}/{name}: {status}"
            );
            c.call("post", hook, &format!("/hooks/{kind}"), Some(body), status)
                .await;
        }
    }
    c.call(
        "post",
        hook,
        "/hooks/aliyun-call-report",
        Some(b"{not json".to_vec()),
        StatusCode::BAD_REQUEST,
    )
    .await;
    // Not UTF-8: its receipt's body comes back as `body_base64`.
    c.call(
        "post",
        hook,
        "/hooks/aliyun-call-report",
        Some(vec![0xff, 0xfe, b'{']),
        StatusCode::BAD_REQUEST,
    )
    .await;
    c.call(
        "post",
        hook,
        "/hooks/nosuch",
        Some(b"{}".to_vec()),
        StatusCode::NOT_FOUND,
    )
    .await;
    // A source name that is not UTF-8 once decoded: the push format, not axum's text.
    c.call(
        "post",
        hook,
        "/hooks/%FF",
        Some(b"{}".to_vec()),
        StatusCode::BAD_REQUEST,
    )
    .await;
    c.call(
        "post",
        "/hooks/{source}/{token}",
        "/hooks/aliyun-call-report/x",
        Some(crate::support::sample("aliyun-call-report")),
        StatusCode::OK,
    )
    .await;

    // The pushes above are acknowledged; read once they are projected.
    app.settle().await;
    let page = c.get("/api/v1/calls", "/api/v1/calls?limit=1000").await;
    let calls = ids(&page);
    assert!(calls.len() > 40, "{}", calls.len());
    let mut with = [0; 4]; // turns, analyses, cost, region
    for id in &calls {
        let call = c
            .get("/api/v1/calls/{id}", &format!("/api/v1/calls/{id}"))
            .await;
        with[0] += usize::from(!call["turns"].as_array().unwrap().is_empty());
        with[1] += usize::from(!call["analyses"].as_array().unwrap().is_empty());
        with[2] += usize::from(!call["cost"].is_null());
        with[3] += usize::from(!call["region"].is_null());
    }
    assert!(
        with.iter().all(|n| *n > 0),
        "calls with turns, analyses, cost, region: {with:?}"
    );
    let paged = c
        .get("/api/v1/calls", "/api/v1/calls?limit=2&vendor=aliyun")
        .await;
    let cursor = paged["next_cursor"]
        .as_str()
        .expect("a second page")
        .to_owned();
    c.get(
        "/api/v1/calls",
        &format!("/api/v1/calls?limit=2&cursor={cursor}"),
    )
    .await;
    for g in ["vendor", "source", "outcome", "day", "task_id"] {
        let stats = c
            .get("/api/v1/stats", &format!("/api/v1/stats?group_by={g}"))
            .await;
        assert!(!stats["rows"].as_array().unwrap().is_empty(), "{g}");
    }

    let receipts = c
        .get("/api/v1/receipts", "/api/v1/receipts?limit=1000")
        .await;
    let mut encodings = (0, 0);
    for id in ids(&receipts) {
        let r = c
            .get("/api/v1/receipts/{id}", &format!("/api/v1/receipts/{id}"))
            .await;
        encodings.0 += usize::from(r.get("body").is_some());
        encodings.1 += usize::from(r.get("body_base64").is_some());
    }
    assert!(encodings.0 > 0 && encodings.1 == 1, "{encodings:?}");
    let rejected = c
        .get("/api/v1/receipts", "/api/v1/receipts?status=rejected")
        .await;
    let id = &ids(&rejected)[0];
    let replay = "/api/v1/receipts/{id}/replay";
    c.call(
        "post",
        replay,
        &format!("/api/v1/receipts/{id}/replay"),
        None,
        StatusCode::OK,
    )
    .await;

    // Deliveries: wait until some are dead letters (the subscriber's port is closed).
    let end = Instant::now() + Duration::from_secs(20);
    let dead = loop {
        let page = c
            .get("/api/v1/deliveries", "/api/v1/deliveries?status=dead")
            .await;
        if !ids(&page).is_empty() {
            break ids(&page);
        }
        assert!(Instant::now() < end, "no dead letter in 20 s");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let all = c
        .get("/api/v1/deliveries", "/api/v1/deliveries?limit=1000")
        .await;
    for id in ids(&all).iter().take(20) {
        c.get(
            "/api/v1/deliveries/{id}",
            &format!("/api/v1/deliveries/{id}"),
        )
        .await;
    }
    let retry_one = "/api/v1/deliveries/{id}/retry";
    c.call(
        "post",
        retry_one,
        &format!("/api/v1/deliveries/{}/retry", dead[0]),
        None,
        StatusCode::OK,
    )
    .await;
    let bulk = "/api/v1/deliveries/retry";
    c.call(
        "post",
        bulk,
        "/api/v1/deliveries/retry?subscriber=closed",
        None,
        StatusCode::OK,
    )
    .await;
    c.get("/api/v1/subscribers", "/api/v1/subscribers").await;
    for action in ["disable", "enable"] {
        let t = format!("/api/v1/subscribers/{{name}}/{action}");
        c.call(
            "post",
            &t,
            &format!("/api/v1/subscribers/closed/{action}"),
            None,
            StatusCode::OK,
        )
        .await;
    }

    // Errors.
    c.call(
        "get",
        "/api/v1/calls",
        "/api/v1/calls?limit=0",
        None,
        StatusCode::BAD_REQUEST,
    )
    .await;
    c.call(
        "get",
        "/api/v1/calls",
        "/api/v1/calls?colour=red",
        None,
        StatusCode::BAD_REQUEST,
    )
    .await;
    c.call(
        "get",
        "/api/v1/calls",
        "/api/v1/calls",
        None,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    c.call(
        "get",
        "/api/v1/calls/{id}",
        "/api/v1/calls/nosuch",
        None,
        StatusCode::NOT_FOUND,
    )
    .await;
    c.call(
        "get",
        "/api/v1/calls/{id}",
        "/api/v1/calls/%FF",
        None,
        StatusCode::BAD_REQUEST,
    )
    .await;
    c.token = READ_TOKEN; // may read, may not act
    c.get("/api/v1/subscribers", "/api/v1/subscribers").await;
    c.call(
        "post",
        bulk,
        "/api/v1/deliveries/retry",
        None,
        StatusCode::FORBIDDEN,
    )
    .await;
    c.token = TOKEN;
    c.call(
        "post",
        bulk,
        "/api/v1/deliveries/retry?status=delivered",
        None,
        StatusCode::BAD_REQUEST,
    )
    .await;
    c.call(
        "post",
        "/api/v1/subscribers/{name}/enable",
        "/api/v1/subscribers/nosuch/enable",
        None,
        StatusCode::NOT_FOUND,
    )
    .await;

    c.get("/healthz", "/healthz").await;
    c.get("/readyz", "/readyz").await;
    assert!(c.checked > 150, "{} answers checked", c.checked);
}
