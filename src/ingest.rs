//! The ingest path shared by `POST /hooks/{source}`, `callhook import` and
//! replays: parse with the source's adapter, then store the receipt and its
//! calls in one durable transaction.

use crate::adapters::{self, ParseError, RecordIssue, UnknownValue};
use crate::config::{Config, SourceConfig};
use crate::storage::{BodyResult, IngestBatch, IngestOutcome, NewReceipt, Store, StoreError};
use jiff::Timestamp;
use std::collections::HashSet;
use std::sync::{Arc, Mutex, OnceLock};

/// Bodies at least this large are parsed on the blocking pool, not on the
/// async workers.
const BLOCKING_PARSE_BYTES: usize = 64 * 1024;

/// What became of one push.
#[derive(Debug, Clone)]
pub struct PushResult {
    pub outcome: IngestOutcome,
    /// For a rejected body: what is wrong, with the JSON path (the 400 message).
    pub rejection: Option<String>,
}

/// Why a replay could not run.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    #[error("receipt `{0}` not found")]
    NotFound(String),
    #[error("receipt `{id}` came from source `{source_name}`, which is no longer configured")]
    SourceGone { id: String, source_name: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Parses and stores pushes. Cheap to clone.
#[derive(Clone)]
pub struct Ingestor {
    pub store: Arc<dyn Store>,
    pub config: Arc<Config>,
}

impl Ingestor {
    /// Ingests one body pushed to `source` from `remote_addr`.
    ///
    /// Errors: [`StoreError`] when the receipt could not be stored durably
    /// (answer 503: nothing was acknowledged).
    pub async fn push(
        &self,
        source: &SourceConfig,
        body: bytes::Bytes,
        remote_addr: String,
    ) -> Result<PushResult, StoreError> {
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
        self.run(source, receipt, false).await
    }

    /// Runs stored receipt `id` through its source's adapter again and
    /// stores the result under the same receipt.
    ///
    /// Errors: [`ReplayError::NotFound`], [`ReplayError::SourceGone`] (the
    /// source was removed from the config), [`ReplayError::Store`].
    pub async fn replay(&self, id: &str) -> Result<PushResult, ReplayError> {
        let stored = self
            .store
            .get_receipt(id)
            .await?
            .ok_or_else(|| ReplayError::NotFound(id.to_owned()))?;
        let s = stored.summary;
        let source = self
            .config
            .source(&s.source)
            .ok_or_else(|| ReplayError::SourceGone {
                id: id.to_owned(),
                source_name: s.source.clone(),
            })?;
        let receipt = NewReceipt {
            id: s.id,
            source: s.source,
            kind: source.kind,
            received_at: s.received_at,
            remote_addr: s.remote_addr,
            body: stored.body.into(),
        };
        Ok(self.run(source, receipt, true).await?)
    }

    async fn run(
        &self,
        source: &SourceConfig,
        receipt: NewReceipt,
        replay: bool,
    ) -> Result<PushResult, StoreError> {
        let (kind, ctx) = (source.kind, source.context());
        let (result, unknown) = if receipt.body.len() >= BLOCKING_PARSE_BYTES {
            let body = receipt.body.clone();
            tokio::task::spawn_blocking(move || parse_body(kind, &body, &ctx))
                .await
                .map_err(|e| StoreError::Unavailable(format!("parse task failed: {e}")))?
        } else {
            parse_body(kind, &receipt.body, &ctx)
        };
        note_unknown_values(&source.name, &unknown);
        let rejection = match &result {
            BodyResult::Rejected(issue) => Some(issue.message.clone()),
            _ => None,
        };
        let outcome = self
            .store
            .ingest(IngestBatch {
                receipt,
                replay,
                result,
            })
            .await?;
        Ok(PushResult { outcome, rejection })
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

/// The adapter's reading of `body` as the store wants it.
pub fn parse_body(
    kind: crate::domain::SourceKind,
    body: &[u8],
    ctx: &adapters::SourceContext,
) -> (BodyResult, Vec<UnknownValue>) {
    match adapters::parse(kind, body, ctx) {
        Ok(p) => (
            BodyResult::Parsed {
                record_count: p.record_count,
                updates: p.records.into_iter().map(|r| r.update).collect(),
                errors: p.errors,
                warnings: p.warnings,
            },
            p.unknown_values,
        ),
        Err(e) => {
            let path = match &e {
                ParseError::InvalidJson { .. } => "$".to_owned(),
                ParseError::Shape { path, .. } => path.clone(),
            };
            (
                BodyResult::Rejected(RecordIssue {
                    index: None,
                    path,
                    message: e.to_string(),
                }),
                Vec::new(),
            )
        }
    }
}

/// Logs each unknown vendor value once per process (`canonical-call.md`,
/// Outcome: a sign that the vendor changed its values).
fn note_unknown_values(source: &str, values: &[UnknownValue]) {
    static SEEN: OnceLock<Mutex<HashSet<(String, String)>>> = OnceLock::new();
    if values.is_empty() {
        return;
    }
    let mut seen = SEEN
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|p| p.into_inner());
    for v in values {
        if seen.len() < 10_000 && seen.insert((v.field.to_owned(), v.value.clone())) {
            tracing::warn!(source, field = v.field, value = %v.value, "unknown vendor value; mapped to `unknown`");
        }
    }
}
