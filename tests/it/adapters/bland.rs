//! Bland post-call webhook mappings.

use super::*;

const KIND: SourceKind = SourceKind::BlandCall;

fn call(status: &str, answered_by: Value, error: Value) -> Value {
    json!({"call_id": "c-1", "status": status, "answered_by": answered_by, "error_message": error})
}

#[test]
fn snapshots_bland_call() {
    snapshot_kind(KIND);
}

#[test]
fn the_completed_call_reads_field_by_field() {
    let u = &fixture(KIND, "completed.json").records[0].update;
    assert_eq!(u.vendor, Vendor::Bland);
    assert_eq!(u.vendor_call_id, "3f6c2a1e-8d4b-4c7a-9e21-5b0d7a9c1f42");
    assert_eq!(u.direction, Direction::Outbound);
    let s = &u.set;
    assert_eq!(s.customer_number.as_deref(), Some("+15551234567"));
    assert_eq!(s.line_number.as_deref(), Some("+15559876543"));
    assert_eq!(
        ts(s.originated_at).as_deref(),
        Some("2025-09-12T20:38:58.025251Z")
    );
    assert_eq!(
        ts(s.answered_at).as_deref(),
        Some("2025-09-12T20:39:03.168Z")
    );
    assert_eq!(ts(s.ended_at).as_deref(), Some("2025-09-12T20:39:48Z"));
    assert_eq!(s.talk_seconds, Some(45), "corrected_duration, seconds");
    assert_eq!(s.outcome, Some(Outcome::Answered));
    assert_eq!(
        s.vendor_status.as_deref(),
        Some("status=completed;answered_by=human")
    );
    assert_eq!(
        s.hangup_by,
        Some(HangupBy::Agent),
        "call_ended_by ASSISTANT"
    );
    let cost = s.cost.as_ref().unwrap();
    assert_eq!(
        (cost.amount.to_string().as_str(), cost.currency.as_str()),
        ("0.068", "USD")
    );
    assert_eq!(
        s.tags.as_deref(),
        Some(&["COMPLETED_ACTION".to_owned()][..])
    );
    let turns = s.turns.as_ref().unwrap();
    assert_eq!(turns[0].speaker, Speaker::Customer);
    assert_eq!(
        turns[0].start_ms,
        Some(10_005),
        "created_at from started_at"
    );
    assert_eq!(turns[1].speaker, Speaker::Agent);
    let tags = u.analyses[0].tags.as_ref().unwrap();
    assert!(tags["summary"].as_str().unwrap().contains("appointment"));
    assert!(
        !u.vendor_fields.contains_key("c_id"),
        "c_id repeats call_id"
    );
    assert!(
        u.vendor_fields["transcripts"].is_array(),
        "the raw lines are kept"
    );
}

#[test]
fn call_length_in_minutes_is_the_talk_time_without_corrected_duration() {
    let u = only(
        KIND,
        json!({"call_id": "c", "status": "completed", "answered_by": "human", "call_length": 0.75}),
    );
    assert_eq!(u.set.talk_seconds, Some(45));
}

#[test]
fn every_documented_outcome_value_maps() {
    use Outcome::*;
    let rows = [
        (call("completed", json!("human"), Value::Null), Answered),
        (call("completed", json!("unknown"), Value::Null), Answered),
        (call("completed", Value::Null, Value::Null), Answered),
        (call("completed", json!("voicemail"), Value::Null), Voicemail),
        (call("completed", json!("no-answer"), Value::Null), NoAnswer),
        (call("no-answer", Value::Null, Value::Null), NoAnswer),
        (call("busy", Value::Null, Value::Null), Busy),
        (call("canceled", Value::Null, Value::Null), Canceled),
        (call("unknown", Value::Null, Value::Null), Other),
        (call("failed", Value::Null, json!("Call failed.")), Failed),
        (call("failed", Value::Null, json!("A database error occurred. Please contact support.")), Failed),
        (call("failed", Value::Null, json!("Call failed. The number you dialed is not found.")), InvalidNumber),
        (call("failed", Value::Null, json!("Call failed. The number you dialed is temporarily unavailable.")), Unreachable),
        (call("failed", Value::Null, json!("Call failed. The number you dialed is busy. Please try again later.")), Busy),
        (call("failed", Value::Null, json!("Call failed. Service Provider Blocked Call due to Spam or Number Reputation. Try a different number.")), Blocked),
        (call("ringing-forever", Value::Null, Value::Null), Unknown),
    ];
    assert_outcomes(KIND, rows);
}

#[test]
fn the_fixtures_outcomes() {
    let outcome = |f| fixture(KIND, f).records[0].update.set.outcome;
    assert_eq!(outcome("voicemail.json"), Some(Outcome::Voicemail));
    assert_eq!(outcome("no-answer.json"), Some(Outcome::NoAnswer));
    assert_eq!(outcome("busy.json"), Some(Outcome::Busy));
    assert_eq!(outcome("failed.json"), Some(Outcome::InvalidNumber));
    assert_eq!(outcome("canceled.json"), Some(Outcome::Canceled));
}

#[test]
fn inbound_calls_take_the_caller_as_the_customer() {
    let u = &fixture(KIND, "inbound.json").records[0].update;
    assert_eq!(u.direction, Direction::Inbound);
    // The fixture's `from` (the caller) is the customer of an inbound call.
    assert_eq!(u.set.customer_number.as_deref(), Some("+15551234567"));
    assert_eq!(u.set.line_number.as_deref(), Some("+15559876543"));
    assert_eq!(u.set.hangup_by, Some(HangupBy::Customer));
}
