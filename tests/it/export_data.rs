//! Data for the export tests: 1,309 calls of four vendors pushed through
//! the real ingest path (more than one 1,000-call page of the export), the
//! API's answers to compare with, and the value each export column should
//! hold, read from an API item independently of callhook's column code.

use crate::dataset;
use crate::support::{body, sample, urlencode, TestApp};
use jiff::Timestamp;
use serde_json::{json, Value};

pub const ALIYUN: usize = 700;
pub const ITNIO: usize = 300;
pub const LAAFFIC: usize = 300;
/// The calls of [`seed`]: the generated ones and `dataset.rs`'s nine.
pub const CALLS: usize = ALIYUN + ITNIO + LAAFFIC + dataset::ALL.len();

/// The export columns, in order (the README's Interfaces by way of the brief).
pub const COLUMNS: [&str; 36] = [
    "id",
    "vendor",
    "source",
    "vendor_call_id",
    "direction",
    "outcome",
    "vendor_status",
    "hangup_by",
    "task_id",
    "task_name",
    "batch_id",
    "script_id",
    "out_id",
    "customer_number",
    "line_number",
    "started_at",
    "originated_at",
    "ringing_at",
    "answered_at",
    "ended_at",
    "ring_seconds",
    "talk_seconds",
    "billed_seconds",
    "cost_amount",
    "cost_currency",
    "intent_code",
    "intent_label",
    "tags",
    "recording_url",
    "qa_score",
    "first_received_at",
    "updated_at",
    "started_at_local",
    "answered_at_local",
    "ended_at_local",
    "local_timezone",
];

/// The zone of the local-time columns with the default configuration: the
/// first default source's (Alibaba's).
pub const LOCAL_ZONE: &str = "Asia/Shanghai";

/// 2025-07-01T00:00:00Z plus `minutes`, in epoch seconds.
fn epoch(minutes: usize) -> i64 {
    1_751_328_000 + minutes as i64 * 60
}

/// The same instant as Beijing wall-clock text (Alibaba's zone-less times).
fn beijing(seconds: i64) -> String {
    let t = Timestamp::from_second(seconds + 8 * 3600).expect("a valid time");
    t.strftime("%Y-%m-%d %H:%M:%S").to_string()
}

/// Pushes every call (each push asserted 200). Aliyun calls share start
/// times two by two; the vendors' times interleave; every generated call
/// repeats its customer number in a field the adapter keeps raw.
pub async fn seed(app: &TestApp) {
    dataset::seed(app).await;
    let statuses = ["ANSWERED", "NO_ANSWER", "USER_BUSY", "POWERED_OFF"];
    for part in 0..2 {
        let records: Vec<Value> = (part * ALIYUN / 2..(part + 1) * ALIYUN / 2)
            .map(|i| {
                let start = epoch(i / 2 * 3);
                let callee = format!("1391{i:07}");
                json!({"callId": format!("EX-A{i:04}"), "taskId": format!("T{}", i % 7),
                       "batchId": format!("B{}", i % 3), "outId": format!("crm-{i}"),
                       "callee": callee, "caller": "057100001111",
                       "smartStatusCode": statuses[i % 4], "hangupDirection": "User",
                       "originateTime": beijing(start), "startTime": beijing(start + 5),
                       "endTime": beijing(start + 65), "duration": i % 120,
                       "remark": format!("call back {callee} tomorrow, \"urgent\"")})
            })
            .collect();
        app.push_ok("aliyun-call-report", body(&Value::Array(records)))
            .await;
    }
    // A QA score for every fifth Alibaba call.
    let notes: Vec<Value> = (0..ALIYUN).step_by(5).map(|i| {
        let items = json!([{"item": "Greeting", "score": i % 10, "full_score": 10, "problem": "", "suggestion": ""}]);
        json!({"call_id": format!("EX-A{i:04}"), "biz_id": format!("n{i}"), "success": true,
               "type": "Call Quality Inspection", "report_time": "2025-07-10 10:00:00",
               "result": items.to_string()})
    }).collect();
    app.push_ok("aliyun-call-notes", body(&Value::Array(notes)))
        .await;

    let template: Value = serde_json::from_slice(&sample("itnio-call-record")).expect("sample");
    let records: Vec<Value> = (0..ITNIO)
        .map(|i| {
            let mut r = template.clone();
            let number = format!("62812{i:07}");
            r["callId"] = json!(format!("EX-I{i:04}"));
            r["calledPhoneNumber"] = json!(number);
            r["startTime"] = json!(epoch(i * 4 + 1));
            r["endTime"] = json!(epoch(i * 4 + 2));
            r["properties"]["phone"] = json!(number);
            r["callDetailList"][1]["text"] = json!(format!("Yes, {number} speaking."));
            r
        })
        .collect();
    app.push_ok("itnio-call-record", body(&Value::Array(records)))
        .await;

    let template: Value = serde_json::from_slice(&sample("laaffic-voice-report")).expect("sample");
    let records: Vec<Value> = (0..LAAFFIC)
        .map(|i| {
            let mut r = template["array"][0].clone();
            let start = epoch(i * 4 + 2) * 1000;
            r["voiceId"] = json!(format!("EX-L{i:04}"));
            r["callee"] = json!(format!("65{i:08}"));
            r["calledInfo"] = json!(format!("customer 65{i:08}"));
            r["callTime"] = json!(start);
            r["ringingTime"] = json!(start);
            r["answerTime"] = json!(start + 1000);
            r["hangupTime"] = json!(start + 36_000);
            // Plus the template's 0.1 AI-agent fee: 0.1, 0.35, 1.105.
            r["cost"] = json!(["0", "0.25", "1.005"][i % 3]);
            r["taskId"] = json!(5000 + i % 4);
            r
        })
        .collect();
    app.push_ok("laaffic-voice-report", body(&json!({ "array": records })))
        .await;
}

