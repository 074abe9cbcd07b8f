//! A real [`WebhookSink`] against a small axum receiver on 127.0.0.1.

mod guard;

use super::*;
use crate::config::default_retry_schedule;
use crate::domain::{EventType, Vendor};
use crate::worker::signing::verify;
use crate::worker::SendKind;
use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use secrecy::SecretString;
use std::net::SocketAddr;
use std::sync::Mutex;
use std::time::Instant;

const NEW_KEY: [u8; 32] = [7; 32];
const OLD_KEY: [u8; 24] = [42; 24];
const EVENT_ID: &str = "evt_01J9Z3K4X5Y6Z7A8B9C0D1E2F3";
const PAYLOAD: &str = r#"{"id":"evt_01J9Z3K4X5Y6Z7A8B9C0D1E2F3","type":"call.created","timestamp":"2024-03-05T10:00:00Z","data":{"id":"call_1","note":"café ☎ \"quoted\""}}"#;

/// One request the receiver got.
#[derive(Debug, Clone)]
struct Seen {
    path: String,
    headers: HeaderMap,
    body: Bytes,
}

type Log = Arc<Mutex<Vec<Seen>>>;

/// Records every request, then answers by path.
async fn handle(log: Log, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    let path = uri.path().to_owned();
    log.lock().unwrap().push(Seen {
        path: path.clone(),
        headers,
        body,
    });
    let unavailable = format!("down for maintenance {}", "x".repeat(300));
    match path.as_str() {
        "/ok" => StatusCode::OK.into_response(),
        "/unavailable" => (StatusCode::SERVICE_UNAVAILABLE, unavailable).into_response(),
        "/retry-seconds" => (
            StatusCode::SERVICE_UNAVAILABLE,
            [("retry-after", "7")],
            "busy",
        )
            .into_response(),
        "/retry-date" => {
            let at = jiff::Timestamp::now() + jiff::SignedDuration::from_secs(120);
            let printer = jiff::fmt::rfc2822::DateTimePrinter::new();
            let date = printer.timestamp_to_rfc9110_string(&at).unwrap();
            (
                StatusCode::SERVICE_UNAVAILABLE,
                [("retry-after", date)],
                "busy",
            )
                .into_response()
        }
        "/gone" => (StatusCode::GONE, "unsubscribed").into_response(),
        "/redirect" => (StatusCode::FOUND, [("location", "/ok")], "moved").into_response(),
        "/slow" => {
            tokio::time::sleep(Duration::from_secs(2)).await;
            StatusCode::OK.into_response()
        }
        _ => StatusCode::NOT_FOUND.into_response(),
    }
}

/// A receiver on 127.0.0.1:0 and its request log.
async fn receiver() -> (SocketAddr, Log) {
    let log = Log::default();
    let app = Router::new().fallback({
        let log = log.clone();
        move |uri: Uri, headers: HeaderMap, body: Bytes| handle(log.clone(), uri, headers, body)
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (addr, log)
}

/// A subscriber built by hand (no config validation), secrets newest first.
fn config(url: String, timeout: Duration) -> SubscriberConfig {
    let whsec = |key: &[u8]| SecretString::from(format!("whsec_{}", STANDARD.encode(key)));
    SubscriberConfig {
        name: "crm".to_owned(),
        url,
        secret: vec![whsec(&NEW_KEY), whsec(&OLD_KEY)],
        events: EventType::ALL.to_vec(),
        vendors: Vec::new(),
        retry_schedule: default_retry_schedule(),
        timeout,
        max_in_flight: 16,
    }
}

fn message() -> OutboundMessage {
    OutboundMessage {
        delivery_id: "dlv_1".to_owned(),
        attempts: 0,
        event_id: EVENT_ID.to_owned(),
        event_type: EventType::Created,
        vendor: Vendor::Aliyun,
        call_id: "call_1".to_owned(),
        created_at: jiff::Timestamp::now(),
        payload: PAYLOAD.to_owned(),
    }
}

/// Sends one message to `path` on a fresh receiver (private addresses allowed).
async fn send_to(path: &str, timeout: Duration) -> (SendResult, Vec<Seen>) {
    let (addr, log) = receiver().await;
    let sink = WebhookSink::new(&config(format!("http://{addr}{path}"), timeout), true).unwrap();
    let result = sink.send(&message()).await;
    let seen = log.lock().unwrap().clone();
    (result, seen)
}

fn header<'a>(seen: &'a Seen, name: &str) -> &'a str {
    seen.headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
}

