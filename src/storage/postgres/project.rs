//! Projection on PostgreSQL. Every instance runs a projector: it claims the
//! oldest pending receipts with `FOR UPDATE SKIP LOCKED` (two projectors
//! never take the same receipt), reads them, takes a transaction advisory
//! lock per bucket of the calls they touch (sorted, so projectors wait on
//! each other only for shared calls and never deadlock), and writes the
//! plan (`storage/projection/`) with set-based statements. A receipt
//! older than a call's `last_seq` (claimed by a projector that lost the
//! race) rebuilds the call from all its receipts, so concurrent projectors
//! give the same calls as one.

use super::ingest::{exec, query};
use super::rollups;
use crate::domain::SourceKind;
use crate::storage::columns::decode;
use crate::storage::doc_codec::{json_of_bytes, pack_doc};
use crate::storage::projection::{
    self, BatchSize, Mode, Plan, RawReceipt, ReadReceipt, ReceiptWrite, StoredCall,
};
use crate::storage::shared::RereadColumns;
use crate::storage::{
    new_delivery_id, unpack_body, BodyCodec, BodyReader, NewEvent, ProjectReport, ReprojectFilter,
    ReprojectReport, StoreError, Target,
};
use deadpool_postgres::{GenericClient, Transaction};
use jiff::Timestamp;
use std::collections::HashMap;
use std::sync::Arc;
use tokio_postgres::types::ToSql;
use tokio_postgres::Row;

/// Advisory lock buckets for calls: a transaction holds at most this many
/// locks whatever the batch size (PostgreSQL's lock table is shared).
const CALL_LOCK_BUCKETS: i64 = 1024;

/// Advisory lock key space of the call buckets ("ch" << 32 + bucket).
const CALL_LOCK_BASE: i64 = 0x6368_i64 << 32;

/// The receipt columns [`raw`] reads, of receipts aliased `r`.
const RAW_COLUMNS: &str = "r.seq, r.id, r.source, r.kind, r.received_at,
    r.body, r.body_codec, COALESCE(r.body_bytes, length(r.body))::BIGINT";

fn raw(row: &Row) -> Result<RawReceipt, StoreError> {
    let kind: &str = row.get(3);
    let codec = BodyCodec::from_column(row.get::<_, i16>(6) as i64);
    let len: i64 = row.get(7);
    Ok(RawReceipt {
        seq: row.get(0),
        id: row.get(1),
        source: row.get(2),
        kind: decode(kind)?,
        received_at: crate::storage::shared::from_ms(row.get(4))?,
        body: codec
            .and_then(|c| unpack_body(c, row.get(5), len as usize))
            .map_err(|e| e.to_string()),
    })
}

/// Reads `raws` with `reader` on the blocking pool (parsing is CPU work).
async fn read_all(
    raws: Vec<RawReceipt>,
    reader: Arc<dyn BodyReader>,
) -> Result<Vec<ReadReceipt>, StoreError> {
    tokio::task::spawn_blocking(move || projection::read_all(raws, &*reader))
        .await
        .map_err(|e| StoreError::unavailable_by("parse task failed", e))
}

