//! The name of every metric callhook exports, its help text, unit and
//! labels, and the histogram buckets. Label values are always bounded:
//! configured names (sources, subscribers), fixed words, or vendor field
//! names from the adapters, never a value from a URL or a body.

use metrics::{describe_counter, describe_gauge, describe_histogram, Unit};

/// Counter `{source, result}`: answers to `POST /hooks/…`, one per push
/// ([`super::push::PushOutcome`] lists the results). An unknown source is
/// counted as `source="(unknown)"`.
pub const PUSHES: &str = "callhook_pushes_total";
/// Counter `{source, vendor}`: usable records of stored pushes, changed or not.
pub const RECORDS: &str = "callhook_records_total";
/// Counter `{source}`: usable records that changed nothing (already known).
pub const DUPLICATE_RECORDS: &str = "callhook_duplicate_records_total";
/// Counter `{source}`: bad records inside stored (partial) pushes.
pub const REJECTED_RECORDS: &str = "callhook_rejected_records_total";
/// Counter `{vendor, field}`: vendor values the adapters did not know
/// (mapped to `unknown`); the value itself is in the receipt's warnings.
pub const UNKNOWN_VALUES: &str = "callhook_unknown_values_total";
/// Histogram `{source}`, seconds: from a push's arrival to its answer.
pub const PUSH_ACK_SECONDS: &str = "callhook_push_ack_seconds";
/// Histogram `{backend}`, seconds: one write transaction, `BEGIN` to
/// `COMMIT` (SQLite: a group of pushes, without the WAL fsync; PostgreSQL:
/// one push, with the server's WAL flush).
pub const STORE_COMMIT_SECONDS: &str = "callhook_store_commit_seconds";
/// Histogram `{backend}`: pushes per committed transaction.
pub const STORE_BATCH_SIZE: &str = "callhook_store_batch_size";
/// Histogram `{backend="sqlite"}`, seconds: one fsync of the WAL, after
/// which every group committed before it is answered.
pub const STORE_FSYNC_SECONDS: &str = "callhook_store_fsync_seconds";
/// Gauge `{target}`: pending deliveries of each configured target, counted
/// when `/metrics` is scraped.
pub const OUTBOX_BACKLOG: &str = "callhook_outbox_backlog";
/// Counter `{target, result}`: recorded delivery attempts; `result` is
/// `delivered`, `retry` (failed, tried again later) or `dead`.
pub const DELIVERIES: &str = "callhook_deliveries_total";
/// Counter `{reason}`: connections closed at accept, over
/// `limits.max_connections` (`reason="total"`) or
/// `limits.max_connections_per_ip` (`reason="per_ip"`).
pub const CONNECTIONS_REFUSED: &str = "callhook_connections_refused_total";
/// Counter `{reason}`: unknown vendor values not kept in the process's
/// log-once set ([`super::unknown_values`]): `reason="truncated"` (logged
/// and kept cut to a bounded length) or `reason="dropped"` (the set is full:
/// counted, not logged).
pub const UNKNOWN_VALUES_BOUNDED: &str = "callhook_unknown_values_bounded_total";

/// Counter `{source}`: recordings downloaded and kept in the archive.
pub const RECORDINGS_ARCHIVED: &str = "callhook_recordings_archived_total";
/// Counter `{source}`, bytes: the size of the recordings kept.
pub const RECORDINGS_ARCHIVED_BYTES: &str = "callhook_recordings_archived_bytes_total";
/// Counter `{source, reason}`: failed recording download attempts;
/// `reason` is `not_found`, `gone`, `forbidden`, `too_large`, `refused`,
/// `http`, `timeout`, `network`, `bad_url`, `io`, or `expired` (not
/// tried: the link's signature had expired).
pub const RECORDING_FAILURES: &str = "callhook_recording_failures_total";
/// Gauge: pending recording downloads (due, waiting for a retry, or in
/// flight), counted when `/metrics` is scraped.
pub const RECORDINGS_BACKLOG: &str = "callhook_recordings_backlog";
/// Gauge, seconds: how long the pending download due first has waited
/// past its due time (0 when none is overdue), at scrape time.
pub const RECORDINGS_OVERDUE_SECONDS: &str = "callhook_recordings_overdue_seconds";

/// Counter `{source, status}`: receipts projected into calls, by final
/// status (`accepted`, `duplicate`, `partial`, or `rejected` when a
/// re-read body no longer parses).
pub const PROJECTED_RECEIPTS: &str = "callhook_projected_receipts_total";
/// Gauge: acknowledged receipts not yet projected.
pub const PROJECTION_PENDING_RECEIPTS: &str = "callhook_projection_pending_receipts";
/// Gauge: records in the acknowledged receipts not yet projected.
pub const PROJECTION_PENDING_RECORDS: &str = "callhook_projection_pending_records";
/// Gauge, seconds: age of the oldest pending receipt (0 when none).
pub const PROJECTION_LAG_SECONDS: &str = "callhook_projection_lag_seconds";
/// Histogram, seconds: one projection transaction, read to commit.
pub const PROJECTION_BATCH_SECONDS: &str = "callhook_projection_batch_seconds";

