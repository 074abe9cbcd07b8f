//! The rollup levels: one table each, keyed by a time bucket (UTC hour or
//! day) and a few dimensions, all keeping the same [`super::Sums`]. Sized
//! for the questions asked (docs/rollups.md): a level leaves out what its
//! questions never filter or group on, so it stays small.

use super::{Dim, RollupFilter, RollupKey, Sums, TALK_BUCKETS};
use jiff::Timestamp;
use rust_decimal::Decimal;

/// The time bucket of a level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grain {
    /// UTC hours, column `hour` (`YYYY-MM-DDTHH`).
    Hour,
    /// UTC days, column `day` (`YYYY-MM-DD`).
    Day,
}

impl Grain {
    /// The bucket's length in milliseconds.
    pub fn millis(self) -> i64 {
        match self {
            Grain::Hour => 3_600_000,
            Grain::Day => 86_400_000,
        }
    }

    /// The time column.
    pub fn column(self) -> &'static str {
        match self {
            Grain::Hour => "hour",
            Grain::Day => "day",
        }
    }

    /// `true` when `t` starts a bucket.
    pub fn aligned(self, t: Timestamp) -> bool {
        t.as_millisecond().rem_euclid(self.millis()) == 0
    }

    /// The start of the first bucket starting at or after `t`.
    pub fn ceil(self, t: Timestamp) -> Timestamp {
        let ms = t.as_millisecond();
        let m = self.millis();
        let up = ms + (m - ms.rem_euclid(m)) % m;
        Timestamp::from_millisecond(up).unwrap_or(t)
    }

    /// The start of the bucket holding `t`.
    pub fn floor(self, t: Timestamp) -> Timestamp {
        let ms = t.as_millisecond();
        Timestamp::from_millisecond(ms - ms.rem_euclid(self.millis())).unwrap_or(t)
    }

    /// The key text of the bucket starting at `t`.
    pub fn key(self, t: Timestamp) -> String {
        match self {
            Grain::Hour => super::hour_in(t, &jiff::tz::TimeZone::UTC),
            Grain::Day => super::day_of(t),
        }
    }
}

/// One rollup level: its table, time bucket and the dimensions it keeps.
#[derive(Debug, PartialEq, Eq)]
pub struct Level {
    pub table: &'static str,
    pub grain: Grain,
    /// Key dimensions besides the time bucket, in column order.
    pub dims: &'static [Dim],
}

/// The levels, smallest (expected rows) first: the planner takes the
/// first that answers a question exactly.
pub const LEVELS: [Level; 6] = [
    // Day × vendor × source × direction × currency: every grouping but
    // outcome, task and hour (the outcome mix in the outcome columns).
    Level {
        table: "rollup_day_totals",
        grain: Grain::Day,
        dims: &[Dim::Vendor, Dim::Source, Dim::Direction, Dim::Currency],
    },
    // Day × vendor × source × direction × outcome × currency: stats
    // grouped or filtered by outcome.
    Level {
        table: "rollup_days",
        grain: Grain::Day,
        dims: &[
            Dim::Vendor,
            Dim::Source,
            Dim::Direction,
            Dim::Currency,
            Dim::Outcome,
        ],
    },
    // Hour × vendor × source × direction × currency: answer rate by hour,
    // partial days, days in other time zones.
    Level {
        table: "rollup_hours",
        grain: Grain::Hour,
        dims: &[Dim::Vendor, Dim::Source, Dim::Direction, Dim::Currency],
    },
    // Task × day × intent: calls per intent label.
    Level {
        table: "rollup_task_intents",
        grain: Grain::Day,
        dims: &[Dim::TaskId, Dim::Intent],
    },
    // Task × day × vendor × currency: a campaign by day (its outcome mix
    // in the outcome columns).
    Level {
        table: "rollup_task_days",
        grain: Grain::Day,
        dims: &[Dim::TaskId, Dim::Vendor, Dim::Currency],
    },
    // Task × hour × vendor × currency: a campaign by hour of day.
    Level {
        table: "rollup_task_hours",
        grain: Grain::Hour,
        dims: &[Dim::TaskId, Dim::Vendor, Dim::Currency],
    },
];

