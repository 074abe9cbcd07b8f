//! Time rules of the canonical call model: zone-less strings read in the
//! source's zone and served in UTC (across midnight too), epoch numbers,
//! and "unknown" values that must never become 1970.

use crate::support::{body, spawn_app, spawn_app_with};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn beijing_early_morning_is_the_previous_utc_day_everywhere() {
    let app = spawn_app().await;
    app.push_ok(
        "aliyun-call-report",
        body(&json!([{
            "callId": "midnight-1", "smartStatusCode": "ANSWERED",
            "startTime": "2025-06-02 03:30:00", "endTime": "2025-06-02 03:31:00", "duration": 60
        }])),
    )
    .await;
    app.push_ok(
        "longlonglong-inbound",
        body(&json!({"count": 1, "data": [{
            "callid": "midnight-2", "calldate": "2025-06-02 07:59:59",
            "answerdate": "2025-06-02 08:00:00", "bill": 5
        }]})),
    )
    .await;

    let a = app.call_by_vendor_id("aliyun", "midnight-1").await;
    assert_eq!(a["answered_at"], "2025-06-01T19:30:00Z");
    assert_eq!(a["ended_at"], "2025-06-01T19:31:00Z");
    assert_eq!(a["started_at"], "2025-06-01T19:30:00Z");
    let b = app.call_by_vendor_id("longlonglong", "midnight-2").await;
    assert_eq!(b["started_at"], "2025-06-01T23:59:59Z");
    assert_eq!(b["answered_at"], "2025-06-02T00:00:00Z");

    let days = app.get_json("/api/v1/stats?group_by=day").await;
    assert_eq!(days["rows"].as_array().unwrap().len(), 1, "{days}");
    assert_eq!(days["rows"][0]["key"], "2025-06-01");
    assert_eq!(days["rows"][0]["calls"], 2);

    // since inclusive, until exclusive, on started_at in UTC.
    assert_eq!(
        app.call_ids("since=2025-06-01T19:30:00Z&until=2025-06-01T23:59:59Z")
            .await,
        ["midnight-1"]
    );
    assert_eq!(
        app.call_ids("since=2025-06-01T19:30:01Z").await,
        ["midnight-2"]
    );
    assert!(app.calls("since=2025-06-02T00:00:00Z").await.is_empty());
    // The same instant written with an offset (the `+` percent-encoded).
    assert_eq!(
        app.call_ids("until=2025-06-02T07:59:59%2B08:00").await,
        ["midnight-1"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_source_timezone_setting_is_used_for_zoneless_times() {
    let app = spawn_app_with(
        r#"
        [[sources]]
        name = "ali-utc"
        kind = "aliyun-call-report"
        timezone = "UTC"
        "#,
    )
    .await;
    app.push_ok(
        "ali-utc",
        body(&json!([{"callId": "tz-1", "smartStatusCode": "ANSWERED",
            "startTime": "2025-06-02 03:30:00"}])),
    )
    .await;
    let call = app.call_by_vendor_id("aliyun", "tz-1").await;
    assert_eq!(call["answered_at"], "2025-06-02T03:30:00Z");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn zero_null_and_empty_times_are_unknown_not_1970() {
    let app = spawn_app().await;
    app.push_ok(
        "laaffic-voice-report",
        body(&json!({"array": [{
            "voiceId": "zero-times", "callStatusNew": 3, "callTime": 1774509747000_i64,
            "answerTime": 0, "ringingTime": null, "hangupTime": ""
        }]})),
    )
    .await;
    app.push_ok(
        "aliyun-call-report",
        body(
            &json!([{"callId": "empty-times", "smartStatusCode": "NO_ANSWER",
            "startTime": "", "endTime": null, "originateTime": "2025-06-01 08:00:00"}]),
        ),
    )
    .await;
    let l = app.call_by_vendor_id("laaffic", "zero-times").await;
    assert_eq!(l["answered_at"], serde_json::Value::Null);
    assert_eq!(l["ringing_at"], serde_json::Value::Null);
    assert_eq!(l["ended_at"], serde_json::Value::Null);
    assert_eq!(l["started_at"], "2026-03-26T07:22:27Z");
    assert_eq!(l["outcome"], "no_answer");
    let a = app.call_by_vendor_id("aliyun", "empty-times").await;
    assert_eq!(a["answered_at"], serde_json::Value::Null);
    assert_eq!(a["started_at"], "2025-06-01T00:00:00Z");
    assert!(
        app.calls("until=1971-01-01T00:00:00Z").await.is_empty(),
        "a call landed in 1970"
    );
}
