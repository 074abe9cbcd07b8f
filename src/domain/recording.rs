//! The archive state of a call's recording: the canonical call's
//! `recording` object (docs/recordings.md). Vendors push a link that stops
//! working after hours or days; callhook downloads the file and keeps it,
//! and this says how far that got.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Where the archive of one recording link stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RecordingStatus {
    /// Not fetched yet, or failed and due again before the link expires.
    Pending,
    /// Kept: `bytes`, `sha256` and `archived_at` are set.
    Archived,
    /// The link expired (or stopped answering with a refusal) before a
    /// download succeeded; not tried again.
    Expired,
    /// Larger than `recordings.max_bytes` (by `Content-Length`, or while
    /// reading); not tried again.
    TooLarge,
    /// The link (or a redirect) points at an address the SSRF guard
    /// refuses: loopback, private, link-local; not tried again.
    Refused,
    /// The vendor answered 404 or 410 until the link's deadline.
    NotFound,
    /// Another failure (5xx, timeouts, network) until the link's deadline.
    Failed,
}

impl RecordingStatus {
    /// Every status, in the order above.
    pub const ALL: [RecordingStatus; 7] = [
        RecordingStatus::Pending,
        RecordingStatus::Archived,
        RecordingStatus::Expired,
        RecordingStatus::TooLarge,
        RecordingStatus::Refused,
        RecordingStatus::NotFound,
        RecordingStatus::Failed,
    ];

    /// The wire name (`pending`, `archived`, `too_large`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            RecordingStatus::Pending => "pending",
            RecordingStatus::Archived => "archived",
            RecordingStatus::Expired => "expired",
            RecordingStatus::TooLarge => "too_large",
            RecordingStatus::Refused => "refused",
            RecordingStatus::NotFound => "not_found",
            RecordingStatus::Failed => "failed",
        }
    }

    /// Parses the wire name. Errors: a message listing the accepted values.
    pub fn parse(s: &str) -> Result<RecordingStatus, String> {
        RecordingStatus::ALL
            .into_iter()
            .find(|v| v.as_str() == s)
            .ok_or_else(|| {
                let names: Vec<&str> = RecordingStatus::ALL.iter().map(|v| v.as_str()).collect();
                format!(
                    "unknown recording status `{s}` (expected one of {})",
                    names.join(", ")
                )
            })
    }

    /// `true` once nothing more will be tried without `callhook recordings
    /// fetch` (every status but `pending`).
    pub fn is_final(self) -> bool {
        self != RecordingStatus::Pending
    }
}

impl std::fmt::Display for RecordingStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The canonical call's `recording`: the archive of its `recording_url`.
/// `null` on a call without a recording URL, and in events (the download
/// happens after the event is made; the API answers the current state).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Recording {
    pub status: RecordingStatus,
    /// Size of the kept file in bytes; `null` until archived.
    #[schema(required = true)]
    pub bytes: Option<u64>,
    /// SHA-256 of the kept file, lowercase hex (its name in the archive);
    /// `null` until archived.
    #[schema(required = true)]
    pub sha256: Option<String>,
    /// When the download finished (UTC); `null` until archived.
    #[schema(required = true)]
    pub archived_at: Option<Timestamp>,
    /// Why it is not archived (the last failure, e.g. `HTTP 404 Not Found
    /// from rec.example.com`); `null` when archived or not tried yet.
    #[schema(required = true)]
    pub error: Option<String>,
    /// Download attempts made.
    pub attempts: u32,
    /// When the next attempt is due; `null` unless pending.
    #[schema(required = true)]
    pub next_attempt_at: Option<Timestamp>,
}
