//! Projection: turning receipts into calls, the pure part both backends
//! share. A backend loads what a batch of receipts needs (the calls they
//! touch, and for calls that must be rebuilt the other receipts that
//! describe them), hands it to [`plan`], and writes the [`Plan`] in one
//! transaction together with the receipts' final statuses.
//!
//! Rules (see `docs/decisions.md`, Log-first ingest):
//! - Receipts apply in log order (`seq`). A call records the highest `seq`
//!   applied to it (`last_seq`); a receipt older than that (two projectors
//!   on PostgreSQL, a second process on SQLite) makes the call be rebuilt
//!   from all of its receipts in log order, so the result never depends on
//!   which projector ran first or how receipts were grouped.
//! - Applied in order, each change makes one event whose id and timestamp
//!   come from the receipt, so the same receipts make the same events
//!   whatever the batch size. A rebuild makes one event for the difference
//!   between the stored call and the rebuilt one (none when they are equal).

use super::recordings::{self, RecordingJob};
use super::rollup::{RollupDelta, Sums};
use super::{BodyResult, IngestOutcome, ReceiptStatus, StoreError};
use crate::adapters::RecordIssue;
use crate::domain::{call_id_for, Call, CallUpdate, Change};
use jiff::Timestamp;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap, HashSet};

/// A receipt read for projection: its place in the log and what the
/// source's adapter made of its body now.
#[derive(Debug, Clone)]
pub struct ReadReceipt {
    /// Log order: SQLite's rowid, PostgreSQL's `seq`. Only grows.
    pub seq: i64,
    pub id: String,
    pub source: String,
    pub received_at: Timestamp,
    pub result: BodyResult,
}

impl ReadReceipt {
    /// The call ids its updates touch, in record order (repeats kept).
    pub fn call_ids(&self) -> Vec<String> {
        match &self.result {
            BodyResult::Parsed { updates, .. } => updates
                .iter()
                .map(|u| call_id_for(u.vendor, &u.vendor_call_id))
                .collect(),
            BodyResult::Rejected(_) => Vec::new(),
        }
    }
}

/// A stored receipt with its verbatim body, before it is read (what both
/// backends load for projection).
#[derive(Debug, Clone)]
pub struct RawReceipt {
    pub seq: i64,
    pub id: String,
    pub source: String,
    pub kind: crate::domain::SourceKind,
    pub received_at: Timestamp,
    /// The verbatim body, or why it could not be read back (a damaged
    /// row): such a receipt is projected as rejected instead of failing
    /// every batch that holds it.
    pub body: Result<Vec<u8>, String>,
}

/// Most verbatim body bytes in one projection batch. A batch's bodies are
/// parsed together and a parsed body takes several times its size, so a
/// run of large pushes (8 MiB transcripts) is cut by bytes long before it
/// reaches `limits.projection_batch_records`.
pub const MAX_BATCH_BODY_BYTES: usize = 16 * 1024 * 1024;

/// Chooses the pending receipts of one batch, in log order: about
/// `max_records` records and at most [`MAX_BATCH_BODY_BYTES`] of bodies,
/// but always the first receipt, however large.
#[derive(Debug)]
pub struct BatchSize {
    max_records: usize,
    records: usize,
    bytes: usize,
    receipts: usize,
}

impl BatchSize {
    pub fn new(max_records: usize) -> BatchSize {
        BatchSize {
            max_records,
            records: 0,
            bytes: 0,
            receipts: 0,
        }
    }

    /// Whether the next receipt (`records` records, a receipt without any
    /// counting as one; `body_bytes` verbatim) joins the batch. Once one
    /// does not, the batch is complete.
    pub fn admit(&mut self, records: i64, body_bytes: i64) -> bool {
        let records = usize::try_from(records).unwrap_or(0).max(1);
        let bytes = usize::try_from(body_bytes).unwrap_or(0);
        if self.receipts > 0
            && (self.records + records > self.max_records
                || self.bytes + bytes > MAX_BATCH_BODY_BYTES)
        {
            return false;
        }
        self.receipts += 1;
        self.records += records;
        self.bytes += bytes;
        true
    }
}

