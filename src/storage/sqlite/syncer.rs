//! Durability, pipelined: the writer commits a group with SQLite's
//! `synchronous=NORMAL` (frames written to the WAL, no fsync) and hands the
//! group's answers here; this thread fsyncs the WAL file and only then sends
//! them. While it waits on the disk (about 4 ms per fsync on the development
//! machine), the writer already builds the next group, so one fsync covers
//! every group committed before it started.
//!
//! The guarantee is `synchronous=FULL`'s: no push is answered before an fsync
//! of the WAL that began after its commit returned. (fsync flushes the file,
//! whichever descriptor it is called on.) If the WAL was reset meanwhile, its
//! frames had been checkpointed into the database file, which SQLite fsyncs
//! before a reset. The directory is fsynced whenever the WAL file is new, so
//! its name survives power loss too.
//!
//! An fsync that fails poisons the store: those pushes and every later one
//! are answered 503 until a restart, because after a failed fsync the kernel
//! may have dropped the data while SQLite and its readers still see it
//! (PostgreSQL panics for the same reason).

use crate::storage::StoreError;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::Receiver;
use std::sync::Arc;

/// Sends one job's outcome once the WAL is synced, or the sync's error
/// instead when syncing failed.
pub type Answer = Box<dyn FnOnce(Option<&StoreError>) + Send>;

/// The answers of one committed group, to send once the WAL is synced.
pub type Answers = Vec<Answer>;

/// Makes the WAL durable: fsync of `<db>-wal` (and of the directory when
/// the WAL file is new). Replaced in tests to hold answers back.
pub trait Sync: Send + 'static {
    /// Errors: the I/O error of the open or the fsync.
    fn sync(&mut self) -> std::io::Result<()>;
}

/// The real [`Sync`] of the database at a path.
pub struct WalSync {
    wal: PathBuf,
    dir: PathBuf,
    synced_inode: Option<u64>,
}

impl WalSync {
    pub fn new(db: &Path) -> WalSync {
        let mut wal = db.as_os_str().to_owned();
        wal.push("-wal");
        let dir = match db.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
            _ => PathBuf::from("."),
        };
        WalSync {
            wal: PathBuf::from(wal),
            dir,
            synced_inode: None,
        }
    }
}

impl Sync for WalSync {
    fn sync(&mut self) -> std::io::Result<()> {
        use std::os::unix::fs::MetadataExt;
        // Opened each time: the WAL file is recreated when every connection
        // closes, and the writer reopens its connection after a fault.
        let file = std::fs::File::open(&self.wal)?;
        file.sync_all()?;
        let inode = file.metadata()?.ino();
        if self.synced_inode != Some(inode) {
            std::fs::File::open(&self.dir)?.sync_all()?;
            self.synced_inode = Some(inode);
        }
        Ok(())
    }
}

/// Runs until the writer drops its sender: takes every group committed so
/// far, syncs once, answers them all.
pub fn run(mut sync: impl Sync, groups: Receiver<Answers>, poisoned: Arc<AtomicBool>) {
    while let Ok(first) = groups.recv() {
        let mut answers = first;
        while let Ok(more) = groups.try_recv() {
            answers.extend(more);
        }
        let synced = if poisoned.load(Ordering::Acquire) {
            Err(StoreError::Unavailable(POISONED.into()))
        } else {
            let began = std::time::Instant::now();
            let synced = sync.sync();
            metrics::histogram!(crate::telemetry::names::STORE_FSYNC_SECONDS, "backend" => "sqlite")
                .record(began.elapsed().as_secs_f64());
            synced.map_err(|e| {
                tracing::error!(error = %e, "fsync of the WAL failed; refusing pushes until restart");
                poisoned.store(true, Ordering::Release);
                StoreError::unavailable_by("fsync failed", e)
            })
        };
        for answer in answers {
            answer(synced.as_ref().err());
        }
    }
}

/// Why a poisoned store refuses pushes.
pub const POISONED: &str = "an fsync of the database failed earlier; restart callhook";
