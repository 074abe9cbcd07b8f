//! Rules both backends apply the same way: counting changes, pages, stats
//! rows.

use super::*;
use crate::domain::Change;
use rust_decimal::Decimal;
use std::collections::BTreeMap;
use std::str::FromStr;

impl IngestOutcome {
    /// An outcome of receipt `receipt_id` with nothing counted yet.
    pub fn of(receipt_id: &str) -> IngestOutcome {
        IngestOutcome {
            receipt_id: receipt_id.to_owned(),
            ..Default::default()
        }
    }

    /// Counts one merge result.
    pub fn count(&mut self, change: Change) {
        match change {
            Change::Created => self.created += 1,
            Change::Updated => self.updated += 1,
            Change::Analyzed => self.analyzed += 1,
            Change::Unchanged => self.unchanged += 1,
        }
    }
}

impl<T> Page<T> {
    /// A page from `items` read with `LIMIT limit + 1`: the extra item only
    /// says there is a next page, whose cursor `cursor_of` makes from the
    /// page's last item.
    pub fn from_overfetch(
        mut items: Vec<T>,
        limit: usize,
        cursor_of: impl Fn(&T) -> String,
    ) -> Page<T> {
        let next_cursor = if items.len() > limit {
            items.truncate(limit);
            items.last().map(cursor_of)
        } else {
            None
        };
        Page { items, next_cursor }
    }
}

impl StatsRow {
    /// A row from the sums of its group (`cost` filled by [`add_costs`]).
    pub fn from_sums(
        key: Option<String>,
        calls: i64,
        answered: i64,
        talk: i64,
        answered_talk: i64,
        avg_qa: Option<f64>,
    ) -> StatsRow {
        StatsRow {
            key,
            calls: calls as u64,
            answered: answered as u64,
            answer_rate: if calls > 0 {
                answered as f64 / calls as f64
            } else {
                0.0
            },
            talk_seconds: talk,
            avg_talk_seconds: (answered > 0).then(|| answered_talk as f64 / answered as f64),
            cost: BTreeMap::new(),
            avg_qa_score: avg_qa,
        }
    }
}

/// Sums of cost per group key and currency, exact (decimal strings summed
/// as decimals, never floats).
#[derive(Default)]
pub struct CostSums(BTreeMap<Option<String>, BTreeMap<String, Decimal>>);

impl CostSums {
    /// Adds `amount` (a decimal string) in `currency` to group `key`.
    ///
    /// Errors: [`StoreError::Corrupt`] for an amount that is not a decimal.
    pub fn add(
        &mut self,
        key: Option<String>,
        currency: String,
        amount: &str,
    ) -> Result<(), StoreError> {
        let d = Decimal::from_str(amount)
            .map_err(|e| StoreError::Corrupt(format!("cost {amount}: {e}")))?;
        let sum = self.0.entry(key).or_default().entry(currency).or_default();
        *sum = crate::domain::money::add_amounts(*sum, d);
        Ok(())
    }

    /// Writes each group's sums into its row's `cost`.
    pub fn fill(mut self, rows: &mut [StatsRow]) {
        for row in rows {
            if let Some(per) = self.0.remove(&row.key) {
                row.cost = per
                    .into_iter()
                    .map(|(c, d)| (c, d.normalize().to_string()))
                    .collect();
            }
        }
    }
}