/// Reads each receipt with `reader` (its source's adapter now). A receipt
/// that cannot be read (its stored body is damaged, or the adapter
/// panics on it) is read as rejected with the reason, logged as an error:
/// one bad receipt never stops the log behind it, and its body stays for
/// a replay once the cause is fixed.
pub fn read_all(raws: Vec<RawReceipt>, reader: &dyn super::BodyReader) -> Vec<ReadReceipt> {
    let bytes: usize = raws
        .iter()
        .map(|r| r.body.as_ref().map_or(0, Vec::len))
        .sum();
    let read = raws
        .into_iter()
        .map(|r| {
            let read = r.body.and_then(|body| {
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    reader.read(&r.source, r.kind, &body)
                }))
                .map_err(|panic| {
                    let what = panic
                        .downcast_ref::<&str>()
                        .map(|s| s.to_string())
                        .or_else(|| panic.downcast_ref::<String>().cloned())
                        .unwrap_or_default();
                    format!("the `{}` adapter panicked reading it: {what}", r.kind)
                })
            });
            let result = read.unwrap_or_else(|why| {
                tracing::error!(receipt = %r.id, source = %r.source, %why, "receipt unreadable; projected as rejected");
                BodyResult::Rejected(RecordIssue {
                    index: None,
                    path: "$".into(),
                    message: format!("the stored body could not be read: {why}"),
                })
            });
            ReadReceipt {
                result,
                seq: r.seq,
                id: r.id,
                source: r.source,
                received_at: r.received_at,
            }
        })
        .collect();
    // The parsed trees and bodies were freed on this thread: give them back.
    crate::memory::release_after(bytes);
    read
}

/// A stored call as the projection found it.
#[derive(Debug, Clone)]
pub struct StoredCall {
    pub call: Call,
    /// The highest receipt `seq` applied to it (0 for calls stored before
    /// log-first ingest, which were applied in order).
    pub last_seq: i64,
}

/// How [`plan`] treats the calls a batch touches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// New receipts: applied to the stored calls in log order (a call that
    /// already holds a later receipt is rebuilt).
    Project,
    /// Receipts read again (replay, `callhook reproject`): every call they
    /// touch, now or before, is rebuilt from all its receipts, and its
    /// event (if it changed) is stamped `at`.
    Reproject { at: Timestamp },
}

/// A call's new row.
#[derive(Debug, Clone)]
pub struct CallWrite {
    pub call: Call,
    /// Its canonical JSON document.
    pub doc: String,
    pub last_seq: i64,
    /// `true` when no row existed.
    pub created: bool,
}

/// An event to write (with its deliveries) for a changed call.
#[derive(Debug, Clone)]
pub struct EventWrite {
    /// `evt_` + a ULID derived from the receipt, the call and the step.
    pub id: String,
    pub change: Change,
    pub at: Timestamp,
    /// The call as the event carries it.
    pub call: Call,
    pub doc: String,
}

/// A receipt's final state after projection.
#[derive(Debug, Clone)]
pub struct ReceiptWrite {
    pub id: String,
    pub status: ReceiptStatus,
    pub outcome: IngestOutcome,
    /// The body's reading, when it was read again (reproject): its
    /// `record_count`, `errors` and `warnings` replace the stored ones.
    pub reread: Option<BodyResult>,
}

/// Everything one projection transaction writes.
#[derive(Debug, Default)]
pub struct Plan {
    /// Changed calls' final rows, in id order.
    pub calls: Vec<CallWrite>,
    /// Calls' `last_seq` to raise without other change (duplicates).
    pub touched: Vec<(String, i64)>,
    /// In the order they were made.
    pub events: Vec<EventWrite>,
    /// `(call_id, receipt_id)` links to add.
    pub links: Vec<(String, String)>,
    pub rollups: RollupDelta,
    pub receipts: Vec<ReceiptWrite>,
    /// Recording links to archive: new, or with a new URL
    /// (`storage/recordings.rs`).
    pub recordings: Vec<RecordingJob>,
}

impl Plan {
    /// What projecting `batch` by this plan did: its receipts' outcomes,
    /// their records, the calls written and the events made.
    pub fn report(&self, batch: &[ReadReceipt]) -> super::ProjectReport {
        super::ProjectReport {
            records: batch.iter().map(|r| issues_of(&r.result).0).sum(),
            calls_changed: self.calls.len(),
            events: self.events.len(),
            receipts: self.receipts.iter().map(|r| r.outcome.clone()).collect(),
        }
    }
}

