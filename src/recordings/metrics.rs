//! Counting the archive's downloads, kept and failed, by source (the
//! names are in [`crate::telemetry::names`]; the backlog gauges are set
//! when `/metrics` is scraped).

use crate::storage::recordings::RecordingResult;
use crate::telemetry::names::{RECORDINGS_ARCHIVED, RECORDINGS_ARCHIVED_BYTES, RECORDING_FAILURES};

/// Counts one attempt of `source` that ended in `result` (`reason` the
/// failure's label, when it failed).
pub fn record(source: &str, result: &RecordingResult, reason: Option<&'static str>) {
    let source = source.to_owned();
    match result {
        RecordingResult::Archived { bytes, .. } => {
            metrics::counter!(RECORDINGS_ARCHIVED, "source" => source.clone()).increment(1);
            metrics::counter!(RECORDINGS_ARCHIVED_BYTES, "source" => source).increment(*bytes);
        }
        _ => {
            let reason = reason.unwrap_or("failed");
            metrics::counter!(RECORDING_FAILURES, "source" => source, "reason" => reason)
                .increment(1);
        }
    }
}
