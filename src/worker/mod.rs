//! Outbound delivery (docs/http-contract.md): one dispatcher per
//! target drains the outbox, sends each due delivery through the target's
//! [`Sink`] (a Standard Webhooks endpoint, or NATS JetStream) and records
//! the result: delivered, retried on the schedule, or a dead letter.

pub mod dispatch;
pub mod nats;
pub mod pool;
pub mod schedule;
pub mod signing;
pub mod ssrf;
pub mod webhook;

use crate::storage::OutboundMessage;
use async_trait::async_trait;
use std::time::Duration;

/// What one attempt to send an event came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendResult {
    pub kind: SendKind,
    /// The HTTP status of the response, if one came (webhooks only).
    pub status: Option<u16>,
    /// Why it failed (connect error, timeout, refused address, the status
    /// and the start of the response body); `None` when delivered.
    pub error: Option<String>,
    /// The response's `Retry-After`, if any: no retry before it.
    pub retry_after: Option<Duration>,
}

/// The three ways an attempt ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendKind {
    /// 2xx (webhooks) or the stream's publish acknowledgement (NATS).
    Delivered,
    /// Anything else: retried on the schedule.
    Failed,
    /// HTTP 410 Gone: the subscriber is disabled until enabled by hand; the
    /// delivery stays pending.
    Gone,
}

/// Sends events to one target. Implementations never panic and never
/// retry by themselves: the dispatcher owns the schedule.
#[async_trait]
pub trait Sink: Send + Sync {
    /// One attempt to deliver `message`.
    async fn send(&self, message: &OutboundMessage) -> SendResult;
}

#[cfg(test)]
mod tests;