/// The calls of `batch` that must be rebuilt from their other receipts
/// (`Mode::Reproject`: all of them, and `extra`, the calls the receipts
/// were linked to before; `Mode::Project`: a stored call that already
/// holds a receipt later than one of the batch's).
pub fn needs_history(
    batch: &[ReadReceipt],
    stored: &HashMap<String, StoredCall>,
    mode: Mode,
    extra: &[String],
) -> Vec<String> {
    let mut first_seq: BTreeMap<String, i64> = BTreeMap::new();
    for r in batch {
        for id in r.call_ids() {
            let e = first_seq.entry(id).or_insert(r.seq);
            *e = (*e).min(r.seq);
        }
    }
    match mode {
        Mode::Reproject { .. } => {
            let mut ids: Vec<String> = first_seq.into_keys().collect();
            ids.extend(extra.iter().cloned());
            ids.sort();
            ids.dedup();
            ids
        }
        Mode::Project => first_seq
            .into_iter()
            .filter(|(id, seq)| stored.get(id).is_some_and(|s| s.last_seq > *seq))
            .map(|(id, _)| id)
            .collect(),
    }
}

/// One update in log order: the receipt's place, the record's index.
struct Step<'a> {
    seq: i64,
    index: usize,
    receipt: &'a str,
    source: &'a str,
    at: Timestamp,
    update: &'a CallUpdate,
    /// Index in the batch, for a batch receipt (its change is counted).
    batch: Option<usize>,
}

impl<'a> Step<'a> {
    /// The step of record `index` (`update`) of receipt `r`; `batch` is
    /// `r`'s index in the batch, if it is a batch receipt.
    fn of(r: &'a ReadReceipt, index: usize, update: &'a CallUpdate, batch: Option<usize>) -> Self {
        Step {
            seq: r.seq,
            index,
            receipt: &r.id,
            source: &r.source,
            at: r.received_at,
            update,
            batch,
        }
    }

    /// Applies this step to `call` (creating it when there is none yet).
    fn apply_to(&self, call: &mut Option<Call>) -> Change {
        match call {
            None => {
                *call = Some(Call::from_update(self.update, self.source, self.at));
                Change::Created
            }
            Some(c) => c.apply(self.update, self.source, self.at),
        }
    }
}

/// Each call's steps, by call id.
type CallSteps<'a> = BTreeMap<String, Vec<Step<'a>>>;

/// The updates of a readable receipt (none of a rejected one).
fn updates_of(r: &ReadReceipt) -> &[CallUpdate] {
    match &r.result {
        BodyResult::Parsed { updates, .. } => updates,
        BodyResult::Rejected(_) => &[],
    }
}

/// Plans the projection of `batch` (log order) onto `stored` (every call
/// the batch touches that exists, plus for [`needs_history`]'s calls their
/// stored rows). `history` holds, for each call to rebuild, the other
/// receipts that describe it (read with the current adapters; a receipt in
/// `batch` is left out).
///
/// Errors: [`StoreError::Corrupt`] if a call cannot be serialised.
pub fn plan(
    batch: &[ReadReceipt],
    stored: &HashMap<String, StoredCall>,
    history: &HashMap<String, Vec<ReadReceipt>>,
    mode: Mode,
) -> Result<Plan, StoreError> {
    let mut outcomes = fresh_outcomes(batch);
    let (mut steps, links) = batch_steps(batch);
    let mut plan = Plan {
        links,
        ..Plan::default()
    };
    // Re-projection reports what it changed against the stored calls (the
    // status still comes from the log-order fold in `outcomes`).
    let mut effects = outcomes.clone();
    let batch_ids: HashSet<&str> = batch.iter().map(|r| r.id.as_str()).collect();
    // Calls to rebuild that the batch no longer touches (reproject).
    for id in history.keys() {
        steps.entry(id.clone()).or_default();
    }
    for (id, mut own) in steps {
        let before = stored.get(&id);
        match history.get(&id) {
            Some(others) => {
                own.extend(history_steps(&id, others, &batch_ids));
                own.sort_by_key(|s| (s.seq, s.index));
                let change = rebuild(&mut plan, &mut outcomes, &id, before, &own, mode)?;
                if let Some(c) = change {
                    for b in own.iter().filter_map(|s| s.batch) {
                        effects[b].count(c);
                    }
                }
            }
            None => apply_in_order(&mut plan, &mut outcomes, &id, before, &own)?,
        }
    }
    plan.calls.sort_by(|a, b| a.call.id.cmp(&b.call.id));
    plan.receipts = receipt_writes(batch, outcomes, effects, mode);
    Ok(plan)
}

/// One empty outcome per batch receipt, in batch order.
fn fresh_outcomes(batch: &[ReadReceipt]) -> Vec<IngestOutcome> {
    batch
        .iter()
        .map(|r| IngestOutcome {
            source: r.source.clone(),
            ..IngestOutcome::of(&r.id)
        })
        .collect()
}

