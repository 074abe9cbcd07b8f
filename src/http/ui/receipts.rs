//! `GET /receipts` (by status, rejected first, each tab with its count;
//! filtered by source and received dates), `GET /receipts/{id}` (the
//! error, the raw body) and `POST /receipts/{id}/replay`, which runs the
//! stored body through its source's adapter again (`Ingestor::replay`) and
//! comes back to the receipt with its new status.

use super::login::CsrfForm;
use super::receipt_form::{ReceiptsForm, TABS};
use super::session::check_csrf;
use super::templates::{choices, Choice, Chrome};
use super::{chrome, format, html, UiError};
use crate::adapters::RecordIssue;
use crate::http::AppState;
use crate::ingest::ReplayError;
use crate::masking::mask_phone_like;
use crate::storage::{PageRequest, ReceiptStatus, ReceiptSummary};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use axum_extra::extract::cookie::CookieJar;
use serde::Deserialize;

const PAGE_SIZE: usize = 50;
/// The most of a body a page shows; the API serves all of it.
const BODY_SHOWN: usize = 256 * 1024;

pub struct Row {
    pub id: String,
    pub received_at: String,
    pub source: String,
    pub status: &'static str,
    pub records: usize,
    pub error: String,
}

/// `text` with phone-like numbers masked when `mask` (`mask_numbers`).
fn shown(text: String, mask: bool) -> String {
    if mask {
        mask_phone_like(&text).into_owned()
    } else {
        text
    }
}

fn issue(i: &RecordIssue) -> String {
    let mut s = String::new();
    if let Some(idx) = i.index {
        s.push_str(&format!("record {idx}: "));
    }
    if !i.path.is_empty() {
        s.push_str(&format!("{}: ", i.path));
    }
    s.push_str(&i.message);
    s
}

impl Row {
    fn of(r: &ReceiptSummary, mask: bool) -> Row {
        Row {
            id: r.id.clone(),
            received_at: format::time(r.received_at),
            source: r.source.clone(),
            status: r.status.as_str(),
            records: r.record_count,
            error: shown(r.errors.first().map(issue).unwrap_or_default(), mask),
        }
    }
}

