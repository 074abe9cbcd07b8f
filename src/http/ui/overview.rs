//! `GET /`: totals and charts over a date range, answered from the
//! rollups alone (`storage/rollup.rs`) so it costs the same at a thousand
//! calls or a million: calls and answer rate per day and vendor, outcome
//! mix, talk-time distribution, cost per currency, QA score trend.
//!
//! Without dates it shows the 30 days up to the latest day with calls.

use super::charts::{self, Series};
use super::filters::FilterForm;
use super::templates::{choices, Choice, Chrome};
use super::{chrome, format, html, UiError};
use crate::domain::Vendor;
use crate::http::AppState;
use crate::storage::rollup::{Dim, RollupFilter, RollupRow, Sums, TALK_BUCKET_LABELS};
use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use axum_extra::extract::cookie::CookieJar;
use jiff::civil::Date;
use jiff::ToSpan;
use rust_decimal::Decimal;
use std::collections::BTreeMap;

/// Days shown when no range is given.
const DEFAULT_DAYS: i64 = 30;
/// The longest range one page draws.
const MAX_DAYS: i64 = 731;

/// The sums the page is drawn from.
#[derive(Debug, Default)]
pub struct Summary {
    pub days: Vec<Date>,
    /// Per vendor: calls and answered calls on each of `days`.
    pub per_vendor: BTreeMap<String, (Vec<i64>, Vec<i64>)>,
    pub outcomes: BTreeMap<String, i64>,
    pub cost: BTreeMap<String, Decimal>,
    /// Per day: (QA micros, QA count).
    pub qa: Vec<(i64, i64)>,
    pub total: Sums,
}

impl Summary {
    /// Folds rollup rows keyed `[day, vendor, outcome, currency]` over `days`.
    pub fn of(days: Vec<Date>, rows: &[RollupRow]) -> Summary {
        let index: BTreeMap<String, usize> = days
            .iter()
            .enumerate()
            .map(|(i, d)| (d.to_string(), i))
            .collect();
        let mut s = Summary {
            qa: vec![(0, 0); days.len()],
            days,
            ..Default::default()
        };
        for r in rows {
            let [day, vendor, outcome, currency] = &r.key[..] else {
                continue;
            };
            s.total.add(&r.sums, 1);
            *s.outcomes.entry(outcome.clone()).or_default() += r.sums.calls;
            if !currency.is_empty() {
                let sum = s.cost.entry(currency.clone()).or_default();
                *sum = crate::domain::money::add_amounts(*sum, r.sums.cost);
            }
            let Some(&i) = index.get(day) else { continue };
            let n = s.qa.len();
            let (calls, answered) = s
                .per_vendor
                .entry(vendor.clone())
                .or_insert_with(|| (vec![0; n], vec![0; n]));
            calls[i] += r.sums.calls;
            answered[i] += r.sums.answered;
            s.qa[i].0 += r.sums.qa_micros;
            s.qa[i].1 += r.sums.qa_count;
        }
        s
    }
}

/// One drawn chart: `points` counts the data points (0 shows "no data");
/// `legend` names each line with its colour (`#rrggbb`).
pub struct Chart {
    pub id: &'static str,
    pub title: String,
    pub points: usize,
    pub svg: String,
    pub legend: Vec<(String, String)>,
}

pub struct Totals {
    pub calls: i64,
    pub answered: i64,
    pub answer_rate: String,
    pub avg_talk: String,
    pub avg_qa: String,
    pub cost: String,
}

#[derive(Template)]
#[template(path = "overview.html")]
pub struct OverviewPage {
    pub nav: &'static str,
    pub chrome: Chrome,
    pub form: FilterForm,
    pub vendors: Vec<Choice>,
    pub sources: Vec<Choice>,
    pub range_note: String,
    pub totals: Totals,
    pub charts: Vec<Chart>,
    /// The projection backlog: "all receipts projected", or how many wait
    /// and for how long (the calls above do not count them yet).
    pub projection: String,
}

/// The overview's line on the projection backlog.
fn projection_note(lag: crate::storage::ProjectionLag) -> String {
    match lag.oldest_pending_at {
        None => "Projection: all receipts projected.".into(),
        Some(t) => {
            let age = (jiff::Timestamp::now().as_millisecond() - t.as_millisecond()).max(0) as f64
                / 1000.0;
            format!(
                "Projection: {} receipts ({} records) waiting, the oldest for {age:.1} s; they are not counted above yet.",
                lag.pending_receipts, lag.pending_records
            )
        }
    }
}

