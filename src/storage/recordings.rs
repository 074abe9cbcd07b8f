//! The recordings archive's rows (docs/recordings.md): one job per
//! recording link of a call, written by the projector in the push's
//! transaction (like the outbox), claimed by archivers with a lease, and
//! finished as archived or with the reason it is not.

use crate::domain::{Call, Recording, RecordingStatus, Vendor};
use jiff::Timestamp;
use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;

/// The link name of the canonical `recording_url`.
pub const CANONICAL_LINK: &str = "recording_url";

/// Vendor fields documented as recording links besides the canonical
/// `recording_url`, as paths into `vendor_fields`: Vapi's stereo
/// recording (`artifact.stereoRecordingUrl`), ITNIO's customer-channel
/// audio (`customerAudioUrl`) and Retell's multi-channel recording
/// (`recording_multi_channel_url`). LAAFFIC's `recordingFileId` is an id,
/// not a link, and is not fetchable.
pub const VENDOR_LINKS: &[(Vendor, &str)] = &[
    (Vendor::Vapi, "artifact.stereoRecordingUrl"),
    (Vendor::Itnio, "customerAudioUrl"),
    (Vendor::Retell, "recording_multi_channel_url"),
];

/// The recording links of `call` to archive: `(link, url)`, the
/// canonical one first; only `http` and `https` URLs.
pub fn links_of(call: &Call) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    if let Some(u) = call.recording_url.as_deref().filter(|u| is_web(u)) {
        out.push((CANONICAL_LINK, u.trim().to_owned()));
    }
    for (vendor, path) in VENDOR_LINKS {
        if *vendor != call.vendor {
            continue;
        }
        if let Some(u) = text_at(&call.vendor_fields, path).filter(|u| is_web(u)) {
            out.push((*path, u.trim().to_owned()));
        }
    }
    out
}

fn is_web(u: &str) -> bool {
    let u = u.trim();
    let lower = u.get(..8).unwrap_or(u).to_ascii_lowercase();
    lower.starts_with("http://") || lower.starts_with("https://")
}

/// The string at dotted `path` in `fields`.
fn text_at<'a>(fields: &'a Map<String, Value>, path: &str) -> Option<&'a str> {
    let mut parts = path.split('.');
    let mut v = fields.get(parts.next()?)?;
    for p in parts {
        v = v.as_object()?.get(p)?;
    }
    v.as_str()
}

/// A job the projector writes: fetch `url` for `call_id`'s `link`. A job
/// for a link whose URL is unchanged leaves the row as it is; a new URL
/// starts the row over (pending, no attempts).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordingJob {
    pub call_id: String,
    pub link: &'static str,
    pub url: String,
    pub vendor: Vendor,
    /// The source that pushed the call (for the `recording_fetch_failures`
    /// alert rule and metrics).
    pub source: String,
    /// When the push carrying the URL was received: the give-up time is
    /// counted from it.
    pub received_at: Timestamp,
    /// The link's own expiry, read from its signature; `None` when it has
    /// none.
    pub expires_at: Option<Timestamp>,
}

/// A job claimed by an archiver, leased until it reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordingClaim {
    pub call_id: String,
    pub link: String,
    pub url: String,
    pub source: String,
    /// Attempts made before this one.
    pub attempts: u32,
    pub received_at: Timestamp,
    pub expires_at: Option<Timestamp>,
}

/// What became of one attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordingResult {
    /// Kept in the archive under `sha256`.
    Archived {
        bytes: u64,
        sha256: String,
        content_type: Option<String>,
    },
    /// Failed; due again at `retry_at`.
    Retry { retry_at: Timestamp, error: String },
    /// Failed for good with `status` (any but `pending` and `archived`).
    Final {
        status: RecordingStatus,
        error: String,
    },
}

/// One attempt's report: the claim it answers (the row is only changed
/// while its URL is still `url`: a new push with a new link wins).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordingReport {
    pub call_id: String,
    pub link: String,
    pub url: String,
    pub at: Timestamp,
    pub result: RecordingResult,
}

/// One recording row, as the call page, the API and `callhook recordings`
/// show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct RecordingRecord {
    pub call_id: String,
    /// `recording_url`, or the vendor field it came from.
    pub link: String,
    pub url: String,
    pub source: String,
    pub status: RecordingStatus,
    pub attempts: u32,
    pub received_at: Timestamp,
    #[schema(required = true)]
    pub expires_at: Option<Timestamp>,
    #[schema(required = true)]
    pub next_attempt_at: Option<Timestamp>,
    #[schema(required = true)]
    pub last_attempt_at: Option<Timestamp>,
    #[schema(required = true)]
    pub error: Option<String>,
    #[schema(required = true)]
    pub bytes: Option<u64>,
    #[schema(required = true)]
    pub sha256: Option<String>,
    #[schema(required = true)]
    pub content_type: Option<String>,
    #[schema(required = true)]
    pub archived_at: Option<Timestamp>,
}

