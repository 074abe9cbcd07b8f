//! `GET /healthz` (the process is up) and `GET /readyz` (the store answers
//! reads and can make a write durable: [`crate::storage::Store::check_writable`]).

use super::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::{Json, Router};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The health routes with their OpenAPI paths.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(healthz))
        .routes(routes!(readyz))
}

pub fn router() -> Router<AppState> {
    routes().into()
}

/// `GET /healthz`: `{"status": "ok"}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    #[schema(example = "ok")]
    pub status: &'static str,
}

/// `GET /readyz`: `{"status": "ready", "store": "ok", "writes": "ok",
/// "projection": {…}}`, or `{"status": "unavailable", …}` with 503 and
/// `store` or `writes` (or both) `unavailable`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Readiness {
    /// `ready` or `unavailable`.
    #[schema(example = "ready")]
    pub status: &'static str,
    /// `ok` or `unavailable`: the store answers reads.
    #[schema(example = "ok")]
    pub store: &'static str,
    /// `ok` or `unavailable`: a write can be made durable now (not on a
    /// full or read-only disk, a poisoned SQLite store, a read-only
    /// PostgreSQL session).
    #[schema(example = "ok")]
    pub writes: &'static str,
    /// The projection backlog as this instance last saw it (refreshed
    /// every second): receipts acknowledged and not yet turned into calls.
    pub projection: ProjectionDetails,
}

/// The projection part of `/readyz`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProjectionDetails {
    pub pending_receipts: u64,
    pub pending_records: u64,
    /// When the oldest pending receipt was received; `null` when none.
    #[schema(required = true)]
    pub oldest_pending_at: Option<jiff::Timestamp>,
    /// Its age in seconds (0 when none is pending).
    pub lag_seconds: f64,
    /// `limits.max_pending_records`: at it, pushes get 503.
    pub max_pending_records: u64,
}

fn projection(st: &AppState) -> ProjectionDetails {
    let lag = st.ingestor.backlog.lag();
    let lag_seconds = lag.oldest_pending_at.map_or(0.0, |t| {
        (jiff::Timestamp::now().as_millisecond() - t.as_millisecond()).max(0) as f64 / 1000.0
    });
    ProjectionDetails {
        pending_receipts: lag.pending_receipts,
        pending_records: lag.pending_records,
        oldest_pending_at: lag.oldest_pending_at,
        lag_seconds,
        max_pending_records: st.config.limits.max_pending_records,
    }
}

/// Liveness: answers while the process runs (outside the concurrency limit).
#[utoipa::path(
    get,
    path = "/healthz",
    operation_id = "healthz",
    tag = "operations",
    responses((status = 200, description = "The process is up.", body = Health)),
    security(()),
)]
async fn healthz() -> Json<Health> {
    Json(Health { status: "ok" })
}

/// Readiness: 200 while the store answers and can write, 503 otherwise.
#[utoipa::path(
    get,
    path = "/readyz",
    operation_id = "readyz",
    tag = "operations",
    responses(
        (status = 200, description = "The store answers and can write.", body = Readiness),
        (status = 503, description = "The store does not answer, or cannot write.", body = Readiness),
    ),
    security(()),
)]
async fn readyz(State(st): State<AppState>) -> (StatusCode, Json<Readiness>) {
    let state = |r: &Result<(), crate::storage::StoreError>, what: &str| match r {
        Ok(()) => "ok",
        Err(e) => {
            tracing::warn!(error = %crate::error_chain::ErrorChain(e), "readiness check failed: {what}");
            "unavailable"
        }
    };
    let read = st.store.ping().await;
    let store = state(&read, "store");
    let writes = match read {
        Ok(()) => state(&st.store.check_writable().await, "writes"),
        Err(_) => "unavailable",
    };
    let ready = store == "ok" && writes == "ok";
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let answer = Readiness {
        status: if ready { "ready" } else { "unavailable" },
        store,
        writes,
        projection: projection(&st),
    };
    (status, Json(answer))
}
