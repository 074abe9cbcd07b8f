//! The ingest path shared by `POST /hooks/{source}`, `callhook import` and
//! replays. Log first: a push is screened against `[limits]` ([`screen`])
//! and read by its source's adapter in the caller's task, then appended to
//! the receipt log (`pending`, or `rejected` for a body of which nothing is
//! usable) and acknowledged once that append is durable. The
//! [`projector::Projector`] turns pending receipts into calls behind the
//! acknowledgement; [`Ingestor::replay`] re-projects one receipt.

mod nul;
pub mod projector;
mod reader;
pub mod screen;

pub use reader::ConfigReader;

use crate::adapters::{self, ParseError, RecordIssue, UnknownValue};
use crate::config::{Config, Limits, SourceConfig};
use crate::domain::SourceKind;
use crate::storage::{
    Append, BodyResult, IngestOutcome, NewReceipt, ReceiptHead, ReceiptStatus, ReprojectFilter,
    Store, StoreError,
};
use crate::telemetry::push;
use jiff::Timestamp;
use screen::{BodyLimits, ScreenError};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::time::Instant;

/// Bodies at least this large are parsed on the blocking pool, not on the
/// async workers.
const BLOCKING_PARSE_BYTES: usize = 64 * 1024;

/// What became of one push: its receipt (durable), and for a refused body
/// why.
#[derive(Debug, Clone)]
pub struct AppendedReceipt {
    pub receipt_id: String,
    /// `pending` (acknowledged, projected later) or `rejected`.
    pub status: ReceiptStatus,
    /// Records in the body, usable or not.
    pub record_count: usize,
    /// Records the adapter could not use (the receipt will be `partial`).
    pub unusable: usize,
    /// For a rejected body (kept as a `rejected` receipt): why.
    pub rejection: Option<Rejection>,
}

/// Why a push was not acknowledged (answer 503 with `Retry-After`: nothing
/// was kept and the vendor retries).
#[derive(Debug, thiserror::Error)]
pub enum PushError {
    /// The projection backlog is at `limits.max_pending_records`.
    #[error("{pending} records are waiting to be projected (limit {limit}); retry later")]
    Backlog { pending: u64, limit: u64 },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Why a body was refused as a whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RejectReason {
    /// Not JSON, not the kind's shape, or nested too deep (400).
    Unreadable,
    /// More records than `limits.max_records_per_push` (413).
    TooManyRecords,
}

/// A refused body: the reason and the message for the vendor, with the
/// JSON path or byte offset of the problem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    pub reason: RejectReason,
    pub message: String,
}

/// What [`read_body`] made of a body: what the store keeps, the unknown
/// vendor values seen, and, for a refused body, why.
#[derive(Debug, Clone)]
pub struct BodyReading {
    pub result: BodyResult,
    pub unknown_values: Vec<UnknownValue>,
    pub rejection: Option<Rejection>,
}

