//! Checkpoints on a thread of their own: every [`INTERVAL`] a separate
//! connection copies committed WAL frames into the database file
//! (`PRAGMA wal_checkpoint(PASSIVE)`, which never blocks the writer or
//! readers). Left to SQLite's automatic checkpoint, the writer thread paid
//! for it inside its commits (a fifth of its time under load); the writer
//! keeps a high `wal_autocheckpoint` only as a safety net for when this
//! thread cannot keep up.
//!
//! A WAL that grew past [`TRUNCATE_ABOVE`] (a disk-full or stuck-reader
//! episode, when checkpoints could not keep up) is cut back to zero bytes
//! by `PRAGMA wal_checkpoint(TRUNCATE)` once a passive checkpoint has
//! copied every frame: otherwise SQLite reuses the file from its start and
//! it keeps its size for ever.

use super::schema;
use rusqlite::Connection;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::Duration;

/// Time between passive checkpoints.
const INTERVAL: Duration = Duration::from_millis(200);

/// A WAL larger than this (bytes) is truncated after a complete
/// checkpoint: twice the writer's automatic checkpoint point (64 MiB), so
/// normal operation never pays for it. 128 MiB.
pub const TRUNCATE_ABOVE: u64 = 128 * 1024 * 1024;

/// How long a truncating checkpoint waits for readers and the writer
/// before giving up until the next interval (it holds the write lock).
const TRUNCATE_WAIT: Duration = Duration::from_millis(100);

/// Runs until `stop`'s sender is dropped (the store closed). Errors are
/// logged and the connection reopened at the next interval.
pub fn run(path: PathBuf, stop: Receiver<()>) {
    let mut conn: Option<Connection> = None;
    loop {
        match stop.recv_timeout(INTERVAL) {
            Err(RecvTimeoutError::Timeout) => {}
            _ => return,
        }
        if conn.is_none() {
            conn = Connection::open(&path)
                .and_then(|c| schema::configure(&c).map(|()| c))
                .map_err(|e| tracing::warn!(error = %e, "checkpoint connection failed"))
                .ok();
        }
        let Some(c) = &conn else { continue };
        if let Err(e) = checkpoint(c, &wal_path(&path), TRUNCATE_ABOVE) {
            tracing::warn!(error = %e, "checkpoint failed; reopening its connection");
            conn = None;
        }
    }
}

/// The WAL file of the database at `db`.
pub fn wal_path(db: &Path) -> PathBuf {
    let mut name = db.as_os_str().to_owned();
    name.push("-wal");
    PathBuf::from(name)
}

/// One passive checkpoint on `c`; when it copied every frame and the WAL
/// at `wal` is larger than `truncate_above` bytes, a truncating one too.
/// Returns whether the WAL was truncated.
///
/// Errors: SQLite's (a full disk, an I/O error). A checkpoint that is
/// busy (readers or the writer in the way) is no error: it is tried again
/// at the next call.
pub fn checkpoint(c: &Connection, wal: &Path, truncate_above: u64) -> rusqlite::Result<bool> {
    let (busy, log, copied): (i64, i64, i64) =
        c.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })?;
    let size = std::fs::metadata(wal).map_or(0, |m| m.len());
    if busy != 0 || log != copied || size <= truncate_above {
        return Ok(false);
    }
    c.busy_timeout(TRUNCATE_WAIT)?;
    let busy: i64 = c.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| r.get(0))?;
    if busy == 0 {
        tracing::info!(
            wal_bytes = size,
            "WAL truncated after a complete checkpoint"
        );
    }
    Ok(busy == 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_large_wal_is_truncated_after_a_complete_checkpoint() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("c.db");
        let writer = Connection::open(&db).unwrap();
        schema::configure(&writer).unwrap();
        writer.pragma_update(None, "wal_autocheckpoint", 0).unwrap();
        writer.execute_batch("CREATE TABLE t (x BLOB); ").unwrap();
        for _ in 0..64 {
            writer
                .execute("INSERT INTO t VALUES (zeroblob(16384))", [])
                .unwrap();
        }
        let wal = wal_path(&db);
        let grown = std::fs::metadata(&wal).unwrap().len();
        assert!(grown > 1024 * 1024, "{grown}");
        let c = Connection::open(&db).unwrap();
        schema::configure(&c).unwrap();
        // Small WALs are left alone.
        assert!(!checkpoint(&c, &wal, u64::MAX).unwrap());
        assert_eq!(std::fs::metadata(&wal).unwrap().len(), grown);
        // Past the threshold, a complete checkpoint truncates it.
        assert!(checkpoint(&c, &wal, 1024 * 1024).unwrap());
        assert_eq!(std::fs::metadata(&wal).unwrap().len(), 0);
        // The data is all in the database file.
        let n: i64 = writer
            .query_row("SELECT COUNT(*) FROM t", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 64);
    }
}
