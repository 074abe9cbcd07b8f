//! The embedded SQLite backend (the default, `sqlite://callhook.db`).
//!
//! One writer thread commits in groups (`writer.rs`); reads run on a pool of
//! read-only connections in tokio's blocking pool. WAL with
//! `synchronous=FULL`: an acknowledged push survives `kill -9` and power loss.

pub(crate) mod alerts;
mod checkpoint;
mod decimal_fns;
mod outbox;
mod outbox_impl;
mod page_reads;
mod project;
mod purge;
mod reads;
mod recordings;
mod rollups;
mod rows;
pub(crate) mod schema;
mod search;
mod syncer;
mod work;
mod write_probe;
mod writer;

use crate::storage::recordings::{
    RecordingClaim, RecordingCounts, RecordingJob, RecordingRecord, RecordingReport,
};
use crate::storage::*;
use async_trait::async_trait;
use r2d2_sqlite::SqliteConnectionManager;
use rusqlite::{Connection, OpenFlags};
use std::path::Path;
use tokio::sync::mpsc::error::TrySendError;
use tokio::sync::{mpsc, oneshot};

/// Ingest jobs that may wait for the writer before `ingest` itself waits.
const QUEUE_DEPTH: usize = 4096;

/// A SQLite database file shared by one writer thread and a read pool.
pub struct SqliteStore {
    jobs: mpsc::Sender<work::Work>,
    /// Set after a failed fsync: `ping` (and `/readyz`) report it.
    poisoned: std::sync::Arc<std::sync::atomic::AtomicBool>,
    /// Dropped with the store: tells the checkpoint thread to stop.
    _checkpoints: std::sync::mpsc::Sender<()>,
    readers: r2d2::Pool<SqliteConnectionManager>,
    /// See [`Outbox::outbox_signal`].
    signal: std::sync::Arc<tokio::sync::Notify>,
    /// Where each event is fanned out (subscribers, NATS).
    targets: std::sync::Arc<Vec<Target>>,
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path`, applies migrations
    /// and starts the writer thread.
    ///
    /// Errors: [`StoreError::Unavailable`] when the file cannot be opened,
    /// configured or migrated.
    pub fn open(path: &Path) -> Result<SqliteStore, StoreError> {
        SqliteStore::open_with_targets(path, Vec::new())
    }

    /// [`SqliteStore::open`], fanning every event out to the matching
    /// `targets` (the configured subscribers and NATS).
    ///
    /// Errors: as [`SqliteStore::open`].
    pub fn open_with_targets(path: &Path, targets: Vec<Target>) -> Result<SqliteStore, StoreError> {
        SqliteStore::open_with(path, syncer::WalSync::new(path), targets)
    }

    /// [`SqliteStore::open_with_targets`] with `sync` making commits durable
    /// (tests hold it to prove that nothing is answered before it returns).
    fn open_with(
        path: &Path,
        sync: impl syncer::Sync,
        targets: Vec<Target>,
    ) -> Result<SqliteStore, StoreError> {
        SqliteStore::start(path, sync, targets).map_err(|e| e.context(path.display()))
    }

    /// [`SqliteStore::open_with`] but for naming `path` in its errors.
    fn start(
        path: &Path,
        sync: impl syncer::Sync,
        targets: Vec<Target>,
    ) -> Result<SqliteStore, StoreError> {
        let mut conn = Connection::open(path)?;
        schema::configure(&conn)?;
        schema::migrate(&mut conn)?;
        schema::configure_writer(&conn)?;
        let manager = SqliteConnectionManager::file(path)
            .with_flags(
                OpenFlags::SQLITE_OPEN_READ_ONLY
                    | OpenFlags::SQLITE_OPEN_NO_MUTEX
                    | OpenFlags::SQLITE_OPEN_URI,
            )
            .with_init(|c| {
                decimal_fns::register(c)?;
                c.execute_batch("PRAGMA busy_timeout = 5000; PRAGMA query_only = ON;")
            });
        let readers = r2d2::Pool::builder()
            .max_size(8)
            .min_idle(Some(1))
            .build(manager)?;
        let (jobs, rx) = mpsc::channel(QUEUE_DEPTH);
        let (synced, to_sync) = std::sync::mpsc::channel();
        let poisoned = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let owned = path.to_path_buf();
        let flag = poisoned.clone();
        let targets = std::sync::Arc::new(targets);
        spawn("callhook-writer", move || {
            writer::run(owned, conn, rx, synced, flag)
        })?;
        spawn("callhook-fsync", {
            let poisoned = poisoned.clone();
            move || syncer::run(sync, to_sync, poisoned)
        })?;
        let (checkpoints, stop) = std::sync::mpsc::channel();
        let owned = path.to_path_buf();
        spawn("callhook-ckpt", move || checkpoint::run(owned, stop))?;
        Ok(SqliteStore {
            jobs,
            poisoned,
            _checkpoints: checkpoints,
            readers,
            signal: Default::default(),
            targets,
        })
    }

    /// Runs `f` on the write connection inside the writer's transaction
    /// (grouped with pushes); returns once the commit is durable.
    ///
    /// Errors: `f`'s own, or [`StoreError::Unavailable`] when the writer is
    /// stopped or the commit failed.
    async fn write<T: Send + 'static>(
        &self,
        f: impl Fn(&Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let stopped = || StoreError::Unavailable("the writer stopped before committing".into());
        let (reply, rx) = oneshot::channel();
        let exec = work::Exec {
            run: Box::new(move |c| f(c).map(|v| Box::new(v) as work::AnyValue)),
            reply,
        };
        self.jobs
            .send(work::Work::Exec(exec))
            .await
            .map_err(|_| stopped())?;
        let value = rx.await.map_err(|_| stopped())??;
        value
            .downcast::<T>()
            .map(|v| *v)
            .map_err(|_| StoreError::Corrupt("the writer returned another type".into()))
    }

    /// Migrates the database at `path` to the newest schema without
    /// starting a store; returns the steps applied.
    ///
    /// Errors: [`StoreError::Unavailable`] when it cannot be opened or a
    /// step fails (nothing of that step is applied).
    pub fn migrate(path: &Path) -> Result<usize, StoreError> {
        let migrate = || {
            let mut conn = Connection::open(path)?;
            schema::configure(&conn)?;
            schema::migrate(&mut conn)
        };
        migrate().map_err(|e| StoreError::from(e).context(path.display()))
    }

    async fn read<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let pool = self.readers.clone();
        tokio::task::spawn_blocking(move || {
            let conn = pool.get()?;
            f(&conn)
        })
        .await
        .map_err(|e| StoreError::unavailable_by("read task failed", e))?
    }

    /// Queues `append` for the writer and waits for its durable commit, or
    /// gives it up at its deadline if the writer has not started it.
    async fn append_job(&self, append: Append) -> Result<(), StoreError> {
        let stopped = || StoreError::Unavailable("the writer stopped before committing".into());
        let deadline = append.deadline;
        let body = pack_body(&append.receipt.body);
        let claim = std::sync::Arc::new(work::Claim::default());
        let (reply, rx) = oneshot::channel();
        let job = work::Work::Ingest(work::Job {
            append,
            body,
            reply,
            claim: claim.clone(),
        });
        match self.jobs.try_send(job) {
            Ok(()) => {}
            Err(TrySendError::Full(job)) => match deadline {
                // Pushes do not queue behind a full queue: they would miss
                // their budget anyway.
                Some(_) => return Err(StoreError::Busy("the write queue is full".into())),
                None => self.jobs.send(job).await.map_err(|_| stopped())?,
            },
            Err(TrySendError::Closed(_)) => return Err(stopped()),
        }
        let Some(at) = deadline else {
            return rx.await.map_err(|_| stopped())?;
        };
        tokio::pin!(rx);
        match tokio::time::timeout_at(at, &mut rx).await {
            Ok(r) => r.map_err(|_| stopped())?,
            // Given up before the writer started it: it will never commit.
            Err(_) if claim.give_up() => Err(StoreError::Busy(
                "not committed within the acknowledgement budget".into(),
            )),
            // Started: its commit is under way and its outcome will come.
            Err(_) => rx.await.map_err(|_| stopped())?,
        }
    }
}

/// Starts the thread `name` running `f`.
fn spawn(name: &str, f: impl FnOnce() + Send + 'static) -> Result<(), StoreError> {
    std::thread::Builder::new()
        .name(name.into())
        .spawn(f)
        .map(drop)
        .map_err(|e| StoreError::unavailable_by(format!("starting thread {name}"), e))
}

#[async_trait]
impl Store for SqliteStore {
    async fn append(&self, append: Append) -> Result<(), StoreError> {
        self.append_job(append).await
    }

    async fn project(
        &self,
        reader: std::sync::Arc<dyn BodyReader>,
        max_records: usize,
    ) -> Result<ProjectReport, StoreError> {
        let r = reader.clone();
        let batch = self
            .read(move |c| Ok(project::read_all(project::pending(c, max_records)?, &*r)))
            .await?;
        if batch.is_empty() {
            return Ok(ProjectReport::default());
        }
        let targets = self.targets.clone();
        let report = self
            .write(move |tx| project::project_batch(tx, &batch, &*reader, &targets))
            .await?;
        if report.events > 0 {
            self.signal.notify_waiters();
        }
        Ok(report)
    }

    async fn reproject(
        &self,
        filter: &ReprojectFilter,
        after_seq: i64,
        limit: usize,
        reader: std::sync::Arc<dyn BodyReader>,
        at: jiff::Timestamp,
        dry_run: bool,
    ) -> Result<ReprojectReport, StoreError> {
        let (filter, r) = (filter.clone(), reader.clone());
        let batch = self
            .read(move |c| {
                let raws = project::selected(c, &filter, after_seq, limit)?;
                Ok(project::read_all(raws, &*r))
            })
            .await?;
        if batch.is_empty() {
            return Ok(ReprojectReport::default());
        }
        let targets = self.targets.clone();
        let go = move |c: &Connection| {
            project::reproject_batch(c, &batch, &*reader, &targets, at, dry_run)
        };
        let report = if dry_run {
            self.read(go).await?
        } else {
            self.write(go).await?
        };
        if report.calls_changed > 0 && !dry_run {
            self.signal.notify_waiters();
        }
        Ok(report)
    }

    async fn count_reprojectable(&self, filter: &ReprojectFilter) -> Result<u64, StoreError> {
        let filter = filter.clone();
        self.read(move |c| project::count_selected(c, &filter))
            .await
    }

    async fn projection_lag(&self) -> Result<ProjectionLag, StoreError> {
        self.read(reads::projection_lag).await
    }

    async fn list_calls(
        &self,
        filter: &CallFilter,
        page: &PageRequest,
    ) -> Result<Page<crate::domain::Call>, StoreError> {
        let (filter, page) = (filter.clone(), page.clone());
        self.read(move |c| reads::list_calls(c, &filter, &page))
            .await
    }

    async fn get_call(&self, id: &str) -> Result<Option<CallDetail>, StoreError> {
        let id = id.to_owned();
        self.read(move |c| reads::get_call(c, &id)).await
    }

    async fn read_rollup(
        &self,
        level: &'static rollup::Level,
        dims: &[rollup::Dim],
        filter: &rollup::RollupFilter,
        set: rollup::SumSet,
    ) -> Result<Vec<rollup::RollupRow>, StoreError> {
        let (dims, filter) = (dims.to_vec(), filter.clone());
        self.read(move |c| rollups::read(c, level, &dims, &filter, set))
            .await
    }

    async fn scan_rollup_in(
        &self,
        dims: &[rollup::Dim],
        filter: &CallFilter,
        tz: &jiff::tz::TimeZone,
    ) -> Result<Vec<rollup::RollupRow>, StoreError> {
        let (dims, filter, tz) = (dims.to_vec(), filter.clone(), tz.clone());
        self.read(move |c| reads::scan_rollup(c, &dims, &filter, &tz))
            .await
    }

    async fn list_receipts(
        &self,
        filter: &ReceiptFilter,
        page: &PageRequest,
    ) -> Result<Page<ReceiptSummary>, StoreError> {
        let (filter, page) = (filter.clone(), page.clone());
        self.read(move |c| reads::list_receipts(c, &filter, &page))
            .await
    }

    async fn get_receipt(&self, id: &str) -> Result<Option<Receipt>, StoreError> {
        let id = id.to_owned();
        self.read(move |c| reads::get_receipt(c, &id)).await
    }

    async fn count_receipts(&self, filter: &ReceiptFilter) -> Result<ReceiptCounts, StoreError> {
        let filter = filter.clone();
        self.read(move |c| page_reads::count_receipts(c, &filter))
            .await
    }

    async fn receipt_ids(&self, status: Option<ReceiptStatus>) -> Result<Vec<String>, StoreError> {
        self.read(move |c| reads::receipt_ids(c, status)).await
    }

    async fn claim_recordings(
        &self,
        now: jiff::Timestamp,
        limit: usize,
        lease: std::time::Duration,
    ) -> Result<Vec<RecordingClaim>, StoreError> {
        self.write(move |c| recordings::claim(c, now, limit, lease))
            .await
    }

    async fn report_recordings(&self, reports: Vec<RecordingReport>) -> Result<(), StoreError> {
        self.write(move |c| recordings::report(c, &reports)).await
    }

    async fn enqueue_recordings(&self, jobs: Vec<RecordingJob>) -> Result<u64, StoreError> {
        self.write(move |c| recordings::enqueue(c, &jobs)).await
    }

    async fn call_recordings(&self, call_id: &str) -> Result<Vec<RecordingRecord>, StoreError> {
        let id = call_id.to_owned();
        self.read(move |c| recordings::of_call(c, &id)).await
    }

    async fn recording(
        &self,
        call_id: &str,
        link: &str,
    ) -> Result<Option<RecordingRecord>, StoreError> {
        let (id, link) = (call_id.to_owned(), link.to_owned());
        self.read(move |c| recordings::get(c, &id, &link)).await
    }

    async fn recording_counts(&self) -> Result<RecordingCounts, StoreError> {
        self.read(recordings::counts).await
    }

    async fn recording_backlog(&self) -> Result<(u64, Option<jiff::Timestamp>), StoreError> {
        self.read(recordings::backlog).await
    }

    async fn recording_failures(
        &self,
        source: Option<&str>,
        since: jiff::Timestamp,
    ) -> Result<u64, StoreError> {
        let source = source.map(str::to_owned);
        self.read(move |c| recordings::failing(c, source.as_deref(), since))
            .await
    }

    async fn next_recording_due(&self) -> Result<Option<jiff::Timestamp>, StoreError> {
        self.read(recordings::next_due).await
    }

    async fn refetch_recordings(
        &self,
        since: Option<jiff::Timestamp>,
        now: jiff::Timestamp,
    ) -> Result<u64, StoreError> {
        self.write(move |c| recordings::refetch(c, since, now))
            .await
    }

    async fn take_recording_orphans(&self, limit: usize) -> Result<Vec<String>, StoreError> {
        self.write(move |c| recordings::take_orphans(c, limit))
            .await
    }

    async fn release_recording_leases(&self) -> Result<u64, StoreError> {
        self.write(recordings::release_leases).await
    }

    async fn list_deliveries(
        &self,
        filter: &DeliveryFilter,
        page: &PageRequest,
    ) -> Result<Page<Delivery>, StoreError> {
        let (filter, page) = (filter.clone(), page.clone());
        self.read(move |c| outbox::list(c, &filter, &page)).await
    }

    async fn get_delivery(&self, id: &str) -> Result<Option<DeliveryDetail>, StoreError> {
        let id = id.to_owned();
        self.read(move |c| outbox::get(c, &id)).await
    }

    async fn retry_deliveries(
        &self,
        id: Option<&str>,
        filter: &DeliveryFilter,
        now: jiff::Timestamp,
    ) -> Result<u64, StoreError> {
        let (id, filter) = (id.map(str::to_owned), filter.clone());
        let n = self
            .write(move |c| outbox::retry(c, id.as_deref(), &filter, now))
            .await?;
        self.signal.notify_waiters();
        Ok(n)
    }

    async fn target_states(&self, names: &[String]) -> Result<Vec<TargetState>, StoreError> {
        let names = names.to_vec();
        self.read(move |c| outbox::states(c, &names)).await
    }

    async fn target_activity(&self, names: &[String]) -> Result<Vec<TargetActivity>, StoreError> {
        let names = names.to_vec();
        self.read(move |c| page_reads::target_activity(c, &names))
            .await
    }

    async fn pending_deliveries(&self) -> Result<Vec<(String, u64)>, StoreError> {
        self.read(outbox::pending).await
    }

    async fn purge(&self, cutoff: jiff::Timestamp, limit: usize) -> Result<PurgeBatch, StoreError> {
        let counts = self.write(move |c| purge::batch(c, cutoff, limit)).await?;
        Ok(PurgeBatch::Deleted(counts))
    }

    async fn count_purgeable(&self, cutoff: jiff::Timestamp) -> Result<PurgeCounts, StoreError> {
        self.read(move |c| purge::count(c, cutoff)).await
    }

    async fn delete_call(&self, id: &str) -> Result<Option<PurgeCounts>, StoreError> {
        let id = id.to_owned();
        self.write(move |c| purge::delete_call(c, &id)).await
    }

    async fn delete_receipt(&self, id: &str) -> Result<bool, StoreError> {
        let id = id.to_owned();
        self.write(move |c| purge::delete_receipt(c, &id)).await
    }

    async fn health(&self, query: &HealthQuery) -> Result<HealthFigures, StoreError> {
        let query = query.clone();
        self.read(move |c| alerts::health(c, &query)).await
    }

    async fn open_alert(&self, alert: &AlertRecord) -> Result<bool, StoreError> {
        let alert = alert.clone();
        self.write(move |c| alerts::open(c, &alert)).await
    }

    async fn resolve_alert(&self, id: &str, at: jiff::Timestamp) -> Result<bool, StoreError> {
        let id = id.to_owned();
        self.write(move |c| alerts::resolve(c, &id, at)).await
    }

    async fn set_alert_notified(
        &self,
        id: &str,
        phase: AlertState,
        channels: &[String],
    ) -> Result<(), StoreError> {
        let (id, channels) = (id.to_owned(), channels.to_vec());
        self.write(move |c| alerts::set_notified(c, &id, phase, &channels))
            .await
    }

    async fn list_alerts(&self, filter: &AlertFilter) -> Result<Vec<AlertRecord>, StoreError> {
        let filter = filter.clone();
        self.read(move |c| alerts::list(c, &filter)).await
    }

    async fn ping(&self) -> Result<(), StoreError> {
        if self.poisoned.load(std::sync::atomic::Ordering::Acquire) {
            return Err(StoreError::Unavailable(syncer::POISONED.into()));
        }
        self.read(|c| {
            Ok(c.query_row("SELECT count(*) FROM sqlite_master", [], |r| {
                r.get::<_, i64>(0)
            })
            .map(|_| ())?)
        })
        .await
    }

    async fn check_writable(&self) -> Result<(), StoreError> {
        if self.poisoned.load(std::sync::atomic::Ordering::Acquire) {
            return Err(StoreError::Unavailable(syncer::POISONED.into()));
        }
        let probe = self.write(write_probe::probe);
        match tokio::time::timeout(write_probe::WAIT, probe).await {
            Ok(r) => r,
            Err(_) => Err(StoreError::unavailable(format!(
                "a probe write was not durable within {:?}",
                write_probe::WAIT
            ))),
        }
    }
}

#[cfg(test)]
mod tests;
