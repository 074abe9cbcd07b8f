//! The content-addressed archive of recordings, over the `object_store`
//! crate: a local directory, or an S3 (or S3-compatible) bucket under a
//! prefix. Each file is stored once, under its SHA-256:
//! `<prefix>/<aa>/<bb>/<sha256>`, where `aa` and `bb` are the first two
//! pairs of hex digits (so no directory holds more than 256 entries of
//! the next level).

use bytes::Bytes;
use futures::stream::{BoxStream, StreamExt, TryStreamExt};
use object_store::aws::{AmazonS3Builder, AmazonS3ConfigKey};
use object_store::local::LocalFileSystem;
use object_store::path::Path as Key;
use object_store::{GetOptions, GetRange, ObjectStore, ObjectStoreExt, PutPayload, WriteMultipart};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio::io::AsyncReadExt;

/// Files up to this many bytes are stored with one `put`; larger ones
/// with a multipart upload.
const SINGLE_PUT_MAX: u64 = 8 * 1024 * 1024;

/// The part size of multipart uploads, in bytes (S3's minimum is 5 MiB).
const PART_BYTES: usize = 5 * 1024 * 1024;

/// Parts uploaded at once by one multipart upload: with [`PART_BYTES`],
/// bounds an upload's memory to about 15 MiB.
const PARTS_IN_FLIGHT: usize = 2;

/// Bytes read from the file at a time.
const READ_BYTES: usize = 64 * 1024;