/// Claims, reads and projects the oldest pending receipts (about
/// `max_records` records) in one transaction. See [`crate::storage::Store::project`].
///
/// Errors: [`StoreError::Unavailable`] (nothing is kept; the receipts stay
/// pending), [`StoreError::Corrupt`].
pub async fn project(
    tx: &Transaction<'_>,
    reader: Arc<dyn BodyReader>,
    max_records: usize,
    targets: &[Target],
) -> Result<ProjectReport, StoreError> {
    // Claim by size first (no bodies read), then read the bodies of the
    // receipts that fit the batch. Rows claimed beyond it are released at
    // commit, still pending.
    let limit = max_records.clamp(1, 5_000) as i64;
    let claimed = query(
        tx,
        "SELECT seq, record_count, COALESCE(body_bytes, length(body))::BIGINT FROM receipts
         WHERE status = 'pending' ORDER BY seq LIMIT $1 FOR UPDATE SKIP LOCKED",
        &[&limit],
    )
    .await?;
    let mut seqs: Vec<i64> = Vec::new();
    let mut batch = BatchSize::new(max_records);
    for row in &claimed {
        if !batch.admit(row.get(1), row.get(2)) {
            break;
        }
        seqs.push(row.get(0));
    }
    if seqs.is_empty() {
        return Ok(ProjectReport::default());
    }
    let sql = format!("SELECT {RAW_COLUMNS} FROM receipts r WHERE r.seq = ANY($1) ORDER BY r.seq");
    let rows = query(tx, &sql, &[&seqs]).await?;
    let raws = rows.iter().map(raw).collect::<Result<Vec<_>, _>>()?;
    if raws.is_empty() {
        return Ok(ProjectReport::default());
    }
    let batch = read_all(raws, reader.clone()).await?;
    let ids: Vec<String> = batch.iter().flat_map(ReadReceipt::call_ids).collect();
    lock_calls(tx, &ids).await?;
    let stored = load_calls(tx, &ids).await?;
    let rebuild = projection::needs_history(&batch, &stored, Mode::Project, &[]);
    let history = load_history(tx, &rebuild, reader).await?;
    let plan = projection::plan(&batch, &stored, &history, Mode::Project)?;
    let report = plan.report(&batch);
    write_plan(tx, plan, targets, None).await?;
    Ok(report)
}

/// `AND …` conditions of `filter` on receipts `r`, numbered from `$first`.
fn filter_clause(
    filter: &ReprojectFilter,
    first: usize,
) -> (String, Vec<Box<dyn ToSql + Sync + Send>>) {
    let mut wh = String::from(" AND r.status <> 'pending'");
    let mut params: Vec<Box<dyn ToSql + Sync + Send>> = Vec::new();
    let mut n = first;
    let mut add = |wh: &mut String, cond: &str, p: Box<dyn ToSql + Sync + Send>| {
        wh.push_str(&format!(" AND {cond} ${n}"));
        n += 1;
        params.push(p);
    };
    if let Some(ids) = &filter.ids {
        add(&mut wh, "r.id = ANY(", Box::new(ids.clone()));
        wh.push(')');
    }
    if let Some(s) = &filter.source {
        add(&mut wh, "r.source =", Box::new(s.clone()));
    }
    if let Some(k) = filter.kind {
        add(&mut wh, "r.kind =", Box::new(k.as_str().to_owned()));
    }
    if let Some(t) = filter.since {
        add(&mut wh, "r.received_at >=", Box::new(t.as_millisecond()));
    }
    if let Some(t) = filter.until {
        add(&mut wh, "r.received_at <", Box::new(t.as_millisecond()));
    }
    (wh, params)
}

/// How many receipts `filter` selects.
///
/// Errors: [`StoreError::Unavailable`].
pub async fn count_selected(
    c: &impl GenericClient,
    filter: &ReprojectFilter,
) -> Result<u64, StoreError> {
    let (wh, params) = filter_clause(filter, 1);
    let sql = format!("SELECT count(*) FROM receipts r WHERE TRUE {wh}");
    let refs: Vec<&(dyn ToSql + Sync)> = params.iter().map(|p| &**p as _).collect();
    let rows = query(c, &sql, &refs).await?;
    Ok(rows[0].get::<_, i64>(0) as u64)
}

