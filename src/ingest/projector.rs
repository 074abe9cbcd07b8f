//! The projector: a background task that turns pending receipts into calls
//! in log order, behind the acknowledgement. It wakes when a push is
//! appended (and polls, for receipts appended by other processes or
//! instances), projects batches of about `limits.projection_batch_records`
//! records until nothing is pending, and keeps [`Backlog`] (what the
//! acknowledgement path compares with `limits.max_pending_records`) and the
//! lag metrics up to date.

use crate::storage::{BodyReader, ProjectReport, ProjectionLag, Store};
use crate::telemetry::names;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{watch, Notify};
use tokio::task::JoinHandle;

/// How often the backlog is read again from the store while busy (it is
/// also read whenever nothing is left to project).
const REFRESH_EVERY: Duration = Duration::from_secs(1);

/// The projection backlog as this process last saw it, plus its own
/// appends since; and the projector's wake-up.
#[derive(Debug, Default)]
pub struct Backlog {
    receipts: AtomicU64,
    records: AtomicU64,
    /// Epoch ms of the oldest pending receipt; 0 when none.
    oldest_ms: AtomicI64,
    wake: Notify,
}

impl Backlog {
    /// Records pending, as last seen plus this process's appends since.
    pub fn records(&self) -> u64 {
        self.records.load(Ordering::Relaxed)
    }

    /// The backlog as last seen (see [`Backlog::records`]).
    pub fn lag(&self) -> ProjectionLag {
        let oldest = self.oldest_ms.load(Ordering::Relaxed);
        ProjectionLag {
            pending_receipts: self.receipts.load(Ordering::Relaxed),
            pending_records: self.records(),
            oldest_pending_at: (oldest > 0)
                .then(|| jiff::Timestamp::from_millisecond(oldest).ok())
                .flatten(),
        }
    }

    /// A receipt of `records` records was appended pending: count it and
    /// wake the projector.
    pub fn added(&self, records: u64) {
        self.receipts.fetch_add(1, Ordering::Relaxed);
        self.records.fetch_add(records, Ordering::Relaxed);
        let now = jiff::Timestamp::now().as_millisecond();
        let _ = self
            .oldest_ms
            .compare_exchange(0, now, Ordering::Relaxed, Ordering::Relaxed);
        self.wake.notify_one();
    }

    /// Wakes the projector without an append (e.g. after a resume).
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    fn projected(&self, report: &ProjectReport) {
        let sub = |a: &AtomicU64, n: u64| {
            let _ = a.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |v| {
                Some(v.saturating_sub(n))
            });
        };
        sub(&self.receipts, report.receipts.len() as u64);
        sub(&self.records, report.records as u64);
        if self.receipts.load(Ordering::Relaxed) == 0 {
            self.oldest_ms.store(0, Ordering::Relaxed);
        }
    }

    fn set(&self, lag: ProjectionLag) {
        self.receipts.store(lag.pending_receipts, Ordering::Relaxed);
        self.records.store(lag.pending_records, Ordering::Relaxed);
        let oldest = lag.oldest_pending_at.map_or(0, |t| t.as_millisecond());
        self.oldest_ms.store(oldest, Ordering::Relaxed);
        metrics::gauge!(names::PROJECTION_PENDING_RECEIPTS).set(lag.pending_receipts as f64);
        metrics::gauge!(names::PROJECTION_PENDING_RECORDS).set(lag.pending_records as f64);
        let age = lag.oldest_pending_at.map_or(0.0, |t| {
            (jiff::Timestamp::now().as_millisecond() - t.as_millisecond()).max(0) as f64 / 1000.0
        });
        metrics::gauge!(names::PROJECTION_LAG_SECONDS).set(age);
    }
}

/// How the projector runs.
#[derive(Debug, Clone, Copy)]
pub struct ProjectorSettings {
    /// Records per projection transaction (at least one receipt).
    pub batch_records: usize,
    /// How often to look for receipts appended by other processes.
    pub poll: Duration,
}

/// A running projector; stopped by [`Projector::shutdown`].
pub struct Projector {
    stop: watch::Sender<bool>,
    paused: Arc<AtomicBool>,
    backlog: Arc<Backlog>,
    task: JoinHandle<()>,
}

