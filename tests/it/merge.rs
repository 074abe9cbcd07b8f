//! Alibaba call notes and call reports about the same call, in either order,
//! give the same call (canonical call model: Identity and merging).

use crate::support::{body, spawn_app, TestApp};
use serde_json::{json, Value};

const CALL_ID: &str = "20250601-merge^7781";

fn report() -> Vec<u8> {
    body(&json!([{
        "taskId": "T-merge",
        "detailId": "D-1",
        "batchId": "B-1",
        "callId": CALL_ID,
        "outId": "crm-42",
        "startTime": "2025-06-01 10:00:00",
        "endTime": "2025-06-01 10:02:00",
        "duration": 120,
        "statusCode": "200000",
        "smartStatusCode": "ANSWERED",
        "callee": "13900000042",
        "realCaller": "057100000001",
        "hangupDirection": "User",
        "originateTime": "2025-06-01 09:59:50",
        "ringTime": "2025-06-01 09:59:55"
    }]))
}

fn notes() -> Vec<u8> {
    let items = json!([
        {"item": "Greeting", "full_score": 10, "score": 8, "problem": "Late", "suggestion": "Greet first"},
        {"item": "Compliance", "full_score": 15, "score": 15, "problem": "None", "suggestion": "Keep it up"}
    ]);
    body(&json!([{
        "call_id": CALL_ID,
        "biz_id": "biz-1",
        // Deliberately different from the report's: the report wins.
        "out_id": "notes-out-id",
        "cell_number": "139****0042",
        "success": true,
        "error_code": "success",
        "error_msg": "success",
        "content_length": 900,
        "duration": 120,
        "start_time": "2025-06-01 10:00:00",
        "report_time": "2025-06-01 10:05:00",
        "type": "Call Quality Inspection",
        "result": items.to_string()
    }]))
}

/// The call, with the fields that legitimately depend on arrival order
/// removed: `source` (the last source to change it), `first_received_at`,
/// `updated_at`, and `receipts` (ids and times differ).
async fn settled_call(app: &TestApp) -> (Value, Value) {
    let full = app.call_by_vendor_id("aliyun", CALL_ID).await;
    let mut stable = full.clone();
    let obj = stable.as_object_mut().unwrap();
    for k in ["source", "first_received_at", "updated_at", "receipts"] {
        obj.remove(k);
    }
    (stable, full)
}

fn assert_merged(call: &Value) {
    assert_eq!(call["out_id"], "crm-42", "the report's out_id wins");
    assert_eq!(call["customer_number"], "13900000042");
    assert_eq!(call["outcome"], "answered");
    assert_eq!(call["task_id"], "T-merge");
    assert_eq!(call["talk_seconds"], 120);
    assert_eq!(call["started_at"], "2025-06-01T01:59:50Z");
    let analyses = call["analyses"].as_array().unwrap();
    assert_eq!(analyses.len(), 1, "{analyses:?}");
    assert_eq!(analyses[0]["kind"], "quality_inspection");
    assert_eq!(analyses[0]["score"], 23.0);
    assert_eq!(analyses[0]["full_score"], 25.0);
    assert_eq!(analyses[0]["reported_at"], "2025-06-01T02:05:00Z");
    assert_eq!(analyses[0]["items"].as_array().unwrap().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notes_before_or_after_the_report_give_the_same_call() {
    let report_first = spawn_app().await;
    report_first.push_ok("aliyun-call-report", report()).await;
    report_first.push_ok("aliyun-call-notes", notes()).await;
    let (a, a_full) = settled_call(&report_first).await;

    let notes_first = spawn_app().await;
    notes_first.push_ok("aliyun-call-notes", notes()).await;
    let early = notes_first.call_by_vendor_id("aliyun", CALL_ID).await;
    assert_eq!(early["out_id"], "notes-out-id", "notes fill a blank call");
    assert_eq!(early["outcome"], "unknown");
    notes_first.push_ok("aliyun-call-report", report()).await;
    let (b, b_full) = settled_call(&notes_first).await;

    assert_eq!(a, b, "arrival order changed the call");
    assert_merged(&a);
    assert_eq!(a_full["source"], "aliyun-call-notes");
    assert_eq!(b_full["source"], "aliyun-call-report");
    for full in [&a_full, &b_full] {
        let sources: Vec<&str> = full["receipts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["source"].as_str().unwrap())
            .collect();
        assert_eq!(sources.len(), 2);
        assert!(sources.contains(&"aliyun-call-report") && sources.contains(&"aliyun-call-notes"));
        assert!(full["receipts"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["status"] == "accepted"));
    }
    // Notes pushed again add nothing.
    notes_first.push_ok("aliyun-call-notes", notes()).await;
    let (c, _) = settled_call(&notes_first).await;
    assert_eq!(c, b);
}
