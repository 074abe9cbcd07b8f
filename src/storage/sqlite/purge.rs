//! Retention and deletes in SQLite (`storage/purge.rs`): each function runs
//! inside the writer's transaction (`write`), so a batch is one commit and
//! holds the writer only as long as its own rows take.

use super::rollups;
use super::rows::ms;
use crate::domain::Call;
use crate::storage::doc_codec::StoredDoc;
use crate::storage::outbox_sql::numbered;
use crate::storage::purge::{self, PurgeCounts};
use crate::storage::rollup::{RollupDelta, Sums};
use crate::storage::StoreError;
use jiff::Timestamp;
use rusqlite::{params, Connection, OptionalExtension};

/// One batch: at most `limit` calls, `limit` receipts and `limit` events
/// by age older than `cutoff` (see [`crate::storage::Store::purge`]).
///
/// Errors: [`StoreError::Unavailable`] when a statement fails,
/// [`StoreError::Corrupt`] for a call document that does not read.
pub fn batch(tx: &Connection, cutoff: Timestamp, limit: usize) -> Result<PurgeCounts, StoreError> {
    let at = ms(cutoff);
    let n = limit as i64;
    let calls = ids_with_docs(tx, at, n)?;
    let mut counts = delete_calls(tx, &calls, false)?;
    let receipts: Vec<String> = ids(tx, purge::RECEIPTS_DUE, at, n)?;
    counts.receipts = delete_receipts(tx, &receipts)?;
    // At most `limit` events in all: those of the calls deleted count.
    let room = n.saturating_sub(counts.events as i64).max(0);
    let events: Vec<i64> = ids(tx, &purge::events_due(), at, room)?;
    let mut del_deliveries = tx.prepare_cached("DELETE FROM deliveries WHERE event_seq = ?1")?;
    let mut del_event = tx.prepare_cached("DELETE FROM events WHERE seq = ?1")?;
    for seq in &events {
        del_deliveries.execute([seq])?;
        counts.events += del_event.execute([seq])? as u64;
    }
    Ok(counts)
}

/// What [`batch`] would delete, in all batches together.
///
/// Errors: [`StoreError::Unavailable`] when the query fails.
pub fn count(c: &Connection, cutoff: Timestamp) -> Result<PurgeCounts, StoreError> {
    let (calls, receipts, events): (i64, i64, i64) =
        c.query_row(&numbered(&purge::count_due(), '?'), [ms(cutoff)], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })?;
    Ok(PurgeCounts {
        calls: calls as u64,
        receipts: receipts as u64,
        events: events as u64,
    })
}

/// Deletes call `id` as retention does, plus its pending deliveries and
/// the receipts that mention no other call; `None` when there is no such
/// call.
///
/// Errors: as [`batch`].
pub fn delete_call(tx: &Connection, id: &str) -> Result<Option<PurgeCounts>, StoreError> {
    let doc: Option<StoredDoc> = tx
        .prepare_cached("SELECT doc FROM calls WHERE id = ?1")
        .and_then(|mut s| s.query_row([id], |r| r.get(0)).optional())?;
    let Some(doc) = doc else { return Ok(None) };
    let sole = {
        let mut stmt = tx.prepare_cached(&numbered(purge::SOLE_RECEIPTS, '?'))?;
        let rows = stmt.query_map([id], |r| r.get::<_, String>(0))?;
        rows.collect::<Result<Vec<_>, _>>()?
    };
    let mut counts = delete_calls(tx, &[(id.to_owned(), doc)], true)?;
    counts.receipts = delete_receipts(tx, &sole)?;
    Ok(Some(counts))
}

/// Deletes receipt `id` and its links to calls (the calls stay); `false`
/// when there is no such receipt.
///
/// Errors: [`StoreError::Unavailable`] when a statement fails.
pub fn delete_receipt(tx: &Connection, id: &str) -> Result<bool, StoreError> {
    Ok(delete_receipts(tx, &[id.to_owned()])? == 1)
}

/// `(id, doc)` of the calls due, oldest first.
fn ids_with_docs(tx: &Connection, at: i64, n: i64) -> Result<Vec<(String, StoredDoc)>, StoreError> {
    let mut stmt = tx.prepare_cached(&numbered(purge::CALLS_DUE, '?'))?;
    let rows = stmt.query_map(params![at, n], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}

/// The first column of `sql` (numbered `#`) run with the cutoff and limit.
fn ids<T: rusqlite::types::FromSql>(
    tx: &Connection,
    sql: &str,
    at: i64,
    n: i64,
) -> Result<Vec<T>, StoreError> {
    let mut stmt = tx.prepare_cached(&numbered(sql, '?'))?;
    let rows = stmt.query_map(params![at, n], |r| r.get(0))?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}

/// Deletes `calls` (`(id, doc)`), their receipt links and events, and
/// takes them out of the rollups. An event with a pending delivery is
/// kept unless `with_pending`. Returns the calls and events deleted.
fn delete_calls(
    tx: &Connection,
    calls: &[(String, StoredDoc)],
    with_pending: bool,
) -> Result<PurgeCounts, StoreError> {
    let mut counts = PurgeCounts::default();
    if calls.is_empty() {
        return Ok(counts);
    }
    let (deliveries_sql, events_sql) = if with_pending {
        (
            "DELETE FROM deliveries WHERE event_seq IN (SELECT seq FROM events WHERE call_id = ?1)",
            "DELETE FROM events WHERE call_id = ?1",
        )
    } else {
        (
            "DELETE FROM deliveries WHERE event_seq IN (SELECT e.seq FROM events e
                WHERE e.call_id = ?1 AND NOT EXISTS (SELECT 1 FROM deliveries p
                    WHERE p.event_seq = e.seq AND p.status = 'pending'))",
            // What has a delivery left after the statement above is pending.
            "DELETE FROM events WHERE call_id = ?1
                AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_seq = events.seq)",
        )
    };
    let prep = |sql: &str| tx.prepare_cached(sql);
    let mut links = prep("DELETE FROM call_receipts WHERE call_id = ?1")?;
    let mut deliveries = prep(deliveries_sql)?;
    let mut events = prep(events_sql)?;
    let mut call = prep("DELETE FROM calls WHERE id = ?1")?;
    let mut delta = RollupDelta::default();
    for (id, doc) in calls {
        let c: Call = serde_json::from_str(&doc.json()?)
            .map_err(|e| StoreError::corrupt(format!("call {id}"), e))?;
        delta.remove(Sums::of(&c));
        links.execute([id])?;
        deliveries.execute([id])?;
        counts.events += events.execute([id])? as u64;
        super::recordings::delete_of_calls(tx, &[id.as_str()])?;
        counts.calls += call.execute([id])? as u64;
    }
    rollups::apply(tx, &delta, true)?;
    Ok(counts)
}

/// Deletes the receipts `ids` and their links; returns how many existed.
fn delete_receipts(tx: &Connection, ids: &[String]) -> Result<u64, StoreError> {
    let mut links = tx.prepare_cached("DELETE FROM call_receipts WHERE receipt_id = ?1")?;
    let mut receipt = tx.prepare_cached("DELETE FROM receipts WHERE id = ?1")?;
    let mut n = 0;
    for id in ids {
        links.execute([id])?;
        n += receipt.execute([id])? as u64;
    }
    Ok(n)
}