/// Gauge `{rule}`: 1 while the `[[alerts]]` rule fires, else 0 (set at
/// each evaluation).
pub const ALERTS_FIRING: &str = "callhook_alerts_firing";
/// Counter `{channel, result}`: alert notification attempts; `result` is
/// `sent`, `retry` (failed, tried again) or `failed` (given up).
pub const ALERT_NOTIFICATIONS: &str = "callhook_alert_notifications_total";

/// Label value for a push to a source that is not configured.
pub const UNKNOWN_SOURCE: &str = "(unknown)";

/// Buckets of the latency histograms, in seconds (0.5 ms to 5 s).
pub const SECONDS_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
];

/// Buckets of [`STORE_BATCH_SIZE`] (the SQLite writer groups up to 512).
pub const BATCH_BUCKETS: &[f64] = &[1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0];

/// What kind of metric a name is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Counter,
    Gauge,
    Histogram,
}

/// Every metric's kind, name, unit and help text (the `# HELP` line).
#[rustfmt::skip]
pub const DESCRIPTIONS: &[(Kind, &str, Unit, &str)] = &[
    (Kind::Counter, PUSHES, Unit::Count, "Answers to POST /hooks/..., by source and result"),
    (Kind::Counter, RECORDS, Unit::Count, "Usable records of stored pushes"),
    (Kind::Counter, DUPLICATE_RECORDS, Unit::Count, "Usable records of stored pushes that changed nothing"),
    (Kind::Counter, REJECTED_RECORDS, Unit::Count, "Unusable records inside stored (partial) pushes"),
    (Kind::Counter, UNKNOWN_VALUES, Unit::Count, "Vendor values the adapter did not know, mapped to unknown"),
    (Kind::Counter, PROJECTED_RECEIPTS, Unit::Count, "Receipts projected into calls, by source and final status"),
    (Kind::Gauge, PROJECTION_PENDING_RECEIPTS, Unit::Count, "Acknowledged receipts not yet projected"),
    (Kind::Gauge, PROJECTION_PENDING_RECORDS, Unit::Count, "Records in acknowledged receipts not yet projected"),
    (Kind::Gauge, PROJECTION_LAG_SECONDS, Unit::Seconds, "Age of the oldest pending receipt"),
    (Kind::Histogram, PROJECTION_BATCH_SECONDS, Unit::Seconds, "One projection transaction, read to commit"),
    (Kind::Histogram, PUSH_ACK_SECONDS, Unit::Seconds, "Time from a push's arrival to its answer"),
    (Kind::Histogram, STORE_COMMIT_SECONDS, Unit::Seconds, "Duration of one write transaction, BEGIN to COMMIT"),
    (Kind::Histogram, STORE_BATCH_SIZE, Unit::Count, "Pushes committed in one transaction"),
    (Kind::Histogram, STORE_FSYNC_SECONDS, Unit::Seconds, "Duration of one fsync of the SQLite WAL"),
    (Kind::Gauge, OUTBOX_BACKLOG, Unit::Count, "Pending deliveries per target, counted at scrape time"),
    (Kind::Counter, DELIVERIES, Unit::Count, "Recorded delivery attempts by target and result"),
    (Kind::Counter, CONNECTIONS_REFUSED, Unit::Count, "Connections closed at accept, over a connection cap"),
    (Kind::Counter, RECORDINGS_ARCHIVED, Unit::Count, "Recordings downloaded and kept"),
    (Kind::Counter, RECORDINGS_ARCHIVED_BYTES, Unit::Bytes, "Bytes of recordings kept"),
    (Kind::Counter, RECORDING_FAILURES, Unit::Count, "Failed recording download attempts by source and reason"),
    (Kind::Gauge, RECORDINGS_BACKLOG, Unit::Count, "Pending recording downloads"),
    (Kind::Gauge, RECORDINGS_OVERDUE_SECONDS, Unit::Seconds, "How long the first due recording download has waited"),
    (Kind::Gauge, ALERTS_FIRING, Unit::Count, "1 while the alert rule fires, else 0"),
    (Kind::Counter, ALERT_NOTIFICATIONS, Unit::Count, "Alert notification attempts by channel and result"),
    (Kind::Counter, UNKNOWN_VALUES_BOUNDED, Unit::Count, "Unknown vendor values truncated or dropped from the log-once set"),
];

/// Registers each metric's help text and unit ([`DESCRIPTIONS`]) with the
/// installed recorder.
pub fn describe() {
    for &(kind, name, unit, help) in DESCRIPTIONS {
        match kind {
            Kind::Counter => describe_counter!(name, unit, help),
            Kind::Gauge => describe_gauge!(name, unit, help),
            Kind::Histogram => describe_histogram!(name, unit, help),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn every_metric_is_described_once() {
        let names: BTreeSet<&str> = DESCRIPTIONS.iter().map(|d| d.1).collect();
        assert_eq!(names.len(), DESCRIPTIONS.len(), "a name described twice");
        assert!(
            names.iter().all(|n| n.starts_with("callhook_")),
            "{names:?}"
        );
        assert!(DESCRIPTIONS.iter().all(|d| !d.3.is_empty()));
        let histograms = DESCRIPTIONS.iter().filter(|d| d.0 == Kind::Histogram);
        assert_eq!(histograms.count(), 5, "each histogram has its buckets");
    }
}