impl RecordingRecord {
    /// The canonical call's `recording` object of this row.
    pub fn canonical(&self) -> Recording {
        Recording {
            status: self.status,
            bytes: self.bytes,
            sha256: self.sha256.clone(),
            archived_at: self.archived_at,
            error: self.error.clone(),
            attempts: self.attempts,
            next_attempt_at: self.next_attempt_at,
        }
    }
}

/// The ids of `calls` that have a recording link to look up.
pub fn ids_to_fill(calls: &[Call]) -> Vec<&str> {
    calls
        .iter()
        .filter(|c| c.recording_url.is_some())
        .map(|c| c.id.as_str())
        .collect()
}

/// Sets each call's `recording` from `rows` (canonical links' rows).
pub fn fill_from(calls: &mut [Call], rows: Vec<RecordingRecord>) {
    let mut found: std::collections::HashMap<String, Recording> = rows
        .into_iter()
        .map(|r| (r.call_id.clone(), r.canonical()))
        .collect();
    for call in calls {
        call.recording = found.remove(&call.id);
    }
}

/// Recording rows per status and the pending backlog's oldest due time:
/// `/metrics` and `callhook recordings status`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecordingCounts {
    /// `(status, rows)` for each status with rows.
    pub by_status: Vec<(RecordingStatus, u64)>,
    /// Bytes kept (archived rows).
    pub archived_bytes: u64,
    /// The pending row due first; `None` without pending rows.
    pub oldest_due: Option<Timestamp>,
}

impl RecordingCounts {
    /// Rows with `status`.
    pub fn count(&self, status: RecordingStatus) -> u64 {
        self.by_status
            .iter()
            .find(|(s, _)| *s == status)
            .map_or(0, |(_, n)| *n)
    }
}

/// The columns [`RecordingRecord`] is read from, in order.
pub const RECORD_COLUMNS: &str = "call_id, link, url, source, status, attempts, received_at,
    expires_at, next_attempt_at, last_attempt_at, error, size_bytes, sha256, content_type,
    archived_at";

/// The columns a job writes, in the order of [`enqueue_sql`]'s values.
const JOB_COLUMNS: &str = "INSERT INTO recordings (call_id, link, url, vendor, source, status,
        attempts, received_at, expires_at, next_attempt_at)";

/// What a job does to an existing row: a new URL starts it over; the same
/// URL leaves it as it is.
const JOB_CONFLICT: &str = "ON CONFLICT (call_id, link) DO UPDATE SET url = excluded.url,
        vendor = excluded.vendor, source = excluded.source, status = 'pending', attempts = 0,
        received_at = excluded.received_at, expires_at = excluded.expires_at,
        next_attempt_at = excluded.next_attempt_at, lease_until = NULL, last_attempt_at = NULL,
        error = NULL, size_bytes = NULL, sha256 = NULL, content_type = NULL, archived_at = NULL
    WHERE recordings.url <> excluded.url";

/// Writes a job from `values`: `(#1 call, #2 link, #3 url, #4 vendor, #5
/// source, #6 received_at, #7 expires_at)` as a `VALUES` row (SQLite) or
/// an `unnest` of arrays (PostgreSQL), due at once.
pub fn enqueue_sql(values: &str) -> String {
    format!(
        "{JOB_COLUMNS} SELECT c, l, u, v, s, 'pending', 0, r, e, r FROM {values} {JOB_CONFLICT}"
    )
}

/// Records a report (`#1` call, `#2` link, `#3` url, `#4` status, `#5`
/// at, `#6` next_attempt_at, `#7` error, `#8` bytes, `#9` sha256, `#10`
/// content type, `#11` archived_at).
pub const REPORT: &str = "UPDATE recordings SET status = #4, attempts = attempts + 1,
        last_attempt_at = #5, next_attempt_at = #6, lease_until = NULL, error = #7,
        size_bytes = #8, sha256 = #9, content_type = #10,
        archived_at = #11
    WHERE call_id = #1 AND link = #2 AND url = #3";

