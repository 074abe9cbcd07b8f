//! What the health strip and alert rules read ([`HealthQuery`],
//! [`HealthFigures`]) and the stored alerts ([`AlertRecord`]): one row per
//! firing, resolved in place; at most one firing row per rule (a unique
//! index), which is what makes evaluation idempotent across restarts and
//! instances.

use super::shared::from_ms;
use super::{ProjectionLag, StoreError};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// What [`super::Store::health`] counts.
#[derive(Debug, Clone)]
pub struct HealthQuery {
    /// Sources whose last push is wanted (configured names).
    pub sources: Vec<String>,
    /// Targets whose dead deliveries are counted (configured names).
    pub targets: Vec<String>,
    /// Receipts from this instant on are counted by status (the strip:
    /// the start of the display day; a rule: the start of its window).
    pub since: Timestamp,
    /// Also count every receipt since `since` (a range of the primary key:
    /// its cost grows with the receipts in the window, so the strip,
    /// counting a whole day, leaves it off).
    pub with_total: bool,
}

/// The figures of [`super::Store::health`]; every one read from an index.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HealthFigures {
    /// Each asked source's last receipt time (`None`: never pushed), in
    /// the order asked.
    pub last_push: Vec<(String, Option<Timestamp>)>,
    /// Receipts since `since` whose status is `rejected`.
    pub rejected: u64,
    /// Receipts since `since` whose status is `partial`.
    pub partial: u64,
    /// Every receipt since `since` (when `with_total`).
    pub total: Option<u64>,
    /// The projection backlog.
    pub lag: ProjectionLag,
    /// Dead deliveries of each asked target, in the order asked.
    pub dead: Vec<(String, u64)>,
    /// Alerts firing now.
    pub firing: u64,
}

/// An alert's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AlertState {
    Firing,
    Resolved,
}

impl AlertState {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            AlertState::Firing => "firing",
            AlertState::Resolved => "resolved",
        }
    }

    /// The state named `s`.
    ///
    /// Errors: a message listing the two names.
    pub fn parse(s: &str) -> Result<AlertState, String> {
        match s {
            "firing" => Ok(AlertState::Firing),
            "resolved" => Ok(AlertState::Resolved),
            other => Err(format!("`{other}` is not firing or resolved")),
        }
    }
}

/// The channels told about an alert.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct NotifiedChannels {
    /// Channels that acknowledged the FIRING notification.
    pub fired: Vec<String>,
    /// Channels that acknowledged the RESOLVED notification.
    pub resolved: Vec<String>,
}

/// One firing of a rule, resolved or not.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AlertRecord {
    /// `alr_` + ULID (sorts by firing time).
    pub id: String,
    /// The rule's `name`.
    pub rule: String,
    /// The rule's `kind` (`source_silent`, `rejected_rate`,
    /// `dead_deliveries`, `answer_rate`).
    pub kind: String,
    pub state: AlertState,
    /// The measured value when it fired: minutes silent, a rejected or
    /// answer fraction 0–1, or a count of dead deliveries.
    pub value: f64,
    /// The rule's threshold, in the unit of `value`.
    pub threshold: f64,
    /// What fired, in words.
    pub message: String,
    pub fired_at: Timestamp,
    /// `null` while firing.
    #[schema(required = true)]
    pub resolved_at: Option<Timestamp>,
    pub notified: NotifiedChannels,
}

/// Which alerts [`super::Store::list_alerts`] answers: newest first.
#[derive(Debug, Clone, Default)]
pub struct AlertFilter {
    pub state: Option<AlertState>,
    pub rule: Option<String>,
    /// Only ids before this one (the previous page's last id).
    pub before: Option<String>,
    pub limit: usize,
}

/// A new alert id for a firing at `at`.
pub fn new_alert_id(at: Timestamp) -> String {
    let ms = at.as_millisecond().max(0) as u64;
    format!("alr_{}", ulid::Ulid::from_parts(ms, rand::random::<u128>()))
}

/// The smallest receipt id (a ULID) made at or after `at`: receipts since
/// `at` are the ids `>=` it.
pub fn receipt_id_floor(at: Timestamp) -> String {
    ulid::Ulid::from_parts(at.as_millisecond().max(0) as u64, 0).to_string()
}

/// An `alerts` row as read, before checking (shared with PostgreSQL).
pub struct RawAlert {
    pub id: String,
    pub rule: String,
    pub kind: String,
    pub state: String,
    pub value: f64,
    pub threshold: f64,
    pub message: String,
    pub fired_at: i64,
    pub resolved_at: Option<i64>,
    pub fired_channels: String,
    pub resolved_channels: String,
}

/// The record of a row.
///
/// Errors: [`StoreError::Corrupt`] for an unknown state, a bad time or
/// channel list.
pub fn record(r: RawAlert) -> Result<AlertRecord, StoreError> {
    let list = |t: &str| -> Result<Vec<String>, StoreError> {
        serde_json::from_str(t).map_err(|e| StoreError::corrupt(format!("alert {}", r.id), e))
    };
    Ok(AlertRecord {
        state: AlertState::parse(&r.state).map_err(|e| StoreError::corrupt("alert state", e))?,
        value: r.value,
        threshold: r.threshold,
        fired_at: from_ms(r.fired_at)?,
        resolved_at: r.resolved_at.map(from_ms).transpose()?,
        notified: NotifiedChannels {
            fired: list(&r.fired_channels)?,
            resolved: list(&r.resolved_channels)?,
        },
        id: r.id,
        rule: r.rule,
        kind: r.kind,
        message: r.message,
    })
}

#[cfg(test)]
#[path = "alerts_tests.rs"]
mod tests;
