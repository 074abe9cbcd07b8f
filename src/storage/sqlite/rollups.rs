//! Rollup rows in SQLite (`storage/rollup.rs`): the writer adds a push's
//! [`RollupDelta`] in its transaction; reads sum them by dimension.

use super::rows::unavailable;
use crate::storage::rollup::{Dim, RollupDelta, RollupFilter, RollupRow, Sums, TALK_BUCKETS};
use crate::storage::StoreError;
use rusqlite::{params, params_from_iter, Connection, Row};
use rust_decimal::Decimal;
use std::str::FromStr;

/// The summed columns, in the order of [`sums`] (`dec_sum` for money).
const SUMMED: &str = "SUM(calls), SUM(answered), SUM(talk_seconds), SUM(answered_talk_seconds),
    dec_sum(cost), SUM(qa_micros), SUM(qa_count), SUM(talk_b0), SUM(talk_b1), SUM(talk_b2),
    SUM(talk_b3), SUM(talk_b4), SUM(talk_b5), SUM(talk_b6)";

/// Adds `delta` to the rollups inside the current transaction.
///
/// Errors: [`StoreError::Unavailable`] when a row cannot be written.
pub fn apply(tx: &Connection, delta: RollupDelta) -> Result<(), StoreError> {
    let mut stmt = tx
        .prepare_cached(
            "INSERT INTO rollups VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13,
                ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21)
             ON CONFLICT (day, vendor, source, direction, outcome, task_id, currency) DO UPDATE SET
                calls = calls + excluded.calls, answered = answered + excluded.answered,
                talk_seconds = talk_seconds + excluded.talk_seconds,
                answered_talk_seconds = answered_talk_seconds + excluded.answered_talk_seconds,
                cost = dec_add(cost, excluded.cost), qa_micros = qa_micros + excluded.qa_micros,
                qa_count = qa_count + excluded.qa_count,
                talk_b0 = talk_b0 + excluded.talk_b0, talk_b1 = talk_b1 + excluded.talk_b1,
                talk_b2 = talk_b2 + excluded.talk_b2, talk_b3 = talk_b3 + excluded.talk_b3,
                talk_b4 = talk_b4 + excluded.talk_b4, talk_b5 = talk_b5 + excluded.talk_b5,
                talk_b6 = talk_b6 + excluded.talk_b6",
        )
        .map_err(unavailable)?;
    for (k, s) in delta.into_rows() {
        let b = s.talk_buckets;
        stmt.execute(params![
            k.day,
            k.vendor,
            k.source,
            k.direction,
            k.outcome,
            k.task_id,
            k.currency,
            s.calls,
            s.answered,
            s.talk_seconds,
            s.answered_talk_seconds,
            s.cost.to_string(),
            s.qa_micros,
            s.qa_count,
            b[0],
            b[1],
            b[2],
            b[3],
            b[4],
            b[5],
            b[6],
        ])
        .map_err(unavailable)?;
    }
    Ok(())
}

/// The rollups matching `filter`, summed per distinct value of `dims`
/// (groups without calls left out).
///
/// Errors: [`StoreError::Unavailable`] when the query fails,
/// [`StoreError::Corrupt`] for a stored amount that is not a decimal.
pub fn read(
    conn: &Connection,
    dims: &[Dim],
    filter: &RollupFilter,
) -> Result<Vec<RollupRow>, StoreError> {
    let (sql, params) = filter.query(dims, SUMMED, |_| "?".into());
    let mut stmt = conn.prepare_cached(&sql).map_err(unavailable)?;
    let mut rows = stmt.query(params_from_iter(params)).map_err(unavailable)?;
    let mut out = Vec::new();
    while let Some(r) = rows.next().map_err(unavailable)? {
        let key = (0..dims.len())
            .map(|i| r.get(i))
            .collect::<Result<Vec<String>, _>>()
            .map_err(unavailable)?;
        out.push(RollupRow {
            key,
            sums: sums(r, dims.len())?,
        });
    }
    Ok(out)
}

/// The sums of a row whose summed columns start at `at`.
fn sums(r: &Row, at: usize) -> Result<Sums, StoreError> {
    let int = |i: usize| r.get::<_, i64>(at + i).map_err(unavailable);
    let cost: String = r.get(at + 4).map_err(unavailable)?;
    let mut talk_buckets = [0; TALK_BUCKETS];
    for (i, b) in talk_buckets.iter_mut().enumerate() {
        *b = int(7 + i)?;
    }
    Ok(Sums {
        calls: int(0)?,
        answered: int(1)?,
        talk_seconds: int(2)?,
        answered_talk_seconds: int(3)?,
        cost: Decimal::from_str(&cost)
            .map_err(|e| StoreError::Corrupt(format!("rollup cost {cost}: {e}")))?,
        qa_micros: int(5)?,
        qa_count: int(6)?,
        talk_buckets,
    })
}