/// Re-projects at most `limit` receipts of `filter` after `after_seq` in
/// `tx` (see [`crate::storage::Store::reproject`]); with `dry_run` the
/// caller rolls back.
///
/// Errors: [`StoreError::Unavailable`], [`StoreError::Corrupt`].
#[allow(clippy::too_many_arguments)]
pub async fn reproject(
    tx: &Transaction<'_>,
    filter: &ReprojectFilter,
    after_seq: i64,
    limit: usize,
    reader: Arc<dyn BodyReader>,
    at: Timestamp,
    dry_run: bool,
    targets: &[Target],
) -> Result<ReprojectReport, StoreError> {
    let (wh, params) = filter_clause(filter, 3);
    let sql = format!(
        "SELECT {RAW_COLUMNS} FROM receipts r WHERE r.seq > $1 {wh} ORDER BY r.seq LIMIT $2
         FOR UPDATE"
    );
    let limit = limit as i64;
    let mut refs: Vec<&(dyn ToSql + Sync)> = vec![&after_seq, &limit];
    refs.extend(params.iter().map(|p| &**p as &(dyn ToSql + Sync)));
    let rows = query(tx, &sql, &refs).await?;
    let raws = rows.iter().map(raw).collect::<Result<Vec<_>, _>>()?;
    if raws.is_empty() {
        return Ok(ReprojectReport::default());
    }
    let kinds: HashMap<String, SourceKind> = raws
        .iter()
        .map(|r| (r.id.clone(), reader.kind_of(&r.source, r.kind)))
        .collect();
    let batch = read_all(raws, reader.clone()).await?;
    let receipt_ids: Vec<String> = batch.iter().map(|r| r.id.clone()).collect();
    let before: Vec<String> = query(
        tx,
        "SELECT DISTINCT call_id FROM call_receipts WHERE receipt_id = ANY($1)",
        &[&receipt_ids],
    )
    .await?
    .iter()
    .map(|r| r.get(0))
    .collect();
    let mut ids: Vec<String> = batch.iter().flat_map(ReadReceipt::call_ids).collect();
    ids.extend(before.iter().cloned());
    lock_calls(tx, &ids).await?;
    let mode = Mode::Reproject { at };
    let stored = load_calls(tx, &ids).await?;
    let rebuild = projection::needs_history(&batch, &stored, mode, &before);
    let history = load_history(tx, &rebuild, reader).await?;
    let plan = projection::plan(&batch, &stored, &history, mode)?;
    let report = ReprojectReport {
        receipts: batch.len(),
        calls_examined: rebuild.len(),
        calls_changed: plan.calls.len(),
        last_seq: batch.last().map(|r| r.seq),
        outcomes: plan.receipts.iter().map(|r| r.outcome.clone()).collect(),
    };
    if !dry_run {
        write_plan(tx, plan, targets, Some((at, kinds))).await?;
    }
    Ok(report)
}

/// Takes the advisory lock of each call bucket `ids` fall in, in order.
async fn lock_calls(tx: &Transaction<'_>, ids: &[String]) -> Result<(), StoreError> {
    let mut keys: Vec<i64> = ids.iter().map(|id| CALL_LOCK_BASE + bucket(id)).collect();
    keys.sort_unstable();
    keys.dedup();
    // unnest keeps the array's order, so locks are taken in key order.
    exec(
        tx,
        "SELECT count(pg_advisory_xact_lock(k)) FROM unnest($1::BIGINT[]) AS k",
        &[&keys],
    )
    .await?;
    Ok(())
}

/// A call id's lock bucket: its first hex digits modulo the bucket count.
fn bucket(id: &str) -> i64 {
    let head = id.get(..8).unwrap_or(id);
    i64::from_str_radix(head, 16).unwrap_or_else(|_| {
        id.bytes()
            .fold(0i64, |h, b| h.wrapping_mul(31).wrapping_add(b as i64))
            .abs()
    }) % CALL_LOCK_BUCKETS
}

/// The stored calls among `ids`, their rows locked.
async fn load_calls(
    tx: &Transaction<'_>,
    ids: &[String],
) -> Result<HashMap<String, StoredCall>, StoreError> {
    let mut unique = ids.to_vec();
    unique.sort();
    unique.dedup();
    let rows = query(
        tx,
        "SELECT id, doc, last_seq FROM calls WHERE id = ANY($1) ORDER BY id FOR UPDATE",
        &[&unique],
    )
    .await?;
    let mut stored = HashMap::with_capacity(rows.len());
    for row in rows {
        let id: String = row.get(0);
        let json = json_of_bytes(row.get(1))?;
        let call = serde_json::from_str(&json)
            .map_err(|e| StoreError::corrupt(format!("call {id}"), e))?;
        stored.insert(
            id,
            StoredCall {
                call,
                last_seq: row.get(2),
            },
        );
    }
    Ok(stored)
}