/// Every item of `GET /api/v1/calls?{query}`, following `next_cursor` in
/// pages of 1,000.
pub async fn walk(app: &TestApp, query: &str) -> Vec<Value> {
    let (mut items, mut cursor) = (Vec::new(), None::<String>);
    loop {
        let mut path = format!("/api/v1/calls?{query}&limit=1000");
        if let Some(c) = &cursor {
            path.push_str(&format!("&cursor={}", urlencode(c)));
        }
        let page = app.get_json(&path).await;
        items.extend(page["items"].as_array().expect("items").iter().cloned());
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => return items,
        }
    }
}

/// What a column should hold.
#[derive(Debug, Clone, PartialEq)]
pub enum Want {
    Null,
    Text(String),
    Int(i64),
    Float(f64),
}

/// The latest successful quality inspection's score in percent.
fn qa_score(item: &Value) -> Option<f64> {
    let analyses = item["analyses"].as_array()?;
    analyses
        .iter()
        .filter(|a| a["kind"] == "quality_inspection" && a["success"] == true)
        .filter_map(|a| {
            let (s, f) = (a["score"].as_f64()?, a["full_score"].as_f64()?);
            let at = a["reported_at"].as_str().map(|t| t.parse::<Timestamp>());
            (f > 0.0).then(|| (at.and_then(Result::ok), s / f * 100.0))
        })
        .max_by_key(|(at, _)| *at)
        .map(|(_, pct)| pct)
}

/// The value of `column` for the API item `item`.
pub fn want(item: &Value, column: &str) -> Want {
    let v = match column {
        "cost_amount" => item["cost"]["amount"].clone(),
        "cost_currency" => item["cost"]["currency"].clone(),
        "intent_code" => item["intent"]["code"].clone(),
        "intent_label" => item["intent"]["label"].clone(),
        "tags" => {
            let tags = item["tags"].as_array().expect("tags");
            let texts: Vec<&str> = tags.iter().filter_map(Value::as_str).collect();
            json!(texts.join("|"))
        }
        "qa_score" => return qa_score(item).map_or(Want::Null, Want::Float),
        "local_timezone" => json!(LOCAL_ZONE),
        local if local.ends_with("_local") => {
            let utc = &item[local.trim_end_matches("_local")];
            utc.as_str().map_or(Value::Null, |t| {
                let t: Timestamp = t.parse().expect("RFC 3339");
                let tz = jiff::tz::TimeZone::get(LOCAL_ZONE).expect("zone");
                json!(t.to_zoned(tz).strftime("%Y-%m-%d %H:%M:%S").to_string())
            })
        }
        other => item
            .get(other)
            .unwrap_or_else(|| panic!("item has no {other}"))
            .clone(),
    };
    match v {
        Value::Null => Want::Null,
        Value::String(s) => Want::Text(s),
        Value::Number(n) => Want::Int(n.as_i64().expect("whole seconds")),
        other => panic!("{column}: {other}"),
    }
}

/// Whether a CSV cell holds `want` (an empty cell for `Null`).
pub fn csv_matches(cell: &str, want: &Want) -> bool {
    match want {
        Want::Null => cell.is_empty(),
        Want::Text(t) => cell == t,
        Want::Int(i) => cell == i.to_string(),
        Want::Float(f) => cell.parse::<f64>().ok() == Some(*f),
    }
}
