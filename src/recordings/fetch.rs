//! Downloading one recording: a `GET` through a client that follows no
//! redirect by itself and connects only where the SSRF guard allows
//! ([`crate::recordings::guard`]); redirects are followed here, each hop
//! checked before it is requested. The body is streamed to a temporary
//! file (`<ulid>.partial` in the temporary directory) while its SHA-256 is
//! computed, so memory stays bounded whatever the file's size.
//!
//! Failure details name the host only: a signed URL's query is a secret.

use super::guard::{check_url, RecordingResolver};
use crate::worker::ssrf::ResolveError;
use ipnet::IpNet;
use reqwest::header::{CONTENT_LENGTH, CONTENT_TYPE, LOCATION};
use reqwest::{Response, StatusCode, Url};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncWriteExt, BufWriter};

/// The `User-Agent` of every download: `callhook/<crate version>`.
pub const USER_AGENT: &str = concat!("callhook/", env!("CARGO_PKG_VERSION"));

/// The file name suffix of downloads (finished ones too, until the
/// caller moves them): what [`sweep_partials`] removes.
pub const PARTIAL_SUFFIX: &str = ".partial";

/// Bytes buffered before each write to the temporary file.
const WRITE_BUFFER: usize = 64 * 1024;

/// How a [`Fetcher`] downloads.
#[derive(Debug, Clone)]
pub struct FetchOptions {
    /// The whole download, first connection to last body byte, redirects
    /// included; past it the download fails with [`FailureReason::Timeout`].
    pub timeout: Duration,
    /// Each TCP (and TLS) connection.
    pub connect_timeout: Duration,
    /// The largest recording accepted, in bytes.
    pub max_bytes: u64,
    /// Private networks that may be connected to anyway
    /// (`recordings.allow_private_networks`; empty: public addresses only).
    pub allow_private_networks: Vec<IpNet>,
    /// Redirects followed (301, 302, 303, 307, 308) before giving up.
    pub max_redirects: usize,
    /// Where downloads are written (created when missing).
    pub tmp_dir: PathBuf,
}

/// A finished download.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fetched {
    /// The file, in the temporary directory, synced to disk: the caller
    /// moves or deletes it.
    pub path: PathBuf,
    /// Its size in bytes.
    pub bytes: u64,
    /// Its SHA-256, 64 lowercase hex digits.
    pub sha256: String,
    /// The response's `Content-Type`, when it had a readable one.
    pub content_type: Option<String>,
}

/// Why a download failed, as a metrics label ([`FailureReason::as_str`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FailureReason {
    /// HTTP 404.
    NotFound,
    /// HTTP 410.
    Gone,
    /// HTTP 401 or 403: typical of an expired signed URL.
    Forbidden,
    /// Over `max_bytes`, declared by `Content-Length` or counted.
    TooLarge,
    /// The SSRF guard refused an address (of the URL or of a redirect).
    Refused,
    /// Any other HTTP status that is not a success, or too many redirects.
    Http,
    /// The whole download took longer than its timeout.
    Timeout,
    /// Connecting, resolving, TLS, or the connection broke mid-body.
    Network,
    /// Not an `http(s)://` URL with a host (or a redirect to one).
    BadUrl,
    /// The temporary file could not be written or synced.
    Io,
}

impl FailureReason {
    /// The snake_case label: `not_found`, `gone`, `forbidden`,
    /// `too_large`, `refused`, `http`, `timeout`, `network`, `bad_url`, `io`.
    pub fn as_str(self) -> &'static str {
        match self {
            FailureReason::NotFound => "not_found",
            FailureReason::Gone => "gone",
            FailureReason::Forbidden => "forbidden",
            FailureReason::TooLarge => "too_large",
            FailureReason::Refused => "refused",
            FailureReason::Http => "http",
            FailureReason::Timeout => "timeout",
            FailureReason::Network => "network",
            FailureReason::BadUrl => "bad_url",
            FailureReason::Io => "io",
        }
    }

    /// Whether trying again later may help: false for `TooLarge`,
    /// `Refused` and `BadUrl` (final), true for the others (tried again
    /// until the link's deadline).
    pub fn retryable(self) -> bool {
        !matches!(
            self,
            FailureReason::TooLarge | FailureReason::Refused | FailureReason::BadUrl
        )
    }
}

