//! `POST /receipts/replay`: replays every receipt matching the receipts
//! page's filters (tab, source, received dates) through its source's
//! adapter, one by one through the same path as a receipt's own *Replay*
//! button (`Ingestor::replay`), then comes back to the page with how many
//! were replayed and the statuses they have now.
//!
//! It runs within the request, so it refuses (409, nothing replayed) a
//! filter matching more than [`BULK_LIMIT`] receipts: narrow the filters,
//! or use `callhook reproject` for a backfill. Receipts still pending, or
//! whose source was removed from the configuration, are counted as skipped.

use super::receipt_form::ReceiptsForm;
use super::session::check_csrf;
use super::UiError;
use crate::http::AppState;
use crate::ingest::ReplayError;
use crate::storage::{PageRequest, ReceiptStatus};
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use axum_extra::extract::cookie::CookieJar;
use serde::Deserialize;

/// The most receipts one bulk replay takes.
pub const BULK_LIMIT: usize = 1000;
/// Receipt ids read per page of the list.
const BATCH: usize = 200;

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct BulkForm {
    #[serde(flatten)]
    form: ReceiptsForm,
    csrf: String,
}

/// What a bulk replay did, carried back in the page's query string (each
/// a count; `done=bulk` marks it). Strings, as the query gives them.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct Done {
    done: String,
    replayed: String,
    skipped: String,
    accepted: String,
    partial: String,
    duplicate: String,
    rejected: String,
}

impl Done {
    /// The message of a bulk replay, e.g. "Replayed 4 receipts: 3
    /// accepted, 1 rejected."; `None` without `done=bulk`. Only numbers
    /// are read from the query (anything else counts 0).
    pub fn flash(&self) -> Option<String> {
        if self.done != "bulk" {
            return None;
        }
        let n = |s: &str| s.parse::<u64>().unwrap_or(0);
        let parts: Vec<String> = [
            ("accepted", &self.accepted),
            ("partial", &self.partial),
            ("duplicate", &self.duplicate),
            ("rejected", &self.rejected),
        ]
        .iter()
        .filter(|(_, v)| n(v) > 0)
        .map(|(k, v)| format!("{} {k}", n(v)))
        .collect();
        let replayed = n(&self.replayed);
        let mut msg = format!(
            "Replayed {replayed} receipt{}",
            if replayed == 1 { "" } else { "s" }
        );
        if !parts.is_empty() {
            msg.push_str(&format!(": now {}", parts.join(", ")));
        }
        msg.push('.');
        let skipped = n(&self.skipped);
        if skipped > 0 {
            msg.push_str(&format!(
                " {skipped} skipped (not projected yet, or their source is no longer configured)."
            ));
        }
        Some(msg)
    }
}

/// The ids of the receipts matching `form`, newest first; an error when
/// more than [`BULK_LIMIT`] match.
async fn matching_ids(st: &AppState, form: &ReceiptsForm) -> Result<Vec<String>, UiError> {
    let filter = form.filter()?;
    let counts = st.store.count_receipts(&filter).await?;
    let total = match filter.status {
        Some(s) => counts.of(s),
        None => counts.total(),
    };
    if total > BULK_LIMIT as u64 {
        return Err(UiError::Conflict(format!(
            "{total} receipts match; a bulk replay takes at most {BULK_LIMIT}. \
             Narrow the source or dates, or run `callhook reproject` for a backfill."
        )));
    }
    let mut ids = Vec::with_capacity(total as usize);
    let mut cursor = None;
    loop {
        let page = PageRequest {
            limit: BATCH,
            cursor,
        };
        let page = st.store.list_receipts(&filter, &page).await?;
        ids.extend(page.items.into_iter().map(|r| r.id));
        // Receipts arriving meanwhile may add a few: stay within the limit.
        if ids.len() >= BULK_LIMIT || page.next_cursor.is_none() {
            ids.truncate(BULK_LIMIT);
            return Ok(ids);
        }
        cursor = page.next_cursor;
    }
}

pub async fn replay_all(
    State(st): State<AppState>,
    jar: CookieJar,
    headers: HeaderMap,
    Form(f): Form<BulkForm>,
) -> Result<Response, UiError> {
    check_csrf(&jar, &headers, &f.csrf)?;
    let ids = matching_ids(&st, &f.form).await?;
    let (mut replayed, mut skipped) = (0u64, 0u64);
    let mut by_status = [0u64; 4];
    for id in &ids {
        match st.ingestor.replay(id).await {
            Ok(outcome) => {
                replayed += 1;
                let slot = match outcome.status {
                    Some(ReceiptStatus::Accepted) => Some(0),
                    Some(ReceiptStatus::Partial) => Some(1),
                    Some(ReceiptStatus::Duplicate) => Some(2),
                    Some(ReceiptStatus::Rejected) => Some(3),
                    _ => None,
                };
                if let Some(i) = slot {
                    by_status[i] += 1;
                }
            }
            Err(ReplayError::NotFound(_))
            | Err(ReplayError::Pending(_))
            | Err(ReplayError::SourceGone { .. }) => skipped += 1,
            Err(ReplayError::Store(e)) => return Err(UiError::Store(e)),
        }
    }
    let mut q = form_urlencoded::Serializer::new(f.form.query(None));
    q.append_pair("done", "bulk");
    for (k, v) in [
        ("replayed", replayed),
        ("skipped", skipped),
        ("accepted", by_status[0]),
        ("partial", by_status[1]),
        ("duplicate", by_status[2]),
        ("rejected", by_status[3]),
    ] {
        q.append_pair(k, &v.to_string());
    }
    Ok(Redirect::to(&format!("/receipts?{}", q.finish())).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_flash_reads_only_numbers() {
        let d = Done {
            done: "bulk".into(),
            replayed: "4".into(),
            accepted: "3".into(),
            rejected: "1".into(),
            skipped: "<b>".into(),
            ..Default::default()
        };
        assert_eq!(
            d.flash().unwrap(),
            "Replayed 4 receipts: now 3 accepted, 1 rejected."
        );
        assert_eq!(Done::default().flash(), None);
    }
}
