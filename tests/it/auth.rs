//! Source tokens, address allow-lists, the API token, and the health
//! checks (docs/http-contract.md).

use crate::support::{receipt_statuses, sample, spawn_app, spawn_app_with};
use reqwest::StatusCode;
use serde_json::{json, Value};

const SOURCES: &str = r#"
[[sources]]
name = "ali"
kind = "aliyun-call-report"
token = "s3cret-token"

[[sources]]
name = "open"
kind = "laaffic-voice-report"

[[sources]]
name = "walled"
kind = "laaffic-voice-report"
allow_ips = ["203.0.113.0/24"]

[[sources]]
name = "local"
kind = "laaffic-voice-report"
allow_ips = ["127.0.0.0/8"]
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_source_token_is_required_in_path_query_or_bearer() {
    let app = spawn_app_with(SOURCES).await;
    let body = sample("aliyun-call-report");

    for path in [
        "/hooks/ali",
        "/hooks/ali/wrong",
        "/hooks/ali?token=wrong",
        "/hooks/ali?token=",
    ] {
        let (status, answer) = app.push_to(path, body.clone()).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{path}: {answer}");
        assert_eq!(answer["code"], 401, "{path}");
    }
    let wrong_bearer = app
        .client
        .post(app.url("/hooks/ali"))
        .bearer_auth("not-it")
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(wrong_bearer.status(), StatusCode::UNAUTHORIZED);
    // Refused pushes are neither receipts nor calls.
    assert_eq!(app.get_json("/api/v1/receipts").await["items"], json!([]));
    assert!(app.calls("").await.is_empty());

    for path in ["/hooks/ali/s3cret-token", "/hooks/ali?token=s3cret-token"] {
        let (status, answer) = app.push_to(path, body.clone()).await;
        assert_eq!(status, StatusCode::OK, "{path}: {answer}");
        assert_eq!(answer, json!({"code": 0, "msg": "ok"}));
    }
    let bearer = app
        .client
        .post(app.url("/hooks/ali"))
        .bearer_auth("s3cret-token")
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(bearer.status(), StatusCode::OK);
    assert_eq!(
        bearer.json::<serde_json::Value>().await.unwrap(),
        json!({"code": 0, "msg": "ok"})
    );

    let receipts = app.get_json("/api/v1/receipts?source=ali").await;
    let statuses = receipt_statuses(&receipts);
    assert_eq!(statuses.len(), 3);
    assert_eq!(statuses.iter().filter(|s| **s == "accepted").count(), 1);
    let call = app
        .call_by_vendor_id("aliyun", "10000161****^1000018****")
        .await;
    assert_eq!(call["source"], "ali");

    // An empty `?token=` gives way to a correct Bearer header; a wrong one does not.
    let empty_query = app
        .client
        .post(app.url("/hooks/ali?token="))
        .bearer_auth("s3cret-token")
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(empty_query.status(), StatusCode::OK);
    let wrong_query = app
        .client
        .post(app.url("/hooks/ali?token=nope"))
        .bearer_auth("s3cret-token")
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(wrong_query.status(), StatusCode::UNAUTHORIZED);

    // A source without a token takes pushes as they come.
    app.push_ok("open", sample("laaffic-voice-report")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_address_outside_allow_ips_is_403() {
    let app = spawn_app_with(SOURCES).await;
    let (status, answer) = app.push("walled", sample("laaffic-voice-report")).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{answer}");
    assert_eq!(answer["code"], 403);
    assert!(app.calls("").await.is_empty());

    app.push_ok("local", sample("laaffic-voice-report")).await;
    assert_eq!(app.calls("vendor=laaffic").await.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_token_guards_every_api_route() {
    let mut app = spawn_app_with("api_token = \"api-s3cret\"\n").await;
    app.push_ok("aliyun-call-report", sample("aliyun-call-report"))
        .await;
    let token = app.api_token.take().expect("token from the config");
    assert_eq!(token, "api-s3cret");

    let routes = [
        "/api/v1/calls",
        "/api/v1/stats?group_by=vendor",
        "/api/v1/receipts",
    ];
    for path in routes {
        let (status, answer) = app.get(path).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{path}");
        assert_eq!(answer["error"]["code"], "unauthorized", "{path}: {answer}");
        let wrong = app
            .client
            .get(app.url(path))
            .bearer_auth("api-s3cre")
            .send()
            .await
            .unwrap();
        assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED, "{path}");
    }
    let (status, _) = app.post_api("/api/v1/receipts/x/replay").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    app.api_token = Some(token);
    for path in routes {
        let (status, answer) = app.get(path).await;
        assert_eq!(status, StatusCode::OK, "{path}: {answer}");
    }
    let items = app.calls("").await;
    assert_eq!(items.len(), 1);
    let id = items[0]["id"].as_str().unwrap();
    app.get_json(&format!("/api/v1/calls/{id}")).await;

    // Health checks and pushes are not behind the API token.
    let health = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn healthz_and_readyz_answer() {
    let app = spawn_app().await;
    let (status, health) = app.get("/healthz").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(health["status"], "ok");
    let (status, ready) = app.get("/readyz").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(ready["status"], "ready");
    assert_eq!(ready["store"], "ok");
    assert_eq!(ready["writes"], "ok");
    assert_eq!(ready["projection"]["pending_receipts"], 0);
    assert_eq!(ready["projection"]["oldest_pending_at"], Value::Null);
    assert_eq!(ready["projection"]["max_pending_records"], 1_000_000);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn x_forwarded_for_names_the_client_only_behind_a_trusted_proxy() {
    let walled = "[[sources]]\nname = \"walled\"\nkind = \"laaffic-voice-report\"\nallow_ips = [\"203.0.113.0/24\"]\n";
    let push = |app: &crate::support::TestApp, xff: &'static str| {
        let req = app
            .client
            .post(app.url("/hooks/walled"))
            .header("content-type", "application/json")
            .header("x-forwarded-for", xff)
            .body(sample("laaffic-voice-report"));
        async move { req.send().await.unwrap().status() }
    };
    // Behind a trusted proxy (the test client is on loopback).
    let app = spawn_app_with(&format!("trusted_proxies = [\"127.0.0.0/8\"]\n{walled}")).await;
    assert_eq!(push(&app, "198.51.100.1").await, StatusCode::FORBIDDEN);
    assert_eq!(
        push(&app, "203.0.113.7, 198.51.100.9").await,
        StatusCode::FORBIDDEN,
        "the client cannot pick its address by writing the header itself"
    );
    assert_eq!(push(&app, "203.0.113.7").await, StatusCode::OK);
    let receipts = app.get_json("/api/v1/receipts?source=walled").await;
    let remote = receipts["items"][0]["remote_addr"].as_str().unwrap();
    assert!(remote.starts_with("203.0.113.7 via 127.0.0.1:"), "{remote}");
    // Without trusted proxies the header is ignored.
    let app = spawn_app_with(walled).await;
    assert_eq!(push(&app, "203.0.113.7").await, StatusCode::FORBIDDEN);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_source_over_its_rate_limit_gets_429_with_retry_after() {
    let app = spawn_app_with(
        "[[sources]]\nname = \"slow\"\nkind = \"laaffic-voice-report\"\nrate_limit = 1\nrate_limit_burst = 2\n\n[[sources]]\nname = \"free\"\nkind = \"laaffic-voice-report\"\n",
    )
    .await;
    let body = sample("laaffic-voice-report");
    assert_eq!(app.push("slow", body.clone()).await.0, StatusCode::OK);
    assert_eq!(app.push("slow", body.clone()).await.0, StatusCode::OK);
    let resp = app
        .client
        .post(app.url("/hooks/slow"))
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(resp.headers()["retry-after"], "1");
    let json: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(json["code"], 429);
    // Another source is not limited by it; nothing of the refused push is kept.
    for _ in 0..5 {
        assert_eq!(app.push("free", body.clone()).await.0, StatusCode::OK);
    }
    let kept = app.get_json("/api/v1/receipts?source=slow&status=").await;
    assert_eq!(kept["items"].as_array().unwrap().len(), 2);
    // A rate of 0 is refused at start.
    let bad = callhook::config::Config::load(
        Some(&{
            let f = app.dir.path().join("bad.toml");
            std::fs::write(
                &f,
                "[[sources]]\nname = \"x\"\nkind = \"laaffic-voice-report\"\nrate_limit = 0\n",
            )
            .unwrap();
            f
        }),
        &Default::default(),
    )
    .unwrap_err()
    .to_string();
    assert!(bad.contains("sources[0] (`x`).rate_limit"), "{bad}");
}
