//! A small, fully known set of calls across four vendors, for the list
//! filters and the stats. Every number the tests expect is derived in the
//! comments here.
//!
//! | call | vendor | source (last) | outcome | task | started_at (UTC) | talk | cost | QA % |
//! |---|---|---|---|---|---|---|---|---|
//! | S-A1 | aliyun | aliyun-call-notes | answered | T1 | 2025-06-01T01:59:50Z | 60 | – | 80 |
//! | S-A2 | aliyun | aliyun-call-report | no_answer | T1 | 2025-06-01T03:00:00Z | 0 | – | – |
//! | S-A3 | aliyun | aliyun-call-notes | answered | T2 | 2025-06-02T01:00:00Z | 120 | – | 100 |
//! | S-L1 | laaffic | laaffic-voice-report | answered | 500 | 2025-06-02T05:00:00Z | 30 | 0.1 USD | – |
//! | S-L2 | laaffic | laaffic-voice-report | no_answer | 500 | 2025-06-02T06:00:00Z | 0 | 0.1 USD | – |
//! | S-L3 | laaffic | laaffic-voice-report | answered | 501 | 2025-06-03T05:00:00Z | 45 | 0.1 USD | – |
//! | S-L4 | laaffic | laaffic-voice-report | busy | 501 | 2025-06-03T06:00:00Z | 0 | 0.25 EUR | – |
//! | S-I1 | itnio | itnio-call-record | answered | 900 | 2025-06-03T00:00:00Z | 50 | 0.0400 USD | – |
//! | S-G1 | longlonglong | longlonglong-inbound | answered | TL | 2025-06-03T02:00:00Z | 20 | – | – |

use crate::support::{body, TestApp};
use serde_json::json;

/// `2025-06-DD HH:00:00Z` in epoch milliseconds.
fn ms(day: u32, hour: u32) -> i64 {
    let base = 1_748_736_000_000_i64; // 2025-06-01T00:00:00Z
    base + i64::from(day - 1) * 86_400_000 + i64::from(hour) * 3_600_000
}

/// Pushes the whole data set (each push asserted 200).
pub async fn seed(app: &TestApp) {
    let report = json!([
        {"callId": "S-A1", "taskId": "T1", "outId": "crm-1", "callee": "13900000001",
         "smartStatusCode": "ANSWERED", "originateTime": "2025-06-01 09:59:50",
         "startTime": "2025-06-01 10:00:00", "endTime": "2025-06-01 10:01:00", "duration": 60},
        {"callId": "S-A2", "taskId": "T1", "outId": "crm-2", "callee": "13900000002",
         "smartStatusCode": "NO_ANSWER", "originateTime": "2025-06-01 11:00:00", "duration": 0},
        {"callId": "S-A3", "taskId": "T2", "outId": "crm-3", "callee": "13900000003",
         "smartStatusCode": "ANSWERED", "originateTime": "2025-06-02 09:00:00",
         "startTime": "2025-06-02 09:00:10", "endTime": "2025-06-02 09:02:10", "duration": 120}
    ]);
    app.push_ok("aliyun-call-report", body(&report)).await;

    // S-A1: 7/10 + 5/5 = 12/15 = 80 %; S-A3: 10/10 = 100 %.
    let item = |name: &str, score: u32, full: u32| json!({"item": name, "score": score, "full_score": full, "problem": "", "suggestion": ""});
    let notes = json!([
        {"call_id": "S-A1", "biz_id": "n1", "success": true, "type": "Call Quality Inspection",
         "report_time": "2025-06-01 10:05:00",
         "result": json!([item("Greeting", 7, 10), item("Compliance", 5, 5)]).to_string()},
        {"call_id": "S-A3", "biz_id": "n3", "success": true, "type": "通话质检",
         "report_time": "2025-06-02 09:05:00",
         "result": json!([item("Greeting", 10, 10)]).to_string()}
    ]);
    app.push_ok("aliyun-call-notes", body(&notes)).await;

    let lf = |id: &str, task: u32, start: i64, desc: u32, talk: u32, cost: &str| {
        json!({"voiceId": id, "taskId": task, "callee": format!("65{id}"), "callTime": start,
               "hangupTime": start + 60_000, "callDescription": desc,
               "callDuration": talk, "cost": cost})
    };
    let mut l4 = lf("S-L4", 501, ms(3, 6), 6, 0, "0.25");
    l4["currency"] = json!("EUR");
    let laaffic = json!({"array": [
        lf("S-L1", 500, ms(2, 5), 1, 30, "0.1"),
        lf("S-L2", 500, ms(2, 6), 8, 0, "0.1"),
        lf("S-L3", 501, ms(3, 5), 1, 45, "0.1"),
        l4
    ]});
    app.push_ok("laaffic-voice-report", body(&laaffic)).await;

    let itnio = json!({"callId": "S-I1", "robotCallJobId": 900, "calledPhoneNumber": "6590000001",
        "startTime": ms(3, 0) / 1000, "endTime": ms(3, 0) / 1000 + 60,
        "resultStatus": "ANSWERED", "chatDuration": 50, "pay": "0.0400"});
    app.push_ok("itnio-call-record", body(&itnio)).await;

    let inbound = json!({"count": 1, "data": [{"callid": "S-G1", "calldate": "2025-06-03 10:00:00",
        "answerdate": "2025-06-03 10:00:00", "bill": 20,
        "number_data": {"number": "17500000001"}, "task": {"id": "TL", "name": "hotline"}}]});
    app.push_ok("longlonglong-inbound", body(&inbound)).await;
}

/// Every `vendor_call_id` of the data set.
pub const ALL: [&str; 9] = [
    "S-A1", "S-A2", "S-A3", "S-L1", "S-L2", "S-L3", "S-L4", "S-I1", "S-G1",
];
