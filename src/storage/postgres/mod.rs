//! The PostgreSQL backend (`database = "postgres://…"`, issue 5), for many
//! stateless instances on one database. Being built: schema and migrations
//! ([`schema`]) and the race-free ingest ([`ingest`]) are here; reads and
//! the outbox's claims follow, and until then `callhook serve` refuses
//! `postgres://` URLs.

pub mod ingest;
pub mod reads;
pub mod schema;

use crate::storage::{IngestBatch, IngestOutcome, StoreError, Target};
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use std::str::FromStr;
use std::sync::Arc;

/// Connections per instance unless the URL's settings say otherwise.
const POOL_SIZE: usize = 16;

/// A pool of connections to one PostgreSQL database.
pub struct PgStore {
    pool: Pool,
    targets: Arc<Vec<Target>>,
}

fn unavailable(e: impl std::fmt::Display) -> StoreError {
    StoreError::Unavailable(e.to_string())
}

impl PgStore {
    /// Connects to `url` and migrates the schema (under an advisory lock);
    /// events are fanned out to `targets`.
    ///
    /// Errors: [`StoreError::Unavailable`] for a URL that does not parse, a
    /// server that cannot be reached, or a failed migration.
    pub async fn open(url: &str, targets: Vec<Target>) -> Result<PgStore, StoreError> {
        let config = tokio_postgres::Config::from_str(url)
            .map_err(|e| StoreError::Unavailable(format!("database URL: {e}")))?;
        let manager = Manager::from_config(
            config,
            tokio_postgres::NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(POOL_SIZE)
            .build()
            .map_err(unavailable)?;
        let mut client = pool.get().await.map_err(unavailable)?;
        schema::migrate(&mut client).await.map_err(unavailable)?;
        Ok(PgStore {
            pool,
            targets: Arc::new(targets),
        })
    }

    /// Stores `batch` in one transaction (see [`ingest`]).
    ///
    /// Errors: [`StoreError::Busy`] when no connection was free before the
    /// batch's deadline; [`StoreError::Unavailable`] when the transaction
    /// failed (nothing of it is stored).
    pub async fn ingest(&self, batch: IngestBatch) -> Result<IngestOutcome, StoreError> {
        let get = self.pool.get();
        let mut client = match batch.deadline {
            Some(at) => tokio::time::timeout_at(at, get).await.map_err(|_| {
                StoreError::Busy("no database connection within the acknowledgement budget".into())
            })?,
            None => get.await,
        }
        .map_err(unavailable)?;
        let tx = client.transaction().await.map_err(unavailable)?;
        let outcome = ingest::apply(&tx, &batch, &self.targets).await?;
        tx.commit().await.map_err(unavailable)?;
        Ok(outcome)
    }

    /// Answers when the database does.
    pub async fn ping(&self) -> Result<(), StoreError> {
        let client = self.pool.get().await.map_err(unavailable)?;
        client.simple_query("SELECT 1").await.map_err(unavailable)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests;
