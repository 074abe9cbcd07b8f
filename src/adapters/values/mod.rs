//! Reading vendor scalars that drift: times in any of the vendors' forms,
//! integers and decimals sent as numbers or strings, ids sent as numbers.
//!
//! Every function answers `Ok(None)` for "unknown" (null, empty string,
//! `0` timestamps) and `Err(reason)` for a value that is there but unreadable.

use jiff::civil::DateTime;
use jiff::tz::TimeZone;
use jiff::Timestamp;
use rust_decimal::Decimal;
use serde_json::Value;
use std::borrow::Cow;
use std::str::FromStr;

/// Epoch numbers at or above this are milliseconds, below it seconds
/// (10^11 s is the year 5138; 10^11 ms is 1973).
const MILLIS_THRESHOLD: i64 = 100_000_000_000;

/// A text value: strings trimmed, numbers and booleans as written; empty is unknown.
///
/// Errors: arrays and objects.
pub fn text(v: &Value) -> Result<Option<String>, String> {
    match v {
        Value::Null => Ok(None),
        Value::String(s) => {
            let t = s.trim();
            Ok((!t.is_empty()).then(|| t.to_owned()))
        }
        Value::Number(n) => Ok(Some(n.to_string())),
        Value::Bool(b) => Ok(Some(b.to_string())),
        other => Err(format!(
            "expected text, found {}",
            super::batch::type_name(other)
        )),
    }
}

/// A whole number from a JSON integer, an integral float (`43.0`) or a
/// numeric string (`"43"`). Empty and null are unknown.
///
/// Errors: non-numeric strings, fractions, arrays, objects, booleans.
pub fn integer(v: &Value) -> Result<Option<i64>, String> {
    match v {
        Value::Null => Ok(None),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                Ok(Some(i))
            } else {
                match n.as_f64() {
                    Some(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Ok(Some(f as i64)),
                    _ => Err(format!("expected a whole number, found {n}")),
                }
            }
        }
        Value::String(s) => {
            let t = s.trim();
            if t.is_empty() || t.eq_ignore_ascii_case("null") {
                return Ok(None);
            }
            if let Ok(i) = t.parse::<i64>() {
                return Ok(Some(i));
            }
            match t.parse::<f64>() {
                Ok(f) if f.is_finite() && f.fract() == 0.0 && f.abs() < 9.0e15 => {
                    Ok(Some(f as i64))
                }
                _ => Err(format!("expected a whole number, found {}", quoted(t))),
            }
        }
        other => Err(format!(
            "expected a whole number, found {}",
            super::batch::type_name(other)
        )),
    }
}

/// A number that may carry a fraction (QA scores), from a number or a numeric string.
///
/// Errors: non-numeric strings and non-scalar values.
pub fn number(v: &Value) -> Result<Option<f64>, String> {
    match v {
        Value::Null => Ok(None),
        Value::Number(n) => Ok(n.as_f64()),
        Value::String(s) => {
            let t = s.trim();
            if t.is_empty() {
                return Ok(None);
            }
            match t.parse::<f64>() {
                Ok(f) if f.is_finite() => Ok(Some(f)),
                _ => Err(format!("expected a number, found {}", quoted(t))),
            }
        }
        other => Err(format!(
            "expected a number, found {}",
            super::batch::type_name(other)
        )),
    }
}

/// An exact decimal from a decimal string (`"0.10"`) or a JSON number; the
/// number's shortest round-trip text is used, so `0.1` stays `0.1`.
///
/// Errors: text that is not a decimal, and non-scalar values.
pub fn decimal(v: &Value) -> Result<Option<Decimal>, String> {
    let text = match v {
        Value::Null => return Ok(None),
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.trim().to_owned(),
        other => {
            return Err(format!(
                "expected a decimal, found {}",
                super::batch::type_name(other)
            ))
        }
    };
    if text.is_empty() || text.eq_ignore_ascii_case("null") {
        return Ok(None);
    }
    Decimal::from_str_exact(&text)
        .or_else(|_| Decimal::from_scientific(&text))
        .map(|d| Some(d.normalize()))
        .map_err(|_| format!("expected a decimal, found {}", quoted(&text)))
}

/// An amount of money: a [`decimal`] whose magnitude is below
/// [`crate::domain::money::AMOUNT_LIMIT`] (10^15).
///
/// Errors: as [`decimal`], and an amount out of that range.
pub fn money_amount(v: &Value) -> Result<Option<Decimal>, String> {
    decimal(v)?
        .map(crate::domain::money::check_amount)
        .transpose()
}

/// A boolean from `true`/`false`, `"true"`/`"false"`, `1`/`0`.
///
/// Errors: any other value.
pub fn boolean(v: &Value) -> Result<Option<bool>, String> {
    match v {
        Value::Null => Ok(None),
        Value::Bool(b) => Ok(Some(*b)),
        Value::Number(n) if n.as_i64() == Some(1) => Ok(Some(true)),
        Value::Number(n) if n.as_i64() == Some(0) => Ok(Some(false)),
        Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "" => Ok(None),
            "true" | "1" => Ok(Some(true)),
            "false" | "0" => Ok(Some(false)),
            t => Err(format!("expected true or false, found {}", quoted(t))),
        },
        other => Err(format!(
            "expected true or false, found {}",
            super::batch::type_name(other)
        )),
    }
}

