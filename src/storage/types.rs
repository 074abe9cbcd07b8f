//! The values that cross the [`super::Store`] boundary.

use crate::adapters::RecordIssue;
use crate::domain::{Call, CallUpdate, Direction, Outcome, SourceKind, Vendor};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::ToSchema;

/// A receipt's status (docs/http-contract.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReceiptStatus {
    /// Acknowledged and durable, not yet projected into calls.
    Pending,
    /// Every record was usable and something changed.
    Accepted,
    /// Readable, usable, and nothing new.
    Duplicate,
    /// Some records could not be used; the rest were stored.
    Partial,
    /// Not JSON or not the kind's shape; nothing stored but the body.
    Rejected,
}

impl ReceiptStatus {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            ReceiptStatus::Pending => "pending",
            ReceiptStatus::Accepted => "accepted",
            ReceiptStatus::Duplicate => "duplicate",
            ReceiptStatus::Partial => "partial",
            ReceiptStatus::Rejected => "rejected",
        }
    }

    /// Parses the wire name. Errors: a message listing the accepted values.
    pub fn parse(s: &str) -> Result<ReceiptStatus, String> {
        match s {
            "pending" => Ok(ReceiptStatus::Pending),
            "accepted" => Ok(ReceiptStatus::Accepted),
            "duplicate" => Ok(ReceiptStatus::Duplicate),
            "partial" => Ok(ReceiptStatus::Partial),
            "rejected" => Ok(ReceiptStatus::Rejected),
            o => Err(format!(
                "unknown status `{o}` (expected pending, accepted, duplicate, partial or rejected)"
            )),
        }
    }
}

/// A push body as received, before it is stored.
#[derive(Debug, Clone)]
pub struct NewReceipt {
    /// A ULID: unique, sortable by arrival.
    pub id: String,
    pub source: String,
    pub kind: SourceKind,
    pub received_at: Timestamp,
    /// The pushing client's address (`ip:port`), or `import:FILE` for the CLI.
    pub remote_addr: String,
    /// The body, byte for byte (shared, not copied, between the HTTP layer,
    /// the parser and the store).
    pub body: bytes::Bytes,
}

/// What the adapter made of a body.
#[derive(Debug, Clone)]
pub enum BodyResult {
    /// Not JSON, or not the kind's shape: the error, with its JSON path.
    Rejected(RecordIssue),
    /// Readable: the usable updates, the records that were not, field warnings.
    Parsed {
        record_count: usize,
        updates: Vec<CallUpdate>,
        errors: Vec<RecordIssue>,
        warnings: Vec<RecordIssue>,
    },
}

impl BodyResult {
    /// The usable and unusable records of a parsed body (0, 0 for a
    /// rejected one).
    pub fn record_counts(&self) -> (usize, usize) {
        match self {
            BodyResult::Parsed {
                updates, errors, ..
            } => (updates.len(), errors.len()),
            BodyResult::Rejected(_) => (0, 0),
        }
    }
}

/// What the acknowledgement path knows of a receipt before it is stored:
/// `Pending` (readable; projected later) or `Rejected` (kept for repair),
/// and what its adapter found.
#[derive(Debug, Clone)]
pub struct ReceiptHead {
    /// [`ReceiptStatus::Pending`] or [`ReceiptStatus::Rejected`].
    pub status: ReceiptStatus,
    /// Records in the body, usable or not.
    pub record_count: usize,
    pub errors: Vec<RecordIssue>,
    pub warnings: Vec<RecordIssue>,
}

impl ReceiptHead {
    /// The head of a body `result` read at the acknowledgement.
    pub fn of(result: &BodyResult) -> ReceiptHead {
        let (record_count, errors, warnings) = super::projection::issues_of(result);
        ReceiptHead {
            status: match result {
                BodyResult::Rejected(_) => ReceiptStatus::Rejected,
                BodyResult::Parsed { .. } => ReceiptStatus::Pending,
            },
            record_count,
            errors: errors.to_vec(),
            warnings: warnings.to_vec(),
        }
    }
}

/// One receipt for [`super::Store::append`]: the verbatim body and its head.
#[derive(Debug, Clone)]
pub struct Append {
    pub receipt: NewReceipt,
    pub head: ReceiptHead,
    /// When the pusher stops waiting (arrival + `limits.ack_budget`); `None`
    /// waits as long as it takes (`import`). An append not yet being
    /// committed at its deadline is dropped and answered [`StoreError::Busy`].
    pub deadline: Option<tokio::time::Instant>,
}

/// Reads a stored body again with the adapter its source has now: what the
/// projector and re-projection use (implemented by the ingest layer, which
/// knows the configuration).
pub trait BodyReader: Send + Sync {
    /// What `source`'s adapter makes of `body` now; a source no longer
    /// configured is read as `kind` with default settings.
    fn read(&self, source: &str, kind: SourceKind, body: &[u8]) -> BodyResult;

