//! `[[subscribers]]` and `[nats]`: where outbound events go
//! (docs/http-contract.md).

use crate::domain::{EventType, Vendor};
use base64::Engine;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Deserializer};
use std::time::Duration;

/// The name of the NATS JetStream target in the outbox; no subscriber may
/// take it.
pub const NATS_TARGET: &str = "nats";

/// One outbound webhook endpoint.
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct SubscriberConfig {
    /// URL-safe, unique; names the subscriber in the API, the CLI and logs.
    pub name: String,
    /// `http://` or `https://` endpoint receiving `POST`s. Refused at start
    /// when it is a loopback, private or link-local address literal, and at
    /// delivery when its host resolves to one, unless
    /// `allow_private_subscribers` is true.
    #[serde(serialize_with = "super::redact::url")]
    pub url: String,
    /// Standard Webhooks signing secrets, `whsec_` + base64 of 24–64 bytes:
    /// one string, or a list to rotate (every request is signed with each,
    /// newest first, so a receiver holding either verifies it).
    #[serde(
        deserialize_with = "secrets",
        serialize_with = "super::redact::secrets"
    )]
    pub secret: Vec<SecretString>,
    /// Event types sent; default all three.
    #[serde(default = "all_events")]
    pub events: Vec<EventType>,
    /// Only calls of these vendors; empty (the default) sends every vendor.
    #[serde(default)]
    pub vendors: Vec<Vendor>,
    /// Delay before each retry after a failed attempt; after the last one the
    /// delivery is a dead letter. Each delay is spread by ±20 % jitter.
    /// Default 5s, 5m, 30m, 2h, 5h, 10h, 14h, 20h, 24h.
    #[serde(
        default = "default_retry_schedule",
        deserialize_with = "crate::duration_text::deserialize_list",
        serialize_with = "crate::duration_text::serialize_list"
    )]
    pub retry_schedule: Vec<Duration>,
    /// How long one request may take (connect to last body byte); longer is
    /// a failed attempt. Default 15 s.
    #[serde(
        default = "default_timeout",
        deserialize_with = "crate::duration_text::deserialize",
        serialize_with = "crate::duration_text::serialize"
    )]
    pub timeout: Duration,
    /// Requests in flight to this subscriber at once (different calls; one
    /// call's events are always sent one after another). Default 16.
    #[serde(default = "default_max_in_flight")]
    pub max_in_flight: usize,
}

impl SubscriberConfig {
    /// Whether an event of `event` type about a `vendor` call goes here.
    pub fn wants(&self, event: EventType, vendor: Vendor) -> bool {
        self.events.contains(&event) && (self.vendors.is_empty() || self.vendors.contains(&vendor))
    }
}

/// `[nats]`: publish every event to a JetStream stream.
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct NatsConfig {
    /// Server URL; default `nats://127.0.0.1:4222`.
    #[serde(default = "default_nats_url", serialize_with = "super::redact::url")]
    pub url: String,
    /// Stream name, created at start when missing with subjects
    /// `<subject_prefix>.>`; default `CALLHOOK`.
    #[serde(default = "default_stream")]
    pub stream: String,
    /// First token of every subject, `<prefix>.<vendor>.<event type>`
    /// (e.g. `callhook.aliyun.call.created`); default `callhook`.
    #[serde(default = "default_subject_prefix")]
    pub subject_prefix: String,
    /// As for subscribers; default the same schedule.
    #[serde(
        default = "default_retry_schedule",
        deserialize_with = "crate::duration_text::deserialize_list",
        serialize_with = "crate::duration_text::serialize_list"
    )]
    pub retry_schedule: Vec<Duration>,
    /// How long one publish may wait for the stream's acknowledgement; default 5 s.
    #[serde(
        default = "default_nats_timeout",
        deserialize_with = "crate::duration_text::deserialize",
        serialize_with = "crate::duration_text::serialize"
    )]
    pub timeout: Duration,
}

/// The default retry schedule (docs/delivery.md).
pub fn default_retry_schedule() -> Vec<Duration> {
    [
        5,
        5 * 60,
        30 * 60,
        2 * 3600,
        5 * 3600,
        10 * 3600,
        14 * 3600,
        20 * 3600,
        24 * 3600,
    ]
    .into_iter()
    .map(Duration::from_secs)
    .collect()
}

