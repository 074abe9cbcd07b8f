//! Rollup rows in PostgreSQL (`storage/rollup.rs`): a push adds its
//! [`RollupDelta`] in its transaction, to one of [`SHARDS`] rows per key so
//! that instances rarely wait on each other; reads sum over the shards.

use super::ingest::unavailable;
use crate::storage::rollup::{Dim, RollupDelta, RollupFilter, RollupRow, Sums, TALK_BUCKETS};
use crate::storage::StoreError;
use deadpool_postgres::Transaction;
use tokio_postgres::types::ToSql;
use tokio_postgres::Row;

/// Rows per key: a transaction writes all its keys to one shard.
pub const SHARDS: i16 = 8;

/// The summed columns, in the order [`sums`] reads them.
const SUMMED: &str = "SUM(calls)::BIGINT, SUM(answered)::BIGINT, SUM(talk_seconds)::BIGINT,
    SUM(answered_talk_seconds)::BIGINT, SUM(cost)::TEXT, SUM(qa_micros)::BIGINT, SUM(qa_count)::BIGINT,
    SUM(talk_b0)::BIGINT, SUM(talk_b1)::BIGINT, SUM(talk_b2)::BIGINT, SUM(talk_b3)::BIGINT,
    SUM(talk_b4)::BIGINT, SUM(talk_b5)::BIGINT, SUM(talk_b6)::BIGINT";

/// Adds `delta` to the rollups inside `tx`, in key order (so transactions
/// lock rollup rows in one order and cannot deadlock on them).
///
/// Errors: [`StoreError::Unavailable`] when a row cannot be written.
pub async fn apply(tx: &Transaction<'_>, delta: RollupDelta) -> Result<(), StoreError> {
    apply_to_shard(tx, delta, rand::random_range(0..SHARDS)).await
}

/// [`apply`] to the rows of `shard` (retention takes deleted calls out of
/// shard 0, where compaction has folded past days).
///
/// Errors: as [`apply`].
pub async fn apply_to_shard(
    tx: &Transaction<'_>,
    delta: RollupDelta,
    shard: i16,
) -> Result<(), StoreError> {
    let mut rows = delta.into_rows().peekable();
    if rows.peek().is_none() {
        return Ok(());
    }
    let stmt = tx
        .prepare_cached(
            "INSERT INTO rollups VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12,
                ($13::TEXT)::NUMERIC, $14, $15, $16, $17, $18, $19, $20, $21, $22)
             ON CONFLICT (day, vendor, source, direction, outcome, task_id, currency, shard)
             DO UPDATE SET
                calls = rollups.calls + EXCLUDED.calls,
                answered = rollups.answered + EXCLUDED.answered,
                talk_seconds = rollups.talk_seconds + EXCLUDED.talk_seconds,
                answered_talk_seconds = rollups.answered_talk_seconds + EXCLUDED.answered_talk_seconds,
                cost = rollups.cost + EXCLUDED.cost, qa_micros = rollups.qa_micros + EXCLUDED.qa_micros,
                qa_count = rollups.qa_count + EXCLUDED.qa_count,
                talk_b0 = rollups.talk_b0 + EXCLUDED.talk_b0, talk_b1 = rollups.talk_b1 + EXCLUDED.talk_b1,
                talk_b2 = rollups.talk_b2 + EXCLUDED.talk_b2, talk_b3 = rollups.talk_b3 + EXCLUDED.talk_b3,
                talk_b4 = rollups.talk_b4 + EXCLUDED.talk_b4, talk_b5 = rollups.talk_b5 + EXCLUDED.talk_b5,
                talk_b6 = rollups.talk_b6 + EXCLUDED.talk_b6",
        )
        .await
        .map_err(unavailable)?;
    for (k, s) in rows {
        let cost = s.cost.to_string();
        let b = s.talk_buckets;
        tx.execute(
            &stmt,
            &[
                &k.day,
                &k.vendor,
                &k.source,
                &k.direction,
                &k.outcome,
                &k.task_id,
                &k.currency,
                &shard,
                &s.calls,
                &s.answered,
                &s.talk_seconds,
                &s.answered_talk_seconds,
                &cost,
                &s.qa_micros,
                &s.qa_count,
                &b[0],
                &b[1],
                &b[2],
                &b[3],
                &b[4],
                &b[5],
                &b[6],
            ],
        )
        .await
        .map_err(unavailable)?;
    }
    Ok(())
}

/// The rollups matching `filter`, summed per distinct value of `dims`
/// (groups without calls left out).
///
/// Errors: [`StoreError::Unavailable`] when the query fails,
/// [`StoreError::Corrupt`] for a sum that does not read back as a decimal.
pub async fn read(
    c: &tokio_postgres::Client,
    dims: &[Dim],
    filter: &RollupFilter,
) -> Result<Vec<RollupRow>, StoreError> {
    let (sql, params) = filter.query(dims, SUMMED, |n| format!("${n}"));
    let params: Vec<&(dyn ToSql + Sync)> =
        params.iter().map(|p| p as &(dyn ToSql + Sync)).collect();
    let rows = c.query(&sql, &params).await.map_err(unavailable)?;
    rows.iter()
        .map(|r| {
            Ok(RollupRow {
                key: (0..dims.len()).map(|i| r.get(i)).collect(),
                sums: sums(r, dims.len())?,
            })
        })
        .collect()
}

