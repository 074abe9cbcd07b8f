//! `GET /alerts`: the configured `[[alerts]]` rules with their current
//! state and latest measurement, then the history of firings, newest
//! first (filter `state=firing|resolved`; docs/alerts.md).

use super::templates::{choices, Choice, Chrome};
use super::{chrome, format, html, UiError};
use crate::http::AppState;
use crate::storage::{AlertFilter, AlertRecord, AlertState};
use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use axum_extra::extract::cookie::CookieJar;
use serde::Deserialize;
use std::collections::HashMap;

/// Firings shown per page.
const PAGE_SIZE: usize = 50;

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct AlertsQuery {
    pub state: String,
    pub cursor: Option<String>,
}

/// One configured rule as shown.
pub struct RuleRow {
    pub name: String,
    pub kind: &'static str,
    /// `firing`, `ok` or `not evaluated yet`.
    pub state: &'static str,
    pub since: String,
    pub message: String,
    pub evaluated_at: String,
}

/// One firing as shown.
pub struct AlertRow {
    pub rule: String,
    pub kind: String,
    pub state: &'static str,
    pub value: String,
    pub threshold: String,
    pub message: String,
    pub fired_at: String,
    pub resolved_at: String,
    pub notified: String,
}

impl AlertRow {
    fn of(a: &AlertRecord) -> AlertRow {
        let mut notified: Vec<String> = a.notified.fired.clone();
        notified.extend(
            a.notified
                .resolved
                .iter()
                .map(|c| format!("{c} (resolved)")),
        );
        AlertRow {
            rule: a.rule.clone(),
            kind: a.kind.clone(),
            state: a.state.as_str(),
            value: trim(a.value),
            threshold: trim(a.threshold),
            message: a.message.clone(),
            fired_at: format::time(a.fired_at),
            resolved_at: format::opt_time(a.resolved_at),
            notified: if notified.is_empty() {
                format::NONE.into()
            } else {
                notified.join(", ")
            },
        }
    }
}

fn trim(v: f64) -> String {
    let s = format!("{v:.4}");
    s.trim_end_matches('0').trim_end_matches('.').to_owned()
}

#[derive(Template)]
#[template(path = "alerts.html")]
pub struct AlertsPage {
    pub nav: &'static str,
    pub chrome: Chrome,
    pub rules: Vec<RuleRow>,
    pub states: Vec<Choice>,
    pub rows: Vec<AlertRow>,
    pub state: String,
    pub next: Option<String>,
}

pub async fn page(
    State(st): State<AppState>,
    jar: CookieJar,
    Query(q): Query<AlertsQuery>,
) -> Result<(CookieJar, Response), UiError> {
    let state = match q.state.trim() {
        "" => None,
        s => Some(AlertState::parse(s).map_err(|e| UiError::BadRequest(format!("state: {e}")))?),
    };
    let firing: HashMap<String, AlertRecord> = st
        .store
        .list_alerts(&AlertFilter {
            state: Some(AlertState::Firing),
            limit: 10_000,
            ..AlertFilter::default()
        })
        .await?
        .into_iter()
        .map(|a| (a.rule.clone(), a))
        .collect();
    let measured = st
        .alerts_measured
        .read()
        .map(|m| m.clone())
        .unwrap_or_default();
    let rules = st
        .config
        .alerts
        .iter()
        .map(|r| {
            let last = measured.get(&r.name);
            let f = firing.get(&r.name);
            RuleRow {
                name: r.name.clone(),
                kind: r.kind.as_str(),
                state: match (f, last) {
                    (Some(_), _) => "firing",
                    (None, Some(_)) => "ok",
                    (None, None) => "not evaluated yet",
                },
                since: f.map_or(format::NONE.into(), |a| format::time(a.fired_at)),
                message: last.map_or(format::NONE.into(), |(_, m)| m.message.clone()),
                evaluated_at: last.map_or(format::NONE.into(), |(t, _)| format::time(*t)),
            }
        })
        .collect();
    let cursor = q.cursor.filter(|c| c.starts_with("alr_"));
    let mut items = st
        .store
        .list_alerts(&AlertFilter {
            state,
            rule: None,
            before: cursor,
            limit: PAGE_SIZE + 1,
        })
        .await?;
    let next = if items.len() > PAGE_SIZE {
        items.truncate(PAGE_SIZE);
        items.last().map(|a| a.id.clone())
    } else {
        None
    };
    let (jar, chrome) = chrome(&st, jar, None);
    let out = AlertsPage {
        nav: "alerts",
        chrome,
        rules,
        states: choices(["firing", "resolved"], &q.state),
        rows: items.iter().map(AlertRow::of).collect(),
        state: q.state.trim().to_owned(),
        next,
    };
    Ok((jar, html(&out)))
}
