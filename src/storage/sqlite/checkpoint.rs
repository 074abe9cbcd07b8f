//! Checkpoints on a thread of their own: every [`INTERVAL`] a separate
//! connection copies committed WAL frames into the database file
//! (`PRAGMA wal_checkpoint(PASSIVE)`, which never blocks the writer or
//! readers). Left to SQLite's automatic checkpoint, the writer thread paid
//! for it inside its commits (a fifth of its time under load); the writer
//! keeps a high `wal_autocheckpoint` only as a safety net for when this
//! thread cannot keep up.

use super::schema;
use rusqlite::Connection;
use std::path::PathBuf;
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::Duration;

/// Time between passive checkpoints.
const INTERVAL: Duration = Duration::from_millis(200);

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
        let done = c.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| r.get::<_, i64>(0));
        if let Err(e) = done {
            tracing::warn!(error = %e, "checkpoint failed; reopening its connection");
            conn = None;
        }
    }
}
