//! Durations as a call-centre manager reads them: `45 s`, `2 min 05 s`,
//! `1 h 02 min`, `3 d 4 h` (the two largest units, the smaller one
//! zero-padded under an hour and a day), and rough distances in time for
//! "in 3 h" / "3 h ago".

/// `secs` seconds (negative counts as its size with a leading `-`):
/// under a minute `45 s`; under an hour `2 min 05 s`; under a day
/// `1 h 02 min` (seconds dropped); else `3 d 4 h` (minutes dropped).
pub fn duration(secs: i64) -> String {
    let sign = if secs < 0 { "-" } else { "" };
    let s = secs.unsigned_abs();
    let (d, h, m, s) = (s / 86_400, (s % 86_400) / 3600, (s % 3600) / 60, s % 60);
    let text = if d > 0 {
        format!("{d} d {h} h")
    } else if h > 0 {
        format!("{h} h {m:02} min")
    } else if m > 0 {
        format!("{m} min {s:02} s")
    } else {
        format!("{s} s")
    };
    format!("{sign}{text}")
}

/// [`duration`], or the dash of an absent value.
pub fn opt_duration(secs: Option<i64>) -> String {
    secs.map_or_else(|| super::format::NONE.to_owned(), duration)
}

/// The size of `secs` in its largest whole unit: `40 s`, `25 min`, `3 h`,
/// `2 d` (for "in 3 h" and "3 h ago"; the sign is ignored).
pub fn rough(secs: i64) -> String {
    let s = secs.unsigned_abs();
    match s {
        0..=59 => format!("{s} s"),
        60..=3599 => format!("{} min", s / 60),
        3600..=86_399 => format!("{} h", s / 3600),
        _ => format!("{} d", s / 86_400),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_largest_units() {
        assert_eq!(duration(0), "0 s");
        assert_eq!(duration(45), "45 s");
        assert_eq!(duration(60), "1 min 00 s");
        assert_eq!(duration(125), "2 min 05 s");
        assert_eq!(duration(3599), "59 min 59 s");
        assert_eq!(duration(3600), "1 h 00 min");
        assert_eq!(duration(3725), "1 h 02 min");
        assert_eq!(duration(86_399), "23 h 59 min");
        assert_eq!(duration(86_400), "1 d 0 h");
        assert_eq!(duration(3 * 86_400 + 4 * 3600 + 59), "3 d 4 h");
        assert_eq!(duration(-125), "-2 min 05 s");
        assert_eq!(duration(i64::MIN), "-106751991167300 d 15 h");
        assert_eq!(opt_duration(None), "–");
        assert_eq!(opt_duration(Some(45)), "45 s");
    }

    #[test]
    fn rough_distances() {
        assert_eq!(rough(40), "40 s");
        assert_eq!(rough(-1500), "25 min");
        assert_eq!(rough(3 * 3600 + 1800), "3 h");
        assert_eq!(rough(2 * 86_400 + 5), "2 d");
    }
}
