//! The NATS JetStream sink against the real nats-server named by
//! `CALLHOOK_TEST_NATS_URL` (ignored unless run with
//! `--include-ignored`, as CI does), and against a closed port.

use callhook::config::{Config, NatsConfig};
use callhook::domain::{EventType, Vendor};
use callhook::storage::OutboundMessage;
use callhook::worker::{nats, SendKind, Sink};
use std::time::{Duration, Instant};

/// `[nats]` with a stream and subject prefix of its own, so tests do not
/// share subjects (JetStream refuses overlapping streams).
fn config(url: &str) -> NatsConfig {
    let tag = ulid::Ulid::new().to_string().to_lowercase();
    let toml = format!(
        "[nats]\nurl = \"{url}\"\nstream = \"SINK_{tag}\"\nsubject_prefix = \"sink{tag}\"\ntimeout = \"1s\"\n"
    );
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("c.toml");
    std::fs::write(&file, toml).unwrap();
    Config::load(Some(&file), &Default::default())
        .unwrap()
        .nats
        .unwrap()
}

fn message(event_id: &str, kind: EventType) -> OutboundMessage {
    OutboundMessage {
        delivery_id: format!("dlv_{event_id}"),
        attempts: 0,
        event_id: event_id.to_owned(),
        event_type: kind,
        vendor: Vendor::Itnio,
        call_id: "c1".into(),
        created_at: jiff::Timestamp::now(),
        payload: format!(r#"{{"id":"{event_id}","type":"{kind}"}}"#),
    }
}

async fn stream_messages(url: &str, stream: &str) -> u64 {
    let js = async_nats::jetstream::new(async_nats::connect(url).await.unwrap());
    let mut s = js.get_stream(stream).await.unwrap();
    s.info().await.unwrap().state.messages
}

async fn drop_stream(url: &str, stream: &str) {
    let js = async_nats::jetstream::new(async_nats::connect(url).await.unwrap());
    js.delete_stream(stream).await.unwrap();
}

#[tokio::test]
#[ignore = "needs NATS with JetStream: CALLHOOK_TEST_NATS_URL"]
async fn events_are_stored_once_each_and_a_repeated_id_is_dropped() {
    let url = std::env::var("CALLHOOK_TEST_NATS_URL")
        .expect("this test needs NATS with JetStream: set CALLHOOK_TEST_NATS_URL (e.g. nats://127.0.0.1:4222)");
    let cfg = config(&url);
    let sink = nats::connect(&cfg).await.unwrap();
    for (id, kind) in [
        ("evt_a", EventType::Created),
        ("evt_b", EventType::Updated),
        ("evt_c", EventType::Analyzed),
    ] {
        let r = sink.send(&message(id, kind)).await;
        assert_eq!(r.kind, SendKind::Delivered, "{r:?}");
    }
    // A publish whose acknowledgement was lost is sent again: same id.
    let again = sink.send(&message("evt_a", EventType::Created)).await;
    assert_eq!(
        again.kind,
        SendKind::Delivered,
        "a duplicate is still acknowledged"
    );
    assert_eq!(
        stream_messages(&url, &cfg.stream).await,
        3,
        "JetStream dropped the repeated Nats-Msg-Id"
    );

    let js = async_nats::jetstream::new(async_nats::connect(&url).await.unwrap());
    let s = js.get_stream(&cfg.stream).await.unwrap();
    let last = s
        .get_last_raw_message_by_subject(&format!("{}.itnio.call.analyzed", cfg.subject_prefix))
        .await
        .unwrap();
    assert_eq!(
        &last.payload[..],
        br#"{"id":"evt_c","type":"call.analyzed"}"#
    );
    drop_stream(&url, &cfg.stream).await;
}

#[tokio::test]
async fn a_server_that_is_down_fails_the_attempt_without_hanging() {
    let cfg = config("nats://127.0.0.1:1");
    let started = Instant::now();
    let sink = nats::connect(&cfg)
        .await
        .expect("connect returns while the server is down");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "connect waited {:?}",
        started.elapsed()
    );
    let started = Instant::now();
    let r = sink.send(&message("evt_down", EventType::Created)).await;
    assert_eq!(r.kind, SendKind::Failed);
    assert!(r.error.as_deref().unwrap().contains("127.0.0.1:1"), "{r:?}");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "send waited {:?}",
        started.elapsed()
    );
}
