//! The PostgreSQL backend (`database = "postgres://…"`), for many
//! stateless instances on one database: schema and migrations under an
//! advisory lock ([`schema`]), race-free ingest ([`ingest`]), reads that
//! answer as SQLite's do ([`reads`]), and an outbox whose claims use
//! `FOR UPDATE SKIP LOCKED` with leases ([`outbox`]).

pub mod alerts;
pub mod ingest;
pub mod outbox;
mod outbox_impl;
pub mod page_reads;
pub mod project;
pub mod purge;
pub mod reads;
pub mod recordings;
pub mod rollups;
pub mod schema;
pub mod search;

use crate::config::PostgresSettings;
use crate::storage::recordings::{
    RecordingClaim, RecordingCounts, RecordingJob, RecordingRecord, RecordingReport,
};
use crate::storage::*;
use async_trait::async_trait;
use deadpool_postgres::{Manager, ManagerConfig, Object, Pool, RecyclingMethod};
use std::str::FromStr;
use std::sync::Arc;

/// A pool of connections to one PostgreSQL database.
pub struct PgStore {
    pool: Pool,
    targets: Arc<Vec<Target>>,
    /// See [`Outbox::outbox_signal`] (this instance's writes only; other
    /// instances' are seen at the dispatchers' next poll).
    signal: Arc<tokio::sync::Notify>,
    /// Held while the store lives; the rollup compactor stops without it.
    _alive: Arc<()>,
}

/// `PostgreSQL at HOST:PORT` (each host of `config`), the context of a
/// failure to connect or migrate: the server's own reason follows it.
fn server_name(config: &tokio_postgres::Config) -> String {
    use tokio_postgres::config::Host;
    let ports = config.get_ports();
    let port = |i: usize| ports.get(i).or(ports.first()).copied().unwrap_or(5432);
    let hosts: Vec<String> = config
        .get_hosts()
        .iter()
        .enumerate()
        .map(|(i, host)| match host {
            Host::Tcp(name) if name.contains(':') => format!("[{name}]:{}", port(i)),
            Host::Tcp(name) => format!("{name}:{}", port(i)),
            Host::Unix(dir) => format!("{}/.s.PGSQL.{}", dir.display(), port(i)),
        })
        .collect();
    match hosts.is_empty() {
        true => "PostgreSQL".to_string(),
        false => format!("PostgreSQL at {}", hosts.join(", ")),
    }
}

/// One connection to `url`, outside any pool, and the server's name (see
/// [`server_name`]); its connection task is spawned.
///
/// Errors: [`StoreError::Unavailable`] for an unusable URL, or naming the
/// server and its reason when the connection fails.
pub(crate) async fn connect(url: &str) -> Result<(tokio_postgres::Client, String), StoreError> {
    let config = tokio_postgres::Config::from_str(url)
        .map_err(|e| StoreError::unavailable_by("database URL", e))?;
    let server = server_name(&config);
    let (client, conn) = config
        .connect(tokio_postgres::NoTls)
        .await
        .map_err(|e| StoreError::from(e).context(&server))?;
    tokio::spawn(conn);
    Ok((client, server))
}

/// Takes the transaction-scoped advisory lock `key` if no other session
/// holds it: `false` when one does (the caller skips its work).
///
/// Errors: [`StoreError::Unavailable`] when the statement fails.
async fn try_xact_lock(tx: &tokio_postgres::Transaction<'_>, key: i64) -> Result<bool, StoreError> {
    let row = tx
        .query_one("SELECT pg_try_advisory_xact_lock($1)", &[&key])
        .await?;
    Ok(row.get(0))
}

