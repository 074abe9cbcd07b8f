//! Alibaba call report (doc 001) and call notes (doc 000) mappings.

use super::*;

// ---------------------------------------------------------------------------
// Alibaba call report (doc 001)

#[test]
fn aliyun_sample_times_are_beijing_time_in_utc() {
    let p = fixture(SourceKind::AliyunCallReport, "sample.json");
    assert_eq!(p.record_count, 1);
    let u = &p.records[0].update;
    assert_eq!(u.vendor, Vendor::Aliyun);
    assert_eq!(u.vendor_call_id, "10000161****^1000018****");
    let s = &u.set;
    assert_eq!(ts(s.answered_at).as_deref(), Some("2025-06-01T02:00:00Z"));
    assert_eq!(ts(s.ended_at).as_deref(), Some("2025-06-01T02:05:30Z"));
    assert_eq!(ts(s.originated_at).as_deref(), Some("2025-06-01T01:59:45Z"));
    assert_eq!(ts(s.ringing_at).as_deref(), Some("2025-06-01T01:59:50Z"));
    assert_eq!(s.talk_seconds, Some(330));
    assert_eq!(s.outcome, Some(Outcome::Answered));
    assert_eq!(s.vendor_status.as_deref(), Some("ANSWERED"));
    assert_eq!(s.hangup_by, Some(HangupBy::Customer));
    assert_eq!(s.customer_number.as_deref(), Some("139********"));
    assert_eq!(s.line_number.as_deref(), Some("0571********"));
    assert_eq!(s.task_id.as_deref(), Some("1181**************"));
    assert_eq!(s.batch_id.as_deref(), Some("B202******"));
    assert_eq!(s.out_id.as_deref(), Some("123456"));
    // The carrier code disagrees with smartStatusCode: kept raw.
    assert_eq!(u.vendor_fields["statusCode"], json!("200010"));
    assert_eq!(u.vendor_fields["statusMsg"], json!("Call ended normally"));
    assert_eq!(u.vendor_fields["caller"], json!("05710000*****"));
    assert_eq!(u.vendor_fields["bDuration"], json!(320));
    assert_eq!(u.vendor_fields["bStartTime"], json!("2025-06-01 09:59:55"));
    assert!(p.warnings.is_empty() && p.unknown_values.is_empty());
}

#[test]
fn aliyun_smart_status_codes_follow_the_outcome_table() {
    use Outcome::*;
    let rows = [
        ("ANSWERED", Answered),
        ("INTELLIGENT_ANSWER", Voicemail),
        ("NO_ANSWER", NoAnswer),
        ("USER_BUSY", Busy),
        ("CALL_REJECTED", Rejected),
        ("POWERED_OFF", PoweredOff),
        ("SUSPEND", Suspended),
        ("NO_USER_RESPONDING", Unreachable),
        ("UNAVAILABLE", Unreachable),
        ("INVALID_NUMBER", InvalidNumber),
        ("OPERATOR_BLOCK", Blocked),
        ("INCOMING_CALL_BARRED", Blocked),
        ("CANCEL", Canceled),
        ("NETWORK_BUSY", Failed),
        ("OTHERS", Other),
        ("OTHER", Other),
        ("CALL_FORWARDING", Other),
        ("VOICE_MAIL_BOX", Unknown),
    ];
    for (code, expected) in rows {
        let p = parse_value(
            SourceKind::AliyunCallReport,
            json!([{"callId": "1^2", "smartStatusCode": code, "statusCode": "200000"}]),
        );
        let s = &p.records[0].update.set;
        assert_eq!(s.outcome, Some(expected), "{code}");
        assert_eq!(s.vendor_status.as_deref(), Some(code), "{code}");
        let flagged = p
            .unknown_values
            .iter()
            .any(|v| v.field == "smartStatusCode" && v.value == code);
        assert_eq!(flagged, expected == Unknown, "{code}: unknown value noted");
    }
    // The fixture holds one record per documented value.
    let p = fixture(SourceKind::AliyunCallReport, "every_smart_status_code.json");
    assert_eq!(p.records.len(), 17);
    assert!(p.unknown_values.is_empty(), "{:?}", p.unknown_values);
    assert!(p
        .records
        .iter()
        .all(|r| !matches!(r.update.set.outcome, None | Some(Outcome::Unknown))));
}

