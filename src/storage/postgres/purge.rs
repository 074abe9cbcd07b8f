//! Retention and deletes in PostgreSQL (`storage/purge.rs`), safe beside
//! pushes on other instances:
//! - one instance purges at a time: each batch takes a transaction-level
//!   advisory lock, and answers [`PurgeBatch::Busy`] without it;
//! - rows a push holds are skipped (`FOR UPDATE SKIP LOCKED`), so a batch
//!   never waits on a push's call; a push that waits on a call this batch
//!   deleted finds it gone and creates it anew, with its rollup sums;
//! - rollup sums are taken out of shard 0 in key order (the order pushes
//!   lock them in), under the compaction lock, so no lock cycle forms.

use super::rollups;
use crate::domain::Call;
use crate::storage::doc_codec::json_of_bytes;
use crate::storage::outbox_sql::numbered;
use crate::storage::purge::{self, PurgeBatch, PurgeCounts};
use crate::storage::rollup::{RollupDelta, Sums};
use crate::storage::StoreError;
use deadpool_postgres::{Object, Transaction};
use jiff::Timestamp;

/// The advisory lock of a purge batch ("purge" in ASCII).
pub(crate) const PURGE_LOCK: i64 = 0x0070_7572_6765;

/// One batch (see [`crate::storage::Store::purge`]).
///
/// Errors: [`StoreError::Unavailable`] when a statement fails (nothing of
/// the batch is applied), [`StoreError::Corrupt`] for a call document that
/// does not read.
pub async fn batch(
    client: &mut Object,
    cutoff: Timestamp,
    limit: usize,
) -> Result<PurgeBatch, StoreError> {
    let tx = client.transaction().await?;
    if !super::try_xact_lock(&tx, PURGE_LOCK).await? {
        return Ok(PurgeBatch::Busy);
    }
    rollups::hold_compaction_lock(&tx).await?;
    let (at, n) = (cutoff.as_millisecond(), limit as i64);
    let skip = |sql: &str| format!("{} FOR UPDATE SKIP LOCKED", numbered(sql, '$'));
    let calls: Vec<(String, Vec<u8>)> = tx
        .query(&skip(purge::CALLS_DUE), &[&at, &n])
        .await?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    let mut counts = delete_calls(&tx, &calls, false).await?;
    let receipts: Vec<String> = tx
        .query(&skip(purge::RECEIPTS_DUE), &[&at, &n])
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect();
    counts.receipts = delete_receipts(&tx, &receipts).await?;
    // At most `limit` events in all: those of the calls deleted count.
    let room = n.saturating_sub(counts.events as i64).max(0);
    let events: Vec<i64> = tx
        .query(&skip(&purge::events_due()), &[&at, &room])
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect();
    // A delivery retried by hand meanwhile is pending again: it stays, and
    // so does its event.
    tx.execute(
        "DELETE FROM deliveries WHERE event_seq = ANY($1) AND status <> 'pending'",
        &[&events],
    )
    .await?;
    counts.events += tx
        .execute(
            "DELETE FROM events e WHERE e.seq = ANY($1)
                AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_seq = e.seq)",
            &[&events],
        )
        .await?;
    tx.commit().await?;
    Ok(PurgeBatch::Deleted(counts))
}

/// What purging everything before `cutoff` would delete.
///
/// Errors: [`StoreError::Unavailable`] when the query fails.
pub async fn count(
    c: &tokio_postgres::Client,
    cutoff: Timestamp,
) -> Result<PurgeCounts, StoreError> {
    let r = c
        .query_one(
            &numbered(&purge::count_due(), '$'),
            &[&cutoff.as_millisecond()],
        )
        .await?;
    let n = |i: usize| r.get::<_, i64>(i) as u64;
    Ok(PurgeCounts {
        calls: n(0),
        receipts: n(1),
        events: n(2),
    })
}

