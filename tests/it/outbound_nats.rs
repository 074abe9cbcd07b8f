//! Outbound events to NATS JetStream end to end, against the real
//! nats-server named by `CALLHOOK_TEST_NATS_URL` (ignored unless run with
//! `--include-ignored`, as CI does).

use crate::support::{notes_for_report_sample, sample, spawn_app_with};
use futures::StreamExt;
use std::time::{Duration, Instant};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs NATS with JetStream: CALLHOOK_TEST_NATS_URL"]
async fn every_event_is_published_once_with_its_id_as_nats_msg_id() {
    let url = std::env::var("CALLHOOK_TEST_NATS_URL")
        .expect("this test needs NATS with JetStream: set CALLHOOK_TEST_NATS_URL (e.g. nats://127.0.0.1:4222)");
    let tag = ulid::Ulid::new().to_string().to_lowercase();
    let (stream, prefix) = (format!("CALLHOOK_IT_{tag}"), format!("it{tag}"));
    let app = spawn_app_with(&format!(
        "[nats]\nurl = \"{url}\"\nstream = \"{stream}\"\nsubject_prefix = \"{prefix}\"\nretry_schedule = [\"100ms\"]\n"
    ))
    .await;
    app.push_ok("aliyun-call-report", sample("aliyun-call-report"))
        .await;
    app.push_ok("aliyun-call-notes", notes_for_report_sample())
        .await;
    app.push_ok("aliyun-call-report", sample("aliyun-call-report"))
        .await; // duplicate: no event

    let end = Instant::now() + Duration::from_secs(15);
    let delivered = loop {
        let page = app.get_json("/api/v1/deliveries?subscriber=nats").await;
        let items = page["items"].as_array().unwrap().clone();
        if items.len() == 2 && items.iter().all(|d| d["status"] == "delivered") {
            break items;
        }
        assert!(Instant::now() < end, "not published: {items:#?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };

    let client = async_nats::connect(&url).await.unwrap();
    let js = async_nats::jetstream::new(client);
    let mut s = js.get_stream(&stream).await.unwrap();
    assert_eq!(
        s.info().await.unwrap().state.messages,
        2,
        "one message per event"
    );
    let consumer = s
        .create_consumer(async_nats::jetstream::consumer::pull::Config::default())
        .await
        .unwrap();
    let mut msgs = consumer
        .fetch()
        .max_messages(10)
        .expires(Duration::from_secs(1))
        .messages()
        .await
        .unwrap();
    let mut got = Vec::new();
    while let Some(m) = msgs.next().await {
        let m = m.unwrap();
        let id = m
            .headers
            .as_ref()
            .and_then(|h| h.get(async_nats::header::NATS_MESSAGE_ID))
            .map(|v| v.to_string());
        let event: serde_json::Value = serde_json::from_slice(&m.payload).unwrap();
        got.push((m.subject.to_string(), id, event));
    }
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].0, format!("{prefix}.aliyun.call.created"));
    assert_eq!(got[1].0, format!("{prefix}.aliyun.call.analyzed"));
    for (i, (_, id, event)) in got.iter().enumerate() {
        assert_eq!(
            id.as_deref(),
            event["id"].as_str(),
            "Nats-Msg-Id is the event id"
        );
        // Newest first in the API; oldest first on the stream.
        assert_eq!(event["id"], delivered[1 - i]["event_id"]);
    }
    js.delete_stream(&stream).await.unwrap();
}
