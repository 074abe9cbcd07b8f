//! `[recordings]`: the recordings archive (docs/recordings.md). Every
//! recording link a vendor pushes is downloaded by `serve` and kept in a
//! directory or an S3-compatible bucket. Every key has a default;
//! `CALLHOOK_RECORDINGS_<KEY>` overrides the file.

use ipnet::IpNet;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The `[recordings]` table.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct RecordingsConfig {
    /// Whether `serve` downloads recordings. When false the jobs are still
    /// written (and listed), but nothing is fetched. Default true.
    pub enabled: bool,
    /// The archive directory; default `recordings` beside the SQLite
    /// database file (in the working directory on PostgreSQL).
    pub path: Option<PathBuf>,
    /// An S3-compatible bucket instead of `path`: `s3://bucket/prefix`,
    /// credentials and endpoint from the standard AWS environment
    /// (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_REGION`,
    /// `AWS_ENDPOINT_URL`).
    pub url: Option<String>,
    /// Largest recording kept, in bytes; a larger `Content-Length` is
    /// refused without reading the body. Default 200 MiB.
    pub max_bytes: u64,
    /// The longest one download may take, connect to last byte.
    /// Default 10 min.
    #[serde(
        deserialize_with = "crate::duration_text::deserialize",
        serialize_with = "crate::duration_text::serialize"
    )]
    pub timeout: Duration,
    /// Downloads at once (per instance). Default 4.
    pub concurrency: usize,
    /// How long after the push a link without a signed expiry is retried;
    /// a signed link (`Expires=`, `X-Amz-Expires=`, …) is retried until it
    /// expires, but not longer than this. Default 7 days (Alibaba's
    /// recording links live 7 days).
    #[serde(
        deserialize_with = "crate::duration_text::deserialize",
        serialize_with = "crate::duration_text::serialize"
    )]
    pub give_up_after: Duration,
    /// Private networks (CIDR) recordings may be fetched from, e.g. a
    /// recording server on the same LAN; every other loopback, private or
    /// link-local address stays refused, redirects included. Default none.
    pub allow_private_networks: Vec<IpNet>,
}

impl Default for RecordingsConfig {
    fn default() -> Self {
        RecordingsConfig {
            enabled: true,
            path: None,
            url: None,
            max_bytes: 200 * 1024 * 1024,
            timeout: Duration::from_secs(600),
            concurrency: 4,
            give_up_after: Duration::from_secs(7 * 86_400),
            allow_private_networks: Vec::new(),
        }
    }
}

impl RecordingsConfig {
    /// Checks the values.
    ///
    /// Errors: a message naming the key.
    pub fn validate(&self) -> Result<(), String> {
        if self.max_bytes == 0 {
            return Err("recordings.max_bytes: must be at least 1".into());
        }
        if self.timeout.is_zero() {
            return Err("recordings.timeout: must be longer than zero".into());
        }
        if self.concurrency == 0 || self.concurrency > 256 {
            return Err("recordings.concurrency: must be between 1 and 256".into());
        }
        if self.give_up_after.is_zero() {
            return Err("recordings.give_up_after: must be longer than zero".into());
        }
        if let Some(u) = &self.url {
            let rest = u
                .strip_prefix("s3://")
                .ok_or_else(|| format!("recordings.url: `{u}` is not an s3://bucket/prefix URL"))?;
            if rest.split('/').next().unwrap_or("").is_empty() {
                return Err(format!("recordings.url: `{u}` names no bucket"));
            }
        }
        Ok(())
    }

    /// The archive directory: `path`, else `recordings` beside `sqlite_file`
    /// (the SQLite database file), else `recordings` in the working
    /// directory. Also holds the `.partial` downloads when the archive is a
    /// bucket.
    pub fn dir(&self, sqlite_file: Option<&Path>) -> PathBuf {
        if let Some(p) = &self.path {
            return p.clone();
        }
        let beside = sqlite_file
            .and_then(Path::parent)
            .filter(|p| !p.as_os_str().is_empty());
        match beside {
            Some(dir) => dir.join("recordings"),
            None => PathBuf::from("recordings"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_the_directory_sits_beside_the_database() {
        let c = RecordingsConfig::default();
        c.validate().unwrap();
        assert_eq!(
            c.dir(Some(Path::new("/var/lib/callhook/callhook.db"))),
            PathBuf::from("/var/lib/callhook/recordings")
        );
        assert_eq!(
            c.dir(Some(Path::new("callhook.db"))),
            PathBuf::from("recordings")
        );
        assert_eq!(c.dir(None), PathBuf::from("recordings"));
    }

    #[test]
    fn bad_values_name_their_key() {
        let bad = [
            RecordingsConfig {
                max_bytes: 0,
                ..Default::default()
            },
            RecordingsConfig {
                concurrency: 0,
                ..Default::default()
            },
            RecordingsConfig {
                url: Some("https://bucket".into()),
                ..Default::default()
            },
            RecordingsConfig {
                url: Some("s3:///prefix".into()),
                ..Default::default()
            },
        ];
        for (c, key) in bad.iter().zip(["max_bytes", "concurrency", "url", "url"]) {
            let e = c.validate().unwrap_err();
            assert!(e.starts_with(&format!("recordings.{key}")), "{e}");
        }
    }
}
