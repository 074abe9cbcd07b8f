//! The archiver: `serve`'s task that claims due recording jobs
//! (`storage/recordings.rs`), downloads each ([`Fetcher`]), keeps the file
//! in the archive ([`Archive::put_file`]) and reports what happened, and
//! removes files whose calls were deleted. Claims are leased, so several
//! instances on one PostgreSQL database never fetch the same job at once.
//!
//! An attempt's outcome (docs/recordings.md):
//! - downloaded and kept: `archived`;
//! - the link's signed expiry has passed: `expired`, without a request;
//! - too large or refused by the SSRF guard: final at once;
//! - any other failure: tried again on [`retry::next_attempt`]'s schedule
//!   until the link's deadline ([`retry::deadline`]), then `not_found` (the
//!   last answer was 404 or 410), `expired` (401 or 403: a dead signed
//!   link) or `failed`.

use super::fetch::{FailureReason, FetchFailure, FetchOptions, Fetcher};
use super::location::ArchiveLocation;
use super::retry;
use crate::config::RecordingsConfig;
use crate::domain::RecordingStatus;
use crate::storage::recordings::{RecordingClaim, RecordingReport, RecordingResult};
use crate::storage::{Store, StoreError};
use futures::StreamExt;
use jiff::Timestamp;
use std::sync::Arc;
use std::time::Duration;

/// How long a claim is leased beyond the download's timeout: room to
/// upload the file and report.
const LEASE_MARGIN: Duration = Duration::from_secs(120);

/// The longest the archiver sleeps between looks at the job table (a
/// push in this process wakes it sooner through the outbox signal).
const POLL: Duration = Duration::from_secs(2);

/// Orphaned files removed per pass.
const ORPHANS_PER_PASS: usize = 100;

/// What one pass did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PassReport {
    /// Jobs claimed and attempted.
    pub attempted: usize,
    pub archived: usize,
    /// Failed and due again.
    pub retrying: usize,
    /// Failed for good (expired, too large, refused, not found, failed).
    pub given_up: usize,
    /// Orphaned files removed from the archive.
    pub orphans_removed: usize,
}

/// Downloads due recordings into the archive.
pub struct Archiver {
    store: Arc<dyn Store>,
    location: Arc<ArchiveLocation>,
    fetcher: Fetcher,
    give_up_after: Duration,
    concurrency: usize,
    lease: Duration,
}

impl Archiver {
    /// An archiver for `config` keeping files in `location`.
    ///
    /// Errors: a message when the HTTP client cannot be built.
    pub fn new(
        config: &RecordingsConfig,
        location: Arc<ArchiveLocation>,
        store: Arc<dyn Store>,
    ) -> Result<Archiver, String> {
        let fetcher = Fetcher::new(FetchOptions {
            timeout: config.timeout,
            connect_timeout: Duration::from_secs(10).min(config.timeout),
            max_bytes: config.max_bytes,
            allow_private_networks: config.allow_private_networks.clone(),
            max_redirects: 5,
            tmp_dir: location.tmp_dir(),
        })
        .map_err(|e| format!("recordings: cannot build the HTTP client: {e}"))?;
        Ok(Archiver {
            store,
            location,
            fetcher,
            give_up_after: config.give_up_after,
            concurrency: config.concurrency,
            lease: config.timeout + LEASE_MARGIN,
        })
    }

    /// Runs until `stop` is set: passes while jobs are due, else sleeps
    /// until the next is due (at most [`POLL`], or until `wake`).
    /// Download leftovers of a crash are removed first.
    pub async fn run(
        self,
        wake: Arc<tokio::sync::Notify>,
        mut stop: tokio::sync::watch::Receiver<bool>,
    ) {
        self.sweep().await;
        while !*stop.borrow() {
            // A stop cuts the pass short: downloads in flight are dropped
            // (their partial files with them) and claimed again when their
            // leases end (at once on SQLite's next start).
            let pass = tokio::select! {
                r = self.pass(Timestamp::now()) => r,
                _ = stop.changed() => return,
            };
            let busy = match pass {
                Ok(r) => r.attempted > 0,
                Err(e) => {
                    tracing::warn!(error = %crate::error_chain::ErrorChain(&e), "recordings: the archive pass failed");
                    false
                }
            };
            if busy {
                continue;
            }
            let nap = self.until_next_due().await;
            tokio::select! {
                _ = tokio::time::sleep(nap) => {}
                _ = wake.notified() => {}
                _ = stop.changed() => {}
            }
        }
    }

