//! The column values of a call with every field set and of one with none,
//! checked against the call's JSON (what the API serves) and against
//! literal values.

use super::*;
use crate::domain::{
    Analysis, AnalysisKind, Direction, HangupBy, Intent, Money, Outcome, Region, Speaker, Turn,
    Vendor,
};
use serde_json::{json, Map, Value};

fn at(s: &str) -> Timestamp {
    s.parse().expect("a test time")
}

fn inspection(score: f64, full: f64, reported: &str) -> Analysis {
    Analysis {
        kind: AnalysisKind::QualityInspection,
        success: true,
        error_code: None,
        reported_at: Some(at(reported)),
        score: Some(score),
        full_score: Some(full),
        items: None,
        tags: None,
        vendor_fields: Map::new(),
    }
}

/// A call with every field set (times with milliseconds, a negative-scale
/// decimal, two QA inspections of which the later counts).
pub(crate) fn full_call() -> Call {
    let mut vendor_fields = Map::new();
    vendor_fields.insert("note".into(), json!("callee 13812345678"));
    Call {
        id: "0123456789abcdef0123456789abcdef".into(),
        vendor: Vendor::Laaffic,
        source: "laaffic-voice-report".into(),
        vendor_call_id: "V-1".into(),
        direction: Direction::Outbound,
        out_id: Some("crm-1".into()),
        task_id: Some("500".into()),
        batch_id: Some("b-7".into()),
        script_id: Some("s-9".into()),
        task_name: Some("回访, \"Q2\"".into()),
        customer_number: Some("13812345678".into()),
        line_number: Some("02112345678".into()),
        outcome: Outcome::NoAnswer,
        vendor_status: "callStatus=20;callStatusNew=3".into(),
        hangup_by: HangupBy::Customer,
        originated_at: Some(at("2025-06-01T01:59:50.123Z")),
        ringing_at: Some(at("2025-06-01T02:00:00Z")),
        answered_at: Some(at("2025-06-01T02:00:05Z")),
        ended_at: Some(at("2025-06-01T02:01:05Z")),
        started_at: at("2025-06-01T01:59:50.123Z"),
        ring_seconds: Some(5),
        talk_seconds: Some(60),
        billed_seconds: Some(120),
        cost: Some(Money::new("0.0400".parse().expect("decimal"), "usd")),
        intent: Some(Intent {
            code: Some("A".into()),
            label: Some("有意向".into()),
        }),
        tags: vec!["vip".into(), "回拨".into()],
        recording_url: Some("https://rec.example.com/13812345678.mp3".into()),
        recording: None,
        region: Some(Region {
            province: Some("上海".into()),
            city: None,
            carrier: None,
        }),
        turns: vec![Turn {
            speaker: Speaker::Customer,
            text: "喂".into(),
            start_ms: Some(0),
            end_ms: Some(900),
        }],
        analyses: vec![
            inspection(12.0, 15.0, "2025-06-01T02:05:00Z"),
            inspection(1.0, 3.0, "2025-06-01T02:09:00Z"),
        ],
        vendor_fields,
        first_received_at: at("2025-06-01T02:01:06Z"),
        updated_at: at("2025-06-01T02:09:01Z"),
    }
}

/// A call with every optional field empty.
pub(crate) fn bare_call() -> Call {
    Call {
        id: "fedcba9876543210fedcba9876543210".into(),
        vendor: Vendor::Aliyun,
        source: "aliyun-call-notes".into(),
        vendor_call_id: "A-1".into(),
        direction: Direction::Inbound,
        out_id: None,
        task_id: None,
        batch_id: None,
        script_id: None,
        task_name: None,
        customer_number: None,
        line_number: None,
        outcome: Outcome::Unknown,
        vendor_status: String::new(),
        hangup_by: HangupBy::Unknown,
        originated_at: None,
        ringing_at: None,
        answered_at: None,
        ended_at: None,
        started_at: at("2025-06-02T00:00:00Z"),
        ring_seconds: None,
        talk_seconds: None,
        billed_seconds: None,
        cost: None,
        intent: None,
        tags: vec![],
        recording_url: None,
        recording: None,
        region: None,
        turns: vec![],
        analyses: vec![],
        vendor_fields: Map::new(),
        first_received_at: at("2025-06-02T00:00:00Z"),
        updated_at: at("2025-06-02T00:00:00Z"),
    }
}

/// What a column should hold, read from the call's JSON (as the API serves it).
fn from_json(call: &Value, name: &str) -> Value {
    let nested = |obj: &str, key: &str| call[obj].get(key).cloned().unwrap_or(Value::Null);
    match name {
        "cost_amount" => nested("cost", "amount"),
        "cost_currency" => nested("cost", "currency"),
        "intent_code" => nested("intent", "code"),
        "intent_label" => nested("intent", "label"),
        "tags" => {
            let tags: Vec<&str> = call["tags"]
                .as_array()
                .expect("tags")
                .iter()
                .map(|t| t.as_str().expect("tag"))
                .collect();
            json!(tags.join("|"))
        }
        "qa_score" => unreachable!("checked on its own"),
        "local_timezone" => json!("UTC"),
        local if local.ends_with("_local") => {
            let utc = &call[local.trim_end_matches("_local")];
            utc.as_str().map_or(Value::Null, |t| {
                let t: jiff::Timestamp = t.parse().expect("RFC 3339");
                json!(t.strftime("%Y-%m-%d %H:%M:%S").to_string())
            })
        }
        other => call.get(other).cloned().expect(other),
    }
}