impl PgStore {
    /// Connects to `url` with a pool sized by `settings` (`[postgres]`) and
    /// migrates the schema (under an advisory lock); events are fanned out
    /// to `targets`. A `connect_timeout` in the URL wins over the setting.
    ///
    /// Errors: [`StoreError::Unavailable`] for a URL that does not parse, a
    /// server that cannot be reached, or a failed migration.
    pub async fn open(
        url: &str,
        settings: &PostgresSettings,
        targets: Vec<Target>,
    ) -> Result<PgStore, StoreError> {
        let mut config = tokio_postgres::Config::from_str(url)
            .map_err(|e| StoreError::unavailable_by("database URL", e))?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(settings.connect_timeout);
        }
        config.application_name("callhook");
        let server = server_name(&config);
        let manager = Manager::from_config(
            config,
            tokio_postgres::NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(settings.max_connections)
            .wait_timeout(Some(settings.acquire_timeout))
            .create_timeout(Some(settings.connect_timeout))
            .runtime(deadpool_postgres::Runtime::Tokio1)
            .build()
            .map_err(|e| StoreError::unavailable_by("connection pool", e))?;
        let mut client = pool
            .get()
            .await
            .map_err(|e| StoreError::from(e).context(&server))?;
        schema::migrate(&mut client)
            .await
            .map_err(|e| e.context(&server))?;
        let alive = Arc::new(());
        tokio::spawn(rollups::compact_forever(
            pool.clone(),
            Arc::downgrade(&alive),
        ));
        Ok(PgStore {
            pool,
            targets: Arc::new(targets),
            signal: Default::default(),
            _alive: alive,
        })
    }

    /// Folds the rollup shard rows of the days before `before_day` now
    /// (the store also does it every minute); returns the keys folded.
    ///
    /// Errors: [`StoreError::Unavailable`] when the database fails.
    pub async fn compact_rollups(&self, before_day: &str) -> Result<u64, StoreError> {
        let mut c = self.client().await?;
        rollups::compact(&mut c, before_day).await
    }

    /// Migrates the database at `url` to the newest schema without keeping
    /// a pool; returns the steps applied.
    ///
    /// Errors: [`StoreError::Unavailable`] for an unusable URL, an
    /// unreachable server or a failed step.
    pub async fn migrate(url: &str) -> Result<usize, StoreError> {
        let (mut client, server) = connect(url).await?;
        schema::migrate(&mut client)
            .await
            .map_err(|e| e.context(&server))
    }

    async fn client(&self) -> Result<Object, StoreError> {
        Ok(self.pool.get().await?)
    }
}

#[async_trait]
impl Store for PgStore {
    /// One receipt insert, committed on its own. Errors:
    /// [`StoreError::Busy`] when no connection was free before the append's
    /// deadline; [`StoreError::Unavailable`] when the insert failed.
    async fn append(&self, append: Append) -> Result<(), StoreError> {
        let body = pack_body(&append.receipt.body);
        let get = self.pool.get();
        let client = match append.deadline {
            Some(at) => tokio::time::timeout_at(at, get).await.map_err(|_| {
                StoreError::Busy("no database connection within the acknowledgement budget".into())
            })?,
            None => get.await,
        }?;
        let began = std::time::Instant::now();
        ingest::append(&client, &append, &body).await?;
        use crate::telemetry::names;
        metrics::histogram!(names::STORE_COMMIT_SECONDS, "backend" => "postgres")
            .record(began.elapsed().as_secs_f64());
        metrics::histogram!(names::STORE_BATCH_SIZE, "backend" => "postgres").record(1.0);
        Ok(())
    }

