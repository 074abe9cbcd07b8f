//! Alibaba's own samples (call report, call notes) pushed over HTTP and read
//! back through the query API field by field (the canonical call model).

use crate::support::{assert_call, sample, spawn_app};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aliyun_call_report_sample_reads_back_field_by_field() {
    let app = spawn_app().await;
    let body = sample("aliyun-call-report");
    app.push_ok("aliyun-call-report", body.clone()).await;

    let call = assert_call(
        &app,
        "aliyun",
        "10000161****^1000018****",
        json!({
            "vendor": "aliyun",
            "source": "aliyun-call-report",
            "vendor_call_id": "10000161****^1000018****",
            "direction": "outbound",
            "out_id": "123456",
            "task_id": "1181**************",
            "batch_id": "B202******",
            "script_id": null,
            "task_name": null,
            "customer_number": "139********",
            "line_number": "0571********",
            "outcome": "answered",
            "vendor_status": "ANSWERED",
            "hangup_by": "customer",
            // Beijing time (UTC+8) → UTC.
            "originated_at": "2025-06-01T01:59:45Z",
            "ringing_at": "2025-06-01T01:59:50Z",
            "answered_at": "2025-06-01T02:00:00Z",
            "ended_at": "2025-06-01T02:05:30Z",
            "started_at": "2025-06-01T01:59:45Z",
            "ring_seconds": null,
            "talk_seconds": 330,
            "billed_seconds": null,
            "cost": null,
            "intent": null,
            "tags": [],
            "recording_url": null,
            "region": null,
            "turns": [],
            "analyses": [],
            "vendor_fields": {
                "detailId": "9662*************",
                "statusCode": "200010",
                "statusMsg": "Call ended normally",
                "caller": "05710000*****",
                "bRingTime": "2025-06-01 09:59:52",
                "bStartTime": "2025-06-01 09:59:55",
                "bEndTime": "2025-06-01 10:05:25",
                "bDuration": 320,
                "bOriginateTime": "2025-06-01 09:59:48"
            }
        }),
    )
    .await;
    let receipts = call["receipts"].as_array().unwrap();
    assert_eq!(receipts.len(), 1, "{receipts:?}");
    assert_eq!(receipts[0]["source"], "aliyun-call-report");
    assert_eq!(receipts[0]["status"], "accepted");
    assert_eq!(call["first_received_at"], receipts[0]["received_at"]);
    assert_eq!(call["updated_at"], receipts[0]["received_at"]);
    let receipt = app.receipt_of(&body).await;
    assert_eq!(receipts[0]["id"], receipt["id"]);
    assert_eq!(receipt["record_count"], 1);
    assert_eq!(receipt["kind"], "aliyun-call-report");
    assert_eq!(receipt["body_bytes"], body.len());
    assert_eq!(receipt["errors"], json!([]));
    assert_eq!(receipt["warnings"], json!([]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aliyun_call_notes_sample_attaches_a_scored_inspection() {
    let app = spawn_app().await;
    app.push_ok("aliyun-call-notes", sample("aliyun-call-notes"))
        .await;

    let call = assert_call(
        &app,
        "aliyun",
        "155***********^142**************",
        json!({
            "vendor": "aliyun",
            "source": "aliyun-call-notes",
            "vendor_call_id": "155***********^142**************",
            "direction": "outbound",
            "out_id": "123456789",
            "task_id": null,
            "batch_id": null,
            "script_id": null,
            "task_name": null,
            "customer_number": "155********",
            "line_number": null,
            // Notes carry no outcome and no call times.
            "outcome": "unknown",
            "vendor_status": "",
            "hangup_by": "unknown",
            "originated_at": null,
            "ringing_at": null,
            "answered_at": null,
            "ended_at": null,
            "ring_seconds": null,
            "talk_seconds": null,
            "billed_seconds": null,
            "cost": null,
            "intent": null,
            "tags": [],
            "recording_url": null,
            "region": null,
            "turns": [],
            "analyses": [{
                "kind": "quality_inspection",
                "success": true,
                "reported_at": "2026-03-02T07:29:07Z",
                "score": 15.0,
                "full_score": 15.0,
                "items": [{
                    "item": "Prohibited Sensitive Word",
                    "score": 15.0,
                    "full_score": 15.0,
                    "problem": "None",
                    "suggestion": "Continue using compliant language and avoid absolute or commitment-based statements."
                }],
                "vendor_fields": {
                    "biz_id": "21*********",
                    "error_msg": "success",
                    "content_length": 1343,
                    "duration": 267,
                    "start_time": "2026-03-02 15:28:59"
                }
            }],
            "vendor_fields": {}
        }),
    )
    .await;
    // Without any call time, started_at falls back to the first receipt.
    assert_eq!(call["started_at"], call["first_received_at"]);
    assert_eq!(call["receipts"][0]["status"], "accepted");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bare_object_report_is_accepted_like_an_array() {
    let app = spawn_app().await;
    let record = json!({
        "callId": "bare-1", "smartStatusCode": "NO_ANSWER", "callee": "13900000001",
        "originateTime": "2025-06-01 08:00:00", "duration": 0, "hangupDirection": "机器"
    });
    app.push_ok("aliyun-call-report", crate::support::body(&record))
        .await;
    let call = app.call_by_vendor_id("aliyun", "bare-1").await;
    assert_eq!(call["outcome"], "no_answer");
    assert_eq!(call["vendor_status"], "NO_ANSWER");
    assert_eq!(call["hangup_by"], "agent");
    assert_eq!(call["originated_at"], "2025-06-01T00:00:00Z");
    assert_eq!(call["started_at"], "2025-06-01T00:00:00Z");
    assert_eq!(call["talk_seconds"], 0);
}
