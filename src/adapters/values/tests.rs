use super::*;
use serde_json::json;

fn shanghai() -> TimeZone {
    TimeZone::get("Asia/Shanghai").unwrap()
}

fn t(v: Value) -> Option<String> {
    time(&v, &shanghai()).unwrap().map(|ts| ts.to_string())
}

#[test]
fn zone_less_strings_are_read_in_the_source_zone() {
    assert_eq!(
        t(json!("2025-06-01 10:00:00")).as_deref(),
        Some("2025-06-01T02:00:00Z")
    );
    assert_eq!(
        t(json!("2025-06-01T10:00:00")).as_deref(),
        Some("2025-06-01T02:00:00Z")
    );
    assert_eq!(
        t(json!("2025/06/01 10:00:00")).as_deref(),
        Some("2025-06-01T02:00:00Z")
    );
    assert_eq!(
        t(json!("2025-06-01 10:00:00.250")).as_deref(),
        Some("2025-06-01T02:00:00.25Z")
    );
}

#[test]
fn midnight_in_shanghai_is_the_previous_day_in_utc() {
    assert_eq!(
        t(json!("2025-06-02 00:30:00")).as_deref(),
        Some("2025-06-01T16:30:00Z")
    );
}

#[test]
fn explicit_offsets_win_over_the_source_zone() {
    assert_eq!(
        t(json!("2025-06-01T10:00:00+02:00")).as_deref(),
        Some("2025-06-01T08:00:00Z")
    );
    assert_eq!(
        t(json!("2025-06-01T10:00:00Z")).as_deref(),
        Some("2025-06-01T10:00:00Z")
    );
}

#[test]
fn epochs_are_seconds_or_milliseconds_by_magnitude() {
    assert_eq!(
        t(json!(1774509748000i64)).as_deref(),
        Some("2026-03-26T07:22:28Z")
    );
    assert_eq!(
        t(json!(1774509748)).as_deref(),
        Some("2026-03-26T07:22:28Z")
    );
    assert_eq!(
        t(json!("1774509748000")).as_deref(),
        Some("2026-03-26T07:22:28Z")
    );
    assert_eq!(
        t(json!(1774509744963i64)).as_deref(),
        Some("2026-03-26T07:22:24.963Z")
    );
}

#[test]
fn compact_digits_are_a_local_date_time() {
    assert_eq!(
        t(json!("20260326152228")).as_deref(),
        Some("2026-03-26T07:22:28Z")
    );
    assert_eq!(
        t(json!(20260326152228i64)).as_deref(),
        Some("2026-03-26T07:22:28Z")
    );
}

#[test]
fn unknown_times_are_none_never_1970() {
    for v in [
        json!(null),
        json!(""),
        json!(0),
        json!("0"),
        json!("  "),
        json!("0000-00-00 00:00:00"),
        json!("null"),
    ] {
        assert_eq!(t(v.clone()), None, "{v}");
    }
}

#[test]
fn unreadable_times_are_errors() {
    for v in [
        json!("yesterday"),
        json!(-5),
        json!({"a": 1}),
        json!("2025-13-01 10:00:00"),
        json!(1.5),
    ] {
        assert!(time(&v, &shanghai()).is_err(), "{v}");
    }
}

#[test]
fn integers_accept_strings_and_integral_floats() {
    assert_eq!(integer(&json!(43)).unwrap(), Some(43));
    assert_eq!(integer(&json!("43")).unwrap(), Some(43));
    assert_eq!(integer(&json!(" 43 ")).unwrap(), Some(43));
    assert_eq!(integer(&json!(43.0)).unwrap(), Some(43));
    assert_eq!(integer(&json!("")).unwrap(), None);
    assert!(integer(&json!("4x")).is_err());
    assert!(integer(&json!(4.5)).is_err());
    assert!(integer(&json!([1])).is_err());
}

#[test]
fn decimals_are_exact() {
    assert_eq!(decimal(&json!("0.10")).unwrap().unwrap().to_string(), "0.1");
    assert_eq!(decimal(&json!(0.1)).unwrap().unwrap().to_string(), "0.1");
    assert_eq!(
        decimal(&json!("12.3456789")).unwrap().unwrap().to_string(),
        "12.3456789"
    );
    assert_eq!(decimal(&json!(3)).unwrap().unwrap().to_string(), "3");
    assert_eq!(
        decimal(&json!("1e-3")).unwrap().unwrap().to_string(),
        "0.001"
    );
    assert_eq!(decimal(&json!("")).unwrap(), None);
    assert!(decimal(&json!("ten")).is_err());
}

#[test]
fn text_takes_ids_sent_as_numbers() {
    assert_eq!(text(&json!(5034040)).unwrap().as_deref(), Some("5034040"));
    assert_eq!(text(&json!(" a ")).unwrap().as_deref(), Some("a"));
    assert_eq!(text(&json!("")).unwrap(), None);
    assert!(text(&json!({})).is_err());
}

#[test]
fn booleans_accept_common_spellings() {
    assert_eq!(boolean(&json!("true")).unwrap(), Some(true));
    assert_eq!(boolean(&json!(0)).unwrap(), Some(false));
    assert!(boolean(&json!("maybe")).is_err());
}

#[test]
fn warnings_quote_at_most_200_bytes_of_a_long_value() {
    let long = "9".repeat(50_000) + "x";
    for err in [
        integer(&json!(long)).unwrap_err(),
        number(&json!(long)).unwrap_err(),
        decimal(&json!(long)).unwrap_err(),
        boolean(&json!(long)).unwrap_err(),
        time(&json!(long), &TimeZone::UTC).unwrap_err(),
    ] {
        assert!(err.len() < 320, "{} bytes: {}", err.len(), &err[..80]);
        assert!(err.contains("…(49801 more bytes)\""), "{err}");
    }
    let nested = json!([{"a": "b".repeat(10_000)}]);
    let err = boolean(&nested).unwrap_err();
    assert!(err.len() < 100, "{err}");
}
