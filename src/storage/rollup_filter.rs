//! The filters rollups can answer ([`RollupFilter`]), and their form on
//! calls for the scans of partial buckets.

use super::Dim;
use crate::storage::CallFilter;
use jiff::Timestamp;

/// The filters rollups can answer: equality on key columns and a time
/// range. Built by [`RollupFilter::of`]; `since`/`until` of any precision
/// (whole UTC hours or days are answered from rollups alone, the partial
/// hours at the edges by a scan of those hours' calls).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RollupFilter {
    pub vendor: Option<String>,
    pub source: Option<String>,
    pub direction: Option<String>,
    pub outcome: Option<String>,
    pub task_id: Option<String>,
    /// `started_at` from (included).
    pub since: Option<Timestamp>,
    /// `started_at` before (excluded).
    pub until: Option<Timestamp>,
}

impl RollupFilter {
    /// The rollup form of `f`, or `None` when rollups cannot answer it: a
    /// filter on `out_id`, `customer_number`, `vendor_call_id` or
    /// `search`. Such queries scan calls. (Every field of [`CallFilter`] is
    /// named here, so a new one has to be decided on.)
    pub fn of(f: &CallFilter) -> Option<RollupFilter> {
        let CallFilter {
            vendor,
            source,
            direction,
            outcome,
            task_id,
            out_id,
            customer_number,
            vendor_call_id,
            since,
            until,
            search,
            text,
        } = f;
        if out_id.is_some()
            || customer_number.is_some()
            || vendor_call_id.is_some()
            || search.is_some()
            || text.is_some()
        {
            return None;
        }
        Some(RollupFilter {
            vendor: vendor.map(|v| v.as_str().to_owned()),
            source: source.clone(),
            direction: direction.map(|d| d.as_str().to_owned()),
            outcome: outcome.map(|o| o.as_str().to_owned()),
            task_id: task_id.clone(),
            since: *since,
            until: *until,
        })
    }

    /// The same filter on calls (for the scan of partial hours). A stored
    /// value that is not a known vendor, direction or outcome matches no
    /// call: `None` then.
    pub fn to_calls(&self) -> Option<CallFilter> {
        fn parse<T: std::str::FromStr>(v: &Option<String>) -> Option<Option<T>> {
            match v {
                None => Some(None),
                Some(s) => s.parse().ok().map(Some),
            }
        }
        Some(CallFilter {
            vendor: parse(&self.vendor)?,
            source: self.source.clone(),
            direction: parse(&self.direction)?,
            outcome: parse(&self.outcome)?,
            task_id: self.task_id.clone(),
            since: self.since,
            until: self.until,
            ..Default::default()
        })
    }

    /// The key columns this filter tests.
    pub fn dims(&self) -> Vec<Dim> {
        [
            (Dim::Vendor, &self.vendor),
            (Dim::Source, &self.source),
            (Dim::Direction, &self.direction),
            (Dim::Outcome, &self.outcome),
            (Dim::TaskId, &self.task_id),
        ]
        .into_iter()
        .filter(|(_, v)| v.is_some())
        .map(|(d, _)| d)
        .collect()
    }

    /// `(column, value)` pairs of the equality conditions.
    pub fn equalities(&self) -> Vec<Condition<'_>> {
        [
            ("vendor", &self.vendor),
            ("source", &self.source),
            ("direction", &self.direction),
            ("outcome", &self.outcome),
            ("task_id", &self.task_id),
        ]
        .into_iter()
        .filter_map(|(c, v)| v.as_deref().map(|v| (c, v)))
        .collect()
    }
}

/// A column (or comparison) and its value.
pub type Condition<'a> = (&'static str, &'a str);