pub async fn page(
    State(st): State<AppState>,
    jar: CookieJar,
    Query(q): Query<FilterForm>,
) -> Result<(CookieJar, Response), UiError> {
    // The overview filters on dates, vendor, source and task only.
    let mut form = FilterForm {
        from: q.from,
        to: q.to,
        vendor: q.vendor,
        source: q.source,
        task_id: q.task_id,
        ..Default::default()
    };
    let (from, to) = form.days()?;
    let mut rf = RollupFilter::of(&form.call_filter_in(&jiff::tz::TimeZone::UTC)?)
        .ok_or_else(|| UiError::BadRequest("the overview filters on whole days".into()))?;
    let to = match to {
        Some(t) => t,
        None => latest_day(&st, &rf).await?,
    };
    let from = from.unwrap_or_else(|| to - (DEFAULT_DAYS - 1).days());
    let span = (to - from).get_days() as i64 + 1;
    if span > MAX_DAYS {
        return Err(UiError::BadRequest(format!(
            "from–to spans {span} days; choose at most {MAX_DAYS}"
        )));
    }
    let range_note = if form.from.is_empty() && form.to.is_empty() {
        format!("{from} to {to} (UTC): the {DEFAULT_DAYS} days up to the latest call")
    } else {
        format!("{from} to {to} (UTC)")
    };
    (form.from, form.to) = (from.to_string(), to.to_string());
    let midnight = |d: Date| d.to_zoned(jiff::tz::TimeZone::UTC).map(|z| z.timestamp());
    rf.since = midnight(from).ok();
    rf.until = midnight(to + 1.day()).ok();
    let dims = [Dim::Day, Dim::Vendor, Dim::Outcome, Dim::Currency];
    let rows = st.store.rollup(&dims, &rf).await?;
    let days: Vec<Date> = (0..span).map(|i| from + i.days()).collect();
    let summary = Summary::of(days, &rows);
    let (jar, chrome) = chrome(&st, jar, None);
    let page = OverviewPage {
        nav: "overview",
        chrome,
        vendors: choices(Vendor::known().iter().map(|v| v.as_str()), &form.vendor),
        sources: choices(
            st.config.sources.iter().map(|s| s.name.clone()),
            &form.source,
        ),
        form,
        range_note,
        totals: totals(&summary),
        charts: draw(&summary),
        projection: projection_note(st.ingestor.backlog.lag()),
    };
    Ok((jar, html(&page)))
}

/// The latest UTC day with calls matching `rf` (ignoring its days), or today.
async fn latest_day(st: &AppState, rf: &RollupFilter) -> Result<Date, UiError> {
    let undated = RollupFilter {
        since: None,
        until: None,
        ..rf.clone()
    };
    let rows = st.store.rollup(&[Dim::Day], &undated).await?;
    let today = jiff::Timestamp::now()
        .to_zoned(jiff::tz::TimeZone::UTC)
        .date();
    Ok(rows
        .iter()
        .filter_map(|r| r.key.first()?.parse::<Date>().ok())
        .max()
        .unwrap_or(today))
}

fn totals(s: &Summary) -> Totals {
    let t = &s.total;
    let ratio = |a: i64, b: i64| (b > 0).then(|| a as f64 / b as f64);
    let cost: Vec<String> = s
        .cost
        .iter()
        .map(|(c, d)| format!("{} {c}", d.normalize()))
        .collect();
    Totals {
        calls: t.calls,
        answered: t.answered,
        answer_rate: format::percent(ratio(t.answered, t.calls).map(|r| r * 100.0)),
        avg_talk: ratio(t.answered_talk_seconds, t.answered).map_or_else(
            || format::NONE.into(),
            |v| format::seconds(v.round() as i64),
        ),
        avg_qa: format::percent(ratio(t.qa_micros, t.qa_count).map(|v| v / 1e6)),
        cost: if cost.is_empty() {
            format::NONE.into()
        } else {
            cost.join(" · ")
        },
    }
}

