//! Campaign pages. `GET /tasks`: every task (campaign) with calls in the
//! range, busiest first. `GET /tasks/{task_id}`: one campaign's calls,
//! answer rate, outcome mix, talk time, cost and cost per answered minute,
//! intents and QA, by day and by hour of day, each figure compared with
//! the period of the same length just before. Both read the task rollups
//! only (`docs/rollups.md`), never the calls.

use super::drawing::{self, Chart, Totals};
use super::filters::{self, FilterForm};
use super::period::{answer_rate, avg_qa, mixes, Mix, Period};
use super::range::{self, Extent, Quick, Range};
use super::templates::Chrome;
use super::{charts, chrome, format, html, local, zone, UiError};
use crate::config::display;
use crate::http::AppState;
use crate::storage::rollup::{Dim, RollupFilter, Sums};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum_extra::extract::cookie::CookieJar;
use jiff::tz::TimeZone;
use jiff::ToSpan;
use serde::Deserialize;

/// The query of both pages: dates or a quick range.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct TaskQuery {
    pub from: String,
    pub to: String,
    pub range: String,
}

/// A quick-range link.
pub struct QuickLink {
    pub label: &'static str,
    pub href: String,
    pub on: bool,
}

fn quick_links(path: &str, on: Option<Quick>) -> Vec<QuickLink> {
    Quick::ALL
        .iter()
        .map(|(q, value, label)| QuickLink {
            label,
            href: format!("{path}?range={value}"),
            on: on == Some(*q),
        })
        .collect()
}

/// The range of `q` for calls matching `rf` (without dates), and `rf`
/// bounded to it.
async fn resolve(
    st: &AppState,
    q: &TaskQuery,
    rf: &RollupFilter,
    tz: &TimeZone,
) -> Result<(Range, RollupFilter), UiError> {
    let form = FilterForm {
        from: q.from.clone(),
        to: q.to.clone(),
        ..Default::default()
    };
    let extent = Extent::of(&st.store.rollup_totals(&[Dim::Day], rf).await?, tz);
    let today = jiff::Timestamp::now().to_zoned(tz.clone()).date();
    let range = range::resolve(
        form.days()?,
        Quick::parse(&q.range)?,
        extent,
        today,
        &display::name(tz),
    )?;
    let bounded = bounded(rf, &range, tz)?;
    Ok((range, bounded))
}

fn bounded(rf: &RollupFilter, r: &Range, tz: &TimeZone) -> Result<RollupFilter, UiError> {
    Ok(RollupFilter {
        since: Some(filters::midnight(r.from, tz)?),
        until: Some(filters::midnight(r.to + 1.day(), tz)?),
        ..rf.clone()
    })
}

/// One task of the list.
pub struct TaskRow {
    pub task_id: String,
    pub href: String,
    pub calls: i64,
    pub answered: i64,
    pub answer_rate: String,
    pub avg_qa: String,
}

#[derive(Template)]
#[template(path = "tasks.html")]
pub struct TasksPage {
    pub nav: &'static str,
    pub chrome: Chrome,
    pub quick: Vec<QuickLink>,
    pub range_note: String,
    pub rows: Vec<TaskRow>,
    /// Tasks beyond the first [`LIST_TASKS`] not shown.
    pub more: usize,
}

/// Tasks listed at most.
const LIST_TASKS: usize = 500;

/// `GET /tasks`.
pub async fn list(
    State(st): State<AppState>,
    jar: CookieJar,
    Query(q): Query<TaskQuery>,
) -> Result<(CookieJar, Response), UiError> {
    let tz = zone::current();
    let (range, rf) = resolve(&st, &q, &RollupFilter::default(), &tz).await?;
    let mut rows = st.store.rollup_totals(&[Dim::TaskId], &rf).await?;
    rows.retain(|r| !r.key[0].is_empty() && r.sums.calls > 0);
    rows.sort_by(|a, b| b.sums.calls.cmp(&a.sums.calls).then(a.key.cmp(&b.key)));
    let more = rows.len().saturating_sub(LIST_TASKS);
    let rows = rows
        .into_iter()
        .take(LIST_TASKS)
        .map(|r| TaskRow {
            href: task_href(&r.key[0]),
            task_id: r.key[0].clone(),
            calls: r.sums.calls,
            answered: r.sums.answered,
            answer_rate: format::percent(answer_rate(&r.sums)),
            avg_qa: format::percent(avg_qa(&r.sums)),
        })
        .collect();
    let (jar, chrome) = chrome(&st, jar, None);
    let page = TasksPage {
        nav: "tasks",
        chrome,
        quick: quick_links("/tasks", range.quick),
        range_note: range.note,
        rows,
        more,
    };
    Ok((jar, html(&page)))
}

/// The path of a task's page (the id URL-encoded).
pub fn task_href(task_id: &str) -> String {
    let id: String = form_urlencoded::byte_serialize(task_id.as_bytes()).collect();
    format!("/tasks/{id}")
}