    async fn project(
        &self,
        reader: Arc<dyn BodyReader>,
        max_records: usize,
    ) -> Result<ProjectReport, StoreError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let report = project::project(&tx, reader, max_records, &self.targets).await?;
        tx.commit().await?;
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
        reader: Arc<dyn BodyReader>,
        at: jiff::Timestamp,
        dry_run: bool,
    ) -> Result<ReprojectReport, StoreError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let report = project::reproject(
            &tx,
            filter,
            after_seq,
            limit,
            reader,
            at,
            dry_run,
            &self.targets,
        )
        .await?;
        if dry_run {
            tx.rollback().await?;
        } else {
            tx.commit().await?;
            if report.calls_changed > 0 {
                self.signal.notify_waiters();
            }
        }
        Ok(report)
    }

    async fn count_reprojectable(&self, filter: &ReprojectFilter) -> Result<u64, StoreError> {
        project::count_selected(&self.client().await?, filter).await
    }

    async fn projection_lag(&self) -> Result<ProjectionLag, StoreError> {
        reads::projection_lag(&*self.client().await?).await
    }

    async fn list_calls(
        &self,
        filter: &CallFilter,
        page: &PageRequest,
    ) -> Result<Page<crate::domain::Call>, StoreError> {
        reads::list_calls(&*self.client().await?, filter, page).await
    }

    async fn get_call(&self, id: &str) -> Result<Option<CallDetail>, StoreError> {
        reads::get_call(&*self.client().await?, id).await
    }

    async fn read_rollup(
        &self,
        level: &'static rollup::Level,
        dims: &[rollup::Dim],
        filter: &rollup::RollupFilter,
        set: rollup::SumSet,
    ) -> Result<Vec<rollup::RollupRow>, StoreError> {
        rollups::read(&*self.client().await?, level, dims, filter, set).await
    }

    async fn scan_rollup_in(
        &self,
        dims: &[rollup::Dim],
        filter: &CallFilter,
        tz: &jiff::tz::TimeZone,
    ) -> Result<Vec<rollup::RollupRow>, StoreError> {
        reads::scan_rollup(&*self.client().await?, dims, filter, tz).await
    }

    async fn list_receipts(
        &self,
        filter: &ReceiptFilter,
        page: &PageRequest,
    ) -> Result<Page<ReceiptSummary>, StoreError> {
        reads::list_receipts(&*self.client().await?, filter, page).await
    }

    async fn get_receipt(&self, id: &str) -> Result<Option<Receipt>, StoreError> {
        reads::get_receipt(&*self.client().await?, id).await
    }

    async fn count_receipts(&self, filter: &ReceiptFilter) -> Result<ReceiptCounts, StoreError> {
        page_reads::count_receipts(&*self.client().await?, filter).await
    }

    async fn receipt_ids(&self, status: Option<ReceiptStatus>) -> Result<Vec<String>, StoreError> {
        reads::receipt_ids(&*self.client().await?, status).await
    }

    async fn claim_recordings(
        &self,
        now: jiff::Timestamp,
        limit: usize,
        lease: std::time::Duration,
    ) -> Result<Vec<RecordingClaim>, StoreError> {
        recordings::claim(&**self.client().await?, now, limit, lease).await
    }

    async fn report_recordings(&self, reports: Vec<RecordingReport>) -> Result<(), StoreError> {
        recordings::report(&mut self.client().await?, &reports).await
    }

    async fn enqueue_recordings(&self, jobs: Vec<RecordingJob>) -> Result<u64, StoreError> {
        recordings::enqueue(&**self.client().await?, &jobs).await
    }

    async fn call_recordings(&self, call_id: &str) -> Result<Vec<RecordingRecord>, StoreError> {
        recordings::of_call(&**self.client().await?, call_id).await
    }

    async fn recording(
        &self,
        call_id: &str,
        link: &str,
    ) -> Result<Option<RecordingRecord>, StoreError> {
        recordings::get(&**self.client().await?, call_id, link).await
    }

    async fn recording_counts(&self) -> Result<RecordingCounts, StoreError> {
        recordings::counts(&**self.client().await?).await
    }

    async fn recording_backlog(&self) -> Result<(u64, Option<jiff::Timestamp>), StoreError> {
        recordings::backlog(&**self.client().await?).await
    }

    async fn recording_failures(
        &self,
        source: Option<&str>,
        since: jiff::Timestamp,
    ) -> Result<u64, StoreError> {
        recordings::failing(&**self.client().await?, source, since).await
    }

    async fn next_recording_due(&self) -> Result<Option<jiff::Timestamp>, StoreError> {
        recordings::next_due(&**self.client().await?).await
    }

    async fn refetch_recordings(
        &self,
        since: Option<jiff::Timestamp>,
        now: jiff::Timestamp,
    ) -> Result<u64, StoreError> {
        recordings::refetch(&**self.client().await?, since, now).await
    }

    async fn take_recording_orphans(&self, limit: usize) -> Result<Vec<String>, StoreError> {
        recordings::take_orphans(&**self.client().await?, limit).await
    }

    /// Nothing: instances share the database, so a lease is another
    /// instance's until it ends.
    async fn release_recording_leases(&self) -> Result<u64, StoreError> {
        Ok(0)
    }

    async fn list_deliveries(
        &self,
        filter: &DeliveryFilter,
        page: &PageRequest,
    ) -> Result<Page<Delivery>, StoreError> {
        outbox::list(&*self.client().await?, filter, page).await
    }

    async fn get_delivery(&self, id: &str) -> Result<Option<DeliveryDetail>, StoreError> {
        outbox::get(&*self.client().await?, id).await
    }

    async fn retry_deliveries(
        &self,
        id: Option<&str>,
        filter: &DeliveryFilter,
        now: jiff::Timestamp,
    ) -> Result<u64, StoreError> {
        let n = outbox::retry(&*self.client().await?, id, filter, now).await?;
        self.signal.notify_waiters();
        Ok(n)
    }

    async fn target_states(&self, names: &[String]) -> Result<Vec<TargetState>, StoreError> {
        outbox::states(&*self.client().await?, names).await
    }

    async fn target_activity(&self, names: &[String]) -> Result<Vec<TargetActivity>, StoreError> {
        page_reads::target_activity(&*self.client().await?, names).await
    }

    async fn pending_deliveries(&self) -> Result<Vec<(String, u64)>, StoreError> {
        outbox::pending(&*self.client().await?).await
    }

    async fn purge(&self, cutoff: jiff::Timestamp, limit: usize) -> Result<PurgeBatch, StoreError> {
        purge::batch(&mut self.client().await?, cutoff, limit).await
    }

    async fn count_purgeable(&self, cutoff: jiff::Timestamp) -> Result<PurgeCounts, StoreError> {
        purge::count(&*self.client().await?, cutoff).await
    }

    async fn delete_call(&self, id: &str) -> Result<Option<PurgeCounts>, StoreError> {
        purge::delete_call(&mut self.client().await?, id).await
    }

    async fn delete_receipt(&self, id: &str) -> Result<bool, StoreError> {
        purge::delete_receipt(&mut self.client().await?, id).await
    }

    async fn health(&self, query: &HealthQuery) -> Result<HealthFigures, StoreError> {
        alerts::health(&self.client().await?, query).await
    }

    async fn open_alert(&self, alert: &AlertRecord) -> Result<bool, StoreError> {
        alerts::open(&*self.client().await?, alert).await
    }

    async fn resolve_alert(&self, id: &str, at: jiff::Timestamp) -> Result<bool, StoreError> {
        alerts::resolve(&*self.client().await?, id, at).await
    }

    async fn set_alert_notified(
        &self,
        id: &str,
        phase: AlertState,
        channels: &[String],
    ) -> Result<(), StoreError> {
        alerts::set_notified(&*self.client().await?, id, phase, channels).await
    }

    async fn list_alerts(&self, filter: &AlertFilter) -> Result<Vec<AlertRecord>, StoreError> {
        alerts::list(&*self.client().await?, filter).await
    }

    async fn ping(&self) -> Result<(), StoreError> {
        let client = self.client().await?;
        client.simple_query("SELECT 1").await?;
        Ok(())
    }

    async fn check_writable(&self) -> Result<(), StoreError> {
        let client = self.client().await?;
        let row = client
            .query_one("SELECT current_setting('transaction_read_only')", &[])
            .await?;
        match row.get::<_, String>(0).as_str() {
            "off" => Ok(()),
            _ => Err(StoreError::Unavailable(
                "the PostgreSQL session is read-only (a standby, or \
                 default_transaction_read_only is on)"
                    .into(),
            )),
        }
    }
}

#[cfg(test)]
pub(crate) mod testdb;
#[cfg(test)]
mod tests;
