//! The call page's note on a signed recording link's expiry (read by
//! [`crate::domain::link_expiry`]): "link expires 2026-03-26 15:22 UTC (in
//! 3 h)", before an operator clicks a dead link.

use super::durations::rough;
pub use crate::domain::link_expiry::url_expiry;
use jiff::Timestamp;

/// "link expires 2026-03-26 15:22 UTC (in 3 h)", or "link expired … (3 h
/// ago)" once `expires` is not after `now`.
pub fn note(expires: Timestamp, now: Timestamp) -> String {
    let at = expires.strftime("%Y-%m-%d %H:%M UTC");
    let secs = expires.as_second() - now.as_second();
    if secs > 0 {
        format!("link expires {at} (in {})", rough(secs))
    } else {
        format!("link expired {at} ({} ago)", rough(secs))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn the_note_says_how_long_is_left() {
        let at = ts("2026-03-26T15:22:00Z");
        assert_eq!(
            note(at, ts("2026-03-26T12:00:00Z")),
            "link expires 2026-03-26 15:22 UTC (in 3 h)"
        );
        assert_eq!(
            note(at, ts("2026-03-28T16:00:00Z")),
            "link expired 2026-03-26 15:22 UTC (2 d ago)"
        );
    }
}