/// The summed columns of every level, in [`super::Sums`] order: counts,
/// talk seconds, `cost` (at [`COST_COLUMN`]), QA, talk-time buckets, then
/// one count per outcome (`outcome_<name>`, in [`crate::domain::Outcome::ALL`] order).
pub const SUM_COLUMNS: [&str; 30] = [
    "calls",
    "answered",
    "awaiting_report",
    "talk_seconds",
    "answered_talk_seconds",
    "cost",
    "qa_micros",
    "qa_count",
    "talk_b0",
    "talk_b1",
    "talk_b2",
    "talk_b3",
    "talk_b4",
    "talk_b5",
    "talk_b6",
    "outcome_answered",
    "outcome_voicemail",
    "outcome_no_answer",
    "outcome_busy",
    "outcome_rejected",
    "outcome_powered_off",
    "outcome_suspended",
    "outcome_unreachable",
    "outcome_invalid_number",
    "outcome_blocked",
    "outcome_abandoned",
    "outcome_canceled",
    "outcome_failed",
    "outcome_other",
    "outcome_unknown",
];

/// The position of `cost` in [`SUM_COLUMNS`]; every other one is an integer.
pub const COST_COLUMN: usize = 5;

/// How many of [`SUM_COLUMNS`] a stats row needs: the counts, talk
/// seconds, cost and QA sums, which come first.
pub const TOTAL_COLUMNS: usize = 8;

/// Which of [`SUM_COLUMNS`] a rollup read sums.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SumSet {
    /// Every column: what the dashboard's charts, outcome mixes and talk
    /// duration buckets need.
    All,
    /// The first [`TOTAL_COLUMNS`] (calls, answered, awaiting report, talk
    /// seconds, answered talk seconds, cost, QA): all a stats row shows;
    /// the talk buckets and outcome counts read as 0. Summing 8 columns
    /// instead of 30 makes a read of many rows about 2.7 times faster.
    Totals,
}

impl SumSet {
    /// Both sets, in [`SumSet::index`] order.
    pub const BOTH: [SumSet; 2] = [SumSet::All, SumSet::Totals];

    /// The columns summed, in [`SUM_COLUMNS`] order.
    pub fn columns(self) -> &'static [&'static str] {
        match self {
            SumSet::All => &SUM_COLUMNS,
            SumSet::Totals => &SUM_COLUMNS[..TOTAL_COLUMNS],
        }
    }

    /// The set's position in [`SumSet::BOTH`] (for per-set statements).
    pub fn index(self) -> usize {
        self as usize
    }

    /// How many integer sums a row read with this set holds (its columns
    /// but `cost`); [`sums_of`] takes them with the rest 0.
    pub fn ints(self) -> usize {
        self.columns().len() - 1
    }
}

/// The select list summing `columns` (a prefix of [`SUM_COLUMNS`]) in
/// order, comma-separated: `money(column)` for `cost`, `count(column)`
/// for the others. Each backend supplies its own SQL (a decimal sum for
/// money).
pub fn sum_list(
    columns: &[&str],
    money: impl Fn(&str) -> String,
    count: impl Fn(&str) -> String,
) -> String {
    columns
        .iter()
        .enumerate()
        .map(|(i, c)| if i == COST_COLUMN { money(c) } else { count(c) })
        .collect::<Vec<_>>()
        .join(", ")
}

/// How many integer columns [`SUM_COLUMNS`] has (all but `cost`).
pub const INT_COLUMNS: usize = SUM_COLUMNS.len() - 1;

/// The integer sums of `s` in [`SUM_COLUMNS`] order, `cost` left out.
pub fn integers(s: &Sums) -> [i64; INT_COLUMNS] {
    let mut out = [0; INT_COLUMNS];
    let head = [
        s.calls,
        s.answered,
        s.awaiting_report,
        s.talk_seconds,
        s.answered_talk_seconds,
        s.qa_micros,
        s.qa_count,
    ];
    let all = head.into_iter().chain(s.talk_buckets).chain(s.outcomes);
    for (o, v) in out.iter_mut().zip(all) {
        *o = v;
    }
    out
}

/// The sums whose integer columns are `ints` ([`integers`]) and whose
/// cost is `cost`.
pub fn sums_of(ints: &[i64; INT_COLUMNS], cost: Decimal) -> Sums {
    let mut s = Sums {
        calls: ints[0],
        answered: ints[1],
        awaiting_report: ints[2],
        talk_seconds: ints[3],
        answered_talk_seconds: ints[4],
        cost,
        qa_micros: ints[5],
        qa_count: ints[6],
        ..Default::default()
    };
    let rest = &ints[7..];
    s.talk_buckets.copy_from_slice(&rest[..TALK_BUCKETS]);
    s.outcomes.copy_from_slice(&rest[TALK_BUCKETS..]);
    s
}

