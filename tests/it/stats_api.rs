//! `GET /api/v1/stats` for every `group_by`, with exact numbers over the
//! known data set (`tests/it/dataset.rs` derives them).

use crate::calls_api::assert_api_error;
use crate::dataset;
use crate::support::{assert_close, spawn_app, TestApp};
use reqwest::StatusCode;
use serde_json::{json, Value};

/// One expected row: key, calls, answered, talk_seconds, avg_talk_seconds,
/// cost, avg_qa_score. `answer_rate` is checked as answered / calls.
struct Row(
    Option<&'static str>,
    u64,
    u64,
    i64,
    Option<f64>,
    Value,
    Option<f64>,
);

async fn assert_stats(app: &TestApp, query: &str, expected: &[Row]) {
    let stats = app.get_json(&format!("/api/v1/stats?{query}")).await;
    let rows = stats["rows"].as_array().expect("rows");
    let keys: Vec<&Value> = rows.iter().map(|r| &r["key"]).collect();
    let want: Vec<Value> = expected.iter().map(|r| json!(r.0)).collect();
    assert_eq!(keys, want.iter().collect::<Vec<_>>(), "keys of ?{query}");
    for (row, Row(key, calls, answered, talk, avg_talk, cost, qa)) in rows.iter().zip(expected) {
        let at = format!("?{query} row {key:?}");
        assert_eq!(row["calls"], *calls, "{at} calls");
        assert_eq!(row["answered"], *answered, "{at} answered");
        assert_close(&row["answer_rate"], *answered as f64 / *calls as f64, &at);
        assert_eq!(row["talk_seconds"], *talk, "{at} talk_seconds");
        match avg_talk {
            Some(v) => assert_close(&row["avg_talk_seconds"], *v, &format!("{at} avg_talk")),
            None => assert_eq!(row["avg_talk_seconds"], Value::Null, "{at} avg_talk"),
        }
        assert_eq!(&row["cost"], cost, "{at} cost");
        match qa {
            Some(v) => assert_close(&row["avg_qa_score"], *v, &format!("{at} avg_qa")),
            None => assert_eq!(row["avg_qa_score"], Value::Null, "{at} avg_qa"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stats_by_vendor_and_source_are_exact() {
    let app = spawn_app().await;
    dataset::seed(&app).await;
    let by_vendor = [
        Row(Some("aliyun"), 3, 2, 180, Some(90.0), json!({}), Some(90.0)),
        Row(
            Some("itnio"),
            1,
            1,
            50,
            Some(50.0),
            json!({"USD": "0.04"}),
            None,
        ),
        // 0.1 + 0.1 + 0.1 is exactly 0.3: money is never summed as floats.
        Row(
            Some("laaffic"),
            4,
            2,
            75,
            Some(37.5),
            json!({"EUR": "0.25", "USD": "0.3"}),
            None,
        ),
        Row(Some("longlonglong"), 1, 1, 20, Some(20.0), json!({}), None),
    ];
    assert_stats(&app, "group_by=vendor", &by_vendor).await;
    assert_stats(&app, "", &by_vendor).await;

    assert_stats(
        &app,
        "group_by=source",
        &[
            // The notes came last to S-A1 and S-A3.
            Row(
                Some("aliyun-call-notes"),
                2,
                2,
                180,
                Some(90.0),
                json!({}),
                Some(90.0),
            ),
            Row(Some("aliyun-call-report"), 1, 0, 0, None, json!({}), None),
            Row(
                Some("itnio-call-record"),
                1,
                1,
                50,
                Some(50.0),
                json!({"USD": "0.04"}),
                None,
            ),
            Row(
                Some("laaffic-voice-report"),
                4,
                2,
                75,
                Some(37.5),
                json!({"EUR": "0.25", "USD": "0.3"}),
                None,
            ),
            Row(
                Some("longlonglong-inbound"),
                1,
                1,
                20,
                Some(20.0),
                json!({}),
                None,
            ),
        ],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stats_by_outcome_day_and_task_are_exact() {
    let app = spawn_app().await;
    dataset::seed(&app).await;
    assert_stats(
        &app,
        "group_by=outcome",
        &[
            Row(
                Some("answered"),
                6,
                6,
                325,
                Some(325.0 / 6.0),
                json!({"USD": "0.24"}),
                Some(90.0),
            ),
            Row(Some("busy"), 1, 0, 0, None, json!({"EUR": "0.25"}), None),
            Row(
                Some("no_answer"),
                2,
                0,
                0,
                None,
                json!({"USD": "0.1"}),
                None,
            ),
        ],
    )
    .await;
    assert_stats(
        &app,
        "group_by=day",
        &[
            Row(
                Some("2025-06-01"),
                2,
                1,
                60,
                Some(60.0),
                json!({}),
                Some(80.0),
            ),
            Row(
                Some("2025-06-02"),
                3,
                2,
                150,
                Some(75.0),
                json!({"USD": "0.2"}),
                Some(100.0),
            ),
            Row(
                Some("2025-06-03"),
                4,
                3,
                115,
                Some(115.0 / 3.0),
                json!({"EUR": "0.25", "USD": "0.14"}),
                None,
            ),
        ],
    )
    .await;
    assert_stats(
        &app,
        "group_by=task_id",
        &[
            Row(
                Some("500"),
                2,
                1,
                30,
                Some(30.0),
                json!({"USD": "0.2"}),
                None,
            ),
            Row(
                Some("501"),
                2,
                1,
                45,
                Some(45.0),
                json!({"EUR": "0.25", "USD": "0.1"}),
                None,
            ),
            Row(
                Some("900"),
                1,
                1,
                50,
                Some(50.0),
                json!({"USD": "0.04"}),
                None,
            ),
            Row(Some("T1"), 2, 1, 60, Some(60.0), json!({}), Some(80.0)),
            Row(Some("T2"), 1, 1, 120, Some(120.0), json!({}), Some(100.0)),
            Row(Some("TL"), 1, 1, 20, Some(20.0), json!({}), None),
        ],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stats_take_the_list_filters() {
    let app = spawn_app().await;
    dataset::seed(&app).await;
    assert_stats(
        &app,
        "group_by=task_id&vendor=laaffic&since=2025-06-02T06:00:00Z",
        &[
            Row(Some("500"), 1, 0, 0, None, json!({"USD": "0.1"}), None),
            Row(
                Some("501"),
                2,
                1,
                45,
                Some(45.0),
                json!({"EUR": "0.25", "USD": "0.1"}),
                None,
            ),
        ],
    )
    .await;
    assert_stats(&app, "group_by=vendor&outcome=voicemail", &[]).await;
    // A call without a task is counted under a null key.
    app.push_ok(
        "aliyun-call-report",
        crate::support::body(&json!([{"callId": "no-task", "smartStatusCode": "CANCEL",
            "originateTime": "2025-06-04 08:00:00"}])),
    )
    .await;
    assert_stats(
        &app,
        "group_by=task_id&since=2025-06-04T00:00:00Z",
        &[Row(None, 1, 0, 0, None, json!({}), None)],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_stats_parameters_are_400() {
    let app = spawn_app().await;
    for query in [
        "group_by=week",
        "group_by=",
        "limit=10",
        "vendor=acme",
        "nope=1",
    ] {
        let (status, answer) = app.get(&format!("/api/v1/stats?{query}")).await;
        assert_api_error(
            status,
            &answer,
            StatusCode::BAD_REQUEST,
            "invalid_parameter",
        );
    }
    let (status, answer) = app.get("/api/v1/stats?group_by=week").await;
    assert!(
        answer["error"]["message"]
            .as_str()
            .unwrap()
            .contains("group_by"),
        "{status}: {answer}"
    );
}

/// `(key, calls)` of each row of `GET /api/v1/stats?{query}`.
async fn counts(app: &TestApp, query: &str) -> Vec<(String, u64)> {
    let stats = app.get_json(&format!("/api/v1/stats?{query}")).await;
    stats["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|r| {
            assert_eq!(r["awaiting_report"], 0, "?{query}: {r}");
            (
                r["key"].as_str().unwrap_or_default().to_owned(),
                r["calls"].as_u64().unwrap(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn days_and_hours_follow_tz_and_bounds_inside_an_hour_are_exact() {
    let app = spawn_app().await;
    // Alibaba's times are Asia/Shanghai (UTC+8): 23:30Z on the 3rd, 00:10Z
    // and 15:50Z on the 4th.
    app.push_ok(
        "aliyun-call-report",
        crate::support::body(&json!([
            {"callId": "t1", "smartStatusCode": "CANCEL", "originateTime": "2025-06-04 07:30:00"},
            {"callId": "t2", "smartStatusCode": "CANCEL", "originateTime": "2025-06-04 08:10:00"},
            {"callId": "t3", "smartStatusCode": "CANCEL", "originateTime": "2025-06-04 23:50:00"}
        ])),
    )
    .await;
    let rows = |v: &[(&str, u64)]| -> Vec<(String, u64)> {
        v.iter().map(|(k, n)| (k.to_string(), *n)).collect()
    };
    assert_eq!(
        counts(&app, "group_by=day").await,
        rows(&[("2025-06-03", 1), ("2025-06-04", 2)])
    );
    assert_eq!(
        counts(&app, "group_by=day&tz=Asia/Shanghai").await,
        rows(&[("2025-06-04", 3)])
    );
    // UTC+5:30 is not a whole hour: answered by a scan, as exactly.
    assert_eq!(
        counts(&app, "group_by=day&tz=Asia/Kolkata").await,
        rows(&[("2025-06-04", 3)])
    );
    assert_eq!(
        counts(&app, "group_by=hour").await,
        rows(&[("00", 1), ("15", 1), ("23", 1)])
    );
    assert_eq!(
        counts(&app, "group_by=hour&tz=Asia/Shanghai").await,
        rows(&[("07", 1), ("08", 1), ("23", 1)])
    );
    assert_eq!(
        counts(&app, "group_by=hour&tz=UTC&since=2025-06-04T00:05:00Z").await,
        rows(&[("00", 1), ("15", 1)])
    );
    assert_eq!(
        counts(
            &app,
            "group_by=vendor&since=2025-06-03T23:45:00Z&until=2025-06-04T15:50:00Z"
        )
        .await,
        rows(&[("aliyun", 1)])
    );
    let (status, answer) = app.get("/api/v1/stats?group_by=day&tz=Mars/Olympus").await;
    assert_api_error(
        status,
        &answer,
        StatusCode::BAD_REQUEST,
        "invalid_parameter",
    );
    let message = answer["error"]["message"].as_str().unwrap();
    assert!(message.contains("Mars/Olympus"), "{message}");
    let (status, answer) = app.get("/api/v1/calls?tz=UTC").await;
    assert_api_error(
        status,
        &answer,
        StatusCode::BAD_REQUEST,
        "invalid_parameter",
    );
}