#[derive(Template)]
#[template(path = "receipts.html")]
pub struct ReceiptsPage {
    pub nav: &'static str,
    pub chrome: Chrome,
    /// The tabs, each labelled with its count (`Rejected 3`).
    pub tabs: Vec<Choice>,
    pub sources: Vec<Choice>,
    pub form: ReceiptsForm,
    /// The filters as a query string (tab included).
    pub query: String,
    /// The tab's status (`rejected`, …, `all`).
    pub status: String,
    /// How many receipts the tab holds (all pages).
    pub matching: u64,
    pub bulk_limit: usize,
    pub rows: Vec<Row>,
    pub next: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ListQuery {
    #[serde(flatten)]
    form: ReceiptsForm,
    cursor: Option<String>,
    /// Set by bulk replay: what it did (`super::receipts_bulk::Done`).
    #[serde(flatten)]
    done: super::receipts_bulk::Done,
}

pub async fn list(
    State(st): State<AppState>,
    jar: CookieJar,
    Query(q): Query<ListQuery>,
) -> Result<(CookieJar, Response), UiError> {
    let filter = q.form.filter()?;
    let counts = st.store.count_receipts(&filter).await?;
    let count_of = |tab: &str| match tab {
        "all" => counts.total(),
        s => ReceiptStatus::parse(s).map_or(0, |s| counts.of(s)),
    };
    let page = PageRequest {
        limit: PAGE_SIZE,
        cursor: q.cursor.filter(|c| !c.is_empty()),
    };
    let page = st.store.list_receipts(&filter, &page).await?;
    let (jar, chrome) = chrome(&st, jar, q.done.flash());
    let status = q.form.tab().to_owned();
    let out = ReceiptsPage {
        nav: "receipts",
        chrome,
        tabs: TABS
            .iter()
            .map(|(value, label)| Choice {
                value: q.form.query(Some(value)),
                label: format!("{label} {}", count_of(value)),
                selected: *value == status,
            })
            .collect(),
        sources: choices(
            st.config.sources.iter().map(|s| s.name.clone()),
            &q.form.source,
        ),
        query: q.form.query(None),
        matching: count_of(&status),
        bulk_limit: super::receipts_bulk::BULK_LIMIT,
        status,
        form: q.form,
        rows: page
            .items
            .iter()
            .map(|r| Row::of(r, st.config.mask_numbers))
            .collect(),
        next: page
            .next_cursor
            .map(|c| form_urlencoded::byte_serialize(c.as_bytes()).collect()),
    };
    Ok((jar, html(&out)))
}

pub struct ReceiptView {
    pub id: String,
    pub status: &'static str,
    pub source: String,
    pub kind: &'static str,
    pub received_at: String,
    pub remote_addr: String,
    pub records: usize,
    pub body_bytes: usize,
    pub sha256: String,
    pub replays: String,
    pub errors: Vec<String>,
    pub warnings: Vec<String>,
    pub body: String,
}

#[derive(Template)]
#[template(path = "receipt.html")]
pub struct ReceiptPage {
    pub nav: &'static str,
    pub chrome: Chrome,
    pub r: ReceiptView,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ShowQuery {
    done: Option<String>,
}

pub async fn show(
    State(st): State<AppState>,
    jar: CookieJar,
    Path(id): Path<String>,
    Query(q): Query<ShowQuery>,
) -> Result<(CookieJar, Response), UiError> {
    let r = st
        .store
        .get_receipt(&id)
        .await?
        .ok_or_else(|| UiError::NotFound(format!("no receipt with id `{id}`")))?;
    let s = &r.summary;
    let flash = (q.done.as_deref() == Some("replayed")).then(|| {
        format!(
            "Replayed through its adapter: the receipt is now {}.",
            s.status.as_str()
        )
    });
    let mut body = String::from_utf8_lossy(&r.body[..r.body.len().min(BODY_SHOWN)]).into_owned();
    let mask = st.config.mask_numbers;
    if mask {
        body = mask_phone_like(&body).into_owned();
    }
    if r.body.len() > BODY_SHOWN {
        body.push_str(&format!(
            "\n… (the first {BODY_SHOWN} of {} bytes; GET /api/v1/receipts/{} has all of it)",
            r.body.len(),
            s.id
        ));
    }
    let view = ReceiptView {
        id: s.id.clone(),
        status: s.status.as_str(),
        source: s.source.clone(),
        kind: s.kind.as_str(),
        received_at: format::time(s.received_at),
        remote_addr: s.remote_addr.clone(),
        records: s.record_count,
        body_bytes: s.body_bytes,
        sha256: s.sha256.clone(),
        replays: match s.replayed_at {
            Some(at) => format!("{}, last at {}", s.replay_count, format::time(at)),
            None => "never".into(),
        },
        errors: s.errors.iter().map(|i| shown(issue(i), mask)).collect(),
        warnings: s.warnings.iter().map(|i| shown(issue(i), mask)).collect(),
        body,
    };
    let (jar, chrome) = chrome(&st, jar, flash);
    let page = ReceiptPage {
        nav: "receipts",
        chrome,
        r: view,
    };
    Ok((jar, html(&page)))
}

pub async fn replay(
    State(st): State<AppState>,
    jar: CookieJar,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(f): Form<CsrfForm>,
) -> Result<Response, UiError> {
    check_csrf(&jar, &headers, &f.csrf)?;
    st.ingestor.replay(&id).await.map_err(|e| match e {
        ReplayError::NotFound(_) => UiError::NotFound(e.to_string()),
        ReplayError::SourceGone { .. } | ReplayError::Pending(_) => {
            UiError::Conflict(e.to_string())
        }
        ReplayError::Store(s) => UiError::Store(s),
    })?;
    let to = format!(
        "/receipts/{}?done=replayed",
        form_urlencoded::byte_serialize(id.as_bytes()).collect::<String>()
    );
    Ok(Redirect::to(&to).into_response())
}