/// For each call of `ids`, the receipts linked to it, read with `reader`.
async fn load_history(
    tx: &Transaction<'_>,
    ids: &[String],
    reader: Arc<dyn BodyReader>,
) -> Result<HashMap<String, Vec<ReadReceipt>>, StoreError> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let sql = format!(
        "SELECT {RAW_COLUMNS}, cr.call_id FROM call_receipts cr JOIN receipts r ON r.id = cr.receipt_id
         WHERE cr.call_id = ANY($1) ORDER BY r.seq"
    );
    let rows = query(tx, &sql, &[&ids]).await?;
    let mut owners: Vec<String> = Vec::with_capacity(rows.len());
    let mut raws = Vec::with_capacity(rows.len());
    for row in &rows {
        raws.push(raw(row)?);
        owners.push(row.get(8));
    }
    let read = read_all(raws, reader).await?;
    let mut history: HashMap<String, Vec<ReadReceipt>> = HashMap::new();
    for (owner, r) in owners.into_iter().zip(read) {
        history.entry(owner).or_default().push(r);
    }
    for id in ids {
        history.entry(id.clone()).or_default();
    }
    Ok(history)
}

/// Writes `plan` in `tx`, set-based: calls, `last_seq`s, events and their
/// deliveries, links, rollups, receipts. `reread` as in SQLite's.
async fn write_plan(
    tx: &Transaction<'_>,
    plan: Plan,
    targets: &[Target],
    reread: Option<(Timestamp, HashMap<String, SourceKind>)>,
) -> Result<(), StoreError> {
    write_calls(tx, &plan).await?;
    touch_calls(tx, &plan.touched).await?;
    write_events(tx, &plan, targets).await?;
    let receipt_ids: Vec<&str> = plan.receipts.iter().map(|r| r.id.as_str()).collect();
    if reread.is_some() {
        exec(
            tx,
            "DELETE FROM call_receipts WHERE receipt_id = ANY($1)",
            &[&receipt_ids],
        )
        .await?;
    }
    write_links(tx, &plan.links).await?;
    rollups::apply(tx, plan.rollups).await?;
    super::recordings::enqueue(&**tx, &plan.recordings).await?;
    match reread {
        None => mark_receipts(tx, &plan.receipts).await,
        Some((at, kinds)) => mark_rereads(tx, &plan.receipts, at, &kinds).await,
    }
}

/// Raises the `last_seq` of the `touched` calls (`(id, seq)`) that are
/// below it.
async fn touch_calls(tx: &Transaction<'_>, touched: &[(String, i64)]) -> Result<(), StoreError> {
    if touched.is_empty() {
        return Ok(());
    }
    let (ids, seqs): (Vec<&str>, Vec<i64>) = touched.iter().map(|(i, s)| (i.as_str(), *s)).unzip();
    exec(
        tx,
        "UPDATE calls SET last_seq = u.seq FROM unnest($1::TEXT[], $2::BIGINT[]) AS u(id, seq)
         WHERE calls.id = u.id AND calls.last_seq < u.seq",
        &[&ids, &seqs],
    )
    .await?;
    Ok(())
}

/// Adds the `(call_id, receipt_id)` `links` that are not there yet.
async fn write_links(tx: &Transaction<'_>, links: &[(String, String)]) -> Result<(), StoreError> {
    if links.is_empty() {
        return Ok(());
    }
    let (calls, receipts): (Vec<&str>, Vec<&str>) =
        links.iter().map(|(c, r)| (c.as_str(), r.as_str())).unzip();
    exec(
        tx,
        "INSERT INTO call_receipts (call_id, receipt_id)
         SELECT * FROM unnest($1::TEXT[], $2::TEXT[]) ON CONFLICT DO NOTHING",
        &[&calls, &receipts],
    )
    .await?;
    Ok(())
}

