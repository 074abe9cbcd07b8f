//! Request ids and logs (Observability): every answer carries
//! `X-Request-Id` (a safe incoming one echoed, anything else replaced by a
//! ULID); the real binary with `--log-format json` puts that id on every
//! line logged inside the request, and never logs a push token. Being a
//! process of its own, the binary's `/metrics` is also checked exactly on
//! labels other tests share in this binary.

use crate::process::Server;
use crate::prom::{scrape_text, Scrape};
use crate::support::{fixture, sample, spawn_app};
use callhook::adapters::{parse, SourceContext};
use callhook::domain::SourceKind;
use serde_json::Value;

fn request_id(resp: &reqwest::Response) -> String {
    resp.headers()
        .get("x-request-id")
        .expect("X-Request-Id on every answer")
        .to_str()
        .unwrap()
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_answer_carries_a_request_id_and_only_a_safe_one_is_echoed() {
    let app = spawn_app().await;
    let health = app.client.get(app.url("/healthz")).send().await.unwrap();
    let made = request_id(&health);
    assert!(made.parse::<ulid::Ulid>().is_ok(), "a new ULID: {made}");
    let push = app
        .client
        .post(app.url("/hooks/aliyun-call-report"))
        .body(sample("aliyun-call-report"))
        .send()
        .await
        .unwrap();
    let other = request_id(&push);
    assert!(
        other.parse::<ulid::Ulid>().is_ok() && other != made,
        "{other}"
    );

    let safe = "lb-7f3a.9_Z";
    let echoed = app
        .client
        .get(app.url("/api/v1/calls"))
        .header("x-request-id", safe)
        .send()
        .await
        .unwrap();
    assert_eq!(request_id(&echoed), safe);
    for unsafe_id in ["a b", "id;drop", "ünïcode", &"x".repeat(65)] {
        let resp = app
            .client
            .get(app.url("/healthz"))
            .header("x-request-id", unsafe_id)
            .send()
            .await
            .unwrap();
        let id = request_id(&resp);
        assert_ne!(id, unsafe_id);
        assert!(
            id.parse::<ulid::Ulid>().is_ok(),
            "{unsafe_id:?} replaced by {id}"
        );
    }
    // 64 characters is the longest kept.
    let longest = "y".repeat(64);
    let resp = app
        .client
        .get(app.url("/healthz"))
        .header("x-request-id", &longest)
        .send()
        .await
        .unwrap();
    assert_eq!(request_id(&resp), longest);
}

const TOKEN: &str = "tok-9f8e7d6c5b4a";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_logs_carry_the_request_id_on_every_line_and_never_a_token() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("callhook.toml");
    std::fs::write(
        &config,
        format!(
            "[[sources]]\nname = \"ali\"\nkind = \"aliyun-call-report\"\ntoken = \"{TOKEN}\"\n"
        ),
    )
    .unwrap();
    let database = format!("sqlite://{}", dir.path().join("db.sqlite").display());
    let server = Server::start_custom(dir.path(), &database, Some(&config), |cmd| {
        cmd.args(["--log-format", "json"])
            .env("CALLHOOK_LOG", "debug");
    })
    .await;
    let client = reqwest::Client::new();
    let kind = "aliyun-call-report";
    let unknown = fixture(kind, "unknown_status_values.json");
    // (path, body, status, a message logged inside that request)
    let pushes = [
        (
            format!("/hooks/ali/{TOKEN}?token={TOKEN}"),
            sample(kind),
            200,
            None,
        ),
        (
            format!("/hooks/ali?token={TOKEN}"),
            unknown.clone(),
            200,
            Some("unknown vendor value; mapped to `unknown`"),
        ),
        (
            "/hooks/ali/wrong-token".to_owned(),
            sample(kind),
            401,
            Some("push refused: wrong or missing token"),
        ),
        (format!("/hooks/nowhere/{TOKEN}"), sample(kind), 404, None),
    ];
    let mut ids = Vec::new();
    for (path, body, status, _) in &pushes {
        let resp = client
            .post(format!("{}{path}", server.base))
            .body(body.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), *status, "{path}");
        ids.push(request_id(&resp));
    }
    let text = scrape_text(&client, &server.base, None).await;
    let log = server.log();
    assert!(!log.contains(TOKEN), "a token reached the log:\n{log}");
    assert!(!text.contains(TOKEN));

    let lines: Vec<Value> = log
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    let id_of = |line: &Value| line["span"]["request_id"].as_str().map(str::to_owned);
    for ((path, _, status, inside), id) in pushes.iter().zip(&ids) {
        let mine: Vec<&Value> = lines
            .iter()
            .filter(|l| id_of(l).as_ref() == Some(id))
            .collect();
        let answered = mine
            .iter()
            .find(|l| l["fields"]["message"] == "answered")
            .unwrap_or_else(|| panic!("no completion line for {path} ({id}):\n{log}"));
        assert_eq!(answered["fields"]["status"], *status);
        assert_eq!(answered["span"]["method"], "POST");
        let logged_path = answered["span"]["path"].as_str().unwrap();
        assert!(
            logged_path.contains("<redacted>") || !path.contains(TOKEN),
            "{logged_path}"
        );
        if let Some(message) = inside {
            assert!(
                mine.iter().any(|l| l["fields"]["message"] == *message),
                "`{message}` of {path} without its request id:\n{log}"
            );
        }
    }
    // Every line of the request-handling code carries a request id; those
    // of the push path carry one of the pushes' ids.
    for line in &lines {
        let target = line["target"].as_str().unwrap_or_default();
        let id = id_of(line);
        if target == "callhook::access" {
            assert!(id.is_some(), "no request_id: {line}");
        }
        if ["callhook::http::ingest", "callhook::ingest"].contains(&target) {
            assert!(id.is_some_and(|id| ids.contains(&id)), "{line}");
        }
    }

    // This process's recorder is its own: labels shared in the test binary are exact here.
    let s = Scrape::parse(&text);
    let not_found = [("source", "(unknown)"), ("result", "not_found")];
    assert_eq!(s.get("callhook_pushes_total", &not_found), 1.0);
    assert_eq!(
        s.get(
            "callhook_pushes_total",
            &[("source", "ali"), ("result", "accepted")]
        ),
        2.0
    );
    assert_eq!(
        s.get(
            "callhook_pushes_total",
            &[("source", "ali"), ("result", "unauthorized")]
        ),
        1.0
    );
    let k = SourceKind::AliyunCallReport;
    let p = parse(k, &unknown, &SourceContext::default_for(k)).unwrap();
    let mut fields = std::collections::BTreeMap::new();
    for v in &p.unknown_values {
        *fields.entry(v.field).or_insert(0.0) += 1.0;
    }
    assert!(!fields.is_empty());
    for (field, n) in fields {
        let labels = [("vendor", "aliyun"), ("field", field)];
        assert_eq!(
            s.get("callhook_unknown_values_total", &labels),
            n,
            "{field}"
        );
    }
    let b = [("backend", "sqlite")];
    assert_eq!(
        s.get("callhook_store_batch_size_sum", &b),
        2.0,
        "two pushes stored"
    );
    assert!(s.get("callhook_store_fsync_seconds_count", &b) >= 1.0);
    drop(server);
}
