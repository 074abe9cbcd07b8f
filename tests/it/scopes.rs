//! Named API tokens with a `read` or `admin` scope ("API and
//! dashboard auth"): any token reads; only admin replays, retries and
//! enables/disables; the dashboard session keeps its token's scope.

use crate::dashboard::Visitor;
use crate::support::{spawn_app_with, TestApp};
use reqwest::{Method, StatusCode};
use serde_json::Value;

const TOKENS: &str = r#"
api_token = "root-s3cret"
allow_private_subscribers = true

[[api_tokens]]
name = "grafana"
token = "read-s3cret"

[[api_tokens]]
name = "ops"
token = "admin-s3cret"
scope = "admin"

[[subscribers]]
name = "crm"
url = "http://127.0.0.1:9/hooks"
secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
"#;

async fn call(
    app: &TestApp,
    method: Method,
    path: &str,
    token: Option<&str>,
) -> (StatusCode, Value) {
    let mut req = app.client.request(method, app.url(path));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status();
    let text = resp.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

/// How often receipt `id` was replayed (read with the read token).
async fn replays(app: &TestApp, id: &str) -> u64 {
    let path = format!("/api/v1/receipts/{id}");
    let (_, r) = call(app, Method::GET, &path, Some("read-s3cret")).await;
    r["replay_count"].as_u64().unwrap()
}

/// `GET /api/v1/subscribers` with the read token.
async fn subscribers(app: &TestApp) -> Value {
    call(app, Method::GET, "/api/v1/subscribers", Some("read-s3cret"))
        .await
        .1
}

/// A rejected receipt's id (pushed as invalid JSON).
async fn rejected_receipt(app: &TestApp) -> String {
    let (status, _) = app.push("aliyun-call-report", b"{broken".to_vec()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    app.receipt_of(b"{broken").await["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn a_read_token_reads_and_only_an_admin_token_changes() {
    let app = spawn_app_with(TOKENS).await;
    let id = rejected_receipt(&app).await;
    let replay = format!("/api/v1/receipts/{id}/replay");

    for token in ["read-s3cret", "admin-s3cret", "root-s3cret"] {
        for path in [
            "/api/v1/calls",
            "/api/v1/receipts",
            "/api/v1/deliveries",
            "/api/v1/subscribers",
        ] {
            let (status, body) = call(&app, Method::GET, path, Some(token)).await;
            assert_eq!(status, StatusCode::OK, "{token} GET {path}: {body}");
        }
    }
    for token in [None, Some("wrong"), Some("")] {
        let (status, body) = call(&app, Method::GET, "/api/v1/calls", token).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{token:?}");
        assert_eq!(body["error"]["code"], "unauthorized");
    }

    let admin_only = [
        replay.as_str(),
        "/api/v1/deliveries/retry",
        "/api/v1/subscribers/crm/disable",
        "/api/v1/subscribers/crm/enable",
    ];
    for path in admin_only {
        let (status, body) = call(&app, Method::POST, path, Some("read-s3cret")).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "POST {path}: {body}");
        assert_eq!(body["error"]["code"], "forbidden");
        let msg = body["error"]["message"].as_str().unwrap();
        assert!(msg.contains("`grafana`") && msg.contains("admin"), "{msg}");
        assert!(
            !msg.contains("read-s3cret"),
            "the token is never echoed: {msg}"
        );
        let (status, _) = call(&app, Method::POST, path, None).await;
        assert_eq!(
            status,
            StatusCode::UNAUTHORIZED,
            "no token: 401 before scope"
        );
    }
    assert_eq!(
        replays(&app, &id).await,
        0,
        "the refused replays did nothing"
    );
    let receipt = format!("/api/v1/receipts/{id}");
    let (status, body) = call(&app, Method::DELETE, &receipt, Some("read-s3cret")).await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "delete is admin-only: {body}"
    );
    let (status, _) = call(&app, Method::GET, &receipt, Some("read-s3cret")).await;
    assert_eq!(status, StatusCode::OK, "the receipt is still there");
    let subs = subscribers(&app).await;
    assert_eq!(subs["items"][0]["disabled_at"], Value::Null, "{subs}");

    for token in ["admin-s3cret", "root-s3cret"] {
        let (status, body) = call(&app, Method::POST, &replay, Some(token)).await;
        assert_eq!(status, StatusCode::OK, "{token}: {body}");
    }
    let (status, body) = call(
        &app,
        Method::POST,
        "/api/v1/subscribers/crm/disable",
        Some("admin-s3cret"),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(replays(&app, &id).await, 2);
    let subs = subscribers(&app).await;
    assert_ne!(
        subs["items"][0]["disabled_at"],
        Value::Null,
        "admin disabled it"
    );
}

#[tokio::test]
async fn a_read_session_sees_the_pages_but_cannot_replay() {
    let app = spawn_app_with(TOKENS).await;
    let id = rejected_receipt(&app).await;
    let replay = format!("/receipts/{id}/replay");

    let mut reader = Visitor::new(&app);
    reader.get("/login").await;
    let csrf = reader.csrf();
    let login = reader
        .post(
            "/login",
            &[
                ("token", "read-s3cret"),
                ("csrf", &csrf),
                ("next", "/receipts"),
            ],
            None,
        )
        .await;
    assert_eq!(login.status, StatusCode::SEE_OTHER, "{}", login.text);
    let page = reader.get("/receipts").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.text.contains("grafana (read)"),
        "who is logged in is shown"
    );
    assert!(
        !page.text.contains("/replay\""),
        "no replay button for read: {}",
        page.text
    );
    let refused = reader.post(&replay, &[("csrf", &csrf)], None).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(refused.text.contains("`grafana`"), "{}", refused.text);
    assert_eq!(replays(&app, &id).await, 0);
    let out = reader.post("/logout", &[("csrf", &csrf)], None).await;
    assert_eq!(
        out.status,
        StatusCode::SEE_OTHER,
        "a read session may log out"
    );
    assert_eq!(reader.get("/receipts").await.status, StatusCode::SEE_OTHER);

    let mut admin = Visitor::new(&app);
    admin.get("/login").await;
    let csrf = admin.csrf();
    admin
        .post(
            "/login",
            &[("token", "admin-s3cret"), ("csrf", &csrf), ("next", "/")],
            None,
        )
        .await;
    let page = admin.get("/receipts").await;
    assert!(
        page.text.contains(&format!("{replay}\"")),
        "admin sees replay"
    );
    assert!(page.text.contains("ops (admin)"));
    let ok = admin.post(&replay, &[("csrf", &csrf)], None).await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.text);
    assert_eq!(replays(&app, &id).await, 1);
}
