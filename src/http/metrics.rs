//! `GET /metrics`: every metric in the Prometheus text format (0.0.4),
//! rendered by [`crate::telemetry::render`]. Outside the concurrency
//! limit, like `/healthz`, so an overloaded instance can still be scraped;
//! guarded like `/api` (the same check, [`crate::http::api::require_token`])
//! when `api_token` is set.
//!
//! The outbox and recordings backlogs are counted here, at scrape time,
//! each with one cheap query bounded by [`BACKLOG_TIMEOUT`], and set
//! through [`crate::telemetry::backlog`]; when the store does not answer
//! in time the gauges keep their last values and a warning is logged.

use crate::http::AppState;
use crate::storage::Target;
use crate::telemetry::{self, backlog};
use axum::extract::State;
use axum::http::header;
use axum::middleware;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use std::time::Duration;

/// The longest a scrape waits for the backlog count.
pub const BACKLOG_TIMEOUT: Duration = Duration::from_secs(1);

/// The content type of the Prometheus text exposition format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

pub fn router(state: AppState) -> Router<AppState> {
    Router::new()
        .route("/metrics", get(metrics))
        .route_layer(middleware::from_fn_with_state(
            state,
            crate::http::api::require_token,
        ))
}

async fn metrics(State(st): State<AppState>) -> impl IntoResponse {
    update_backlog(&st).await;
    update_recordings(&st).await;
    let body = telemetry::render();
    ([(header::CONTENT_TYPE, CONTENT_TYPE)], body)
}

/// Sets the recordings archive's backlog gauges: pending jobs and how
/// long the first due one has waited.
async fn update_recordings(st: &AppState) {
    match tokio::time::timeout(BACKLOG_TIMEOUT, st.store.recording_backlog()).await {
        Ok(Ok((pending, first_due))) => backlog::set_recordings_backlog(pending, first_due),
        Ok(Err(e)) => {
            tracing::warn!(error = %crate::error_chain::ErrorChain(&e), "recordings backlog not counted")
        }
        Err(_) => tracing::warn!("recordings backlog not counted in time"),
    }
}

/// Sets `callhook_outbox_backlog` of every configured target (0 for one
/// without pending deliveries). Targets no longer configured are not
/// reported: label values come from the configuration only.
async fn update_backlog(st: &AppState) {
    let targets = Target::all(&st.config);
    if targets.is_empty() {
        return;
    }
    let counts = match tokio::time::timeout(BACKLOG_TIMEOUT, st.store.pending_deliveries()).await {
        Ok(Ok(counts)) => counts,
        Ok(Err(e)) => {
            tracing::warn!(error = %crate::error_chain::ErrorChain(&e), "outbox backlog not counted");
            return;
        }
        Err(_) => {
            tracing::warn!(
                timeout_ms = BACKLOG_TIMEOUT.as_millis() as u64,
                "outbox backlog not counted in time"
            );
            return;
        }
    };
    backlog::set_outbox_backlog(targets.into_iter().map(|t| t.name), counts);
}
