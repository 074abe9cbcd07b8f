//! Snapshot tests of every adapter over every fixture, and focused checks of
//! the mappings that matter most (`shared/design/canonical-call.md`).
//!
//! Fixtures live in `tests/fixtures/<kind>/*.json` (bodies the vendor would
//! send; each must parse) and `tests/fixtures/<kind>/rejected/*.json` (bodies
//! the adapter must refuse). Snapshots live in `tests/snapshots/`, one per
//! fixture, named `<kind>__<file stem>` (`<kind>__rejected__<file stem>`).
//! Regenerate with `INSTA_UPDATE=always cargo test --test it adapters`, then
//! review every changed `.snap` against the vendor documents.

use callhook::adapters::{self, ParseError, Parsed, SourceContext};
use callhook::domain::{
    AnalysisKind, CallUpdate, Direction, HangupBy, Outcome, SourceKind, Speaker, Vendor,
};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Batches bigger than this are snapshotted as a digest, not in full.
const DIGEST_ABOVE: usize = 50;

fn fixture_dir(kind: SourceKind) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(kind.as_str())
}

/// The `*.json` files directly in `dir`, sorted by name.
fn json_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|entry| entry.expect("directory entry").path())
        .filter(|p| p.is_file() && p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    files
}

fn stem(path: &Path) -> String {
    path.file_stem()
        .expect("file stem")
        .to_string_lossy()
        .into_owned()
}

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// Parses `tests/fixtures/<kind>/<name>` with the kind's default context.
fn fixture(kind: SourceKind, name: &str) -> Parsed {
    let path = fixture_dir(kind).join(name);
    adapters::parse(kind, &read(&path), &SourceContext::default_for(kind))
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Parses an inline body with the kind's default context.
fn parse_value(kind: SourceKind, body: Value) -> Parsed {
    let bytes = serde_json::to_vec(&body).expect("serialise body");
    adapters::parse(kind, &bytes, &SourceContext::default_for(kind))
        .unwrap_or_else(|e| panic!("{kind}: {e}"))
}

/// The only record of an inline body, which must parse without errors.
fn only(kind: SourceKind, body: Value) -> CallUpdate {
    let parsed = parse_value(kind, body);
    assert!(parsed.errors.is_empty(), "errors: {:?}", parsed.errors);
    assert_eq!(parsed.records.len(), 1, "{parsed:#?}");
    parsed.records.into_iter().next().unwrap().update
}

/// The update of the record with `vendor_call_id` `id`.
fn by_id<'a>(parsed: &'a Parsed, id: &str) -> &'a CallUpdate {
    &parsed
        .records
        .iter()
        .find(|r| r.update.vendor_call_id == id)
        .unwrap_or_else(|| panic!("no record {id}"))
        .update
}

fn ts(t: Option<jiff::Timestamp>) -> Option<String> {
    t.map(|t| t.to_string())
}

/// Properties every successful parse must have, whatever the fixture.
fn check_invariants(kind: SourceKind, name: &str, p: &Parsed) {
    assert_eq!(
        p.record_count,
        p.records.len() + p.errors.len(),
        "{name}: every record is either kept or an error"
    );
    let mut indexes: Vec<usize> = p.records.iter().map(|r| r.index).collect();
    indexes.extend(p.errors.iter().filter_map(|e| e.index));
    indexes.sort_unstable();
    let expected: Vec<usize> = (0..p.record_count).collect();
    assert_eq!(indexes, expected, "{name}: each index accounted for once");
    for r in &p.records {
        let u = &r.update;
        assert_eq!(u.vendor, kind.vendor(), "{name}");
        assert!(!u.vendor_call_id.is_empty(), "{name}: empty call id kept");
        let expected_direction = match kind {
            SourceKind::LonglonglongInbound => Direction::Inbound,
            _ => Direction::Outbound,
        };
        assert_eq!(u.direction, expected_direction, "{name}");
        if u.set.outcome.is_some() {
            assert!(
                u.set
                    .vendor_status
                    .as_deref()
                    .is_some_and(|s| !s.is_empty()),
                "{name}: an outcome without the raw vendor status"
            );
        }
        if kind == SourceKind::AliyunCallNotes {
            assert_eq!(u.set.outcome, None, "{name}: notes carry no outcome");
            assert_eq!(u.analyses.len(), 1, "{name}: one analysis per note");
        }
    }
}