#[tokio::test]
async fn delivers_the_exact_payload_signed_with_each_rotated_secret() {
    let (result, seen) = send_to("/ok", Duration::from_secs(5)).await;
    assert_eq!(
        result,
        SendResult {
            kind: SendKind::Delivered,
            status: Some(200),
            error: None,
            retry_after: None
        }
    );
    assert_eq!(seen.len(), 1);
    let req = &seen[0];
    assert_eq!(req.body.as_ref(), PAYLOAD.as_bytes());
    assert_eq!(header(req, "webhook-id"), EVENT_ID);
    assert_eq!(header(req, "content-type"), "application/json");
    assert_eq!(header(req, "user-agent"), USER_AGENT);
    let timestamp: i64 = header(req, "webhook-timestamp").parse().unwrap();
    let now = jiff::Timestamp::now().as_second();
    assert!(
        (now - timestamp).abs() <= 5,
        "timestamp {timestamp}, now {now}"
    );
    let signature = header(req, "webhook-signature");
    assert_eq!(signature.split(' ').count(), 2, "{signature}");
    for key in [&NEW_KEY[..], &OLD_KEY[..]] {
        assert!(verify(key, EVENT_ID, timestamp, &req.body, signature));
    }
    assert!(!verify(&[9; 32], EVENT_ID, timestamp, &req.body, signature));
    assert!(!verify(
        &NEW_KEY,
        EVENT_ID,
        timestamp + 1,
        &req.body,
        signature
    ));
}

#[tokio::test]
async fn a_503_fails_with_its_status_and_the_start_of_its_body() {
    let (result, seen) = send_to("/unavailable", Duration::from_secs(5)).await;
    assert_eq!(seen.len(), 1);
    assert_eq!(result.kind, SendKind::Failed);
    assert_eq!(result.status, Some(503));
    assert_eq!(result.retry_after, None);
    let error = result.error.unwrap();
    assert!(
        error.starts_with("HTTP 503: down for maintenance xxx"),
        "{error}"
    );
    assert_eq!(error.chars().count(), "HTTP 503: ".len() + 200, "{error}");
}

#[tokio::test]
async fn retry_after_in_seconds_is_kept() {
    let (result, _) = send_to("/retry-seconds", Duration::from_secs(5)).await;
    assert_eq!(result.kind, SendKind::Failed);
    assert_eq!(result.status, Some(503));
    assert_eq!(result.error.as_deref(), Some("HTTP 503: busy"));
    assert_eq!(result.retry_after, Some(Duration::from_secs(7)));
}

#[tokio::test]
async fn retry_after_as_an_http_date_is_kept() {
    let (result, _) = send_to("/retry-date", Duration::from_secs(5)).await;
    assert_eq!(result.kind, SendKind::Failed);
    let after = result.retry_after.expect("an HTTP-date Retry-After");
    let secs = after.as_secs();
    assert!((110..=121).contains(&secs), "{after:?}");
}

#[tokio::test]
async fn a_410_is_gone() {
    let (result, seen) = send_to("/gone", Duration::from_secs(5)).await;
    assert_eq!(seen.len(), 1);
    assert_eq!(result.kind, SendKind::Gone);
    assert_eq!(result.status, Some(410));
    assert_eq!(result.error.as_deref(), Some("HTTP 410: unsubscribed"));
}

#[tokio::test]
async fn a_redirect_fails_and_is_not_followed() {
    let (result, seen) = send_to("/redirect", Duration::from_secs(5)).await;
    assert_eq!(result.kind, SendKind::Failed);
    assert_eq!(result.status, Some(302));
    let error = result.error.unwrap();
    assert_eq!(error, "HTTP 302 (redirect to /ok not followed): moved");
    let paths: Vec<&str> = seen.iter().map(|s| s.path.as_str()).collect();
    assert_eq!(paths, ["/redirect"]);
}

#[tokio::test]
async fn a_receiver_slower_than_the_timeout_fails() {
    let started = Instant::now();
    let (result, seen) = send_to("/slow", Duration::from_millis(200)).await;
    assert_eq!(seen.len(), 1);
    assert_eq!(result.kind, SendKind::Failed);
    assert_eq!(result.status, None);
    assert_eq!(result.error.as_deref(), Some("timed out after 200ms"));
    assert!(
        started.elapsed() < Duration::from_millis(1500),
        "{:?}",
        started.elapsed()
    );
}