/// Sets the projected receipts' final statuses.
async fn mark_receipts(tx: &Transaction<'_>, receipts: &[ReceiptWrite]) -> Result<(), StoreError> {
    let ids: Vec<&str> = receipts.iter().map(|r| r.id.as_str()).collect();
    let statuses: Vec<&str> = receipts.iter().map(|r| r.status.as_str()).collect();
    exec(
        tx,
        "UPDATE receipts SET status = u.status
         FROM unnest($1::TEXT[], $2::TEXT[]) AS u(id, status) WHERE receipts.id = u.id",
        &[&ids, &statuses],
    )
    .await?;
    Ok(())
}

/// Sets the re-projected receipts' statuses and [`RereadColumns`], and
/// counts a replay at `at`.
async fn mark_rereads(
    tx: &Transaction<'_>,
    receipts: &[ReceiptWrite],
    at: Timestamp,
    kinds: &HashMap<String, SourceKind>,
) -> Result<(), StoreError> {
    let ids: Vec<&str> = receipts.iter().map(|r| r.id.as_str()).collect();
    let statuses: Vec<&str> = receipts.iter().map(|r| r.status.as_str()).collect();
    let cols = receipts
        .iter()
        .map(|r| r.reread_columns(kinds))
        .collect::<Result<Vec<RereadColumns>, _>>()?;
    let counts: Vec<i64> = cols.iter().map(|c| c.record_count).collect();
    let errors: Vec<&str> = cols.iter().map(|c| c.errors.as_str()).collect();
    let warnings: Vec<&str> = cols.iter().map(|c| c.warnings.as_str()).collect();
    let kind: Vec<Option<&str>> = cols.iter().map(|c| c.kind).collect();
    exec(
        tx,
        "UPDATE receipts SET status = u.status, record_count = u.n, errors = u.e,
            warnings = u.w, replay_count = replay_count + 1, replayed_at = $7,
            kind = COALESCE(u.k, receipts.kind)
         FROM unnest($1::TEXT[], $2::TEXT[], $3::BIGINT[], $4::TEXT[], $5::TEXT[], $6::TEXT[])
            AS u(id, status, n, e, w, k)
         WHERE receipts.id = u.id",
        &[
            &ids,
            &statuses,
            &counts,
            &errors,
            &warnings,
            &kind,
            &at.as_millisecond(),
        ],
    )
    .await?;
    Ok(())
}

/// Inserts or updates every changed call of `plan` in one statement.
async fn write_calls(tx: &Transaction<'_>, plan: &Plan) -> Result<(), StoreError> {
    if plan.calls.is_empty() {
        return Ok(());
    }
    let n = plan.calls.len();
    let (mut id, mut vendor, mut vcid, mut source, mut direction, mut outcome) = (
        Vec::with_capacity(n),
        vec![],
        vec![],
        vec![],
        vec![],
        vec![],
    );
    let (mut task, mut out, mut customer, mut started, mut talk) =
        (vec![], vec![], vec![], vec![], vec![]);
    let (mut amount, mut currency, mut qa, mut doc, mut seq) =
        (vec![], vec![], vec![], vec![], vec![]);
    for w in &plan.calls {
        let c = &w.call;
        id.push(c.id.as_str());
        vendor.push(c.vendor.as_str());
        vcid.push(c.vendor_call_id.as_str());
        source.push(c.source.as_str());
        direction.push(c.direction.as_str());
        outcome.push(c.outcome.as_str());
        task.push(c.task_id.as_deref());
        out.push(c.out_id.as_deref());
        customer.push(c.customer_number.as_deref());
        started.push(c.started_at.as_millisecond());
        talk.push(c.talk_seconds);
        amount.push(c.cost.as_ref().map(|m| m.amount.to_string()));
        currency.push(c.cost.as_ref().map(|m| m.currency.clone()));
        qa.push(c.qa_score_percent());
        doc.push(pack_doc(&w.doc).into_bytes());
        seq.push(w.last_seq);
    }
    exec(
        tx,
        "INSERT INTO calls (id, vendor, vendor_call_id, source, direction, outcome, task_id, out_id,
            customer_number, started_at, talk_seconds, cost_amount, cost_currency, qa_score, doc, last_seq)
         SELECT * FROM unnest($1::TEXT[], $2::TEXT[], $3::TEXT[], $4::TEXT[], $5::TEXT[], $6::TEXT[],
            $7::TEXT[], $8::TEXT[], $9::TEXT[], $10::BIGINT[], $11::BIGINT[], $12::TEXT[], $13::TEXT[],
            $14::FLOAT8[], $15::BYTEA[], $16::BIGINT[])
         ON CONFLICT (id) DO UPDATE SET source = excluded.source, direction = excluded.direction,
            outcome = excluded.outcome, task_id = excluded.task_id, out_id = excluded.out_id,
            customer_number = excluded.customer_number, started_at = excluded.started_at,
            talk_seconds = excluded.talk_seconds, cost_amount = excluded.cost_amount,
            cost_currency = excluded.cost_currency, qa_score = excluded.qa_score, doc = excluded.doc,
            last_seq = excluded.last_seq",
        &[
            &id, &vendor, &vcid, &source, &direction, &outcome, &task, &out, &customer, &started,
            &talk, &amount, &currency, &qa, &doc, &seq,
        ],
    )
    .await?;
    let calls: Vec<&crate::domain::Call> = plan.calls.iter().map(|w| &w.call).collect();
    super::search::upsert_texts(tx, &calls).await
}

