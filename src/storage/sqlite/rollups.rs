//! Rollup rows in SQLite (`storage/rollup.rs`): the writer adds a push's
//! [`RollupDelta`] to every level in its transaction; reads sum a level's
//! rows by dimension.

use super::rows::stored_call;
use crate::storage::doc_codec::StoredDoc;
use crate::storage::rollup::levels::{
    integers, sum_list, sums_of, SumSet, COST_COLUMN, INT_COLUMNS, SUM_COLUMNS,
};
use crate::storage::rollup::{Dim, Level, RollupDelta, RollupFilter, RollupRow, Sums, LEVELS};
use crate::storage::StoreError;
use rusqlite::types::Value;
use rusqlite::{params_from_iter, Connection, Row};
use rust_decimal::Decimal;
use std::str::FromStr;
use std::sync::LazyLock;

/// The summed columns, in the order of [`sums`] (`dec_sum` for money).
static SUMMED: LazyLock<[String; 2]> = LazyLock::new(|| {
    SumSet::BOTH.map(|set| {
        sum_list(
            set.columns(),
            |c| format!("dec_sum({c})"),
            |c| format!("SUM({c})"),
        )
    })
});

/// Each level's upsert adding a row of sums to its key.
static UPSERTS: LazyLock<Vec<String>> = LazyLock::new(|| {
    LEVELS
        .iter()
        .map(|l| {
            let key = l.key_columns();
            let n = key.len() + SUM_COLUMNS.len();
            let marks: Vec<String> = (1..=n).map(|i| format!("?{i}")).collect();
            let set: Vec<String> = SUM_COLUMNS
                .iter()
                .map(|c| match *c {
                    "cost" => "cost = dec_add(cost, excluded.cost)".to_owned(),
                    c => format!("{c} = {c} + excluded.{c}"),
                })
                .collect();
            format!(
                "INSERT INTO {} ({}, {}) VALUES ({}) ON CONFLICT ({}) DO UPDATE SET {}",
                l.table,
                key.join(", "),
                SUM_COLUMNS.join(", "),
                marks.join(", "),
                key.join(", "),
                set.join(", ")
            )
        })
        .collect()
});

/// Each level's delete of a key's row of zeros.
static PRUNES: LazyLock<Vec<String>> = LazyLock::new(|| {
    LEVELS
        .iter()
        .map(|l| l.prune_sql('?', "CAST(cost AS REAL) = 0"))
        .collect()
});

/// The parameters of one row: its key, then its sums ([`SUM_COLUMNS`]).
fn row_params(key: Vec<String>, s: &Sums) -> Vec<Value> {
    let mut p: Vec<Value> = key.into_iter().map(Value::Text).collect();
    let ints = integers(s);
    p.extend(ints[..COST_COLUMN].iter().copied().map(Value::Integer));
    p.push(Value::Text(s.cost.to_string()));
    p.extend(ints[COST_COLUMN..].iter().copied().map(Value::Integer));
    p
}

/// Adds `delta` to every level inside the current transaction; with
/// `prune`, then deletes the rows it left at zero (retention and deletes;
/// a push leaves them, they change no sum).
///
/// Errors: [`StoreError::Unavailable`] when a row cannot be written.
pub fn apply(tx: &Connection, delta: &RollupDelta, prune: bool) -> Result<(), StoreError> {
    if delta.is_empty() {
        return Ok(());
    }
    for (i, level) in LEVELS.iter().enumerate() {
        let rows = delta.level_rows(level);
        if rows.is_empty() {
            continue;
        }
        let mut stmt = tx.prepare_cached(&UPSERTS[i])?;
        for (key, s) in &rows {
            stmt.execute(params_from_iter(row_params(key.clone(), s)))?;
        }
        if prune {
            let mut empty = tx.prepare_cached(&PRUNES[i])?;
            for (key, s) in rows {
                if s.calls < 0 {
                    empty.execute(params_from_iter(key))?;
                }
            }
        }
    }
    Ok(())
}

/// Empties every level and fills it again from the stored calls (the
/// migration that made the levels), in `started_at` order, a few thousand
/// calls per write. Returns how many calls were read.
///
/// Errors: [`StoreError::Unavailable`], [`StoreError::Corrupt`] for a
/// document that does not decode.
pub fn rebuild(tx: &Connection) -> Result<u64, StoreError> {
    for level in &LEVELS {
        tx.execute(&format!("DELETE FROM {}", level.table), [])?;
    }
    let mut stmt = tx.prepare("SELECT doc FROM calls ORDER BY started_at")?;
    let mut rows = stmt.query([])?;
    let (mut delta, mut n) = (RollupDelta::default(), 0u64);
    while let Some(r) = rows.next()? {
        let doc: StoredDoc = r.get(0)?;
        delta.add(Sums::of(&stored_call(doc)?));
        n += 1;
        if delta.len() >= 20_000 {
            apply(tx, &std::mem::take(&mut delta), false)?;
        }
    }
    apply(tx, &delta, false)?;
    Ok(n)
}

/// Rows of `level` matching `filter`, summed per distinct value of `dims`
/// (groups without calls left out), the sums of `set`.
///
/// Errors: [`StoreError::Unavailable`] when the query fails,
/// [`StoreError::Corrupt`] for a stored amount that is not a decimal.
pub fn read(
    conn: &Connection,
    level: &Level,
    dims: &[Dim],
    filter: &RollupFilter,
    set: SumSet,
) -> Result<Vec<RollupRow>, StoreError> {
    let (sql, params) = level.query(dims, filter, &SUMMED[set.index()], |_| "?".into());
    let mut stmt = conn.prepare_cached(&sql)?;
    let mut rows = stmt.query(params_from_iter(params))?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        let key = (0..dims.len())
            .map(|i| r.get(i))
            .collect::<Result<Vec<String>, _>>()?;
        out.push(RollupRow {
            key,
            sums: sums(r, dims.len(), set)?,
        });
    }
    Ok(out)
}

/// The sums of a row whose summed columns of `set` start at `at`.
fn sums(r: &Row, at: usize, set: SumSet) -> Result<Sums, StoreError> {
    let cost: String = r.get(at + COST_COLUMN)?;
    let mut ints = [0; INT_COLUMNS];
    for (i, v) in ints.iter_mut().enumerate().take(set.ints()) {
        let col = if i < COST_COLUMN { i } else { i + 1 };
        *v = r.get(at + col)?;
    }
    let cost = Decimal::from_str(&cost)
        .map_err(|e| StoreError::corrupt(format!("rollup cost {cost}"), e))?;
    Ok(sums_of(&ints, cost))
}
