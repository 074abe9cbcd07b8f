//! Folding rows: calls into rollup rows (the scan's answer), rows with
//! the same key together, and rollup rows into stats rows.

use super::{Dim, RollupKey, RollupRow, Sums};
use crate::domain::money::add_amounts;
use crate::domain::Call;
use crate::storage::{GroupBy, StatsRow, StoreError};
use jiff::tz::TimeZone;
use rust_decimal::Decimal;
use std::collections::BTreeMap;

/// Folds calls into rows keyed by some dimensions (hours and days in a
/// time zone): what the rollups would answer for those calls.
pub struct CallFolder {
    dims: Vec<Dim>,
    tz: TimeZone,
    groups: BTreeMap<Vec<String>, Sums>,
}

impl CallFolder {
    /// A folder keyed by `dims`, hours and days taken in `tz`.
    pub fn new(dims: &[Dim], tz: &TimeZone) -> CallFolder {
        CallFolder {
            dims: dims.to_vec(),
            tz: tz.clone(),
            groups: BTreeMap::new(),
        }
    }

    /// Adds one call.
    pub fn add(&mut self, call: &Call) {
        let key = RollupKey::of(call, &self.tz);
        let k = self.dims.iter().map(|d| key.value(*d).to_owned()).collect();
        self.groups
            .entry(k)
            .or_default()
            .add(&Sums::of_call(call), 1);
    }

    /// The rows, in key order.
    pub fn finish(self) -> Vec<RollupRow> {
        merge_rows(
            self.groups
                .into_iter()
                .map(|(key, sums)| RollupRow { key, sums }),
        )
    }
}

/// Sums rows with the same key; leaves out groups without calls. Rows in
/// key order.
pub fn merge_rows(rows: impl IntoIterator<Item = RollupRow>) -> Vec<RollupRow> {
    let mut groups: BTreeMap<Vec<String>, Sums> = BTreeMap::new();
    for r in rows {
        groups.entry(r.key).or_default().add(&r.sums, 1);
    }
    groups
        .into_iter()
        .filter(|(_, s)| s.calls > 0)
        .map(|(key, sums)| RollupRow { key, sums })
        .collect()
}

/// Stats rows from rows grouped by `[group key, Dim::Currency]`, ordered
/// by key (absent first), as the scan answers them.
///
/// Errors: none today; `Result` keeps the shape of the scanning path.
pub fn stats_rows(group_by: GroupBy, rows: Vec<RollupRow>) -> Result<Vec<StatsRow>, StoreError> {
    let mut groups: BTreeMap<Option<String>, (Sums, BTreeMap<String, Decimal>)> = BTreeMap::new();
    for row in rows {
        let mut key = row.key.into_iter();
        let k = key.next().unwrap_or_default();
        let currency = key.next().unwrap_or_default();
        let k = if k.is_empty() && group_by == GroupBy::TaskId {
            None
        } else {
            Some(k)
        };
        let (sums, costs) = groups.entry(k).or_default();
        sums.add(&row.sums, 1);
        if !currency.is_empty() {
            let sum = costs.entry(currency).or_default();
            *sum = add_amounts(*sum, row.sums.cost);
        }
    }
    Ok(groups
        .into_iter()
        .filter(|(_, (s, _))| s.calls > 0)
        .map(|(key, (s, costs))| {
            let mut row = StatsRow::from_rollup(key, &s);
            row.cost = costs
                .into_iter()
                .map(|(c, d)| (c, d.normalize().to_string()))
                .collect();
            row
        })
        .collect())
}
