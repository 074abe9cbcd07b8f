//! The search text of calls on PostgreSQL (`call_text`, `pg_trgm` GIN
//! index; schema migration "full-text search").

use super::ingest::exec;
use crate::domain::Call;
use crate::storage::columns::decode;
use crate::storage::doc_codec::json_of_bytes;
use crate::storage::search::index_text;
use crate::storage::StoreError;
use deadpool_postgres::Transaction;

/// Writes the search text of `calls` in one statement (the projector, in
/// its transaction); an unchanged text is not written again.
///
/// Errors: [`StoreError::Unavailable`] when the statement fails.
pub async fn upsert_texts(tx: &Transaction<'_>, calls: &[&Call]) -> Result<(), StoreError> {
    if calls.is_empty() {
        return Ok(());
    }
    let ids: Vec<&str> = calls.iter().map(|c| c.id.as_str()).collect();
    let bodies: Vec<String> = calls.iter().map(|c| index_text(c)).collect();
    exec(
        tx,
        "INSERT INTO call_text (call_id, body) SELECT * FROM unnest($1::TEXT[], $2::TEXT[])
         ON CONFLICT (call_id) DO UPDATE SET body = excluded.body
            WHERE call_text.body IS DISTINCT FROM excluded.body",
        &[&ids, &bodies],
    )
    .await?;
    Ok(())
}

/// Fills `call_text` from every stored call, 1,000 at a time (the
/// migration that creates it); returns how many calls were written. A
/// document that cannot be read is left out (logged): it could not be
/// listed either.
///
/// Errors: the PostgreSQL error; the migration then applies nothing.
pub async fn fill(tx: &tokio_postgres::Transaction<'_>) -> Result<usize, tokio_postgres::Error> {
    let mut after = String::new();
    let mut n = 0;
    loop {
        let rows = tx
            .query(
                "SELECT id, doc FROM calls WHERE id > $1 ORDER BY id LIMIT 1000",
                &[&after],
            )
            .await?;
        let Some(last) = rows.last() else { break };
        after = last.get(0);
        let (mut ids, mut bodies) = (Vec::new(), Vec::new());
        for row in &rows {
            let id: String = row.get(0);
            let doc: Vec<u8> = row.get(1);
            let call = json_of_bytes(&doc).and_then(|j| decode::<Call>(&j));
            match call {
                Ok(c) => {
                    bodies.push(index_text(&c));
                    ids.push(id);
                }
                Err(e) => {
                    tracing::warn!(call = %id, error = %crate::error_chain::ErrorChain(&e), "call_text: unreadable call left out")
                }
            }
        }
        n += ids.len();
        tx.execute(
            "INSERT INTO call_text (call_id, body) SELECT * FROM unnest($1::TEXT[], $2::TEXT[])
             ON CONFLICT (call_id) DO UPDATE SET body = excluded.body",
            &[&ids, &bodies],
        )
        .await?;
    }
    Ok(n)
}