/// Draws every chart of `s`; a chart that fails to draw shows no data
/// (and is logged) rather than failing the page.
fn draw(s: &Summary) -> Vec<Chart> {
    let labels: Vec<String> = s
        .days
        .iter()
        .map(|d| d.strftime("%m-%d").to_string())
        .collect();
    let mut out = Vec::new();
    let legend: Vec<(String, String)> = s
        .per_vendor
        .keys()
        .map(|v| (v.clone(), charts::hex(charts::vendor_colour(v))))
        .collect();
    let mut push = |id, title: &str, points: usize, svg: Result<String, String>| {
        let svg = svg.unwrap_or_else(|e| {
            tracing::error!(chart = id, error = %e, "chart failed to draw");
            String::new()
        });
        let points = if svg.is_empty() { 0 } else { points };
        let legend = match id {
            "calls-per-day" | "answer-rate" => legend.clone(),
            _ => Vec::new(),
        };
        out.push(Chart {
            id,
            title: title.to_owned(),
            points,
            svg,
            legend,
        });
    };
    let series = |f: &dyn Fn(i64, i64) -> Option<f64>| -> Vec<Series> {
        s.per_vendor
            .iter()
            .map(|(v, (calls, answered))| Series {
                colour: charts::vendor_colour(v),
                points: (0..calls.len())
                    .filter_map(|i| f(calls[i], answered[i]).map(|y| (i, y)))
                    .collect(),
            })
            .collect()
    };
    let count = |ss: &[Series]| ss.iter().map(|x| x.points.len()).sum::<usize>();
    let calls = series(&|c, _| Some(c as f64));
    let calls_points = if s.total.calls > 0 { count(&calls) } else { 0 };
    push(
        "calls-per-day",
        "Calls per day",
        calls_points,
        charts::lines(&labels, &calls, 1.0, "calls"),
    );
    let rate = series(&|c, a| (c > 0).then(|| a as f64 * 100.0 / c as f64));
    push(
        "answer-rate",
        "Answer rate per day (%)",
        count(&rate),
        charts::lines(&labels, &rate, 100.0, "%"),
    );
    let mix = outcome_shares(&s.outcomes);
    push(
        "outcomes",
        "Outcome mix (% of calls)",
        mix.len(),
        charts::shares(&mix),
    );
    let talk: Vec<f64> = s.total.talk_buckets.iter().map(|n| *n as f64).collect();
    let talk_labels: Vec<String> = TALK_BUCKET_LABELS.iter().map(|l| l.to_string()).collect();
    let talk_points = talk.iter().filter(|n| **n > 0.0).count();
    push(
        "talk-time",
        "Talk time of answered calls",
        talk_points,
        charts::bars(&talk_labels, &talk, "calls"),
    );
    let (currencies, amounts): (Vec<String>, Vec<f64>) = s
        .cost
        .iter()
        .map(|(c, d)| {
            (
                format!("{c} {}", d.normalize()),
                d.to_string().parse().unwrap_or(0.0),
            )
        })
        .unzip();
    push(
        "cost",
        "Cost per currency",
        amounts.len(),
        charts::bars(&currencies, &amounts, "amount"),
    );
    let qa = vec![Series {
        colour: charts::vendor_colour(""),
        points: s
            .qa
            .iter()
            .enumerate()
            .filter(|(_, (_, n))| *n > 0)
            .map(|(i, (m, n))| (i, *m as f64 / 1e6 / *n as f64))
            .collect(),
    }];
    push(
        "qa-trend",
        "Average QA score per day (%)",
        count(&qa),
        charts::lines(&labels, &qa, 100.0, "%"),
    );
    out
}

/// The outcomes with calls, in the taxonomy's order (answered first, the
/// unknown last), each with its fixed colour.
pub fn outcome_shares(outcomes: &BTreeMap<String, i64>) -> Vec<charts::Share> {
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
        .map(|(o, n)| charts::Share {
            label: o.replace('_', " "),
            count: n,
            colour: charts::outcome_colour(o),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(day: &str, vendor: &str, outcome: &str, currency: &str, calls: i64) -> RollupRow {
        RollupRow {
            key: vec![day.into(), vendor.into(), outcome.into(), currency.into()],
            sums: Sums {
                calls,
                answered: if outcome == "answered" { calls } else { 0 },
                cost: Decimal::new(calls * 10, 2),
                qa_micros: 80_000_000 * calls,
                qa_count: calls,
                ..Default::default()
            },
        }
    }

    #[test]
    fn the_summary_folds_rows_per_day_vendor_outcome_and_currency() {
        let d1: Date = "2025-06-01".parse().unwrap();
        let days = vec![d1, d1 + 1.day()];
        let rows = [
            row("2025-06-01", "aliyun", "answered", "", 3),
            row("2025-06-01", "aliyun", "no_answer", "", 1),
            row("2025-06-02", "laaffic", "answered", "USD", 2),
            row("2025-06-02", "laaffic", "busy", "EUR", 1),
        ];
        let s = Summary::of(days, &rows);
        assert_eq!(s.per_vendor["aliyun"], (vec![4, 0], vec![3, 0]));
        assert_eq!(s.per_vendor["laaffic"], (vec![0, 3], vec![0, 2]));
        assert_eq!(s.outcomes["answered"], 5);
        assert_eq!(s.cost["USD"].to_string(), "0.20");
        assert_eq!(s.cost["EUR"].to_string(), "0.10");
        assert_eq!(s.qa[0], (320_000_000, 4));
        let t = totals(&s);
        assert_eq!((t.calls, t.answered), (7, 5));
        assert_eq!(t.answer_rate, "71.4%");
        assert_eq!(t.avg_qa, "80.0%");
        let charts = draw(&s);
        let points: Vec<(&str, usize)> = charts.iter().map(|c| (c.id, c.points)).collect();
        assert_eq!(
            points,
            [
                ("calls-per-day", 4),
                ("answer-rate", 2),
                ("outcomes", 3),
                ("talk-time", 0),
                ("cost", 2),
                ("qa-trend", 2)
            ]
        );
        assert!(charts.iter().all(|c| c.svg.starts_with("<svg")));
    }
}
