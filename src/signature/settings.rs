//! `[sources.signature]`: how a Vapi source's pushes are authenticated.
//! Vapi lets each server URL choose: its legacy secret header
//! (`X-Vapi-Secret`, the default here), a Bearer credential, or an HMAC
//! credential whose header, timestamp header, payload, algorithm, encoding
//! and prefix are all settings (docs.vapi.ai/server-url/server-authentication).
//! Retell and Bland have one fixed scheme each and take no table.

use serde::{Deserialize, Serialize};
use std::time::Duration;

/// `[sources.signature]` as written; every key has Vapi's default.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SignatureConfig {
    /// `secret-header` (default: the header carries the secret itself),
    /// `bearer` (`Authorization: Bearer <secret>`) or `hmac`.
    #[serde(default = "default_scheme")]
    pub scheme: String,
    /// The header that carries the secret or signature; default
    /// `x-vapi-secret` (secret-header), `authorization` (bearer) or
    /// `x-signature` (hmac).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub header: Option<String>,
    /// hmac: the header with the timestamp (default `x-timestamp`; `""`
    /// when Vapi is set not to send one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp_header: Option<String>,
    /// hmac: what is signed; `{timestamp}` and `{body}` are replaced
    /// (default `{timestamp}.{body}`, or `{body}` without a timestamp header).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload: Option<String>,
    /// hmac: `sha256` (default), `sha512` or `sha1`.
    #[serde(default = "default_algorithm")]
    pub algorithm: String,
    /// hmac: `hex` (default) or `base64`.
    #[serde(default = "default_encoding")]
    pub encoding: String,
    /// hmac: text before the digest in the header, e.g. `sha256=`.
    #[serde(default)]
    pub prefix: String,
    /// hmac: the secret is base64 and signs as its decoded bytes.
    #[serde(default)]
    pub secret_is_base64: bool,
    /// hmac with a timestamp: how far the timestamp may be from now; default 5 min.
    #[serde(
        default = "default_tolerance",
        deserialize_with = "crate::duration_text::deserialize",
        serialize_with = "crate::duration_text::serialize"
    )]
    pub tolerance: Duration,
}

impl Default for SignatureConfig {
    fn default() -> SignatureConfig {
        SignatureConfig {
            scheme: default_scheme(),
            header: None,
            timestamp_header: None,
            payload: None,
            algorithm: default_algorithm(),
            encoding: default_encoding(),
            prefix: String::new(),
            secret_is_base64: false,
            tolerance: default_tolerance(),
        }
    }
}

fn default_scheme() -> String {
    "secret-header".into()
}
fn default_algorithm() -> String {
    "sha256".into()
}
fn default_encoding() -> String {
    "hex".into()
}
/// Retell's SDK tolerance, used for every timestamped scheme by default.
pub fn default_tolerance() -> Duration {
    Duration::from_secs(300)
}
