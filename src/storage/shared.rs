//! Rules both backends apply the same way: counting changes, pages, stats
//! rows.

use super::*;
use crate::domain::Change;
use jiff::Timestamp;
use std::collections::BTreeMap;

/// A time stored as epoch milliseconds (both backends store times so).
///
/// Errors: [`StoreError::Corrupt`] for one out of range.
pub(crate) fn from_ms(v: i64) -> Result<Timestamp, StoreError> {
    Timestamp::from_millisecond(v).map_err(|e| StoreError::corrupt(format!("time {v}"), e))
}

/// A receipt's record issues (`errors`, `warnings`), stored as JSON.
///
/// Errors: [`StoreError::Corrupt`] when they do not decode.
pub(crate) fn receipt_issues(json: &str) -> Result<Vec<crate::adapters::RecordIssue>, StoreError> {
    serde_json::from_str(json).map_err(|e| StoreError::corrupt("receipt issues", e))
}

/// [`from_ms`] of a time that may be absent.
pub(crate) fn from_opt_ms(v: Option<i64>) -> Result<Option<Timestamp>, StoreError> {
    v.map(from_ms).transpose()
}

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
    /// A row from the rollup sums of its group (`cost` filled by the caller).
    pub fn from_rollup(key: Option<String>, s: &rollup::Sums) -> StatsRow {
        StatsRow {
            key,
            calls: s.calls as u64,
            answered: s.answered as u64,
            awaiting_report: s.awaiting_report as u64,
            answer_rate: s.answer_rate(),
            talk_seconds: s.talk_seconds,
            avg_talk_seconds: (s.answered > 0)
                .then(|| s.answered_talk_seconds as f64 / s.answered as f64),
            cost: BTreeMap::new(),
            avg_qa_score: (s.qa_count > 0).then(|| s.qa_micros as f64 / 1e6 / s.qa_count as f64),
        }
    }
}
