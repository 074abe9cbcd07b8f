//! Signed pushes (Vapi, Retell, Bland): the vendor's signature is checked on
//! the raw body before anything is stored; a missing, stale or wrong one is
//! 401, leaves no receipt and is counted as `bad_signature`.

use crate::prom::scrape;
use crate::support::{fixture, spawn_app_with, TestApp};
use callhook::config::SignatureConfig;
use callhook::domain::SourceKind;
use callhook::signature::Signer;
use reqwest::StatusCode;
use serde_json::Value;

const SOURCES: &str = r#"
[[sources]]
name = "sig-vapi"
kind = "vapi-end-of-call-report"
secret = "vapi-server-secret"

[[sources]]
name = "sig-vapi-hmac"
kind = "vapi-end-of-call-report"
secret = "vapi-hmac-secret"
[sources.signature]
scheme = "hmac"

[[sources]]
name = "sig-retell"
kind = "retell-call-event"
secret = "key_retell_api"

[[sources]]
name = "sig-bland"
kind = "bland-call"
secret = "bland-signing-secret"
"#;

fn signer(kind: SourceKind, secret: &str, scheme: Option<&str>) -> Signer {
    let settings = scheme.map(|s| SignatureConfig {
        scheme: s.into(),
        ..SignatureConfig::default()
    });
    Signer::new(kind, secret.to_owned().into(), settings.as_ref()).unwrap()
}

