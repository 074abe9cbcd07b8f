//! Projection on SQLite: pending receipts are read and parsed outside the
//! writer (read pool, blocking threads), then applied by the writer in one
//! transaction ([`project_batch`]) after checking that each is still
//! pending (another process on the same file may have projected it).
//! Re-projection ([`reproject_batch`]) reads receipts again and rebuilds
//! the calls they touch. The pure rules are in `storage/projection/`.

use super::rows::{from_ms, ms, stored_call};
use super::{outbox, rollups, rows};
use crate::domain::SourceKind;
use crate::storage::columns::decode;
use crate::storage::doc_codec::StoredDoc;
pub use crate::storage::projection::read_all;
use crate::storage::projection::{
    self, BatchSize, Mode, Plan, RawReceipt, ReadReceipt, StoredCall,
};
use crate::storage::{
    unpack_body, BodyCodec, BodyReader, ProjectReport, ReprojectFilter, ReprojectReport,
    StoreError, Target,
};
use jiff::Timestamp;
use rusqlite::types::Value as Sql;
use rusqlite::{params, params_from_iter, Connection, OptionalExtension, Row};
use std::collections::HashMap;

/// The columns [`raw`] reads, of receipts aliased `r`.
const RAW_COLUMNS: &str = "r.rowid, r.id, r.source, r.kind, r.received_at,
    r.body, r.body_codec, COALESCE(r.body_bytes, length(r.body))";

fn raw(row: &Row) -> Result<RawReceipt, StoreError> {
    let kind: String = row.get(3)?;
    let codec = BodyCodec::from_column(row.get(6)?);
    let len: i64 = row.get(7)?;
    Ok(RawReceipt {
        seq: row.get(0)?,
        id: row.get(1)?,
        source: row.get(2)?,
        kind: decode(&kind)?,
        received_at: from_ms(row.get(4)?)?,
        body: codec
            .and_then(|c| unpack_body(c, row.get(5)?, len as usize))
            .map_err(|e| e.to_string()),
    })
}

fn query_raw(
    conn: &Connection,
    sql: &str,
    params: Vec<Sql>,
) -> Result<Vec<RawReceipt>, StoreError> {
    let mut stmt = conn.prepare_cached(sql)?;
    let mut rows = stmt.query(params_from_iter(params))?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        out.push(raw(row)?);
    }
    Ok(out)
}

/// The oldest pending receipts in log order, holding about `max_records`
/// records (at least one receipt). Their sizes are read first, so only the
/// bodies of the batch are read and decompressed.
pub fn pending(conn: &Connection, max_records: usize) -> Result<Vec<RawReceipt>, StoreError> {
    let limit = max_records.clamp(1, 5_000) as i64;
    let mut sizes = conn.prepare_cached(
        "SELECT rowid, record_count, COALESCE(body_bytes, length(body)) FROM receipts
             WHERE status = 'pending' ORDER BY rowid LIMIT ?1",
    )?;
    let mut rows = sizes.query([limit])?;
    let (mut first, mut last) = (None, 0i64);
    let mut batch = BatchSize::new(max_records);
    while let Some(row) = rows.next()? {
        let (seq, count, bytes): (i64, i64, i64) = (row.get(0)?, row.get(1)?, row.get(2)?);
        if !batch.admit(count, bytes) {
            break;
        }
        first.get_or_insert(seq);
        last = seq;
    }
    let Some(first) = first else {
        return Ok(Vec::new());
    };
    let sql = format!(
        "SELECT {RAW_COLUMNS} FROM receipts r
         WHERE r.rowid BETWEEN ?1 AND ?2 AND r.status = 'pending' ORDER BY r.rowid"
    );
    query_raw(conn, &sql, vec![Sql::Integer(first), Sql::Integer(last)])
}

/// Projects `batch` (read from pending receipts) inside the writer's
/// transaction; receipts no longer pending are left out.
///
/// Errors: [`StoreError::Unavailable`] or [`StoreError::Corrupt`]; the
/// caller's transaction then keeps nothing of the batch.
pub fn project_batch(
    tx: &Connection,
    batch: &[ReadReceipt],
    reader: &dyn BodyReader,
    targets: &[Target],
) -> Result<ProjectReport, StoreError> {
    let mut still = tx.prepare_cached("SELECT status FROM receipts WHERE rowid = ?1")?;
    let mut live = Vec::with_capacity(batch.len());
    for r in batch {
        let status: Option<String> = still.query_row([r.seq], |row| row.get(0)).optional()?;
        if status.as_deref() == Some("pending") {
            live.push(r.clone());
        }
    }
    let stored = load_calls(tx, live.iter().flat_map(ReadReceipt::call_ids))?;
    let rebuild = projection::needs_history(&live, &stored, Mode::Project, &[]);
    let history = load_history(tx, &rebuild, reader)?;
    let plan = projection::plan(&live, &stored, &history, Mode::Project)?;
    let report = plan.report(&live);
    write_plan(tx, plan, targets, None)?;
    Ok(report)
}

