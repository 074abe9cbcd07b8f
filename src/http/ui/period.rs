//! The sums a dashboard page draws, folded from rollup rows: per local
//! day and vendor, per local hour of day, and per vendor and outcome.
//! Shared by the overview and the campaign page.

use crate::domain::money::add_amounts;
use crate::domain::Outcome;
use crate::storage::rollup::{RollupRow, Sums};
use jiff::civil::Date;
use rust_decimal::Decimal;
use std::collections::BTreeMap;

/// Sums over a range of local days, from rows keyed
/// `[local hour "YYYY-MM-DDTHH", vendor, currency]` ([`super::local::hours`]).
#[derive(Debug, Default)]
pub struct Period {
    pub days: Vec<Date>,
    /// Per vendor, the sums of each of `days`.
    pub per_vendor: BTreeMap<String, Vec<Sums>>,
    /// Per day, every vendor together.
    pub per_day: Vec<Sums>,
    /// Per local hour of day (0–23), every day together.
    pub by_hour: Vec<Sums>,
    pub total: Sums,
    /// Cost per currency.
    pub cost: BTreeMap<String, Decimal>,
}

impl Period {
    /// Folds `rows` over `days` (rows on other days count in `total` and
    /// `by_hour` only).
    pub fn of(days: Vec<Date>, rows: &[RollupRow]) -> Period {
        let index: BTreeMap<String, usize> = days
            .iter()
            .enumerate()
            .map(|(i, d)| (d.to_string(), i))
            .collect();
        let n = days.len();
        let mut p = Period {
            per_day: vec![Sums::default(); n],
            by_hour: vec![Sums::default(); 24],
            days,
            ..Default::default()
        };
        for r in rows {
            let [hour, vendor, currency] = &r.key[..] else {
                continue;
            };
            p.total.add(&r.sums, 1);
            add_cost(&mut p.cost, currency, r.sums.cost);
            if let Some(h) = hour.get(11..13).and_then(|h| h.parse::<usize>().ok()) {
                if let Some(slot) = p.by_hour.get_mut(h) {
                    slot.add(&r.sums, 1);
                }
            }
            let Some(&i) = hour.get(..10).and_then(|d| index.get(d)) else {
                continue;
            };
            p.per_day[i].add(&r.sums, 1);
            p.per_vendor
                .entry(vendor.clone())
                .or_insert_with(|| vec![Sums::default(); n])[i]
                .add(&r.sums, 1);
        }
        p
    }
}

fn add_cost(cost: &mut BTreeMap<String, Decimal>, currency: &str, amount: Decimal) {
    if !currency.is_empty() {
        let sum = cost.entry(currency.to_owned()).or_default();
        *sum = add_amounts(*sum, amount);
    }
}

/// The outcome name a page shows for calls awaiting their report.
pub const AWAITING: &str = "awaiting-report";

/// One vendor's (or everyone's) sums with their outcome mix and cost.
#[derive(Debug, Default, Clone)]
pub struct Mix {
    pub sums: Sums,
    /// Calls per outcome; calls awaiting their report under [`AWAITING`]
    /// rather than `unknown`.
    pub outcomes: BTreeMap<String, i64>,
    pub cost: BTreeMap<String, Decimal>,
}

impl Mix {
    fn add(&mut self, currency: &str, s: &Sums) {
        self.sums.add(s, 1);
        for o in Outcome::ALL {
            // Calls awaiting their report have no outcome yet (`unknown`).
            let awaiting = if *o == Outcome::Unknown {
                s.awaiting_report
            } else {
                0
            };
            let known = s.of_outcome(*o) - awaiting;
            if known > 0 {
                *self.outcomes.entry(o.as_str().to_owned()).or_default() += known;
            }
        }
        if s.awaiting_report > 0 {
            *self.outcomes.entry(AWAITING.to_owned()).or_default() += s.awaiting_report;
        }
        add_cost(&mut self.cost, currency, s.cost);
    }
}

/// Everyone's [`Mix`] and each vendor's, from rows whose key ends with
/// `[vendor, currency]` (such as [`super::local::hours`]' rows), their
/// outcome mix read from the outcome columns.
pub fn mixes(rows: &[RollupRow]) -> (Mix, BTreeMap<String, Mix>) {
    let mut all = Mix::default();
    let mut per = BTreeMap::<String, Mix>::new();
    for r in rows {
        let [.., vendor, currency] = &r.key[..] else {
            continue;
        };
        all.add(currency, &r.sums);
        per.entry(vendor.clone())
            .or_default()
            .add(currency, &r.sums);
    }
    (all, per)
}

