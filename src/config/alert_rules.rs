//! Resolving one `[[alerts]]` entry's keys into its [`Condition`]: each
//! kind's required keys, its defaults, and the keys it does not take.

use super::alerts::{ActiveHours, AlertKind, AlertRuleConfig, Condition, Known};
use std::time::Duration;

/// Receipts a `rejected_rate` window needs before it may fire, by default.
pub const DEFAULT_MIN_RECEIPTS: u64 = 10;
/// Calls an `answer_rate` window needs before it may fire, by default.
pub const DEFAULT_MIN_CALLS: u64 = 20;

/// The condition of `r`.
///
/// Errors: `"<key>: <why>"` for a missing, foreign or out-of-range key.
pub fn condition(r: &AlertRuleConfig, known: &Known<'_>) -> Result<Condition, String> {
    refuse_foreign_keys(r)?;
    match r.kind {
        AlertKind::SourceSilent => source_silent(r, known),
        AlertKind::RejectedRate => rejected_rate(r),
        AlertKind::RecordingFailures => recording_failures(r, known),
        AlertKind::DeadDeliveries => dead_deliveries(r, known),
        AlertKind::AnswerRate => answer_rate(r),
    }
}

/// The keys `r` gives, each with whether it is set, in a fixed order.
fn keys_given(r: &AlertRuleConfig) -> [(&'static str, bool); 12] {
    [
        ("source", r.source.is_some()),
        ("minutes", r.minutes.is_some()),
        ("active_hours", r.active_hours.is_some()),
        ("timezone", r.timezone.is_some()),
        ("above", r.above.is_some()),
        ("below", r.below.is_some()),
        ("window_minutes", r.window_minutes.is_some()),
        ("min_receipts", r.min_receipts.is_some()),
        ("subscriber", r.subscriber.is_some()),
        ("task_id", r.task_id.is_some()),
        ("vendor", r.vendor.is_some()),
        ("min_calls", r.min_calls.is_some()),
    ]
}

/// The keys a rule of `kind` takes (besides `name`, `kind`, `for_minutes`
/// and `channels`).
fn keys_taken(kind: AlertKind) -> &'static [&'static str] {
    match kind {
        AlertKind::SourceSilent => &["source", "minutes", "active_hours", "timezone"],
        AlertKind::RejectedRate => &["above", "window_minutes", "min_receipts"],
        AlertKind::DeadDeliveries => &["above", "subscriber"],
        AlertKind::AnswerRate => &["task_id", "vendor", "below", "window_minutes", "min_calls"],
        AlertKind::RecordingFailures => &["source", "above", "window_minutes"],
    }
}

/// Errors: the first key `r` gives that its kind does not take.
fn refuse_foreign_keys(r: &AlertRuleConfig) -> Result<(), String> {
    let takes = keys_taken(r.kind);
    match keys_given(r)
        .iter()
        .find(|(k, set)| *set && !takes.contains(k))
    {
        Some((key, _)) => Err(format!(
            "{key}: not a key of kind {} (it takes {})",
            r.kind.as_str(),
            takes.join(", ")
        )),
        None => Ok(()),
    }
}

/// `value`, which `r`'s kind requires under `key`.
fn required<T>(r: &AlertRuleConfig, key: &str, value: Option<T>) -> Result<T, String> {
    value.ok_or_else(|| format!("{key}: required for kind {}", r.kind.as_str()))
}

/// `r`'s `window_minutes` (required) as a duration.
fn window(r: &AlertRuleConfig) -> Result<Duration, String> {
    minutes_of(
        "window_minutes",
        required(r, "window_minutes", r.window_minutes)?,
    )
}

fn source_silent(r: &AlertRuleConfig, known: &Known<'_>) -> Result<Condition, String> {
    let source = required(r, "source", r.source.clone())?;
    known_source(&source, known)?;
    let minutes = required(r, "minutes", r.minutes)?;
    let active = match &r.active_hours {
        Some(text) => Some(active_hours(text, r.timezone.as_deref())?),
        None if r.timezone.is_some() => return Err("timezone: only used with active_hours".into()),
        None => None,
    };
    Ok(Condition::SourceSilent {
        source,
        silent_for: minutes_of("minutes", minutes)?,
        active,
    })
}