/// A compact view of a big batch: counts, outcome mix, first and last record.
fn digest(p: &Parsed) -> Value {
    let mut outcomes: BTreeMap<String, usize> = BTreeMap::new();
    let mut analyses: BTreeMap<String, usize> = BTreeMap::new();
    for r in &p.records {
        let o = r.update.set.outcome.map_or("(none)", |o| o.as_str());
        *outcomes.entry(o.to_owned()).or_default() += 1;
        for a in &r.update.analyses {
            let k = match (a.kind, a.success) {
                (AnalysisKind::QualityInspection, true) => "quality_inspection",
                (AnalysisKind::Summary, true) => "summary",
                (_, false) => "failed",
            };
            *analyses.entry(k.to_owned()).or_default() += 1;
        }
    }
    json!({
        "record_count": p.record_count,
        "records": p.records.len(),
        "errors": p.errors,
        "warnings": p.warnings.len(),
        "unknown_values": p.unknown_values.len(),
        "outcomes": outcomes,
        "analyses": analyses,
        "first": p.records.first(),
        "last": p.records.last(),
    })
}

/// Every fixture of `kind` parsed and snapshotted; every rejected body
/// refused and its error snapshotted.
fn snapshot_kind(kind: SourceKind) {
    let dir = fixture_dir(kind);
    let files = json_files(&dir);
    assert!(
        files.len() >= 10,
        "{kind}: expected at least 10 fixtures, found {}",
        files.len()
    );
    assert!(
        files.iter().any(|f| stem(f) == "sample"),
        "{kind}: no sample.json"
    );
    let rejected = json_files(&dir.join("rejected"));
    assert!(
        rejected.len() >= 3,
        "{kind}: expected at least 3 rejected bodies"
    );
    let ctx = SourceContext::default_for(kind);
    for file in &files {
        let name = format!("{kind}__{}", stem(file));
        let parsed = adapters::parse(kind, &read(file), &ctx)
            .unwrap_or_else(|e| panic!("{}: refused: {e}", file.display()));
        check_invariants(kind, &name, &parsed);
        insta::with_settings!({
            snapshot_path => "../snapshots",
            prepend_module_to_snapshot => false,
            omit_expression => true,
            input_file => file,
        }, {
            if parsed.record_count > DIGEST_ABOVE {
                insta::assert_json_snapshot!(name, digest(&parsed));
            } else {
                insta::assert_json_snapshot!(name, parsed);
            }
        });
    }
    for file in &rejected {
        let name = format!("{kind}__rejected__{}", stem(file));
        let err = match adapters::parse(kind, &read(file), &ctx) {
            Ok(p) => panic!("{}: accepted, expected a refusal: {p:#?}", file.display()),
            Err(e) => e,
        };
        insta::with_settings!({
            snapshot_path => "../snapshots",
            prepend_module_to_snapshot => false,
            omit_expression => true,
            input_file => file,
        }, {
            insta::assert_snapshot!(name, err.to_string());
        });
    }
}

#[test]
fn snapshots_aliyun_call_report() {
    snapshot_kind(SourceKind::AliyunCallReport);
}

#[test]
fn snapshots_aliyun_call_notes() {
    snapshot_kind(SourceKind::AliyunCallNotes);
}

#[test]
fn snapshots_itnio_call_record() {
    snapshot_kind(SourceKind::ItnioCallRecord);
}

#[test]
fn snapshots_longlonglong_inbound() {
    snapshot_kind(SourceKind::LonglonglongInbound);
}

#[test]
fn snapshots_laaffic_voice_report() {
    snapshot_kind(SourceKind::LaafficVoiceReport);
}

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

// ---------------------------------------------------------------------------
// LAAFFIC (doc 004)

