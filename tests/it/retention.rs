//! Retention and deletes seen through the API, on both backends: a purge
//! takes exactly what is older than the cutoff and the rollup-backed stats
//! still equal a scan; `serve` purges by itself with `retention_days`; the
//! DELETE routes; and the `callhook_retention_deleted_total` counter,
//! read through a Prometheus recorder local to the test's thread (these
//! tests run on tokio's current-thread runtime, so the app's tasks run on
//! that thread too).

use crate::support::{body, spawn_app, spawn_app_with, TestApp};
use callhook::config::{Config, Overrides};
use callhook::domain::SourceKind;
use callhook::storage::*;
use jiff::{SignedDuration, Timestamp};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A second store on the app's database (for times a push cannot choose,
/// and for scans).
pub async fn store_of(app: &TestApp) -> Arc<dyn Store> {
    let overrides = Overrides {
        listen: None,
        database: Some(app.database.clone()),
    };
    let config = Config::load(None, &overrides).expect("config");
    callhook::app::open_store(&config)
        .await
        .expect("store opens")
}

/// `t` as Alibaba writes times: `yyyy-MM-dd HH:mm:ss` in Beijing time (the
/// source's default zone).
pub fn beijing(t: Timestamp) -> String {
    let tz = jiff::tz::TimeZone::get("Asia/Shanghai").unwrap();
    t.to_zoned(tz).strftime("%Y-%m-%d %H:%M:%S").to_string()
}

/// An Alibaba call-report body of one answered call per `(callId, start)`.
pub fn report(calls: &[(&str, Timestamp)]) -> Vec<u8> {
    let records: Vec<Value> = calls
        .iter()
        .enumerate()
        .map(|(i, (id, t))| {
            json!({"callId": id, "taskId": format!("T{}", i % 3), "callee": format!("1390000{i:04}"),
                   "smartStatusCode": "ANSWERED", "originateTime": beijing(*t), "duration": 20 + i})
        })
        .collect();
    body(&json!(records))
}

/// A rejected receipt (no calls) received at `at`, appended directly.
pub fn old_receipt(id: &str, at: Timestamp) -> Append {
    Append {
        receipt: NewReceipt {
            id: id.to_owned(),
            source: "aliyun-call-report".into(),
            kind: SourceKind::AliyunCallReport,
            received_at: at,
            remote_addr: "127.0.0.1:1".into(),
            body: "{not json".into(),
        },
        head: ReceiptHead::of(&BodyResult::Rejected(callhook::adapters::RecordIssue {
            index: None,
            path: "$".into(),
            message: "not JSON".into(),
        })),
        deadline: None,
    }
}

/// The value of `callhook_retention_deleted_total{kind, reason}` (0 when absent).
fn deleted(handle: &PrometheusHandle, kind: &str, reason: &str) -> u64 {
    let text = handle.render();
    let (k, r) = (format!("kind=\"{kind}\""), format!("reason=\"{reason}\""));
    text.lines()
        .filter(|l| l.starts_with("callhook_retention_deleted_total{"))
        .find(|l| l.contains(&k) && l.contains(&r))
        .and_then(|l| l.rsplit(' ').next()?.parse().ok())
        .unwrap_or(0)
}

/// Asserts `GET /api/v1/stats?group_by=g` (rollups) equals a scan, for
/// every grouping.
async fn assert_stats_equal_a_scan(app: &TestApp, store: &dyn Store) {
    for g in [
        GroupBy::Vendor,
        GroupBy::Day,
        GroupBy::TaskId,
        GroupBy::Outcome,
    ] {
        let api = app
            .get_json(&format!("/api/v1/stats?group_by={}", g.as_str()))
            .await;
        let scan = store
            .scan_stats(g, &CallFilter::default(), &jiff::tz::TimeZone::UTC)
            .await
            .unwrap();
        let scan: Vec<(Option<String>, u64, i64)> = scan
            .into_iter()
            .map(|r| (r.key, r.calls, r.talk_seconds))
            .collect();
        let api: Vec<(Option<String>, u64, i64)> = api["rows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r["key"].as_str().map(str::to_owned),
                    r["calls"].as_u64().unwrap(),
                    r["talk_seconds"].as_i64().unwrap(),
                )
            })
            .collect();
        assert_eq!(api, scan, "group_by {}", g.as_str());
    }
}