impl Projector {
    /// Starts projecting `store`'s pending receipts with `reader`.
    pub fn start(
        store: Arc<dyn Store>,
        reader: Arc<dyn BodyReader>,
        backlog: Arc<Backlog>,
        settings: ProjectorSettings,
    ) -> Projector {
        let (stop, stopped) = watch::channel(false);
        let paused = Arc::new(AtomicBool::new(false));
        let task = tokio::spawn(run(
            store,
            reader,
            backlog.clone(),
            settings,
            paused.clone(),
            stopped,
        ));
        Projector {
            stop,
            paused,
            backlog,
            task,
        }
    }

    /// Stops projecting after the current batch (receipts stay pending;
    /// pushes are still acknowledged up to `limits.max_pending_records`).
    /// For maintenance and tests.
    pub fn pause(&self) {
        self.paused.store(true, Ordering::Release);
    }

    /// Projects again after [`Projector::pause`].
    pub fn resume(&self) {
        self.paused.store(false, Ordering::Release);
        self.backlog.wake();
    }

    /// Stops after the batch in flight (its transaction commits or rolls
    /// back as a whole) and waits for the task.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        self.backlog.wake();
        let _ = self.task.await;
    }
}

async fn run(
    store: Arc<dyn Store>,
    reader: Arc<dyn BodyReader>,
    backlog: Arc<Backlog>,
    settings: ProjectorSettings,
    paused: Arc<AtomicBool>,
    mut stopped: watch::Receiver<bool>,
) {
    let mut refreshed: Option<tokio::time::Instant> = None;
    let mut failures = 0u32;
    loop {
        if *stopped.borrow() {
            return;
        }
        if refreshed.is_none_or(|t| t.elapsed() >= REFRESH_EVERY) {
            if let Ok(lag) = store.projection_lag().await {
                backlog.set(lag);
            }
            refreshed = Some(tokio::time::Instant::now());
        }
        if paused.load(Ordering::Acquire) {
            wait(&backlog, settings.poll, &mut stopped).await;
            continue;
        }
        let began = std::time::Instant::now();
        match store.project(reader.clone(), settings.batch_records).await {
            Ok(report) if report.receipts.is_empty() => {
                failures = 0;
                if let Ok(lag) = store.projection_lag().await {
                    backlog.set(lag);
                }
                refreshed = Some(tokio::time::Instant::now());
                wait(&backlog, settings.poll, &mut stopped).await;
            }
            Ok(report) => {
                failures = 0;
                metrics::histogram!(names::PROJECTION_BATCH_SECONDS)
                    .record(began.elapsed().as_secs_f64());
                backlog.projected(&report);
                for o in &report.receipts {
                    let status = o.status.map_or("unknown", |s| s.as_str());
                    metrics::counter!(names::PROJECTED_RECEIPTS, "source" => o.source.clone(), "status" => status)
                        .increment(1);
                    if o.unchanged > 0 {
                        metrics::counter!(names::DUPLICATE_RECORDS, "source" => o.source.clone())
                            .increment(o.unchanged as u64);
                    }
                }
                tracing::debug!(
                    receipts = report.receipts.len(),
                    records = report.records,
                    calls = report.calls_changed,
                    ms = began.elapsed().as_millis() as u64,
                    "projected"
                );
            }
            Err(e) => {
                failures += 1;
                let backoff = Duration::from_millis(50u64 << failures.min(7));
                tracing::warn!(error = %crate::error_chain::ErrorChain(&e), retry_in_ms = backoff.as_millis() as u64, "projection failed; the receipts stay pending");
                tokio::select! {
                    _ = tokio::time::sleep(backoff) => {}
                    _ = stopped.changed() => {}
                }
            }
        }
    }
}

/// Waits for a wake-up, the poll interval, or the stop.
async fn wait(backlog: &Backlog, poll: Duration, stopped: &mut watch::Receiver<bool>) {
    tokio::select! {
        _ = backlog.wake.notified() => {}
        _ = tokio::time::sleep(poll) => {}
        _ = stopped.changed() => {}
    }
}