#[test]
fn laaffic_outcome_table_row_by_row() {
    use Outcome::*;
    let one = |fields: Value| {
        let mut rec = json!({"voiceId": "260326152224160100152"});
        rec.as_object_mut()
            .unwrap()
            .extend(fields.as_object().unwrap().clone());
        let p = parse_value(SourceKind::LaafficVoiceReport, json!({ "array": [rec] }));
        let s = &p.records[0].update.set;
        (s.outcome.unwrap(), s.vendor_status.clone().unwrap())
    };
    for (d, want) in [
        (1, Answered),
        (2, Voicemail),
        (3, Answered),
        (4, Answered),
        (5, Answered),
        (6, Busy),
        (7, Unreachable),
        (8, NoAnswer),
        (10, Other),
    ] {
        let (o, status) = one(json!({ "callDescription": d }));
        assert_eq!(o, want, "callDescription {d}");
        assert_eq!(status, format!("callDescription={d}"));
    }
    for (c, want) in [
        (10, Busy),
        (20, NoAnswer),
        (30, Other),
        (40, Voicemail),
        (50, Answered),
        (60, Other),
    ] {
        assert_eq!(one(json!({ "callStatus": c })).0, want, "callStatus {c}");
    }
    for (n, want) in [(1, Answered), (2, Failed), (3, NoAnswer), (4, Failed)] {
        assert_eq!(
            one(json!({ "callStatusNew": n })).0,
            want,
            "callStatusNew {n}"
        );
    }
    assert_eq!(one(json!({ "callDescription": 9 })).0, Unknown);
}

#[test]
fn laaffic_priority_is_description_then_status_then_status_new() {
    let p = fixture(
        SourceKind::LaafficVoiceReport,
        "priority_between_status_fields.json",
    );
    let got: Vec<_> = p
        .records
        .iter()
        .map(|r| {
            (
                r.update.set.outcome,
                r.update.set.vendor_status.as_deref().unwrap_or("(none)"),
            )
        })
        .collect();
    use Outcome::*;
    assert_eq!(
        got,
        [
            (
                Some(Voicemail),
                "callStatus=50;callStatusNew=1;callDescription=2"
            ),
            (
                Some(NoAnswer),
                "callStatus=50;callStatusNew=1;callDescription=8"
            ),
            (Some(NoAnswer), "callStatus=20;callStatusNew=3"),
            (
                Some(NoAnswer),
                "callStatus=20;callStatusNew=3;callDescription=9"
            ),
            (None, "(none)"),
            (Some(Failed), "callStatusNew=4"),
        ]
    );
    assert_eq!(p.unknown_values.len(), 1);
    assert_eq!(p.unknown_values[0].field, "callDescription");
    assert_eq!(p.unknown_values[0].value, "9");

    let p = fixture(SourceKind::LaafficVoiceReport, "sample.json");
    let s = &p.records[0].update.set;
    assert_eq!(s.outcome, Some(Answered));
    assert_eq!(
        s.vendor_status.as_deref(),
        Some("callStatus=50;callStatusNew=1;callDescription=1")
    );
}

#[test]
fn laaffic_sample_times_money_and_fields() {
    let p = fixture(SourceKind::LaafficVoiceReport, "sample.json");
    let u = &p.records[0].update;
    let s = &u.set;
    assert_eq!(u.vendor_call_id, "260326152224160100152");
    assert_eq!(ts(s.originated_at).as_deref(), Some("2026-03-26T07:22:27Z"));
    assert_eq!(ts(s.ringing_at).as_deref(), Some("2026-03-26T07:22:27Z"));
    assert_eq!(ts(s.answered_at).as_deref(), Some("2026-03-26T07:22:28Z"));
    assert_eq!(ts(s.ended_at).as_deref(), Some("2026-03-26T07:23:03Z"));
    assert_eq!(
        (s.ring_seconds, s.talk_seconds, s.billed_seconds),
        (Some(1), Some(35), Some(60))
    );
    let cost = s.cost.as_ref().expect("cost");
    assert_eq!(
        (cost.amount.to_string().as_str(), cost.currency.as_str()),
        ("0.1", "USD")
    );
    assert_eq!(s.hangup_by, Some(HangupBy::Customer), "Called hang up");
    let intent = s.intent.as_ref().unwrap();
    assert_eq!(intent.code.as_deref(), Some("302"));
    assert_eq!(
        intent.label.as_deref(),
        Some("Connected-Customer No Responsern")
    );
    assert_eq!(
        (s.task_id.as_deref(), s.script_id.as_deref()),
        (Some("5034040"), Some("63"))
    );
    assert_eq!(s.line_number.as_deref(), Some("5034040"));
    // Raw money parts and undocumented fields stay as received.
    assert_eq!(u.vendor_fields["cost"], json!("0"));
    assert_eq!(u.vendor_fields["aiAgentQuoteFee"], json!("0.1"));
    assert_eq!(u.vendor_fields["costEur"], json!("0"));
    assert_eq!(u.vendor_fields["submitTime"], json!(1774509744963i64));

    let p = fixture(SourceKind::LaafficVoiceReport, "eur_quote_currency.json");
    let cost = p.records[0].update.set.cost.as_ref().unwrap();
    assert_eq!(
        (cost.amount.to_string().as_str(), cost.currency.as_str()),
        ("0.222", "EUR")
    );
}