impl std::fmt::Display for FailureReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A failed download.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{detail}")]
pub struct FetchFailure {
    /// What kind of failure.
    pub reason: FailureReason,
    /// Human-readable, naming the host but never the query, e.g.
    /// `HTTP 404 Not Found from rec.example.com`.
    pub detail: String,
    /// The HTTP status, when a response was received.
    pub http_status: Option<u16>,
}

impl FetchFailure {
    fn new(reason: FailureReason, detail: String, http_status: Option<u16>) -> FetchFailure {
        FetchFailure {
            reason,
            detail,
            http_status,
        }
    }

    fn io(what: &str, path: &Path, e: &std::io::Error) -> FetchFailure {
        let detail = format!("cannot {what} {}: {e}", path.display());
        FetchFailure::new(FailureReason::Io, detail, None)
    }
}

/// Downloads recordings ([`Fetcher::fetch`]); one per process, shared.
#[derive(Debug, Clone)]
pub struct Fetcher {
    client: reqwest::Client,
    options: Arc<FetchOptions>,
}

impl Fetcher {
    /// A fetcher with its own HTTP client: no proxy (a proxy would hide
    /// the address really connected to), no automatic redirect, no
    /// decompression (sizes are the bytes sent), host names resolved
    /// through [`RecordingResolver`].
    ///
    /// Errors: reqwest's, when the client cannot be built (TLS roots).
    pub fn new(options: FetchOptions) -> Result<Fetcher, reqwest::Error> {
        let resolver = RecordingResolver {
            allow: options.allow_private_networks.clone(),
        };
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .no_gzip()
            .no_brotli()
            .no_deflate()
            .no_zstd()
            .connect_timeout(options.connect_timeout)
            .timeout(options.timeout)
            .user_agent(USER_AGENT)
            .dns_resolver(Arc::new(resolver))
            .build()?;
        Ok(Fetcher {
            client,
            options: Arc::new(options),
        })
    }

    /// The options it was built with.
    pub fn options(&self) -> &FetchOptions {
        &self.options
    }

    /// Downloads `url` into a new `<ulid>.partial` file of the temporary
    /// directory, following up to `max_redirects` redirects.
    ///
    /// Errors ([`FetchFailure`]): `BadUrl` for a URL (or redirect target)
    /// that is not `http(s)://` with a host; `Refused` when the guard
    /// refuses an address (nothing is sent to it); `NotFound`, `Gone`,
    /// `Forbidden`, `Http` by status; `TooLarge` when `Content-Length`
    /// exceeds `max_bytes` (the body is not read) or the body passes it;
    /// `Timeout` past `timeout`; `Network`; `Io`. No file is left behind
    /// on failure.
    pub async fn fetch(&self, url: &str) -> Result<Fetched, FetchFailure> {
        let url = Url::parse(url.trim()).map_err(|e| {
            FetchFailure::new(FailureReason::BadUrl, format!("not a URL: {e}"), None)
        })?;
        let host = host_of(&url);
        match tokio::time::timeout(self.options.timeout, self.download(url)).await {
            Ok(result) => result,
            Err(_) => Err(FetchFailure::new(
                FailureReason::Timeout,
                format!(
                    "timed out after {} s downloading from {host}",
                    self.options.timeout.as_secs_f64()
                ),
                None,
            )),
        }
    }

    async fn download(&self, url: Url) -> Result<Fetched, FetchFailure> {
        let (response, host) = self.open(url).await?;
        let status = response.status();
        if !status.is_success() {
            return Err(status_failure(status, &host));
        }
        self.save(response, &host).await
    }

