//! The `Authorization` scheme is case-insensitive (RFC 9110, 11.1) for
//! source and API tokens, and no URL the API shows carries credentials
//! (a read-only token once saw the NATS password).

use crate::support::{sample, spawn_app_with};
use reqwest::StatusCode;
use serde_json::Value;

const CONFIG: &str = r#"
api_token = "root-s3cret"
allow_private_subscribers = true

[[api_tokens]]
name = "grafana"
token = "read-s3cret"

[[sources]]
name = "ali"
kind = "aliyun-call-report"
token = "push-s3cret"

[[subscribers]]
name = "crm"
url = "http://hookuser:HOOKPASS@127.0.0.1:9/hooks?sig=QUERYSECRET"
secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

[nats]
url = "nats://natsuser:NATSPASS@127.0.0.1:9"
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lowercase_bearer_scheme_works_for_pushes_and_the_api() {
    let app = spawn_app_with(CONFIG).await;
    for scheme in ["bearer", "BEARER", "Bearer"] {
        let push = app
            .client
            .post(app.url("/hooks/ali"))
            .header("authorization", format!("{scheme} push-s3cret"))
            .body(sample("aliyun-call-report"))
            .send()
            .await
            .unwrap();
        assert_eq!(push.status(), StatusCode::OK, "{scheme}");
        let api = app
            .client
            .get(app.url("/api/v1/calls"))
            .header("authorization", format!("{scheme} read-s3cret"))
            .send()
            .await
            .unwrap();
        assert_eq!(api.status(), StatusCode::OK, "{scheme}");
    }
    let wrong = app
        .client
        .get(app.url("/api/v1/calls"))
        .header("authorization", "basic read-s3cret")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_token_sees_no_credentials_in_subscriber_urls() {
    let app = spawn_app_with(CONFIG).await;
    let resp = app
        .client
        .get(app.url("/api/v1/subscribers"))
        .bearer_auth("read-s3cret")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let text = resp.text().await.unwrap();
    for secret in [
        "NATSPASS",
        "natsuser",
        "HOOKPASS",
        "hookuser",
        "QUERYSECRET",
    ] {
        assert!(!text.contains(secret), "{secret} shown: {text}");
    }
    let list: Value = serde_json::from_str(&text).unwrap();
    let urls: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["url"].as_str().unwrap())
        .collect();
    assert!(
        urls.contains(&"nats://127.0.0.1:9 stream CALLHOOK"),
        "{urls:?}"
    );
    assert!(urls.contains(&"http://127.0.0.1:9/hooks"), "{urls:?}");
}
