//! Where the configured archive is, opened on first use: `serve`'s
//! archiver and the HTTP routes that play recordings share one
//! [`ArchiveLocation`], and nothing is created on disk until a recording
//! is kept or read.

use super::objects::{Archive, ArchiveError};
use crate::config::{Config, RecordingsConfig, StoreUrl};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio::sync::OnceCell;

/// The archive of `[recordings]`, opened once ([`ArchiveLocation::open`]).
#[derive(Debug)]
pub struct ArchiveLocation {
    dir: PathBuf,
    url: Option<String>,
    opened: OnceCell<Arc<Archive>>,
}

impl ArchiveLocation {
    /// The archive `config` names: `recordings.url`, else the directory
    /// `recordings.path` (default: `recordings` beside the SQLite file).
    pub fn of(config: &Config) -> ArchiveLocation {
        let sqlite = match config.store_url() {
            Ok(StoreUrl::Sqlite(path)) => Some(PathBuf::from(path)),
            _ => None,
        };
        ArchiveLocation::new(&config.recordings, sqlite.as_deref())
    }

    /// The archive of `recordings` for a SQLite database at `sqlite_file`
    /// (`None` on PostgreSQL).
    pub fn new(recordings: &RecordingsConfig, sqlite_file: Option<&Path>) -> ArchiveLocation {
        ArchiveLocation {
            dir: recordings.dir(sqlite_file),
            url: recordings.url.clone(),
            opened: OnceCell::new(),
        }
    }

    /// The local directory: the archive itself, or, with a bucket, where
    /// downloads are written before they are uploaded (`.partial` files
    /// in its `tmp` subdirectory either way).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Where downloads are written before they are kept.
    pub fn tmp_dir(&self) -> PathBuf {
        self.dir.join("tmp")
    }

    /// The archive, opened (the directory created) on the first call.
    ///
    /// Errors: [`Archive::open`]'s; a failed open is tried again next time.
    pub async fn open(&self) -> Result<Arc<Archive>, ArchiveError> {
        self.opened
            .get_or_try_init(|| async {
                let dir = self.dir.clone();
                let url = self.url.clone();
                tokio::task::spawn_blocking(move || Archive::open(&dir, url.as_deref()))
                    .await
                    .map_err(|e| ArchiveError::Config(format!("opening the archive: {e}")))?
                    .map(Arc::new)
            })
            .await
            .cloned()
    }

    /// What it is, for logs and `check-config`: the bucket URL, or the
    /// directory.
    pub fn describe(&self) -> String {
        match &self.url {
            Some(u) => u.clone(),
            None => format!("directory {}", self.dir.display()),
        }
    }
}