/// Why a replay could not run.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    #[error("receipt `{0}` not found")]
    NotFound(String),
    #[error("receipt `{id}` came from source `{source_name}`, which is no longer configured")]
    SourceGone { id: String, source_name: String },
    #[error("receipt `{0}` is still pending: it is projected shortly, replay it after")]
    Pending(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Parses and appends pushes. Cheap to clone.
#[derive(Clone)]
pub struct Ingestor {
    pub store: Arc<dyn Store>,
    pub config: Arc<Config>,
    /// The projection backlog as last seen, and the projector's wake-up.
    pub backlog: Arc<projector::Backlog>,
}

impl Ingestor {
    /// An ingestor over `store` with a fresh backlog (read from the store
    /// by the projector).
    pub fn new(store: Arc<dyn Store>, config: Arc<Config>) -> Ingestor {
        Ingestor {
            store,
            config,
            backlog: Arc::default(),
        }
    }

    /// Ingests one body pushed to `source` from `remote_addr`: reads it,
    /// appends it to the receipt log, wakes the projector. With a `budget`
    /// (the HTTP path: `limits.ack_budget`), an append the store has not
    /// started committing within `budget` is given up, and never committed
    /// later. Parsing is not counted: the budget measures whether the store
    /// keeps up.
    ///
    /// Errors: [`PushError::Backlog`] at `limits.max_pending_records`;
    /// [`StoreError::Busy`] when the deadline passed first,
    /// [`StoreError::Unavailable`] when the receipt could not be stored
    /// durably (answer 503 either way: nothing was acknowledged).
    pub async fn push(
        &self,
        source: &SourceConfig,
        body: bytes::Bytes,
        remote_addr: String,
        budget: Option<Duration>,
    ) -> Result<AppendedReceipt, PushError> {
        let limit = self.config.limits.max_pending_records;
        let pending = self.backlog.records();
        if budget.is_some() && pending >= limit {
            return Err(PushError::Backlog { pending, limit });
        }
        let receipt = NewReceipt {
            id: new_receipt_id(),
            source: source.name.clone(),
            kind: source.kind,
            received_at: Timestamp::now()
                .round(jiff::Unit::Millisecond)
                .unwrap_or_else(|_| Timestamp::now()),
            remote_addr,
            body,
        };
        let (kind, ctx) = (source.kind, source.context());
        let limits = body_limits(&self.config.limits);
        let reading = if receipt.body.len() >= BLOCKING_PARSE_BYTES {
            let body = receipt.body.clone();
            tokio::task::spawn_blocking(move || {
                let reading = read_body(kind, &body, &ctx, limits);
                // The parsed tree was freed on this thread: give it back.
                crate::memory::release_after(body.len());
                reading
            })
            .await
            .map_err(|e| StoreError::unavailable_by("parse task failed", e))?
        } else {
            read_body(kind, &receipt.body, &ctx, limits)
        };
        crate::telemetry::unknown_values::note_unknown_values(
            &source.name,
            &reading.unknown_values,
        );
        let records = reading.result.record_counts();
        let head = ReceiptHead::of(&reading.result);
        drop(reading.result);
        let result = AppendedReceipt {
            receipt_id: receipt.id.clone(),
            status: head.status,
            record_count: head.record_count,
            unusable: head.errors.len(),
            rejection: reading.rejection,
        };
        let pending = (head.status == ReceiptStatus::Pending).then_some(head.record_count);
        self.store
            .append(Append {
                receipt,
                head,
                deadline: budget.map(|b| Instant::now() + b),
            })
            .await?;
        if let Some(records) = pending {
            self.backlog.added(records as u64);
        }
        let vendor = source.vendor().map_or("", |v| v.as_str());
        push::count_stored(&source.name, vendor, records);
        push::count_unknown_values(vendor, &reading.unknown_values);
        Ok(result)
    }

    /// Re-projects stored receipt `id` with its source's adapter as it is
    /// now (after a fix to the adapter or to the source's settings): the
    /// calls it touches are rebuilt from all their receipts, the receipt's
    /// status and issues replaced and its replay counted.
    ///
    /// Errors: [`ReplayError::NotFound`], [`ReplayError::SourceGone`] (the
    /// source was removed from the config), [`ReplayError::Pending`] (not
    /// projected yet), [`ReplayError::Store`].
    pub async fn replay(&self, id: &str) -> Result<IngestOutcome, ReplayError> {
        let stored = self
            .store
            .get_receipt(id)
            .await?
            .ok_or_else(|| ReplayError::NotFound(id.to_owned()))?;
        let s = stored.summary;
        if self.config.source(&s.source).is_none() {
            return Err(ReplayError::SourceGone {
                id: id.to_owned(),
                source_name: s.source,
            });
        }
        if s.status == ReceiptStatus::Pending {
            return Err(ReplayError::Pending(id.to_owned()));
        }
        let filter = ReprojectFilter {
            ids: Some(vec![id.to_owned()]),
            ..Default::default()
        };
        let at = Timestamp::now()
            .round(jiff::Unit::Millisecond)
            .unwrap_or_else(|_| Timestamp::now());
        let report = self
            .store
            .reproject(&filter, 0, 1, self.reader(), at, false)
            .await?;
        report
            .outcomes
            .into_iter()
            .next()
            .ok_or_else(|| ReplayError::Pending(id.to_owned()))
    }

    /// The reader of stored bodies with this configuration's adapters.
    pub fn reader(&self) -> Arc<dyn crate::storage::BodyReader> {
        Arc::new(ConfigReader::new(self.config.clone()))
    }
}

/// A new receipt id: a ULID that sorts after every id this process made
/// before, even within the same millisecond (a plain ULID's random part
/// would order same-millisecond receipts at random).
fn new_receipt_id() -> String {
    static GENERATOR: Mutex<ulid::Generator> = Mutex::new(ulid::Generator::new());
    let mut g = GENERATOR.lock().unwrap_or_else(|p| p.into_inner());
    // Overflow needs 2^80 ids in one millisecond; a plain ULID is still unique.
    g.generate()
        .unwrap_or_else(|_| ulid::Ulid::new())
        .to_string()
}

/// The scan limits of `limits`.
pub fn body_limits(limits: &Limits) -> BodyLimits {
    BodyLimits {
        max_depth: limits.max_json_depth,
        max_records: limits.max_records_per_push,
    }
}

/// The pure part of the ingest path: `body` screened against `limits`, then
/// read by `kind`'s adapter, as the store wants it. Never panics, whatever
/// the bytes (fuzzed by `fuzz/fuzz_targets/ingest.rs`).
pub fn read_body(
    kind: SourceKind,
    body: &[u8],
    ctx: &adapters::SourceContext,
    limits: BodyLimits,
) -> BodyReading {
    // A UTF-8 byte order mark (Windows tooling sends one) is not JSON; the
    // receipt keeps the body as it came.
    let body = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
    if let Err(e) = screen::screen(body, limits) {
        let reason = match e {
            ScreenError::TooDeep { .. } => RejectReason::Unreadable,
            ScreenError::TooManyRecords { .. } => RejectReason::TooManyRecords,
        };
        return rejected(reason, "$".to_owned(), e.to_string());
    }
    match adapters::parse(kind, body, ctx) {
        // A mapped source's `records` path is not seen by the screen: its
        // count is checked once the mapping has selected the records.
        Ok(p) if p.record_count > limits.max_records => {
            let e = ScreenError::TooManyRecords {
                count: p.record_count,
                limit: limits.max_records,
            };
            rejected(RejectReason::TooManyRecords, "$".to_owned(), e.to_string())
        }
        Ok(p) => {
            let (mut records, mut warnings) = (p.records, p.warnings);
            // `\u0000` is valid JSON but PostgreSQL text cannot hold it:
            // made storable the same way on both backends, and said.
            if body.windows(6).any(|w| w == b"\\u0000") {
                warnings.extend(nul::replace_nul(&mut records));
            }
            let updates: Vec<_> = records.into_iter().map(|r| r.update).collect();
            BodyReading {
                result: BodyResult::Parsed {
                    record_count: p.record_count,
                    updates,
                    errors: p.errors,
                    warnings,
                },
                unknown_values: p.unknown_values,
                rejection: None,
            }
        }
        Err(e) => {
            let path = match &e {
                ParseError::InvalidJson { .. } => "$".to_owned(),
                ParseError::Shape { path, .. } => path.clone(),
            };
            rejected(RejectReason::Unreadable, path, e.to_string())
        }
    }
}

fn rejected(reason: RejectReason, path: String, message: String) -> BodyReading {
    BodyReading {
        result: BodyResult::Rejected(RecordIssue {
            index: None,
            path,
            message: message.clone(),
        }),
        unknown_values: Vec::new(),
        rejection: Some(Rejection { reason, message }),
    }
}
