//! `GET /calls`: the filterable, paginated call table (newest first; the
//! headers sort the rows of the page shown), with a search box matching a
//! customer number, `out_id`, vendor call id or call id exactly, a text
//! box searching transcripts, summaries, intent and tags (each row then
//! shows the matching snippet under it), and download links for the same
//! filters (`export.rs`).

use super::filters::FilterForm;
use super::templates::{choices, Choice, Chrome};
use super::{chrome, format, html, UiError};
use crate::domain::{Call, Direction, Outcome, Vendor};
use crate::http::AppState;
use crate::masking::mask_number;
use crate::storage::search::{snippet, TextQuery};
use crate::storage::{CallCursor, PageRequest};
use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use axum_extra::extract::cookie::CookieJar;
use serde::Deserialize;

/// Rows per page.
const PAGE_SIZE: usize = 50;

#[derive(Deserialize, Default)]
pub struct CallsQuery {
    #[serde(flatten)]
    form: FilterForm,
    #[serde(default)]
    cursor: Option<String>,
}

/// One table row, every value already text (escaped by the template).
pub struct Row {
    pub id: String,
    pub started: String,
    pub started_sort: i64,
    pub vendor: &'static str,
    pub customer: String,
    pub outcome: &'static str,
    /// The outcome as shown: "report not received yet" for a call known
    /// only from its analyses.
    pub outcome_label: &'static str,
    pub talk: String,
    pub talk_sort: i64,
    pub cost: String,
    pub cost_sort: String,
    pub qa: String,
    pub qa_sort: String,
    pub task: String,
    /// The task's campaign page, when the call has a task.
    pub task_href: Option<String>,
    pub out_id: String,
    pub source: String,
    /// With a text search: the match's context (before, match, after) and
    /// the field it is in; escaped by the template like every value.
    pub snippet: Option<(String, String, String)>,
    pub snippet_field: String,
}

impl Row {
    fn of(c: &Call, text: Option<&TextQuery>) -> Row {
        let found = text.and_then(|q| snippet(c, q));
        let qa = c.qa_score_percent();
        Row {
            id: c.id.clone(),
            started: format::time(c.started_at),
            started_sort: c.started_at.as_millisecond(),
            vendor: c.vendor.as_str(),
            customer: format::text(c.customer_number.as_deref()),
            outcome: if c.awaiting_report() {
                "awaiting-report"
            } else {
                c.outcome.as_str()
            },
            outcome_label: if c.awaiting_report() {
                "report not received yet"
            } else {
                c.outcome.as_str()
            },
            talk: c
                .talk_seconds
                .map_or_else(|| format::NONE.into(), |t| t.to_string()),
            talk_sort: c.talk_seconds.unwrap_or(-1),
            cost: format::money(c.cost.as_ref()),
            cost_sort: c
                .cost
                .as_ref()
                .map_or("-1".into(), |m| m.amount.to_string()),
            qa: format::percent(qa),
            qa_sort: qa.map_or("-1".into(), |q| q.to_string()),
            task: format::text(c.task_id.as_deref()),
            task_href: c.task_id.as_deref().map(super::tasks::task_href),
            out_id: format::text(c.out_id.as_deref()),
            source: c.source.clone(),
            snippet_field: found.as_ref().map_or(String::new(), |s| s.field.clone()),
            snippet: found.map(|s| s.parts()),
        }
    }
}

#[derive(Template)]
#[template(path = "calls.html")]
pub struct CallsPage {
    pub nav: &'static str,
    pub chrome: Chrome,
    pub form: FilterForm,
    pub vendors: Vec<Choice>,
    pub sources: Vec<Choice>,
    pub outcomes: Vec<Choice>,
    pub directions: Vec<Choice>,
    pub rows: Vec<Row>,
    /// The filters as a query string, for links.
    pub query: String,
    pub has_cursor: bool,
    pub next: Option<String>,
    /// A text search is applied: rows carry snippets (and the table is
    /// not sortable, so each snippet stays under its row).
    pub searching: bool,
}

pub async fn page(
    State(st): State<AppState>,
    jar: CookieJar,
    Query(q): Query<CallsQuery>,
) -> Result<(CookieJar, Response), UiError> {
    let filter = q.form.call_filter()?;
    let cursor = q.cursor.filter(|c| !c.is_empty());
    if let Some(c) = &cursor {
        CallCursor::decode(c).map_err(|e| UiError::BadRequest(format!("cursor: {e}")))?;
    }
    let has_cursor = cursor.is_some();
    let mut page = st
        .store
        .list_calls(
            &filter,
            &PageRequest {
                limit: PAGE_SIZE,
                cursor,
            },
        )
        .await?;
    if st.config.mask_numbers {
        for c in &mut page.items {
            c.customer_number = c.customer_number.as_deref().map(mask_number);
        }
    }
    let text = filter.text.as_deref().and_then(TextQuery::lenient);
    let (jar, chrome) = chrome(&st, jar, None);
    let next = page
        .next_cursor
        .map(|c| form_urlencoded::byte_serialize(c.as_bytes()).collect());
    let out = CallsPage {
        nav: "calls",
        chrome,
        query: q.form.query(),
        vendors: choices(Vendor::known().iter().map(|v| v.as_str()), &q.form.vendor),
        sources: choices(
            st.config.sources.iter().map(|s| s.name.clone()),
            &q.form.source,
        ),
        outcomes: choices(Outcome::ALL.iter().map(|o| o.as_str()), &q.form.outcome),
        directions: choices(Direction::ALL.iter().map(|d| d.as_str()), &q.form.direction),
        form: q.form,
        rows: page
            .items
            .iter()
            .map(|c| Row::of(c, text.as_ref()))
            .collect(),
        searching: text.is_some(),
        has_cursor,
        next,
    };
    Ok((jar, html(&out)))
}
