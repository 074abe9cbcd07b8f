//! The charts and figures the overview and the campaign page draw from a
//! [`Period`] and a [`Mix`]: each chart with its id, title, number of data
//! points (0 shows "no data") and legend.

use super::charts::{self, Series, Share};
use super::format;
use super::period::{answer_rate, avg_qa, cost_per_answered_minute, Mix, Period, AWAITING};
use crate::storage::rollup::{Sums, TALK_BUCKET_LABELS};
use rust_decimal::Decimal;
use std::collections::BTreeMap;

/// One drawn chart; `legend` names each line with its colour (`#rrggbb`).
pub struct Chart {
    pub id: &'static str,
    pub title: String,
    pub points: usize,
    pub svg: String,
    pub legend: Vec<(String, String)>,
}

impl Chart {
    fn new(id: &'static str, title: &str, points: usize, svg: Result<String, String>) -> Chart {
        let svg = svg.unwrap_or_else(|e| {
            tracing::error!(chart = id, error = %e, "chart failed to draw");
            String::new()
        });
        Chart {
            id,
            title: title.to_owned(),
            points: if svg.is_empty() { 0 } else { points },
            svg,
            legend: Vec::new(),
        }
    }
}

/// The headline figures, as text.
pub struct Totals {
    pub calls: i64,
    pub answered: i64,
    /// Calls known only from their analyses (not in the answer rate).
    pub awaiting: i64,
    pub answer_rate: String,
    pub avg_talk: String,
    pub avg_qa: String,
    pub cost: String,
    pub cost_per_minute: String,
}

/// `0.25 EUR · 0.34 USD`, or the dash.
pub fn costs(cost: &BTreeMap<String, Decimal>) -> String {
    let parts: Vec<String> = cost
        .iter()
        .map(|(c, d)| format!("{} {c}", d.normalize()))
        .collect();
    match parts.is_empty() {
        true => format::NONE.into(),
        false => parts.join(" · "),
    }
}

fn per_minute(mix: &Mix) -> String {
    let parts: Vec<String> = cost_per_answered_minute(mix)
        .into_iter()
        .filter_map(|(c, d)| d.map(|d| format!("{d} {c}")))
        .collect();
    match parts.is_empty() {
        true => format::NONE.into(),
        false => parts.join(" · "),
    }
}

/// The figures of `s` (cost from `mix`).
pub fn totals(s: &Sums, mix: &Mix) -> Totals {
    Totals {
        calls: s.calls,
        answered: s.answered,
        awaiting: s.awaiting_report,
        answer_rate: format::percent(answer_rate(s)),
        avg_talk: (s.answered > 0)
            .then(|| s.answered_talk_seconds / s.answered)
            .map_or_else(|| format::NONE.into(), format::seconds),
        avg_qa: format::percent(avg_qa(s)),
        cost: costs(&mix.cost),
        cost_per_minute: per_minute(mix),
    }
}

/// One row of the per-vendor comparison.
pub struct VendorRow {
    pub vendor: String,
    pub colour: String,
    pub totals: Totals,
    /// The three largest outcomes with their share: `answered 57% · …`.
    pub outcomes: String,
    /// Answered calls' talk time: `<30s 20% · 30s–2min 50% · ≥2min 30%`.
    pub talk: String,
}

/// The comparison table, one row per vendor.
pub fn vendor_rows(per: &BTreeMap<String, Mix>) -> Vec<VendorRow> {
    per.iter()
        .map(|(v, mix)| VendorRow {
            vendor: v.clone(),
            colour: charts::hex(charts::vendor_colour(v)),
            totals: totals(&mix.sums, mix),
            outcomes: top_outcomes(mix, 3),
            talk: talk_split(&mix.sums),
        })
        .collect()
}

fn top_outcomes(mix: &Mix, n: usize) -> String {
    let total: i64 = mix.outcomes.values().sum();
    let mut v: Vec<(&String, &i64)> = mix.outcomes.iter().collect();
    v.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    v.into_iter()
        .take(n)
        .map(|(o, c)| {
            format!(
                "{} {:.0}%",
                label(o),
                *c as f64 * 100.0 / total.max(1) as f64
            )
        })
        .collect::<Vec<_>>()
        .join(" · ")
}