    /// The kind [`BodyReader::read`] reads `source`'s bodies as now (the
    /// stored `kind` when the source is no longer configured).
    fn kind_of(&self, _source: &str, kind: SourceKind) -> SourceKind {
        kind
    }
}

/// What one projection batch did ([`super::Store::project`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProjectReport {
    /// Receipts projected, each with its final outcome, in log order.
    pub receipts: Vec<IngestOutcome>,
    /// Records those receipts held.
    pub records: usize,
    /// Calls written (created or changed).
    pub calls_changed: usize,
    /// Events made.
    pub events: usize,
}

/// The projection's backlog ([`super::Store::projection_lag`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct ProjectionLag {
    /// Receipts acknowledged and not yet projected.
    pub pending_receipts: u64,
    /// Records in those receipts.
    pub pending_records: u64,
    /// When the oldest of them was received; `null` when none is pending.
    #[schema(required = true)]
    pub oldest_pending_at: Option<Timestamp>,
}

/// Which receipts `callhook reproject` (or a replay) reads again. Every
/// filter narrows; `since` inclusive and `until` exclusive, on `received_at`.
#[derive(Debug, Clone, Default)]
pub struct ReprojectFilter {
    /// Exactly these receipts (a replay); the other filters still apply.
    pub ids: Option<Vec<String>>,
    pub source: Option<String>,
    pub kind: Option<SourceKind>,
    pub since: Option<Timestamp>,
    pub until: Option<Timestamp>,
}

/// What one re-projection batch did, or would do (`dry_run`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ReprojectReport {
    /// Receipts read again.
    pub receipts: usize,
    /// Calls rebuilt from their receipts.
    pub calls_examined: usize,
    /// Calls whose canonical form changed (each made one event).
    pub calls_changed: usize,
    /// The last receipt's place in the log: where the next batch starts.
    pub last_seq: Option<i64>,
    /// Each receipt read again with its new outcome, in log order.
    #[serde(skip)]
    pub outcomes: Vec<IngestOutcome>,
}

/// A receipt built in code and the reading to project it with
/// ([`super::synthetic::ingest`]: benchmarks and tests).
#[derive(Debug, Clone)]
pub struct IngestBatch {
    pub receipt: NewReceipt,
    /// `true` to re-run a stored receipt (same id): its status, errors and
    /// warnings are replaced, its body is not written again.
    pub replay: bool,
    pub result: BodyResult,
    /// When the pusher stops waiting (arrival + `limits.ack_budget`); `None`
    /// waits as long as it takes (`import`, replay). A batch not yet being
    /// committed at its deadline is dropped and answered [`StoreError::Busy`].
    pub deadline: Option<tokio::time::Instant>,
}

/// What projecting one receipt did to calls.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct IngestOutcome {
    pub receipt_id: String,
    /// The receipt's source (for the projector's metrics).
    #[serde(skip)]
    pub source: String,
    pub status: Option<ReceiptStatus>,
    pub created: usize,
    pub updated: usize,
    pub analyzed: usize,
    pub unchanged: usize,
}

impl IngestOutcome {
    /// The receipt status these counts and `result` give.
    pub fn decide_status(&self, result: &BodyResult) -> ReceiptStatus {
        match result {
            BodyResult::Rejected(_) => ReceiptStatus::Rejected,
            BodyResult::Parsed { errors, .. } if !errors.is_empty() => ReceiptStatus::Partial,
            BodyResult::Parsed { updates, .. }
                if !updates.is_empty() && self.unchanged == updates.len() =>
            {
                ReceiptStatus::Duplicate
            }
            BodyResult::Parsed { .. } => ReceiptStatus::Accepted,
        }
    }
}

/// Filters of the call list and the stats (docs/http-contract.md).
/// `since` is inclusive and `until` exclusive, both on `started_at`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CallFilter {
    pub vendor: Option<Vendor>,
    pub source: Option<String>,
    pub direction: Option<Direction>,
    pub outcome: Option<Outcome>,
    pub task_id: Option<String>,
    pub out_id: Option<String>,
    pub customer_number: Option<String>,
    pub vendor_call_id: Option<String>,
    pub since: Option<Timestamp>,
    pub until: Option<Timestamp>,
    /// One value matched exactly against `customer_number`, `out_id`,
    /// `vendor_call_id` and callhook's call `id` (any of them): the search
    /// box of the dashboard, `q` in the API.
    pub search: Option<String>,
    /// Full-text search (`text` in the API): a case-insensitive substring
    /// of the call's transcript, summaries, intent or tags
    /// (`storage/search.rs`, docs/search.md).
    pub text: Option<String>,
}

