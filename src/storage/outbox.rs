//! The values of the outbox (docs/http-contract.md): events made
//! in the ingest transaction, one delivery per matching target (a webhook
//! subscriber or the NATS stream), and the attempts on them.

use crate::config::{Config, NATS_TARGET};
use crate::domain::{Call, Change, EventType, Vendor};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Where events are fanned out when they are made: a subscriber's filters,
/// or the NATS stream (every event).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The subscriber's name, or [`NATS_TARGET`].
    pub name: String,
    pub events: Vec<EventType>,
    /// Empty: every vendor.
    pub vendors: Vec<Vendor>,
}

impl Target {
    /// Whether an `event` about a `vendor` call is delivered here.
    pub fn wants(&self, event: EventType, vendor: Vendor) -> bool {
        self.events.contains(&event) && (self.vendors.is_empty() || self.vendors.contains(&vendor))
    }

    /// Every subscriber of `config`, then NATS when `[nats]` is set.
    pub fn all(config: &Config) -> Vec<Target> {
        let mut targets: Vec<Target> = config
            .subscribers
            .iter()
            .map(|s| Target {
                name: s.name.clone(),
                events: s.events.clone(),
                vendors: s.vendors.clone(),
            })
            .collect();
        if config.nats.is_some() {
            targets.push(Target {
                name: NATS_TARGET.to_owned(),
                events: EventType::ALL.to_vec(),
                vendors: Vec::new(),
            });
        }
        targets
    }
}

/// A delivery's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    /// Not yet acknowledged: due at `next_attempt_at`.
    Pending,
    /// The target acknowledged it (2xx, or the stream's publish ack).
    Delivered,
    /// Every retry failed: a dead letter, kept until retried by hand.
    Dead,
}

impl DeliveryStatus {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Pending => "pending",
            DeliveryStatus::Delivered => "delivered",
            DeliveryStatus::Dead => "dead",
        }
    }

    /// Parses the wire name. Errors: a message listing the accepted values.
    pub fn parse(s: &str) -> Result<DeliveryStatus, String> {
        match s {
            "pending" => Ok(DeliveryStatus::Pending),
            "delivered" => Ok(DeliveryStatus::Delivered),
            "dead" => Ok(DeliveryStatus::Dead),
            o => Err(format!(
                "unknown delivery status `{o}` (expected pending, delivered or dead)"
            )),
        }
    }
}

/// One event's delivery to one target, as the API lists it.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Delivery {
    /// `dlv_` + ULID.
    pub id: String,
    /// The subscriber's name, or `nats`.
    pub subscriber: String,
    /// The event's id (`evt_` + ULID): the `webhook-id` header and the
    /// `Nats-Msg-Id`, the same on every attempt.
    pub event_id: String,
    pub event_type: EventType,
    pub vendor: Vendor,
    pub call_id: String,
    pub status: DeliveryStatus,
    /// Attempts since it was made or last retried by hand.
    pub attempts: u32,
    pub created_at: Timestamp,
    /// When it is due; `null` unless pending.
    #[schema(required = true)]
    pub next_attempt_at: Option<Timestamp>,
    #[schema(required = true)]
    pub last_attempt_at: Option<Timestamp>,
    /// HTTP status of the last attempt's response; `null` without a response.
    #[schema(required = true)]
    pub last_response_status: Option<u16>,
    /// Why the last attempt failed (timeout, refused address, status), if it did.
    #[schema(required = true)]
    pub last_error: Option<String>,
    #[schema(required = true)]
    pub delivered_at: Option<Timestamp>,
}

/// A delivery with the exact event body it sends.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DeliveryDetail {
    #[serde(flatten)]
    pub delivery: Delivery,
    /// The event, `{"id", "type", "timestamp", "data": call}`.
    #[schema(value_type = Object)]
    pub event: serde_json::Value,
}

/// Filters of the delivery list and of bulk retry.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeliveryFilter {
    pub subscriber: Option<String>,
    pub status: Option<DeliveryStatus>,
}

/// A delivery claimed by a worker: what to send, and on which attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboundMessage {
    pub delivery_id: String,
    /// Attempts made before this one (0 on the first).
    pub attempts: u32,
    pub event_id: String,
    pub event_type: EventType,
    pub vendor: Vendor,
    pub call_id: String,
    /// When the event was made (the `webhook-timestamp` is the send time).
    pub created_at: Timestamp,
    /// The exact body: `{"id","type","timestamp","data":call}`, byte for
    /// byte the same on every attempt.
    pub payload: String,
}

/// What became of one attempt, to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttemptRecord {
    pub delivery_id: String,
    pub at: Timestamp,
    /// HTTP status of the response, if one came.
    pub response_status: Option<u16>,
    /// Why it failed; `None` when delivered.
    pub error: Option<String>,
    pub next: NextStep,
}

/// Where a delivery goes after an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NextStep {
    /// Acknowledged: done.
    Delivered,
    /// Failed: due again at this time.
    RetryAt(Timestamp),
    /// Failed after the last retry: a dead letter.
    Dead,
}

/// A target's state: whether it is disabled (a 410, or by hand) and its
/// deliveries by status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct TargetState {
    pub name: String,
    #[schema(required = true)]
    pub disabled_at: Option<Timestamp>,
    #[schema(required = true)]
    pub disabled_reason: Option<String>,
    pub pending: u64,
    pub delivered: u64,
    pub dead: u64,
}

impl TargetState {
    /// Adds `n` deliveries of `status` to the target's counts.
    pub fn count(&mut self, status: DeliveryStatus, n: u64) {
        match status {
            DeliveryStatus::Pending => self.pending += n,
            DeliveryStatus::Delivered => self.delivered += n,
            DeliveryStatus::Dead => self.dead += n,
        }
    }
}

/// An event about to be written by either backend: its id, type and exact
/// body, and the targets that get a delivery of it.
#[derive(Debug, Clone)]
pub struct NewEvent<'t> {
    /// `evt_` + ULID.
    pub id: String,
    pub kind: EventType,
    /// `{"id","type","timestamp","data":call}`, built once so every attempt
    /// sends the same bytes.
    pub payload: String,
    pub targets: Vec<&'t Target>,
}

impl<'t> NewEvent<'t> {
    /// The event `id` that `change` makes of `call` (whose JSON document is `doc`) at
    /// `now`; `None` for [`Change::Unchanged`] and when no target wants it
    /// (an event is only sent to the targets configured when it is made,
    /// so one nobody wants would never be read).
    pub fn make(
        id: &str,
        call: &Call,
        doc: &str,
        change: Change,
        now: jiff::Timestamp,
        targets: &'t [Target],
    ) -> Option<NewEvent<'t>> {
        let kind = EventType::for_change(change)?;
        let targets: Vec<&Target> = targets
            .iter()
            .filter(|t| t.wants(kind, call.vendor))
            .collect();
        if targets.is_empty() {
            return None;
        }
        let id = id.to_owned();
        // RFC 3339 in UTC, as every time in the call (`Timestamp`'s Display).
        let payload =
            format!(r#"{{"id":"{id}","type":"{kind}","timestamp":"{now}","data":{doc}}}"#);
        Some(NewEvent {
            id,
            kind,
            payload,
            targets,
        })
    }
}

/// A new delivery's id: `dlv_` + ULID.
pub fn new_delivery_id() -> String {
    format!("dlv_{}", ulid::Ulid::new())
}
