//! Outbound events end to end: pushes to a started app reach a
//! [`TestReceiver`] as signed Standard Webhooks requests; retries, 410,
//! dead letters, restarts and isolation between subscribers.

use crate::receiver::{Received, Reply, TestReceiver, SECRET};
use crate::support::{fixture, notes_for_report_sample, sample, spawn_app_with, TestApp};
use serde_json::Value;
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// A subscriber `name` at `url` with `extra` TOML lines.
fn subscriber(name: &str, url: &str, extra: &str) -> String {
    format!("[[subscribers]]\nname = \"{name}\"\nurl = \"{url}\"\nsecret = \"{SECRET}\"\n{extra}\n")
}

fn config(subscribers: &[String]) -> String {
    format!(
        "allow_private_subscribers = true\n\n{}",
        subscribers.concat()
    )
}

async fn deliveries(app: &TestApp, query: &str) -> Vec<Value> {
    let page = app
        .get_json(&format!("/api/v1/deliveries?limit=1000&{query}"))
        .await;
    page["items"].as_array().unwrap().clone()
}

/// Waits (at most 15 s) until every delivery matching `query` has `status`
/// and there are `n` of them.
async fn until_all(app: &TestApp, query: &str, n: usize, status: &str) -> Vec<Value> {
    let end = Instant::now() + Duration::from_secs(15);
    loop {
        let items = deliveries(app, query).await;
        if items.len() == n && items.iter().all(|d| d["status"] == status) {
            return items;
        }
        assert!(
            Instant::now() < end,
            "timed out waiting for {n} {status} deliveries ({query}): {items:#?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// 20 distinct Alibaba call reports in one push, built from the sample.
fn twenty_calls(tag: &str) -> Vec<u8> {
    let record: Value =
        serde_json::from_slice::<Value>(&sample("aliyun-call-report")).unwrap()[0].clone();
    let records: Vec<Value> = (0..20)
        .map(|i| {
            let mut r = record.clone();
            r["callId"] = Value::String(format!("{tag}-{i}"));
            r
        })
        .collect();
    serde_json::to_vec(&records).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signed_event_reaches_the_subscriber_and_a_first_503_is_retried() {
    let rx = TestReceiver::start(vec![Reply::status(503)], Reply::status(204)).await;
    let app = spawn_app_with(&config(&[subscriber(
        "crm",
        &rx.url,
        "retry_schedule = [\"100ms\"]",
    )]))
    .await;
    app.push_ok("aliyun-call-report", sample("aliyun-call-report"))
        .await;
    let got = rx
        .until(Duration::from_secs(10), "a retry", |g| g.len() >= 2)
        .await;
    let (first, second) = (&got[0], &got[1]);
    assert!(
        first.signed && second.signed,
        "both attempts verify with the whsec_ secret"
    );
    assert_eq!(
        first.id, second.id,
        "webhook-id is the event id on every attempt"
    );
    assert_eq!(first.body, second.body, "the same bytes are sent again");
    assert!(
        second.at - first.at >= Duration::from_millis(80),
        "the retry waited its (jittered) 100 ms"
    );
    let now = jiff::Timestamp::now().as_second();
    assert!(
        (now - second.timestamp).abs() < 30,
        "webhook-timestamp is the send time"
    );
    let e = &second.event;
    assert_eq!(e["id"], first.id.as_str());
    assert_eq!(e["type"], "call.created");
    assert!(e["timestamp"].as_str().unwrap().ends_with('Z'));
    let id = e["data"]["id"].as_str().unwrap();
    let mut call = app.get_json(&format!("/api/v1/calls/{id}")).await;
    call.as_object_mut().unwrap().remove("receipts");
    assert_eq!(
        e["data"], call,
        "data is the whole call as the API serves it"
    );

    let d = until_all(&app, "subscriber=crm", 1, "delivered").await;
    assert_eq!(d[0]["attempts"], 2);
    assert_eq!(d[0]["last_response_status"], 204);
    assert_eq!(d[0]["event_id"], first.id.as_str());
    assert_eq!(rx.got().len(), 2, "nothing is sent after the 2xx");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_of_one_call_arrive_in_order_and_a_duplicate_makes_none() {
    let rx = TestReceiver::start(vec![], Reply::status(200)).await;
    let app = spawn_app_with(&config(&[subscriber("crm", &rx.url, "")])).await;
    let report = sample("aliyun-call-report");
    app.push_ok("aliyun-call-report", report.clone()).await;
    app.push_ok("aliyun-call-notes", notes_for_report_sample())
        .await;
    app.push_ok("aliyun-call-report", report).await; // a vendor retry
    until_all(&app, "", 2, "delivered").await;
    let got = rx.got();
    let types: Vec<&str> = got
        .iter()
        .map(|r| r.event["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        ["call.created", "call.analyzed"],
        "the duplicate made no event"
    );
    assert_eq!(
        got[0].event["data"]["id"], got[1].event["data"]["id"],
        "one call"
    );
    assert!(!got[1].event["data"]["analyses"]
        .as_array()
        .unwrap()
        .is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn filters_pick_event_types_and_vendors() {
    let rx_qa = TestReceiver::start(vec![], Reply::status(200)).await;
    let rx_itnio = TestReceiver::start(vec![], Reply::status(200)).await;
    let app = spawn_app_with(&config(&[
        subscriber("qa", &rx_qa.url, "events = [\"call.analyzed\"]"),
        subscriber("itnio", &rx_itnio.url, "vendors = [\"itnio\"]"),
    ]))
    .await;
    app.push_ok("aliyun-call-report", sample("aliyun-call-report"))
        .await;
    app.push_ok("aliyun-call-notes", notes_for_report_sample())
        .await;
    app.push_ok(
        "itnio-call-record",
        fixture("itnio-call-record", "sample.json"),
    )
    .await;
    until_all(&app, "subscriber=qa", 1, "delivered").await;
    let itnio = until_all(&app, "subscriber=itnio", 1, "delivered").await;
    assert_eq!(rx_qa.got()[0].event["type"], "call.analyzed");
    assert_eq!(itnio[0]["vendor"], "itnio");
    assert_eq!(rx_itnio.got()[0].event["data"]["vendor"], "itnio");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_410_disables_the_subscriber_until_it_is_enabled_and_nothing_is_lost() {
    let rx = TestReceiver::start(vec![Reply::status(410)], Reply::status(200)).await;
    let app = spawn_app_with(&config(&[subscriber("crm", &rx.url, "max_in_flight = 1")])).await;
    app.push_ok("aliyun-call-report", sample("aliyun-call-report"))
        .await;
    rx.until(Duration::from_secs(10), "the 410", |g| g.len() == 1)
        .await;
    let end = Instant::now() + Duration::from_secs(10);
    let subs = loop {
        let subs = app.get_json("/api/v1/subscribers").await;
        if subs["items"][0]["disabled_at"].is_string() || Instant::now() > end {
            break subs;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let crm = &subs["items"][0];
    assert_eq!(crm["name"], "crm");
    assert!(
        crm["disabled_reason"].as_str().unwrap().contains("410"),
        "{crm}"
    );
    assert_eq!(crm["pending"], 1);
    app.push_ok(
        "itnio-call-record",
        fixture("itnio-call-record", "sample.json"),
    )
    .await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(rx.got().len(), 1, "a disabled subscriber is sent nothing");
    assert_eq!(
        deliveries(&app, "status=pending").await.len(),
        2,
        "its events wait"
    );

    let (status, enabled) = app.post_api("/api/v1/subscribers/crm/enable").await;
    assert_eq!(status, 200, "{enabled}");
    assert!(enabled["disabled_at"].is_null());
    until_all(&app, "", 2, "delivered").await;
    assert_eq!(rx.acknowledged().len(), 2);
    let (status, _) = app.post_api("/api/v1/subscribers/nobody/enable").await;
    assert_eq!(status, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dead_letters_are_listed_and_retried_one_by_one_or_in_bulk() {
    let rx = TestReceiver::start(vec![], Reply::status(500)).await;
    let extra = "retry_schedule = [\"50ms\", \"50ms\"]";
    let app = spawn_app_with(&config(&[subscriber("crm", &rx.url, extra)])).await;
    app.push_ok("aliyun-call-report", twenty_calls("dead")[..].to_vec())
        .await;
    let dead = until_all(&app, "subscriber=crm&status=dead", 20, "dead").await;
    assert!(dead
        .iter()
        .all(|d| d["attempts"] == 3 && d["last_response_status"] == 500));
    assert!(dead[0]["last_error"].as_str().unwrap().contains("500"));
    assert_eq!(rx.got().len(), 60, "one attempt and two retries each");

    rx.answer(Reply::status(200));
    let id = dead[0]["id"].as_str().unwrap();
    let (status, one) = app
        .post_api(&format!("/api/v1/deliveries/{id}/retry"))
        .await;
    assert_eq!(status, 200, "{one}");
    assert_eq!(one["status"], "pending");
    let end = Instant::now() + Duration::from_secs(10);
    while app.get_json(&format!("/api/v1/deliveries/{id}")).await["status"] != "delivered" {
        assert!(Instant::now() < end, "single retry not delivered");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let (status, again) = app
        .post_api(&format!("/api/v1/deliveries/{id}/retry"))
        .await;
    assert_eq!(
        (status.as_u16(), again["error"]["code"].as_str()),
        (409, Some("conflict"))
    );
    let (status, _) = app.post_api("/api/v1/deliveries/dlv_nope/retry").await;
    assert_eq!(status, 404);

    let (status, bulk) = app
        .post_api("/api/v1/deliveries/retry?subscriber=crm&status=dead")
        .await;
    assert_eq!(status, 200, "{bulk}");
    assert_eq!(bulk["retried"], 19);
    until_all(&app, "subscriber=crm", 20, "delivered").await;
    assert_eq!(rx.acknowledged().len(), 20);
    let (status, err) = app
        .post_api("/api/v1/deliveries/retry?status=delivered")
        .await;
    assert_eq!(status, 400, "{err}");
    let (status, err) = app.get("/api/v1/deliveries?status=lost").await;
    assert_eq!(status, 400);
    assert!(err["error"]["message"].as_str().unwrap().contains("dead"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_mid_delivery_loses_nothing_and_resends_nothing_acknowledged() {
    // Slow answers, two at a time: the stop comes with attempts in flight.
    let rx =
        TestReceiver::start(vec![], Reply::status(200).after(Duration::from_millis(150))).await;
    let toml = config(&[subscriber("crm", &rx.url, "max_in_flight = 2")]);
    let app = spawn_app_with(&toml).await;
    app.push_ok("aliyun-call-report", twenty_calls("restart"))
        .await;
    rx.until(Duration::from_secs(10), "a few deliveries", |g| {
        g.len() >= 5
    })
    .await;
    let stopped = app.stop().await;
    let before = rx.got();
    assert!(
        before.len() < 20,
        "stopped mid-delivery ({} sent)",
        before.len()
    );
    assert!(
        before.iter().all(|r| r.answered == 200),
        "in-flight attempts finished before the stop"
    );

    rx.answer(Reply::status(200));
    let app = stopped.restart(&toml).await;
    until_all(&app, "", 20, "delivered").await;
    let mut seen: HashMap<String, usize> = HashMap::new();
    for r in rx.got() {
        *seen.entry(r.id).or_default() += 1;
    }
    assert_eq!(seen.len(), 20, "every event arrived");
    let twice: Vec<_> = seen.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "sent again after a 2xx: {twice:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hanging_subscriber_does_not_slow_a_healthy_one() {
    // `stuck` holds every request until its 5 s timeout; `healthy` answers at once.
    let stuck =
        TestReceiver::start(vec![], Reply::status(200).after(Duration::from_secs(30))).await;
    let healthy = TestReceiver::start(vec![], Reply::status(200)).await;
    let app = spawn_app_with(&config(&[
        subscriber("stuck", &stuck.url, "timeout = \"5s\"\nmax_in_flight = 4"),
        subscriber("healthy", &healthy.url, ""),
    ]))
    .await;
    let started = Instant::now();
    for i in 0..5 {
        app.push_ok("aliyun-call-report", twenty_calls(&format!("iso{i}")))
            .await;
    }
    healthy
        .until(Duration::from_secs(20), "100 acknowledged", |g| {
            g.iter().filter(|r| r.answered == 200).count() == 100
        })
        .await;
    let healthy_done = started.elapsed();
    let stuck_got = stuck.got();
    eprintln!(
        "healthy got 100 events in {healthy_done:?}; stuck holds {} requests",
        stuck_got.len()
    );
    // Shared slots would leave the healthy subscriber waiting for the stuck
    // one's 5 s timeouts (100 events / 4 slots x 5 s).
    assert!(
        healthy_done < Duration::from_secs(4),
        "healthy took {healthy_done:?}"
    );
    assert_eq!(
        stuck_got.len(),
        4,
        "the stuck subscriber holds only its own 4 slots"
    );
    assert!(stuck_got.iter().all(|r| r.answered == 0));
    let pending = deliveries(&app, "subscriber=stuck&status=pending").await;
    assert_eq!(pending.len(), 100);
}

/// Order in which `got` first saw each event id.
fn ids(got: &[Received]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for r in got {
        if !out.contains(&r.id) {
            out.push(r.id.clone());
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retry_after_is_honoured() {
    let rx = TestReceiver::start(
        vec![Reply::status(503).header("retry-after", "2")],
        Reply::status(200),
    )
    .await;
    let app = spawn_app_with(&config(&[subscriber(
        "crm",
        &rx.url,
        "retry_schedule = [\"10ms\"]",
    )]))
    .await;
    app.push_ok("aliyun-call-report", sample("aliyun-call-report"))
        .await;
    let got = rx
        .until(Duration::from_secs(10), "the retry", |g| g.len() == 2)
        .await;
    assert_eq!(ids(&got).len(), 1);
    let gap = got[1].at - got[0].at;
    assert!(
        gap >= Duration::from_millis(1900),
        "Retry-After: 2 waited only {gap:?}"
    );
}
