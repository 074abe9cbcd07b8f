//! Vendor amounts of 10^15 or more in magnitude are not believed (a
//! warning; the raw field stays in `vendor_fields`; the call has no cost),
//! so no sum overflows: the dashboard and the stats answer, and the
//! rollups agree with a scan of the calls, on both backends. Two ITNIO
//! pushes with `pay` = 5e28 once made `GET /` panic.

use crate::support::{body, spawn_app, TestApp};
use callhook::config::{Config, Overrides};
use callhook::storage::{CallFilter, GroupBy, Store};
use proptest::prelude::*;
use reqwest::StatusCode;
use rust_decimal::Decimal;
use serde_json::{json, Value};
use std::str::FromStr;
use std::sync::Arc;

fn record(id: &str, day: u32, pay: Value) -> Value {
    // 2025-06-0<day> 10:00 UTC.
    let start = 1_748_772_000 + i64::from(day - 1) * 86_400;
    json!({"callId": id, "calledPhoneNumber": "628123456744", "startTime": start,
           "endTime": start + 60, "resultStatus": "ANSWERED", "chatDuration": 50, "pay": pay})
}

async fn store_of(app: &TestApp) -> Arc<dyn Store> {
    let overrides = Overrides {
        listen: None,
        database: Some(app.database.clone()),
    };
    let config = Config::load(None, &overrides).expect("config");
    callhook::app::open_store(&config)
        .await
        .expect("store opens")
}

/// `GET /` and the stats answer, and rollups equal a scan for every grouping;
/// the USD total of the stats by vendor.
async fn sums_hold(app: &TestApp) -> Option<String> {
    let overview = app.client.get(app.url("/")).send().await.unwrap();
    assert_eq!(overview.status(), StatusCode::OK, "GET /");
    let (status, stats) = app.get("/api/v1/stats?group_by=day").await;
    assert_eq!(status, StatusCode::OK, "{stats}");
    let store = store_of(app).await;
    let all = CallFilter::default();
    for g in [GroupBy::Vendor, GroupBy::Day, GroupBy::Outcome] {
        let got = store
            .stats(g, &all, &jiff::tz::TimeZone::UTC)
            .await
            .unwrap();
        let want = store
            .scan_stats(g, &all, &jiff::tz::TimeZone::UTC)
            .await
            .unwrap();
        let costs = |rows: &[callhook::storage::StatsRow]| {
            rows.iter()
                .map(|r| (r.key.clone(), r.cost.clone()))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            costs(&got),
            costs(&want),
            "rollup vs scan by {}",
            g.as_str()
        );
    }
    let by_vendor = store
        .stats(GroupBy::Vendor, &all, &jiff::tz::TimeZone::UTC)
        .await
        .unwrap();
    by_vendor.first().and_then(|r| r.cost.get("USD").cloned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn huge_amounts_on_two_days_are_warnings_and_the_dashboard_still_answers() {
    let app = spawn_app().await;
    for (id, day, pay) in [("big-1", 1, json!("5e28")), ("big-2", 2, json!(5e28))] {
        let (status, answer) = app
            .push("itnio-call-record", body(&record(id, day, pay)))
            .await;
        assert_eq!(status, StatusCode::OK, "{answer}");
    }
    app.push_ok(
        "itnio-call-record",
        body(&record("small", 3, json!("0.0200"))),
    )
    .await;
    assert_eq!(sums_hold(&app).await.as_deref(), Some("0.02"));
    let call = app.call_by_vendor_id("itnio", "big-1").await;
    assert_eq!(call["cost"], Value::Null, "{call}");
    assert_eq!(call["vendor_fields"]["pay"], "5e28", "{call}");
    let receipts = app
        .get_json("/api/v1/receipts?source=itnio-call-record")
        .await;
    let text = receipts.to_string();
    assert!(text.contains("out of range"), "{text}");
}

/// An amount: small cents, near the bound on either side, or far past it,
/// as a JSON string or number.
fn amount() -> impl Strategy<Value = (String, bool)> {
    let small = (-1_000_000_i64..1_000_000).prop_map(|c| Decimal::new(c, 2).to_string());
    let near = prop_oneof![
        Just("999999999999999.99".to_owned()),
        Just("-999999999999999.99".to_owned()),
        Just("1000000000000000".to_owned()),
        Just("-1e15".to_owned()),
        Just("5e28".to_owned()),
        Just("-7.9e28".to_owned()),
        Just("79228162514264337593543950335".to_owned()),
        (15u32..28).prop_map(|e| format!("1e{e}")),
    ];
    (prop_oneof![3 => small, 2 => near], any::<bool>())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    #[test]
    fn any_amounts_keep_sums_exact_and_answering(amounts in prop::collection::vec(amount(), 1..8)) {
        let rt = tokio::runtime::Runtime::new().unwrap();
        rt.block_on(async {
            let app = spawn_app().await;
            let mut want: Option<Decimal> = None;
            for (i, (text, as_number)) in amounts.iter().enumerate() {
                let pay = if *as_number {
                    serde_json::from_str::<Value>(text).unwrap()
                } else {
                    json!(text)
                };
                // What the adapter reads: a number's shortest text, as a decimal.
                let seen = pay.as_str().map_or_else(|| pay.to_string(), str::to_owned);
                let read = Decimal::from_str_exact(&seen).or_else(|_| Decimal::from_scientific(&seen));
                if let Ok(d) = read {
                    if d.abs() < Decimal::from(1_000_000_000_000_000_i64) {
                        want = Some(want.unwrap_or_default() + d);
                    }
                }
                let day = (i % 4) as u32 + 1;
                let (status, answer) = app
                    .push("itnio-call-record", body(&record(&format!("p-{i}"), day, pay)))
                    .await;
                assert_eq!(status, StatusCode::OK, "{answer}");
            }
            let total = sums_hold(&app).await;
            let total = total.map(|t| Decimal::from_str(&t).unwrap());
            assert_eq!(total, want.map(|w| w.normalize()), "{amounts:?}");
        });
    }
}
