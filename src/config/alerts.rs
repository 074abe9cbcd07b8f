//! `[[alerts]]`, `[[alert_channels]]` and `alerts_interval`: conditions
//! callhook watches itself and the webhooks it notifies (docs/alerts.md).
//!
//! A rule is written flat (`name`, `kind` and the kind's keys); validation
//! checks that exactly the kind's keys are given and resolves them into a
//! [`Condition`]. Every "minutes" value is a number of minutes and may be
//! fractional (`0.5` = 30 s).

use super::subscribers::secrets;
use crate::domain::Vendor;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// The four rule kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertKind {
    /// No push from `source` for longer than `minutes`.
    SourceSilent,
    /// The share of rejected receipts over `window_minutes` above `above`.
    RejectedRate,
    /// More dead deliveries than `above` (of `subscriber`, or of all targets).
    DeadDeliveries,
    /// The answer rate of `task_id` (or `vendor`) over `window_minutes` below `below`.
    AnswerRate,
    /// More recording links of `source` (or of every source) than `above`
    /// whose download failed over `window_minutes`.
    RecordingFailures,
}

impl AlertKind {
    /// The wire name (`source_silent` …).
    pub fn as_str(self) -> &'static str {
        match self {
            AlertKind::SourceSilent => "source_silent",
            AlertKind::RejectedRate => "rejected_rate",
            AlertKind::DeadDeliveries => "dead_deliveries",
            AlertKind::AnswerRate => "answer_rate",
            AlertKind::RecordingFailures => "recording_failures",
        }
    }
}

/// One `[[alerts]]` entry as written. Keys that do not belong to its
/// `kind` are refused by [`validate`].
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct AlertRuleConfig {
    /// URL-safe, unique: names the rule in notifications, the API and metrics.
    pub name: String,
    pub kind: AlertKind,
    /// `source_silent`, `recording_failures`: the configured source watched
    /// (`recording_failures`: every source when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// `source_silent`: fires when the last push is older than this many minutes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minutes: Option<f64>,
    /// `source_silent`: `"HH:MM-HH:MM"` in `timezone`; outside it the rule
    /// does not start firing (a window may wrap midnight: `"22:00-06:00"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active_hours: Option<String>,
    /// `source_silent`: IANA zone of `active_hours`; default UTC.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
    /// `rejected_rate`: a fraction 0–1 (0.05 = 5 %); `dead_deliveries`,
    /// `recording_failures`: a count (default 0: any one fires).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub above: Option<f64>,
    /// `answer_rate`: a fraction 0–1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub below: Option<f64>,
    /// `rejected_rate`, `answer_rate`, `recording_failures`: the window
    /// looked back on, minutes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window_minutes: Option<f64>,
    /// `rejected_rate`: fewer receipts in the window never fire (default 10).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_receipts: Option<u64>,
    /// `dead_deliveries`: one subscriber (or `nats`); default all targets.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subscriber: Option<String>,
    /// `answer_rate`: the task watched.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_id: Option<String>,
    /// `answer_rate`: every call of this vendor (instead of `task_id`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vendor: Option<Vendor>,
    /// `answer_rate`: fewer calls in the window never fire (default 20).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_calls: Option<u64>,
    /// How long the condition must hold before the rule fires, minutes;
    /// default 0 (fires at the first evaluation that finds it).
    #[serde(default)]
    pub for_minutes: f64,
    /// The `[[alert_channels]]` notified; default all of them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channels: Option<Vec<String>>,
    /// Resolved by [`validate`].
    #[serde(skip)]
    pub condition: Option<Condition>,
}

/// A rule's condition, resolved and checked.
#[derive(Debug, Clone, PartialEq)]
pub enum Condition {
    SourceSilent {
        source: String,
        silent_for: Duration,
        active: Option<ActiveHours>,
    },
    RejectedRate {
        above: f64,
        window: Duration,
        min_receipts: u64,
    },
    DeadDeliveries {
        above: u64,
        subscriber: Option<String>,
    },
    AnswerRate {
        task_id: Option<String>,
        vendor: Option<Vendor>,
        below: f64,
        window: Duration,
        min_calls: u64,
    },
    RecordingFailures {
        source: Option<String>,
        above: u64,
        window: Duration,
    },
}

/// Hours of the day a `source_silent` rule may fire, in a time zone.
#[derive(Debug, Clone, PartialEq)]
pub struct ActiveHours {
    /// Minutes after midnight, start inclusive and end exclusive; when
    /// `start > end` the window wraps midnight.
    pub start: u16,
    pub end: u16,
    pub timezone: jiff::tz::TimeZone,
}

