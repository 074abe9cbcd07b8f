//! `GET /api/v1/calls` filters and `GET /api/v1/calls/{id}` errors
//! (docs/http-contract.md), over the known data set.

use crate::dataset::{self, ALL};
use crate::support::spawn_app;
use reqwest::StatusCode;
use serde_json::Value;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_list_is_newest_first_and_each_filter_selects_exactly() {
    let app = spawn_app().await;
    dataset::seed(&app).await;

    let newest_first = [
        "S-L4", "S-L3", "S-G1", "S-I1", "S-L2", "S-L1", "S-A3", "S-A2", "S-A1",
    ];
    assert_eq!(app.call_ids("").await, newest_first);
    assert_eq!(app.call_ids("limit=1000").await.len(), ALL.len());

    let cases: &[(&str, &[&str])] = &[
        ("vendor=laaffic", &["S-L4", "S-L3", "S-L2", "S-L1"]),
        ("vendor=itnio", &["S-I1"]),
        ("vendor=longlonglong", &["S-G1"]),
        ("source=aliyun-call-notes", &["S-A3", "S-A1"]),
        ("source=aliyun-call-report", &["S-A2"]),
        ("direction=inbound", &["S-G1"]),
        ("outcome=busy", &["S-L4"]),
        ("outcome=no_answer", &["S-L2", "S-A2"]),
        (
            "outcome=answered",
            &["S-L3", "S-G1", "S-I1", "S-L1", "S-A3", "S-A1"],
        ),
        ("outcome=voicemail", &[]),
        ("task_id=T1", &["S-A2", "S-A1"]),
        ("task_id=500", &["S-L2", "S-L1"]),
        ("out_id=crm-2", &["S-A2"]),
        ("customer_number=17500000001", &["S-G1"]),
        ("customer_number=65S-L3", &["S-L3"]),
        ("vendor_call_id=S-I1", &["S-I1"]),
        ("vendor=laaffic&outcome=answered", &["S-L3", "S-L1"]),
        ("vendor=aliyun&task_id=500", &[]),
        // since inclusive, until exclusive, on started_at.
        (
            "since=2025-06-02T05:00:00Z",
            &["S-L4", "S-L3", "S-G1", "S-I1", "S-L2", "S-L1"],
        ),
        ("until=2025-06-02T05:00:00Z", &["S-A3", "S-A2", "S-A1"]),
        // The same instant as an offset, encoded, and with its `+` left
        // unencoded (it arrives as a space).
        (
            "until=2025-06-02T13:00:00%2B08:00",
            &["S-A3", "S-A2", "S-A1"],
        ),
        ("until=2025-06-02T13:00:00+08:00", &["S-A3", "S-A2", "S-A1"]),
        (
            "since=2025-06-01T01:59:50Z&until=2025-06-01T03:00:00Z",
            &["S-A1"],
        ),
        (
            "since=2025-06-02T00:00:00Z&until=2025-06-03T00:00:00Z&vendor=laaffic",
            &["S-L2", "S-L1"],
        ),
    ];
    for (query, expected) in cases {
        assert_eq!(app.call_ids(query).await, *expected, "?{query}");
    }
    let outbound = app.call_ids("direction=outbound").await;
    assert_eq!(outbound.len(), 8);
    assert!(!outbound.contains(&"S-G1".to_owned()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_items_may_omit_turns_and_vendor_fields_but_the_call_has_them() {
    let app = spawn_app().await;
    app.push_ok(
        "itnio-call-record",
        crate::support::body(&crate::vendors_other::itnio_record("with-turns")),
    )
    .await;
    let items = app.calls("vendor=itnio").await;
    let call = app.call_by_vendor_id("itnio", "with-turns").await;
    assert_eq!(call["turns"].as_array().unwrap().len(), 3);
    assert_eq!(
        call["vendor_fields"]["callDetailIds"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    for k in ["turns", "vendor_fields"] {
        if let Some(v) = items[0].get(k) {
            assert_eq!(v, &call[k], "a list item's {k} must be whole or absent");
        }
    }
}

/// Asserts `{"error": {"code": code, "message": …}}` with `status`.
pub fn assert_api_error(status: StatusCode, answer: &Value, want: StatusCode, code: &str) {
    assert_eq!(status, want, "{answer}");
    assert_eq!(answer["error"]["code"], code, "{answer}");
    assert!(
        !answer["error"]["message"].as_str().unwrap_or("").is_empty(),
        "no message: {answer}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_list_parameters_are_400_naming_the_parameter() {
    let app = spawn_app().await;
    dataset::seed(&app).await;
    for (query, name) in [
        ("vendor=acme", "vendor"),
        ("direction=sideways", "direction"),
        ("outcome=great", "outcome"),
        ("since=yesterday", "since"),
        ("until=2025-06-01", "until"),
        (
            "since=2025-06-03T00:00:00Z&until=2025-06-01T00:00:00Z",
            "since",
        ),
        ("colour=red", "colour"),
        ("group_by=vendor", "group_by"),
        ("limit=0", "limit"),
        ("limit=1001", "limit"),
        ("limit=-5", "limit"),
        ("limit=ten", "limit"),
        ("cursor=not-a-cursor!", "cursor"),
        ("cursor=Zm9vYmFy", "cursor"),
    ] {
        let (status, answer) = app.get(&format!("/api/v1/calls?{query}")).await;
        assert_api_error(
            status,
            &answer,
            StatusCode::BAD_REQUEST,
            "invalid_parameter",
        );
        let message = answer["error"]["message"].as_str().unwrap();
        assert!(message.contains(name), "?{query}: {message}");
    }
    let (status, answer) = app.get("/api/v1/calls?limit=1000").await;
    assert_eq!(status, StatusCode::OK, "{answer}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_call_is_404() {
    let app = spawn_app().await;
    let (status, answer) = app
        .get("/api/v1/calls/00000000000000000000000000000000")
        .await;
    assert_api_error(status, &answer, StatusCode::NOT_FOUND, "not_found");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_api_routes_and_methods_answer_the_api_error_body() {
    let app = spawn_app().await;
    let (status, answer) = app.get("/api/v1/nope").await;
    assert_api_error(status, &answer, StatusCode::NOT_FOUND, "not_found");
    let (status, answer) = app.get("/api/v1/calls/abc/extra").await;
    assert_api_error(status, &answer, StatusCode::NOT_FOUND, "not_found");

    let (status, answer) = app.get("/api/v1/receipts/abc/replay").await;
    assert_api_error(
        status,
        &answer,
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
    );
    let resp = app
        .client
        .delete(app.url("/api/v1/calls"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::METHOD_NOT_ALLOWED);
    let answer: Value = resp.json().await.unwrap();
    assert_eq!(answer["error"]["code"], "method_not_allowed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn q_matches_a_number_out_id_vendor_call_id_or_call_id_exactly() {
    let app = spawn_app().await;
    dataset::seed(&app).await;
    let id = app.call_id("laaffic", "S-L1").await;
    for (q, want) in [
        ("13900000002", vec!["S-A2"]),
        ("crm-3", vec!["S-A3"]),
        ("S-L1", vec!["S-L1"]),
        (id.as_str(), vec!["S-L1"]),
        ("1390000000", vec![]),
    ] {
        assert_eq!(app.call_ids(&format!("q={q}")).await, want, "q={q}");
    }
    // With another filter the two must both hold.
    assert!(app.call_ids("q=crm-3&vendor=laaffic").await.is_empty());
    let stats = app.get_json("/api/v1/stats?group_by=vendor&q=crm-3").await;
    assert_eq!(stats["rows"][0]["key"], "aliyun");
    assert_eq!(stats["rows"][0]["calls"], 1);
}