    /// Removes `.partial` files a crash left behind (single process only:
    /// another instance's downloads are in its own directory or bucket
    /// staging, never shared).
    async fn sweep(&self) {
        let tmp = self.location.tmp_dir();
        match tokio::task::spawn_blocking(move || super::fetch::sweep_partials(&tmp)).await {
            Ok(Ok(n)) if n > 0 => {
                tracing::info!(removed = n, "recordings: removed unfinished downloads")
            }
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "recordings: cannot sweep unfinished downloads")
            }
            _ => {}
        }
    }

    async fn until_next_due(&self) -> Duration {
        match self.store.next_recording_due().await {
            Ok(Some(at)) => {
                let ms = at.as_millisecond() - Timestamp::now().as_millisecond();
                Duration::from_millis(ms.clamp(50, POLL.as_millis() as i64) as u64)
            }
            _ => POLL,
        }
    }

    /// One pass at `now`: claims up to twice `concurrency` due jobs,
    /// attempts them `concurrency` at a time, reports each, then removes
    /// orphaned files.
    ///
    /// Errors: the store's, claiming or reporting (a job not reported is
    /// claimed again when its lease ends).
    pub async fn pass(&self, now: Timestamp) -> Result<PassReport, StoreError> {
        let claims = self
            .store
            .claim_recordings(now, self.concurrency * 2, self.lease)
            .await?;
        let mut report = PassReport {
            attempted: claims.len(),
            ..PassReport::default()
        };
        let mut attempts = futures::stream::iter(claims)
            .map(|claim| self.attempt(claim))
            .buffer_unordered(self.concurrency);
        while let Some(r) = attempts.next().await {
            match &r.result {
                RecordingResult::Archived { .. } => report.archived += 1,
                RecordingResult::Retry { .. } => report.retrying += 1,
                RecordingResult::Final { .. } => report.given_up += 1,
            }
            self.store.report_recordings(vec![r]).await?;
        }
        report.orphans_removed = self.remove_orphans().await?;
        Ok(report)
    }

    /// Downloads and keeps one claimed job; the report to record.
    async fn attempt(&self, claim: RecordingClaim) -> RecordingReport {
        let started = Timestamp::now();
        let (result, reason) = self.result_of(&claim, started).await;
        let at = Timestamp::now();
        super::metrics::record(&claim.source, &result, reason);
        RecordingReport {
            call_id: claim.call_id,
            link: claim.link,
            url: claim.url,
            at,
            result,
        }
    }

    /// What one attempt comes to, and the failure's metrics label.
    async fn result_of(
        &self,
        claim: &RecordingClaim,
        now: Timestamp,
    ) -> (RecordingResult, Option<&'static str>) {
        if let Some(expired) = claim.expires_at.filter(|t| *t <= now) {
            let result = RecordingResult::Final {
                status: RecordingStatus::Expired,
                error: format!("the link expired at {expired} before it could be fetched"),
            };
            return (result, Some("expired"));
        }
        let failure = match self.fetcher.fetch(&claim.url).await {
            Ok(fetched) => {
                let kept = self.keep(&fetched).await;
                let _ = tokio::fs::remove_file(&fetched.path).await;
                match kept {
                    Ok(()) => {
                        let result = RecordingResult::Archived {
                            bytes: fetched.bytes,
                            sha256: fetched.sha256,
                            content_type: fetched.content_type,
                        };
                        return (result, None);
                    }
                    Err(e) => FetchFailure {
                        reason: FailureReason::Io,
                        detail: format!("downloaded, but the archive refused it: {e}"),
                        http_status: None,
                    },
                }
            }
            Err(f) => f,
        };
        let reason = failure.reason.as_str();
        (
            self.after_failure(claim, failure, Timestamp::now()),
            Some(reason),
        )
    }

    async fn keep(&self, fetched: &super::Fetched) -> Result<(), super::ArchiveError> {
        let archive = self.location.open().await?;
        archive.put_file(&fetched.path, &fetched.sha256).await
    }

    /// Retry or give up after `failure`.
    fn after_failure(
        &self,
        claim: &RecordingClaim,
        failure: FetchFailure,
        now: Timestamp,
    ) -> RecordingResult {
        let error = failure.detail;
        let status = match failure.reason {
            FailureReason::TooLarge => Some(RecordingStatus::TooLarge),
            FailureReason::Refused => Some(RecordingStatus::Refused),
            FailureReason::BadUrl => Some(RecordingStatus::Failed),
            _ => None,
        };
        if let Some(status) = status {
            return RecordingResult::Final { status, error };
        }
        let deadline = retry::deadline(&claim.url, claim.received_at, self.give_up_after);
        match retry::next_attempt(claim.attempts + 1, now, deadline) {
            Some(retry_at) => RecordingResult::Retry { retry_at, error },
            None => RecordingResult::Final {
                status: given_up_status(failure.reason),
                error,
            },
        }
    }

    /// Removes files no call refers to any more.
    async fn remove_orphans(&self) -> Result<usize, StoreError> {
        let shas = self.store.take_recording_orphans(ORPHANS_PER_PASS).await?;
        if shas.is_empty() {
            return Ok(0);
        }
        let archive = match self.location.open().await {
            Ok(a) => a,
            Err(e) => {
                tracing::warn!(error = %e, files = shas.len(), "recordings: orphaned files left in the archive");
                return Ok(0);
            }
        };
        let mut removed = 0;
        for sha in shas {
            match archive.delete(&sha).await {
                Ok(()) => removed += 1,
                Err(e) => {
                    tracing::warn!(sha256 = %sha, error = %e, "recordings: cannot remove an orphaned file")
                }
            }
        }
        Ok(removed)
    }
}