fn all_events() -> Vec<EventType> {
    EventType::ALL.to_vec()
}
fn default_timeout() -> Duration {
    Duration::from_secs(15)
}
fn default_max_in_flight() -> usize {
    16
}
fn default_nats_url() -> String {
    "nats://127.0.0.1:4222".to_owned()
}
fn default_stream() -> String {
    "CALLHOOK".to_owned()
}
fn default_subject_prefix() -> String {
    "callhook".to_owned()
}
fn default_nats_timeout() -> Duration {
    Duration::from_secs(5)
}

pub(super) fn secrets<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<SecretString>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(SecretString),
        Many(Vec<SecretString>),
    }
    Ok(match OneOrMany::deserialize(d)? {
        OneOrMany::One(s) => vec![s],
        OneOrMany::Many(v) => v,
    })
}

/// The key bytes of a `whsec_` secret.
///
/// Errors: a message saying what is wrong (never the secret itself).
pub fn secret_key(secret: &SecretString) -> Result<Vec<u8>, String> {
    let text = secret.expose_secret();
    let b64 = text
        .strip_prefix("whsec_")
        .ok_or("must start with `whsec_` (Standard Webhooks)")?;
    let key = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .map_err(|e| format!("the part after `whsec_` is not base64: {e}"))?;
    if !(24..=64).contains(&key.len()) {
        return Err(format!(
            "decodes to {} bytes; Standard Webhooks secrets are 24 to 64 bytes",
            key.len()
        ));
    }
    Ok(key)
}

/// Checks every subscriber and `[nats]`.
///
/// Errors: a message naming the subscriber and key (`subscribers[0] (`crm`).url: …`).
pub fn validate(
    subscribers: &[SubscriberConfig],
    nats: Option<&NatsConfig>,
    allow_private: bool,
) -> Result<(), String> {
    let mut seen = std::collections::HashSet::new();
    for (i, s) in subscribers.iter().enumerate() {
        let at = format!("subscribers[{i}] (`{}`)", s.name);
        if !super::url_safe(&s.name) {
            return Err(format!(
                "{at}.name: must be non-empty and use only A-Z a-z 0-9 - _ ."
            ));
        }
        if s.name == NATS_TARGET {
            return Err(format!(
                "{at}.name: `{NATS_TARGET}` is reserved for the [nats] stream"
            ));
        }
        if !seen.insert(s.name.as_str()) {
            return Err(format!("{at}.name: duplicate subscriber name"));
        }
        webhook_endpoint(&at, &s.url, &s.secret, allow_private)?;
        if s.events.is_empty() {
            return Err(format!("{at}.events: empty; list at least one event type"));
        }
        if s.timeout.is_zero() {
            return Err(format!("{at}.timeout: must be longer than zero"));
        }
        if s.max_in_flight == 0 {
            return Err(format!("{at}.max_in_flight: must be at least 1"));
        }
    }
    if let Some(n) = nats {
        if n.stream.is_empty()
            || !n
                .stream
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(format!(
                "nats.stream: `{}` must use only A-Z a-z 0-9 - _",
                n.stream
            ));
        }
        if n.subject_prefix.is_empty()
            || !n
                .subject_prefix
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(format!(
                "nats.subject_prefix: `{}` must be one subject token (A-Z a-z 0-9 - _)",
                n.subject_prefix
            ));
        }
        if n.timeout.is_zero() {
            return Err("nats.timeout: must be longer than zero".into());
        }
    }
    Ok(())
}

/// Checks a signed webhook endpoint (a subscriber's or an alert
/// channel's): `url` is http(s) with a host, not a private address literal
/// unless `allow_private`, and `secrets` holds at least one valid
/// `whsec_` secret.
///
/// Errors: a message starting with `{at}.url` or `{at}.secret`.
pub(super) fn webhook_endpoint(
    at: &str,
    url: &str,
    secrets: &[SecretString],
    allow_private: bool,
) -> Result<(), String> {
    let url = reqwest::Url::parse(url).map_err(|e| format!("{at}.url: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(format!(
            "{at}.url: must be an http:// or https:// URL with a host"
        ));
    }
    if !allow_private {
        if let Some(reason) = crate::address_policy::literal_refusal(&url) {
            return Err(format!(
                "{at}.url: {reason}; set allow_private_subscribers = true to allow it"
            ));
        }
    }
    if secrets.is_empty() {
        return Err(format!("{at}.secret: give at least one whsec_ secret"));
    }
    for (j, secret) in secrets.iter().enumerate() {
        secret_key(secret).map_err(|e| format!("{at}.secret[{j}]: {e}"))?;
    }
    Ok(())
}