fn talk_split(s: &Sums) -> String {
    let b = s.talk_buckets;
    let all: i64 = b.iter().sum();
    if all == 0 {
        return format::NONE.into();
    }
    let pct = |n: i64| n as f64 * 100.0 / all as f64;
    format!(
        "<30s {:.0}% · 30s–2min {:.0}% · ≥2min {:.0}%",
        pct(b[0] + b[1]),
        pct(b[2] + b[3]),
        pct(b[4] + b[5] + b[6])
    )
}

/// An outcome as people read it: `no answer`, `report not received yet`.
pub fn label(outcome: &str) -> String {
    match outcome {
        AWAITING => "report not received yet".into(),
        o => o.replace('_', " "),
    }
}

/// The outcomes with calls, in the taxonomy's order (answered first),
/// each with its fixed colour.
pub fn outcome_shares(outcomes: &BTreeMap<String, i64>) -> Vec<Share> {
    let rank = |o: &str| {
        charts::OUTCOME_COLOURS
            .iter()
            .position(|(name, _)| *name == o)
            .unwrap_or(usize::MAX)
    };
    let mut mix: Vec<(&String, i64)> = outcomes
        .iter()
        .filter(|(_, n)| **n > 0)
        .map(|(o, n)| (o, *n))
        .collect();
    mix.sort_by_key(|(o, _)| (rank(o), o.to_string()));
    mix.into_iter()
        .map(|(o, n)| Share {
            label: label(o),
            count: n,
            colour: charts::outcome_colour(o),
        })
        .collect()
}

/// The charts of a period: calls and answer rate per day per vendor,
/// answer rate by hour of day, outcome mix, talk time, cost, QA trend.
pub fn charts(p: &Period, mix: &Mix) -> Vec<Chart> {
    let labels = day_labels(p);
    vec![
        calls_per_day_chart(p, &labels),
        answer_rate_chart(p, &labels),
        answer_rate_by_hour_chart(p),
        calls_by_hour_chart(p),
        outcome_chart(mix),
        talk_time_chart(mix),
        cost_chart(mix),
        qa_trend_chart(p, &labels),
    ]
}

/// The period's days as the x labels: `MM-DD`.
fn day_labels(p: &Period) -> Vec<String> {
    p.days
        .iter()
        .map(|d| d.strftime("%m-%d").to_string())
        .collect()
}

/// The hours of the day as the x labels: `00` to `23`.
fn hour_labels() -> Vec<String> {
    (0..24).map(|h| format!("{h:02}")).collect()
}

/// Each vendor with its colour, for the per-vendor charts.
fn vendor_legend(p: &Period) -> Vec<(String, String)> {
    p.per_vendor
        .keys()
        .map(|v| (v.clone(), charts::hex(charts::vendor_colour(v))))
        .collect()
}

/// One line per vendor: `f` of each day's sums, days without a value left
/// out.
fn vendor_series(p: &Period, f: &dyn Fn(&Sums) -> Option<f64>) -> Vec<Series> {
    p.per_vendor
        .iter()
        .map(|(v, days)| Series {
            colour: charts::vendor_colour(v),
            points: days
                .iter()
                .enumerate()
                .filter_map(|(i, s)| f(s).map(|y| (i, y)))
                .collect(),
        })
        .collect()
}

/// The points of all `lines`.
fn point_count(lines: &[Series]) -> usize {
    lines.iter().map(|x| x.points.len()).sum()
}

fn calls_per_day_chart(p: &Period, labels: &[String]) -> Chart {
    let calls = vendor_series(p, &|s| Some(s.calls as f64));
    let n = if p.total.calls > 0 {
        point_count(&calls)
    } else {
        0
    };
    let mut c = Chart::new(
        "calls-per-day",
        "Calls per day",
        n,
        charts::lines(labels, &calls, 1.0, "calls"),
    );
    c.legend = vendor_legend(p);
    c
}

fn answer_rate_chart(p: &Period, labels: &[String]) -> Chart {
    let rate = vendor_series(p, &answer_rate);
    let mut c = Chart::new(
        "answer-rate",
        "Answer rate per day (%)",
        point_count(&rate),
        charts::lines(labels, &rate, 100.0, "%"),
    );
    c.legend = vendor_legend(p);
    c
}