#[tokio::test]
async fn a_purge_takes_exactly_what_is_older_than_the_cutoff() {
    let app = spawn_app().await;
    let cutoff: Timestamp = "2025-06-15T00:00:00Z".parse().unwrap();
    let sec = |s: i64| cutoff + SignedDuration::from_secs(s);
    app.push_ok(
        "aliyun-call-report",
        report(&[
            ("before", sec(-1)),
            ("at", sec(0)),
            ("after", sec(1)),
            ("day-before", sec(-86_400)),
        ]),
    )
    .await;
    let store = store_of(&app).await;
    for (id, s) in [("r-before", -1), ("r-at", 0), ("r-after", 1)] {
        store.append(old_receipt(id, sec(s))).await.unwrap();
    }
    assert_eq!(
        store.count_purgeable(cutoff).await.unwrap(),
        PurgeCounts {
            calls: 2,
            receipts: 1,
            events: 0
        }
    );
    let batch = store.purge(cutoff, 100).await.unwrap();
    assert_eq!(
        batch,
        PurgeBatch::Deleted(PurgeCounts {
            calls: 2,
            receipts: 1,
            events: 0
        })
    );
    let mut left = app.call_ids("limit=100").await;
    left.sort();
    assert_eq!(left, ["after", "at"]);
    for (id, status) in [
        ("r-before", StatusCode::NOT_FOUND),
        ("r-at", StatusCode::OK),
        ("r-after", StatusCode::OK),
    ] {
        let (got, _) = app.get(&format!("/api/v1/receipts/{id}")).await;
        assert_eq!(got, status, "receipt {id}");
    }
    assert_stats_equal_a_scan(&app, &*store).await;
    let day = app.get_json("/api/v1/stats?group_by=day").await;
    let keys: Vec<&str> = day["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["key"].as_str().unwrap())
        .collect();
    assert_eq!(keys, ["2025-06-15"]);
}

#[tokio::test]
async fn serve_purges_by_itself_with_retention_days_and_counts_it() {
    let recorder = PrometheusBuilder::new().build_recorder();
    let handle = recorder.handle();
    let _local = metrics::set_default_local_recorder(&recorder);
    let app = spawn_app_with("retention_days = 30\nretention_interval = \"100ms\"\n").await;
    let now = Timestamp::now();
    let recent = now - SignedDuration::from_hours(24 * 29);
    let old = now - SignedDuration::from_hours(24 * 31);
    app.push_ok(
        "aliyun-call-report",
        report(&[
            ("recent", recent),
            ("old-1", old),
            ("old-2", old - SignedDuration::from_hours(24 * 400)),
        ]),
    )
    .await;
    let end = Instant::now() + Duration::from_secs(15);
    while app.calls("limit=100").await.len() > 1 {
        assert!(Instant::now() < end, "the job did not purge in time");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(app.call_ids("limit=100").await, ["recent"]);
    let stats = app.get_json("/api/v1/stats").await;
    assert_eq!(stats["rows"][0]["calls"], 1);
    let receipts = app.get_json("/api/v1/receipts").await;
    assert_eq!(
        receipts["items"].as_array().unwrap().len(),
        1,
        "the receipt came in now: it stays"
    );
    assert_eq!(deleted(&handle, "calls", "retention"), 2);
    assert_eq!(deleted(&handle, "receipts", "retention"), 0);
    assert!(handle
        .render()
        .contains("# HELP callhook_retention_deleted_total"));
    app.stop().await;
}

#[tokio::test]
async fn delete_routes_remove_a_call_with_its_own_receipts_and_a_receipt_alone() {
    let recorder = PrometheusBuilder::new().build_recorder();
    let handle = recorder.handle();
    let _local = metrics::set_default_local_recorder(&recorder);
    let app = spawn_app().await;
    let t: Timestamp = "2025-06-01T08:00:00Z".parse().unwrap();
    let shared = report(&[("a", t), ("b", t)]);
    app.push_ok("aliyun-call-report", shared.clone()).await;
    let own = report(&[("a", t + SignedDuration::from_secs(60))]);
    app.push_ok("aliyun-call-report", own.clone()).await;
    let a = app.call_id("aliyun", "a").await;
    let shared_id = app.receipt_of(&shared).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let own_id = app.receipt_of(&own).await["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let delete = |path: String| {
        let mut req = app.client.delete(app.url(&path));
        if let Some(t) = &app.api_token {
            req = req.bearer_auth(t);
        }
        async move {
            let resp = req.send().await.unwrap();
            let status = resp.status();
            let text = resp.text().await.unwrap();
            (status, text)
        }
    };
    let (status, text) = delete(format!("/api/v1/calls/{a}")).await;
    assert_eq!((status, text.as_str()), (StatusCode::NO_CONTENT, ""));
    let (status, _) = app.get(&format!("/api/v1/calls/{a}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, text) = delete(format!("/api/v1/calls/{a}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let err: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(err["error"]["code"], "not_found", "{err}");
    let (status, _) = app.get(&format!("/api/v1/receipts/{own_id}")).await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "the receipt only of a is gone"
    );
    let b = app.call_by_vendor_id("aliyun", "b").await;
    assert_eq!(b["receipts"].as_array().unwrap().len(), 1);
    assert_eq!(b["receipts"][0]["id"], shared_id.as_str(), "shared: kept");
    let store = store_of(&app).await;
    assert_stats_equal_a_scan(&app, &*store).await;

    let (status, _) = delete(format!("/api/v1/receipts/{shared_id}")).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = delete(format!("/api/v1/receipts/{shared_id}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let b = app.call_by_vendor_id("aliyun", "b").await;
    assert_eq!(b["receipts"], json!([]), "the call stays");
    assert_eq!(app.call_ids("").await, ["b"]);
    let (status, _) = delete("/api/v1/calls".into()).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);

    assert_eq!(deleted(&handle, "calls", "api"), 1);
    assert_eq!(deleted(&handle, "receipts", "api"), 2);
}