/// Why an archive operation failed.
#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    /// The archive's settings are unusable: an unsupported URL scheme, a
    /// bucket missing from the URL, an unknown S3 option.
    #[error("recordings archive: {0}")]
    Config(String),
    /// The key given is not a SHA-256 (64 lowercase hex digits).
    #[error("not a SHA-256 (64 lowercase hex digits): {0:?}")]
    BadKey(String),
    /// No object is stored under this SHA-256.
    #[error("no recording {sha256} in the archive")]
    NotFound { sha256: String },
    /// The byte range asked for is empty or starts at or after the end of
    /// the object (`size` bytes).
    #[error("bytes {}..{} are not within the {size} bytes of recording {sha256}", range.start, range.end)]
    BadRange {
        sha256: String,
        range: Range<u64>,
        size: u64,
    },
    /// A local file or directory could not be read, created or synced.
    #[error("cannot {what} {}: {source}", path.display())]
    Io {
        what: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The store failed (network, credentials, disk …).
    #[error("object store: {0}")]
    Store(#[from] object_store::Error),
}

impl ArchiveError {
    fn io(what: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> ArchiveError {
        let path = path.to_owned();
        move |source| ArchiveError::Io { what, path, source }
    }
}

/// Part of a stored object, as [`Archive::get`] reads it.
pub struct ObjectRead {
    /// The whole object's size, in bytes.
    pub size: u64,
    /// The bytes the stream yields (`0..size` when no range was asked
    /// for; a range past the end is cut at the end).
    pub range: Range<u64>,
    /// The bytes, in chunks.
    pub stream: BoxStream<'static, Result<Bytes, ArchiveError>>,
}

impl std::fmt::Debug for ObjectRead {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ObjectRead")
            .field("size", &self.size)
            .field("range", &self.range)
            .finish_non_exhaustive()
    }
}

/// The recordings archive ([`Archive::open`]); cheap to clone.
#[derive(Debug, Clone)]
pub struct Archive {
    store: Arc<dyn ObjectStore>,
    /// Prepended to every key (empty for a local directory).
    prefix: Key,
    /// The directory of a local archive (files are synced there).
    local_root: Option<PathBuf>,
    label: String,
}

/// The `AWS_*` variables of the environment that are S3 settings (as
/// `AmazonS3Builder::from_env` reads them), as `(key, value)` options.
pub fn env_options() -> Vec<(String, String)> {
    std::env::vars()
        .filter(|(k, _)| k.starts_with("AWS_"))
        .filter(|(k, _)| k.to_ascii_lowercase().parse::<AmazonS3ConfigKey>().is_ok())
        .collect()
}

impl Archive {
    /// The archive in the directory `path` (created if missing) when
    /// `url` is `None`; in the S3 bucket of `url = "s3://bucket/prefix"`
    /// otherwise, set up from the standard AWS environment variables
    /// (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_REGION` or
    /// `AWS_DEFAULT_REGION`, `AWS_ENDPOINT_URL` or `AWS_ENDPOINT` for an
    /// S3-compatible server; an `http://` endpoint is allowed).
    ///
    /// Errors: [`ArchiveError::Config`] for another scheme or no bucket;
    /// [`ArchiveError::Io`] when the directory cannot be created;
    /// [`ArchiveError::Store`] when the store cannot be built.
    pub fn open(path: &Path, url: Option<&str>) -> Result<Archive, ArchiveError> {
        match url {
            None => Archive::open_local(path),
            Some(url) => Archive::open_s3_with(url, &env_options()),
        }
    }

    /// The archive in the directory `path`, created if missing; its
    /// parent directory is synced either way, so the directory's own name
    /// is durable before any file is kept in it (it may have been made
    /// just before by a download's `tmp` directory, unsynced).
    ///
    /// Errors: [`ArchiveError::Io`], [`ArchiveError::Store`].
    pub fn open_local(path: &Path) -> Result<Archive, ArchiveError> {
        std::fs::create_dir_all(path).map_err(ArchiveError::io("create the directory", path))?;
        let root = std::fs::canonicalize(path).map_err(ArchiveError::io("open", path))?;
        if let Some(parent) = root.parent() {
            sync_dir(parent)?;
        }
        let store = LocalFileSystem::new_with_prefix(&root)?;
        Ok(Archive {
            store: Arc::new(store),
            prefix: Key::default(),
            label: format!("directory {}", root.display()),
            local_root: Some(root),
        })
    }

    /// The archive in the S3 bucket of `url` (`s3://bucket` or
    /// `s3://bucket/some/prefix`) with only `options` as settings: keys
    /// as `object_store` names them, case-insensitive (`aws_access_key_id`,
    /// `aws_secret_access_key`, `aws_region`, `aws_endpoint_url`,
    /// `aws_session_token` …; the `AWS_*` variable names work too). An
    /// `http://` endpoint is allowed.
    ///
    /// Errors: [`ArchiveError::Config`] for another scheme, no bucket, a
    /// bad prefix or an unknown option; [`ArchiveError::Store`] when the
    /// store cannot be built.
    pub fn open_s3_with(url: &str, options: &[(String, String)]) -> Result<Archive, ArchiveError> {
        let (bucket, prefix) = parse_s3_url(url)?;
        let mut builder = AmazonS3Builder::new();
        for (key, value) in options {
            let parsed: AmazonS3ConfigKey = key
                .to_ascii_lowercase()
                .parse()
                .map_err(|_| ArchiveError::Config(format!("unknown S3 option `{key}`")))?;
            builder = builder.with_config(parsed, value);
        }
        let endpoint = builder
            .get_config_value(&AmazonS3ConfigKey::S3Endpoint)
            .or_else(|| builder.get_config_value(&AmazonS3ConfigKey::Endpoint));
        if endpoint.is_some_and(|e| e.starts_with("http://")) {
            builder = builder.with_allow_http(true);
        }
        let store = builder.with_bucket_name(&bucket).build()?;
        let label = match prefix.as_ref() {
            "" => format!("s3://{bucket}"),
            p => format!("s3://{bucket}/{p}"),
        };
        Ok(Archive {
            store: Arc::new(store),
            prefix,
            local_root: None,
            label,
        })
    }

    /// What the archive is, for logs: `directory /var/lib/callhook/recordings`
    /// or `s3://bucket/prefix` (never a credential).
    pub fn describe(&self) -> String {
        self.label.clone()
    }

    /// The key of `sha256`: `<prefix>/<aa>/<bb>/<sha256>`.
    ///
    /// Errors: [`ArchiveError::BadKey`] unless 64 lowercase hex digits.
    pub fn key(&self, sha256: &str) -> Result<Key, ArchiveError> {
        let hex = sha256.len() == 64
            && sha256
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        if !hex {
            return Err(ArchiveError::BadKey(sha256.to_owned()));
        }
        Ok(self
            .prefix
            .clone()
            .join(&sha256[0..2])
            .join(&sha256[2..4])
            .join(sha256))
    }

    /// Stores the local `file` under `sha256` (which the caller computed:
    /// it is not checked). Idempotent: when an object of the file's size
    /// is already stored there, nothing is uploaded. Into a bucket, files
    /// up to 8 MiB are sent in one `put`, larger ones as a multipart upload
    /// of 5 MiB parts (memory stays bounded either way). Into a local
    /// directory, `file` is renamed into place (copied when it is on
    /// another file system), so nothing is held in memory, and the file
    /// is durable when this returns (it and its directories synced).
    ///
    /// Errors: [`ArchiveError::BadKey`], [`ArchiveError::Io`] (reading
    /// `file`, syncing), [`ArchiveError::Store`].
    pub async fn put_file(&self, file: &Path, sha256: &str) -> Result<(), ArchiveError> {
        let key = self.key(sha256)?;
        if let Some(root) = &self.local_root {
            move_into(root, file, sha256).await?;
            return self.make_durable(sha256).await;
        }
        let size = tokio::fs::metadata(file)
            .await
            .map_err(ArchiveError::io("read", file))?
            .len();
        let stored = match self.store.head(&key).await {
            Ok(meta) => meta.size == size,
            Err(object_store::Error::NotFound { .. }) => false,
            Err(e) => return Err(e.into()),
        };
        if !stored {
            if size <= SINGLE_PUT_MAX {
                let bytes = tokio::fs::read(file)
                    .await
                    .map_err(ArchiveError::io("read", file))?;
                self.store.put(&key, PutPayload::from(bytes)).await?;
            } else {
                self.upload_parts(file, &key).await?;
            }
        }
        self.make_durable(sha256).await
    }

    /// A multipart upload of `file` to `key`, aborted on failure.
    async fn upload_parts(&self, file: &Path, key: &Key) -> Result<(), ArchiveError> {
        let mut input = tokio::fs::File::open(file)
            .await
            .map_err(ArchiveError::io("read", file))?;
        let upload = self.store.put_multipart(key).await?;
        let mut writer = WriteMultipart::new_with_chunk_size(upload, PART_BYTES);
        let mut buf = vec![0u8; READ_BYTES];
        loop {
            let n = match input.read(&mut buf).await {
                Ok(n) => n,
                Err(e) => {
                    let _ = writer.abort().await;
                    return Err(ArchiveError::io("read", file)(e));
                }
            };
            if n == 0 {
                break;
            }
            if let Err(e) = writer.wait_for_capacity(PARTS_IN_FLIGHT).await {
                let _ = writer.abort().await;
                return Err(e.into());
            }
            writer.write(&buf[..n]);
        }
        writer.finish().await?;
        Ok(())
    }

    /// For a local archive: syncs the object's file and the directories
    /// from its own up to the root, so a power cut cannot lose it.
    async fn make_durable(&self, sha256: &str) -> Result<(), ArchiveError> {
        let Some(root) = self.local_root.clone() else {
            return Ok(());
        };
        let (aa, bb) = (sha256[0..2].to_owned(), sha256[2..4].to_owned());
        let sha = sha256.to_owned();
        let joined = root.join(&aa);
        let synced = tokio::task::spawn_blocking(move || {
            let file = root.join(&aa).join(&bb).join(&sha);
            std::fs::File::open(&file)
                .and_then(|f| f.sync_all())
                .map_err(ArchiveError::io("sync", &file))?;
            sync_dir(&root.join(&aa).join(&bb))?;
            sync_dir(&root.join(&aa))?;
            sync_dir(&root)
        })
        .await;
        synced.map_err(|e| ArchiveError::Io {
            what: "sync",
            path: joined,
            source: std::io::Error::other(e),
        })?
    }

    /// Reads the object of `sha256`, whole or the bytes of `range`
    /// (`start..end`, end exclusive; an end past the object is cut).
    ///
    /// Errors: [`ArchiveError::NotFound`]; [`ArchiveError::BadRange`] for
    /// an empty range or one starting at or after the end;
    /// [`ArchiveError::BadKey`]; [`ArchiveError::Store`] (also as items
    /// of the stream, should it break off).
    pub async fn get(
        &self,
        sha256: &str,
        range: Option<Range<u64>>,
    ) -> Result<ObjectRead, ArchiveError> {
        let key = self.key(sha256)?;
        if let Some(r) = range.as_ref().filter(|r| r.start >= r.end) {
            if let Some(e) = self.range_error(&key, sha256, r.clone()).await {
                return Err(e);
            }
        }
        let options = GetOptions {
            range: range.clone().map(GetRange::Bounded),
            ..GetOptions::default()
        };
        match self.store.get_opts(&key, options).await {
            Ok(found) => Ok(ObjectRead {
                size: found.meta.size,
                range: found.range.clone(),
                stream: found.into_stream().map_err(ArchiveError::from).boxed(),
            }),
            Err(object_store::Error::NotFound { .. }) => Err(ArchiveError::NotFound {
                sha256: sha256.to_owned(),
            }),
            Err(e) => {
                let why = match range {
                    Some(r) => self.range_error(&key, sha256, r).await,
                    None => None,
                };
                Err(why
                    .filter(|w| !matches!(w, ArchiveError::Store(_)))
                    .unwrap_or(ArchiveError::Store(e)))
            }
        }
    }

    /// Why `range` of `key` cannot be read: `BadRange` (with the
    /// object's size) when it is empty or starts at or after the end,
    /// `NotFound`, `Store` when asking failed; `None` when it is readable.
    async fn range_error(
        &self,
        key: &Key,
        sha256: &str,
        range: Range<u64>,
    ) -> Option<ArchiveError> {
        match self.store.head(key).await {
            Ok(meta) if range.start >= range.end || range.start >= meta.size => {
                Some(ArchiveError::BadRange {
                    sha256: sha256.to_owned(),
                    range,
                    size: meta.size,
                })
            }
            Ok(_) => None,
            Err(object_store::Error::NotFound { .. }) => Some(ArchiveError::NotFound {
                sha256: sha256.to_owned(),
            }),
            Err(e) => Some(ArchiveError::Store(e)),
        }
    }

    /// Deletes the object of `sha256`; a missing object is not an error.
    ///
    /// Errors: [`ArchiveError::BadKey`], [`ArchiveError::Store`].
    pub async fn delete(&self, sha256: &str) -> Result<(), ArchiveError> {
        let key = self.key(sha256)?;
        match self.store.delete(&key).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Whether an object is stored under `sha256`.
    ///
    /// Errors: [`ArchiveError::BadKey`], [`ArchiveError::Store`].
    pub async fn exists(&self, sha256: &str) -> Result<bool, ArchiveError> {
        let key = self.key(sha256)?;
        match self.store.head(&key).await {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }
}

/// The bucket and the key prefix of `s3://bucket/prefix`.
fn parse_s3_url(url: &str) -> Result<(String, Key), ArchiveError> {
    let parsed = url::Url::parse(url.trim())
        .map_err(|e| ArchiveError::Config(format!("not a URL: {url:?}: {e}")))?;
    if parsed.scheme() != "s3" {
        return Err(ArchiveError::Config(format!(
            "unsupported archive URL scheme `{}`: give s3://bucket/prefix, or no URL for a local directory",
            parsed.scheme()
        )));
    }
    let bucket = parsed.host_str().unwrap_or_default().to_owned();
    if bucket.is_empty() {
        return Err(ArchiveError::Config(format!("no bucket in {url:?}")));
    }
    let prefix = Key::parse(parsed.path().trim_matches('/'))
        .map_err(|e| ArchiveError::Config(format!("bad prefix in {url:?}: {e}")))?;
    Ok((bucket, prefix))
}

/// Moves `file` to `root/aa/bb/sha256` unless a file of its size is there
/// already (the same content: the name is its hash); copies when a rename
/// cannot cross file systems. The source is gone or left for the caller.
async fn move_into(root: &Path, file: &Path, sha256: &str) -> Result<(), ArchiveError> {
    let dir = root.join(&sha256[0..2]).join(&sha256[2..4]);
    let (file, target) = (file.to_owned(), dir.join(sha256));
    let moved = tokio::task::spawn_blocking(move || {
        let size = std::fs::metadata(&file)
            .map_err(ArchiveError::io("read", &file))?
            .len();
        if std::fs::metadata(&target).is_ok_and(|m| m.len() == size) {
            return Ok(());
        }
        std::fs::create_dir_all(&dir).map_err(ArchiveError::io("create the directory", &dir))?;
        if std::fs::rename(&file, &target).is_err() {
            let part = target.with_extension("copying");
            std::fs::copy(&file, &part).map_err(ArchiveError::io("copy", &file))?;
            std::fs::File::open(&part)
                .and_then(|f| f.sync_all())
                .map_err(ArchiveError::io("sync", &part))?;
            std::fs::rename(&part, &target).map_err(ArchiveError::io("rename", &part))?;
        }
        Ok(())
    })
    .await;
    moved.map_err(|e| ArchiveError::Io {
        what: "move",
        path: root.to_owned(),
        source: std::io::Error::other(e),
    })?
}

/// `fsync` of a directory (makes the entries created in it durable).
fn sync_dir(dir: &Path) -> Result<(), ArchiveError> {
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(ArchiveError::io("sync the directory", dir))
}

#[cfg(test)]
#[path = "objects_tests.rs"]
mod tests;
