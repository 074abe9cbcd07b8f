//! ITNIO `pushCallRecord` (doc 002) mappings.

use super::*;

// ---------------------------------------------------------------------------
// ITNIO (doc 002)

#[test]
fn itnio_result_statuses_follow_the_outcome_table() {
    use Outcome::*;
    let rows = [
        ("ANSWERED", Answered),
        ("NO_ANSWER", NoAnswer),
        ("BUSY", Busy),
        ("REFUSED", Rejected),
        ("POWER_OFF", PoweredOff),
        ("OUT_OF_SERVICE", Suspended),
        ("CAN_NOT_CONNECT", Unreachable),
        ("VACANT_NUMBER", InvalidNumber),
        ("CALL_LOSS", Abandoned),
        ("TRANSFER_ARTIFICIAL", Abandoned),
        ("SYSTEM_ERROR", Failed),
        ("FROM_PHONE_ERROR", Failed),
        ("VOICEMAIL", Unknown),
    ];
    for (status, expected) in rows {
        let p = parse_value(
            SourceKind::ItnioCallRecord,
            json!({"callId": "1", "resultStatus": status}),
        );
        let s = &p.records[0].update.set;
        assert_eq!(s.outcome, Some(expected), "{status}");
        assert_eq!(s.vendor_status.as_deref(), Some(status));
        assert_eq!(p.unknown_values.len(), usize::from(expected == Unknown));
    }
    let p = fixture(SourceKind::ItnioCallRecord, "every_result_status.json");
    let got: Vec<_> = p.records.iter().map(|r| r.update.set.outcome).collect();
    let want = [
        Answered,
        NoAnswer,
        Busy,
        PoweredOff,
        Suspended,
        Rejected,
        InvalidNumber,
        Unreachable,
        Failed,
        Failed,
        Abandoned,
        Abandoned,
    ]
    .map(Some);
    assert_eq!(got, want);
    let hang: Vec<_> = p.records.iter().map(|r| r.update.set.hangup_by).collect();
    assert_eq!(hang[0], Some(HangupBy::Agent), "INITIAL_HANGUP is the AI");
    assert_eq!(hang[10], Some(HangupBy::Customer), "REMOTE_HANGUP");
    assert_eq!(
        hang[11],
        Some(HangupBy::Agent),
        "CS_HANGUP is a human agent"
    );
    assert_eq!(hang[1], Some(HangupBy::Unknown), "OTHER_HANGUP");
}

#[test]
fn itnio_sample_maps_times_money_tags_and_turns() {
    let p = fixture(SourceKind::ItnioCallRecord, "sample.json");
    let u = &p.records[0].update;
    let s = &u.set;
    assert_eq!(u.vendor_call_id, "2140583921701");
    assert_eq!(ts(s.originated_at).as_deref(), Some("2025-06-01T02:00:00Z"));
    assert_eq!(ts(s.ended_at).as_deref(), Some("2025-06-01T02:01:12Z"));
    assert_eq!((s.talk_seconds, s.billed_seconds), (Some(62), Some(120)));
    let cost = s.cost.as_ref().expect("cost");
    assert_eq!(cost.amount.to_string(), "0.04");
    assert_eq!(cost.currency, "USD");
    assert_eq!(
        s.tags.as_deref(),
        Some(&["Interested", "Asked about amount", "Existing customer"].map(String::from)[..])
    );
    assert_eq!(s.hangup_by, Some(HangupBy::Customer));
    assert_eq!(s.task_id.as_deref(), Some("1020345"));
    assert_eq!(s.script_id.as_deref(), Some("58213"));
    let turns = s.turns.as_ref().expect("turns");
    assert_eq!(turns.len(), 7);
    assert_eq!(turns[0].speaker, Speaker::Agent);
    assert_eq!((turns[0].start_ms, turns[0].end_ms), (None, None));
    assert_eq!(turns[1].speaker, Speaker::Customer);
    assert_eq!(turns[1].text, "Yes, speaking.");
    assert_eq!(
        (turns[1].start_ms, turns[1].end_ms),
        (Some(6120), Some(7480))
    );
    assert_eq!(u.vendor_fields["callDetailIds"][6], json!(880012306));
    assert_eq!(u.vendor_fields["customerTagIds"], json!([9]));
    assert!(!u.vendor_fields.contains_key("callDetailList"));

    // The Onbuka copy says EUR: currency is the source's setting.
    let ctx = SourceContext {
        currency: Some("eur".into()),
        ..SourceContext::default_for(SourceKind::ItnioCallRecord)
    };
    let body = read(&fixture_dir(SourceKind::ItnioCallRecord).join("sample.json"));
    let p = adapters::parse(SourceKind::ItnioCallRecord, &body, &ctx).unwrap();
    assert_eq!(
        p.records[0].update.set.cost.as_ref().unwrap().currency,
        "EUR"
    );
}

#[test]
fn itnio_transcript_speakers_and_empty_lines() {
    let p = fixture(
        SourceKind::ItnioCallRecord,
        "transcript_with_many_turns.json",
    );
    let turns = p.records[0].update.set.turns.as_ref().expect("turns");
    let speakers: Vec<_> = turns.iter().map(|t| t.speaker).collect();
    use Speaker::{Agent as A, Customer as C};
    // Eleven non-empty lines of twelve; the empty customer line is dropped.
    assert_eq!(speakers, [A, C, A, C, A, C, A, C, A, C, A]);
    assert!(turns.iter().all(|t| !t.text.is_empty()));
    assert!(turns
        .iter()
        .all(|t| (t.speaker == A) == t.start_ms.is_none()));

    let p = fixture(SourceKind::ItnioCallRecord, "chinese_values.json");
    let s = &p.records[0].update.set;
    assert_eq!(s.turns.as_ref().unwrap()[3].text, "初二,数学比较弱。");
    assert_eq!(
        s.intent.as_ref().unwrap().label.as_deref(),
        Some("A级(有明确意向)")
    );
    assert_eq!(s.tags.as_ref().unwrap().len(), 4);
}

#[test]
fn itnio_unanswered_call() {
    let p = fixture(SourceKind::ItnioCallRecord, "unanswered_no_answer.json");
    let s = &p.records[0].update.set;
    assert_eq!(s.outcome, Some(Outcome::NoAnswer));
    assert_eq!(s.talk_seconds, Some(0));
    assert_eq!(s.recording_url, None, "empty URL is unknown");
    assert_eq!(s.turns.as_deref().map(<[_]>::len), Some(0));
    assert_eq!(s.cost.as_ref().unwrap().amount.to_string(), "0");
}