impl ActiveHours {
    /// Whether `at` falls inside the window (in its zone).
    pub fn contains(&self, at: jiff::Timestamp) -> bool {
        let t = at.to_zoned(self.timezone.clone());
        let m = t.hour() as u16 * 60 + t.minute() as u16;
        if self.start == self.end {
            true
        } else if self.start < self.end {
            (self.start..self.end).contains(&m)
        } else {
            m >= self.start || m < self.end
        }
    }
}

/// One `[[alert_channels]]` entry: a webhook notified when a rule fires or
/// resolves, signed like deliveries (Standard Webhooks).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct AlertChannelConfig {
    /// URL-safe, unique.
    pub name: String,
    /// `http://` or `https://`; the SSRF rules of subscribers apply
    /// (`allow_private_subscribers`).
    #[serde(serialize_with = "super::redact::url")]
    pub url: String,
    /// `whsec_` secret(s), as a subscriber's.
    #[serde(
        deserialize_with = "secrets",
        serialize_with = "super::redact::secrets"
    )]
    pub secret: Vec<SecretString>,
    /// One request's time limit; default 10 s.
    #[serde(
        default = "default_channel_timeout",
        deserialize_with = "crate::duration_text::deserialize",
        serialize_with = "crate::duration_text::serialize"
    )]
    pub timeout: Duration,
    /// Delays before each retry of a failed notification; default
    /// 1s, 5s, 30s. After the last one the notification is given up
    /// (logged and counted).
    #[serde(
        default = "default_channel_retries",
        deserialize_with = "crate::duration_text::deserialize_list",
        serialize_with = "crate::duration_text::serialize_list"
    )]
    pub retry_schedule: Vec<Duration>,
}

/// How often rules are evaluated when `alerts_interval` is not set: 30 s.
pub fn default_interval() -> Duration {
    Duration::from_secs(30)
}
fn default_channel_timeout() -> Duration {
    Duration::from_secs(10)
}
fn default_channel_retries() -> Vec<Duration> {
    [1, 5, 30].into_iter().map(Duration::from_secs).collect()
}

/// What the rest of the configuration a rule may refer to.
pub struct Known<'a> {
    pub sources: &'a [String],
    pub targets: &'a [String],
}

/// Checks every channel and rule, and resolves each rule's [`Condition`].
///
/// Errors: a message naming the entry and key
/// (``alerts[1] (`late`).minutes: required for kind source_silent``).
pub fn validate(
    rules: &mut [AlertRuleConfig],
    channels: &[AlertChannelConfig],
    interval: Duration,
    allow_private: bool,
    known: &Known<'_>,
) -> Result<(), String> {
    if interval.is_zero() {
        return Err("alerts_interval: must be longer than zero".into());
    }
    let mut seen = std::collections::HashSet::new();
    for (i, c) in channels.iter().enumerate() {
        let at = format!("alert_channels[{i}] (`{}`)", c.name);
        if !super::url_safe(&c.name) {
            return Err(format!(
                "{at}.name: must be non-empty and use only A-Z a-z 0-9 - _ ."
            ));
        }
        if !seen.insert(c.name.as_str()) {
            return Err(format!("{at}.name: duplicate channel name"));
        }
        super::subscribers::webhook_endpoint(&at, &c.url, &c.secret, allow_private)?;
        if c.timeout.is_zero() {
            return Err(format!("{at}.timeout: must be longer than zero"));
        }
    }
    let mut names = std::collections::HashSet::new();
    for (i, r) in rules.iter_mut().enumerate() {
        let at = format!("alerts[{i}] (`{}`)", r.name);
        if !super::url_safe(&r.name) {
            return Err(format!(
                "{at}.name: must be non-empty and use only A-Z a-z 0-9 - _ ."
            ));
        }
        if !names.insert(r.name.clone()) {
            return Err(format!("{at}.name: duplicate alert name"));
        }
        if !(r.for_minutes.is_finite() && r.for_minutes >= 0.0) {
            return Err(format!("{at}.for_minutes: must be 0 or more"));
        }
        if let Some(list) = &r.channels {
            for c in list {
                if !channels.iter().any(|ch| &ch.name == c) {
                    return Err(format!("{at}.channels: no [[alert_channels]] named `{c}`"));
                }
            }
        }
        r.condition =
            Some(super::alert_rules::condition(r, known).map_err(|e| format!("{at}.{e}"))?);
    }
    Ok(())
}