/// The sums of a row whose summed columns start at `at`.
fn sums(r: &Row, at: usize) -> Result<Sums, StoreError> {
    let cost: String = r.get(at + 4);
    let mut talk_buckets = [0; TALK_BUCKETS];
    for (i, b) in talk_buckets.iter_mut().enumerate() {
        *b = r.get(at + 7 + i);
    }
    Ok(Sums {
        calls: r.get(at),
        answered: r.get(at + 1),
        talk_seconds: r.get(at + 2),
        answered_talk_seconds: r.get(at + 3),
        cost: crate::domain::money::parse_sum(&cost)
            .map_err(|e| StoreError::Corrupt(format!("rollup cost: {e}")))?,
        qa_micros: r.get(at + 5),
        qa_count: r.get(at + 6),
        talk_buckets,
    })
}

/// The advisory lock a compaction holds for its transaction ("rollups" in
/// ASCII), so instances take turns instead of racing on the same rows.
const COMPACTION_LOCK: i64 = 0x0072_6f6c_6c75_7073;

/// Takes the compaction lock for the rest of `tx` (waiting for a
/// compaction in progress), so that a retention batch and a compaction
/// never lock the same rows in different orders.
///
/// Errors: [`StoreError::Unavailable`] when the statement fails.
pub async fn hold_compaction_lock(tx: &Transaction<'_>) -> Result<(), StoreError> {
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&COMPACTION_LOCK])
        .await
        .map_err(unavailable)?;
    Ok(())
}

/// Folds every shard row of the days before `before_day` (`YYYY-MM-DD`)
/// into shard 0, in one transaction: once a day stops taking new calls
/// its key needs one row, not [`SHARDS`], and reads sum fewer rows. A late
/// report for such a day writes a shard row again, folded next time.
/// Returns the keys folded, i.e. shard-0 rows written (0 when another
/// instance is compacting).
///
/// Errors: [`StoreError::Unavailable`] when the statement fails (nothing
/// of it is applied; a deadlock with a push only delays the fold).
pub async fn compact(
    client: &mut tokio_postgres::Client,
    before_day: &str,
) -> Result<u64, StoreError> {
    let tx = client.transaction().await.map_err(unavailable)?;
    if !super::try_xact_lock(&tx, COMPACTION_LOCK).await? {
        return Ok(0);
    }
    let sums = "calls, answered, talk_seconds, answered_talk_seconds, cost, qa_micros, qa_count, \
                talk_b0, talk_b1, talk_b2, talk_b3, talk_b4, talk_b5, talk_b6";
    let summed = sums
        .split(", ")
        .map(|c| {
            format!(
                "SUM({c})::{}",
                if c == "cost" { "NUMERIC" } else { "BIGINT" }
            )
        })
        .collect::<Vec<_>>()
        .join(", ");
    let update = sums
        .split(", ")
        .map(|c| format!("{c} = rollups.{c} + EXCLUDED.{c}"))
        .collect::<Vec<_>>()
        .join(", ");
    let key = "day, vendor, source, direction, outcome, task_id, currency";
    let sql = format!(
        "WITH moved AS (DELETE FROM rollups WHERE shard <> 0 AND day < $1 RETURNING *)
         INSERT INTO rollups ({key}, shard, {sums})
         SELECT {key}, 0, {summed} FROM moved GROUP BY {key}
         ON CONFLICT ({key}, shard) DO UPDATE SET {update}"
    );
    let folded = tx
        .execute(&sql, &[&before_day])
        .await
        .map_err(unavailable)?;
    // Keys whose calls were all deleted (retention) fold to zeros.
    let zero: Vec<String> = sums.split(", ").map(|c| format!("{c} = 0")).collect();
    tx.execute(
        &format!(
            "DELETE FROM rollups WHERE shard = 0 AND day < $1 AND {}",
            zero.join(" AND ")
        ),
        &[&before_day],
    )
    .await
    .map_err(unavailable)?;
    tx.commit().await.map_err(unavailable)?;
    Ok(folded)
}

/// How often each instance folds the shard rows of past days.
pub const COMPACT_EVERY: std::time::Duration = std::time::Duration::from_secs(60);

/// Runs [`compact`] every [`COMPACT_EVERY`] on days before yesterday (UTC)
/// until `alive` can no longer be upgraded (the store was dropped).
pub async fn compact_forever(pool: deadpool_postgres::Pool, alive: std::sync::Weak<()>) {
    loop {
        tokio::time::sleep(COMPACT_EVERY).await;
        if alive.upgrade().is_none() {
            return;
        }
        let yesterday = jiff::Timestamp::now() - jiff::SignedDuration::from_hours(24);
        let before = crate::storage::rollup::day_of(yesterday);
        let result = match pool.get().await {
            Ok(mut c) => compact(&mut c, &before).await,
            Err(e) => Err(StoreError::Unavailable(e.to_string())),
        };
        match result {
            Ok(0) => {}
            Ok(n) => tracing::debug!(rows = n, before = %before, "rollup shard rows folded"),
            Err(e) => tracing::warn!(error = %e, "rollup compaction failed; next try in a minute"),
        }
    }
}