// ---------------------------------------------------------------------------
// longlonglong (doc 003)

#[test]
fn longlonglong_sample_is_an_answered_inbound_call() {
    let p = fixture(SourceKind::LonglonglongInbound, "sample.json");
    let u = &p.records[0].update;
    let s = &u.set;
    assert_eq!(u.direction, Direction::Inbound);
    assert_eq!(u.vendor_call_id, "3e7ff3fb-2e65-4a51-b322-a01db56f8a90");
    assert_eq!(s.outcome, Some(Outcome::Answered));
    assert_eq!(ts(s.originated_at).as_deref(), Some("2025-09-25T13:39:55Z"));
    assert_eq!(ts(s.answered_at).as_deref(), Some("2025-09-25T13:39:55Z"));
    assert_eq!(ts(s.ended_at).as_deref(), Some("2025-09-25T13:40:38Z"));
    assert_eq!(s.talk_seconds, Some(43));
    assert_eq!(s.customer_number.as_deref(), Some("17534989887"));
    let region = s.region.as_ref().unwrap();
    assert_eq!(
        (
            region.province.as_deref(),
            region.city.as_deref(),
            region.carrier.as_deref()
        ),
        (Some("山西"), Some("晋中"), Some("联通"))
    );
    assert_eq!(s.task_name.as_deref(), Some("cky呼入任务测试"));
    assert_eq!(s.script_id.as_deref(), Some("11032"));
    assert_eq!(
        s.tags.as_deref(),
        Some(&["打出来的是什么号码".to_owned()][..])
    );
    assert_eq!(s.intent.as_ref().unwrap().code.as_deref(), Some("1"));
    assert_eq!(u.vendor_fields["group"], json!({"name": "cky测试"}));
    assert_eq!(u.vendor_fields["level"]["level_name"], json!("评分中"));
    assert_eq!(u.vendor_fields["duration"], json!(43));
}

// ---------------------------------------------------------------------------
// Across vendors

