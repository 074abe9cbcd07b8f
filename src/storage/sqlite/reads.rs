//! Read queries, each on a pooled read-only connection.

use super::rows::{self, from_ms, stored_call, RECEIPT_COLUMNS};
use crate::domain::Call;
use crate::storage::columns::decode;
use crate::storage::doc_codec::StoredDoc;
use crate::storage::filter::{Conditions, Dialect, Param};
use crate::storage::rollup::{CallFolder, Dim, RollupRow};
use crate::storage::search::TextQuery;
use crate::storage::{
    CallCursor, CallDetail, CallFilter, Page, PageRequest, Receipt, ReceiptFilter, ReceiptRef,
    ReceiptStatus, ReceiptSummary, StoreError,
};
use rusqlite::types::Value as Sql;
use rusqlite::{params_from_iter, Connection, OptionalExtension};

/// `WHERE …` (or empty) and its parameters for `conds`.
pub(super) fn where_clause(conds: &Conditions) -> (String, Vec<Sql>) {
    let (wh, params) = conds.render(1, |_| "?".to_owned());
    let params = params
        .into_iter()
        .map(|p| match p {
            Param::Text(t) => Sql::Text(t),
            Param::Int(i) => Sql::Integer(i),
        })
        .collect();
    (wh, params)
}

/// Matches at or above which a text query lists calls by checking each
/// call's text in list order: at 1,000,000 calls, collecting 5,000 matches
/// (about 60 ms) costs about what reading the 10,000 texts that hold 50 of
/// them does (`examples/search_bench.rs`).
/// (2 in unit tests, so both ways run.)
const COMMON_TEXT: i64 = if cfg!(test) { 2 } else { 5_000 };

/// Whether `filter`'s text query (3 characters or more) matches at least
/// [`COMMON_TEXT`] calls: counted from the index, stopping there.
fn common_text(conn: &Connection, filter: &CallFilter) -> Result<bool, StoreError> {
    let Some(q) = filter.text.as_deref().and_then(TextQuery::lenient) else {
        return Ok(false);
    };
    if !q.indexed() {
        return Ok(false);
    }
    let n: i64 = conn
        .prepare_cached(
            "SELECT count(*) FROM (SELECT 1 FROM call_fts WHERE call_fts MATCH ?1 LIMIT ?2)",
        )
        .and_then(|mut s| {
            s.query_row(rusqlite::params![q.fts5_phrase(), COMMON_TEXT], |r| {
                r.get(0)
            })
        })?;
    Ok(n >= COMMON_TEXT)
}

pub fn list_calls(
    conn: &Connection,
    filter: &CallFilter,
    page: &PageRequest,
) -> Result<Page<Call>, StoreError> {
    let walk = common_text(conn, filter)?;
    let mut conds = Conditions::of_calls(filter, Dialect::Sqlite { walk });
    if let Some(c) = &page.cursor {
        conds.after_call(c)?;
    }
    let (wh, mut params) = where_clause(&conds);
    params.push(Sql::Integer(page.limit as i64 + 1));
    let sql = format!("SELECT doc FROM calls {wh} ORDER BY started_at DESC, id DESC LIMIT ?");
    let mut stmt = conn.prepare_cached(&sql)?;
    let docs = stmt
        .query_map(params_from_iter(params), |r| r.get::<_, StoredDoc>(0))?
        .collect::<Result<Vec<_>, _>>()?;
    let mut items = docs
        .into_iter()
        .map(stored_call)
        .collect::<Result<Vec<_>, _>>()?;
    super::recordings::fill(conn, &mut items)?;
    Ok(Page::from_overfetch(items, page.limit, |c| {
        CallCursor {
            started_at_ms: rows::ms(c.started_at),
            id: c.id.clone(),
        }
        .encode()
    }))
}