    /// The first response that is not a redirect, and its host.
    async fn open(&self, mut url: Url) -> Result<(Response, String), FetchFailure> {
        let mut hops = 0;
        loop {
            let host = host_of(&url);
            self.check(&url, &host)?;
            let response = self
                .client
                .get(url.clone())
                .send()
                .await
                .map_err(|e| request_failure(e, &host))?;
            let status = response.status();
            if !is_redirect(status) {
                return Ok((response, host));
            }
            if hops == self.options.max_redirects {
                let detail = format!(
                    "gave up after {hops} redirects: HTTP {status} from {host} redirects again"
                );
                return Err(FetchFailure::new(
                    FailureReason::Http,
                    detail,
                    Some(status.as_u16()),
                ));
            }
            url = redirect_target(&response, &url, &host)?;
            hops += 1;
        }
    }

    /// `BadUrl` or `Refused` for a URL that may not be requested.
    fn check(&self, url: &Url, host: &str) -> Result<(), FetchFailure> {
        if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
            let detail = format!("not an http(s) URL with a host: {}://{host}", url.scheme());
            return Err(FetchFailure::new(FailureReason::BadUrl, detail, None));
        }
        check_url(url, &self.options.allow_private_networks).map_err(|why| {
            FetchFailure::new(FailureReason::Refused, format!("refused: {why}"), None)
        })
    }

    /// Streams the body of `response` to a new temporary file.
    async fn save(&self, mut response: Response, host: &str) -> Result<Fetched, FetchFailure> {
        let max = self.options.max_bytes;
        let status = Some(response.status().as_u16());
        if let Some(declared) = declared_length(&response) {
            if declared > max {
                let detail =
                    format!("{host} declares {declared} bytes, over the limit of {max} bytes");
                return Err(FetchFailure::new(FailureReason::TooLarge, detail, status));
            }
        }
        let content_type = response
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let partial = Partial::create(&self.options.tmp_dir).await?;
        let file = tokio::fs::File::create(&partial.path)
            .await
            .map_err(|e| FetchFailure::io("create", &partial.path, &e))?;
        let mut out = BufWriter::with_capacity(WRITE_BUFFER, file);
        let mut hasher = Sha256::new();
        let mut bytes: u64 = 0;
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| body_failure(e, host, status))?
        {
            bytes = bytes.saturating_add(chunk.len() as u64);
            if bytes > max {
                let detail = format!("the body from {host} passed the limit of {max} bytes");
                return Err(FetchFailure::new(FailureReason::TooLarge, detail, status));
            }
            hasher.update(&chunk);
            out.write_all(&chunk)
                .await
                .map_err(|e| FetchFailure::io("write", &partial.path, &e))?;
        }
        out.flush()
            .await
            .map_err(|e| FetchFailure::io("write", &partial.path, &e))?;
        out.into_inner()
            .sync_all()
            .await
            .map_err(|e| FetchFailure::io("sync", &partial.path, &e))?;
        Ok(Fetched {
            path: partial.keep(),
            bytes,
            sha256: hex::encode(hasher.finalize()),
            content_type,
        })
    }
}

/// A download's temporary file, removed when dropped unless kept (so a
/// failed, cut off or timed-out download leaves nothing).
struct Partial {
    path: PathBuf,
    keep: bool,
}

impl Partial {
    async fn create(dir: &Path) -> Result<Partial, FetchFailure> {
        tokio::fs::create_dir_all(dir)
            .await
            .map_err(|e| FetchFailure::io("create the directory", dir, &e))?;
        let path = dir.join(format!("{}{PARTIAL_SUFFIX}", ulid::Ulid::new()));
        Ok(Partial { path, keep: false })
    }

    fn keep(mut self) -> PathBuf {
        self.keep = true;
        std::mem::take(&mut self.path)
    }
}