#[test]
fn numbers_sent_as_strings_and_ids_sent_as_numbers() {
    let p = fixture(
        SourceKind::AliyunCallReport,
        "numbers_as_strings_ids_as_numbers.json",
    );
    let s = &p.records[0].update.set;
    assert_eq!(s.talk_seconds, Some(148));
    assert_eq!(s.task_id.as_deref(), Some("1181437690254871"));
    assert_eq!(s.out_id.as_deref(), Some("88001234"));
    assert_eq!(s.customer_number.as_deref(), Some("13912345678"));
    assert_eq!(p.records[1].update.vendor_call_id, "116012860002");
    assert!(p.warnings.is_empty(), "{:?}", p.warnings);

    let p = fixture(
        SourceKind::ItnioCallRecord,
        "numbers_as_strings_ids_as_numbers.json",
    );
    let u = by_id(&p, "2140583921733");
    assert_eq!(u.set.talk_seconds, Some(95));
    assert_eq!(u.set.billed_seconds, Some(120));
    assert_eq!(
        ts(u.set.originated_at).as_deref(),
        Some("2025-06-01T07:00:00Z")
    );
    assert_eq!(u.set.cost.as_ref().unwrap().amount.to_string(), "0.04");
    assert_eq!(u.set.outcome, Some(Outcome::Answered), "engine code \"0\"");
    assert_eq!(
        by_id(&p, "2140583921734").set.outcome,
        Some(Outcome::NoAnswer)
    );
    assert!(p.warnings.is_empty(), "{:?}", p.warnings);

    let p = fixture(
        SourceKind::LaafficVoiceReport,
        "numbers_as_strings_ids_as_numbers.json",
    );
    let u = &p.records[0].update;
    assert_eq!(u.vendor_call_id, "260326180000160100052");
    assert_eq!(u.set.task_id.as_deref(), Some("5034040"));
    assert!(!u.vendor_fields.contains_key("voiceId"), "mapped, not kept");
    assert_eq!(u.set.talk_seconds, Some(48));
    assert_eq!(u.set.outcome, Some(Outcome::Answered));
    assert_eq!(
        ts(u.set.answered_at).as_deref(),
        Some("2026-03-26T10:00:01Z")
    );
    assert_eq!(u.set.cost.as_ref().unwrap().amount.to_string(), "0.112");
    assert!(p.warnings.is_empty(), "{:?}", p.warnings);

    let p = fixture(
        SourceKind::LonglonglongInbound,
        "numbers_as_strings_ids_as_numbers.json",
    );
    let u = &p.records[0].update;
    assert_eq!(u.vendor_call_id, "8800120006");
    assert_eq!(u.set.talk_seconds, Some(43));
    assert_eq!(u.set.task_id.as_deref(), Some("880012"));
    assert_eq!(u.set.intent.as_ref().unwrap().code.as_deref(), Some("2"));
    assert!(p.warnings.is_empty(), "{:?}", p.warnings);
}

#[test]
fn a_bad_record_is_an_error_with_index_and_path_and_the_rest_is_kept() {
    let p = fixture(SourceKind::AliyunCallReport, "batch_with_bad_records.json");
    assert_eq!(p.record_count, 7);
    let kept: Vec<_> = p.records.iter().map(|r| r.index).collect();
    assert_eq!(kept, [0, 6]);
    let errors: Vec<_> = p
        .errors
        .iter()
        .map(|e| (e.index, e.path.as_str()))
        .collect();
    assert_eq!(
        errors,
        [
            (Some(1), "$[1]"),
            (Some(2), "$[2]"),
            (Some(3), "$[3]"),
            (Some(4), "$[4]"),
            (Some(5), "$[5]"),
        ]
    );
    assert!(p.errors[0].message.contains("missing call id `callId`"));
    assert!(p.errors[1].message.contains("found a string"));
    assert!(p.errors[2].message.contains("empty call id"));
    assert!(p.errors[3].message.contains("found null"));

    let p = fixture(
        SourceKind::LonglonglongInbound,
        "batch_with_bad_records.json",
    );
    assert_eq!(
        p.records.iter().map(|r| r.index).collect::<Vec<_>>(),
        [0, 4]
    );
    assert_eq!(p.errors[0].path, "$.data[1]");
    assert!(p.errors[0].message.contains("callid"));
    // Field problems in a kept record are warnings located by path.
    let paths: Vec<_> = p.warnings.iter().map(|w| w.path.as_str()).collect();
    assert!(paths.contains(&"$.data[4].number_data"), "{paths:?}");
    assert!(paths.contains(&"$.data[4].bill"), "{paths:?}");

    let p = fixture(
        SourceKind::LaafficVoiceReport,
        "batch_with_bad_records.json",
    );
    assert_eq!(
        p.records.iter().map(|r| r.index).collect::<Vec<_>>(),
        [0, 4]
    );
    assert_eq!(
        p.errors.iter().map(|e| e.path.as_str()).collect::<Vec<_>>(),
        ["$.array[1]", "$.array[2]", "$.array[3]", "$.array[5]"]
    );
    // A 21-digit id sent as a JSON number was rounded: refused, not stored.
    assert!(
        p.errors[3].message.contains("cannot be read exactly"),
        "{:?}",
        p.errors[3]
    );
    let kept = &p.records[1].update;
    assert_eq!(kept.vendor_fields["answerTime"], json!("yesterday"));
    // One money part unreadable: the cost is unknown, not the other part alone.
    assert_eq!(kept.set.cost, None);
    assert_eq!(kept.vendor_fields["cost"], json!("0,012"));
    assert!(p
        .warnings
        .iter()
        .any(|w| w.path == "$.array[4].answerTime" && w.index == Some(4)));
}

