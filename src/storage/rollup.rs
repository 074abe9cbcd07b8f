//! Rollups: sums of calls kept per (UTC day, vendor, source, direction,
//! outcome, task, currency), maintained in the same transaction as every
//! push that changes a call, so the stats API and the dashboard's overview
//! answer from a few thousand rows instead of scanning every call.
//!
//! A changed call moves its contribution: the sums of the call as it was
//! are taken away from its old key and the sums of the call as it is are
//! added to its new key (both keys are the same unless the outcome, cost
//! currency, task, … changed). Each push's changes are folded into one
//! [`RollupDelta`] first and written in key order, so two transactions on
//! PostgreSQL lock rollup rows in the same order and cannot deadlock.

use super::{CallFilter, GroupBy, StatsRow, StoreError};
use crate::domain::money::add_amounts;
use crate::domain::{Call, Outcome};
use jiff::Timestamp;
use rust_decimal::Decimal;
use std::collections::BTreeMap;

/// Upper bounds (exclusive, seconds) of the talk-time buckets of answered
/// calls: `<10 s`, `10–29 s`, `30–59 s`, `1–2 min`, `2–5 min`, `5–10 min`,
/// and `≥10 min` (the last bucket has no bound).
pub const TALK_BUCKET_BOUNDS: [i64; 6] = [10, 30, 60, 120, 300, 600];

/// How many talk-time buckets there are.
pub const TALK_BUCKETS: usize = TALK_BUCKET_BOUNDS.len() + 1;

/// Labels of the talk-time buckets, for charts.
pub const TALK_BUCKET_LABELS: [&str; TALK_BUCKETS] = [
    "<10s", "10-29s", "30-59s", "1-2min", "2-5min", "5-10min", ">=10min",
];

/// The bucket of `talk_seconds`.
pub fn talk_bucket(talk_seconds: i64) -> usize {
    TALK_BUCKET_BOUNDS
        .iter()
        .position(|b| talk_seconds < *b)
        .unwrap_or(TALK_BUCKET_BOUNDS.len())
}

/// One rollup row's key. Absent values are stored as `""` (a key column
/// cannot be NULL in a primary key).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RollupKey {
    /// The UTC date of `started_at`, `YYYY-MM-DD`.
    pub day: String,
    pub vendor: String,
    pub source: String,
    pub direction: String,
    pub outcome: String,
    /// `""` for a call without `task_id`.
    pub task_id: String,
    /// The cost's currency; `""` for a call without cost.
    pub currency: String,
}

/// The sums one rollup row keeps. Seconds are whole seconds; `cost` is in
/// the key's currency.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Sums {
    pub calls: i64,
    /// Calls whose outcome is `answered`.
    pub answered: i64,
    /// `talk_seconds` of every call (absent counts 0).
    pub talk_seconds: i64,
    /// `talk_seconds` of answered calls.
    pub answered_talk_seconds: i64,
    pub cost: Decimal,
    /// Sum of the QA scores of the calls that have one, in millionths of
    /// a percent (integers, so sums are exact and the same on every
    /// backend whatever the order they were added in).
    pub qa_micros: i64,
    /// How many calls have a QA score.
    pub qa_count: i64,
    /// Answered calls with a talk time, per [`talk_bucket`].
    pub talk_buckets: [i64; TALK_BUCKETS],
}

impl Sums {
    /// The key and sums of one call.
    pub fn of(call: &Call) -> (RollupKey, Sums) {
        let answered = call.outcome == Outcome::Answered;
        let talk = call.talk_seconds.unwrap_or(0);
        let qa = call.qa_score_percent();
        let mut talk_buckets = [0; TALK_BUCKETS];
        if let (true, Some(t)) = (answered, call.talk_seconds) {
            talk_buckets[talk_bucket(t)] = 1;
        }
        let key = RollupKey {
            day: day_of(call.started_at),
            vendor: call.vendor.as_str().to_owned(),
            source: call.source.clone(),
            direction: call.direction.as_str().to_owned(),
            outcome: call.outcome.as_str().to_owned(),
            task_id: call.task_id.clone().unwrap_or_default(),
            currency: call
                .cost
                .as_ref()
                .map(|c| c.currency.clone())
                .unwrap_or_default(),
        };
        let sums = Sums {
            calls: 1,
            answered: i64::from(answered),
            talk_seconds: talk,
            answered_talk_seconds: if answered { talk } else { 0 },
            cost: call.cost.as_ref().map(|c| c.amount).unwrap_or_default(),
            qa_micros: qa.map_or(0, |q| (q * 1e6).round() as i64),
            qa_count: i64::from(qa.is_some()),
            talk_buckets,
        };
        (key, sums)
    }

