//! The search text of calls on SQLite (`call_text`, indexed by the FTS5
//! trigram table `call_fts` through triggers; schema migration "full-text
//! search").

use super::rows::{stored_call, unavailable};
use crate::domain::Call;
use crate::storage::doc_codec::StoredDoc;
use crate::storage::search::index_text;
use crate::storage::StoreError;
use rusqlite::{params, Connection};

/// Writes `call`'s search text (the projector, in its transaction). An
/// unchanged text is not written again, so the index is only touched when
/// the transcript, analyses, intent or tags change.
///
/// Errors: [`StoreError::Unavailable`] when the statement fails.
pub fn upsert_text(conn: &Connection, call: &Call) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO call_text (call_id, body) VALUES (?1, ?2)
         ON CONFLICT (call_id) DO UPDATE SET body = excluded.body WHERE body != excluded.body",
    )
    .and_then(|mut s| s.execute(params![call.id, index_text(call)]))
    .map_err(unavailable)?;
    Ok(())
}

/// Fills `call_text` from every stored call (the migration that creates
/// it); returns how many calls were written.
///
/// Errors: the SQLite error, or a document that cannot be read (as
/// `rusqlite::Error::UserFunctionError`): the migration then applies nothing.
pub fn fill(tx: &Connection) -> rusqlite::Result<usize> {
    let mut read = tx.prepare("SELECT doc FROM calls")?;
    let mut write =
        tx.prepare("INSERT OR REPLACE INTO call_text (call_id, body) VALUES (?1, ?2)")?;
    let mut rows = read.query([])?;
    let mut n = 0;
    while let Some(row) = rows.next()? {
        let doc: StoredDoc = row.get(0)?;
        let call = stored_call(doc).map_err(|e: StoreError| {
            rusqlite::Error::UserFunctionError(format!("filling call_text: {e}").into())
        })?;
        write.execute(params![call.id, index_text(&call)])?;
        n += 1;
    }
    Ok(n)
}
