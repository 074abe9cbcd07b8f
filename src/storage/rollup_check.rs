//! Exactness check of the rollups: every level read through the planner
//! against a scan of the calls, for tests and the benchmark.

use super::{Dim, RollupFilter, RollupRow, LEVELS};
use crate::storage::{Store, StoreError};

/// How `rollup` and `scan` differ, one line per differing key; empty when
/// they are equal (costs compared as decimals: `0.10` equals `0.1`).
pub fn diff(rollup: &[RollupRow], scan: &[RollupRow]) -> Vec<String> {
    let mut out = Vec::new();
    let (mut a, mut b) = (rollup.to_vec(), scan.to_vec());
    a.sort_by(|x, y| x.key.cmp(&y.key));
    b.sort_by(|x, y| x.key.cmp(&y.key));
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        match (a.get(i), b.get(j)) {
            (Some(x), Some(y)) if x.key == y.key => {
                if x.sums != y.sums {
                    out.push(format!(
                        "{:?}: rollup {:?} scan {:?}",
                        x.key, x.sums, y.sums
                    ));
                }
                i += 1;
                j += 1;
            }
            (Some(x), Some(y)) if x.key < y.key => {
                out.push(format!("{:?}: only in rollup {:?}", x.key, x.sums));
                i += 1;
            }
            (Some(x), None) => {
                out.push(format!("{:?}: only in rollup {:?}", x.key, x.sums));
                i += 1;
            }
            (_, Some(y)) => {
                out.push(format!("{:?}: only in scan {:?}", y.key, y.sums));
                j += 1;
            }
            (None, None) => break,
        }
    }
    out
}

/// Compares, for every level, [`Store::rollup`] of all the level's dims
/// (and its time bucket) under `filter` with [`Store::scan_rollup`] of
/// the same; returns the differences, prefixed by the level's table.
///
/// Errors: the store's.
pub async fn mismatches<S: Store + ?Sized>(
    store: &S,
    filter: &RollupFilter,
) -> Result<Vec<String>, StoreError> {
    let mut out = Vec::new();
    let Some(calls) = filter.to_calls() else {
        return Ok(out);
    };
    for level in &LEVELS {
        let time = match level.grain {
            super::Grain::Hour => Dim::Hour,
            super::Grain::Day => Dim::Day,
        };
        let dims: Vec<Dim> = std::iter::once(time)
            .chain(level.dims.iter().copied())
            .collect();
        let got = store.rollup(&dims, filter).await?;
        let want = store.scan_rollup(&dims, &calls).await?;
        out.extend(
            diff(&got, &want)
                .into_iter()
                .map(|d| format!("{}: {d}", level.table)),
        );
    }
    Ok(out)
}