#[test]
fn aliyun_hangup_direction_accepts_english_and_chinese() {
    let p = fixture(
        SourceKind::AliyunCallReport,
        "chinese_hangup_direction.json",
    );
    let by: Vec<_> = p.records.iter().map(|r| r.update.set.hangup_by).collect();
    assert_eq!(
        by,
        [Some(HangupBy::Customer), Some(HangupBy::Agent), None],
        "用户, 机器, null"
    );
    assert!(p.unknown_values.is_empty());
    let u = only(
        SourceKind::AliyunCallReport,
        json!({"callId": "1^2", "hangupDirection": "System"}),
    );
    assert_eq!(u.set.hangup_by, Some(HangupBy::Unknown));
}

#[test]
fn aliyun_unanswered_call_has_no_answer_or_end_time() {
    let p = fixture(SourceKind::AliyunCallReport, "unanswered_no_answer.json");
    let s = &p.records[0].update.set;
    assert_eq!(s.outcome, Some(Outcome::NoAnswer));
    assert_eq!(s.answered_at, None);
    assert_eq!(s.ended_at, None);
    assert_eq!(ts(s.originated_at).as_deref(), Some("2025-06-01T06:20:03Z"));
    assert_eq!(ts(s.ringing_at).as_deref(), Some("2025-06-01T06:20:08Z"));
    assert_eq!(s.talk_seconds, Some(0));
}

#[test]
fn beijing_times_before_8am_fall_on_the_previous_utc_day() {
    let p = fixture(SourceKind::AliyunCallReport, "across_utc_midnight.json");
    let s = &p.records[0].update.set;
    assert_eq!(ts(s.originated_at).as_deref(), Some("2025-06-01T19:30:00Z"));
    let s = &p.records[1].update.set;
    assert_eq!(ts(s.answered_at).as_deref(), Some("2025-06-01T23:59:55Z"));
    assert_eq!(ts(s.ended_at).as_deref(), Some("2025-06-02T00:00:25Z"));

    let p = fixture(SourceKind::LonglonglongInbound, "across_utc_midnight.json");
    let s = &p.records[0].update.set;
    assert_eq!(ts(s.originated_at).as_deref(), Some("2025-06-01T19:30:00Z"));
    let s = &p.records[1].update.set;
    assert_eq!(ts(s.originated_at).as_deref(), Some("2025-06-01T23:59:30Z"));
    assert_eq!(ts(s.ended_at).as_deref(), Some("2025-06-02T00:00:17Z"));

    let p = fixture(SourceKind::AliyunCallNotes, "across_utc_midnight.json");
    let a = &p.records[0].update.analyses[0];
    assert_eq!(ts(a.reported_at).as_deref(), Some("2026-03-03T00:00:03Z"));
}

#[test]
fn empty_null_and_zero_times_are_unknown() {
    let p = fixture(SourceKind::AliyunCallReport, "nulls_and_empty_strings.json");
    for r in &p.records {
        let s = &r.update.set;
        assert_eq!(
            (s.answered_at, s.ended_at, s.ringing_at),
            (None, None, None)
        );
    }
    let s = &p.records[1].update.set;
    assert_eq!(s.originated_at, None);
    assert_eq!(s.outcome, None, "an empty smartStatusCode says nothing");
    assert_eq!(s.customer_number, None);
    assert!(p.warnings.is_empty(), "{:?}", p.warnings);

    let p = fixture(
        SourceKind::LaafficVoiceReport,
        "nulls_and_empty_strings.json",
    );
    let s = &p.records[0].update.set;
    assert_eq!(
        (s.answered_at, s.ringing_at, s.ended_at),
        (None, None, None),
        "null, \"\" and 0 epoch"
    );
    assert_eq!(s.cost, None, "empty money is unknown, not zero");
    assert!(p.warnings.is_empty(), "{:?}", p.warnings);

    let u = only(
        SourceKind::ItnioCallRecord,
        json!({"callId": "9", "startTime": 0, "endTime": "0"}),
    );
    assert_eq!((u.set.originated_at, u.set.ended_at), (None, None));
}

// ---------------------------------------------------------------------------
// Alibaba call notes (doc 000)

