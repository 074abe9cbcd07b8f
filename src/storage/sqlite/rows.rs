//! Mapping between rows and the store's types.

use crate::adapters::RecordIssue;
use crate::domain::Call;
use crate::storage::columns::decode;
use crate::storage::doc_codec::{pack_doc, StoredDoc};
use crate::storage::{Append, PackedBody, ReceiptSummary, StoreError};
use jiff::Timestamp;
use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ToSqlOutput, ValueRef};
use rusqlite::{params, Connection, Row, ToSql};

pub fn ms(t: Timestamp) -> i64 {
    t.as_millisecond()
}

pub(crate) use crate::storage::shared::from_ms;
use crate::storage::shared::receipt_issues;

/// Inserts or replaces the row of `call` (its columns, its JSON document
/// `doc`, stored compressed (`doc_codec`), and the highest receipt
/// `last_seq` applied to it).
pub fn upsert_call(
    conn: &Connection,
    call: &Call,
    doc: &str,
    last_seq: i64,
) -> Result<(), StoreError> {
    let mut stmt = conn
        .prepare_cached(
            "INSERT INTO calls (id, vendor, vendor_call_id, source, direction, outcome, task_id, out_id,
                customer_number, started_at, talk_seconds, cost_amount, cost_currency, qa_score, doc,
                last_seq)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)
             ON CONFLICT(id) DO UPDATE SET source = excluded.source, direction = excluded.direction,
                outcome = excluded.outcome, task_id = excluded.task_id, out_id = excluded.out_id,
                customer_number = excluded.customer_number, started_at = excluded.started_at,
                talk_seconds = excluded.talk_seconds, cost_amount = excluded.cost_amount,
                cost_currency = excluded.cost_currency, qa_score = excluded.qa_score, doc = excluded.doc,
                last_seq = excluded.last_seq",
        )?;
    stmt.execute(params![
        call.id,
        call.vendor.as_str(),
        call.vendor_call_id,
        call.source,
        call.direction.as_str(),
        call.outcome.as_str(),
        call.task_id,
        call.out_id,
        call.customer_number,
        ms(call.started_at),
        call.talk_seconds,
        call.cost.as_ref().map(|c| c.amount.to_string()),
        call.cost.as_ref().map(|c| c.currency.clone()),
        call.qa_score_percent(),
        pack_doc(doc),
        last_seq,
    ])?;
    Ok(())
}

/// Inserts an acknowledged receipt: status `pending` (or `rejected`), the
/// adapter's issues, and `body` (packed from the verbatim body).
pub fn append_receipt(conn: &Connection, a: &Append, body: &PackedBody) -> Result<(), StoreError> {
    let r = &a.receipt;
    let json = serde_json::to_string::<[RecordIssue]>;
    let (errors, warnings) = (json(&a.head.errors)?, json(&a.head.warnings)?);
    conn.prepare_cached(
        "INSERT INTO receipts (id, source, kind, received_at, remote_addr, sha256, status, record_count,
            errors, warnings, body, body_codec, body_bytes)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
    )
    .and_then(|mut s| {
        s.execute(params![
            r.id,
            r.source,
            r.kind.as_str(),
            ms(r.received_at),
            r.remote_addr,
            body.sha256,
            a.head.status.as_str(),
            a.head.record_count as i64,
            errors,
            warnings,
            &body.stored[..],
            body.codec as i64,
            body.len as i64,
        ])
    })?;
    Ok(())
}

/// The receipt columns read by [`receipt_summary`], in order.
pub const RECEIPT_COLUMNS: &str =
    "id, source, kind, received_at, remote_addr, sha256, status, record_count,
    errors, warnings, replay_count, replayed_at, COALESCE(body_bytes, length(body))";

/// Reads a row selected with [`RECEIPT_COLUMNS`].
pub fn receipt_summary(row: &Row) -> Result<ReceiptSummary, StoreError> {
    let get_s = |i: usize| row.get::<_, String>(i);
    Ok(ReceiptSummary {
        id: get_s(0)?,
        source: get_s(1)?,
        kind: decode(&get_s(2)?)?,
        received_at: from_ms(row.get(3)?)?,
        remote_addr: get_s(4)?,
        sha256: get_s(5)?,
        status: decode(&get_s(6)?)?,
        record_count: row.get::<_, i64>(7)? as usize,
        errors: receipt_issues(&get_s(8)?)?,
        warnings: receipt_issues(&get_s(9)?)?,
        replay_count: row.get::<_, i64>(10)? as u32,
        replayed_at: row.get::<_, Option<i64>>(11)?.map(from_ms).transpose()?,
        body_bytes: row.get::<_, i64>(12)? as usize,
    })
}

/// Reads a call's JSON document.
pub fn call_doc(doc: &str) -> Result<Call, StoreError> {
    decode(doc)
}

/// The call in a `doc` column (compressed, or JSON text written before
/// compression).
///
/// Errors: [`StoreError::Corrupt`] when it does not unpack or parse.
pub fn stored_call(doc: StoredDoc) -> Result<Call, StoreError> {
    call_doc(&doc.json()?)
}

impl FromSql for StoredDoc {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        match value {
            ValueRef::Text(t) => std::str::from_utf8(t)
                .map(|s| StoredDoc::Text(s.to_owned()))
                .map_err(|e| FromSqlError::Other(Box::new(e))),
            ValueRef::Blob(b) => Ok(StoredDoc::Packed(b.to_vec())),
            _ => Err(FromSqlError::InvalidType),
        }
    }
}

impl ToSql for StoredDoc {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match self {
            StoredDoc::Text(s) => ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes())),
            StoredDoc::Packed(b) => ToSqlOutput::Borrowed(ValueRef::Blob(b)),
        })
    }
}