pub fn get_call(conn: &Connection, id: &str) -> Result<Option<CallDetail>, StoreError> {
    let doc: Option<StoredDoc> = conn
        .prepare_cached("SELECT doc FROM calls WHERE id = ?1")
        .and_then(|mut s| s.query_row([id], |r| r.get(0)).optional())?;
    let Some(doc) = doc else { return Ok(None) };
    let mut call = stored_call(doc)?;
    super::recordings::fill(conn, std::slice::from_mut(&mut call))?;
    let mut stmt = conn.prepare_cached(
        "SELECT r.id, r.source, r.received_at, r.status FROM call_receipts cr
             JOIN receipts r ON r.id = cr.receipt_id WHERE cr.call_id = ?1 ORDER BY r.id",
    )?;
    let raw = stmt
        .query_map([id], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, String>(3)?,
            ))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    let receipts = raw
        .into_iter()
        .map(|(id, source, at, status)| {
            Ok(ReceiptRef {
                id,
                source,
                received_at: from_ms(at)?,
                status: decode(&status)?,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    Ok(Some(CallDetail { call, receipts }))
}

/// The calls matching `filter` folded into rollup rows keyed by `dims`
/// (hours and days in `tz`): [`crate::storage::Store::scan_rollup_in`].
/// Reads the matching documents through the filter's indexes.
///
/// Errors: [`StoreError::Unavailable`], [`StoreError::Corrupt`] for a
/// document that does not decode.
pub fn scan_rollup(
    conn: &Connection,
    dims: &[Dim],
    filter: &CallFilter,
    tz: &jiff::tz::TimeZone,
) -> Result<Vec<RollupRow>, StoreError> {
    let (wh, params) = where_clause(&Conditions::of_calls(
        filter,
        Dialect::Sqlite { walk: false },
    ));
    let sql = format!("SELECT doc FROM calls {wh}");
    let mut stmt = conn.prepare_cached(&sql)?;
    let mut rows = stmt.query(params_from_iter(params))?;
    let mut folder = CallFolder::new(dims, tz);
    while let Some(r) = rows.next()? {
        folder.add(&stored_call(r.get(0)?)?);
    }
    Ok(folder.finish())
}

pub fn list_receipts(
    conn: &Connection,
    filter: &ReceiptFilter,
    page: &PageRequest,
) -> Result<Page<ReceiptSummary>, StoreError> {
    let mut conds = crate::storage::page_reads::receipt_conditions(filter, true);
    if let Some(c) = &page.cursor {
        conds.push("id < ?", [Param::Text(c.clone())]);
    }
    let (wh, mut params) = where_clause(&conds);
    params.push(Sql::Integer(page.limit as i64 + 1));
    let sql = format!("SELECT {RECEIPT_COLUMNS} FROM receipts {wh} ORDER BY id DESC LIMIT ?");
    let mut stmt = conn.prepare_cached(&sql)?;
    let mut rows = stmt.query(params_from_iter(params))?;
    let mut items = Vec::new();
    while let Some(r) = rows.next()? {
        items.push(rows::receipt_summary(r)?);
    }
    Ok(Page::from_overfetch(items, page.limit, |r| r.id.clone()))
}

pub fn get_receipt(conn: &Connection, id: &str) -> Result<Option<Receipt>, StoreError> {
    let sql = format!("SELECT {RECEIPT_COLUMNS}, body, body_codec FROM receipts WHERE id = ?1");
    let mut stmt = conn.prepare_cached(&sql)?;
    let mut rows = stmt.query([id])?;
    let Some(r) = rows.next()? else {
        return Ok(None);
    };
    let summary = rows::receipt_summary(r)?;
    let stored: Vec<u8> = r.get(13)?;
    let codec = crate::storage::BodyCodec::from_column(r.get(14)?)?;
    let body = crate::storage::unpack_body(codec, stored, summary.body_bytes)?;
    Ok(Some(Receipt { summary, body }))
}

pub fn receipt_ids(
    conn: &Connection,
    status: Option<ReceiptStatus>,
) -> Result<Vec<String>, StoreError> {
    let (sql, params): (&str, Vec<Sql>) = match status {
        Some(s) => (
            "SELECT id FROM receipts WHERE status = ?1 ORDER BY id",
            vec![Sql::Text(s.as_str().into())],
        ),
        None => ("SELECT id FROM receipts ORDER BY id", vec![]),
    };
    let mut stmt = conn.prepare_cached(sql)?;
    let ids = stmt
        .query_map(params_from_iter(params), |r| r.get(0))?
        .collect::<Result<Vec<String>, _>>()?;
    Ok(ids)
}

/// [`crate::storage::Store::projection_lag`]: read from the partial index
/// of pending receipts, so its cost follows the backlog.
pub fn projection_lag(conn: &Connection) -> Result<crate::storage::ProjectionLag, StoreError> {
    let (receipts, records, oldest): (i64, i64, Option<i64>) = conn
        .prepare_cached(
            "SELECT count(*), COALESCE(SUM(record_count), 0), MIN(received_at)
             FROM receipts WHERE status = 'pending'",
        )
        .and_then(|mut s| s.query_row([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?))))?;
    Ok(crate::storage::ProjectionLag {
        pending_receipts: receipts as u64,
        pending_records: records as u64,
        oldest_pending_at: oldest.map(from_ms).transpose()?,
    })
}