/// The final status of a link that failed until its deadline with `last`.
fn given_up_status(last: FailureReason) -> RecordingStatus {
    match last {
        FailureReason::NotFound | FailureReason::Gone => RecordingStatus::NotFound,
        FailureReason::Forbidden => RecordingStatus::Expired,
        _ => RecordingStatus::Failed,
    }
}

/// `serve`'s running archiver.
pub struct ArchiverJob {
    stop: tokio::sync::watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl ArchiverJob {
    /// Ends the leases a crash left (single-process SQLite; nothing on
    /// PostgreSQL, where leases end by time) and starts `archiver`, woken
    /// early by `wake` (the store's outbox signal: a push was projected).
    pub async fn start(archiver: Archiver, wake: Arc<tokio::sync::Notify>) -> ArchiverJob {
        match archiver.store.release_recording_leases().await {
            Ok(n) if n > 0 => {
                tracing::info!(
                    jobs = n,
                    "recordings: downloads cut by the last stop are due again"
                )
            }
            Err(e) => {
                tracing::warn!(error = %crate::error_chain::ErrorChain(&e), "recordings: leases not released")
            }
            _ => {}
        }
        tracing::info!(
            archive = %archiver.location.describe(),
            concurrency = archiver.concurrency,
            "recordings: archiving recording links"
        );
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let task = tokio::spawn(archiver.run(wake, stopped));
        ArchiverJob { stop, task }
    }

    /// Stops: downloads in flight are cut short (each is claimed again when
    /// its lease ends, at once on SQLite's next start); reports already
    /// made are kept.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}
