//! The NATS JetStream target (docs/http-contract.md): every event
//! is published to `<subject_prefix>.<vendor>.<event type>` on the
//! configured stream, with header `Nats-Msg-Id` = the event id, so
//! JetStream drops a repeated publish within the stream's duplicate window
//! (2 minutes by default). An attempt succeeds when the stream acknowledges
//! the message; the dispatcher retries failures on `[nats].retry_schedule`.

use super::{SendKind, SendResult, Sink};
use crate::config::NatsConfig;
use crate::domain::{EventType, Vendor};
use crate::storage::OutboundMessage;
use async_nats::jetstream::{self, stream};
use async_trait::async_trait;
use std::time::Duration;
use tokio::sync::OnceCell;

/// Why the NATS target could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum NatsError {
    /// The URL cannot be used (it is not a NATS server address).
    #[error("cannot connect to {url}: {source}")]
    Connect {
        url: String,
        #[source]
        source: async_nats::ConnectError,
    },
}

/// Publishes events to one JetStream stream. The connection is made in the
/// background and kept up by the client (a server down at start only makes
/// attempts fail until it is back); the stream is created on first use.
pub struct NatsSink {
    js: jetstream::Context,
    config: NatsConfig,
    /// Set once the stream is known to exist.
    stream_ready: OnceCell<()>,
}

/// The subject of an event: `<prefix>.<vendor>.<event type>`, e.g.
/// `callhook.aliyun.call.created` (the type's dot makes two tokens).
pub fn subject(prefix: &str, vendor: Vendor, event: EventType) -> String {
    format!("{prefix}.{vendor}.{event}")
}

/// A sink for `config`. Returns at once even when the server is down.
///
/// Errors: [`NatsError::Connect`] for an address the client cannot use.
pub async fn connect(config: &NatsConfig) -> Result<NatsSink, NatsError> {
    let client = async_nats::ConnectOptions::new()
        .retry_on_initial_connect()
        .connection_timeout(config.timeout)
        .name("callhook")
        .connect(config.url.as_str())
        .await
        .map_err(|source| NatsError::Connect {
            url: crate::config::redact::endpoint_text(&config.url),
            source,
        })?;
    let mut js = jetstream::new(client);
    js.set_timeout(config.timeout);
    Ok(NatsSink {
        js,
        config: config.clone(),
        stream_ready: OnceCell::new(),
    })
}

impl NatsSink {
    /// Creates the stream when it does not exist (an existing one is used
    /// as it is). Errors: the JetStream error, as text.
    async fn ensure_stream(&self) -> Result<(), String> {
        self.stream_ready
            .get_or_try_init(|| async {
                self.js
                    .get_or_create_stream(stream::Config {
                        name: self.config.stream.clone(),
                        subjects: vec![format!("{}.>", self.config.subject_prefix)],
                        storage: stream::StorageType::File,
                        ..Default::default()
                    })
                    .await
                    .map(|_| ())
                    .map_err(|e| format!("stream {}: {e}", self.config.stream))
            })
            .await
            .map(|_| ())
    }

    async fn publish(&self, m: &OutboundMessage) -> Result<(), String> {
        self.ensure_stream().await?;
        let mut headers = async_nats::HeaderMap::new();
        headers.insert(async_nats::header::NATS_MESSAGE_ID, m.event_id.as_str());
        headers.insert("Content-Type", "application/json");
        let subject = subject(&self.config.subject_prefix, m.vendor, m.event_type);
        let ack = self
            .js
            .publish_with_headers(subject, headers, m.payload.clone().into())
            .await
            .map_err(|e| format!("publish: {e}"))?;
        ack.await.map_err(|e| format!("no acknowledgement: {e}"))?;
        Ok(())
    }
}

#[async_trait]
impl Sink for NatsSink {
    async fn send(&self, m: &OutboundMessage) -> SendResult {
        // Bounded here too: a publish waiting for a connection that never
        // comes would otherwise hold its slot.
        let limit = self.config.timeout + Duration::from_millis(500);
        let result = match tokio::time::timeout(limit, self.publish(m)).await {
            Ok(r) => r,
            Err(_) => Err(format!("timed out after {:?}", self.config.timeout)),
        };
        match result {
            Ok(()) => SendResult {
                kind: SendKind::Delivered,
                status: None,
                error: None,
                retry_after: None,
            },
            Err(error) => SendResult {
                kind: SendKind::Failed,
                status: None,
                error: Some(format!(
                    "NATS {}: {error}",
                    crate::config::redact::endpoint_text(&self.config.url)
                )),
                retry_after: None,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subjects_are_prefix_vendor_and_type() {
        assert_eq!(
            subject("callhook", Vendor::Aliyun, EventType::Created),
            "callhook.aliyun.call.created"
        );
        assert_eq!(
            subject("x", Vendor::Laaffic, EventType::Analyzed),
            "x.laaffic.call.analyzed"
        );
    }
}
