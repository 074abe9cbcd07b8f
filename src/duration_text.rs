//! Durations written as text in the configuration: read from `"500ms"`,
//! `"10s"`, `"2m"` (jiff's friendly format) or ISO 8601 (`"PT10S"`), and
//! written back in the friendly format (`check-config --show`). serde
//! helpers for `deserialize_with` / `serialize_with`.

use serde::{Deserialize, Deserializer, Serializer};
use std::time::Duration;

/// Reads `"500ms"`, `"10s"`, `"PT10S"` into a [`Duration`].
///
/// Errors: a message quoting the text when it is not a duration or is
/// negative.
pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    let text = String::deserialize(d)?;
    let signed: jiff::SignedDuration = text.trim().parse().map_err(|e| {
        serde::de::Error::custom(format!(
            "`{text}` is not a duration such as \"500ms\" or \"10s\": {e}"
        ))
    })?;
    Duration::try_from(signed)
        .map_err(|_| serde::de::Error::custom(format!("`{text}`: a duration cannot be negative")))
}

/// Reads a list of durations, each as [`deserialize`] does.
///
/// Errors: the first entry's that is not a duration.
pub fn deserialize_list<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Duration>, D::Error> {
    #[derive(Deserialize)]
    struct One(#[serde(deserialize_with = "deserialize")] Duration);
    Ok(Vec::<One>::deserialize(d)?
        .into_iter()
        .map(|o| o.0)
        .collect())
}

/// `d` in jiff's friendly format (`"500ms"`, `"2h"`); whole seconds when
/// it is too long for that.
pub fn friendly(d: &Duration) -> String {
    match jiff::SignedDuration::try_from(*d) {
        Ok(sd) => format!("{sd:#}"),
        Err(_) => format!("{}s", d.as_secs()),
    }
}

/// Writes a duration as `"500ms"`, `"2h"`.
pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&friendly(d))
}

/// Writes a list of durations, each as [`serialize`] does.
pub fn serialize_list<S: Serializer>(v: &[Duration], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(v.iter().map(friendly))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize, serde::Serialize)]
    struct T {
        #[serde(deserialize_with = "deserialize", serialize_with = "serialize")]
        d: Duration,
    }

    #[test]
    fn friendly_and_iso_text_read_and_write_back_friendly() {
        let t: T = toml::from_str("d = \"PT90S\"").unwrap();
        assert_eq!(t.d, Duration::from_secs(90));
        assert_eq!(toml::to_string(&t).unwrap().trim(), "d = \"1m 30s\"");
        let t: T = toml::from_str("d = \"500ms\"").unwrap();
        assert_eq!(t.d, Duration::from_millis(500));
    }

    #[test]
    fn a_negative_or_unreadable_duration_is_refused_quoting_it() {
        let e = toml::from_str::<T>("d = \"-5s\"")
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("`-5s`: a duration cannot be negative"), "{e}");
        let e = toml::from_str::<T>("d = \"soon\"")
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("`soon` is not a duration"), "{e}");
    }
}