/// `part / whole` as a fraction, `None` when `whole` is 0.
pub fn ratio(part: i64, whole: i64) -> Option<f64> {
    (whole > 0).then(|| part as f64 / whole as f64)
}

/// The answer rate in percent, out of calls with a report; `None` when
/// none has one.
pub fn answer_rate(s: &Sums) -> Option<f64> {
    ratio(s.answered, s.calls - s.awaiting_report).map(|r| r * 100.0)
}

/// The average QA score in percent, `None` without scores.
pub fn avg_qa(s: &Sums) -> Option<f64> {
    ratio(s.qa_micros, s.qa_count).map(|v| v / 1e6)
}

/// Cost per answered minute in each currency: the cost over the answered
/// calls' talk time; `None` for a currency when nothing was answered.
pub fn cost_per_answered_minute(mix: &Mix) -> BTreeMap<String, Option<Decimal>> {
    let minutes = Decimal::from(mix.sums.answered_talk_seconds) / Decimal::from(60);
    mix.cost
        .iter()
        .map(|(c, d)| {
            let per = (!minutes.is_zero()).then(|| (d / minutes).round_dp(4).normalize());
            (c.clone(), per)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(key: &[&str], calls: i64, answered: i64, awaiting: i64, cost: i64) -> RollupRow {
        let mut outcomes = [0; crate::storage::rollup::OUTCOMES];
        outcomes[Outcome::Answered.index()] = answered;
        outcomes[Outcome::Unknown.index()] = calls - answered;
        RollupRow {
            key: key.iter().map(|k| k.to_string()).collect(),
            sums: Sums {
                calls,
                answered,
                awaiting_report: awaiting,
                answered_talk_seconds: answered * 90,
                cost: Decimal::new(cost, 2),
                outcomes,
                ..Default::default()
            },
        }
    }

    #[test]
    fn a_period_folds_local_hours_into_days_and_hours_of_day() {
        let d: Date = "2025-06-01".parse().unwrap();
        let rows = [
            row(&["2025-06-01T09", "aliyun", ""], 3, 2, 0, 0),
            row(&["2025-06-02T09", "laaffic", "USD"], 2, 1, 1, 25),
            row(&["2025-06-05T23", "laaffic", "USD"], 1, 0, 0, 5),
        ];
        let p = Period::of(vec![d, d.tomorrow().unwrap()], &rows);
        assert_eq!(p.per_day[0].calls, 3);
        assert_eq!(p.per_day[1].calls, 2);
        assert_eq!(p.per_vendor["laaffic"][1].awaiting_report, 1);
        assert_eq!(p.by_hour[9].calls, 5);
        assert_eq!(
            p.by_hour[23].calls, 1,
            "outside the days: hours and total only"
        );
        assert_eq!(p.total.calls, 6);
        assert_eq!(p.cost["USD"].to_string(), "0.30");
        // 3 answered of 5 reported calls: the awaiting one is left out.
        assert_eq!(answer_rate(&p.total), Some(60.0));
    }

    #[test]
    fn mixes_put_awaiting_calls_apart_and_price_answered_minutes() {
        let mut busy = row(&["2025-06-01T10", "bland", "USD"], 1, 0, 0, 10);
        busy.sums.outcomes = [0; crate::storage::rollup::OUTCOMES];
        busy.sums.outcomes[Outcome::Busy.index()] = 1;
        let rows = [
            row(&["2025-06-01T09", "aliyun", "CNY"], 2, 2, 0, 300),
            row(&["2025-06-01T10", "aliyun", ""], 3, 0, 2, 0),
            busy,
        ];
        let (all, per) = mixes(&rows);
        assert_eq!(all.outcomes["answered"], 2);
        assert_eq!(all.outcomes["unknown"], 1);
        assert_eq!(all.outcomes["busy"], 1);
        assert_eq!(all.outcomes[AWAITING], 2);
        assert_eq!(all.outcomes.len(), 4, "no outcome without calls");
        assert_eq!(per["aliyun"].sums.calls, 5);
        // 3.00 CNY over 2 × 90 s = 3 minutes.
        let cpm = cost_per_answered_minute(&per["aliyun"]);
        assert_eq!(cpm["CNY"].unwrap().to_string(), "1");
        assert_eq!(cost_per_answered_minute(&per["bland"])["USD"], None);
        let rate = answer_rate(&per["aliyun"].sums).unwrap();
        assert!((rate - 200.0 / 3.0).abs() < 1e-9, "2 of 3 reported: {rate}");
    }
}