/// Each call's steps from the batch, in log then record order, and the
/// `(call_id, receipt_id)` links they make (sorted, without repeats).
fn batch_steps(batch: &[ReadReceipt]) -> (CallSteps<'_>, Vec<(String, String)>) {
    let mut steps = CallSteps::new();
    let mut links = Vec::new();
    for (b, r) in batch.iter().enumerate() {
        for (index, u) in updates_of(r).iter().enumerate() {
            let id = call_id_for(u.vendor, &u.vendor_call_id);
            links.push((id.clone(), r.id.clone()));
            steps
                .entry(id)
                .or_default()
                .push(Step::of(r, index, u, Some(b)));
        }
    }
    links.sort();
    links.dedup();
    (steps, links)
}

/// The steps of call `id` from its other receipts `others` (those not in
/// the batch, `batch_ids`), in their order.
fn history_steps<'a>(
    id: &str,
    others: &'a [ReadReceipt],
    batch_ids: &HashSet<&str>,
) -> Vec<Step<'a>> {
    let mut steps = Vec::new();
    for r in others.iter().filter(|r| !batch_ids.contains(r.id.as_str())) {
        for (index, u) in updates_of(r).iter().enumerate() {
            if call_id_for(u.vendor, &u.vendor_call_id) == id {
                steps.push(Step::of(r, index, u, None));
            }
        }
    }
    steps
}

/// The batch receipts' final states: the status from the log-order fold
/// (`outcomes`); the outcome reported is that fold when projecting, and
/// the change against the stored calls (`effects`) when re-projecting,
/// which also keeps each receipt's new reading.
fn receipt_writes(
    batch: &[ReadReceipt],
    outcomes: Vec<IngestOutcome>,
    effects: Vec<IngestOutcome>,
    mode: Mode,
) -> Vec<ReceiptWrite> {
    batch
        .iter()
        .zip(outcomes.into_iter().zip(effects))
        .map(|(r, (fold, effect))| {
            let status = fold.decide_status(&r.result);
            let mut outcome = match mode {
                Mode::Project => fold,
                Mode::Reproject { .. } => effect,
            };
            outcome.status = Some(status);
            ReceiptWrite {
                id: r.id.clone(),
                status,
                outcome,
                reread: matches!(mode, Mode::Reproject { .. }).then(|| r.result.clone()),
            }
        })
        .collect()
}

/// Applies `steps` (log order) to the stored call, one event per change.
fn apply_in_order(
    plan: &mut Plan,
    outcomes: &mut [IngestOutcome],
    id: &str,
    before: Option<&StoredCall>,
    steps: &[Step],
) -> Result<(), StoreError> {
    let mut call = before.map(|s| s.call.clone());
    let mut last_seq = before.map_or(0, |s| s.last_seq);
    let mut changed = false;
    for s in steps {
        last_seq = last_seq.max(s.seq);
        let change = s.apply_to(&mut call);
        if let Some(b) = s.batch {
            outcomes[b].count(change);
        }
        if change != Change::Unchanged {
            changed = true;
            let c = call.as_ref().expect("set above");
            let doc = to_doc(c)?;
            plan.events.push(EventWrite {
                id: event_id(s.receipt, id, s.index, s.at),
                change,
                at: s.at,
                call: c.clone(),
                doc,
            });
        }
    }
    finish(plan, id, before, call, last_seq, changed)
}

/// Rebuilds the call from `steps` alone (log order); one event for the
/// difference from the stored call. Returns that difference (`None` when no
/// receipt describes the call any more).
fn rebuild(
    plan: &mut Plan,
    outcomes: &mut [IngestOutcome],
    id: &str,
    before: Option<&StoredCall>,
    steps: &[Step],
    mode: Mode,
) -> Result<Option<Change>, StoreError> {
    let mut call: Option<Call> = None;
    let mut last_seq = before.map_or(0, |s| s.last_seq);
    let mut trigger: Option<&Step> = None;
    for s in steps {
        last_seq = last_seq.max(s.seq);
        let change = s.apply_to(&mut call);
        if let Some(b) = s.batch {
            outcomes[b].count(change);
            trigger = Some(match trigger {
                Some(t) if t.seq >= s.seq => t,
                _ => s,
            });
        }
    }
    let Some(new) = call else {
        // No receipt describes the call any more: it is left as it is.
        return Ok(None);
    };
    // The row is rewritten when anything differs; an event is made only
    // when the call's content does (not for its bookkeeping alone: which
    // receipt came first or last, as two projectors may see it).
    let changed = before.is_none_or(|old| old.call != new);
    let change = match before {
        None => Change::Created,
        Some(old) if same_content(&old.call, &new) => Change::Unchanged,
        Some(old) if old.call.analyses != new.analyses => Change::Analyzed,
        Some(_) => Change::Updated,
    };
    if change != Change::Unchanged {
        let (at, receipt, index) = match (mode, trigger) {
            (Mode::Reproject { at }, _) => (at, "reproject", 0),
            (Mode::Project, Some(t)) => (t.at, t.receipt, t.index),
            (Mode::Project, None) => (new.updated_at, "rebuild", 0),
        };
        let tag = match mode {
            Mode::Reproject { at } => format!("{receipt}@{}", at.as_millisecond()),
            Mode::Project => receipt.to_owned(),
        };
        plan.events.push(EventWrite {
            id: event_id(&tag, id, index, at),
            change,
            at,
            doc: to_doc(&new)?,
            call: new.clone(),
        });
    }
    finish(plan, id, before, Some(new), last_seq, changed)?;
    Ok(Some(change))
}

