//! Rollups: sums of calls kept at several levels (`rollup_levels.rs`),
//! each keyed by a time bucket (UTC hour or day) and a few dimensions, and
//! maintained in the same transaction as every push that changes a call,
//! so the stats API and the dashboard answer from small tables instead of
//! scanning every call. The planner (`rollup_plan.rs`) picks the smallest
//! level that answers a question exactly (docs/rollups.md).
//!
//! A changed call moves its contribution: the sums of the call as it was
//! are taken away from its old key and the sums of the call as it is are
//! added to its new key (both keys are the same unless the outcome, cost
//! currency, task, … changed). Each push's changes are folded into one
//! [`RollupDelta`] of full keys first; each level then folds the full keys
//! to its own and writes them in key order, so two transactions on
//! PostgreSQL lock rollup rows in the same order and cannot deadlock.

use super::GroupBy;
use crate::domain::money::add_amounts;
use crate::domain::{Call, Outcome};
use jiff::tz::TimeZone;
use jiff::Timestamp;
use rust_decimal::Decimal;
use std::collections::BTreeMap;

#[path = "rollup_check.rs"]
pub mod check;
#[path = "rollup_filter.rs"]
mod filter;
#[path = "rollup_fold.rs"]
mod fold;
#[path = "rollup_levels.rs"]
pub mod levels;
#[path = "rollup_plan.rs"]
pub mod plan;
#[path = "rollup_schema.rs"]
pub mod schema;

pub use filter::{Condition, RollupFilter};
pub use fold::{merge_rows, stats_rows, CallFolder};
pub use levels::{Grain, Level, SumSet, LEVELS};

/// Upper bounds (exclusive, seconds) of the talk-time buckets of answered
/// calls: `<10 s`, `10–29 s`, `30–59 s`, `1–2 min`, `2–5 min`, `5–10 min`,
/// and `≥10 min` (the last bucket has no bound).
pub const TALK_BUCKET_BOUNDS: [i64; 6] = [10, 30, 60, 120, 300, 600];

/// How many talk-time buckets there are.
pub const TALK_BUCKETS: usize = TALK_BUCKET_BOUNDS.len() + 1;

/// How many canonical outcomes there are: the outcome columns of every
/// rollup row, in [`Outcome::ALL`] order ([`Outcome::index`]).
pub const OUTCOMES: usize = Outcome::ALL.len();

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

/// A call's full rollup key: every dimension any level keeps. Absent
/// values are `""` (a key column cannot be NULL in a primary key). Each
/// level keeps a part of it ([`Level::key_of`]).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RollupKey {
    /// The hour of `started_at`, `YYYY-MM-DDTHH` (UTC in the rollups).
    pub hour: String,
    pub vendor: String,
    pub source: String,
    pub direction: String,
    pub outcome: String,
    /// `""` for a call without `task_id`.
    pub task_id: String,
    /// The cost's currency; `""` for a call without cost.
    pub currency: String,
    /// The intent's label, else its code, else `""`.
    pub intent: String,
}

impl RollupKey {
    /// The date part of [`RollupKey::hour`], `YYYY-MM-DD`.
    pub fn day(&self) -> &str {
        &self.hour[..self.hour.len().min(10)]
    }

    /// The value of `dim`.
    pub fn value(&self, dim: Dim) -> &str {
        match dim {
            Dim::Hour => &self.hour,
            Dim::Day => self.day(),
            Dim::Vendor => &self.vendor,
            Dim::Source => &self.source,
            Dim::Direction => &self.direction,
            Dim::Outcome => &self.outcome,
            Dim::TaskId => &self.task_id,
            Dim::Currency => &self.currency,
            Dim::Intent => &self.intent,
        }
    }

    /// The key of `call`, its hour taken in `tz` (UTC for the rollups).
    pub fn of(call: &Call, tz: &TimeZone) -> RollupKey {
        RollupKey {
            hour: hour_in(call.started_at, tz),
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
            intent: call
                .intent
                .as_ref()
                .and_then(|i| i.label.clone().or_else(|| i.code.clone()))
                .unwrap_or_default(),
        }
    }
}

/// The sums one rollup row keeps. Seconds are whole seconds; `cost` is in
/// the key's currency (summed across currencies when a level or a query
/// leaves the currency out: read it per [`Dim::Currency`]).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Sums {
    pub calls: i64,
    /// Calls whose outcome is `answered`.
    pub answered: i64,
    /// Calls known only from their analyses, with no report yet
    /// ([`Call::awaiting_report`]).
    pub awaiting_report: i64,
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
    /// Calls per canonical outcome, at [`Outcome::index`] (calls awaiting
    /// their report count under `unknown`).
    pub outcomes: [i64; OUTCOMES],
}

impl Sums {
    /// The key (hour in UTC) and sums of one call.
    pub fn of(call: &Call) -> (RollupKey, Sums) {
        (RollupKey::of(call, &TimeZone::UTC), Sums::of_call(call))
    }

