//! [`App`]: the running service: store opened, router bound, serving until
//! told to stop. Tests start one on port 0 with a temporary database.

use crate::config::{Config, StoreUrl};
use crate::http::{router, AppState};
use crate::ingest::projector::{Projector, ProjectorSettings};
use crate::retention::job::RetentionJob;
use crate::storage::postgres::PgStore;
use crate::storage::sqlite::SqliteStore;
use crate::storage::{Store, StoreError};
use crate::worker::pool::Workers;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// Why the service could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("outbound delivery: {0}")]
    Workers(#[from] crate::worker::pool::WorkerError),
    #[error("alerts: {0}")]
    Alerts(String),
    #[error("{0}")]
    Recordings(String),
    #[error("HTTPS: {0}")]
    Tls(String),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
}

/// Opens (and migrates) the store named by `config.database`, fanning
/// events out to the configured targets.
///
/// Errors: [`StoreError::Unavailable`] when the URL is not usable (see
/// [`Config::store_url`]) or the store cannot be opened or migrated.
pub async fn open_store(config: &Config) -> Result<Arc<dyn Store>, StoreError> {
    refuse_newer_schema(config).await?;
    let targets = crate::storage::Target::all(config);
    Ok(match config.store_url().map_err(StoreError::unavailable)? {
        StoreUrl::Sqlite(path) => {
            Arc::new(SqliteStore::open_with_targets(Path::new(&path), targets)?)
        }
        StoreUrl::Postgres(url) => Arc::new(PgStore::open(&url, &config.postgres, targets).await?),
    })
}

