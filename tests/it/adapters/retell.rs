//! Retell `call_started` / `call_ended` / `call_analyzed` mappings.

use super::*;

const KIND: SourceKind = SourceKind::RetellCallEvent;

fn ended(reason: &str) -> Value {
    json!({"event": "call_ended", "call": {"call_id": "c-1", "direction": "outbound",
        "disconnection_reason": reason}})
}

#[test]
fn snapshots_retell_call_event() {
    snapshot_kind(KIND);
}

#[test]
fn the_ended_call_reads_field_by_field() {
    let u = &fixture(KIND, "call-ended.json").records[0].update;
    assert_eq!(u.vendor, Vendor::Retell);
    assert_eq!(u.vendor_call_id, "Q7vKd2nXbT4wLpR8sYc3mHf6Ze1Uj9Ag");
    assert_eq!(u.direction, Direction::Outbound);
    let s = &u.set;
    assert_eq!(
        s.customer_number.as_deref(),
        Some("+12135550188"),
        "the callee of an outbound call"
    );
    assert_eq!(s.line_number.as_deref(), Some("+14155550123"));
    assert_eq!(
        s.script_id.as_deref(),
        Some("oBeDLoLOeuAbiuaMFXRtDOLriTJ5tSxD")
    );
    assert_eq!(
        ts(s.originated_at).as_deref(),
        Some("2024-12-03T11:10:15.123Z")
    );
    assert_eq!(ts(s.ended_at).as_deref(), Some("2024-12-03T11:10:47.123Z"));
    assert_eq!(s.talk_seconds, Some(32), "duration_ms 32000");
    assert_eq!(s.outcome, Some(Outcome::Answered));
    assert_eq!(s.hangup_by, Some(HangupBy::Agent));
    assert_eq!(s.vendor_status.as_deref(), Some("agent_hangup"));
    let cost = s.cost.as_ref().unwrap();
    assert_eq!(
        cost.amount.to_string(),
        "0.032",
        "combined_cost is 3.2 cents"
    );
    assert_eq!(cost.currency, "USD");
    let turns = s.turns.as_ref().unwrap();
    assert_eq!(turns[0].speaker, Speaker::Agent);
    assert_eq!(
        (turns[0].start_ms, turns[0].end_ms),
        (Some(600), Some(4400))
    );
    assert_eq!(turns[1].speaker, Speaker::Customer);
    assert!(u.analyses.is_empty(), "call_ended carries no analysis");
    assert!(
        !u.vendor_fields.contains_key("event"),
        "the event name is not call data"
    );
}

#[test]
fn the_analyzed_event_adds_the_analysis() {
    let u = &fixture(KIND, "call-analyzed.json").records[0].update;
    let a = &u.analyses[0];
    assert_eq!(a.kind, AnalysisKind::Summary);
    let tags = a.tags.as_ref().unwrap();
    assert!(tags["summary"].as_str().unwrap().contains("Maria"));
    assert_eq!(tags["user_sentiment"], "Positive");
    assert_eq!(tags["call_successful"], true);
    assert_eq!(tags["custom_analysis_data"]["appointment_confirmed"], true);
}

#[test]
fn every_documented_disconnection_reason_maps_to_a_known_outcome() {
    use Outcome::*;
    let rows = [
        ("user_hangup", Answered),
        ("agent_hangup", Answered),
        ("call_transfer", Answered),
        ("inactivity", Answered),
        ("max_duration_reached", Answered),
        ("transfer_bridged", Answered),
        ("transfer_cancelled", Answered),
        ("call_take_over", Answered),
        ("voicemail_reached", Voicemail),
        ("ivr_reached", Voicemail),
        ("machine_detected", Voicemail),
        ("dial_no_answer", NoAnswer),
        ("dial_busy", Busy),
        ("user_declined", Rejected),
        ("invalid_destination", InvalidNumber),
        ("marked_as_spam", Blocked),
        ("manual_stopped", Canceled),
        ("dial_failed", Failed),
        ("telephony_provider_permission_denied", Failed),
        ("telephony_provider_unavailable", Failed),
        ("sip_routing_error", Failed),
        ("concurrency_limit_reached", Failed),
        ("no_concurrency_fallback", Failed),
        ("no_valid_payment", Failed),
        ("scam_detected", Failed),
        ("registered_call_timeout", Failed),
        ("error_llm_websocket_open", Failed),
        ("error_llm_websocket_lost_connection", Failed),
        ("error_llm_websocket_runtime", Failed),
        ("error_llm_websocket_corrupt_payload", Failed),
        ("error_no_audio_received", Failed),
        ("error_asr", Failed),
        ("error_retell", Failed),
        ("error_unknown", Failed),
        ("error_user_not_joined", Failed),
        ("error_inbound_webhook", Failed),
        ("error_twilio", Failed),
        ("error_frontend_corrupted_payload", Failed),
        ("a_new_reason", Unknown),
    ];
    assert_outcomes(KIND, rows.map(|(reason, want)| (ended(reason), want)));
}

#[test]
fn inbound_calls_take_the_caller_as_the_customer() {
    let u = &fixture(KIND, "inbound.json").records[0].update;
    assert_eq!(u.direction, Direction::Inbound);
    let body: Value =
        serde_json::from_slice(&read(&fixture_dir(KIND).join("inbound.json"))).unwrap();
    assert_eq!(
        u.set.customer_number.as_deref(),
        body["call"]["from_number"].as_str()
    );
}

#[test]
fn call_started_only_fills_what_is_not_known() {
    let u = &fixture(KIND, "call-started.json").records[0].update;
    assert_eq!(
        u.set,
        callhook::domain::CallPatch::default(),
        "nothing overwrites"
    );
    assert!(u.fill.customer_number.is_some());
    assert!(u.fill.originated_at.is_some());
}

#[test]
fn unknown_events_are_refused() {
    let e = adapters::parse(
        KIND,
        br#"{"event":"call_transferred","call":{"call_id":"x"}}"#,
        &SourceContext::default_for(KIND),
    )
    .unwrap_err();
    assert!(e.to_string().contains("call_transferred"), "{e}");
}
