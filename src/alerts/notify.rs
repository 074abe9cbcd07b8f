//! Alert notifications: one signed JSON `POST` per channel (the
//! subscribers' Standard Webhooks sender and SSRF rules), retried on the
//! channel's `retry_schedule`, counted in
//! `callhook_alert_notifications_total{channel, result}`.

use crate::config::{AlertChannelConfig, SubscriberConfig};
use crate::storage::{AlertRecord, AlertState, Store};
use crate::telemetry::names;
use crate::worker::webhook::{WebhookError, WebhookSink};
use crate::worker::SendKind;
use serde::Serialize;
use std::sync::Arc;

/// One channel, ready to send.
pub struct Channel {
    pub name: String,
    sink: WebhookSink,
    retries: Vec<std::time::Duration>,
}

impl Channel {
    /// The sender of `config`; `allow_private` is `allow_private_subscribers`.
    ///
    /// Errors: [`WebhookError`] for an unusable URL or secret (not expected
    /// after validation).
    pub fn new(config: &AlertChannelConfig, allow_private: bool) -> Result<Channel, WebhookError> {
        let as_subscriber = SubscriberConfig {
            name: config.name.clone(),
            url: config.url.clone(),
            secret: config.secret.clone(),
            events: Vec::new(),
            vendors: Vec::new(),
            retry_schedule: config.retry_schedule.clone(),
            timeout: config.timeout,
            max_in_flight: 1,
        };
        Ok(Channel {
            name: config.name.clone(),
            sink: WebhookSink::new(&as_subscriber, allow_private)?,
            retries: config.retry_schedule.clone(),
        })
    }

    /// Sends `body` (webhook-id `id`) until acknowledged (2xx) or the
    /// retries are spent (or the channel answers 410): `true` when
    /// acknowledged. Every failure is logged.
    pub async fn send(&self, id: &str, body: &str) -> bool {
        let mut attempt = 0;
        loop {
            let r = self.sink.send_body(id, body).await;
            if r.kind == SendKind::Delivered {
                count(&self.name, "sent");
                return true;
            }
            let error = r.error.unwrap_or_default();
            let delay = match (r.kind, self.retries.get(attempt)) {
                (SendKind::Failed, Some(d)) => *d,
                _ => {
                    count(&self.name, "failed");
                    tracing::warn!(channel = %self.name, notification = %id, %error, attempts = attempt + 1, "alert notification given up");
                    return false;
                }
            };
            count(&self.name, "retry");
            let delay = r.retry_after.map_or(delay, |ra| ra.max(delay));
            tracing::warn!(channel = %self.name, notification = %id, %error, retry_in = ?delay, "alert notification failed; retrying");
            tokio::time::sleep(delay).await;
            attempt += 1;
        }
    }
}

fn count(channel: &str, result: &'static str) {
    metrics::counter!(names::ALERT_NOTIFICATIONS, "channel" => channel.to_owned(), "result" => result)
        .increment(1);
}

/// The JSON body of a notification: Slack-compatible `text` plus the
/// alert's fields.
#[derive(Debug, Serialize)]
pub struct Notification<'a> {
    /// `FIRING: <rule> — <message>` or `RESOLVED: <rule> — <message>`.
    pub text: String,
    pub alert_id: &'a str,
    pub rule: &'a str,
    pub kind: &'a str,
    pub state: AlertState,
    pub value: f64,
    pub threshold: f64,
    pub message: &'a str,
    pub fired_at: jiff::Timestamp,
    pub resolved_at: Option<jiff::Timestamp>,
}

impl<'a> Notification<'a> {
    /// The notification of `alert` in its current state; `now` is the
    /// message of the moment (the measurement that fired or resolved it).
    pub fn of(alert: &'a AlertRecord, now: &'a str) -> Notification<'a> {
        let word = match alert.state {
            AlertState::Firing => "FIRING",
            AlertState::Resolved => "RESOLVED",
        };
        Notification {
            text: format!("{word}: {} ({}): {now}", alert.rule, alert.kind),
            alert_id: &alert.id,
            rule: &alert.rule,
            kind: &alert.kind,
            state: alert.state,
            value: alert.value,
            threshold: alert.threshold,
            message: now,
            fired_at: alert.fired_at,
            resolved_at: alert.resolved_at,
        }
    }
}

/// Sends the notification of `alert` (its current state, described by
/// `message`) to `channels` at once, then records which acknowledged.
/// Runs in its own task: evaluation never waits for a slow channel.
pub fn spawn(
    store: Arc<dyn Store>,
    channels: Vec<Arc<Channel>>,
    alert: AlertRecord,
    message: String,
) {
    if channels.is_empty() {
        return;
    }
    tokio::spawn(async move {
        let body = match serde_json::to_string(&Notification::of(&alert, &message)) {
            Ok(b) => b,
            Err(e) => {
                tracing::error!(error = %e, "alert notification not serialised");
                return;
            }
        };
        let id = format!("{}-{}", alert.id, alert.state.as_str());
        let sent = futures::future::join_all(channels.iter().map(|c| c.send(&id, &body))).await;
        let acked: Vec<String> = channels
            .iter()
            .zip(sent)
            .filter(|(_, ok)| *ok)
            .map(|(c, _)| c.name.clone())
            .collect();
        if let Err(e) = store
            .set_alert_notified(&alert.id, alert.state, &acked)
            .await
        {
            tracing::warn!(error = %crate::error_chain::ErrorChain(&e), alert = %alert.id, "alert notification not recorded");
        }
    });
}