#[test]
fn unknown_fields_land_in_vendor_fields() {
    let p = fixture(SourceKind::AliyunCallReport, "unknown_fields.json");
    let vf = &p.records[0].update.vendor_fields;
    assert_eq!(vf["majorIntent"], json!("有意向"));
    assert_eq!(
        vf["extInfo"],
        json!({"channel": "sms-followup", "retry": 1})
    );
    assert!(vf["recordFile"].as_str().unwrap().starts_with("https://"));

    let p = fixture(SourceKind::LonglonglongInbound, "unknown_fields.json");
    let vf = &p.records[0].update.vendor_fields;
    assert_eq!(vf["hangup_cause"], json!("NORMAL_CLEARING"));
    assert_eq!(vf["number_data"], json!({"isp_code": 3}));
    assert_eq!(vf["task"], json!({"type": "inbound"}));

    let p = fixture(SourceKind::LaafficVoiceReport, "unknown_fields.json");
    let vf = &p.records[0].update.vendor_fields;
    assert_eq!(vf["extend"], json!({"orderNo": "A1001"}));
    assert_eq!(vf["countryCode"], json!("86"));

    let p = fixture(SourceKind::ItnioCallRecord, "unknown_fields.json");
    let vf = &p.records[0].update.vendor_fields;
    assert_eq!(vf["hangupCause"], json!("NORMAL_CLEARING"));
    assert_eq!(vf["transferPhone"], json!(null));

    let p = fixture(SourceKind::AliyunCallNotes, "unknown_fields.json");
    let vf = &p.records[0].update.analyses[0].vendor_fields;
    assert_eq!(vf["model_version"], json!("note-agent-2026-02"));
}

#[test]
fn parts_with_no_place_in_the_model_are_kept_as_received() {
    // Transcript lines with undocumented keys: turns are built, and the raw
    // list stays (it holds the line ids too).
    let p = fixture(SourceKind::ItnioCallRecord, "unknown_fields.json");
    let u = &p.records[0].update;
    assert_eq!(u.set.turns.as_ref().map(Vec::len), Some(2));
    assert_eq!(
        u.vendor_fields["callDetailList"][1]["emotion"],
        json!("neutral")
    );
    assert!(!u.vendor_fields.contains_key("callDetailIds"));

    // An empty line does not become a turn: ids would no longer line up.
    let p = fixture(
        SourceKind::ItnioCallRecord,
        "transcript_with_many_turns.json",
    );
    let u = &p.records[0].update;
    assert_eq!(u.set.turns.as_ref().map(Vec::len), Some(11));
    assert_eq!(
        u.vendor_fields["callDetailList"].as_array().map(Vec::len),
        Some(12)
    );
    assert!(!u.vendor_fields.contains_key("callDetailIds"));

    // An unknown speaker is an unknown value; the transcript stays raw.
    let p = fixture(SourceKind::ItnioCallRecord, "unknown_status_values.json");
    let u = &p.records[1].update;
    assert_eq!(u.set.turns, None);
    assert!(u.vendor_fields.contains_key("callDetailList"));
    assert!(p
        .unknown_values
        .iter()
        .any(|v| v.field == "callDetailList[].type" && v.value == "IVR"));

    // Tag objects with their own keys: names are mapped, the list stays raw.
    let p = fixture(SourceKind::LonglonglongInbound, "unknown_fields.json");
    let u = &p.records[0].update;
    assert_eq!(
        u.set.tags.as_deref(),
        Some(&["打出来的是什么号码".to_owned()][..])
    );
    assert_eq!(u.vendor_fields["tags"][0]["color"], json!("#ff6600"));
    assert!(!u.vendor_fields.contains_key("tag_ids"));
    let p = fixture(SourceKind::LonglonglongInbound, "sample.json");
    let u = &p.records[0].update;
    assert!(!u.vendor_fields.contains_key("tags"));
    assert_eq!(
        u.vendor_fields["tag_ids"],
        json!(["db97dd4e-d7d7-4f7d-bc1c-f347dacc146b"])
    );

    // Inspection items with undocumented keys: items are mapped, `result` stays raw.
    let p = fixture(SourceKind::AliyunCallNotes, "unknown_fields.json");
    let a = &p.records[0].update.analyses[0];
    assert_eq!(a.items.as_ref().map(Vec::len), Some(2));
    let raw = a.vendor_fields["result"]
        .as_str()
        .expect("raw result string");
    assert!(raw.contains("\"weight\":0.1"), "{raw}");
    let p = fixture(SourceKind::AliyunCallNotes, "sample.json");
    assert!(!p.records[0].update.analyses[0]
        .vendor_fields
        .contains_key("result"));
}