/// The schema version the database of `config` is at (SQLite's
/// `user_version`, PostgreSQL's `callhook_schema`) and the newest this
/// build knows; `None` for a database not made yet.
///
/// Errors: [`StoreError::Unavailable`] when it cannot be read.
pub async fn schema_versions(config: &Config) -> Result<Option<(usize, usize)>, StoreError> {
    let un = |e: &dyn std::fmt::Display| StoreError::unavailable(e.to_string());
    Ok(match config.store_url().map_err(StoreError::unavailable)? {
        StoreUrl::Sqlite(path) => {
            let path = Path::new(&path);
            if !path.is_file() {
                return Ok(None);
            }
            let conn = rusqlite::Connection::open_with_flags(
                path,
                rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY
                    | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )
            .map_err(|e| un(&format!("{}: {e}", path.display())))?;
            let v: i64 = conn
                .query_row("PRAGMA user_version", [], |r| r.get(0))
                .map_err(|e| un(&format!("{}: {e}", path.display())))?;
            Some((v.max(0) as usize, crate::storage::sqlite::schema::latest()))
        }
        StoreUrl::Postgres(url) => {
            let (client, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
                .await
                .map_err(|e| un(&e))?;
            tokio::spawn(conn);
            let exists: bool = client
                .query_one("SELECT to_regclass('callhook_schema') IS NOT NULL", &[])
                .await
                .map_err(|e| un(&e))?
                .get(0);
            if !exists {
                return Ok(None);
            }
            let v: i64 = client
                .query_one(
                    "SELECT coalesce(max(version), 0)::BIGINT FROM callhook_schema",
                    &[],
                )
                .await
                .map_err(|e| un(&e))?
                .get(0);
            Some((
                v.max(0) as usize,
                crate::storage::postgres::schema::latest(),
            ))
        }
    })
}

/// Refuses a database whose schema is newer than this build knows (made or
/// migrated by a newer callhook): running on it could misread or damage it.
///
/// Errors: [`StoreError::Unavailable`] saying so, or when it cannot be read.
async fn refuse_newer_schema(config: &Config) -> Result<(), StoreError> {
    if let Some((stored, latest)) = schema_versions(config).await? {
        if stored > latest {
            return Err(StoreError::unavailable(format!(
                "{}: its schema is at version {stored}, newer than this callhook knows \
                 (version {latest}, callhook {}): a newer callhook migrated it; run that \
                 version or newer (or restore a backup taken before the upgrade)",
                crate::config::redact::url_text(&config.database),
                env!("CARGO_PKG_VERSION")
            )));
        }
    }
    Ok(())
}

/// Migrates the store named by `config.database` to the newest schema
/// (what every start does first): `(steps applied, newest version)`.
///
/// Errors: as [`open_store`].
pub async fn migrate_store(config: &Config) -> Result<(usize, usize), StoreError> {
    refuse_newer_schema(config).await?;
    Ok(match config.store_url().map_err(StoreError::unavailable)? {
        StoreUrl::Sqlite(path) => (
            SqliteStore::migrate(Path::new(&path))?,
            crate::storage::sqlite::schema::latest(),
        ),
        StoreUrl::Postgres(url) => (
            PgStore::migrate(&url).await?,
            crate::storage::postgres::schema::latest(),
        ),
    })
}

/// Starts the projector of `state`'s store (see [`crate::ingest::projector`]).
pub fn start_projector(state: &AppState) -> Projector {
    let poll = match state.config.store_url() {
        Ok(StoreUrl::Postgres(_)) => std::time::Duration::from_millis(200),
        _ => std::time::Duration::from_secs(1),
    };
    Projector::start(
        state.store.clone(),
        state.ingestor.reader(),
        state.ingestor.backlog.clone(),
        ProjectorSettings {
            batch_records: state.config.limits.projection_batch_records,
            poll,
        },
    )
}

/// A started service.
pub struct App {
    /// The bound address (the real port when `listen` asked for port 0).
    pub addr: SocketAddr,
    pub state: AppState,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<std::io::Result<()>>,
    /// The outbound dispatchers, stopped after the server.
    workers: Option<Workers>,
    /// The background purge (`retention_days`), stopped with the workers.
    retention: Option<RetentionJob>,
    /// Projects pending receipts into calls; stopped after the server.
    projector: Option<Projector>,
    /// Evaluates `[[alerts]]` (when any), stopped with the workers.
    alerts: Option<crate::alerts::AlertJob>,
    /// Reads the dashboard's health strip, stopped with the workers.
    health: Option<crate::alerts::health::HealthRefresher>,
    /// Downloads recordings (`[recordings]`), stopped with the workers.
    archiver: Option<crate::recordings::archiver::ArchiverJob>,
}

impl App {
    /// Installs the metrics recorder (once per process), opens the store,
    /// binds `config.listen`, starts serving, starts a dispatcher per
    /// outbound target and, with `retention_days`, the background purge;
    /// with `[[alerts]]`, the alert evaluator; and the health strip's reader.
    ///
    /// Errors: [`StartError::Tls`] (a TLS file that cannot be used),
    /// [`StartError::Store`], [`StartError::Bind`], [`StartError::Workers`].
    pub async fn start(config: Config) -> Result<App, StartError> {
        crate::telemetry::install();
        let tls = match config.tls_files().map_err(StartError::Tls)? {
            Some((cert, key)) => {
                Some(crate::http::tls::acceptor(cert, key).map_err(StartError::Tls)?)
            }
            None => None,
        };
        let store = open_store(&config).await?;
        let state = AppState::new(Arc::new(config), store);
        let addr = state.config.listen;
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|source| StartError::Bind { addr, source })?;
        let addr = listener
            .local_addr()
            .map_err(|source| StartError::Bind { addr, source })?;
        let workers = Workers::start(&state.config, state.store.clone()).await?;
        let projector = start_projector(&state);
        let retention = state.config.retention_days.map(|days| {
            RetentionJob::start(state.store.clone(), days, state.config.retention_interval)
        });
        let alerts = if state.config.alerts.is_empty() {
            None
        } else {
            Some(
                crate::alerts::AlertJob::start(
                    &state.config,
                    state.store.clone(),
                    state.alerts_measured.clone(),
                )
                .map_err(StartError::Alerts)?,
            )
        };
        let health = crate::alerts::health::HealthRefresher::start(
            state.health.clone(),
            state.store.clone(),
            state.config.clone(),
            crate::alerts::refresh_every(&state.config),
            {
                // "Today" is the display zone's (`display_timezone`).
                let tz = state.config.display_zone();
                Arc::new(move |now: jiff::Timestamp| {
                    now.to_zoned(tz.clone())
                        .start_of_day()
                        .map_or(now, |z| z.timestamp())
                })
            },
        );
        let archiver = start_archiver(&state).await?;
        let (stop, stopped) = oneshot::channel::<()>();
        let app = router(state.clone());
        let limits = state.config.limits.clone();
        let conns =
            crate::http::conn_limits::ConnLimits::new(&limits, &state.config.trusted_proxies);
        let task = tokio::spawn(crate::http::serve::serve(
            listener,
            app,
            limits,
            conns,
            tls,
            async move {
                let _ = stopped.await;
            },
        ));
        Ok(App {
            addr,
            state,
            stop: Some(stop),
            task,
            workers: Some(workers),
            retention,
            projector: Some(projector),
            alerts,
            health: Some(health),
            archiver,
        })
    }

    /// The projector, to pause and resume it (maintenance, tests).
    pub fn projector(&self) -> Option<&Projector> {
        self.projector.as_ref()
    }

    /// Stops accepting connections, lets in-flight requests finish (up to
    /// `limits.shutdown_timeout`), then stops the dispatchers once their
    /// attempts in flight are answered and recorded, and waits.
    pub async fn shutdown(mut self) -> std::io::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let served = (&mut self.task)
            .await
            .unwrap_or_else(|e| Err(std::io::Error::other(e)));
        if let Some(projector) = self.projector.take() {
            projector.shutdown().await;
        }
        if let Some(workers) = self.workers.take() {
            workers.shutdown().await;
        }
        if let Some(job) = self.retention.take() {
            job.shutdown().await;
        }
        if let Some(job) = self.alerts.take() {
            job.shutdown().await;
        }
        if let Some(job) = self.health.take() {
            job.shutdown().await;
        }
        if let Some(job) = self.archiver.take() {
            job.shutdown().await;
        }
        served
    }

    /// Serves until SIGINT or SIGTERM, then shuts down gracefully.
    pub async fn run_until_signal(self) -> std::io::Result<()> {
        shutdown_signal().await;
        tracing::info!("shutting down: finishing in-flight requests");
        self.shutdown().await
    }
}

/// The recordings archiver, unless `recordings.enabled` is false.
///
/// Errors: [`StartError::Recordings`] when its HTTP client cannot be built.
async fn start_archiver(
    state: &AppState,
) -> Result<Option<crate::recordings::archiver::ArchiverJob>, StartError> {
    use crate::recordings::archiver::{Archiver, ArchiverJob};
    if !state.config.recordings.enabled {
        tracing::info!("recordings: not archived (recordings.enabled = false)");
        return Ok(None);
    }
    let archiver = Archiver::new(
        &state.config.recordings,
        state.recordings.clone(),
        state.store.clone(),
    )
    .map_err(StartError::Recordings)?;
    Ok(Some(
        ArchiverJob::start(archiver, state.store.outbox_signal()).await,
    ))
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}