async fn send(
    app: &TestApp,
    source: &str,
    body: &[u8],
    headers: &[(String, String)],
) -> (StatusCode, Value) {
    let mut req = app
        .client
        .post(app.url(&format!("/hooks/{source}")))
        .body(body.to_vec());
    for (k, v) in headers {
        req = req.header(k, v);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status();
    (status, resp.json().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_vendors_signature_is_verified_before_anything_is_stored() {
    let app = spawn_app_with(SOURCES).await;
    let before = scrape(&app).await;
    let cases = [
        (
            "sig-vapi",
            SourceKind::VapiEndOfCallReport,
            "vapi-server-secret",
            None,
            ("vapi-end-of-call-report", "answered.json"),
        ),
        (
            "sig-vapi-hmac",
            SourceKind::VapiEndOfCallReport,
            "vapi-hmac-secret",
            Some("hmac"),
            ("vapi-end-of-call-report", "voicemail.json"),
        ),
        (
            "sig-retell",
            SourceKind::RetellCallEvent,
            "key_retell_api",
            None,
            ("retell-call-event", "call-ended.json"),
        ),
        (
            "sig-bland",
            SourceKind::BlandCall,
            "bland-signing-secret",
            None,
            ("bland-call", "completed.json"),
        ),
    ];
    let now = jiff::Timestamp::now();
    for (source, kind, secret, scheme, (dir, file)) in cases {
        let body = fixture(dir, file);
        // Missing.
        let (status, answer) = send(&app, source, &body, &[]).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{source}: {answer}");
        assert!(
            answer["msg"].as_str().unwrap().contains("missing"),
            "{source}: {answer}"
        );
        // Signed with another secret.
        let wrong = signer(kind, "not-the-secret", scheme).sign(&body, now);
        let (status, answer) = send(&app, source, &body, &wrong).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{source}: {answer}");
        // Signed right, but the body changed on the way.
        let right = signer(kind, secret, scheme).sign(&body, now);
        let mut changed = body.clone();
        changed.extend_from_slice(b" ");
        let (status, _) = send(&app, source, &changed, &right).await;
        let secret_header = scheme.is_none() && kind == SourceKind::VapiEndOfCallReport;
        // Vapi's plain secret header does not cover the body.
        let want = if secret_header {
            StatusCode::OK
        } else {
            StatusCode::UNAUTHORIZED
        };
        assert_eq!(status, want, "{source}: changed body");
        if !secret_header {
            assert!(
                app.get_json(&format!("/api/v1/receipts?source={source}"))
                    .await["items"]
                    .as_array()
                    .unwrap()
                    .is_empty(),
                "{source}: a refused push leaves no receipt"
            );
        }
        // Right.
        let (status, answer) = send(&app, source, &body, &right).await;
        assert_eq!(status, StatusCode::OK, "{source}: {answer}");
    }
    app.settle().await;
    let after = scrape(&app).await;
    for source in ["sig-vapi", "sig-vapi-hmac", "sig-retell", "sig-bland"] {
        let labels = [("source", source), ("result", "bad_signature")];
        let refused = after.get("callhook_pushes_total", &labels)
            - before.get("callhook_pushes_total", &labels);
        let want = if source == "sig-vapi" { 2.0 } else { 3.0 };
        assert_eq!(refused, want, "{source}");
    }
    let vapi = app
        .call_by_vendor_id("vapi", "019a9ccb-ea3e-777e-924a-d4c8f7483d58")
        .await;
    assert_eq!(vapi["outcome"], "answered");
    assert_eq!(vapi["customer_number"], "+14155550198");
    assert_eq!(vapi["cost"]["amount"], "0.1885");
    let retell = app
        .call_by_vendor_id("retell", "Q7vKd2nXbT4wLpR8sYc3mHf6Ze1Uj9Ag")
        .await;
    assert_eq!(retell["started_at"], "2024-12-03T11:10:15.123Z");
    assert_eq!(
        retell["cost"],
        serde_json::json!({"amount": "0.032", "currency": "USD"})
    );
    let bland = app
        .call_by_vendor_id("bland", "3f6c2a1e-8d4b-4c7a-9e21-5b0d7a9c1f42")
        .await;
    assert_eq!(bland["talk_seconds"], 45);
    assert_eq!(bland["hangup_by"], "agent");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retell_signature_older_than_five_minutes_is_refused() {
    // Sources of their own: the signature test counts what `sig-*` refuse.
    let app = spawn_app_with(&SOURCES.replace("name = \"sig-", "name = \"old-")).await;
    let body = fixture("retell-call-event", "call-ended.json");
    let s = signer(SourceKind::RetellCallEvent, "key_retell_api", None);
    let old = jiff::Timestamp::now() - jiff::SignedDuration::from_secs(301);
    let (status, answer) = send(&app, "old-retell", &body, &s.sign(&body, old)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(
        answer["msg"].as_str().unwrap().contains("allowed: 300 s"),
        "{answer}"
    );
    let recent = jiff::Timestamp::now() - jiff::SignedDuration::from_secs(240);
    let (status, _) = send(&app, "old-retell", &body, &s.sign(&body, recent)).await;
    assert_eq!(status, StatusCode::OK, "within the tolerance");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_config_never_prints_a_secret() {
    let config = callhook::config::Config::load(None, &Default::default()).unwrap();
    assert!(config.sources.iter().all(|s| s.secret.is_none()));
    let dir = tempfile::TempDir::new().unwrap();
    let path = dir.path().join("c.toml");
    std::fs::write(
        &path,
        format!(
            "database = \"sqlite://{}/x.db\"\n{SOURCES}",
            dir.path().display()
        ),
    )
    .unwrap();
    let c = callhook::config::Config::load(Some(&path), &Default::default()).unwrap();
    let shown = c.effective_toml().unwrap();
    for secret in [
        "vapi-server-secret",
        "vapi-hmac-secret",
        "key_retell_api",
        "bland-signing-secret",
    ] {
        assert!(!shown.contains(secret), "{secret} printed");
        assert!(!format!("{c:?}").contains(secret), "{secret} in Debug");
    }
    assert!(shown.contains("<redacted>"));
}

/// Runs the binary with `args` in a fresh directory, off the async threads.
async fn cli(args: &[&str]) -> std::process::Output {
    let owned: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    let dir = tempfile::TempDir::new().unwrap();
    tokio::task::spawn_blocking(move || {
        let a: Vec<&str> = owned.iter().map(String::as_str).collect();
        crate::process::Binary::run(dir.path(), &a)
    })
    .await
    .unwrap()
}

/// `callhook simulate --secret` signs as each vendor does: every signed source
/// accepts what it plays, and refuses it without the secret.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn callhook_push_plays_each_signed_vendor_end_to_end() {
    // Sources of their own: `/metrics` counters are one per process, and
    // the signature test counts what its sources refuse.
    let app = spawn_app_with(&SOURCES.replace("name = \"sig-", "name = \"cli-")).await;
    let cases = [
        (
            "cli-vapi",
            "vapi-end-of-call-report",
            "vapi-server-secret",
            None,
        ),
        (
            "cli-vapi-hmac",
            "vapi-end-of-call-report",
            "vapi-hmac-secret",
            Some("hmac"),
        ),
        ("cli-retell", "retell-call-event", "key_retell_api", None),
        ("cli-bland", "bland-call", "bland-signing-secret", None),
    ];
    for (source, kind, secret, scheme) in cases {
        let url = app.url(&format!("/hooks/{source}"));
        let mut args = vec![
            "simulate",
            "--kind",
            kind,
            "--url",
            &url,
            "--generate",
            "--count",
            "3",
            "--secret",
            secret,
        ];
        if let Some(s) = scheme {
            args.extend(["--signature-scheme", s]);
        }
        let out = cli(&args).await;
        let text = String::from_utf8_lossy(&out.stdout);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{source}: {text}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(text.contains("3 accepted"), "{source}: {text}");
    }
    app.settle().await;
    for vendor in ["vapi", "retell", "bland"] {
        let calls = app.calls(&format!("vendor={vendor}")).await;
        let want = if vendor == "vapi" { 6 } else { 3 };
        assert_eq!(calls.len(), want, "{vendor}: generated calls, each new");
    }
    // Without the secret the vendor is refused (Vapi does not retry: 1 attempt).
    let url = app.url("/hooks/cli-vapi");
    let out = cli(&[
        "simulate",
        "--kind",
        "vapi-end-of-call-report",
        "--url",
        &url,
        "--generate",
        "--count",
        "1",
    ])
    .await;
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}
