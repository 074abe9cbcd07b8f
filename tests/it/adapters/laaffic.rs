//! LAAFFIC (doc 004) mappings.

use super::*;

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