/// Deletes call `id` (waiting for a push that holds it), its pending
/// deliveries too, and the receipts that mention no other call; `None`
/// when there is no such call.
///
/// Errors: as [`batch`].
pub async fn delete_call(client: &mut Object, id: &str) -> Result<Option<PurgeCounts>, StoreError> {
    let tx = client.transaction().await?;
    rollups::hold_compaction_lock(&tx).await?;
    let Some(row) = tx
        .query_opt("SELECT doc FROM calls WHERE id = $1 FOR UPDATE", &[&id])
        .await?
    else {
        return Ok(None);
    };
    let sole: Vec<String> = tx
        .query(&numbered(purge::SOLE_RECEIPTS, '$'), &[&id])
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect();
    let mut counts = delete_calls(&tx, &[(id.to_owned(), row.get(0))], true).await?;
    counts.receipts = delete_receipts(&tx, &sole).await?;
    tx.commit().await?;
    Ok(Some(counts))
}

/// Deletes receipt `id` and its links; `false` when there is no such
/// receipt.
///
/// Errors: [`StoreError::Unavailable`] when a statement fails.
pub async fn delete_receipt(client: &mut Object, id: &str) -> Result<bool, StoreError> {
    let tx = client.transaction().await?;
    let n = delete_receipts(&tx, &[id.to_owned()]).await?;
    tx.commit().await?;
    Ok(n == 1)
}

/// Deletes `calls` (`(id, doc)`, locked by the caller), their receipt
/// links and events, and takes them out of the rollups. An event with a
/// pending delivery is kept unless `with_pending`. Returns the calls and
/// events deleted.
async fn delete_calls(
    tx: &Transaction<'_>,
    calls: &[(String, Vec<u8>)],
    with_pending: bool,
) -> Result<PurgeCounts, StoreError> {
    let mut counts = PurgeCounts::default();
    if calls.is_empty() {
        return Ok(counts);
    }
    let mut delta = RollupDelta::default();
    for (id, doc) in calls {
        let c: Call = serde_json::from_str(&json_of_bytes(doc)?)
            .map_err(|e| StoreError::corrupt(format!("call {id}"), e))?;
        delta.remove(Sums::of(&c));
    }
    let ids: Vec<&str> = calls.iter().map(|(id, _)| id.as_str()).collect();
    let ids = &ids;
    let run = |sql: &'static str| async move { tx.execute(sql, &[&ids]).await };
    run("DELETE FROM call_receipts WHERE call_id = ANY($1)").await?;
    if with_pending {
        run("DELETE FROM deliveries WHERE event_seq IN
                (SELECT seq FROM events WHERE call_id = ANY($1))")
        .await?;
        counts.events = run("DELETE FROM events WHERE call_id = ANY($1)").await?;
    } else {
        run("DELETE FROM deliveries d WHERE d.status <> 'pending' AND d.event_seq IN
                (SELECT e.seq FROM events e WHERE e.call_id = ANY($1) AND NOT EXISTS
                    (SELECT 1 FROM deliveries p WHERE p.event_seq = e.seq AND p.status = 'pending'))")
        .await?;
        counts.events = run("DELETE FROM events e WHERE e.call_id = ANY($1)
                AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_seq = e.seq)")
        .await?;
    }
    super::recordings::delete_of_calls(&**tx, ids).await?;
    counts.calls = run("DELETE FROM calls WHERE id = ANY($1)").await?;
    rollups::apply_to_shard(tx, &delta, 0, true).await?;
    Ok(counts)
}

/// Deletes the receipts `ids` and their links; returns how many existed.
async fn delete_receipts(tx: &Transaction<'_>, ids: &[String]) -> Result<u64, StoreError> {
    if ids.is_empty() {
        return Ok(0);
    }
    tx.execute(
        "DELETE FROM call_receipts WHERE receipt_id = ANY($1)",
        &[&ids],
    )
    .await?;
    Ok(tx
        .execute("DELETE FROM receipts WHERE id = ANY($1)", &[&ids])
        .await?)
}