/// The columns a report writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReportRow<'a> {
    pub status: RecordingStatus,
    pub next_attempt_at: Option<i64>,
    pub error: Option<&'a str>,
    pub bytes: Option<i64>,
    pub sha256: Option<&'a str>,
    pub content_type: Option<&'a str>,
    /// `at` when archived.
    pub archived_at: Option<i64>,
}

impl<'a> ReportRow<'a> {
    /// The row changes of `r` (times in epoch milliseconds).
    pub fn of(r: &'a RecordingReport) -> ReportRow<'a> {
        let none = ReportRow {
            status: RecordingStatus::Pending,
            next_attempt_at: None,
            error: None,
            bytes: None,
            sha256: None,
            content_type: None,
            archived_at: None,
        };
        match &r.result {
            RecordingResult::Archived {
                bytes,
                sha256,
                content_type,
            } => ReportRow {
                status: RecordingStatus::Archived,
                bytes: Some(*bytes as i64),
                sha256: Some(sha256),
                content_type: content_type.as_deref(),
                archived_at: Some(r.at.as_millisecond()),
                ..none
            },
            RecordingResult::Retry { retry_at, error } => ReportRow {
                next_attempt_at: Some(retry_at.as_millisecond()),
                error: Some(error),
                ..none
            },
            RecordingResult::Final { status, error } => ReportRow {
                status: *status,
                error: Some(error),
                ..none
            },
        }
    }
}

/// The migration that adds the archive's tables, the same on both
/// backends. `recordings`: one row per recording link of a call (times in
/// epoch milliseconds; `next_attempt_at` set only while pending).
/// `recording_orphans`: files whose last call was deleted (retention, or
/// by hand), removed from the archive by the archiver once no row refers
/// to them any more.
pub const MIGRATION: &str = r#"
CREATE TABLE recordings (
    call_id         TEXT NOT NULL,
    link            TEXT NOT NULL,      -- recording_url, or the vendor field
    url             TEXT NOT NULL,
    vendor          TEXT NOT NULL,
    source          TEXT NOT NULL,
    status          TEXT NOT NULL,      -- domain::RecordingStatus
    attempts        INTEGER NOT NULL DEFAULT 0,
    received_at     BIGINT NOT NULL,
    expires_at      BIGINT,             -- the link's signed expiry
    next_attempt_at BIGINT,
    lease_until     BIGINT,
    last_attempt_at BIGINT,
    error           TEXT,
    size_bytes      BIGINT,
    sha256          TEXT,
    content_type    TEXT,
    archived_at     BIGINT,
    PRIMARY KEY (call_id, link)
);
CREATE INDEX recordings_due ON recordings(next_attempt_at) WHERE status = 'pending';
CREATE INDEX recordings_by_sha ON recordings(sha256) WHERE sha256 IS NOT NULL;
CREATE INDEX recordings_by_received ON recordings(received_at);
CREATE INDEX recordings_failing ON recordings(last_attempt_at) WHERE error IS NOT NULL;
CREATE TABLE recording_orphans (
    sha256 TEXT PRIMARY KEY
);
"#;

/// Before a call's rows go (`#1` the call id): its archived files become
/// orphans, removed once no other call refers to them.
pub const ORPHAN_FILES_OF_CALL: &str = "INSERT INTO recording_orphans (sha256)
    SELECT DISTINCT sha256 FROM recordings WHERE call_id = #1 AND sha256 IS NOT NULL
    ON CONFLICT DO NOTHING";

/// Deletes a call's recording rows (`#1` the call id).
pub const DELETE_OF_CALL: &str = "DELETE FROM recordings WHERE call_id = #1";

/// Makes the rows not archived (`#1` received at or after, `#2` now) due
/// now. A row past its deadline gets one more attempt; one whose link's
/// signature has expired is marked expired again without a request.
pub const REFETCH: &str = "UPDATE recordings SET status = 'pending', next_attempt_at = #2,
        lease_until = NULL
    WHERE status <> 'archived' AND received_at >= #1";

/// Links whose last attempt (at or after `#1`) failed, of source `#2`
/// (every source when `#2` is NULL): the `recording_failures` alert rule.
pub const FAILING: &str = "SELECT count(*) FROM recordings
    WHERE error IS NOT NULL AND last_attempt_at >= #1
      AND (CAST(#2 AS TEXT) IS NULL OR source = #2)";

/// The backlog: pending rows and the first due time (the partial index
/// `recordings_due` holds exactly these rows).
pub const BACKLOG: &str =
    "SELECT count(*), min(next_attempt_at) FROM recordings WHERE status = 'pending'";

#[cfg(test)]
#[path = "recordings_tests.rs"]
mod tests;