/// A figure now, before, and how it changed.
pub struct Compared {
    pub label: &'static str,
    pub id: &'static str,
    pub now: String,
    pub before: String,
    /// `+12.5%`, `−3.0 pts`, or the dash.
    pub change: String,
}

fn compare(now: &Sums, now_mix: &Mix, before: &Sums, before_mix: &Mix) -> Vec<Compared> {
    let (a, b) = (
        drawing::totals(now, now_mix),
        drawing::totals(before, before_mix),
    );
    let rel = |x: i64, y: i64| match y {
        0 => format::NONE.to_owned(),
        y => format!("{:+.1}%", (x - y) as f64 * 100.0 / y as f64),
    };
    let pts = |x: Option<f64>, y: Option<f64>| match (x, y) {
        (Some(x), Some(y)) => format!("{:+.1} pts", x - y),
        _ => format::NONE.to_owned(),
    };
    let row = |label, id, now: String, before: String, change| Compared {
        label,
        id,
        now,
        before,
        change,
    };
    let Totals {
        calls, answered, ..
    } = a;
    vec![
        row(
            "Calls",
            "cmp-calls",
            calls.to_string(),
            b.calls.to_string(),
            rel(calls, b.calls),
        ),
        row(
            "Answered",
            "cmp-answered",
            answered.to_string(),
            b.answered.to_string(),
            rel(answered, b.answered),
        ),
        row(
            "Answer rate",
            "cmp-answer-rate",
            a.answer_rate,
            b.answer_rate,
            pts(answer_rate(now), answer_rate(before)),
        ),
        row(
            "Average talk",
            "cmp-talk",
            a.avg_talk,
            b.avg_talk,
            format::NONE.to_owned(),
        ),
        row(
            "Average QA score",
            "cmp-qa",
            a.avg_qa,
            b.avg_qa,
            pts(avg_qa(now), avg_qa(before)),
        ),
        row("Cost", "cmp-cost", a.cost, b.cost, format::NONE.to_owned()),
        row(
            "Cost per answered minute",
            "cmp-cpm",
            a.cost_per_minute,
            b.cost_per_minute,
            format::NONE.to_owned(),
        ),
    ]
}

#[derive(Template)]
#[template(path = "task.html")]
pub struct TaskPage {
    pub nav: &'static str,
    pub chrome: Chrome,
    pub task_id: String,
    pub quick: Vec<QuickLink>,
    pub range_note: String,
    pub previous_note: String,
    pub calls_href: String,
    pub totals: Totals,
    pub compared: Vec<Compared>,
    pub charts: Vec<Chart>,
}

/// `GET /tasks/{task_id}`.
pub async fn show(
    State(st): State<AppState>,
    jar: CookieJar,
    Path(task_id): Path<String>,
    Query(q): Query<TaskQuery>,
) -> Result<(CookieJar, Response), UiError> {
    let tz = zone::current();
    let task = RollupFilter {
        task_id: Some(task_id.clone()),
        ..Default::default()
    };
    let (range, rf) = resolve(&st, &q, &task, &tz).await?;
    let hours = local::hours(&st, &[Dim::Vendor, Dim::Currency], &rf, &tz).await?;
    let period = Period::of(range.days(), &hours);
    // The outcome mix from the outcome columns of the task levels.
    let mix_dims = [Dim::Vendor, Dim::Currency];
    let (mix, _) = mixes(&st.store.rollup(&mix_dims, &rf).await?);
    let previous = range.previous();
    let (before, _) = mixes(
        &st.store
            .rollup(&mix_dims, &bounded(&task, &previous, &tz)?)
            .await?,
    );
    let intents = st.store.rollup(&[Dim::Intent], &rf).await?;
    let mut charts = drawing::charts(&period, &mix);
    let shares: Vec<charts::Share> = {
        let mut v: Vec<(String, i64)> = intents
            .iter()
            .filter(|r| r.sums.calls > 0)
            .map(|r| (r.key[0].clone(), r.sums.calls))
            .collect();
        v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        v.into_iter()
            .map(|(label, count)| charts::Share {
                label: if label.is_empty() {
                    "(no intent)".into()
                } else {
                    label
                },
                count,
                colour: charts::vendor_colour("intent"),
            })
            .collect()
    };
    charts.push(Chart {
        id: "intents",
        title: "Intents (% of calls)".into(),
        points: shares.len(),
        svg: charts::shares(&shares).unwrap_or_default(),
        legend: Vec::new(),
    });
    let calls_href = format!(
        "/calls?{}",
        FilterForm {
            task_id: task_id.clone(),
            from: range.from.to_string(),
            to: range.to.to_string(),
            ..Default::default()
        }
        .query()
    );
    let (jar, chrome) = chrome(&st, jar, None);
    let page = TaskPage {
        nav: "tasks",
        chrome,
        quick: quick_links(&task_href(&task_id), range.quick),
        range_note: range.note,
        previous_note: format!("{} to {}", previous.from, previous.to),
        calls_href,
        totals: drawing::totals(&period.total, &mix),
        compared: compare(&mix.sums, &mix, &before.sums, &before),
        charts,
        task_id,
    };
    Ok((jar, html(&page)))
}
