//! Property tests of the ingest path's reading (`callhook::ingest::read_body`)
//! with hostile values in every field: NUL characters, a UTF-8 byte order
//! mark, ASCII and C1 control characters, bidirectional overrides, and
//! numbers far beyond any real duration or amount. Whatever the values, the
//! body is read (never refused for them, never a panic), no NUL reaches
//! the store (PostgreSQL text cannot hold one) and each record that had
//! one says so in a warning, amounts stay inside the money bound, the
//! canonical call survives its JSON round trip, and the text log's
//! escaping leaves no control character.

use callhook::adapters::SourceContext;
use callhook::config::Limits;
use callhook::domain::money::AMOUNT_LIMIT;
use callhook::domain::{Call, CallUpdate, SourceKind};
use callhook::ingest::{body_limits, read_body};
use callhook::storage::BodyResult;
use callhook::telemetry::escape::{escape_control, needs_escape};
use jiff::Timestamp;
use proptest::prelude::*;

/// Text with the characters that broke storage, logs or exports mixed in.
fn hostile_text() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        "[a-z0-9 ]{0,6}",
        Just("\0".to_owned()),
        Just("\u{feff}".to_owned()),
        Just("\r\n".to_owned()),
        Just("\u{1b}[31m".to_owned()),
        Just("\u{7}\u{8}\u{7f}".to_owned()),
        Just("\u{85}\u{9b}".to_owned()),
        Just("\u{202e}\u{2066}".to_owned()),
        Just("=HYPERLINK(\"x\")".to_owned()),
        Just("客户".to_owned()),
        "\\PC{0,3}",
    ];
    prop::collection::vec(piece, 0..5).prop_map(|v| v.concat())
}

/// A JSON number's text, from ordinary to absurd.
fn hostile_number() -> impl Strategy<Value = String> {
    prop_oneof![
        (0i64..100_000).prop_map(|n| n.to_string()),
        Just(BEYOND_F64.to_owned()),
        Just("-1e308".to_owned()),
        Just("5e28".to_owned()),
        Just("79228162514264337593543950336".to_owned()),
        Just("18446744073709551616".to_owned()),
        Just("-9223372036854775809".to_owned()),
        Just("0.0000000000000000000000000000001".to_owned()),
        Just("1E+15".to_owned()),
    ]
}

/// A number JSON allows but no f64 holds.
const BEYOND_F64: &str = "1e400";

fn rejected(kind: SourceKind, body: &[u8]) -> callhook::adapters::RecordIssue {
    let limits = body_limits(&Limits::default());
    match read_body(kind, body, &SourceContext::default_for(kind), limits).result {
        BodyResult::Rejected(issue) => issue,
        BodyResult::Parsed { .. } => panic!("read: {}", String::from_utf8_lossy(body)),
    }
}

fn json_string(s: &str) -> String {
    serde_json::to_string(s).expect("a string serializes")
}

fn read(kind: SourceKind, body: &[u8]) -> (Vec<CallUpdate>, Vec<callhook::adapters::RecordIssue>) {
    let limits = body_limits(&Limits::default());
    let reading = read_body(kind, body, &SourceContext::default_for(kind), limits);
    match reading.result {
        BodyResult::Parsed {
            updates, warnings, ..
        } => (updates, warnings),
        BodyResult::Rejected(issue) => panic!(
            "refused: {issue:?}\nbody: {}",
            String::from_utf8_lossy(body)
        ),
    }
}

/// What every update read from a hostile body must be.
fn check_storable(
    updates: &[CallUpdate],
    warnings: &[callhook::adapters::RecordIssue],
    had_nul: bool,
) {
    for u in updates {
        let json = serde_json::to_string(u).expect("an update serializes");
        assert!(!json.contains("\\u0000"), "a NUL reaches the store: {json}");
        for m in [&u.set.cost, &u.fill.cost].into_iter().flatten() {
            assert!(
                m.amount.abs() < AMOUNT_LIMIT,
                "amount {} past the bound",
                m.amount
            );
        }
        let call = Call::from_update(u, "prop", Timestamp::from_second(1_750_000_000).unwrap());
        let text = serde_json::to_string(&call).expect("a call serializes");
        let back: Call = serde_json::from_str(&text).expect("a call reads back");
        assert_eq!(back, call);
    }
    if had_nul {
        assert!(
            warnings
                .iter()
                .any(|w| w.message.contains("NUL") && w.index == Some(0)),
            "no NUL warning: {warnings:?}"
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn alibaba_text_fields_of_any_content_are_stored_safely(
        id in hostile_text(),
        callee in hostile_text(),
        out_id in hostile_text(),
        task_id in hostile_text(),
        status in hostile_text(),
        bom in any::<bool>(),
    ) {
        let mut body = if bom { b"\xEF\xBB\xBF".to_vec() } else { Vec::new() };
        body.extend_from_slice(format!(
            r#"[{{"callId":{},"callee":{},"outId":{},"taskId":{},"smartStatusCode":{},"startTime":"2025-06-01 10:00:00"}}]"#,
            json_string(&format!("p{id}")), json_string(&callee), json_string(&out_id),
            json_string(&task_id), json_string(&status),
        ).as_bytes());
        let (updates, warnings) = read(SourceKind::AliyunCallReport, &body);
        prop_assert_eq!(updates.len(), 1);
        prop_assert!(updates[0].vendor_call_id.starts_with('p'));
        let had_nul = [&id, &callee, &out_id, &task_id, &status].iter().any(|s| s.contains('\0'));
        check_storable(&updates, &warnings, had_nul);
    }

    #[test]
    fn itnio_numbers_of_any_size_never_break_a_call(
        start in hostile_number(),
        chat in hostile_number(),
        billing in hostile_number(),
        pay in hostile_number(),
        pay_as_text in any::<bool>(),
        line in hostile_text(),
    ) {
        let pay = if pay_as_text { json_string(&pay) } else { pay };
        let body = format!(
            r#"{{"callId":"n-1","resultStatus":"ANSWERED","startTime":{start},"chatDuration":{chat},"billingTime":{billing},"pay":{pay},"callDetailList":[{{"text":{},"type":"ROBOT"}}]}}"#,
            json_string(&format!("t{line}")),
        );
        // Past f64's range a number is not read (serde_json: "number out
        // of range"): the body is refused as a whole with where, and kept.
        if [&start, &chat, &billing].iter().any(|n| n.as_str() == BEYOND_F64) || (!pay_as_text && pay == BEYOND_F64) {
            let issue = rejected(SourceKind::ItnioCallRecord, body.as_bytes());
            prop_assert!(issue.message.contains("number out of range") && issue.message.contains("line 1 column"), "{:?}", issue);
            return Ok(());
        }
        let (updates, warnings) = read(SourceKind::ItnioCallRecord, body.as_bytes());
        prop_assert_eq!(updates.len(), 1);
        check_storable(&updates, &warnings, line.contains('\0'));
        for t in [&updates[0].set.talk_seconds, &updates[0].fill.talk_seconds].into_iter().flatten() {
            prop_assert!(*t >= 0, "negative talk time {}", t);
        }
    }

    #[test]
    fn the_text_log_escapes_every_control_character(s in hostile_text()) {
        let escaped = escape_control(&s);
        prop_assert!(!escaped.chars().any(needs_escape), "{:?}", escaped);
        prop_assert!(!escaped.contains('\n') && !escaped.contains('\r'));
        // Nothing else is touched: without controls the text is unchanged.
        if !s.chars().any(needs_escape) {
            prop_assert_eq!(escaped.as_ref(), s.as_str());
        }
    }
}