/// Hours without a reported call draw as 0 and do not count as points.
fn answer_rate_by_hour_chart(p: &Period) -> Chart {
    let by_hour: Vec<f64> = p
        .by_hour
        .iter()
        .map(|s| answer_rate(s).unwrap_or(0.0))
        .collect();
    let hour_points = p
        .by_hour
        .iter()
        .filter(|s| s.calls > s.awaiting_report)
        .count();
    Chart::new(
        "answer-rate-by-hour",
        "Answer rate by hour of day (%)",
        hour_points,
        charts::bars(&hour_labels(), &by_hour, "%"),
    )
}

fn calls_by_hour_chart(p: &Period) -> Chart {
    let calls_by_hour: Vec<f64> = p.by_hour.iter().map(|s| s.calls as f64).collect();
    let busy_hours = p.by_hour.iter().filter(|s| s.calls > 0).count();
    Chart::new(
        "calls-by-hour",
        "Calls by hour of day",
        busy_hours,
        charts::bars(&hour_labels(), &calls_by_hour, "calls"),
    )
}

fn outcome_chart(mix: &Mix) -> Chart {
    let shares = outcome_shares(&mix.outcomes);
    Chart::new(
        "outcomes",
        "Outcome mix (% of calls)",
        shares.len(),
        charts::shares(&shares),
    )
}

fn talk_time_chart(mix: &Mix) -> Chart {
    let talk: Vec<f64> = mix.sums.talk_buckets.iter().map(|n| *n as f64).collect();
    let talk_labels: Vec<String> = TALK_BUCKET_LABELS.iter().map(|l| l.to_string()).collect();
    let talk_points = talk.iter().filter(|n| **n > 0.0).count();
    Chart::new(
        "talk-time",
        "Talk time of answered calls",
        talk_points,
        charts::bars(&talk_labels, &talk, "calls"),
    )
}

/// One bar per currency, labelled with its amount.
fn cost_chart(mix: &Mix) -> Chart {
    let (currencies, amounts): (Vec<String>, Vec<f64>) = mix
        .cost
        .iter()
        .map(|(c, d)| {
            (
                format!("{c} {}", d.normalize()),
                d.to_string().parse().unwrap_or(0.0),
            )
        })
        .unzip();
    Chart::new(
        "cost",
        "Cost per currency",
        amounts.len(),
        charts::bars(&currencies, &amounts, "amount"),
    )
}

/// One line over all vendors: each day's average QA score.
fn qa_trend_chart(p: &Period, labels: &[String]) -> Chart {
    let qa = vec![Series {
        colour: charts::vendor_colour(""),
        points: p
            .per_day
            .iter()
            .enumerate()
            .filter_map(|(i, s)| avg_qa(s).map(|q| (i, q)))
            .collect(),
    }];
    Chart::new(
        "qa-trend",
        "Average QA score per day (%)",
        point_count(&qa),
        charts::lines(labels, &qa, 100.0, "%"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sums(calls: i64, answered: i64) -> Sums {
        Sums {
            calls,
            answered,
            ..Default::default()
        }
    }

    #[test]
    fn a_period_draws_every_chart_in_order_with_its_points() {
        let mut by_hour = vec![Sums::default(); 24];
        by_hour[9] = sums(3, 2);
        let p = Period {
            days: vec!["2025-06-01".parse().unwrap(), "2025-06-02".parse().unwrap()],
            per_vendor: [("vapi".to_owned(), vec![sums(3, 2), sums(0, 0)])].into(),
            per_day: vec![sums(3, 2), sums(0, 0)],
            by_hour,
            total: sums(3, 2),
            ..Default::default()
        };
        let out = charts(&p, &Mix::default());
        let ids: Vec<&str> = out.iter().map(|c| c.id).collect();
        assert_eq!(
            ids,
            [
                "calls-per-day",
                "answer-rate",
                "answer-rate-by-hour",
                "calls-by-hour",
                "outcomes",
                "talk-time",
                "cost",
                "qa-trend"
            ]
        );
        let points: Vec<usize> = out.iter().map(|c| c.points).collect();
        // Two days of calls, one with an answer rate; one busy hour.
        assert_eq!(points, [2, 1, 1, 1, 0, 0, 0, 0]);
        assert_eq!(out[0].legend, out[1].legend);
        assert_eq!(out[0].legend.len(), 1);
        assert!(out[2..].iter().all(|c| c.legend.is_empty()));
    }
}