/// An instant from any of the vendors' time forms:
///
/// - `yyyy-MM-dd HH:mm:ss` (also with `T`, `/`, fractional seconds), read in `tz`;
/// - RFC 3339 with an offset or `Z` (the offset wins over `tz`);
/// - `yyyyMMddHHmmss` (LAAFFIC's documented form), read in `tz`;
/// - epoch seconds or milliseconds, as a number or a digit string
///   (told apart by magnitude: at or above 10^11 is milliseconds).
///
/// Null, empty, `0` and all-zero dates are unknown.
///
/// Errors: anything else, with the value quoted.
pub fn time(v: &Value, tz: &TimeZone) -> Result<Option<Timestamp>, String> {
    match v {
        Value::Null => Ok(None),
        Value::Number(n) => match n.as_i64() {
            Some(i) => epoch_or_compact(i, tz),
            None => match n.as_f64() {
                Some(f) if f.is_finite() && f.fract() == 0.0 && f.abs() < 9.0e15 => {
                    epoch_or_compact(f as i64, tz)
                }
                _ => Err(format!("expected a time, found {n}")),
            },
        },
        Value::String(s) => time_text(s.trim(), tz),
        other => Err(format!(
            "expected a time, found {}",
            super::batch::type_name(other)
        )),
    }
}

fn time_text(s: &str, tz: &TimeZone) -> Result<Option<Timestamp>, String> {
    if s.is_empty()
        || s.eq_ignore_ascii_case("null")
        || s.trim_matches(|c| "0-:/ T.".contains(c)).is_empty()
    {
        return Ok(None);
    }
    if s.bytes().all(|b| b.is_ascii_digit())
        || (s.starts_with('-') && s[1..].bytes().all(|b| b.is_ascii_digit()))
    {
        let n = i64::from_str(s).map_err(|_| format!("expected a time, found {}", quoted(s)))?;
        return epoch_or_compact(n, tz);
    }
    if let Ok(ts) = Timestamp::from_str(s) {
        return Ok(Some(ts));
    }
    let normalised = s.replacen('/', "-", 2);
    match DateTime::from_str(&normalised) {
        Ok(dt) => local(dt, tz).map(Some),
        Err(_) => Err(format!(
            "expected a time such as \"2025-06-01 10:00:00\" or epoch seconds, found {}",
            quoted(s)
        )),
    }
}

fn epoch_or_compact(n: i64, tz: &TimeZone) -> Result<Option<Timestamp>, String> {
    if n == 0 {
        return Ok(None);
    }
    if n < 0 {
        return Err(format!("expected a time, found negative epoch {n}"));
    }
    if (19_000_101_000_000..=29_991_231_235_959).contains(&n) {
        if let Some(dt) = compact(n) {
            return local(dt, tz).map(Some);
        }
    }
    let result = if n >= MILLIS_THRESHOLD {
        Timestamp::from_millisecond(n)
    } else {
        Timestamp::from_second(n)
    };
    result
        .map(Some)
        .map_err(|_| format!("epoch {n} is out of range"))
}

/// `yyyyMMddHHmmss` as digits, if it is a real date and time.
fn compact(n: i64) -> Option<DateTime> {
    let (date, tod) = (n / 1_000_000, n % 1_000_000);
    let (y, mo, d) = (date / 10_000, (date / 100) % 100, date % 100);
    let (h, mi, s) = (tod / 10_000, (tod / 100) % 100, tod % 100);
    DateTime::new(y as i16, mo as i8, d as i8, h as i8, mi as i8, s as i8, 0).ok()
}

fn local(dt: DateTime, tz: &TimeZone) -> Result<Timestamp, String> {
    tz.to_ambiguous_timestamp(dt)
        .compatible()
        .map_err(|e| format!("time {dt} cannot be placed in the source's time zone: {e}"))
}

/// `s` in double quotes for a warning, cut to [`MAX_VALUE_BYTES`] (a
/// vendor value may be as long as the body: warnings are stored, shown and
/// logged).
pub fn quoted(s: &str) -> String {
    format!("\"{}\"", truncate_for_log(s, MAX_VALUE_BYTES))
}

/// Longest vendor value quoted in a warning, kept or logged, in bytes (UTF-8); longer ones are cut
/// on a character boundary by [`truncate_for_log`].
pub const MAX_VALUE_BYTES: usize = 200;

/// `s` when at most `max` bytes long; else its longest prefix of at most
/// `max` bytes ending on a character boundary, followed by
/// `…(N more bytes)` where N is the number of bytes cut off.
pub fn truncate_for_log(s: &str, max: usize) -> Cow<'_, str> {
    if s.len() <= max {
        return Cow::Borrowed(s);
    }
    let mut cut = max;
    while !s.is_char_boundary(cut) {
        cut -= 1;
    }
    Cow::Owned(format!("{}…({} more bytes)", &s[..cut], s.len() - cut))
}

#[cfg(test)]
mod tests;
