//! Property tests of the vendor scalar readers in `callhook::adapters::values`:
//! every time form the vendors send parses back to the instant it was
//! written from, money parses back exactly, and garbage is an error (or
//! "unknown"), never a panic.
//!
//! The rules under test (`values::time`):
//!
//! - epoch numbers (JSON numbers, integral floats or digit strings) below
//!   10^11 are seconds, at or above it milliseconds;
//! - 14 digits from 19000101000000 to 29991231235959 that form a real date
//!   and time are `yyyyMMddHHmmss` in the source's zone, *not* epoch
//!   milliseconds (so epoch ms from 2572 to 2920 are misread as dates);
//! - zone-less `yyyy-MM-dd HH:mm:ss` is read in the source's zone with
//!   jiff's "compatible" rule: a local time in a DST gap (which no clock
//!   showed) is shifted forward by the gap, i.e. read with the offset in
//!   force before the gap; a local time in a fold (shown twice) is the
//!   earlier of the two instants.

use callhook::adapters::values::{decimal, integer, text, time};
use jiff::civil::{date, DateTime};
use jiff::tz::{self, TimeZone};
use jiff::{SignedDuration, Timestamp};
use proptest::prelude::*;
use rust_decimal::Decimal;
use serde_json::{json, Value};

fn shanghai() -> TimeZone {
    TimeZone::get("Asia/Shanghai").expect("tzdb has Asia/Shanghai")
}

fn berlin() -> TimeZone {
    TimeZone::get("Europe/Berlin").expect("tzdb has Europe/Berlin")
}

/// 10^11: epoch numbers at or above it are milliseconds.
const MILLIS_THRESHOLD: i64 = 100_000_000_000;
/// The smallest number read as `yyyyMMddHHmmss` (if it is a real date).
const COMPACT_MIN: i64 = 19_000_101_000_000;

fn secs(t: Timestamp) -> i64 {
    t.as_second()
}

fn parse_time(v: &Value, tz: &TimeZone) -> Timestamp {
    match time(v, tz) {
        Ok(Some(t)) => t,
        other => panic!("{v} did not parse to an instant: {other:?}"),
    }
}

/// Whole-second instants from 1971-01-01 to 2100-01-01 (UTC).
fn instant() -> impl Strategy<Value = Timestamp> {
    (31_536_000i64..4_102_444_800).prop_map(|s| Timestamp::from_second(s).unwrap())
}

/// Whole-second instants after Shanghai's last DST (1991) up to 2999.
fn instant_shanghai_no_dst() -> impl Strategy<Value = Timestamp> {
    (694_224_000i64..32_503_680_000).prop_map(|s| Timestamp::from_second(s).unwrap())
}

fn local_text(t: Timestamp, tz: &TimeZone, fmt: &str) -> String {
    t.to_zoned(tz.clone()).strftime(fmt).to_string()
}

/// The two (or one) instants a local time names in `tz`, earliest first;
/// empty in a gap.
fn candidates(dt: DateTime, tz: &TimeZone) -> Vec<Timestamp> {
    let amb = tz.to_ambiguous_timestamp(dt);
    let mut out = Vec::new();
    use jiff::tz::AmbiguousOffset::*;
    match amb.offset() {
        Unambiguous { offset } => out.push(offset.to_timestamp(dt).unwrap()),
        Gap { .. } => {}
        Fold { before, after } => {
            out.push(before.to_timestamp(dt).unwrap());
            out.push(after.to_timestamp(dt).unwrap());
            out.sort();
        }
    }
    out
}

