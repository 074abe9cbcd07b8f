//! The outbox metrics: `callhook_outbox_backlog{target}` equals the pending
//! deliveries the API lists, and `callhook_deliveries_total{target,result}`
//! counts each recorded attempt as delivered, retry or dead. Subscriber
//! names are unique to this file (the recorder is shared by every app).

use crate::load::report;
use crate::process::free_port;
use crate::prom::scrape;
use crate::receiver::{Reply, TestReceiver, SECRET};
use crate::support::{body, spawn_app_with, TestApp};
use serde_json::Value;
use std::time::{Duration, Instant};

fn config(name: &str, url: &str, schedule: &str) -> String {
    format!(
        "allow_private_subscribers = true\n\n[[subscribers]]\nname = \"{name}\"\nurl = \"{url}\"\n\
         secret = \"{SECRET}\"\nretry_schedule = {schedule}\n"
    )
}

/// `n` new calls in one push.
fn calls(tag: &str, n: usize) -> Vec<u8> {
    body(&Value::Array(
        (0..n).map(|i| report(&format!("{tag}-{i}"))).collect(),
    ))
}

async fn pending(app: &TestApp, name: &str) -> usize {
    let page = app
        .get_json(&format!(
            "/api/v1/deliveries?subscriber={name}&status=pending&limit=1000"
        ))
        .await;
    page["items"].as_array().unwrap().len()
}

/// Waits (at most 15 s) until `cond` holds on a scrape's value of `name`
/// with `labels`; returns that value.
async fn until_metric(
    app: &TestApp,
    name: &str,
    labels: &[(&str, &str)],
    cond: impl Fn(f64) -> bool,
) -> f64 {
    let end = Instant::now() + Duration::from_secs(15);
    loop {
        let v = scrape(app).await.get(name, labels);
        if cond(v) {
            return v;
        }
        assert!(Instant::now() < end, "{name} {labels:?} stayed at {v}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_backlog_gauge_is_the_pending_deliveries_of_a_subscriber_that_is_down() {
    let name = "mx-backlog-down";
    let closed = format!("http://127.0.0.1:{}/hook", free_port());
    let app = spawn_app_with(&config(name, &closed, "[\"1h\"]")).await;
    let target = [("target", name)];
    assert_eq!(
        scrape(&app).await.get("callhook_outbox_backlog", &target),
        0.0
    );
    app.push_ok("aliyun-call-report", calls("mx-bl", 3)).await;
    app.push_ok("aliyun-call-report", calls("mx-bl2", 2)).await;
    assert_eq!(pending(&app, name).await, 5);
    let gauge = scrape(&app).await.get("callhook_outbox_backlog", &target);
    assert_eq!(gauge, 5.0);
    // Each first attempt fails (nothing listens) and is retried in an hour.
    let retry = [("target", name), ("result", "retry")];
    until_metric(&app, "callhook_deliveries_total", &retry, |v| v == 5.0).await;
    assert_eq!(pending(&app, name).await, 5, "still pending");
    assert_eq!(
        scrape(&app).await.get("callhook_outbox_backlog", &target),
        5.0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deliveries_are_counted_delivered_retried_and_dead() {
    let ok = TestReceiver::start(vec![], Reply::status(204)).await;
    let app = spawn_app_with(&config("mx-deliver-ok", &ok.url, "[\"1h\"]")).await;
    app.push_ok("aliyun-call-report", calls("mx-ok", 4)).await;
    ok.until(Duration::from_secs(15), "4 deliveries", |g| g.len() >= 4)
        .await;
    let delivered = [("target", "mx-deliver-ok"), ("result", "delivered")];
    until_metric(&app, "callhook_deliveries_total", &delivered, |v| v >= 4.0).await;
    assert_eq!(ok.acknowledged().len(), 4);
    let s = scrape(&app).await;
    assert_eq!(s.get("callhook_deliveries_total", &delivered), 4.0);
    assert_eq!(
        s.get("callhook_outbox_backlog", &[("target", "mx-deliver-ok")]),
        0.0
    );

    // One retry 10 ms later, then a dead letter: two attempts per event.
    let failing = TestReceiver::start(vec![], Reply::status(500)).await;
    let app = spawn_app_with(&config("mx-deliver-dead", &failing.url, "[\"10ms\"]")).await;
    app.push_ok("aliyun-call-report", calls("mx-dead", 2)).await;
    let dead = [("target", "mx-deliver-dead"), ("result", "dead")];
    until_metric(&app, "callhook_deliveries_total", &dead, |v| v >= 2.0).await;
    let s = scrape(&app).await;
    assert_eq!(s.get("callhook_deliveries_total", &dead), 2.0);
    let retry = [("target", "mx-deliver-dead"), ("result", "retry")];
    assert_eq!(s.get("callhook_deliveries_total", &retry), 2.0);
    assert_eq!(failing.got().len(), 4);
}
