//! Values a vendor may send that a store cannot take as they are: a NUL
//! (`\u0000`) in a 100-record batch is stored on either backend as U+FFFD,
//! with a warning, and never makes the push (or its projection) fail; a
//! body starting with a UTF-8 byte order mark is read as JSON.

use crate::support::{body, spawn_app};
use serde_json::{json, Value};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_nul_in_one_record_of_a_batch_is_stored_on_every_backend() {
    let app = spawn_app().await;
    let records: Vec<Value> = (0..100)
        .map(|i| {
            let callee = if i == 42 { "139\u{0}0000042".to_owned() } else { format!("139{i:08}") };
            json!({"callId": format!("nul-{i}"), "callee": callee, "smartStatusCode": "ANSWERED",
                   "originateTime": "2025-06-01 10:00:00", "taskId": if i == 7 { "t\u{0}" } else { "t" }})
        })
        .collect();
    let raw = body(&Value::Array(records));
    assert!(String::from_utf8_lossy(&raw).contains("\\u0000"));
    app.push_ok("aliyun-call-report", raw.clone()).await;
    let receipt = app.receipt_of(&raw).await;
    assert_eq!(receipt["status"], "accepted");
    let warnings = receipt["warnings"].as_array().unwrap();
    assert_eq!(warnings.len(), 2, "{warnings:?}");
    assert_eq!(app.calls("limit=1000").await.len(), 100);
    let call = app.call_by_vendor_id("aliyun", "nul-42").await;
    assert_eq!(call["customer_number"], "139\u{FFFD}0000042");
    let call = app.call_by_vendor_id("aliyun", "nul-7").await;
    assert_eq!(call["task_id"], "t\u{FFFD}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_with_a_byte_order_mark_is_accepted_and_kept_verbatim() {
    let app = spawn_app().await;
    let mut raw = b"\xEF\xBB\xBF".to_vec();
    raw.extend(body(
        &json!([{"callId": "bom-1", "smartStatusCode": "ANSWERED",
                              "originateTime": "2025-06-01 10:00:00"}]),
    ));
    app.push_ok("aliyun-call-report", raw.clone()).await;
    assert_eq!(app.calls("").await.len(), 1);
    let receipt = app.receipt_of(&raw).await;
    assert_eq!(receipt["body_bytes"], raw.len(), "the mark is kept");
}