proptest! {
    // No failure files: a failure prints its minimal input; add it as a
    // plain #[test] below.
    #![proptest_config(ProptestConfig {
        cases: 512,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    // ---- epoch numbers ----------------------------------------------------

    #[test]
    fn epoch_seconds_below_1e11_parse_back(s in 1i64..MILLIS_THRESHOLD) {
        let want = Timestamp::from_second(s).unwrap();
        let tz = shanghai();
        prop_assert_eq!(parse_time(&json!(s), &tz), want);
        prop_assert_eq!(parse_time(&json!(s.to_string()), &tz), want);
        prop_assert_eq!(parse_time(&json!(format!("  {s} ")), &tz), want);
        // An integral float is the same number.
        prop_assert_eq!(parse_time(&json!(s as f64), &tz), want);
    }

    #[test]
    fn epoch_milliseconds_from_1e11_parse_back_to_the_ms(ms in MILLIS_THRESHOLD..COMPACT_MIN) {
        let want = Timestamp::from_millisecond(ms).unwrap();
        let tz = berlin();
        prop_assert_eq!(parse_time(&json!(ms), &tz), want);
        prop_assert_eq!(parse_time(&json!(ms.to_string()), &tz), want);
        prop_assert_eq!(parse_time(&json!(ms as f64), &tz), want);
    }

    #[test]
    fn real_instants_round_trip_as_seconds_and_as_milliseconds(
        t in instant(), ms_part in 0i64..1000,
    ) {
        let tz = shanghai();
        prop_assert_eq!(parse_time(&json!(secs(t)), &tz), t);
        prop_assert_eq!(parse_time(&json!(secs(t).to_string()), &tz), t);
        // Before 1973-03-03T09:46:40Z an epoch in ms is below 10^11: it
        // would be read as seconds (see the boundary test below).
        prop_assume!(t.as_millisecond() >= MILLIS_THRESHOLD);
        let with_ms = t.checked_add(SignedDuration::from_millis(ms_part)).unwrap();
        let ms = with_ms.as_millisecond();
        prop_assert_eq!(parse_time(&json!(ms), &tz), with_ms);
        prop_assert_eq!(parse_time(&json!(ms.to_string()), &tz), with_ms);
    }

    #[test]
    fn negative_epochs_are_errors(n in i64::MIN..0) {
        prop_assert!(time(&json!(n), &shanghai()).is_err());
        prop_assert!(time(&json!(n.to_string()), &shanghai()).is_err());
    }

    #[test]
    fn epochs_past_the_calendar_are_errors_not_panics(n in 253_402_300_800_000i64..i64::MAX) {
        // Milliseconds after 9999-12-31 (and not a compact date).
        prop_assert!(time(&json!(n), &shanghai()).is_err());
        prop_assert!(time(&json!(n.to_string()), &shanghai()).is_err());
    }

    // ---- yyyyMMddHHmmss ---------------------------------------------------

    #[test]
    fn compact_local_times_round_trip_in_shanghai(t in instant_shanghai_no_dst()) {
        let tz = shanghai();
        let s = local_text(t, &tz, "%Y%m%d%H%M%S");
        prop_assert_eq!(parse_time(&json!(s), &tz), t);
        let n: i64 = s.parse().unwrap();
        prop_assert_eq!(parse_time(&json!(n), &tz), t);
    }

    #[test]
    fn compact_digits_that_are_a_date_win_over_milliseconds(
        y in 1900i16..=2999, mo in 1i8..=12, d in 1i8..=28, h in 0i8..24, mi in 0i8..60, s in 0i8..60,
    ) {
        let dt = DateTime::new(y, mo, d, h, mi, s, 0).unwrap();
        let n: i64 = dt.strftime("%Y%m%d%H%M%S").to_string().parse().unwrap();
        prop_assert!(n >= COMPACT_MIN);
        let want = dt.to_zoned(TimeZone::UTC).unwrap().timestamp();
        prop_assert_eq!(parse_time(&json!(n), &TimeZone::UTC), want);
    }

    #[test]
    fn fourteen_digits_that_are_not_a_date_are_milliseconds(
        y in 1900i64..=2999, mo in 13i64..=99, rest in 0i64..100_000_000,
    ) {
        // Month 13..99: no date, so an epoch in milliseconds.
        let n = y * 10_000_000_000 + mo * 100_000_000 + rest;
        let want = Timestamp::from_millisecond(n).unwrap();
        prop_assert_eq!(parse_time(&json!(n), &shanghai()), want);
    }

    // ---- yyyy-MM-dd HH:mm:ss in a zone ------------------------------------

    #[test]
    fn zone_less_text_round_trips_in_shanghai(t in instant_shanghai_no_dst(), ms in 0i64..1000) {
        let tz = shanghai();
        prop_assert_eq!(parse_time(&json!(local_text(t, &tz, "%Y-%m-%d %H:%M:%S")), &tz), t);
        prop_assert_eq!(parse_time(&json!(local_text(t, &tz, "%Y-%m-%dT%H:%M:%S")), &tz), t);
        prop_assert_eq!(parse_time(&json!(local_text(t, &tz, "%Y/%m/%d %H:%M:%S")), &tz), t);
        let t_ms = t.checked_add(SignedDuration::from_millis(ms)).unwrap();
        prop_assert_eq!(
            parse_time(&json!(local_text(t_ms, &tz, "%Y-%m-%d %H:%M:%S%.3f")), &tz),
            t_ms
        );
    }

    #[test]
    fn zone_less_text_in_berlin_round_trips_except_in_the_fold(t in instant()) {
        let tz = berlin();
        let s = local_text(t, &tz, "%Y-%m-%d %H:%M:%S");
        let got = parse_time(&json!(s.clone()), &tz);
        let dt = t.to_zoned(tz.clone()).datetime();
        let names = candidates(dt, &tz);
        prop_assert!(names.contains(&t), "{} does not name {}", s, t);
        // Unambiguous: exact. In the fold (the hour shown twice when DST
        // ends): the earlier instant, the one still on summer time.
        prop_assert_eq!(got, names[0], "{}", s);
        if names.len() == 2 {
            prop_assert_eq!(names[1].duration_since(names[0]), SignedDuration::from_hours(1));
            prop_assert_eq!(got.to_zoned(tz.clone()).offset(), tz::offset(2));
        }
    }

    #[test]
    fn berlin_local_times_in_the_spring_gap_move_forward_an_hour(
        year in 1981i16..=2037, minute in 0i8..60, second in 0i8..60,
    ) {
        // DST starts on the last Sunday of March at 02:00 (01:00 UTC): the
        // clock jumps to 03:00, so 02:mm:ss never happened. It is read with
        // the winter offset (+01:00), which is 03:mm:ss summer time.
        let last = date(year, 3, 31);
        let sunday = last
            .checked_sub(jiff::Span::new().days(i64::from(last.weekday().to_sunday_zero_offset())))
            .unwrap();
        let dt = sunday.at(2, minute, second, 0);
        let tz = berlin();
        prop_assert!(candidates(dt, &tz).is_empty(), "{} is not in a gap", dt);
        let got = parse_time(&json!(dt.strftime("%Y-%m-%d %H:%M:%S").to_string()), &tz);
        prop_assert_eq!(got, tz::offset(1).to_timestamp(dt).unwrap());
        prop_assert_eq!(got.to_zoned(tz).datetime(), sunday.at(3, minute, second, 0));
    }

    #[test]
    fn explicit_offsets_win_over_the_source_zone(t in instant(), off_min in -(14 * 60)..=(14 * 60i32)) {
        let off = tz::Offset::from_seconds(off_min * 60).unwrap();
        let s = t.to_zoned(TimeZone::fixed(off)).strftime("%Y-%m-%dT%H:%M:%S%:z").to_string();
        prop_assert_eq!(parse_time(&json!(s.clone()), &berlin()), t, "{}", s);
        prop_assert_eq!(parse_time(&json!(t.to_string()), &shanghai()), t);
    }

    // ---- garbage ----------------------------------------------------------

    #[test]
    fn any_text_is_a_time_unknown_or_an_error_quoting_it(s in "\\PC{0,40}") {
        let tz = shanghai();
        match time(&json!(s.clone()), &tz) {
            Ok(None) => {
                let t = s.trim();
                prop_assert!(
                    t.eq_ignore_ascii_case("null")
                        || t.trim_matches(|c| "0-:/ T.".contains(c)).is_empty(),
                    "{:?} read as unknown", s
                );
            }
            Ok(Some(_)) => {}
            Err(e) => prop_assert!(e.contains(s.trim()) || e.contains("epoch"), "{}", e),
        }
    }

    #[test]
    fn words_are_never_times(s in "[a-zA-Z]{1,12}( [a-zA-Z]{1,12})?") {
        prop_assume!(!s.eq_ignore_ascii_case("null"));
        // Only separators ("T", "T T") are an empty time, read as unknown.
        prop_assume!(!s.trim_matches(|c| "0-:/ T.".contains(c)).is_empty());
        let err = time(&json!(s.clone()), &berlin()).unwrap_err();
        prop_assert!(err.contains(&format!("\"{s}\"")), "{}", err);
    }

    // ---- money ------------------------------------------------------------

    #[test]
    fn decimal_strings_parse_back_exactly(mantissa in -(10i64.pow(17))..10i64.pow(17), scale in 0u32..=4) {
        let d = Decimal::new(mantissa, scale);
        for s in [d.to_string(), format!(" {d} ")] {
            let got = decimal(&json!(s)).unwrap().unwrap();
            prop_assert_eq!(got, d);
            // Normalised: "0.10" is 0.1, "5.0000" is 5.
            prop_assert_eq!(got.to_string(), d.normalize().to_string());
        }
    }

    #[test]
    fn decimal_json_numbers_parse_back_exactly(mantissa in -(10i64.pow(15) - 1)..10i64.pow(15), scale in 0u32..=4) {
        // Up to 15 significant digits: what an f64 holds exactly enough that
        // its shortest text is the decimal written.
        let d = Decimal::new(mantissa, scale);
        let body: Value = serde_json::from_str(&format!("{{\"pay\": {d}}}")).unwrap();
        let got = decimal(&body["pay"]).unwrap().unwrap();
        prop_assert_eq!(got, d, "{}", body);
    }

    #[test]
    fn decimal_in_scientific_notation(mantissa in -999_999i64..999_999, exp in -6i32..=6) {
        let want = if exp >= 0 {
            Decimal::from(mantissa) * Decimal::from(10i64.pow(exp as u32))
        } else {
            Decimal::new(mantissa, (-exp) as u32)
        };
        prop_assert_eq!(decimal(&json!(format!("{mantissa}e{exp}"))).unwrap().unwrap(), want);
    }

    #[test]
    fn any_text_is_a_decimal_unknown_or_an_error_quoting_it(s in "\\PC{0,40}") {
        match decimal(&json!(s.clone())) {
            Ok(None) => prop_assert!(s.trim().is_empty() || s.trim().eq_ignore_ascii_case("null")),
            Ok(Some(d)) => {
                // Only numbers are decimals.
                prop_assert!(s.trim().chars().any(|c| c.is_ascii_digit()), "{:?} -> {}", s, d);
            }
            Err(e) => prop_assert_eq!(e, format!("expected a decimal, found \"{}\"", s.trim())),
        }
    }

    #[test]
    fn integers_round_trip_as_numbers_and_strings(n in any::<i64>()) {
        prop_assert_eq!(integer(&json!(n)).unwrap(), Some(n));
        prop_assert_eq!(integer(&json!(n.to_string())).unwrap(), Some(n));
        prop_assert_eq!(text(&json!(n)).unwrap(), Some(n.to_string()));
    }

    #[test]
    fn any_json_scalar_or_container_never_panics(v in json_value()) {
        let tz = berlin();
        let _ = time(&v, &tz);
        let _ = decimal(&v);
        let _ = integer(&v);
        let _ = text(&v);
        let _ = callhook::adapters::values::number(&v);
        let _ = callhook::adapters::values::boolean(&v);
    }
}

