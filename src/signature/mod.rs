//! Vendor signatures on pushes: checked before anything of a push is
//! stored, and made by `callhook simulate` so that each vendor can be played
//! end to end. One [`Signer`] per source of a signed kind:
//!
//! - Retell (`retell-call-event`): `X-Retell-Signature: v=<epoch ms>,d=<hex>`,
//!   the HMAC-SHA256 of the raw body followed by the timestamp's digits,
//!   keyed with the API key; the timestamp within 5 minutes of now
//!   (docs.retellai.com/features/secure-webhook; Retell's SDK `verify`).
//! - Bland (`bland-call`): `X-Webhook-Signature: <hex>`, the HMAC-SHA256 of
//!   the raw body keyed with the webhook signing secret
//!   (docs.bland.ai/tutorials/webhook-signing).
//! - Vapi (`vapi-end-of-call-report`): the `X-Vapi-Secret` header, a Bearer
//!   token, or an HMAC as the source's `[sources.signature]` says.
//!
//! Digests are compared in constant time; the secret is never logged.

mod settings;

use crate::domain::SourceKind;
use base64::Engine;
use hmac::{Hmac, Mac};
use jiff::Timestamp;
use secrecy::{ExposeSecret, SecretSlice, SecretString};
pub use settings::SignatureConfig;
use std::time::Duration;

/// The Retell header.
pub const RETELL_HEADER: &str = "x-retell-signature";
/// The Bland header.
pub const BLAND_HEADER: &str = "x-webhook-signature";
/// Vapi's legacy secret header.
pub const VAPI_SECRET_HEADER: &str = "x-vapi-secret";

