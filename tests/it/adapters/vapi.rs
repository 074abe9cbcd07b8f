//! Vapi `end-of-call-report` mappings (docs.vapi.ai server messages).

use super::*;

const KIND: SourceKind = SourceKind::VapiEndOfCallReport;

fn report(reason: &str) -> Value {
    json!({"message": {"type": "end-of-call-report", "endedReason": reason,
        "call": {"id": "c-1", "type": "outboundPhoneCall"}}})
}

#[test]
fn snapshots_vapi_end_of_call_report() {
    snapshot_kind(KIND);
}

#[test]
fn the_answered_report_reads_field_by_field() {
    let p = fixture(KIND, "answered.json");
    let u = &p.records[0].update;
    assert_eq!(u.vendor, Vendor::Vapi);
    assert_eq!(u.vendor_call_id, "019a9ccb-ea3e-777e-924a-d4c8f7483d58");
    assert_eq!(u.direction, Direction::Outbound);
    let s = &u.set;
    assert_eq!(s.outcome, Some(Outcome::Answered));
    assert_eq!(s.vendor_status.as_deref(), Some("customer-ended-call"));
    assert_eq!(s.hangup_by, Some(HangupBy::Customer));
    assert_eq!(s.customer_number.as_deref(), Some("+14155550198"));
    assert_eq!(s.line_number.as_deref(), Some("+14155550123"));
    assert_eq!(
        ts(s.originated_at).as_deref(),
        Some("2026-03-12T16:59:58.412Z")
    );
    assert_eq!(
        ts(s.answered_at).as_deref(),
        Some("2026-03-12T17:00:01.907Z")
    );
    assert_eq!(ts(s.ended_at).as_deref(), Some("2026-03-12T17:01:34.25Z"));
    assert_eq!(
        s.talk_seconds,
        Some(92),
        "92.343 s between startedAt and endedAt"
    );
    let cost = s.cost.as_ref().unwrap();
    assert_eq!(
        (cost.amount.to_string().as_str(), cost.currency.as_str()),
        ("0.1885", "USD")
    );
    assert!(s.recording_url.as_deref().unwrap().ends_with("-mono.wav"));
    let turns = s.turns.as_ref().unwrap();
    assert_eq!(turns[0].speaker, Speaker::Agent, "bot is the agent");
    assert!(turns[0].text.starts_with("Hi, this is Sam"));
    assert_eq!(
        (turns[0].start_ms, turns[0].end_ms),
        (Some(1132), Some(1132 + 3440))
    );
    assert_eq!(turns[1].speaker, Speaker::Customer);
    assert!(
        turns.iter().all(|t| !t.text.contains("You are Sam")),
        "system prompt left out"
    );
    let a = &u.analyses[0];
    assert_eq!(a.kind, AnalysisKind::Summary);
    let tags = a.tags.as_ref().unwrap();
    assert!(tags["summary"]
        .as_str()
        .unwrap()
        .starts_with("Sam from Bayview Dental"));
    assert_eq!(tags["structured_data"]["confirmationNumber"], "BD-40417");
    assert_eq!(tags["success_evaluation"], "true");
    // What has no canonical place stays as received.
    assert!(u.vendor_fields["costs"].is_array());
    assert_eq!(
        u.vendor_fields["call"]["costBreakdown"]["total"],
        json!(0.1885)
    );
    assert!(u.vendor_fields["artifact"]["transcript"].is_string());
}

#[test]
fn every_documented_ended_reason_maps_to_a_known_outcome() {
    let list = std::fs::read_to_string(fixture_dir(KIND).join("ended_reasons.txt")).unwrap();
    let reasons: Vec<&str> = list.lines().filter(|l| !l.is_empty()).collect();
    assert!(
        reasons.len() > 500,
        "the whole documented list: {}",
        reasons.len()
    );
    for reason in reasons {
        let u = only(KIND, report(reason));
        assert_ne!(u.set.outcome, Some(Outcome::Unknown), "{reason}");
        assert_eq!(u.set.vendor_status.as_deref(), Some(reason));
    }
}

#[test]
fn ended_reasons_by_meaning() {
    use Outcome::*;
    let rows = [
        ("customer-ended-call", Answered),
        ("assistant-said-end-call-phrase", Answered),
        ("silence-timed-out", Answered),
        ("voicemail", Voicemail),
        ("customer-did-not-answer", NoAnswer),
        ("customer-busy", Busy),
        ("vonage-rejected", Rejected),
        ("twilio-reported-customer-misdialed", InvalidNumber),
        ("manually-canceled", Canceled),
        ("twilio-failed-to-connect-call", Failed),
        ("pipeline-error-openai-llm-failed", Failed),
        ("call.start.error-get-org", Failed),
        ("call.ringing.hook-executed-transfer", Other),
        ("hangup", Unknown),
    ];
    assert_outcomes(KIND, rows.map(|(reason, want)| (report(reason), want)));
}

#[test]
fn a_call_that_never_connected_has_no_answer_time_or_talk() {
    let u = &fixture(KIND, "no-answer.json").records[0].update;
    assert_eq!(u.set.outcome, Some(Outcome::NoAnswer));
    assert_eq!(u.set.answered_at, None);
    assert_eq!(u.set.talk_seconds, None);
    assert!(u.set.originated_at.is_some());
    let u = &fixture(KIND, "voicemail.json").records[0].update;
    assert_eq!(u.set.outcome, Some(Outcome::Voicemail));
    assert!(u.set.answered_at.is_some(), "a machine answered");
}

#[test]
fn inbound_and_web_calls_are_inbound() {
    assert_eq!(
        fixture(KIND, "inbound.json").records[0].update.direction,
        Direction::Inbound
    );
    let web = fixture(KIND, "web_call.json");
    let u = &web.records[0].update;
    assert_eq!(u.direction, Direction::Inbound);
    assert_eq!(
        u.set.turns.as_ref().unwrap()[0].speaker,
        Speaker::Agent,
        "assistant role"
    );
}

#[test]
fn other_server_messages_are_refused_naming_the_type() {
    let body = br#"{"message": {"type": "status-update", "status": "ended"}}"#;
    let e = adapters::parse(KIND, body, &SourceContext::default_for(KIND)).unwrap_err();
    assert!(e.to_string().contains("\"status-update\""), "{e}");
    assert!(e.to_string().contains("serverMessages"), "{e}");
}
