//! Outbound targets and their state: `GET /api/v1/subscribers`
//! (each configured subscriber, and `nats` when configured, with whether it
//! is disabled and its deliveries by status), and
//! `POST /api/v1/subscribers/{name}/enable` / `…/disable` (a 410 Gone
//! disables a subscriber; enabling makes its pending deliveries due at once).

use super::params::path;
use crate::config::redact::endpoint_text;
use crate::config::NATS_TARGET;
use crate::domain::{EventType, Vendor};
use crate::http::error::{ApiError, ErrorBody};
use crate::http::AppState;
use crate::storage::TargetState;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::Json;
use jiff::Timestamp;
use serde::Serialize;
use utoipa::ToSchema;

/// A delivery target (a subscriber, or `nats`) and its state.
#[derive(Debug, Serialize, ToSchema)]
pub struct Subscriber {
    #[serde(flatten)]
    pub state: TargetState,
    /// The endpoint without query or credentials (`nats`: server and
    /// stream); `null` if it cannot be shown.
    #[schema(required = true)]
    pub url: Option<String>,
    /// The event types it gets (subscribers only; `nats` gets all).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub events: Option<Vec<EventType>>,
    /// The vendors it gets; empty: all (subscribers only).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub vendors: Option<Vec<Vendor>>,
}

/// Every configured target.
#[derive(Debug, Serialize, ToSchema)]
pub struct Subscribers {
    pub items: Vec<Subscriber>,
}

/// The target's endpoint without query or credentials (they may hold
/// secrets): [`endpoint_text`].
fn endpoint(st: &AppState, name: &str) -> Option<String> {
    if name == NATS_TARGET {
        return st
            .config
            .nats
            .as_ref()
            .map(|n| format!("{} stream {}", endpoint_text(&n.url), n.stream));
    }
    let s = st.config.subscribers.iter().find(|s| s.name == name)?;
    Some(endpoint_text(&s.url))
}

fn item(st: &AppState, state: TargetState) -> Subscriber {
    let sub = st.config.subscribers.iter().find(|s| s.name == state.name);
    Subscriber {
        url: endpoint(st, &state.name),
        events: sub.map(|s| s.events.clone()),
        vendors: sub.map(|s| s.vendors.clone()),
        state,
    }
}

/// Every configured subscriber (and `nats` when configured), with whether
/// it is disabled and its deliveries by status.
#[utoipa::path(
    get,
    path = "/api/v1/subscribers",
    operation_id = "list_subscribers",
    tag = "subscribers",
    responses((status = 200, description = "Every target.", body = Subscribers)),
)]
pub async fn list(State(st): State<AppState>) -> Result<Json<Subscribers>, ApiError> {
    let names = st.config.target_names();
    let states = st.store.target_states(&names).await?;
    let items = states.into_iter().map(|s| item(&st, s)).collect();
    Ok(Json(Subscribers { items }))
}

async fn set(
    st: &AppState,
    name: &str,
    reason: Option<String>,
) -> Result<Json<Subscriber>, ApiError> {
    let names = st.config.target_names();
    if !names.iter().any(|n| n == name) {
        return Err(ApiError::not_found(format!("no subscriber named `{name}`")));
    }
    st.store
        .set_target_disabled(name, reason, Timestamp::now())
        .await?;
    let state = st
        .store
        .target_states(&[name.to_owned()])
        .await?
        .pop()
        .ok_or_else(|| ApiError::not_found(format!("no subscriber named `{name}`")))?;
    Ok(Json(item(st, state)))
}

/// Enables a target: its pending deliveries are due at once.
#[utoipa::path(
    post,
    path = "/api/v1/subscribers/{name}/enable",
    operation_id = "enable_subscriber",
    tag = "subscribers",
    params(("name" = String, Path, description = "A configured subscriber's name, or `nats`.")),
    responses(
        (status = 200, description = "The target, enabled.", body = Subscriber),
        (status = 400, description = "The name is not valid UTF-8.", body = ErrorBody),
        (status = 404, description = "No target with this name.", body = ErrorBody),
    ),
)]
pub async fn enable(
    State(st): State<AppState>,
    name: Result<Path<String>, PathRejection>,
) -> Result<Json<Subscriber>, ApiError> {
    set(&st, &path(name)?, None).await
}

/// Disables a target: its events wait (nothing is lost) until it is enabled.
#[utoipa::path(
    post,
    path = "/api/v1/subscribers/{name}/disable",
    operation_id = "disable_subscriber",
    tag = "subscribers",
    params(("name" = String, Path, description = "A configured subscriber's name, or `nats`.")),
    responses(
        (status = 200, description = "The target, disabled.", body = Subscriber),
        (status = 400, description = "The name is not valid UTF-8.", body = ErrorBody),
        (status = 404, description = "No target with this name.", body = ErrorBody),
    ),
)]
pub async fn disable(
    State(st): State<AppState>,
    name: Result<Path<String>, PathRejection>,
) -> Result<Json<Subscriber>, ApiError> {
    set(&st, &path(name)?, Some("disabled through the API".into())).await
}