    /// The sums of one call.
    pub fn of_call(call: &Call) -> Sums {
        let answered = call.outcome == Outcome::Answered;
        let talk = call.talk_seconds.unwrap_or(0);
        let qa = call.qa_score_percent();
        let mut talk_buckets = [0; TALK_BUCKETS];
        if let (true, Some(t)) = (answered, call.talk_seconds) {
            talk_buckets[talk_bucket(t)] = 1;
        }
        let mut outcomes = [0; OUTCOMES];
        outcomes[call.outcome.index()] = 1;
        Sums {
            calls: 1,
            answered: i64::from(answered),
            awaiting_report: i64::from(call.awaiting_report()),
            talk_seconds: talk,
            answered_talk_seconds: if answered { talk } else { 0 },
            cost: call.cost.as_ref().map(|c| c.amount).unwrap_or_default(),
            qa_micros: qa.map_or(0, |q| (q * 1e6).round() as i64),
            qa_count: i64::from(qa.is_some()),
            talk_buckets,
            outcomes,
        }
    }

    /// Adds `other` times `sign` (+1 or -1). Money never overflows here:
    /// on overflow the amount saturates rather than panicking.
    pub fn add(&mut self, other: &Sums, sign: i64) {
        self.calls += sign * other.calls;
        self.answered += sign * other.answered;
        self.awaiting_report += sign * other.awaiting_report;
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
        for (a, b) in self.outcomes.iter_mut().zip(other.outcomes) {
            *a += sign * b;
        }
    }

    /// `true` when adding these sums changes nothing.
    pub fn is_zero(&self) -> bool {
        *self == Sums::default()
    }

    /// Calls of `outcome`.
    pub fn of_outcome(&self, outcome: Outcome) -> i64 {
        self.outcomes[outcome.index()]
    }

    /// `answered / (calls - awaiting_report)`, 0 to 1 (0 without reported
    /// calls): calls still awaiting their report do not count against it.
    pub fn answer_rate(&self) -> f64 {
        let reported = self.calls - self.awaiting_report;
        if reported > 0 {
            self.answered as f64 / reported as f64
        } else {
            0.0
        }
    }
}

/// The UTC date of `t`, `YYYY-MM-DD`.
pub fn day_of(t: Timestamp) -> String {
    t.to_zoned(TimeZone::UTC).date().to_string()
}

/// The hour of `t` in `tz`, `YYYY-MM-DDTHH`.
pub fn hour_in(t: Timestamp, tz: &TimeZone) -> String {
    t.to_zoned(tz.clone()).strftime("%Y-%m-%dT%H").to_string()
}

/// The start of hour key `YYYY-MM-DDTHH` (UTC); `None` if malformed.
pub fn hour_start(hour: &str) -> Option<Timestamp> {
    format!("{hour}:00:00Z").parse().ok()
}

/// One call's key and sums ([`Sums::of`]).
pub type Contribution = (RollupKey, Sums);

/// The rollup changes of one transaction, folded per full key.
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

    /// Adds a call's contribution (rebuilding rollups from stored calls).
    pub fn add(&mut self, (key, sums): Contribution) {
        self.0.entry(key).or_default().add(&sums, 1);
    }

    /// Takes a deleted call's contribution ([`Sums::of`] the call) away.
    pub fn remove(&mut self, (key, sums): Contribution) {
        self.0.entry(key).or_default().add(&sums, -1);
    }

    /// How many full keys the delta holds.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// `true` without any change.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The non-zero changes of `level`, its keys ([`Level::key_of`]) in
    /// order (the lock order on PostgreSQL).
    pub fn level_rows(&self, level: &Level) -> Vec<(Vec<String>, Sums)> {
        let mut out: BTreeMap<Vec<String>, Sums> = BTreeMap::new();
        for (k, s) in &self.0 {
            out.entry(level.key_of(k)).or_default().add(s, 1);
        }
        out.into_iter().filter(|(_, s)| !s.is_zero()).collect()
    }

    /// The non-zero changes per full key, in key order.
    pub fn into_rows(self) -> impl Iterator<Item = (RollupKey, Sums)> {
        self.0.into_iter().filter(|(_, s)| !s.is_zero())
    }
}

/// A rollup dimension to group by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Dim {
    /// The UTC hour of `started_at`, `YYYY-MM-DDTHH`.
    Hour,
    /// The UTC date of `started_at`, `YYYY-MM-DD`.
    Day,
    Vendor,
    Source,
    Direction,
    Outcome,
    TaskId,
    Currency,
    /// The intent's label, else its code, else `""`.
    Intent,
}

impl Dim {
    /// The rollup column of this dimension.
    pub fn column(self) -> &'static str {
        match self {
            Dim::Hour => "hour",
            Dim::Day => "day",
            Dim::Vendor => "vendor",
            Dim::Source => "source",
            Dim::Direction => "direction",
            Dim::Outcome => "outcome",
            Dim::TaskId => "task_id",
            Dim::Currency => "currency",
            Dim::Intent => "intent",
        }
    }

    /// The dimension a stats `group_by` reads (in UTC).
    pub fn of(g: GroupBy) -> Dim {
        match g {
            GroupBy::Vendor => Dim::Vendor,
            GroupBy::Source => Dim::Source,
            GroupBy::Outcome => Dim::Outcome,
            GroupBy::Day => Dim::Day,
            GroupBy::Hour => Dim::Hour,
            GroupBy::TaskId => Dim::TaskId,
        }
    }
}

/// Sums grouped by some dimensions: `key[i]` is the value of the `i`th
/// dimension asked for (`""` when absent).
#[derive(Debug, Clone, PartialEq)]
pub struct RollupRow {
    pub key: Vec<String>,
    pub sums: Sums,
}

#[cfg(test)]
#[path = "rollup_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "rollup_props.rs"]
mod props;
