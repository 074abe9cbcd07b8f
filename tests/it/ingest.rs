//! `POST /hooks/{source}`: duplicates, bodies that cannot be read, batches
//! with bad records, unknown sources, the size limit and unknown vendor
//! values (docs/http-contract.md).

use crate::support::{body, sample, spawn_app, spawn_app_with};
use reqwest::StatusCode;
use serde_json::{json, Value};

/// Asserts a 400 answer `{"code":400,"msg":…}` and returns `msg`.
fn bad_request(status: StatusCode, answer: &Value) -> String {
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    let obj = answer.as_object().expect("object answer");
    assert_eq!(obj.len(), 2, "only code and msg: {answer}");
    assert_eq!(answer["code"], 400);
    answer["msg"].as_str().expect("msg").to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_body_twice_is_one_call_and_a_duplicate_receipt() {
    let app = spawn_app().await;
    let report = sample("aliyun-call-report");
    app.push_ok("aliyun-call-report", report.clone()).await;
    let before = app
        .call_by_vendor_id("aliyun", "10000161****^1000018****")
        .await;

    for _ in 0..10 {
        app.push_ok("aliyun-call-report", report.clone()).await;
    }

    assert_eq!(app.calls("vendor=aliyun").await.len(), 1);
    let after = app
        .call_by_vendor_id("aliyun", "10000161****^1000018****")
        .await;
    let (mut b, mut a) = (before.clone(), after.clone());
    b.as_object_mut().unwrap().remove("receipts");
    a.as_object_mut().unwrap().remove("receipts");
    assert_eq!(a, b, "a duplicate must not change the call");
    assert_eq!(after["updated_at"], before["updated_at"]);

    // Oldest first: the first push made the call, the others changed nothing.
    let statuses: Vec<&str> = after["receipts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["status"].as_str().unwrap())
        .collect();
    let mut expected = vec!["duplicate"; 11];
    expected[0] = "accepted";
    assert_eq!(statuses, expected);
    let rs = app.receipts_of(&report).await;
    assert_eq!(rs.len(), 11);
    assert_eq!(rs.last().unwrap()["status"], "accepted", "newest first");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_json_is_400_with_its_position_and_kept_verbatim() {
    let app = spawn_app().await;
    let raw = b"[{\"callId\": \"cut-1\",\n  \"startTime\": ".to_vec();
    let (status, answer) = app.push("aliyun-call-report", raw.clone()).await;
    let msg = bad_request(status, &answer);
    assert!(
        msg.contains("line 2") && msg.contains("column"),
        "no position in {msg:?}"
    );

    let receipt = app.receipt_of(&raw).await;
    assert_eq!(receipt["status"], "rejected");
    assert_eq!(receipt["source"], "aliyun-call-report");
    assert_eq!(receipt["errors"][0]["path"], "$");
    assert_eq!(receipt["errors"][0]["message"], msg.as_str());
    let id = receipt["id"].as_str().unwrap();
    let full = app.get_json(&format!("/api/v1/receipts/{id}")).await;
    assert_eq!(full["body"].as_str().unwrap().as_bytes(), &raw[..]);
    assert_eq!(full["body_bytes"], raw.len());
    assert!(app.calls("").await.is_empty(), "nothing stored as a call");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_that_is_not_utf8_is_kept_byte_for_byte() {
    let app = spawn_app().await;
    // GBK bytes for 用户, not UTF-8.
    let raw = b"[{\"callId\": \"gbk-1\", \"hangupDirection\": \"\xd3\xc3\xbb\xa7\"}]".to_vec();
    let (status, answer) = app.push("aliyun-call-report", raw.clone()).await;
    bad_request(status, &answer);
    let receipt = app.receipt_of(&raw).await;
    assert_eq!(receipt["status"], "rejected");
    let id = receipt["id"].as_str().unwrap();
    let full = app.get_json(&format!("/api/v1/receipts/{id}")).await;
    use base64::Engine;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(full["body_base64"].as_str().expect("body_base64"))
        .unwrap();
    assert_eq!(decoded, raw);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_of_the_wrong_shape_is_400_with_the_json_path() {
    let app = spawn_app().await;

    let text = br#""array""#.to_vec();
    let (status, answer) = app.push("laaffic-voice-report", text.clone()).await;
    let msg = bad_request(status, &answer);
    assert!(msg.starts_with("$:"), "{msg}");
    assert!(msg.contains("string"), "{msg}");
    let receipt = app.receipt_of(&text).await;
    assert_eq!(receipt["status"], "rejected");
    assert_eq!(receipt["errors"][0]["path"], "$");

    let no_data = body(&json!({"count": 1, "list": [{"callid": "l-1"}]}));
    let (status, answer) = app.push("longlonglong-inbound", no_data.clone()).await;
    let msg = bad_request(status, &answer);
    assert!(msg.contains("$.data"), "{msg}");
    let receipt = app.receipt_of(&no_data).await;
    assert_eq!(receipt["status"], "rejected");
    assert_eq!(receipt["errors"][0]["path"], "$.data");

    let (status, answer) = app.push("aliyun-call-report", b"42".to_vec()).await;
    bad_request(status, &answer);
    assert!(app.calls("").await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_with_bad_records_stores_the_rest_and_is_partial() {
    let app = spawn_app().await;
    let batch = body(&json!([
        {"callId": "p-1", "smartStatusCode": "ANSWERED", "startTime": "2025-06-01 10:00:00"},
        {"smartStatusCode": "ANSWERED", "startTime": "2025-06-01 10:01:00"},
        {"callId": "p-3", "smartStatusCode": "NO_ANSWER", "originateTime": "2025-06-01 10:02:00"},
        "not a record",
        {"callId": "", "smartStatusCode": "NO_ANSWER"}
    ]));
    app.push_ok("aliyun-call-report", batch.clone()).await;

    let mut ids = app.call_ids("vendor=aliyun").await;
    ids.sort();
    assert_eq!(ids, ["p-1", "p-3"]);

    let receipt = app.receipt_of(&batch).await;
    assert_eq!(receipt["status"], "partial");
    assert_eq!(receipt["record_count"], 5);
    let errors = receipt["errors"].as_array().unwrap();
    let located: Vec<(u64, &str)> = errors
        .iter()
        .map(|e| (e["index"].as_u64().unwrap(), e["path"].as_str().unwrap()))
        .collect();
    assert_eq!(located, [(1, "$[1]"), (3, "$[3]"), (4, "$[4]")]);
    assert!(errors[0]["message"].as_str().unwrap().contains("callId"));
    for e in errors {
        assert!(!e["message"].as_str().unwrap().is_empty());
    }
    let call = app.call_by_vendor_id("aliyun", "p-3").await;
    assert_eq!(call["receipts"][0]["status"], "partial");
    assert_eq!(call["outcome"], "no_answer");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_source_is_404_and_stores_nothing() {
    let app = spawn_app().await;
    let (status, answer) = app.push("nope", sample("aliyun-call-report")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(answer["code"], 404);
    assert!(answer["msg"].as_str().unwrap().contains("nope"), "{answer}");
    let receipts = app.get_json("/api/v1/receipts").await;
    assert_eq!(receipts["items"], json!([]));
}

/// A JSON array body of exactly `len` bytes (padded with spaces).
fn body_of_len(len: usize) -> Vec<u8> {
    let mut b = br#"[{"callId": "size-1", "smartStatusCode": "ANSWERED"}"#.to_vec();
    assert!(b.len() < len);
    b.resize(len - 1, b' ');
    b.push(b']');
    b
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_over_the_limit_is_413() {
    let app = spawn_app_with("[limits]\nmax_body_bytes = 2048\n").await;
    let (status, answer) = app.push("aliyun-call-report", body_of_len(2049)).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{answer}");
    assert_eq!(answer["code"], 413);
    assert!(app.calls("").await.is_empty());

    app.push_ok("aliyun-call-report", body_of_len(2048)).await;
    assert_eq!(app.calls("").await.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_status_value_is_stored_as_unknown_with_a_warning() {
    let app = spawn_app().await;
    let report = body(&json!([{
        "callId": "new-status-1",
        "smartStatusCode": "SOMETHING_NEW",
        "startTime": "2025-06-01 10:00:00"
    }]));
    app.push_ok("aliyun-call-report", report.clone()).await;
    let call = app.call_by_vendor_id("aliyun", "new-status-1").await;
    assert_eq!(call["outcome"], "unknown");
    assert_eq!(call["vendor_status"], "SOMETHING_NEW");

    let receipt = app.receipt_of(&report).await;
    assert_eq!(receipt["status"], "accepted");
    let warnings = receipt["warnings"].as_array().unwrap();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert_eq!(warnings[0]["index"], 0);
    assert_eq!(warnings[0]["path"], "$[0].smartStatusCode");
    assert!(warnings[0]["message"]
        .as_str()
        .unwrap()
        .contains("SOMETHING_NEW"));

    // LAAFFIC: a code outside the table keeps its raw value too.
    let laaffic = body(&json!({"array": [{"voiceId": "lf-odd", "callDescription": 99}]}));
    app.push_ok("laaffic-voice-report", laaffic.clone()).await;
    let call = app.call_by_vendor_id("laaffic", "lf-odd").await;
    assert_eq!(call["outcome"], "unknown");
    assert_eq!(call["vendor_status"], "callDescription=99");
    let receipt = app.receipt_of(&laaffic).await;
    assert!(receipt["warnings"].to_string().contains("99"), "{receipt}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chunked_body_over_the_limit_is_413_too() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app = spawn_app_with("[limits]\nmax_body_bytes = 2048\n").await;
    let addr = app.base.trim_start_matches("http://").to_owned();
    let mut conn = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let head = format!(
        "POST /hooks/aliyun-call-report HTTP/1.1\r\nHost: {addr}\r\n\
         Content-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    );
    conn.write_all(head.as_bytes()).await.unwrap();
    let body = body_of_len(4096);
    for chunk in body.chunks(1000) {
        let framed = [format!("{:x}\r\n", chunk.len()).as_bytes(), chunk, b"\r\n"].concat();
        if conn.write_all(&framed).await.is_err() {
            break; // the server may answer and close before the end
        }
    }
    let _ = conn.write_all(b"0\r\n\r\n").await;
    let mut answer = Vec::new();
    let _ = conn.read_to_end(&mut answer).await;
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains(r#""code":413"#), "{answer}");
    assert!(app.calls("").await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_retries_of_one_push_make_one_call_and_one_accepted_receipt() {
    let app = std::sync::Arc::new(spawn_app().await);
    let report = sample("aliyun-call-report");
    let pushes: Vec<_> = (0..30)
        .map(|_| {
            let (app, report) = (app.clone(), report.clone());
            tokio::spawn(async move { app.push_ok("aliyun-call-report", report).await })
        })
        .collect();
    for p in pushes {
        p.await.expect("push task");
    }
    assert_eq!(app.calls("").await.len(), 1);
    let receipts = app.receipts_of(&report).await;
    assert_eq!(receipts.len(), 30);
    let accepted = receipts
        .iter()
        .filter(|r| r["status"] == "accepted")
        .count();
    let duplicate = receipts
        .iter()
        .filter(|r| r["status"] == "duplicate")
        .count();
    assert_eq!((accepted, duplicate), (1, 29));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_body_is_rejected_and_kept() {
    let app = spawn_app().await;
    let (status, answer) = app.push("itnio-call-record", Vec::new()).await;
    let msg = bad_request(status, &answer);
    assert!(msg.contains("line 1"), "{msg}");
    let receipt = app.receipt_of(b"").await;
    assert_eq!(receipt["status"], "rejected");
    assert_eq!(receipt["body_bytes"], 0);
}