#[test]
fn null_lists_say_nothing() {
    // ITNIO: both tag lists null, transcript null: no tags, no turns (a
    // stored value is kept), and the mapped keys do not linger as raw nulls.
    let p = fixture(SourceKind::ItnioCallRecord, "nulls_and_empty_strings.json");
    let u = &p.records[0].update;
    assert_eq!(u.set.tags, None);
    assert_eq!(u.set.turns, None);
    for key in ["callRecordTagNames", "customerTagNames", "callDetailList"] {
        assert!(!u.vendor_fields.contains_key(key), "{key}");
    }
    // longlonglong: null `tags` and `number_data`.
    let p = fixture(
        SourceKind::LonglonglongInbound,
        "nulls_and_empty_strings.json",
    );
    let first = &p.records[0].update;
    assert_eq!(first.set.tags, None);
    assert!(!first.vendor_fields.contains_key("tags"));
    let second = &p.records[1].update;
    assert_eq!(second.set.customer_number, None);
    assert!(!second.vendor_fields.contains_key("number_data"));
    assert_eq!(second.set.tags, Some(Vec::new()), "[] is a real empty list");
}

#[test]
fn bare_objects_are_accepted_where_arrays_are_documented() {
    for (kind, file) in [
        (SourceKind::AliyunCallReport, "bare_object.json"),
        (SourceKind::AliyunCallNotes, "bare_object.json"),
        (SourceKind::LonglonglongInbound, "bare_record_object.json"),
        (SourceKind::LonglonglongInbound, "data_as_object.json"),
        (SourceKind::LaafficVoiceReport, "bare_record_object.json"),
    ] {
        let p = fixture(kind, file);
        assert_eq!((p.record_count, p.records.len()), (1, 1), "{kind} {file}");
    }
    let p = fixture(
        SourceKind::ItnioCallRecord,
        "bare_object_where_array_documented.json",
    );
    let s = &p.records[0].update.set;
    assert_eq!(s.turns.as_ref().map(Vec::len), Some(1));
    assert_eq!(
        s.tags.as_deref(),
        Some(&["Interested", "Asked about amount", "Existing customer"].map(String::from)[..])
    );
}

#[test]
fn wrong_shapes_are_refused_with_a_path() {
    let refuse = |kind: SourceKind, body: &str| {
        adapters::parse(kind, body.as_bytes(), &SourceContext::default_for(kind)).expect_err(body)
    };
    assert_eq!(
        refuse(SourceKind::AliyunCallReport, "\"x\""),
        ParseError::Shape {
            path: "$".into(),
            message: "expected an array of records or one record object, found a string".into()
        }
    );
    assert!(matches!(
        refuse(SourceKind::ItnioCallRecord, ""),
        ParseError::InvalidJson { line: 1, .. }
    ));
    match refuse(SourceKind::LaafficVoiceReport, r#"{"code":0}"#) {
        ParseError::Shape { path, .. } => assert_eq!(path, "$.array"),
        other => panic!("{other:?}"),
    }
    match refuse(
        SourceKind::LonglonglongInbound,
        r#"{"count":1,"data":"[]"}"#,
    ) {
        ParseError::Shape { path, message } => {
            assert_eq!(path, "$.data");
            assert!(message.contains("found a string"), "{message}");
        }
        other => panic!("{other:?}"),
    }
}
