//! The webhook [`Sink`]: one subscriber's endpoint, sent Standard Webhooks
//! requests (docs/http-contract.md; the scheme is
//! <https://www.standardwebhooks.com/>) through a client that follows no
//! redirect and, unless private subscribers are allowed, connects only to
//! public addresses ([`GuardedResolver`]).

mod response;

pub use response::parse_retry_after;

use super::signing::sign;
use super::ssrf::{literal_refusal, GuardedResolver};
use super::{SendResult, Sink};
use crate::config::{secret_key, SubscriberConfig};
use crate::storage::OutboundMessage;
use async_trait::async_trait;
use reqwest::header::{HeaderValue, CONTENT_TYPE};
use std::sync::Arc;
use std::time::Duration;

/// The `User-Agent` of every request: `callhook/<crate version>`.
pub const USER_AGENT: &str = concat!("callhook/", env!("CARGO_PKG_VERSION"));

/// Why a [`WebhookSink`] could not be built from a subscriber's settings.
/// Messages name the subscriber and never show a secret.
#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    /// The URL does not parse, or is not `http(s)://` with a host.
    #[error("subscriber `{subscriber}`: url: {reason}")]
    InvalidUrl { subscriber: String, reason: String },
    /// No signing secret was given.
    #[error("subscriber `{subscriber}`: secret: give at least one whsec_ secret")]
    NoSecret { subscriber: String },
    /// The secret at `index` (0 = newest) is not a valid `whsec_` secret.
    #[error("subscriber `{subscriber}`: secret[{index}]: {reason}")]
    InvalidSecret {
        subscriber: String,
        index: usize,
        reason: String,
    },
    /// reqwest could not build the client (e.g. TLS roots unavailable).
    #[error("subscriber `{subscriber}`: cannot build the HTTP client: {source}")]
    Client {
        subscriber: String,
        #[source]
        source: reqwest::Error,
    },
}

/// Sends events to one `[[subscribers]]` endpoint: each attempt is one
/// `POST` of the event's exact JSON payload with the headers
/// `content-type: application/json`, `webhook-id` (the event id),
/// `webhook-timestamp` (the send time, whole seconds since the Unix epoch)
/// and `webhook-signature` (one `v1,` signature per secret, newest first;
/// [`sign`]).
///
/// Outcomes ([`SendResult`]): 2xx is delivered; 410 is gone; any other
/// status (3xx included: redirects are never followed) fails with
/// `HTTP <status>: <first 200 characters of the body>`, and `Retry-After`
/// (seconds or an HTTP-date, capped at 24 h) is kept; a timeout fails with
/// `timed out after <timeout>`; a connect, resolve or refused-address error
/// fails with its cause chain. Only the first 64 KiB of a body is read.
pub struct WebhookSink {
    name: String,
    url: reqwest::Url,
    keys: Vec<Vec<u8>>,
    timeout: Duration,
    allow_private: bool,
    client: reqwest::Client,
}

impl std::fmt::Debug for WebhookSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookSink")
            .field("name", &self.name)
            .field(
                "url",
                &crate::config::redact::endpoint_text(self.url.as_str()),
            )
            .field("keys", &format_args!("[{} redacted]", self.keys.len()))
            .field("timeout", &self.timeout)
            .field("allow_private", &self.allow_private)
            .finish_non_exhaustive()
    }
}

impl WebhookSink {
    /// A sink for `config` (its `url`, `secret`s and `timeout`: the whole
    /// request, connect to last body byte). `allow_private` is the
    /// configuration's `allow_private_subscribers`: when false, host names
    /// resolve through [`GuardedResolver`] and address literals are
    /// refused at every send. The system's HTTP proxy settings are ignored
    /// (a proxy would hide the address really connected to).
    ///
    /// Errors: [`WebhookError`] for an unusable URL or secret, or a client
    /// that cannot be built.
    pub fn new(
        config: &SubscriberConfig,
        allow_private: bool,
    ) -> Result<WebhookSink, WebhookError> {
        let subscriber = config.name.clone();
        let url = reqwest::Url::parse(&config.url).map_err(|e| WebhookError::InvalidUrl {
            subscriber: subscriber.clone(),
            reason: e.to_string(),
        })?;
        if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
            return Err(WebhookError::InvalidUrl {
                subscriber,
                reason: "must be an http:// or https:// URL with a host".to_owned(),
            });
        }
        if config.secret.is_empty() {
            return Err(WebhookError::NoSecret { subscriber });
        }
        let keys = config
            .secret
            .iter()
            .enumerate()
            .map(|(index, secret)| {
                secret_key(secret).map_err(|reason| WebhookError::InvalidSecret {
                    subscriber: subscriber.clone(),
                    index,
                    reason,
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let mut builder = reqwest::Client::builder()
            .timeout(config.timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(USER_AGENT)
            .no_proxy();
        if !allow_private {
            builder = builder.dns_resolver(Arc::new(GuardedResolver));
        }
        let client = builder.build().map_err(|source| WebhookError::Client {
            subscriber: subscriber.clone(),
            source,
        })?;
        Ok(WebhookSink {
            name: subscriber,
            url,
            keys,
            timeout: config.timeout,
            allow_private,
            client,
        })
    }

    /// The subscriber's name.
    pub fn name(&self) -> &str {
        &self.name
    }
}

#[async_trait]
impl Sink for WebhookSink {
    async fn send(&self, message: &OutboundMessage) -> SendResult {
        self.send_body(&message.event_id, &message.payload).await
    }
}

impl WebhookSink {
    /// One signed `POST` of `payload` with `webhook-id: id`, as [`Sink::send`]
    /// sends an event (alert notifications use it too).
    pub async fn send_body(&self, id: &str, payload: &str) -> SendResult {
        // Address literals never reach the resolver, so they are checked
        // here; host names (`localhost` included) are checked on the
        // addresses they resolve to.
        let literal = matches!(
            self.url.host(),
            Some(url::Host::Ipv4(_) | url::Host::Ipv6(_))
        );
        if !self.allow_private && literal {
            if let Some(reason) = literal_refusal(&self.url) {
                return response::failed(format!(
                    "refused address: {reason}; set allow_private_subscribers = true to allow it"
                ));
            }
        }
        let event_id = match HeaderValue::from_str(id) {
            Ok(v) => v,
            Err(_) => {
                return response::failed(format!(
                    "the event id {id:?} cannot be a webhook-id header"
                ))
            }
        };
        let timestamp = jiff::Timestamp::now().as_second();
        let signature = sign(&self.keys, id, timestamp, payload.as_bytes());
        let request = self
            .client
            .post(self.url.clone())
            .header(CONTENT_TYPE, "application/json")
            .header("webhook-id", event_id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .body(payload.to_owned());
        match request.send().await {
            Ok(resp) => response::classify(resp, jiff::Timestamp::now(), Some(self.timeout)).await,
            Err(e) => response::failed(response::describe(e, Some(self.timeout))),
        }
    }
}

#[cfg(test)]
mod tests;