/// Arbitrary JSON, with the numbers and strings vendors get wrong.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from), // NaN and infinities become null
        "\\PC{0,30}".prop_map(Value::from),
        "[0-9]{1,25}".prop_map(Value::from),
        "[0-9]{4}[-/][0-9]{2}[-/][0-9]{2}[ T][0-9]{2}:[0-9]{2}:[0-9]{2}".prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            prop::collection::btree_map("[a-z]{1,4}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

#[test]
fn the_seconds_milliseconds_boundary_is_1e11() {
    let tz = shanghai();
    assert_eq!(
        parse_time(&json!(MILLIS_THRESHOLD - 1), &tz).to_string(),
        "5138-11-16T09:46:39Z"
    );
    assert_eq!(
        parse_time(&json!(MILLIS_THRESHOLD), &tz).to_string(),
        "1973-03-03T09:46:40Z"
    );
}

#[test]
fn epoch_milliseconds_in_the_compact_window_are_read_as_dates() {
    // 2600-01-01T00:00:00Z in ms is 20_227_564_800_000: not a real
    // yyyyMMddHHmmss (month 22), so milliseconds.
    let ms = 20_227_564_800_000i64;
    assert_eq!(
        parse_time(&json!(ms), &TimeZone::UTC),
        Timestamp::from_millisecond(ms).unwrap()
    );
    // 20_250_601_100_000 ms is 2611-09-13; but it is also 2025-06-01 10:00:00.
    assert_eq!(
        parse_time(&json!(20_250_601_100_000i64), &shanghai()).to_string(),
        "2025-06-01T02:00:00Z"
    );
}

#[test]
fn the_autumn_fold_in_berlin_is_read_as_summer_time() {
    // 2025-10-26 02:30 happened twice: 00:30Z (CEST) and 01:30Z (CET).
    assert_eq!(
        parse_time(&json!("2025-10-26 02:30:00"), &berlin()).to_string(),
        "2025-10-26T00:30:00Z"
    );
    // 2025-03-30 02:30 never happened: read as 01:30Z (03:30 CEST).
    assert_eq!(
        parse_time(&json!("2025-03-30 02:30:00"), &berlin()).to_string(),
        "2025-03-30T01:30:00Z"
    );
}
