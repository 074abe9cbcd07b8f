//! The write path check of `/readyz` on SQLite: a probe that changes a
//! page and changes it back inside the writer's transaction, so the commit
//! (and its fsync) really writes the WAL. A full or read-only disk fails
//! it, as it fails pushes; reads alone would still succeed.

use crate::storage::StoreError;
use rusqlite::Connection;
use std::time::Duration;

/// How long `/readyz` waits for the probe to be durable (queued behind
/// pushes, committed, fsynced) before calling the write path unhealthy.
pub const WAIT: Duration = Duration::from_secs(2);

/// A name no configured target can have (target names are validated).
const PROBE: &str = "\u{0}callhook-write-probe";

/// Inserts and deletes a `targets` row: no net change, but a dirty page
/// that the commit must write.
///
/// Errors: [`StoreError::Unavailable`] with SQLite's message.
pub fn probe(c: &Connection) -> Result<(), StoreError> {
    c.execute("INSERT OR REPLACE INTO targets (name) VALUES (?1)", [PROBE])?;
    c.execute("DELETE FROM targets WHERE name = ?1", [PROBE])?;
    Ok(())
}