fn rejected_rate(r: &AlertRuleConfig) -> Result<Condition, String> {
    Ok(Condition::RejectedRate {
        above: fraction("above", required(r, "above", r.above)?)?,
        window: window(r)?,
        min_receipts: r.min_receipts.unwrap_or(DEFAULT_MIN_RECEIPTS).max(1),
    })
}

fn recording_failures(r: &AlertRuleConfig, known: &Known<'_>) -> Result<Condition, String> {
    if let Some(s) = &r.source {
        known_source(s, known)?;
    }
    Ok(Condition::RecordingFailures {
        source: r.source.clone(),
        above: count("above", r.above.unwrap_or(0.0))?,
        window: window(r)?,
    })
}

fn dead_deliveries(r: &AlertRuleConfig, known: &Known<'_>) -> Result<Condition, String> {
    let above = count("above", r.above.unwrap_or(0.0))?;
    if let Some(s) = &r.subscriber {
        known_target(s, known)?;
    }
    Ok(Condition::DeadDeliveries {
        above,
        subscriber: r.subscriber.clone(),
    })
}

fn answer_rate(r: &AlertRuleConfig) -> Result<Condition, String> {
    if r.task_id.is_some() == r.vendor.is_some() {
        return Err("task_id: give either task_id or vendor (not both)".into());
    }
    Ok(Condition::AnswerRate {
        task_id: r.task_id.clone(),
        vendor: r.vendor,
        below: fraction("below", required(r, "below", r.below)?)?,
        window: window(r)?,
        min_calls: r.min_calls.unwrap_or(DEFAULT_MIN_CALLS).max(1),
    })
}

/// `subscriber` when it is a configured target; else why not, listing them.
fn known_target(subscriber: &str, known: &Known<'_>) -> Result<(), String> {
    if known.targets.iter().any(|t| t == subscriber) {
        return Ok(());
    }
    Err(format!(
        "subscriber: no subscriber named `{subscriber}` (configured: {})",
        if known.targets.is_empty() {
            "none".to_owned()
        } else {
            known.targets.join(", ")
        }
    ))
}

/// `source` when it is configured; else why not, listing the sources.
fn known_source(source: &str, known: &Known<'_>) -> Result<(), String> {
    if known.sources.iter().any(|s| s == source) {
        return Ok(());
    }
    Err(format!(
        "source: no source named `{source}` (configured: {})",
        known.sources.join(", ")
    ))
}

/// A whole number, 0 or more.
fn count(key: &str, v: f64) -> Result<u64, String> {
    if v.is_finite() && v >= 0.0 && v.fract() == 0.0 {
        Ok(v as u64)
    } else {
        Err(format!("{key}: {v} is not a whole number, 0 or more"))
    }
}

fn fraction(key: &str, v: f64) -> Result<f64, String> {
    if v.is_finite() && (0.0..=1.0).contains(&v) {
        Ok(v)
    } else {
        Err(format!(
            "{key}: {v} is not a fraction from 0 to 1 (write 0.05 for 5 %)"
        ))
    }
}

fn minutes_of(key: &str, v: f64) -> Result<Duration, String> {
    if !(v.is_finite() && v > 0.0 && v <= 60.0 * 24.0 * 366.0) {
        return Err(format!(
            "{key}: {v} minutes; give a number of minutes above 0 (fractions allowed)"
        ));
    }
    Ok(Duration::from_secs_f64(v * 60.0))
}