    /// Adds `other` times `sign` (+1 or -1). Money never overflows here:
    /// on overflow the amount saturates rather than panicking.
    pub fn add(&mut self, other: &Sums, sign: i64) {
        self.calls += sign * other.calls;
        self.answered += sign * other.answered;
        self.talk_seconds = self
            .talk_seconds
            .saturating_add(sign.saturating_mul(other.talk_seconds));
        self.answered_talk_seconds = self
            .answered_talk_seconds
            .saturating_add(sign.saturating_mul(other.answered_talk_seconds));
        let cost = if sign < 0 { -other.cost } else { other.cost };
        self.cost = add_amounts(self.cost, cost);
        self.qa_micros += sign * other.qa_micros;
        self.qa_count += sign * other.qa_count;
        for (a, b) in self.talk_buckets.iter_mut().zip(other.talk_buckets) {
            *a += sign * b;
        }
    }

    /// `true` when adding these sums changes nothing.
    pub fn is_zero(&self) -> bool {
        *self == Sums::default()
    }
}

/// The UTC date of `t`, `YYYY-MM-DD`.
pub fn day_of(t: Timestamp) -> String {
    t.to_zoned(jiff::tz::TimeZone::UTC).date().to_string()
}

/// One call's key and sums ([`Sums::of`]).
pub type Contribution = (RollupKey, Sums);

/// The rollup changes of one transaction, folded per key.
#[derive(Debug, Default)]
pub struct RollupDelta(BTreeMap<RollupKey, Sums>);

impl RollupDelta {
    /// Moves a call's contribution from `before` ([`Sums::of`] the call as
    /// it was; `None` for a new call) to `after`.
    pub fn change(&mut self, before: Option<Contribution>, after: &Call) {
        if let Some((key, sums)) = before {
            self.0.entry(key).or_default().add(&sums, -1);
        }
        let (key, sums) = Sums::of(after);
        self.0.entry(key).or_default().add(&sums, 1);
    }

    /// Takes a deleted call's contribution ([`Sums::of`] the call) away.
    pub fn remove(&mut self, (key, sums): Contribution) {
        self.0.entry(key).or_default().add(&sums, -1);
    }

    /// The keys changed, in key order.
    pub fn keys(&self) -> Vec<RollupKey> {
        self.0.keys().cloned().collect()
    }

    /// The non-zero changes, in key order (the lock order on PostgreSQL).
    pub fn into_rows(self) -> impl Iterator<Item = (RollupKey, Sums)> {
        self.0.into_iter().filter(|(_, s)| !s.is_zero())
    }
}

/// A rollup dimension to group by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dim {
    Day,
    Vendor,
    Source,
    Direction,
    Outcome,
    TaskId,
    Currency,
}

impl Dim {
    /// The rollup column of this dimension.
    pub fn column(self) -> &'static str {
        match self {
            Dim::Day => "day",
            Dim::Vendor => "vendor",
            Dim::Source => "source",
            Dim::Direction => "direction",
            Dim::Outcome => "outcome",
            Dim::TaskId => "task_id",
            Dim::Currency => "currency",
        }
    }

    /// The dimension a stats `group_by` reads.
    pub fn of(g: GroupBy) -> Dim {
        match g {
            GroupBy::Vendor => Dim::Vendor,
            GroupBy::Source => Dim::Source,
            GroupBy::Outcome => Dim::Outcome,
            GroupBy::Day => Dim::Day,
            GroupBy::TaskId => Dim::TaskId,
        }
    }
}

/// The filters rollups can answer: equality on key columns and whole UTC
/// days. Built by [`RollupFilter::of`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RollupFilter {
    pub vendor: Option<String>,
    pub source: Option<String>,
    pub direction: Option<String>,
    pub outcome: Option<String>,
    pub task_id: Option<String>,
    /// First day included, `YYYY-MM-DD`.
    pub since_day: Option<String>,
    /// First day excluded, `YYYY-MM-DD`.
    pub until_day: Option<String>,
}

