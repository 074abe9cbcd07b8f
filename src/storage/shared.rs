//! Rules both backends apply the same way: counting changes, pages, stats
//! rows.

use super::*;
use crate::domain::{Change, SourceKind};
use jiff::Timestamp;
use std::collections::{BTreeMap, HashMap};

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

/// A re-projected receipt's new columns, which replace the stored ones.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RereadColumns {
    /// `record_count`: the records its reading found.
    pub record_count: i64,
    /// `errors`: the reading's record errors, as a JSON array.
    pub errors: String,
    /// `warnings`: the reading's field warnings, as a JSON array.
    pub warnings: String,
    /// `kind`: the kind its body was read as, or `None` to keep the stored one.
    pub kind: Option<&'static str>,
}

impl projection::ReceiptWrite {
    /// Its columns after re-projection: what its reading (`reread`, set by
    /// re-projection) counted, and its kind in `kinds` (by receipt id).
    ///
    /// Errors: [`StoreError::Corrupt`] when the issues cannot be written
    /// as JSON. Panics when it was not re-read.
    pub(crate) fn reread_columns(
        &self,
        kinds: &HashMap<String, SourceKind>,
    ) -> Result<RereadColumns, StoreError> {
        let json = serde_json::to_string::<[crate::adapters::RecordIssue]>;
        let result = self.reread.as_ref().expect("re-projection keeps readings");
        let (count, errors, warnings) = projection::issues_of(result);
        Ok(RereadColumns {
            record_count: count as i64,
            errors: json(errors)?,
            warnings: json(warnings)?,
            kind: kinds.get(&self.id).map(|k| k.as_str()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::adapters::RecordIssue;

    fn rejected(id: &str) -> projection::ReceiptWrite {
        projection::ReceiptWrite {
            id: id.into(),
            status: ReceiptStatus::Rejected,
            outcome: IngestOutcome::of(id),
            reread: Some(BodyResult::Rejected(RecordIssue {
                index: None,
                path: "$".into(),
                message: "bad".into(),
            })),
        }
    }

    #[test]
    fn a_reread_receipt_gets_its_readings_columns_and_known_kind() {
        let kinds = HashMap::from([("r1".to_owned(), SourceKind::AliyunCallReport)]);
        let cols = rejected("r1").reread_columns(&kinds).unwrap();
        assert_eq!(
            cols,
            RereadColumns {
                record_count: 0,
                errors: r#"[{"index":null,"path":"$","message":"bad"}]"#.into(),
                warnings: "[]".into(),
                kind: Some(SourceKind::AliyunCallReport.as_str()),
            }
        );
        assert_eq!(rejected("r2").reread_columns(&kinds).unwrap().kind, None);
    }
}