/// Whether `a` and `b` say the same about the call: equal but for
/// `first_received_at`, `updated_at` and `source` (the last receipt's source).
fn same_content(a: &Call, b: &Call) -> bool {
    let mut b = b.clone();
    b.first_received_at = a.first_received_at;
    b.updated_at = a.updated_at;
    b.source.clone_from(&a.source);
    *a == b
}

/// Records the call's final row (or only its `last_seq`) and rollup move.
fn finish(
    plan: &mut Plan,
    id: &str,
    before: Option<&StoredCall>,
    call: Option<Call>,
    last_seq: i64,
    changed: bool,
) -> Result<(), StoreError> {
    let Some(call) = call else {
        return Ok(());
    };
    if changed {
        plan.rollups
            .change(before.map(|s| Sums::of(&s.call)), &call);
        recording_jobs(plan, before, &call);
        plan.calls.push(CallWrite {
            doc: to_doc(&call)?,
            call,
            last_seq,
            created: before.is_none(),
        });
    } else if before.is_some_and(|s| s.last_seq < last_seq) {
        plan.touched.push((id.to_owned(), last_seq));
    }
    Ok(())
}

/// The archive jobs of `call`'s recording links that `before` did not
/// have with the same URL.
fn recording_jobs(plan: &mut Plan, before: Option<&StoredCall>, call: &Call) {
    let old = before
        .map(|s| recordings::links_of(&s.call))
        .unwrap_or_default();
    for (link, url) in recordings::links_of(call) {
        if old.iter().any(|(l, u)| *l == link && *u == url) {
            continue;
        }
        plan.recordings.push(RecordingJob {
            call_id: call.id.clone(),
            link,
            expires_at: crate::domain::link_expiry::url_expiry(&url),
            url,
            vendor: call.vendor,
            source: call.source.clone(),
            received_at: call.updated_at,
        });
    }
}

fn to_doc(call: &Call) -> Result<String, StoreError> {
    serde_json::to_string(call).map_err(|e| StoreError::corrupt(format!("call {}", call.id), e))
}

/// `evt_` + a ULID whose time is `at` and whose random part is a hash of
/// the receipt, the call and the record index: the same receipt makes the
/// same event id on any projector, in any batch.
pub fn event_id(receipt: &str, call_id: &str, index: usize, at: Timestamp) -> String {
    let mut h = Sha256::new();
    h.update(receipt.as_bytes());
    h.update([0]);
    h.update(call_id.as_bytes());
    h.update([0]);
    h.update(index.to_le_bytes());
    let digest = h.finalize();
    let mut random = [0u8; 16];
    random.copy_from_slice(&digest[..16]);
    let random = u128::from_be_bytes(random) & ((1u128 << 80) - 1);
    let ms = at.as_millisecond().max(0) as u64;
    format!("evt_{}", ulid::Ulid::from_parts(ms, random))
}

/// The status and record columns of a receipt read by an adapter:
/// `(record_count, errors, warnings)`.
pub fn issues_of(result: &BodyResult) -> (usize, &[RecordIssue], &[RecordIssue]) {
    match result {
        BodyResult::Rejected(e) => (0, std::slice::from_ref(e), &[][..]),
        BodyResult::Parsed {
            record_count,
            errors,
            warnings,
            ..
        } => (*record_count, &errors[..], &warnings[..]),
    }
}

#[cfg(test)]
mod store_tests;
#[cfg(test)]
mod tests;
