//! Rollup rows in PostgreSQL (`storage/rollup.rs`): a push adds its
//! [`RollupDelta`] to every level in its transaction, to one of [`SHARDS`]
//! rows per key so that instances rarely wait on each other; reads sum
//! over the shards; [`compact`] folds past days' shards into one row.

use crate::storage::doc_codec::json_of_bytes;
use crate::storage::rollup::levels::{
    integers, sum_list, sums_of, SumSet, COST_COLUMN, INT_COLUMNS, SUM_COLUMNS,
};
use crate::storage::rollup::{Dim, Level, RollupDelta, RollupFilter, RollupRow, Sums, LEVELS};
use crate::storage::StoreError;
use deadpool_postgres::Transaction;
use std::sync::LazyLock;
use tokio_postgres::types::ToSql;
use tokio_postgres::Row;

/// Rows per key: a transaction writes all its keys to one shard.
pub const SHARDS: i16 = 8;

/// The summed columns of each [`SumSet`], in the order [`sums`] reads them.
static SUMMED: LazyLock<[String; 2]> = LazyLock::new(|| {
    SumSet::BOTH.map(|set| {
        sum_list(
            set.columns(),
            |c| format!("SUM({c})::TEXT"),
            |c| format!("SUM({c})::BIGINT"),
        )
    })
});

/// Each level's upsert of a whole delta: one array parameter per column
/// (`UNNEST`), rows in key order, added to the existing rows.
static UPSERTS: LazyLock<Vec<String>> = LazyLock::new(|| {
    LEVELS
        .iter()
        .map(|l| {
            let key = l.key_columns();
            let mut n = 0;
            let mut arg = |ty: &str| {
                n += 1;
                format!("${n}::{ty}[]")
            };
            let mut arrays: Vec<String> = key.iter().map(|_| arg("TEXT")).collect();
            arrays.extend(SUM_COLUMNS.iter().map(|c| match *c {
                "cost" => arg("TEXT"),
                _ => arg("BIGINT"),
            }));
            let shard = format!("${}::SMALLINT", n + 1);
            let select: Vec<String> = key
                .iter()
                .map(|c| c.to_string())
                .chain([shard])
                .chain(SUM_COLUMNS.iter().map(|c| match *c {
                    "cost" => "cost::NUMERIC".to_owned(),
                    c => c.to_owned(),
                }))
                .collect();
            let set: Vec<String> = SUM_COLUMNS
                .iter()
                .map(|c| format!("{c} = {t}.{c} + EXCLUDED.{c}", t = l.table))
                .collect();
            format!(
                "INSERT INTO {t} ({k}, shard, {s})
                 SELECT {select} FROM UNNEST({arrays}) AS u({k}, {s})
                 ON CONFLICT ({k}, shard) DO UPDATE SET {set}",
                t = l.table,
                k = key.join(", "),
                s = SUM_COLUMNS.join(", "),
                select = select.join(", "),
                arrays = arrays.join(", "),
                set = set.join(", "),
            )
        })
        .collect()
});

/// Adds `delta` to the rollups inside `tx`, in key order (so transactions
/// lock rollup rows in one order and cannot deadlock on them).
///
/// Errors: [`StoreError::Unavailable`] when a row cannot be written.
pub async fn apply(tx: &Transaction<'_>, delta: RollupDelta) -> Result<(), StoreError> {
    apply_to_shard(tx, &delta, rand::random_range(0..SHARDS), false).await
}