/// Receipts `filter` selects after log position `after`, at most `limit`,
/// that are not pending, with their bodies.
pub fn selected(
    conn: &Connection,
    filter: &ReprojectFilter,
    after: i64,
    limit: usize,
) -> Result<Vec<RawReceipt>, StoreError> {
    let (wh, mut params) = filter_clause(filter);
    params.insert(0, Sql::Integer(after));
    params.push(Sql::Integer(limit as i64));
    let sql = format!(
        "SELECT {RAW_COLUMNS} FROM receipts r WHERE r.rowid > ?1 {wh} ORDER BY r.rowid LIMIT ?"
    );
    query_raw(conn, &sql, params)
}

/// How many receipts `filter` selects.
pub fn count_selected(conn: &Connection, filter: &ReprojectFilter) -> Result<u64, StoreError> {
    let (wh, params) = filter_clause(filter);
    let sql = format!("SELECT count(*) FROM receipts r WHERE 1 = 1 {wh}");
    Ok(conn
        .prepare_cached(&sql)
        .and_then(|mut s| s.query_row(params_from_iter(params), |r| r.get::<_, i64>(0)))
        .map(|n| n as u64)?)
}

/// `AND …` conditions of `filter` on receipts `r`, with `?` placeholders.
fn filter_clause(filter: &ReprojectFilter) -> (String, Vec<Sql>) {
    let mut wh = String::from(" AND r.status != 'pending'");
    let mut params = Vec::new();
    if let Some(ids) = &filter.ids {
        let marks = vec!["?"; ids.len().max(1)].join(", ");
        wh.push_str(&format!(" AND r.id IN ({marks})"));
        if ids.is_empty() {
            params.push(Sql::Null);
        }
        params.extend(ids.iter().map(|i| Sql::Text(i.clone())));
    }
    if let Some(s) = &filter.source {
        wh.push_str(" AND r.source = ?");
        params.push(Sql::Text(s.clone()));
    }
    if let Some(k) = filter.kind {
        wh.push_str(" AND r.kind = ?");
        params.push(Sql::Text(k.as_str().into()));
    }
    if let Some(t) = filter.since {
        wh.push_str(" AND r.received_at >= ?");
        params.push(Sql::Integer(ms(t)));
    }
    if let Some(t) = filter.until {
        wh.push_str(" AND r.received_at < ?");
        params.push(Sql::Integer(ms(t)));
    }
    (wh, params)
}

/// Re-projects `batch` (receipts read again) inside `tx`: every call they
/// touch now or touched before is rebuilt. With `dry_run`, nothing is
/// written (the caller may pass a read connection).
///
/// Errors: [`StoreError::Unavailable`] or [`StoreError::Corrupt`].
pub fn reproject_batch(
    tx: &Connection,
    batch: &[ReadReceipt],
    reader: &dyn BodyReader,
    targets: &[Target],
    at: Timestamp,
    dry_run: bool,
) -> Result<ReprojectReport, StoreError> {
    let mut linked =
        tx.prepare_cached("SELECT call_id FROM call_receipts WHERE receipt_id = ?1")?;
    let mut before = Vec::new();
    for r in batch {
        let ids = linked
            .query_map([&r.id], |row| row.get::<_, String>(0))?
            .collect::<Result<Vec<_>, _>>()?;
        before.extend(ids);
    }
    let mode = Mode::Reproject { at };
    let stored = load_calls(
        tx,
        batch
            .iter()
            .flat_map(ReadReceipt::call_ids)
            .chain(before.iter().cloned()),
    )?;
    let rebuild = projection::needs_history(batch, &stored, mode, &before);
    let history = load_history(tx, &rebuild, reader)?;
    let plan = projection::plan(batch, &stored, &history, mode)?;
    let report = ReprojectReport {
        receipts: batch.len(),
        calls_examined: rebuild.len(),
        calls_changed: plan.calls.len(),
        last_seq: batch.last().map(|r| r.seq),
        outcomes: plan.receipts.iter().map(|r| r.outcome.clone()).collect(),
    };
    if !dry_run {
        let kinds: HashMap<String, SourceKind> = batch
            .iter()
            .map(|r| (r.id.clone(), reader.kind_of(&r.source, kind_of(tx, &r.id))))
            .collect();
        write_plan(tx, plan, targets, Some((at, kinds)))?;
    }
    Ok(report)
}

