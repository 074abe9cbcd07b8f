//! The recordings archive's I/O layer: vendors push recording URLs that
//! expire (hours to days), so each file is downloaded ([`fetch`], behind
//! the SSRF guard of [`guard`]) and kept in a content-addressed store
//! ([`objects`]: a local directory or an S3 bucket). [`retry`] says when
//! a failed download is tried again and when to give up.
//!
//! [`archiver`] is `serve`'s task that runs the jobs the projector writes
//! (`storage/recordings.rs`) through them; [`location`] is where the
//! configured archive is.

pub mod archiver;
pub mod fetch;
pub mod guard;
pub mod location;
pub mod metrics;
pub mod objects;
pub mod retry;

pub use fetch::{sweep_partials, FailureReason, FetchFailure, FetchOptions, Fetched, Fetcher};
pub use guard::{check_url, RecordingResolver};
pub use location::ArchiveLocation;
pub use objects::{Archive, ArchiveError, ObjectRead};
pub use retry::{deadline, next_attempt, url_expiry};