impl Drop for Partial {
    fn drop(&mut self) {
        if !self.keep {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// Removes the `*.partial` files left in `tmp_dir` (by a crash, or by a
/// caller that never moved a finished download); returns how many. A
/// missing directory is 0. Blocking: call it at start-up, before any
/// download runs (it would remove a running download's file).
///
/// Errors: listing the directory or removing a file failed.
pub fn sweep_partials(tmp_dir: &Path) -> std::io::Result<usize> {
    let entries = match std::fs::read_dir(tmp_dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(e),
    };
    let mut removed = 0;
    for entry in entries {
        let entry = entry?;
        let name = entry.file_name();
        let partial = name.to_str().is_some_and(|n| n.ends_with(PARTIAL_SUFFIX));
        if partial && entry.file_type()?.is_file() {
            std::fs::remove_file(entry.path())?;
            removed += 1;
        }
    }
    Ok(removed)
}

/// `host` or `host:port` (never the user, path or query).
fn host_of(url: &Url) -> String {
    let host = url.host_str().unwrap_or("(no host)");
    match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_owned(),
    }
}

fn is_redirect(status: StatusCode) -> bool {
    matches!(status.as_u16(), 301 | 302 | 303 | 307 | 308)
}

/// Where a redirect points, resolved against the URL that answered.
fn redirect_target(response: &Response, from: &Url, host: &str) -> Result<Url, FetchFailure> {
    let status = response.status();
    let location = response
        .headers()
        .get(LOCATION)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| {
            let detail = format!("HTTP {status} from {host} without a usable Location");
            FetchFailure::new(FailureReason::Http, detail, Some(status.as_u16()))
        })?;
    from.join(location).map_err(|e| {
        let detail = format!("HTTP {status} from {host} redirects to a bad URL: {e}");
        FetchFailure::new(FailureReason::BadUrl, detail, Some(status.as_u16()))
    })
}

/// The body size the response declares, in bytes.
fn declared_length(response: &Response) -> Option<u64> {
    response
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok())
        .or_else(|| response.content_length())
}

/// The failure for a status that is neither a success nor a redirect.
fn status_failure(status: StatusCode, host: &str) -> FetchFailure {
    let reason = match status.as_u16() {
        404 => FailureReason::NotFound,
        410 => FailureReason::Gone,
        401 | 403 => FailureReason::Forbidden,
        _ => FailureReason::Http,
    };
    let detail = format!("HTTP {status} from {host}");
    FetchFailure::new(reason, detail, Some(status.as_u16()))
}

/// The failure for a request that got no response.
fn request_failure(e: reqwest::Error, host: &str) -> FetchFailure {
    let e = e.without_url();
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&e);
    while let Some(s) = source {
        if let Some(refused @ ResolveError::Refused { .. }) = s.downcast_ref::<ResolveError>() {
            let detail = format!("refused: {refused}");
            return FetchFailure::new(FailureReason::Refused, detail, None);
        }
        source = s.source();
    }
    let reason = if e.is_timeout() {
        FailureReason::Timeout
    } else {
        FailureReason::Network
    };
    FetchFailure::new(reason, format!("{host}: {}", chain(&e)), None)
}

/// The failure for a body that broke off.
fn body_failure(e: reqwest::Error, host: &str, status: Option<u16>) -> FetchFailure {
    let e = e.without_url();
    let reason = if e.is_timeout() {
        FailureReason::Timeout
    } else {
        FailureReason::Network
    };
    let detail = format!("reading the body from {host}: {}", chain(&e));
    FetchFailure::new(reason, detail, status)
}

/// An error (its URL already removed: a signed URL's query is a secret)
/// and its causes, `: `-separated.
fn chain(e: &reqwest::Error) -> String {
    let mut parts = vec![e.to_string()];
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        let text = s.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = s.source();
    }
    parts.join(": ")
}

#[cfg(test)]
#[path = "fetch_tests.rs"]
mod tests;
