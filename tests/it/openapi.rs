//! `GET /openapi.json` (OpenAPI): the document parses and names
//! every route of the README's Interfaces, with unique operation ids, security and
//! non-vacuous schemas. Routing against the document: `openapi_routes.rs`;
//! real answers against its schemas: `openapi_answers.rs`.

use crate::support::{spawn_app_with, TestApp};
use reqwest::StatusCode;
use serde_json::Value;
use std::collections::HashSet;

pub const TOKEN: &str = "s3cret-api";
/// A `read`-scoped token: 403 on every method but GET.
pub const READ_TOKEN: &str = "s3cret-read";

/// Every operation the README's Interfaces and the README's Interfaces section
/// name (the dashboard's pages aside; `docs/decisions.md`, OpenAPI).
const INTERFACES: &[(&str, &str)] = &[
    ("post", "/hooks/{source}"),
    ("post", "/hooks/{source}/{token}"),
    ("get", "/api/v1/calls"),
    ("get", "/api/v1/calls/{id}"),
    ("get", "/api/v1/stats"),
    ("get", "/api/v1/receipts"),
    ("get", "/api/v1/receipts/{id}"),
    ("post", "/api/v1/receipts/{id}/replay"),
    ("get", "/api/v1/deliveries"),
    ("get", "/api/v1/deliveries/{id}"),
    ("post", "/api/v1/deliveries/{id}/retry"),
    ("post", "/api/v1/deliveries/retry"),
    ("get", "/api/v1/subscribers"),
    ("post", "/api/v1/subscribers/{name}/enable"),
    ("post", "/api/v1/subscribers/{name}/disable"),
    ("get", "/healthz"),
    ("get", "/readyz"),
    ("get", "/metrics"),
    ("get", "/openapi.json"),
];

/// A source, an API token and a subscriber on a closed port (deliveries
/// fail, then die), so every kind of answer exists.
pub fn config() -> String {
    let mut toml = format!(
        "api_token = \"{TOKEN}\"\nallow_private_subscribers = true\n\n\
         [[api_tokens]]\nname = \"reader\"\ntoken = \"{READ_TOKEN}\"\n\n\
         [[subscribers]]\nname = \"closed\"\nurl = \"http://127.0.0.1:9/hook\"\n\
         secret = \"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\"\nretry_schedule = [\"100ms\"]\ntimeout = \"1s\"\n"
    );
    for kind in KINDS {
        toml.push_str(&format!(
            "\n[[sources]]\nname = \"{kind}\"\nkind = \"{kind}\"\n"
        ));
    }
    toml
}

pub const KINDS: [&str; 5] = [
    "aliyun-call-report",
    "aliyun-call-notes",
    "itnio-call-record",
    "longlonglong-inbound",
    "laaffic-voice-report",
];

/// The served document, fetched without a token (it is unguarded).
pub async fn document(app: &TestApp) -> Value {
    // Unguarded: no token sent.
    let resp = app
        .client
        .get(app.url("/openapi.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let ct = resp.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(ct.starts_with("application/json"), "{ct}");
    resp.json().await.expect("the document is JSON")
}

/// Every `(method, path)` of the document.
pub fn operations(doc: &Value) -> Vec<(String, String)> {
    let mut ops = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in item.as_object().unwrap().keys() {
            ops.push((method.clone(), path.clone()));
        }
    }
    ops
}

fn all_refs<'a>(v: &'a Value, out: &mut Vec<&'a str>) {
    match v {
        Value::Object(m) => {
            if let Some(Value::String(r)) = m.get("$ref") {
                out.push(r);
            }
            m.values().for_each(|v| all_refs(v, out));
        }
        Value::Array(a) => a.iter().for_each(|v| all_refs(v, out)),
        _ => {}
    }
}

#[tokio::test]
async fn the_document_names_every_route_of_the_interfaces() {
    let app = spawn_app_with(&config()).await;
    let doc = document(&app).await;
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3.1"),
        "{}",
        doc["openapi"]
    );
    assert_eq!(doc["info"]["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(doc["info"]["title"], "callhook");
    let ops: HashSet<(String, String)> = operations(&doc).into_iter().collect();
    for (method, path) in INTERFACES {
        assert!(
            ops.contains(&(method.to_string(), path.to_string())),
            "{method} {path} is not in the document"
        );
    }
    let mut ids = HashSet::new();
    for (method, path) in &ops {
        let op = &doc["paths"][path][method];
        let id = op["operationId"].as_str().expect("operationId");
        assert!(ids.insert(id.to_owned()), "operationId `{id}` twice");
        assert!(
            op["tags"].as_array().is_some_and(|t| !t.is_empty()),
            "{path}: no tag"
        );
        let statuses: Vec<&String> = op["responses"].as_object().unwrap().keys().collect();
        assert!(
            statuses.iter().any(|s| s.starts_with('2')),
            "{method} {path}: no 2xx"
        );
        if path.starts_with("/api/") {
            assert_eq!(
                op["security"],
                serde_json::json!([{"api_token": []}]),
                "{path}"
            );
            for s in ["401", "503"] {
                assert!(statuses.contains(&&s.to_owned()), "{method} {path}: no {s}");
            }
            let forbidden = statuses.contains(&&"403".to_owned());
            assert_eq!(
                forbidden,
                method != "get",
                "{method} {path}: 403 documented: {forbidden}"
            );
        }
    }
    let schemes = &doc["components"]["securitySchemes"];
    assert_eq!(schemes["api_token"]["scheme"], "bearer");
    assert_eq!(schemes["push_token_query"]["in"], "query");
    let mut refs = Vec::new();
    all_refs(&doc, &mut refs);
    for r in refs {
        let name = r.strip_prefix("#/components/schemas/").unwrap_or(r);
        assert!(
            doc["components"]["schemas"][name].is_object(),
            "dangling {r}"
        );
    }
    // The main schemas are not vacuous.
    let required = |name: &str| -> Vec<String> {
        let s = &doc["components"]["schemas"][name];
        let mut r: Vec<String> = serde_json::from_value(s["required"].clone()).unwrap_or_default();
        for part in s["allOf"].as_array().into_iter().flatten() {
            r.extend(
                serde_json::from_value::<Vec<String>>(part["required"].clone()).unwrap_or_default(),
            );
        }
        r
    };
    for (schema, fields) in [
        (
            "Call",
            &[
                "id",
                "vendor",
                "vendor_call_id",
                "outcome",
                "started_at",
                "cost",
                "turns",
            ][..],
        ),
        ("CallDetail", &["receipts"][..]),
        (
            "StatsRow",
            &[
                "key",
                "calls",
                "answered",
                "answer_rate",
                "cost",
                "avg_qa_score",
            ][..],
        ),
        (
            "ReceiptSummary",
            &["id", "source", "kind", "status", "received_at", "errors"][..],
        ),
        (
            "Delivery",
            &[
                "id",
                "subscriber",
                "event_id",
                "status",
                "attempts",
                "next_attempt_at",
            ][..],
        ),
        ("ErrorDetail", &["code", "message"][..]),
        ("PushAnswer", &["code", "msg"][..]),
    ] {
        let have = required(schema);
        for f in fields {
            assert!(
                have.iter().any(|h| h == f),
                "{schema} does not require `{f}`: {have:?}"
            );
        }
    }
    assert_eq!(
        doc["components"]["schemas"]["Money"]["properties"]["amount"]["type"],
        "string"
    );
}