#[test]
fn notes_inspection_scores_are_sums_over_items() {
    let p = fixture(SourceKind::AliyunCallNotes, "sample.json");
    let u = &p.records[0].update;
    assert_eq!(u.vendor_call_id, "155***********^142**************");
    assert_eq!(u.set.outcome, None);
    assert_eq!(u.fill.out_id.as_deref(), Some("123456789"));
    assert_eq!(u.fill.customer_number.as_deref(), Some("155********"));
    let a = &u.analyses[0];
    assert_eq!(a.kind, AnalysisKind::QualityInspection);
    assert!(a.success);
    assert_eq!(a.error_code, None);
    assert_eq!((a.score, a.full_score), (Some(15.0), Some(15.0)));
    assert_eq!(ts(a.reported_at).as_deref(), Some("2026-03-02T07:29:07Z"));
    assert_eq!(a.vendor_fields["biz_id"], json!("21*********"));

    let p = fixture(
        SourceKind::AliyunCallNotes,
        "quality_inspection_several_items.json",
    );
    let a = &p.records[0].update.analyses[0];
    assert_eq!(a.items.as_ref().map(Vec::len), Some(4));
    assert_eq!((a.score, a.full_score), (Some(83.5), Some(100.0)));

    let p = fixture(
        SourceKind::AliyunCallNotes,
        "numbers_as_strings_ids_as_numbers.json",
    );
    let a = &p.records[0].update.analyses[0];
    assert_eq!((a.score, a.full_score), (Some(92.0), Some(100.0)));
    assert!(a.success, "\"true\" is true");
}

#[test]
fn notes_types_in_english_and_chinese() {
    let p = fixture(
        SourceKind::AliyunCallNotes,
        "chinese_types_and_content.json",
    );
    let kinds: Vec<_> = p
        .records
        .iter()
        .map(|r| r.update.analyses[0].kind)
        .collect();
    assert_eq!(
        kinds,
        [AnalysisKind::QualityInspection, AnalysisKind::Summary]
    );
    let qa = &p.records[0].update.analyses[0];
    assert_eq!((qa.score, qa.full_score), (Some(89.0), Some(100.0)));
    let summary = p.records[1].update.analyses[0].tags.as_ref().unwrap();
    assert_eq!(summary["客户意向"], json!(["有意向"]));
}

#[test]
fn notes_summary_keeps_enum_and_text_tags() {
    let p = fixture(
        SourceKind::AliyunCallNotes,
        "summary_enum_and_text_tags.json",
    );
    let a = &p.records[0].update.analyses[0];
    assert_eq!(a.kind, AnalysisKind::Summary);
    assert_eq!(
        (a.score, a.full_score, a.items.is_none()),
        (None, None, true)
    );
    let tags = a.tags.as_ref().expect("tags");
    assert_eq!(
        tags["Products Mentioned"],
        json!(["Credit card", "Installment plan"])
    );
    assert_eq!(tags["Objections"], json!([]));
    assert_eq!(
        tags["Next Step"],
        json!("Send the terms by SMS and call back on Friday.")
    );
}

#[test]
fn notes_failed_inference_is_stored_not_rejected() {
    let p = fixture(SourceKind::AliyunCallNotes, "failed_inference.json");
    assert!(p.errors.is_empty(), "{:?}", p.errors);
    // The last one has no `success` key: its error code says it failed.
    assert_eq!(p.records.len(), 4);
    for r in &p.records {
        let a = &r.update.analyses[0];
        assert!(!a.success);
        assert_eq!(a.error_code.as_deref(), Some("NOTE_AGENT_PROCESS_FAIL"));
        assert_eq!((a.score, &a.items, &a.tags), (None, &None, &None));
    }
    // Whatever the failed inference put in `result` is kept raw.
    let a = &p.records[2].update.analyses[0];
    assert_eq!(a.vendor_fields["result"], json!("模型推理超时"));
}

#[test]
fn notes_unknown_type_is_a_record_error_and_an_unknown_value() {
    let p = fixture(SourceKind::AliyunCallNotes, "unknown_type.json");
    assert_eq!(p.records.len(), 1);
    assert_eq!(p.errors.len(), 1);
    assert_eq!(p.errors[0].index, Some(0));
    assert_eq!(p.errors[0].path, "$[0]");
    assert!(p.errors[0].message.contains("Call Sentiment"));
    assert_eq!(p.unknown_values.len(), 1);
    assert_eq!(p.unknown_values[0].field, "type");
}