fn as_json(cell: &Cell<'_>) -> Value {
    match cell {
        Cell::Null => Value::Null,
        Cell::Text(t) => json!(t),
        Cell::Int(i) => json!(i),
        Cell::Float(f) => json!(f),
    }
}

fn check_against_json(call: &Call) -> Vec<Cell<'_>> {
    let doc = serde_json::to_value(call).expect("serialise");
    let cells = row(call, None, &jiff::tz::TimeZone::UTC);
    assert_eq!(cells.len(), COLUMNS.len());
    for (col, cell) in COLUMNS.iter().zip(&cells) {
        match (col.kind, cell) {
            (_, Cell::Null) => assert!(!col.required, "{} is required", col.name),
            (Kind::Text, Cell::Text(_)) | (Kind::Int, Cell::Int(_)) => {}
            (Kind::Float, Cell::Float(_)) => {}
            (k, c) => panic!("{}: {k:?} column holds {c:?}", col.name),
        }
        if col.name != "qa_score" {
            assert_eq!(as_json(cell), from_json(&doc, col.name), "{}", col.name);
        }
    }
    cells
}

#[test]
fn the_columns_are_the_documented_ones_in_order() {
    let names: Vec<&str> = names().collect();
    assert_eq!(
        names.join(","),
        "id,vendor,source,vendor_call_id,direction,outcome,vendor_status,hangup_by,task_id,\
         task_name,batch_id,script_id,out_id,customer_number,line_number,started_at,\
         originated_at,ringing_at,answered_at,ended_at,ring_seconds,talk_seconds,billed_seconds,\
         cost_amount,cost_currency,intent_code,intent_label,tags,recording_url,qa_score,\
         first_received_at,updated_at,started_at_local,answered_at_local,ended_at_local,\
         local_timezone"
    );
}

#[test]
fn a_full_call_gives_every_column_as_the_api_serialises_it() {
    let call = full_call();
    let cells = check_against_json(&call);
    let texts: Vec<String> = cells.iter().map(|c| cell_text(c).into_owned()).collect();
    let get = |name: &str| texts[names().position(|n| n == name).expect(name)].clone();
    assert_eq!(get("started_at"), "2025-06-01T01:59:50.123Z");
    assert_eq!(get("ended_at"), "2025-06-01T02:01:05Z");
    assert_eq!(get("ended_at_local"), "2025-06-01 02:01:05");
    assert_eq!(get("cost_amount"), "0.0400");
    assert_eq!(get("cost_currency"), "USD");
    assert_eq!(get("tags"), "vip|回拨");
    assert_eq!(get("outcome"), "no_answer");
    assert_eq!(get("talk_seconds"), "60");
    // The later inspection wins: 1/3 of 100.
    assert_eq!(get("qa_score"), "33.33333333333333");
    assert_eq!(cells[29], Cell::Float(1.0 / 3.0 * 100.0));
}

#[test]
fn a_bare_call_gives_nulls_and_empty_required_text() {
    let call = bare_call();
    let cells = check_against_json(&call);
    let nulls = COLUMNS
        .iter()
        .zip(&cells)
        .filter(|(_, c)| **c == Cell::Null)
        .count();
    // Every optional column is null.
    assert_eq!(nulls, COLUMNS.iter().filter(|c| !c.required).count());
    assert_eq!(cells[6], Cell::Text(Cow::Borrowed("")), "vendor_status");
    assert_eq!(cells[27], Cell::Text(Cow::Borrowed("")), "tags");
    assert_eq!(cell_text(&cells[29]), "", "qa_score");
}

#[test]
fn masking_hides_the_customer_number_but_not_the_line() {
    let mut call = full_call();
    call.line_number = Some("13812345678".into());
    let m = Masker::new(call.customer_number.as_deref());
    let cells = row(&call, m.as_ref(), &jiff::tz::TimeZone::UTC);
    let texts: Vec<String> = cells.iter().map(|c| cell_text(c).into_owned()).collect();
    let get = |name: &str| texts[names().position(|n| n == name).expect(name)].clone();
    assert_eq!(get("customer_number"), "138****5678");
    assert_eq!(get("line_number"), "13812345678");
    assert_eq!(
        get("recording_url"),
        "https://rec.example.com/138****5678.mp3"
    );
    assert_eq!(get("task_name"), "回访, \"Q2\"");
    let unmasked = row(&call, None, &jiff::tz::TimeZone::UTC);
    let differ = cells.iter().zip(&unmasked).filter(|(a, b)| a != b).count();
    assert_eq!(differ, 2, "customer_number and recording_url only");
}

#[test]
fn local_time_columns_are_written_in_the_export_zone() {
    let call = full_call();
    let tz = jiff::tz::TimeZone::get("Asia/Shanghai").unwrap();
    let cells = row(&call, None, &tz);
    let cell = |name: &str| {
        let i = COLUMNS.iter().position(|c| c.name == name).unwrap();
        as_json(&cells[i])
    };
    let utc: jiff::Timestamp = cell("started_at").as_str().unwrap().parse().unwrap();
    let local = utc
        .checked_add(jiff::SignedDuration::from_hours(8))
        .unwrap()
        .strftime("%Y-%m-%d %H:%M:%S")
        .to_string();
    assert_eq!(cell("started_at_local"), json!(local));
    assert_eq!(cell("local_timezone"), json!("Asia/Shanghai"));
}