/// The stored kind of receipt `id` (aliyun-call-report if unreadable: only
/// used to name the kind the body is read as now).
fn kind_of(tx: &Connection, id: &str) -> SourceKind {
    tx.query_row("SELECT kind FROM receipts WHERE id = ?1", [id], |r| {
        r.get::<_, String>(0)
    })
    .ok()
    .and_then(|k| k.parse().ok())
    .unwrap_or(SourceKind::AliyunCallReport)
}

/// The stored calls among `ids`.
fn load_calls(
    tx: &Connection,
    ids: impl IntoIterator<Item = String>,
) -> Result<HashMap<String, StoredCall>, StoreError> {
    let mut select = tx.prepare_cached("SELECT doc, last_seq FROM calls WHERE id = ?1")?;
    let mut stored = HashMap::new();
    for id in ids {
        if stored.contains_key(&id) {
            continue;
        }
        let row: Option<(StoredDoc, i64)> = select
            .query_row([&id], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        if let Some((doc, last_seq)) = row {
            let call = stored_call(doc)?;
            stored.insert(id, StoredCall { call, last_seq });
        }
    }
    Ok(stored)
}

/// For each call of `ids`, the receipts linked to it, read with `reader`.
fn load_history(
    tx: &Connection,
    ids: &[String],
    reader: &dyn BodyReader,
) -> Result<HashMap<String, Vec<ReadReceipt>>, StoreError> {
    let sql = format!(
        "SELECT {RAW_COLUMNS} FROM call_receipts cr JOIN receipts r ON r.id = cr.receipt_id
         WHERE cr.call_id = ?1 ORDER BY r.rowid"
    );
    let mut history = HashMap::new();
    for id in ids {
        let raws = query_raw(tx, &sql, vec![Sql::Text(id.clone())])?;
        history.insert(id.clone(), read_all(raws, reader));
    }
    Ok(history)
}

/// Writes `plan`: calls, events with their deliveries, links, rollups and
/// the receipts' statuses. `reread` (re-projection: when, and the kind each
/// receipt was read as) also replaces the receipts' issues, counts a
/// replay, and first drops the receipts' old links.
fn write_plan(
    tx: &Connection,
    plan: Plan,
    targets: &[Target],
    reread: Option<(Timestamp, HashMap<String, SourceKind>)>,
) -> Result<(), StoreError> {
    for c in &plan.calls {
        rows::upsert_call(tx, &c.call, &c.doc, c.last_seq)?;
        super::search::upsert_text(tx, &c.call)?;
    }
    let mut touch =
        tx.prepare_cached("UPDATE calls SET last_seq = ?2 WHERE id = ?1 AND last_seq < ?2")?;
    for (id, seq) in &plan.touched {
        touch.execute(params![id, seq])?;
    }
    for e in &plan.events {
        outbox::record_event(tx, &e.id, &e.call, &e.doc, e.change, e.at, targets)?;
    }
    if reread.is_some() {
        let mut unlink = tx.prepare_cached("DELETE FROM call_receipts WHERE receipt_id = ?1")?;
        for r in &plan.receipts {
            unlink.execute([&r.id])?;
        }
    }
    let mut link = tx.prepare_cached(
        "INSERT OR IGNORE INTO call_receipts (call_id, receipt_id) VALUES (?1, ?2)",
    )?;
    for (call, receipt) in &plan.links {
        link.execute(params![call, receipt])?;
    }
    rollups::apply(tx, &plan.rollups, false)?;
    super::recordings::enqueue(tx, &plan.recordings)?;
    match reread {
        None => {
            let mut mark = tx.prepare_cached("UPDATE receipts SET status = ?2 WHERE id = ?1")?;
            for r in &plan.receipts {
                mark.execute(params![r.id, r.status.as_str()])?;
            }
        }
        Some((at, kinds)) => {
            let mut mark = tx.prepare_cached(
                "UPDATE receipts SET status = ?2, record_count = ?3, errors = ?4, warnings = ?5,
                        replay_count = replay_count + 1, replayed_at = ?6, kind = COALESCE(?7, kind)
                     WHERE id = ?1",
            )?;
            for r in &plan.receipts {
                let cols = r.reread_columns(&kinds)?;
                mark.execute(params![
                    r.id,
                    r.status.as_str(),
                    cols.record_count,
                    cols.errors,
                    cols.warnings,
                    ms(at),
                    cols.kind,
                ])?;
            }
        }
    }
    Ok(())
}
