//! How values read on a page: times to the second in the display zone, durations as
//! minutes and seconds, money with its currency, absent values as `–`.

use crate::domain::Money;
use jiff::Timestamp;

/// The dash shown for an absent value.
pub const NONE: &str = "–";

/// `2025-06-01 09:59:50`, in the request's display zone
/// ([`super::zone::current`]; UTC outside a request).
pub fn time(t: Timestamp) -> String {
    t.to_zoned(super::zone::current())
        .strftime("%Y-%m-%d %H:%M:%S")
        .to_string()
}

/// [`time`], or [`NONE`].
pub fn opt_time(t: Option<Timestamp>) -> String {
    t.map_or_else(|| NONE.to_owned(), time)
}

/// Seconds as `45s`, `2m 05s` or `1h 02m 05s`.
pub fn seconds(s: i64) -> String {
    let (h, m, s) = (s / 3600, (s % 3600) / 60, s % 60);
    match (h, m) {
        (0, 0) => format!("{s}s"),
        (0, _) => format!("{m}m {s:02}s"),
        _ => format!("{h}h {m:02}m {s:02}s"),
    }
}

/// `0.10 USD`, or [`NONE`].
pub fn money(m: Option<&Money>) -> String {
    m.map_or_else(
        || NONE.to_owned(),
        |m| format!("{} {}", m.amount, m.currency),
    )
}

/// The text, or [`NONE`] when absent or empty.
pub fn text(v: Option<&str>) -> String {
    v.filter(|s| !s.is_empty()).unwrap_or(NONE).to_owned()
}

/// A percentage with one decimal, or [`NONE`].
pub fn percent(v: Option<f64>) -> String {
    v.map_or_else(|| NONE.to_owned(), |p| format!("{p:.1}%"))
}

/// `mm:ss` of a transcript offset in milliseconds.
pub fn offset_ms(ms: i64) -> String {
    let s = ms.max(0) / 1000;
    format!("{:02}:{:02}", s / 60, s % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_read_as_people_write_them() {
        assert_eq!(seconds(45), "45s");
        assert_eq!(seconds(125), "2m 05s");
        assert_eq!(seconds(3725), "1h 02m 05s");
        assert_eq!(offset_ms(65_400), "01:05");
        assert_eq!(
            time("2025-06-01T09:59:50Z".parse().unwrap()),
            "2025-06-01 09:59:50"
        );
        assert_eq!(text(Some("")), NONE);
        assert_eq!(percent(Some(80.04)), "80.0%");
        let m = Money::new("0.10".parse().unwrap(), "usd");
        assert_eq!(money(Some(&m)), "0.10 USD");
    }
}