/// [`apply`] to the rows of `shard` (retention takes deleted calls out of
/// shard 0, where compaction has folded past days); with `prune`, then
/// deletes the rows of the keys it took calls from that are left at zero.
///
/// Errors: as [`apply`].
pub async fn apply_to_shard(
    tx: &tokio_postgres::Transaction<'_>,
    delta: &RollupDelta,
    shard: i16,
    prune: bool,
) -> Result<(), StoreError> {
    if delta.is_empty() {
        return Ok(());
    }
    for (i, level) in LEVELS.iter().enumerate() {
        let rows = delta.level_rows(level);
        if rows.is_empty() {
            continue;
        }
        let width = level.key_columns().len();
        let mut keys: Vec<Vec<&str>> = vec![Vec::with_capacity(rows.len()); width];
        let mut ints: Vec<Vec<i64>> = (0..INT_COLUMNS)
            .map(|_| Vec::with_capacity(rows.len()))
            .collect();
        let mut costs: Vec<String> = Vec::with_capacity(rows.len());
        for (key, s) in &rows {
            for (col, v) in keys.iter_mut().zip(key) {
                col.push(v);
            }
            for (col, v) in ints.iter_mut().zip(integers(s)) {
                col.push(v);
            }
            costs.push(s.cost.to_string());
        }
        let mut params: Vec<&(dyn ToSql + Sync)> = keys.iter().map(|k| k as _).collect();
        // SUM_COLUMNS order: the integers before cost, cost, the rest.
        let (head, tail) = ints.split_at(COST_COLUMN);
        params.extend(head.iter().map(|v| v as &(dyn ToSql + Sync)));
        params.push(&costs);
        params.extend(tail.iter().map(|v| v as &(dyn ToSql + Sync)));
        params.push(&shard);
        tx.execute(UPSERTS[i].as_str(), &params).await?;
        if prune {
            let empty = tx.prepare(&level.prune_sql('$', "cost = 0")).await?;
            for (key, s) in &rows {
                if s.calls < 0 {
                    let p: Vec<&(dyn ToSql + Sync)> =
                        key.iter().map(|v| v as &(dyn ToSql + Sync)).collect();
                    tx.execute(&empty, &p).await?;
                }
            }
        }
    }
    Ok(())
}

/// Empties every level and fills it again from the stored calls (the
/// migration that made the levels, and the end of `callhook copy`),
/// streaming the documents and writing a few thousand keys at a time.
/// Returns how many calls were read.
///
/// Errors: [`StoreError::Unavailable`], [`StoreError::Corrupt`] for a
/// document that does not decode.
pub async fn rebuild(tx: &tokio_postgres::Transaction<'_>) -> Result<u64, StoreError> {
    for level in &LEVELS {
        tx.execute(&format!("DELETE FROM {}", level.table), &[])
            .await?;
    }
    let (mut delta, mut n) = (RollupDelta::default(), 0u64);
    // Read in pages by id: one transaction cannot read and write at once.
    let mut after = String::new();
    loop {
        let rows = tx
            .query(
                "SELECT id, doc FROM calls WHERE id > $1 ORDER BY id LIMIT 5000",
                &[&after],
            )
            .await?;
        let Some(last) = rows.last() else { break };
        after = last.get(0);
        for r in &rows {
            let call: crate::domain::Call = serde_json::from_str(&json_of_bytes(r.get(1))?)
                .map_err(|e| StoreError::corrupt("call document", e))?;
            delta.add(Sums::of(&call));
            n += 1;
        }
        if delta.len() >= 20_000 {
            apply_to_shard(tx, &std::mem::take(&mut delta), 0, false).await?;
        }
    }
    apply_to_shard(tx, &delta, 0, false).await?;
    Ok(n)
}

/// Rows of `level` matching `filter`, summed over shards per distinct
/// value of `dims` (groups without calls left out), the sums of `set`.
///
/// Errors: [`StoreError::Unavailable`] when the query fails,
/// [`StoreError::Corrupt`] for a sum that does not read back as a decimal.
pub async fn read(
    c: &tokio_postgres::Client,
    level: &Level,
    dims: &[Dim],
    filter: &RollupFilter,
    set: SumSet,
) -> Result<Vec<RollupRow>, StoreError> {
    let summed = &SUMMED[set.index()];
    let (sql, params) = level.query(dims, filter, summed, |n| format!("${n}"));
    let params: Vec<&(dyn ToSql + Sync)> =
        params.iter().map(|p| p as &(dyn ToSql + Sync)).collect();
    let rows = c.query(&sql, &params).await?;
    rows.iter()
        .map(|r| {
            Ok(RollupRow {
                key: (0..dims.len()).map(|i| r.get(i)).collect(),
                sums: sums(r, dims.len(), set)?,
            })
        })
        .collect()
}