/// A page request: at most `limit` items after `cursor`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRequest {
    pub limit: usize,
    /// The opaque `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// One page of a list: `{"items": [...], "next_cursor"}`; `next_cursor`
/// is `null` on the last page, else the `cursor` of the next one.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    #[schema(required = true)]
    pub next_cursor: Option<String>,
}

/// A receipt as listed on a call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ReceiptRef {
    pub id: String,
    pub source: String,
    pub received_at: Timestamp,
    pub status: ReceiptStatus,
}

/// A whole call and the receipts that mentioned it, oldest first.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CallDetail {
    #[serde(flatten)]
    pub call: Call,
    pub receipts: Vec<ReceiptRef>,
}

/// Filters of the receipt list; `since` inclusive and `until` exclusive,
/// on `received_at`.
#[derive(Debug, Clone, Default)]
pub struct ReceiptFilter {
    pub status: Option<ReceiptStatus>,
    pub source: Option<String>,
    pub since: Option<Timestamp>,
    pub until: Option<Timestamp>,
}

/// A receipt without its body.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReceiptSummary {
    pub id: String,
    pub source: String,
    /// The kind its body was last read as (the source's kind at arrival,
    /// or at the last replay if the source's kind was changed since).
    pub kind: SourceKind,
    pub received_at: Timestamp,
    pub remote_addr: String,
    /// Hex SHA-256 of the body.
    pub sha256: String,
    pub status: ReceiptStatus,
    /// Records in the body, usable or not.
    pub record_count: usize,
    /// Size of the body in bytes.
    pub body_bytes: usize,
    /// Why the body (rejected) or a record (partial) was not used.
    pub errors: Vec<RecordIssue>,
    /// Fields that could not be read; their records were stored.
    pub warnings: Vec<RecordIssue>,
    /// How many times the receipt was replayed, and when last.
    pub replay_count: u32,
    #[schema(required = true)]
    pub replayed_at: Option<Timestamp>,
}

/// A receipt with its body.
#[derive(Debug, Clone, Serialize)]
pub struct Receipt {
    #[serde(flatten)]
    pub summary: ReceiptSummary,
    #[serde(skip)]
    pub body: Vec<u8>,
}

/// The key of a stats row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ToSchema)]
#[schema(rename_all = "snake_case")]
pub enum GroupBy {
    Vendor,
    Source,
    Outcome,
    /// The date of `started_at`, `YYYY-MM-DD`, in the query's time zone
    /// (UTC by default).
    Day,
    TaskId,
    /// The hour of day of `started_at`, `00`..`23`, in the query's time
    /// zone (UTC by default).
    Hour,
}

impl GroupBy {
    const ALL: [GroupBy; 6] = [
        GroupBy::Vendor,
        GroupBy::Source,
        GroupBy::Outcome,
        GroupBy::Day,
        GroupBy::TaskId,
        GroupBy::Hour,
    ];

    /// The wire name: `vendor`, `source`, `outcome`, `day`, `task_id`, `hour`.
    pub fn as_str(self) -> &'static str {
        match self {
            GroupBy::Vendor => "vendor",
            GroupBy::Source => "source",
            GroupBy::Outcome => "outcome",
            GroupBy::Day => "day",
            GroupBy::TaskId => "task_id",
            GroupBy::Hour => "hour",
        }
    }

    /// Parses a wire name. Errors: a message listing the accepted values.
    pub fn parse(s: &str) -> Result<GroupBy, String> {
        GroupBy::ALL
            .into_iter()
            .find(|g| g.as_str() == s)
            .ok_or_else(|| {
                format!("unknown group_by `{s}` (expected vendor, source, outcome, day, task_id or hour)")
            })
    }
}

/// One stats row (docs/http-contract.md).
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct StatsRow {
    /// The group's key; `null` for calls without one (e.g. no `task_id`).
    #[schema(required = true)]
    pub key: Option<String>,
    pub calls: u64,
    /// Calls whose outcome is `answered`.
    pub answered: u64,
    /// Calls known only from their analyses so far (no report yet).
    pub awaiting_report: u64,
    /// `answered / (calls - awaiting_report)`, 0 to 1 (0 when no call has
    /// its report yet).
    pub answer_rate: f64,
    /// Sum of `talk_seconds` over the group.
    pub talk_seconds: i64,
    /// `talk_seconds` of answered calls divided by `answered`; `null` without answered calls.
    #[schema(required = true)]
    pub avg_talk_seconds: Option<f64>,
    /// Cost summed per currency, as decimal strings.
    pub cost: BTreeMap<String, String>,
    /// Mean QA score in percent of the calls that have one; `null` if none.
    #[schema(required = true)]
    pub avg_qa_score: Option<f64>,
}
