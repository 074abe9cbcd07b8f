//! `GET /deliveries`: outbound events per subscriber (and NATS), newest
//! first, filtered by subscriber and status; `POST /deliveries/{id}/retry`
//! makes a dead or pending delivery due at once with a fresh schedule.

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
}

pub struct Row {
    pub id: String,
    pub created_at: String,
    pub subscriber: String,
    pub call_id: String,
    pub event_type: &'static str,
    pub status: &'static str,
    pub attempts: u32,
    pub last: String,
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
            next_attempt_at: format::opt_time(d.next_attempt_at),
            retryable: d.status != DeliveryStatus::Delivered,
        }
    }
}

#[derive(Template)]
#[template(path = "deliveries.html")]
pub struct DeliveriesPage {
    pub nav: &'static str,
    pub chrome: Chrome,
    pub targets: Vec<Choice>,
    pub statuses: Vec<Choice>,
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
    let flash = (q.done.as_deref() == Some("retried"))
        .then(|| "The delivery is due now; the dispatcher sends it shortly.".to_owned());
    let (jar, chrome) = chrome(&st, jar, flash);
    let mut query = form_urlencoded::Serializer::new(String::new());
    for (k, v) in [
        ("subscriber", &q.form.subscriber),
        ("status", &q.form.status),
    ] {
        if !v.is_empty() {
            query.append_pair(k, v);
        }
    }
    let out = DeliveriesPage {
        nav: "deliveries",
        chrome,
        targets: choices(st.config.target_names(), &q.form.subscriber),
        statuses: choices(["pending", "delivered", "dead"], &q.form.status),
        rows: page.items.iter().map(Row::of).collect(),
        query: query.finish(),
        next: page
            .next_cursor
            .map(|c| form_urlencoded::byte_serialize(c.as_bytes()).collect()),
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
