//! The backlog gauges, counted when `/metrics` is scraped (the store is
//! asked by the HTTP handler, [`crate::http::metrics`]) and set here.

use super::names;
use jiff::Timestamp;
use std::collections::HashMap;

/// Sets `callhook_outbox_backlog{target}` of each of `targets` to its
/// count in `pending` (`(target, deliveries)` pairs), 0 for a target that
/// has none there. Targets of `pending` not in `targets` are not set.
pub fn set_outbox_backlog(
    targets: impl IntoIterator<Item = String>,
    pending: impl IntoIterator<Item = (String, u64)>,
) {
    let counts: HashMap<String, u64> = pending.into_iter().collect();
    for target in targets {
        let n = counts.get(&target).copied().unwrap_or(0);
        metrics::gauge!(names::OUTBOX_BACKLOG, "target" => target).set(n as f64);
    }
}

/// Sets `callhook_recordings_backlog` to `pending` (jobs) and
/// `callhook_recordings_overdue_seconds` to how long the job due first
/// (`first_due`) has waited past its due time.
pub fn set_recordings_backlog(pending: u64, first_due: Option<Timestamp>) {
    let overdue = overdue_seconds(first_due, Timestamp::now());
    metrics::gauge!(names::RECORDINGS_BACKLOG).set(pending as f64);
    metrics::gauge!(names::RECORDINGS_OVERDUE_SECONDS).set(overdue);
}

/// Seconds from `first_due` to `now`, at millisecond precision; 0 when
/// nothing is due or it is not yet due.
fn overdue_seconds(first_due: Option<Timestamp>, now: Timestamp) -> f64 {
    first_due.map_or(0.0, |t| {
        let ms = now.as_millisecond() - t.as_millisecond();
        (ms.max(0) as f64) / 1000.0
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overdue_counts_only_time_past_the_due_time() {
        let now = Timestamp::from_millisecond(10_000).unwrap();
        assert_eq!(overdue_seconds(None, now), 0.0);
        let due = Timestamp::from_millisecond(8_500).unwrap();
        assert_eq!(overdue_seconds(Some(due), now), 1.5);
        let later = Timestamp::from_millisecond(12_000).unwrap();
        assert_eq!(overdue_seconds(Some(later), now), 0.0);
    }

    #[test]
    fn every_target_gets_its_backlog_and_others_are_not_reported() {
        crate::telemetry::install();
        let pending = [("unit-a".to_owned(), 3), ("unit-gone".to_owned(), 9)];
        set_outbox_backlog(["unit-a".to_owned(), "unit-b".to_owned()], pending);
        let text = crate::telemetry::render();
        for line in [
            "callhook_outbox_backlog{target=\"unit-a\"} 3",
            "callhook_outbox_backlog{target=\"unit-b\"} 0",
        ] {
            assert!(text.contains(line), "{line} in {text}");
        }
        assert!(!text.contains("unit-gone"), "{text}");
    }
}
