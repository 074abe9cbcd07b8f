//! `GET /deliveries`: each subscriber's health on top
//! (`delivery_health.rs`), then outbound events per subscriber (and NATS),
//! newest first, filtered by subscriber and status (tabs with counts);
//! `POST /deliveries/{id}/retry` makes a dead or pending delivery due at
//! once with a fresh schedule. A result is green for a 2xx, red for
//! another status or a network error, neutral before any attempt.

use super::delivery_health::{self, flash, HealthRow};
use super::login::CsrfForm;
use super::session::check_csrf;
use super::templates::{choices, Choice, Chrome};
use super::{chrome, format, html, UiError};
use crate::http::AppState;
use crate::storage::retry::{retry_one, RetryOneError};
use crate::storage::{Delivery, DeliveryFilter, DeliveryStatus, PageRequest};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use axum_extra::extract::cookie::CookieJar;
use jiff::Timestamp;
use serde::Deserialize;

const PAGE_SIZE: usize = 50;

#[derive(Deserialize, Default, Clone)]
#[serde(default)]
pub struct DeliveriesForm {
    pub subscriber: String,
    pub status: String,
}

#[derive(Deserialize, Default)]
pub struct DeliveriesQuery {
    #[serde(flatten)]
    form: DeliveriesForm,
    #[serde(default)]
    cursor: Option<String>,
    #[serde(default)]
    done: Option<String>,
    /// The target a health button acted on, and how many it changed.
    #[serde(default)]
    target: String,
    #[serde(default)]
    n: String,
}

/// The status tabs: query value and label (`""` is every status).
const TABS: [(&str, &str); 4] = [
    ("", "All"),
    ("pending", "Pending"),
    ("delivered", "Delivered"),
    ("dead", "Dead"),
];

pub struct Row {
    pub id: String,
    pub created_at: String,
    pub subscriber: String,
    pub call_id: String,
    pub event_type: &'static str,
    pub status: &'static str,
    pub attempts: u32,
    pub last: String,
    /// `r-ok` (2xx), `r-bad` (another status or an error) or empty
    /// (no attempt yet): the colour of the last result.
    pub result_class: &'static str,
    pub next_attempt_at: String,
    pub retryable: bool,
}

impl Row {
    fn of(d: &Delivery) -> Row {
        let last = d.last_result().unwrap_or_else(|| format::NONE.into());
        Row {
            id: d.id.clone(),
            created_at: format::time(d.created_at),
            subscriber: d.subscriber.clone(),
            call_id: d.call_id.clone(),
            event_type: d.event_type.as_str(),
            status: d.status.as_str(),
            attempts: d.attempts,
            last,
            result_class: result_class(d.last_response_status, d.last_error.is_some()),
            next_attempt_at: format::opt_time(d.next_attempt_at),
            retryable: d.status != DeliveryStatus::Delivered,
        }
    }
}

/// The colour of a last result: a 2xx without an error is good; any
/// other status, or an error without one (timeout, refused), is bad.
pub fn result_class(status: Option<u16>, error: bool) -> &'static str {
    match (status, error) {
        (Some(s), false) if (200..300).contains(&s) => "r-ok",
        (None, false) => "",
        _ => "r-bad",
    }
}

#[derive(Template)]
#[template(path = "deliveries.html")]
pub struct DeliveriesPage {
    pub nav: &'static str,
    pub chrome: Chrome,
    pub targets: Vec<Choice>,
    /// The status tabs: `value` is the link's query, `label` with a count.
    pub tabs: Vec<Choice>,
    pub status: String,
    pub health: Vec<HealthRow>,
    pub rows: Vec<Row>,
    pub query: String,
    pub next: Option<String>,
}

pub async fn page(
    State(st): State<AppState>,
    jar: CookieJar,
    Query(q): Query<DeliveriesQuery>,
) -> Result<(CookieJar, Response), UiError> {
    let status = match q.form.status.trim() {
        "" => None,
        s => Some(
            DeliveryStatus::parse(s).map_err(|e| UiError::BadRequest(format!("status: {e}")))?,
        ),
    };
    let filter = DeliveryFilter {
        subscriber: Some(q.form.subscriber.trim().to_owned()).filter(|s| !s.is_empty()),
        status,
    };
    let page = PageRequest {
        limit: PAGE_SIZE,
        cursor: q.cursor.filter(|c| !c.is_empty()),
    };
    let page = st.store.list_deliveries(&filter, &page).await?;
    let names = st.config.target_names();
    let target = Some(q.target.as_str()).filter(|t| names.iter().any(|n| n == t));
    let flash = match (q.done.as_deref(), target) {
        (Some("retried"), _) => flash("retried", "", ""),
        (Some(done), Some(t)) => flash(done, t, &q.n),
        _ => None,
    };
    let (jar, chrome) = chrome(&st, jar, flash);
    let health = delivery_health::rows(&st).await?;
    let shown: Vec<&HealthRow> = health
        .iter()
        .filter(|h| q.form.subscriber.trim().is_empty() || h.name == q.form.subscriber.trim())
        .collect();
    let count = |tab: &str| -> u64 {
        shown
            .iter()
            .map(|h| match tab {
                "pending" => h.pending,
                "delivered" => h.delivered,
                "dead" => h.dead,
                _ => h.pending + h.delivered + h.dead,
            })
            .sum()
    };
    let link = |status: &str| {
        let mut query = form_urlencoded::Serializer::new(String::new());
        for (k, v) in [("subscriber", q.form.subscriber.trim()), ("status", status)] {
            if !v.is_empty() {
                query.append_pair(k, v);
            }
        }
        query.finish()
    };
    let status = q.form.status.trim().to_owned();
    let out = DeliveriesPage {
        nav: "deliveries",
        chrome,
        targets: choices(names, &q.form.subscriber),
        tabs: TABS
            .iter()
            .map(|(value, label)| Choice {
                value: link(value),
                label: format!("{label} {}", count(value)),
                selected: *value == status,
            })
            .collect(),
        query: link(&status),
        status,
        rows: page.items.iter().map(Row::of).collect(),
        next: page
            .next_cursor
            .map(|c| form_urlencoded::byte_serialize(c.as_bytes()).collect()),
        health,
    };
    Ok((jar, html(&out)))
}

pub async fn retry(
    State(st): State<AppState>,
    jar: CookieJar,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(f): Form<CsrfForm>,
) -> Result<Response, UiError> {
    check_csrf(&jar, &headers, &f.csrf)?;
    retry_one(&*st.store, &id, Timestamp::now())
        .await
        .map_err(|e| match e {
            RetryOneError::NotFound(_) => UiError::NotFound(e.to_string()),
            RetryOneError::Delivered { .. } => UiError::Conflict(e.to_string()),
            RetryOneError::Store(s) => UiError::Store(s),
        })?;
    Ok(Redirect::to("/deliveries?done=retried").into_response())
}

#[cfg(test)]
mod tests {
    use super::result_class;

    #[test]
    fn only_failures_are_red() {
        assert_eq!(result_class(Some(200), false), "r-ok");
        assert_eq!(result_class(Some(204), false), "r-ok");
        assert_eq!(result_class(Some(503), true), "r-bad");
        assert_eq!(result_class(Some(404), false), "r-bad");
        assert_eq!(result_class(None, true), "r-bad");
        assert_eq!(result_class(None, false), "");
    }
}
