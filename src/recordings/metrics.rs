//! The archive's metrics: downloads kept and failed by source (counted as
//! they happen) and the rows per status (counted when `/metrics` is
//! scraped, [`crate::telemetry`]).

use crate::storage::recordings::RecordingResult;

/// Counter `{source}`: recordings downloaded and kept.
pub const ARCHIVED: &str = "callhook_recordings_archived_total";
/// Counter `{source}`, bytes: the size of the recordings kept.
pub const ARCHIVED_BYTES: &str = "callhook_recordings_archived_bytes_total";
/// Counter `{source, reason}`: failed download attempts; `reason` is
/// [`super::FailureReason::as_str`] (`not_found`, `forbidden`, `timeout`,
/// `too_large`, `refused`, …) or `expired` (not tried: the link's
/// signature had expired).
pub const FAILURES: &str = "callhook_recording_failures_total";
/// Gauge: pending recording downloads (due, waiting for a retry, or in
/// flight), counted at scrape time.
pub const BACKLOG: &str = "callhook_recordings_backlog";
/// Gauge, seconds: how long the pending job due first has been due (0
/// when none is overdue), at scrape time.
pub const OVERDUE_SECONDS: &str = "callhook_recordings_overdue_seconds";

/// Describes the metrics above (once per process, with the others).
pub fn describe() {
    use metrics::{describe_counter, describe_gauge, Unit};
    describe_counter!(ARCHIVED, Unit::Count, "Recordings downloaded and kept");
    describe_counter!(ARCHIVED_BYTES, Unit::Bytes, "Bytes of recordings kept");
    describe_counter!(
        FAILURES,
        Unit::Count,
        "Failed recording download attempts by source and reason"
    );
    describe_gauge!(BACKLOG, Unit::Count, "Pending recording downloads");
    describe_gauge!(
        OVERDUE_SECONDS,
        Unit::Seconds,
        "How long the first due recording download has waited"
    );
}

/// Counts one attempt of `source` that ended in `result` (`reason` the
/// failure's label, when it failed).
pub fn record(source: &str, result: &RecordingResult, reason: Option<&'static str>) {
    let source = source.to_owned();
    match result {
        RecordingResult::Archived { bytes, .. } => {
            metrics::counter!(ARCHIVED, "source" => source.clone()).increment(1);
            metrics::counter!(ARCHIVED_BYTES, "source" => source).increment(*bytes);
        }
        _ => {
            let reason = reason.unwrap_or("failed");
            metrics::counter!(FAILURES, "source" => source, "reason" => reason).increment(1);
        }
    }
}
