//! `GET /`: totals, charts and a per-vendor comparison over a range of
//! days in the display zone, answered from the rollups alone
//! (`docs/rollups.md`) so it costs about the same at a thousand calls or
//! ten million: calls and answer rate per day and vendor, answer rate and
//! calls by hour of day, outcome mix, talk time, cost, QA trend.
//!
//! The range is typed dates, a quick range (`range=today|7d|30d|all|latest`)
//! or the default ([`super::range`]).

use super::drawing::{self, Chart, Totals, VendorRow};
use super::filters::FilterForm;
use super::period::{mixes, Period};
use super::range::{self, Extent, Quick};
use super::templates::{choices, Choice, Chrome};
use super::{chrome, filters, html, local, zone, UiError};
use crate::config::display;
use crate::domain::Vendor;
use crate::http::AppState;
use crate::storage::rollup::{Dim, RollupFilter};
use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use axum_extra::extract::cookie::CookieJar;
use jiff::ToSpan;
use serde::Deserialize;

/// The overview's query: the filters it offers and a quick range.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct OverviewQuery {
    pub from: String,
    pub to: String,
    pub vendor: String,
    pub source: String,
    pub task_id: String,
    pub range: String,
}

/// A quick-range link: label, href, whether it is the range shown.
pub struct QuickLink {
    pub label: &'static str,
    pub href: String,
    pub on: bool,
}

#[derive(Template)]
#[template(path = "overview.html")]
pub struct OverviewPage {
    pub nav: &'static str,
    pub chrome: Chrome,
    pub form: FilterForm,
    pub vendors: Vec<Choice>,
    pub sources: Vec<Choice>,
    pub quick: Vec<QuickLink>,
    pub range_note: String,
    /// No call at all yet (the empty state says how to send one).
    pub no_calls: bool,
    /// Sources' push paths, for the empty state.
    pub hooks: Vec<String>,
    pub totals: Totals,
    pub charts: Vec<Chart>,
    pub vendor_rows: Vec<VendorRow>,
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

/// The links of the quick ranges, keeping the other filters.
fn quick_links(form: &FilterForm, on: Option<Quick>) -> Vec<QuickLink> {
    let kept = FilterForm {
        vendor: form.vendor.clone(),
        source: form.source.clone(),
        task_id: form.task_id.clone(),
        ..Default::default()
    }
    .query();
    Quick::ALL
        .iter()
        .map(|(q, value, label)| QuickLink {
            label,
            href: match kept.is_empty() {
                true => format!("/?range={value}"),
                false => format!("/?range={value}&{kept}"),
            },
            on: on == Some(*q),
        })
        .collect()
}

pub async fn page(
    State(st): State<AppState>,
    jar: CookieJar,
    Query(q): Query<OverviewQuery>,
) -> Result<(CookieJar, Response), UiError> {
    let tz = zone::current();
    let mut form = FilterForm {
        from: q.from,
        to: q.to,
        vendor: q.vendor,
        source: q.source,
        task_id: q.task_id,
        ..Default::default()
    };
    let undated = FilterForm {
        from: String::new(),
        to: String::new(),
        ..form.clone()
    };
    let mut rf = RollupFilter::of(&undated.call_filter_in(&tz)?)
        .ok_or_else(|| UiError::BadRequest("the overview cannot filter on that".into()))?;
    let extent = Extent::of(&st.store.rollup_totals(&[Dim::Day], &rf).await?, &tz);
    let today = jiff::Timestamp::now().to_zoned(tz.clone()).date();
    let range = range::resolve(
        form.days()?,
        Quick::parse(&q.range)?,
        extent,
        today,
        &display::name(&tz),
    )?;
    (form.from, form.to) = (range.from.to_string(), range.to.to_string());
    rf.since = Some(filters::midnight(range.from, &tz)?);
    rf.until = Some(filters::midnight(range.to + 1.day(), &tz)?);
    let hours = local::hours(&st, &[Dim::Vendor, Dim::Currency], &rf, &tz).await?;
    let period = Period::of(range.days(), &hours);
    // The outcome mix and talk durations of the whole range, from the
    // outcome and bucket columns: whole UTC days from the daily level,
    // the ends of a local day's range from the hourly one.
    let mix_rows = st.store.rollup(&[Dim::Vendor, Dim::Currency], &rf).await?;
    let (mix, per_vendor) = mixes(&mix_rows);
    let (jar, chrome) = chrome(&st, jar, None);
    let page = OverviewPage {
        nav: "overview",
        chrome,
        vendors: choices(Vendor::known().iter().map(|v| v.as_str()), &form.vendor),
        sources: choices(
            st.config.sources.iter().map(|s| s.name.clone()),
            &form.source,
        ),
        quick: quick_links(&form, range.quick),
        form,
        range_note: range.note,
        no_calls: extent.first.is_none(),
        hooks: st
            .config
            .sources
            .iter()
            .map(|s| format!("/hooks/{}", s.name))
            .collect(),
        totals: drawing::totals(&period.total, &mix),
        charts: drawing::charts(&period, &mix),
        vendor_rows: drawing::vendor_rows(&per_vendor),
        projection: projection_note(st.ingestor.backlog.lag()),
    };
    Ok((jar, html(&page)))
}
