//! The call page's recordings: for each recording link of the call (the
//! canonical `recording_url` first, then the vendor's extra links), the
//! kept copy's player and facts when archived, the next try while
//! pending, or why it was not kept, in words; with the vendor's own link
//! and its expiry.

use super::call::safe_link;
use super::{format, recording_expiry};
use crate::domain::RecordingStatus;
use crate::storage::recordings::{RecordingRecord, CANONICAL_LINK};
use jiff::Timestamp;

/// The kept copy, playable from this site.
pub struct KeptView {
    /// The dashboard's `/calls/{id}/recording[?link=…]`.
    pub src: String,
    /// "archived at 2025-06-01 09:59:50 · 23.4 KB · SHA-256 0123456789ab…".
    pub facts: String,
}

/// One recording link as the page shows it.
pub struct ArchiveView {
    /// `recording_url`, or the vendor field the link came from.
    pub link: String,
    /// Set when archived.
    pub kept: Option<KeptView>,
    /// Unless archived: "fetching: attempt 2, next try at …", "not
    /// archived: the link expired before it could be fetched", ….
    pub state: String,
    /// The last failure, when it adds to `state`.
    pub error: Option<String>,
    /// The vendor's link when it is `http(s)`.
    pub vendor_link: Option<String>,
    /// "link expires … (in 3 h)" for a signed vendor link.
    pub expiry: Option<String>,
}

/// The canonical link's view and the extra links', from `rows` (as
/// [`crate::storage::Store::call_recordings`] lists them) of call `id`.
pub fn views(
    id: &str,
    rows: &[RecordingRecord],
    now: Timestamp,
) -> (Option<ArchiveView>, Vec<ArchiveView>) {
    let canonical = rows
        .iter()
        .find(|r| r.link == CANONICAL_LINK)
        .map(|r| view(id, r, now));
    let extra = rows
        .iter()
        .filter(|r| r.link != CANONICAL_LINK)
        .map(|r| view(id, r, now))
        .collect();
    (canonical, extra)
}

fn view(id: &str, r: &RecordingRecord, now: Timestamp) -> ArchiveView {
    let vendor_link = safe_link(&r.url);
    let expiry = vendor_link
        .as_deref()
        .and_then(recording_expiry::url_expiry)
        .map(|at| recording_expiry::note(at, now));
    let kept = kept(id, r);
    let (state, error) = match kept {
        Some(_) => (String::new(), None),
        None => why_not(r),
    };
    ArchiveView {
        link: r.link.clone(),
        kept,
        state,
        error,
        vendor_link,
        expiry,
    }
}

fn kept(id: &str, r: &RecordingRecord) -> Option<KeptView> {
    let (RecordingStatus::Archived, Some(sha)) = (r.status, r.sha256.as_deref()) else {
        return None;
    };
    let mut src = format!("/calls/{id}/recording");
    if r.link != CANONICAL_LINK {
        let link: String = form_urlencoded::byte_serialize(r.link.as_bytes()).collect();
        src.push_str(&format!("?link={link}"));
    }
    let short = sha.get(..12).unwrap_or(sha);
    let facts = format!(
        "archived at {} · {} · SHA-256 {short}…",
        format::opt_time(r.archived_at),
        size(r.bytes.unwrap_or(0)),
    );
    Some(KeptView { src, facts })
}

/// What became of a link not kept, in words, and its last error when
/// the words do not already carry it.
fn why_not(r: &RecordingRecord) -> (String, Option<String>) {
    let error = r.error.clone();
    match r.status {
        RecordingStatus::Pending => {
            let next = r
                .next_attempt_at
                .map(|t| format!(", next try at {}", format::time(t)))
                .unwrap_or_default();
            (format!("fetching: attempt {}{next}", r.attempts + 1), error)
        }
        RecordingStatus::Expired => (
            "not archived: the link expired before it could be fetched".into(),
            error,
        ),
        RecordingStatus::TooLarge => ("too large (over recordings.max_bytes)".into(), error),
        RecordingStatus::Refused => (
            "refused: the link points at a private address".into(),
            error,
        ),
        RecordingStatus::NotFound => (
            "the vendor answered 404 until the link expired".into(),
            error,
        ),
        RecordingStatus::Failed | RecordingStatus::Archived => (
            format!(
                "failed: {}",
                error.as_deref().unwrap_or("no reason recorded")
            ),
            None,
        ),
    }
}

/// `812 B`, `23.4 KB`, `1.5 MB` (1 KB = 1024 bytes).
fn size(bytes: u64) -> String {
    const KB: f64 = 1024.0;
    let b = bytes as f64;
    if bytes < 1024 {
        format!("{bytes} B")
    } else if b < KB * KB {
        format!("{:.1} KB", b / KB)
    } else {
        format!("{:.1} MB", b / KB / KB)
    }
}

#[cfg(test)]
#[path = "call_recording_tests.rs"]
mod tests;