/// The sums of a row whose summed columns of `set` start at `at`.
fn sums(r: &Row, at: usize, set: SumSet) -> Result<Sums, StoreError> {
    let cost: String = r.get(at + COST_COLUMN);
    let mut ints = [0; INT_COLUMNS];
    for (i, v) in ints.iter_mut().enumerate().take(set.ints()) {
        *v = r.get(at + if i < COST_COLUMN { i } else { i + 1 });
    }
    let cost = crate::domain::money::parse_sum(&cost)
        .map_err(|e| StoreError::corrupt("rollup cost", e))?;
    Ok(sums_of(&ints, cost))
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
        .await?;
    Ok(())
}

/// Folds every shard row of the days before `before_day` (`YYYY-MM-DD`)
/// into shard 0, on every level, in one transaction: once a day stops
/// taking new calls its key needs one row, not [`SHARDS`], and reads sum
/// fewer rows. A late report for such a day writes a shard row again,
/// folded next time. Returns the keys folded, i.e. shard-0 rows written (0
/// when another instance is compacting).
///
/// Errors: [`StoreError::Unavailable`] when the statement fails (nothing
/// of it is applied; a deadlock with a push only delays the fold).
pub async fn compact(
    client: &mut tokio_postgres::Client,
    before_day: &str,
) -> Result<u64, StoreError> {
    let tx = client.transaction().await?;
    if !super::try_xact_lock(&tx, COMPACTION_LOCK).await? {
        return Ok(0);
    }
    let sums = SUM_COLUMNS.join(", ");
    let summed = sum_list(
        &SUM_COLUMNS,
        |c| format!("SUM({c})::NUMERIC"),
        |c| format!("SUM({c})::BIGINT"),
    );
    let mut folded = 0;
    for level in &LEVELS {
        let (t, time) = (level.table, level.grain.column());
        let update = SUM_COLUMNS
            .iter()
            .map(|c| format!("{c} = {t}.{c} + EXCLUDED.{c}"))
            .collect::<Vec<_>>()
            .join(", ");
        let key = level.key_columns().join(", ");
        // An hour `YYYY-MM-DDTHH` sorts after its day and before the next.
        let sql = format!(
            "WITH moved AS (DELETE FROM {t} WHERE shard <> 0 AND {time} < $1 RETURNING *)
             INSERT INTO {t} ({key}, shard, {sums})
             SELECT {key}, 0, {summed} FROM moved GROUP BY {key}
             ON CONFLICT ({key}, shard) DO UPDATE SET {update}"
        );
        folded += tx.execute(&sql, &[&before_day]).await?;
        // Keys whose calls were all deleted (retention) fold to zeros.
        let zero: Vec<String> = SUM_COLUMNS.iter().map(|c| format!("{c} = 0")).collect();
        tx.execute(
            &format!(
                "DELETE FROM {t} WHERE shard = 0 AND {time} < $1 AND {}",
                zero.join(" AND ")
            ),
            &[&before_day],
        )
        .await?;
    }
    tx.commit().await?;
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
            Err(e) => Err(e.into()),
        };
        match result {
            Ok(0) => {}
            Ok(n) => tracing::debug!(rows = n, before = %before, "rollup shard rows folded"),
            Err(e) => {
                tracing::warn!(error = %crate::error_chain::ErrorChain(&e), "rollup compaction failed; next try in a minute")
            }
        }
    }
}