/// Inserts the events of `plan` that some target wants, then their
/// deliveries, in event order.
async fn write_events(
    tx: &Transaction<'_>,
    plan: &Plan,
    targets: &[Target],
) -> Result<(), StoreError> {
    let events: Vec<(NewEvent, &projection::EventWrite)> = plan
        .events
        .iter()
        .filter_map(|e| {
            NewEvent::make(&e.id, &e.call, &e.doc, e.change, e.at, targets).map(|n| (n, e))
        })
        .collect();
    if events.is_empty() {
        return Ok(());
    }
    let ids: Vec<&str> = events.iter().map(|(n, _)| n.id.as_str()).collect();
    let types: Vec<&str> = events.iter().map(|(n, _)| n.kind.as_str()).collect();
    let vendors: Vec<&str> = events.iter().map(|(_, e)| e.call.vendor.as_str()).collect();
    let calls: Vec<&str> = events.iter().map(|(_, e)| e.call.id.as_str()).collect();
    let ats: Vec<i64> = events.iter().map(|(_, e)| e.at.as_millisecond()).collect();
    let payloads: Vec<&str> = events.iter().map(|(n, _)| n.payload.as_str()).collect();
    // WITH ORDINALITY keeps the plan's order in the sequence numbers.
    let rows = query(
        tx,
        "INSERT INTO events (id, type, vendor, call_id, created_at, payload)
         SELECT id, type, vendor, call_id, created_at, payload
         FROM unnest($1::TEXT[], $2::TEXT[], $3::TEXT[], $4::TEXT[], $5::BIGINT[], $6::TEXT[])
            WITH ORDINALITY AS u(id, type, vendor, call_id, created_at, payload, n)
         ORDER BY n RETURNING id, seq",
        &[&ids, &types, &vendors, &calls, &ats, &payloads],
    )
    .await?;
    let seqs: HashMap<String, i64> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
    let (mut d_id, mut d_target, mut d_seq, mut d_call, mut d_at) =
        (vec![], vec![], vec![], vec![], vec![]);
    for (n, e) in &events {
        let seq = *seqs
            .get(&n.id)
            .ok_or_else(|| StoreError::corrupt("event", format!("{} was not inserted", n.id)))?;
        for t in &n.targets {
            d_id.push(new_delivery_id());
            d_target.push(t.name.as_str());
            d_seq.push(seq);
            d_call.push(e.call.id.as_str());
            d_at.push(e.at.as_millisecond());
        }
    }
    exec(
        tx,
        "INSERT INTO deliveries (id, target, event_seq, call_id, status, created_at, next_attempt_at)
         SELECT id, target, seq, call_id, 'pending', at, at
         FROM unnest($1::TEXT[], $2::TEXT[], $3::BIGINT[], $4::TEXT[], $5::BIGINT[])
            AS u(id, target, seq, call_id, at)",
        &[&d_id, &d_target, &d_seq, &d_call, &d_at],
    )
    .await?;
    Ok(())
}