/// `"HH:MM-HH:MM"` in `timezone` (IANA; default UTC).
fn active_hours(text: &str, timezone: Option<&str>) -> Result<ActiveHours, String> {
    let bad = || format!("active_hours: `{text}` is not \"HH:MM-HH:MM\" (e.g. \"08:00-20:00\")");
    let (a, b) = text.split_once('-').ok_or_else(bad)?;
    let clock = |s: &str| -> Option<u16> {
        let (h, m) = s.trim().split_once(':')?;
        let (h, m): (u16, u16) = (h.parse().ok()?, m.parse().ok()?);
        (h <= 24 && m < 60 && h * 60 + m <= 24 * 60).then_some(h * 60 + m)
    };
    let (start, end) = (clock(a).ok_or_else(bad)?, clock(b).ok_or_else(bad)?);
    if start == end {
        return Err(format!(
            "active_hours: `{text}` is an empty window; remove the key to watch all day"
        ));
    }
    let timezone = match timezone {
        None => jiff::tz::TimeZone::UTC,
        Some(tz) => jiff::tz::TimeZone::get(tz)
            .map_err(|e| format!("timezone: unknown time zone `{tz}` ({e})"))?,
    };
    Ok(ActiveHours {
        start,
        end: end % (24 * 60),
        timezone,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::Timestamp;

    fn at(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn active_hours_hold_in_their_zone_and_may_wrap_midnight() {
        let day = active_hours("08:00-20:00", Some("Asia/Shanghai")).unwrap();
        // 08:00 Shanghai is 00:00 UTC.
        assert!(day.contains(at("2026-03-02T00:00:00Z")));
        assert!(day.contains(at("2026-03-02T11:59:00Z")));
        assert!(
            !day.contains(at("2026-03-02T12:00:00Z")),
            "20:00 is the end, exclusive"
        );
        assert!(!day.contains(at("2026-03-01T23:59:00Z")));
        let night = active_hours("22:00-06:00", None).unwrap();
        assert!(night.contains(at("2026-03-02T23:30:00Z")));
        assert!(night.contains(at("2026-03-02T05:59:00Z")));
        assert!(!night.contains(at("2026-03-02T06:00:00Z")));
        assert!(!night.contains(at("2026-03-02T12:00:00Z")));
        let all_day = active_hours("00:00-24:00", None).unwrap();
        assert!(all_day.contains(at("2026-03-02T23:59:59Z")));
        assert!(all_day.contains(at("2026-03-02T00:00:00Z")));
    }

    #[test]
    fn bad_active_hours_and_minutes_are_refused() {
        for bad in [
            "8-20",
            "08:00",
            "25:00-26:00",
            "08:60-09:00",
            "08:00-08:00",
            "x-y",
        ] {
            assert!(active_hours(bad, None).is_err(), "{bad}");
        }
        assert!(active_hours("08:00-20:00", Some("Nowhere/City")).is_err());
        assert!(minutes_of("minutes", 0.0).is_err());
        assert!(minutes_of("minutes", -1.0).is_err());
        assert!(minutes_of("minutes", f64::NAN).is_err());
        assert_eq!(minutes_of("minutes", 0.5).unwrap(), Duration::from_secs(30));
        assert!(fraction("above", 1.5).is_err());
        assert_eq!(fraction("above", 0.05).unwrap(), 0.05);
    }

    fn rule(toml_text: &str) -> AlertRuleConfig {
        toml::from_str(&format!("name = \"r\"\n{toml_text}")).unwrap()
    }

    #[test]
    fn a_key_of_another_kind_is_refused_naming_the_keys_taken() {
        let r = rule("kind = \"dead_deliveries\"\nabove = 1\nwindow_minutes = 5");
        assert_eq!(
            refuse_foreign_keys(&r).unwrap_err(),
            "window_minutes: not a key of kind dead_deliveries (it takes above, subscriber)"
        );
        let r = rule("kind = \"rejected_rate\"\nabove = 0.1\nwindow_minutes = 5");
        assert_eq!(refuse_foreign_keys(&r), Ok(()));
    }

    #[test]
    fn rate_rules_fill_their_minimum_and_need_a_window() {
        let r = rule("kind = \"rejected_rate\"\nabove = 0.1\nwindow_minutes = 5");
        assert_eq!(
            rejected_rate(&r).unwrap(),
            Condition::RejectedRate {
                above: 0.1,
                window: Duration::from_secs(300),
                min_receipts: DEFAULT_MIN_RECEIPTS,
            }
        );
        let r = rule("kind = \"answer_rate\"\nvendor = \"vapi\"\nbelow = 0.2\nmin_calls = 0");
        assert_eq!(
            answer_rate(&r).unwrap_err(),
            "window_minutes: required for kind answer_rate"
        );
    }

    #[test]
    fn a_subscriber_must_be_a_configured_target() {
        let none = Known {
            sources: &[],
            targets: &[],
        };
        assert_eq!(
            known_target("crm", &none).unwrap_err(),
            "subscriber: no subscriber named `crm` (configured: none)"
        );
        let targets = ["crm".to_owned(), "nats".to_owned()];
        let some = Known {
            sources: &[],
            targets: &targets,
        };
        assert_eq!(known_target("crm", &some), Ok(()));
        assert!(known_target("erp", &some)
            .unwrap_err()
            .ends_with("(configured: crm, nats)"));
    }
}
