//! The `Authorization` scheme is case-insensitive (RFC 9110, 11.1) for
//! source and API tokens.

use crate::support::{sample, spawn_app_with};
use reqwest::StatusCode;

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