impl RollupFilter {
    /// The rollup form of `f`, or `None` when rollups cannot answer it: a
    /// filter on `out_id`, `customer_number`, `vendor_call_id` or `search`, or a
    /// `since`/`until` that is not midnight UTC. Such queries scan calls.
    pub fn of(f: &CallFilter) -> Option<RollupFilter> {
        if f.out_id.is_some()
            || f.customer_number.is_some()
            || f.vendor_call_id.is_some()
            || f.search.is_some()
            || f.text.is_some()
        {
            return None;
        }
        let day = |t: Option<Timestamp>| match t {
            None => Some(None),
            Some(t) => whole_day(t).map(Some),
        };
        Some(RollupFilter {
            vendor: f.vendor.map(|v| v.as_str().to_owned()),
            source: f.source.clone(),
            direction: f.direction.map(|d| d.as_str().to_owned()),
            outcome: f.outcome.map(|o| o.as_str().to_owned()),
            task_id: f.task_id.clone(),
            since_day: day(f.since)?,
            until_day: day(f.until)?,
        })
    }

    /// `(column, value)` pairs of the equality conditions, then the day
    /// bounds as `(">=", day)` and `("<", day)`.
    pub fn conditions(&self) -> (Vec<Condition<'_>>, Vec<Condition<'_>>) {
        let eq = [
            ("vendor", &self.vendor),
            ("source", &self.source),
            ("direction", &self.direction),
            ("outcome", &self.outcome),
            ("task_id", &self.task_id),
        ]
        .into_iter()
        .filter_map(|(c, v)| v.as_deref().map(|v| (c, v)))
        .collect();
        let days = [(">=", &self.since_day), ("<", &self.until_day)]
            .into_iter()
            .filter_map(|(op, v)| v.as_deref().map(|v| (op, v)))
            .collect();
        (eq, days)
    }
}

impl RollupFilter {
    /// `SELECT <dims>, <summed> FROM rollups WHERE … GROUP BY <dims>`
    /// leaving out groups without calls, with placeholders made by
    /// `placeholder(n)` (`n` from 1), and the parameters in that order.
    pub fn query(
        &self,
        dims: &[Dim],
        summed: &str,
        placeholder: impl Fn(usize) -> String,
    ) -> (String, Vec<&str>) {
        let cols: Vec<&str> = dims.iter().map(|d| d.column()).collect();
        let (eq, days) = self.conditions();
        let wh: Vec<String> = eq
            .iter()
            .map(|(c, _)| format!("{c} ="))
            .chain(days.iter().map(|(op, _)| format!("day {op}")))
            .enumerate()
            .map(|(i, cond)| format!("{cond} {}", placeholder(i + 1)))
            .collect();
        let params = eq.iter().chain(&days).map(|(_, v)| *v).collect();
        let select: String = cols.iter().map(|c| format!("{c}, ")).collect();
        let wh = match wh.is_empty() {
            true => String::new(),
            false => format!("WHERE {}", wh.join(" AND ")),
        };
        let group = match cols.is_empty() {
            true => String::new(),
            false => format!("GROUP BY {}", cols.join(", ")),
        };
        let sql =
            format!("SELECT {select}{summed} FROM rollups {wh} {group} HAVING SUM(calls) > 0");
        (sql, params)
    }
}

/// A column (or comparison) and its value.
pub type Condition<'a> = (&'static str, &'a str);

/// The date of `t` when it is exactly midnight UTC.
fn whole_day(t: Timestamp) -> Option<String> {
    (t.as_millisecond().rem_euclid(86_400_000) == 0).then(|| day_of(t))
}

/// Sums grouped by some dimensions: `key[i]` is the value of the `i`th
/// dimension asked for (`""` when absent).
#[derive(Debug, Clone, PartialEq)]
pub struct RollupRow {
    pub key: Vec<String>,
    pub sums: Sums,
}

/// Stats rows from rollup rows grouped by `[Dim::of(group_by), Dim::Currency]`,
/// ordered by key (absent first), as the scan answers them.
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
            let avg_qa = (s.qa_count > 0).then(|| s.qa_micros as f64 / 1e6 / s.qa_count as f64);
            let mut row = StatsRow::from_sums(
                key,
                s.calls,
                s.answered,
                s.talk_seconds,
                s.answered_talk_seconds,
                avg_qa,
            );
            row.cost = costs
                .into_iter()
                .map(|(c, d)| (c, d.normalize().to_string()))
                .collect();
            row
        })
        .collect())
}

#[cfg(test)]
#[path = "rollup_tests.rs"]
mod tests;
