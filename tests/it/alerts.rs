//! `[[alerts]]` end to end (configuration checks: `alerts_config.rs`): each rule kind fires and
//! resolves on a running app, notifying a [`TestReceiver`] with a signed
//! Standard Webhooks request carrying a Slack-style `text`; the resolve
//! message comes once; `for_minutes` debounces; `/api/v1/alerts` and
//! `/alerts` show the firings; a restart keeps the state (no second
//! FIRING). Runs on PostgreSQL with `CALLHOOK_TEST_BACKEND=postgres`.

use crate::receiver::{Received, Reply, TestReceiver, SECRET};
use crate::support::{sample, spawn_app_with, TestApp};
use serde_json::Value;
use std::time::{Duration, Instant};

/// The app's settings: a short interval, one channel `ops` at `url`, and `rules`.
fn config(url: &str, rules: &str) -> String {
    format!(
        "allow_private_subscribers = true\nalerts_interval = \"100ms\"\n\n\
         [[alert_channels]]\nname = \"ops\"\nurl = \"{url}\"\nsecret = \"{SECRET}\"\n\
         retry_schedule = [\"100ms\"]\n\n{rules}"
    )
}

/// The notifications received, as `(state, rule)`.
fn states(got: &[Received]) -> Vec<(String, String)> {
    got.iter()
        .map(|r| {
            (
                r.event["state"].as_str().unwrap_or_default().to_owned(),
                r.event["rule"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

fn count(got: &[Received], state: &str) -> usize {
    states(got).iter().filter(|(s, _)| s == state).count()
}

/// Waits (at most 15 s) until `/api/v1/alerts?{query}` lists `n` alerts.
async fn until_alerts(app: &TestApp, query: &str, n: usize) -> Vec<Value> {
    let end = Instant::now() + Duration::from_secs(15);
    loop {
        let page = app.get_json(&format!("/api/v1/alerts?{query}")).await;
        let items = page["items"].as_array().unwrap().clone();
        if items.len() == n {
            return items;
        }
        assert!(
            Instant::now() < end,
            "timed out waiting for {n} alerts ({query}): {items:#?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Asserts every notification is signed with the channel's secret and has
/// a `text` starting with FIRING or RESOLVED.
fn assert_signed(got: &[Received]) {
    for r in got {
        assert!(
            r.signed,
            "notification verifies with the whsec_ secret: {r:?}"
        );
        let text = r.event["text"].as_str().unwrap_or_default();
        let want = match r.event["state"].as_str() {
            Some("firing") => "FIRING: ",
            _ => "RESOLVED: ",
        };
        assert!(text.starts_with(want), "{text}");
        for key in ["rule", "kind", "value", "threshold", "fired_at", "message"] {
            assert!(!r.event[key].is_null(), "{key} in {}", r.event);
        }
    }
}

/// Waits (at most 10 s) until the page at `path` has every one of `texts`.
async fn until_page(app: &TestApp, path: &str, texts: &[&str]) -> String {
    let end = Instant::now() + Duration::from_secs(10);
    loop {
        let page = app.page(path).await;
        if texts.iter().all(|t| page.contains(t)) {
            return page;
        }
        assert!(
            Instant::now() < end,
            "{path} never showed {texts:?}: {page}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_source_fires_once_resolves_once_and_survives_a_restart() {
    let rx = TestReceiver::start(vec![Reply::status(500)], Reply::status(204)).await;
    let toml = config(
        &rx.url,
        "[[alerts]]\nname = \"quiet-aliyun\"\nkind = \"source_silent\"\nsource = \"aliyun-call-report\"\nminutes = 0.02\n",
    );
    let app = spawn_app_with(&toml).await;
    // Never pushed: silent from the start, so it fires after 1.2 s; the
    // first notification answers 500 and is retried.
    let got = rx
        .until(Duration::from_secs(15), "FIRING acknowledged", |g| {
            g.iter().any(|r| r.answered == 204)
        })
        .await;
    assert_signed(&got);
    assert_eq!(
        count(&got, "firing"),
        2,
        "one retry after the 500: {:?}",
        states(&got)
    );
    assert!(got[0].event["text"]
        .as_str()
        .unwrap()
        .contains("quiet-aliyun"));
    assert_eq!(got[0].id, got[1].id, "a retry keeps its webhook-id");
    let firing = until_alerts(&app, "state=firing", 1).await;
    assert_eq!(firing[0]["rule"], "quiet-aliyun");
    assert_eq!(firing[0]["kind"], "source_silent");
    assert!(firing[0]["resolved_at"].is_null());
    let strip = app.page("/alerts").await;
    assert!(
        strip.contains("quiet-aliyun") && strip.contains("firing"),
        "{strip}"
    );
    // The notified channel is recorded once acknowledged.
    let end = Instant::now() + Duration::from_secs(10);
    loop {
        let a = &until_alerts(&app, "state=firing", 1).await[0];
        if a["notified"]["fired"] == serde_json::json!(["ops"]) {
            break;
        }
        assert!(Instant::now() < end, "notified channels not recorded: {a}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // A restart keeps it firing and sends nothing new.
    let stopped = app.stop().await;
    let before = rx.got().len();
    let app = stopped.restart(&toml).await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(rx.got().len(), before, "{:?}", states(&rx.got()));
    until_alerts(&app, "state=firing", 1).await;

    // A push resolves it: one RESOLVED notification.
    app.push_ok("aliyun-call-report", sample("aliyun-call-report"))
        .await;
    let resolved = until_alerts(&app, "state=resolved", 1).await;
    assert!(resolved[0]["resolved_at"].is_string());
    let got = rx
        .until(Duration::from_secs(10), "RESOLVED", |g| {
            count(g, "resolved") == 1
        })
        .await;
    assert_signed(&got);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let got = rx.got();
    assert_eq!(count(&got, "resolved"), 1, "{:?}", states(&got));
    assert_eq!(count(&got, "firing"), 2, "{:?}", states(&got));
    until_alerts(&app, "state=firing", 0).await;
    let all = until_alerts(&app, "", 1).await;
    assert_eq!(all[0]["state"], "resolved");
    assert_eq!(until_alerts(&app, "rule=quiet-aliyun", 1).await.len(), 1);
    for bad in ["state=open", "limit=0", "colour=red"] {
        let (status, body) = app.get(&format!("/api/v1/alerts?{bad}")).await;
        assert_eq!(status, 400, "{bad}: {body}");
    }
    let page = app
        .client
        .get(app.url("/alerts?state=open"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 400);
    // The gauge follows the state.
    let metrics = app.client.get(app.url("/metrics")).send().await.unwrap();
    let text = metrics.text().await.unwrap();
    assert!(
        text.contains("callhook_alerts_firing{rule=\"quiet-aliyun\"} 0"),
        "{text}"
    );
    assert!(text.contains("callhook_alert_notifications_total{channel=\"ops\",result=\"sent\"}"));
}

/// `n` bodies that are not JSON (rejected receipts).
async fn push_garbage(app: &TestApp, n: usize) {
    for _ in 0..n {
        let (status, _) = app.push("aliyun-call-report", "not json at all").await;
        assert!(status.is_client_error(), "{status}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rejected_rate_needs_min_receipts_and_holds_for_for_minutes() {
    let rx = TestReceiver::start(vec![], Reply::status(204)).await;
    let app = spawn_app_with(&config(
        &rx.url,
        "[[alerts]]\nname = \"bad-pushes\"\nkind = \"rejected_rate\"\nabove = 0.5\nwindow_minutes = 10\nmin_receipts = 3\nfor_minutes = 0.04\n",
    ))
    .await;
    // Two rejected of two: below min_receipts, never fires.
    push_garbage(&app, 2).await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert!(rx.got().is_empty(), "{:?}", states(&rx.got()));
    // Three of three: holds, but must hold 2.4 s before firing.
    push_garbage(&app, 1).await;
    let held_from = Instant::now();
    let got = rx
        .until(Duration::from_secs(15), "FIRING", |g| {
            count(g, "firing") == 1
        })
        .await;
    assert!(
        held_from.elapsed() >= Duration::from_millis(2000),
        "fired after {:?}, before for_minutes",
        held_from.elapsed()
    );
    assert_signed(&got);
    assert_eq!(got[0].event["kind"], "rejected_rate");
    assert_eq!(got[0].event["value"], 1.0);
    assert_eq!(got[0].event["threshold"], 0.5);
    // Accepted pushes bring the rate to 3/7: resolved.
    for _ in 0..4 {
        app.push_ok("aliyun-call-report", sample("aliyun-call-report"))
            .await;
    }
    let got = rx
        .until(Duration::from_secs(15), "RESOLVED", |g| {
            count(g, "resolved") == 1
        })
        .await;
    assert_signed(&got);
    until_page(&app, "/", &["3 rejected today"]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dead_deliveries_fire_and_resolve_when_retried() {
    let rx = TestReceiver::start(vec![], Reply::status(204)).await;
    let crm = TestReceiver::start(vec![], Reply::status(500)).await;
    let rules = format!(
        "[[subscribers]]\nname = \"crm\"\nurl = \"{}\"\nsecret = \"{SECRET}\"\nretry_schedule = []\n\n\
         [[alerts]]\nname = \"dead-crm\"\nkind = \"dead_deliveries\"\nsubscriber = \"crm\"\n",
        crm.url
    );
    let app = spawn_app_with(&config(&rx.url, &rules)).await;
    app.push_ok("aliyun-call-report", sample("aliyun-call-report"))
        .await;
    let got = rx
        .until(Duration::from_secs(15), "FIRING", |g| {
            count(g, "firing") == 1
        })
        .await;
    assert_signed(&got);
    assert_eq!(got[0].event["value"], 1.0);
    until_page(&app, "/", &["1 dead", "1 alert firing"]).await;
    crm.answer(Reply::status(204));
    let (status, body) = app
        .post_api("/api/v1/deliveries/retry?subscriber=crm")
        .await;
    assert_eq!(status, 200, "{body}");
    let got = rx
        .until(Duration::from_secs(15), "RESOLVED", |g| {
            count(g, "resolved") == 1
        })
        .await;
    assert_signed(&got);
    assert_eq!(count(&got, "firing"), 1);
}

/// `n` Alibaba call reports of task `task` started now, none answered.
fn unanswered_calls(task: &str, n: usize) -> Vec<u8> {
    let now = jiff::Timestamp::now()
        .to_zoned(jiff::tz::TimeZone::get("Asia/Shanghai").unwrap())
        .strftime("%Y-%m-%d %H:%M:%S")
        .to_string();
    let records: Vec<Value> = (0..n)
        .map(|i| {
            serde_json::json!({
                "taskId": task,
                "callId": format!("{task}-{i}-{}", ulid::Ulid::new()),
                "originateTime": now,
                "callee": "13900000000",
                "smartStatusCode": "NO_ANSWER",
            })
        })
        .collect();
    serde_json::to_vec(&records).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_low_answer_rate_fires() {
    let rx = TestReceiver::start(vec![], Reply::status(204)).await;
    let app = spawn_app_with(&config(
        &rx.url,
        "[[alerts]]\nname = \"t1-answers\"\nkind = \"answer_rate\"\ntask_id = \"T-ALERT\"\nbelow = 0.3\nwindow_minutes = 60\nmin_calls = 5\n",
    ))
    .await;
    app.push_ok("aliyun-call-report", unanswered_calls("T-ALERT", 4))
        .await;
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert!(rx.got().is_empty(), "4 calls are below min_calls");
    app.push_ok("aliyun-call-report", unanswered_calls("T-ALERT", 2))
        .await;
    let got = rx
        .until(Duration::from_secs(15), "FIRING", |g| {
            count(g, "firing") == 1
        })
        .await;
    assert_signed(&got);
    assert_eq!(got[0].event["value"], 0.0);
    assert!(
        got[0].event["message"]
            .as_str()
            .unwrap()
            .contains("0 of 6 calls"),
        "{}",
        got[0].event
    );
    // Three answered calls: 3 of 9 is above 30 %.
    app.push_ok("aliyun-call-report", answered_calls("T-ALERT", 3))
        .await;
    let got = rx
        .until(Duration::from_secs(15), "RESOLVED", |g| {
            count(g, "resolved") == 1
        })
        .await;
    assert_signed(&got);
    let resolved = got.iter().find(|r| r.event["state"] == "resolved").unwrap();
    assert!(
        resolved.event["text"]
            .as_str()
            .unwrap()
            .contains("3 of 9 calls"),
        "{}",
        resolved.event
    );
}

/// `n` answered Alibaba call reports of task `task`, started now.
fn answered_calls(task: &str, n: usize) -> Vec<u8> {
    let mut records: Vec<Value> = serde_json::from_slice(&unanswered_calls(task, n)).unwrap();
    for r in &mut records {
        r["smartStatusCode"] = "ANSWERED".into();
        r["startTime"] = r["originateTime"].clone();
        r["duration"] = 30.into();
    }
    serde_json::to_vec(&records).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL: CALLHOOK_TEST_POSTGRES_URL"]
async fn two_instances_on_postgresql_notify_each_transition_once() {
    let (db, _guard) = crate::backend::required_postgres_database().await;
    let rx = TestReceiver::start(vec![], Reply::status(204)).await;
    let toml = config(
        &rx.url,
        "[[alerts]]\nname = \"quiet\"\nkind = \"source_silent\"\nsource = \"bland-call\"\nminutes = 0.05\n",
    );
    let (a, b) = (
        crate::support::spawn_app_on_database(&db, &toml).await,
        crate::support::spawn_app_on_database(&db, &toml).await,
    );
    rx.until(Duration::from_secs(15), "FIRING", |g| {
        count(g, "firing") >= 1
    })
    .await;
    // Both instances keep evaluating; neither fires it again. (A push
    // resolves it, and 3 s later it would fire again: the checks stay
    // within that.)
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(count(&rx.got(), "firing"), 1, "{:?}", states(&rx.got()));
    let body = serde_json::to_vec(&serde_json::json!({
        "call_id": "alert-two-instances",
        "status": "completed",
    }))
    .unwrap();
    let (status, answer) = b.push("bland-call", body).await;
    assert!(
        status.is_success() || status.is_client_error(),
        "{status} {answer}"
    );
    rx.until(Duration::from_secs(15), "RESOLVED", |g| {
        count(g, "resolved") >= 1
    })
    .await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let got = rx.got();
    assert_eq!(count(&got, "resolved"), 1, "{:?}", states(&got));
    assert_eq!(count(&got, "firing"), 1, "{:?}", states(&got));
    assert_signed(&got);
    until_alerts(&a, "state=resolved", 1).await;
}