impl Level {
    /// The key columns: the time column, then [`Level::dims`].
    pub fn key_columns(&self) -> Vec<&'static str> {
        std::iter::once(self.grain.column())
            .chain(self.dims.iter().map(|d| d.column()))
            .collect()
    }

    /// This level's key of a full key, in [`Level::key_columns`] order.
    pub fn key_of(&self, k: &RollupKey) -> Vec<String> {
        let time = match self.grain {
            Grain::Hour => k.hour.clone(),
            Grain::Day => k.day().to_owned(),
        };
        std::iter::once(time)
            .chain(self.dims.iter().map(|d| k.value(*d).to_owned()))
            .collect()
    }

    /// `true` when this level keeps every one of `dims` (a day is kept by
    /// hours too; an hour only by hours).
    pub fn keeps(&self, dims: &[Dim]) -> bool {
        dims.iter().all(|d| match d {
            Dim::Day => true,
            Dim::Hour => self.grain == Grain::Hour,
            d => self.dims.contains(d),
        })
    }

    /// The level whose table is `table`.
    pub fn named(table: &str) -> Option<&'static Level> {
        LEVELS.iter().find(|l| l.table == table)
    }

    /// `SELECT <dims>, <summed> FROM <table> WHERE … GROUP BY <dims>`
    /// leaving out groups without calls, with placeholders made by
    /// `placeholder(n)` (`n` from 1), and the parameters in that order.
    /// `filter`'s bounds must start buckets of this level's grain.
    pub fn query(
        &self,
        dims: &[Dim],
        filter: &RollupFilter,
        summed: &str,
        placeholder: impl Fn(usize) -> String,
    ) -> (String, Vec<String>) {
        let cols: Vec<String> = dims
            .iter()
            .map(|d| match (d, self.grain) {
                (Dim::Day, Grain::Hour) => "substr(hour, 1, 10)".to_owned(),
                (d, _) => d.column().to_owned(),
            })
            .collect();
        let time = self.grain.column();
        let mut conds: Vec<(String, String)> = filter
            .equalities()
            .into_iter()
            .map(|(c, v)| (format!("{c} ="), v.to_owned()))
            .collect();
        if let Some(t) = filter.since {
            conds.push((format!("{time} >="), self.grain.key(t)));
        }
        if let Some(t) = filter.until {
            conds.push((format!("{time} <"), self.grain.key(t)));
        }
        let wh: Vec<String> = conds
            .iter()
            .enumerate()
            .map(|(i, (c, _))| format!("{c} {}", placeholder(i + 1)))
            .collect();
        let params = conds.into_iter().map(|(_, v)| v).collect();
        let select: String = cols.iter().map(|c| format!("{c}, ")).collect();
        let wh = match wh.is_empty() {
            true => String::new(),
            false => format!("WHERE {}", wh.join(" AND ")),
        };
        let group = match cols.is_empty() {
            true => String::new(),
            false => format!("GROUP BY {}", cols.join(", ")),
        };
        let sql = format!(
            "SELECT {select}{summed} FROM {} {wh} {group} HAVING SUM(calls) > 0",
            self.table
        );
        (sql, params)
    }

    /// `DELETE` of this level's row with key `#1`…`#n` ([`Level::key_columns`]
    /// order; `#` written as `prefix`) when every sum is zero, as after its
    /// calls were deleted; `cost_is_zero` is the backend's test of `cost`.
    /// Removing a row of zeros changes no sum.
    pub fn prune_sql(&self, prefix: char, cost_is_zero: &str) -> String {
        let key: Vec<String> = self
            .key_columns()
            .iter()
            .enumerate()
            .map(|(i, c)| format!("{c} = {prefix}{}", i + 1))
            .collect();
        let zero: String = SUM_COLUMNS
            .iter()
            .filter(|c| **c != "cost")
            .map(|c| format!(" AND {c} = 0"))
            .collect();
        format!(
            "DELETE FROM {} WHERE {}{zero} AND {cost_is_zero}",
            self.table,
            key.join(" AND ")
        )
    }
}
