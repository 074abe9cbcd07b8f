//! Behaviour shared by every adapter: drift, bad records, shapes.

use super::*;

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
    // `recordFile` is the call's recording link, not an unknown field.
    assert!(!vf.contains_key("recordFile"));
    assert!(p.records[0]
        .update
        .set
        .recording_url
        .as_deref()
        .unwrap()
        .starts_with("https://aiccs-record.oss-cn-hangzhou.aliyuncs.com/"));

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
