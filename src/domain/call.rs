//! The canonical call and its parts, as served by the API and sent in events.

use super::{Direction, HangupBy, Money, Outcome, Speaker, Vendor};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

/// One call, merged from every push that described it (docs/call-model.md: Fields).
///
/// Times are UTC instants serialised as RFC 3339; durations are whole seconds;
/// transcript offsets are milliseconds from the start of the recording.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Call {
    /// callhook's id: stable, URL-safe, derived from `(vendor, vendor_call_id)`.
    pub id: String,
    pub vendor: Vendor,
    /// Name of the configured source that last changed the call.
    pub source: String,
    /// The vendor's call id (`callId`, `call_id`, `callid`, `voiceId`).
    pub vendor_call_id: String,
    pub direction: Direction,
    /// The customer's own pass-through id (`outId`, `out_id`).
    #[schema(required = true)]
    pub out_id: Option<String>,
    #[schema(required = true)]
    pub task_id: Option<String>,
    #[schema(required = true)]
    pub batch_id: Option<String>,
    #[schema(required = true)]
    pub script_id: Option<String>,
    #[schema(required = true)]
    pub task_name: Option<String>,
    /// The customer's phone: callee of an outbound call, caller of an inbound one.
    #[schema(required = true)]
    pub customer_number: Option<String>,
    /// The business side's display or service number.
    #[schema(required = true)]
    pub line_number: Option<String>,
    pub outcome: Outcome,
    /// The raw vendor value(s) the outcome came from, e.g. `ANSWERED` or
    /// `callStatus=50;callStatusNew=1;callDescription=1`; empty when none.
    pub vendor_status: String,
    pub hangup_by: HangupBy,
    #[schema(required = true)]
    pub originated_at: Option<Timestamp>,
    #[schema(required = true)]
    pub ringing_at: Option<Timestamp>,
    #[schema(required = true)]
    pub answered_at: Option<Timestamp>,
    #[schema(required = true)]
    pub ended_at: Option<Timestamp>,
    /// Earliest of originated, ringing, answered; else ended; else first received.
    pub started_at: Timestamp,
    #[schema(required = true)]
    pub ring_seconds: Option<i64>,
    /// Seconds connected to the customer.
    #[schema(required = true)]
    pub talk_seconds: Option<i64>,
    #[schema(required = true)]
    pub billed_seconds: Option<i64>,
    #[schema(required = true)]
    pub cost: Option<Money>,
    #[schema(required = true)]
    pub intent: Option<Intent>,
    /// Call and customer tag names, in the vendor's order.
    pub tags: Vec<String>,
    #[schema(required = true)]
    pub recording_url: Option<String>,
    /// The archive of `recording_url` (docs/recordings.md): filled when the
    /// call is read, `null` without a recording URL and in events.
    #[serde(default)]
    #[schema(required = true)]
    pub recording: Option<super::Recording>,
    #[schema(required = true)]
    pub region: Option<Region>,
    pub turns: Vec<Turn>,
    pub analyses: Vec<Analysis>,
    /// Every vendor field not mapped to a canonical field, as received.
    pub vendor_fields: Map<String, Value>,
    pub first_received_at: Timestamp,
    pub updated_at: Timestamp,
}

impl Call {
    /// `true` for a call known only from its analyses (quality inspection,
    /// summary): no call record has said how it went yet, so it has no
    /// outcome, no vendor status and no call time (its `started_at` is
    /// when callhook first heard of it). Such a call is shown as "report
    /// not received yet" and left out of answer-rate denominators.
    pub fn awaiting_report(&self) -> bool {
        self.outcome == Outcome::Unknown
            && self.vendor_status.is_empty()
            && self.originated_at.is_none()
            && self.ringing_at.is_none()
            && self.answered_at.is_none()
            && self.ended_at.is_none()
    }

    /// The call's QA score in percent (0–100): the latest successful quality
    /// inspection's `score / full_score * 100`, or `None` without one.
    pub fn qa_score_percent(&self) -> Option<f64> {
        self.analyses
            .iter()
            .filter(|a| a.kind == AnalysisKind::QualityInspection && a.success)
            .filter_map(|a| match (a.score, a.full_score) {
                (Some(s), Some(f)) if f > 0.0 => Some((a.reported_at, s / f * 100.0)),
                _ => None,
            })
            .max_by_key(|(at, _)| *at)
            .map(|(_, pct)| pct)
    }
}

/// The vendor's intent or intention level for the call.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
pub struct Intent {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub label: Option<String>,
}

/// Where the customer's number is registered.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
pub struct Region {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub province: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub city: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub carrier: Option<String>,
}

/// One transcript line. Offsets are milliseconds into the recording.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Turn {
    pub speaker: Speaker,
    pub text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub start_ms: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub end_ms: Option<i64>,
}

/// What an analysis is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AnalysisKind {
    QualityInspection,
    Summary,
}

/// An AI quality inspection or summary of the call (Alibaba call notes, vendor doc 000).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Analysis {
    pub kind: AnalysisKind,
    /// `false` for a failed inference (`NOTE_AGENT_PROCESS_FAIL`).
    pub success: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub error_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub reported_at: Option<Timestamp>,
    /// Sum of the items' scores (inspections only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub score: Option<f64>,
    /// Sum of the items' full scores (inspections only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub full_score: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub items: Option<Vec<InspectionItem>>,
    /// Summary tags: tag name → list of enum values, or tag name → text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub tags: Option<Map<String, Value>>,
    /// The message's fields not mapped above (`biz_id`, `error_msg`, …), as received.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub vendor_fields: Map<String, Value>,
}

impl Analysis {
    /// Whether two analyses are the same report (a retry or replay of it):
    /// same kind, same report time and same vendor inference id (`biz_id`).
    pub fn same_report(&self, other: &Analysis) -> bool {
        self.kind == other.kind
            && self.reported_at == other.reported_at
            && self.vendor_fields.get("biz_id") == other.vendor_fields.get("biz_id")
    }
}

/// One quality-inspection item. Scores are points as the vendor sent them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct InspectionItem {
    pub item: String,
    #[schema(required = true)]
    pub score: Option<f64>,
    #[schema(required = true)]
    pub full_score: Option<f64>,
    #[schema(required = true)]
    pub problem: Option<String>,
    #[schema(required = true)]
    pub suggestion: Option<String>,
}