/// Why a push's signature was refused (answered 401; nothing stored).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("missing {0} header (this source checks the vendor's signature)")]
    Missing(String),
    #[error("{header} header is malformed: {why}")]
    Malformed { header: String, why: String },
    #[error("signature timestamp is {age_s} s from now (allowed: {tolerance_s} s); a replay or a wrong clock")]
    Stale { age_s: i64, tolerance_s: u64 },
    #[error("{0} does not match: wrong secret, or the body was changed on the way")]
    Mismatch(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Algorithm {
    Sha1,
    Sha256,
    Sha512,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Scheme {
    Retell,
    Bland,
    /// The header's value is the secret itself (optionally after `Bearer `).
    Secret {
        header: String,
        bearer: bool,
    },
    Hmac(HmacScheme),
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct HmacScheme {
    header: String,
    timestamp_header: Option<String>,
    payload: String,
    algorithm: Algorithm,
    base64: bool,
    prefix: String,
}

/// Checks and makes one source's signatures.
#[derive(Clone)]
pub struct Signer {
    scheme: Scheme,
    /// The HMAC key, or the expected header value: the secret's bytes
    /// (base64-decoded once here when Vapi's `secret_is_base64` is set).
    key: SecretSlice<u8>,
    tolerance: Duration,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signer")
            .field("scheme", &self.scheme)
            .field("secret", &"<redacted>")
            .finish()
    }
}

impl Signer {
    /// The signer of a `kind` source with `secret`; `settings` is Vapi's
    /// `[sources.signature]` (default: the `X-Vapi-Secret` header).
    ///
    /// Errors: a message naming the key for a kind that is not signed, a
    /// table on Retell or Bland, or an unknown scheme, algorithm, encoding,
    /// placeholder, or a base64 secret that does not decode.
    pub fn new(
        kind: SourceKind,
        secret: SecretString,
        settings: Option<&SignatureConfig>,
    ) -> Result<Signer, String> {
        let default = SignatureConfig::default();
        let tolerance = settings.map_or(default.tolerance, |s| s.tolerance);
        let scheme = match (kind, settings) {
            (SourceKind::RetellCallEvent, None) => Scheme::Retell,
            (SourceKind::BlandCall, None) => Scheme::Bland,
            (SourceKind::VapiEndOfCallReport, s) => vapi(s.unwrap_or(&default))?,
            (SourceKind::RetellCallEvent | SourceKind::BlandCall, Some(_)) => {
                return Err(format!(
                    "signature: {kind} has one signature scheme; remove [sources.signature]"
                ))
            }
            _ => return Err(format!("secret: {kind} pushes are not signed; use `token`")),
        };
        let base64_key =
            matches!(scheme, Scheme::Hmac(_)) && settings.is_some_and(|s| s.secret_is_base64);
        let key = if base64_key {
            base64::engine::general_purpose::STANDARD
                .decode(secret.expose_secret())
                .map_err(|e| {
                    format!("secret: secret_is_base64 is set but the secret is not base64 ({e})")
                })?
        } else {
            secret.expose_secret().as_bytes().to_vec()
        };
        Ok(Signer {
            scheme,
            key: key.into(),
            tolerance,
        })
    }

    /// Checks `body` against the signature in `header(name)` at `now`.
    ///
    /// Errors: [`SignatureError`]: the header missing, malformed, a
    /// timestamp outside the tolerance, or a digest that does not match.
    pub fn verify<'h>(
        &self,
        header: impl Fn(&str) -> Option<&'h str>,
        body: &[u8],
        now: Timestamp,
    ) -> Result<(), SignatureError> {
        let need =
            |name: &str| header(name).ok_or_else(|| SignatureError::Missing(name.to_owned()));
        match &self.scheme {
            Scheme::Retell => {
                let v = need(RETELL_HEADER)?;
                let malformed = |why: &str| SignatureError::Malformed {
                    header: RETELL_HEADER.into(),
                    why: why.into(),
                };
                let (ts, digest) = v
                    .trim()
                    .strip_prefix("v=")
                    .and_then(|rest| rest.split_once(",d="))
                    .ok_or_else(|| malformed("expected v=<timestamp>,d=<hex digest>"))?;
                let ts_ms: i64 = ts
                    .parse()
                    .map_err(|_| malformed("the timestamp is not a number"))?;
                self.fresh(ts_ms, now)?;
                let expected = hex_digest(Algorithm::Sha256, self.key(), &[body, ts.as_bytes()]);
                let given = digest.to_ascii_lowercase();
                matches(expected.as_bytes(), given.as_bytes(), RETELL_HEADER)
            }
            Scheme::Bland => {
                let v = need(BLAND_HEADER)?;
                let expected = hex_digest(Algorithm::Sha256, self.key(), &[body]);
                let given = v.trim().to_ascii_lowercase();
                matches(expected.as_bytes(), given.as_bytes(), BLAND_HEADER)
            }
            Scheme::Secret {
                header: name,
                bearer,
            } => {
                let v = need(name)?.trim();
                let given = if *bearer {
                    v.strip_prefix("Bearer ")
                        .or_else(|| v.strip_prefix("bearer "))
                        .unwrap_or("")
                } else {
                    v
                };
                matches(self.key(), given.as_bytes(), name)
            }
            Scheme::Hmac(h) => {
                let v = need(&h.header)?.trim();
                let ts = match &h.timestamp_header {
                    None => None,
                    Some(name) => {
                        let t = need(name)?.trim();
                        let n: i64 = t.parse().map_err(|_| SignatureError::Malformed {
                            header: name.clone(),
                            why: "expected epoch seconds or milliseconds".into(),
                        })?;
                        // Vapi does not document the unit: told apart by magnitude.
                        self.fresh(if n >= 100_000_000_000 { n } else { n * 1000 }, now)?;
                        Some(t)
                    }
                };
                let given =
                    v.strip_prefix(h.prefix.as_str())
                        .ok_or_else(|| SignatureError::Malformed {
                            header: h.header.clone(),
                            why: format!("expected the prefix `{}`", h.prefix),
                        })?;
                let expected = self.hmac_digest(h, body, ts.unwrap_or(""));
                let given = if h.base64 {
                    given.to_owned()
                } else {
                    given.to_ascii_lowercase()
                };
                matches(expected.as_bytes(), given.as_bytes(), &h.header)
            }
        }
    }

    /// The headers a vendor would send with `body` at `now` (for `callhook simulate`).
    pub fn sign(&self, body: &[u8], now: Timestamp) -> Vec<(String, String)> {
        let ms = now.as_millisecond();
        match &self.scheme {
            Scheme::Retell => {
                let ts = ms.to_string();
                let d = hex_digest(Algorithm::Sha256, self.key(), &[body, ts.as_bytes()]);
                vec![(RETELL_HEADER.into(), format!("v={ts},d={d}"))]
            }
            Scheme::Bland => vec![(
                BLAND_HEADER.into(),
                hex_digest(Algorithm::Sha256, self.key(), &[body]),
            )],
            Scheme::Secret { header, bearer } => {
                let s = String::from_utf8_lossy(self.key());
                let v = if *bearer {
                    format!("Bearer {s}")
                } else {
                    s.into_owned()
                };
                vec![(header.clone(), v)]
            }
            Scheme::Hmac(h) => {
                let ts = ms.to_string();
                let mut out = vec![(
                    h.header.clone(),
                    format!("{}{}", h.prefix, self.hmac_digest(h, body, &ts)),
                )];
                if let Some(name) = &h.timestamp_header {
                    out.push((name.clone(), ts));
                }
                out
            }
        }
    }

    fn key(&self) -> &[u8] {
        self.key.expose_secret()
    }

    fn fresh(&self, ts_ms: i64, now: Timestamp) -> Result<(), SignatureError> {
        let age_ms = now.as_millisecond().saturating_sub(ts_ms);
        if age_ms.unsigned_abs() > self.tolerance.as_millis() as u64 {
            return Err(SignatureError::Stale {
                age_s: age_ms / 1000,
                tolerance_s: self.tolerance.as_secs(),
            });
        }
        Ok(())
    }

    fn hmac_digest(&self, h: &HmacScheme, body: &[u8], ts: &str) -> String {
        // `{body}` is the raw bytes: the payload is assembled as bytes.
        let mut parts: Vec<&[u8]> = Vec::new();
        let mut rest = h.payload.as_str();
        while let Some(i) = rest.find('{') {
            parts.push(&rest.as_bytes()[..i]);
            let after = &rest[i..];
            if let Some(r) = after.strip_prefix("{body}") {
                parts.push(body);
                rest = r;
            } else if let Some(r) = after.strip_prefix("{timestamp}") {
                parts.push(ts.as_bytes());
                rest = r;
            } else if let Some(r) = after.strip_prefix("{method}") {
                parts.push(b"POST");
                rest = r;
            } else {
                parts.push(b"{");
                rest = &after[1..];
            }
        }
        parts.push(rest.as_bytes());
        let raw = digest(h.algorithm, self.key(), &parts);
        if h.base64 {
            base64::engine::general_purpose::STANDARD.encode(raw)
        } else {
            hex::encode(raw)
        }
    }
}

fn vapi(s: &SignatureConfig) -> Result<Scheme, String> {
    Ok(match s.scheme.as_str() {
        "secret-header" => Scheme::Secret {
            header: lower(s.header.as_deref().unwrap_or(VAPI_SECRET_HEADER)),
            bearer: false,
        },
        "bearer" => Scheme::Secret {
            header: lower(s.header.as_deref().unwrap_or("authorization")),
            bearer: true,
        },
        "hmac" => {
            let timestamp_header = match s.timestamp_header.as_deref() {
                None => Some("x-timestamp".to_owned()),
                Some("") => None,
                Some(h) => Some(lower(h)),
            };
            let payload = s.payload.clone().unwrap_or_else(|| {
                if timestamp_header.is_some() {
                    "{timestamp}.{body}"
                } else {
                    "{body}"
                }
                .to_owned()
            });
            for p in ["{url}", "{svix-id}"] {
                if payload.contains(p) {
                    return Err(format!(
                        "signature.payload: {p} is not supported (callhook cannot know the URL or message id Vapi used); use {{timestamp}}, {{body}} and {{method}}"
                    ));
                }
            }
            if payload.contains("{timestamp}") && timestamp_header.is_none() {
                return Err(
                    "signature.payload: uses {timestamp} but timestamp_header is \"\"".into(),
                );
            }
            Scheme::Hmac(HmacScheme {
                header: lower(s.header.as_deref().unwrap_or("x-signature")),
                timestamp_header,
                payload,
                algorithm: match s.algorithm.as_str() {
                    "sha256" => Algorithm::Sha256,
                    "sha512" => Algorithm::Sha512,
                    "sha1" => Algorithm::Sha1,
                    a => {
                        return Err(format!(
                            "signature.algorithm: `{a}` (expected sha256, sha512 or sha1)"
                        ))
                    }
                },
                base64: match s.encoding.as_str() {
                    "hex" => false,
                    "base64" => true,
                    e => {
                        return Err(format!(
                            "signature.encoding: `{e}` (expected hex or base64)"
                        ))
                    }
                },
                prefix: s.prefix.clone(),
            })
        }
        other => {
            return Err(format!(
                "signature.scheme: `{other}` (expected secret-header, bearer or hmac)"
            ))
        }
    })
}

fn lower(h: &str) -> String {
    h.to_ascii_lowercase()
}

fn matches(expected: &[u8], given: &[u8], header: &str) -> Result<(), SignatureError> {
    if subtle::ConstantTimeEq::ct_eq(expected, given).into() {
        Ok(())
    } else {
        Err(SignatureError::Mismatch(header.to_owned()))
    }
}

fn hex_digest(alg: Algorithm, key: &[u8], parts: &[&[u8]]) -> String {
    hex::encode(digest(alg, key, parts))
}

fn digest(alg: Algorithm, key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
    fn run<M: Mac + hmac::digest::KeyInit>(key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
        let mut mac = <M as hmac::digest::KeyInit>::new_from_slice(key)
            .expect("HMAC takes a key of any length");
        for p in parts {
            mac.update(p);
        }
        mac.finalize().into_bytes().to_vec()
    }
    match alg {
        Algorithm::Sha1 => run::<Hmac<sha1::Sha1>>(key, parts),
        Algorithm::Sha256 => run::<Hmac<sha2::Sha256>>(key, parts),
        Algorithm::Sha512 => run::<Hmac<sha2::Sha512>>(key, parts),
    }
}

#[cfg(test)]
mod tests;
