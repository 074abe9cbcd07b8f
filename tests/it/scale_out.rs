//! Many instances on one PostgreSQL database, against
//! `CALLHOOK_TEST_POSTGRES_URL` (ignored unless run with
//! `--include-ignored`, as CI does).

use crate::backend::required_postgres_database;
use crate::process::Server;
use crate::receiver::{Reply, TestReceiver, SECRET};
use crate::support::{sample, spawn_app_on_database, TestApp};
use futures::StreamExt;
use serde_json::Value;
use std::collections::HashMap;
use std::time::{Duration, Instant};

fn report(call_id: &str) -> Vec<u8> {
    let mut r: Value = serde_json::from_slice(&sample("aliyun-call-report")).unwrap();
    r[0]["callId"] = Value::String(call_id.to_owned());
    serde_json::to_vec(&r).unwrap()
}

fn subscriber(url: &str, extra: &str) -> String {
    format!(
        "allow_private_subscribers = true\n[[subscribers]]\nname = \"crm\"\nurl = \"{url}\"\nsecret = \"{SECRET}\"\n{extra}\n"
    )
}

async fn total_calls(app: &TestApp) -> u64 {
    let stats = app.get_json("/api/v1/stats?group_by=vendor").await;
    stats["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["calls"].as_u64().unwrap())
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL: CALLHOOK_TEST_POSTGRES_URL"]
async fn pushes_spread_over_two_instances_appear_through_either() {
    let (db, _guard) = required_postgres_database().await;
    let (a, b) = (
        spawn_app_on_database(&db, "").await,
        spawn_app_on_database(&db, "").await,
    );
    for i in 0..10 {
        let app = if i % 2 == 0 { &a } else { &b };
        app.push_ok("aliyun-call-report", report(&format!("spread-{i}")))
            .await;
    }
    assert_eq!(a.call_ids("limit=100").await.len(), 10);
    assert_eq!(b.call_ids("limit=100").await, a.call_ids("limit=100").await);
    let one = a.call_by_vendor_id("aliyun", "spread-3").await;
    let detail = b
        .get_json(&format!("/api/v1/calls/{}", one["id"].as_str().unwrap()))
        .await;
    assert_eq!(detail["vendor_call_id"], "spread-3");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL: CALLHOOK_TEST_POSTGRES_URL"]
async fn the_same_200_pushes_raced_through_both_make_200_calls_and_200_events() {
    let (db, _guard) = required_postgres_database().await;
    let rx = TestReceiver::start(vec![], Reply::status(200)).await;
    let toml = subscriber(&rx.url, "");
    let (a, b) = (
        spawn_app_on_database(&db, &toml).await,
        spawn_app_on_database(&db, &toml).await,
    );
    // Each push goes to both instances at the same moment; 16 such pairs
    // at a time (more would only queue for connections and meet the
    // acknowledgement budget, which a vendor answers by retrying).
    let race = |i: usize| {
        let body = report(&format!("race-{i}"));
        let send = |app: &TestApp| {
            let req = app
                .client
                .post(app.url("/hooks/aliyun-call-report"))
                .body(body.clone());
            async move {
                let r = req.send().await.unwrap();
                (r.status(), r.text().await.unwrap())
            }
        };
        futures::future::join(send(&a), send(&b))
    };
    let answers: Vec<_> = futures::stream::iter(0..200)
        .map(race)
        .buffer_unordered(16)
        .collect()
        .await;
    for ((s1, t1), (s2, t2)) in answers {
        assert_eq!((s1.as_u16(), s2.as_u16()), (200, 200), "{t1} {t2}");
    }
    // Both instances' projectors run; wait until neither has work left.
    a.settle().await;
    assert_eq!(total_calls(&a).await, 200);
    let got = rx
        .until(Duration::from_secs(20), "200 events", |g| g.len() >= 200)
        .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut seen: HashMap<String, usize> = HashMap::new();
    for r in rx.got() {
        assert_eq!(
            r.event["type"], "call.created",
            "a duplicate made no update event"
        );
        *seen.entry(r.id).or_default() += 1;
    }
    assert_eq!(
        seen.len(),
        200,
        "one call.created per call ({} requests)",
        got.len()
    );
    assert!(
        seen.values().all(|n| *n == 1),
        "each event reached the receiver once"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL: CALLHOOK_TEST_POSTGRES_URL"]
async fn killing_an_instance_mid_delivery_loses_nothing() {
    let (db, _guard) = required_postgres_database().await;
    // Slow answers: the kill comes with deliveries in flight on both.
    let rx =
        TestReceiver::start(vec![], Reply::status(200).after(Duration::from_millis(300))).await;
    let toml = subscriber(&rx.url, "timeout = \"2s\"\nmax_in_flight = 4");
    let dir = tempfile::TempDir::new().unwrap();
    let file = dir.path().join("callhook.toml");
    std::fs::write(&file, &toml).unwrap();
    let doomed = Server::start_with(dir.path(), &db, Some(&file)).await;
    let survivor = spawn_app_on_database(&db, &toml).await;
    // Pushed through the doomed instance, whose dispatcher wakes at once.
    let client = reqwest::Client::new();
    for i in 0..40 {
        let r = client
            .post(format!("{}/hooks/aliyun-call-report", doomed.base))
            .body(report(&format!("kill-{i}")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    }
    rx.until(Duration::from_secs(20), "deliveries under way", |g| {
        g.len() >= 2
    })
    .await;
    doomed.kill();
    let started = Instant::now();
    // The dead instance's leases end 2 s + 5 s after it claimed: then the
    // survivor takes its deliveries over.
    let end = Instant::now() + Duration::from_secs(60);
    loop {
        let page = survivor
            .get_json("/api/v1/deliveries?status=delivered&limit=1000")
            .await;
        if page["items"].as_array().unwrap().len() == 40 {
            break;
        }
        assert!(
            Instant::now() < end,
            "not every delivery was taken over: {page}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let acknowledged: std::collections::HashSet<String> =
        rx.acknowledged().into_iter().map(|r| r.id).collect();
    assert_eq!(acknowledged.len(), 40, "every event reached the receiver");
    let sent_twice = rx.got().len() - 40;
    eprintln!(
        "all delivered {:?} after the kill; {sent_twice} sent again",
        started.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL: CALLHOOK_TEST_POSTGRES_URL"]
async fn readyz_reports_a_database_that_went_away() {
    let (db, guard) = required_postgres_database().await;
    let app = spawn_app_on_database(
        &db,
        "[postgres]\nacquire_timeout = \"1s\"\nconnect_timeout = \"1s\"\n",
    )
    .await;
    let (status, _) = app.get("/readyz").await;
    assert_eq!(status, 200);
    drop(guard); // DROP DATABASE … WITH (FORCE): the pool's connections end.
    let (status, body) = app.get("/readyz").await;
    assert_eq!(status, 503, "{body}");
    let (status, _) = app.get("/healthz").await;
    assert_eq!(status, 200, "the process itself is up");
}
