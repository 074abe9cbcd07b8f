//! Outbound targets and their state (issue 4): `GET /api/v1/subscribers`
//! (each configured subscriber, and `nats` when configured, with whether it
//! is disabled and its deliveries by status), and
//! `POST /api/v1/subscribers/{name}/enable` / `…/disable` (a 410 Gone
//! disables a subscriber; enabling makes its pending deliveries due at once).

use crate::config::NATS_TARGET;
use crate::http::error::ApiError;
use crate::http::AppState;
use crate::storage::TargetState;
use axum::extract::{Path, State};
use axum::Json;
use jiff::Timestamp;
use serde_json::{json, Value};

/// The target's endpoint without query or credentials (they may hold secrets).
fn endpoint(st: &AppState, name: &str) -> Option<String> {
    if name == NATS_TARGET {
        return st
            .config
            .nats
            .as_ref()
            .map(|n| format!("{} stream {}", n.url, n.stream));
    }
    let s = st.config.subscribers.iter().find(|s| s.name == name)?;
    let mut url = reqwest::Url::parse(&s.url).ok()?;
    url.set_query(None);
    let _ = url.set_password(None);
    let _ = url.set_username("");
    Some(url.to_string())
}

fn item(st: &AppState, state: TargetState) -> Value {
    let mut v = serde_json::to_value(&state).unwrap_or_default();
    v["url"] = json!(endpoint(st, &state.name));
    if let Some(s) = st.config.subscribers.iter().find(|s| s.name == state.name) {
        v["events"] = json!(s.events);
        v["vendors"] = json!(s.vendors);
    }
    v
}

pub async fn list(State(st): State<AppState>) -> Result<Json<Value>, ApiError> {
    let names = st.config.target_names();
    let states = st.store.target_states(&names).await?;
    let items: Vec<Value> = states.into_iter().map(|s| item(&st, s)).collect();
    Ok(Json(json!({ "items": items })))
}

async fn set(st: &AppState, name: &str, reason: Option<String>) -> Result<Json<Value>, ApiError> {
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

pub async fn enable(
    State(st): State<AppState>,
    Path(name): Path<String>,
) -> Result<Json<Value>, ApiError> {
    set(&st, &name, None).await
}

pub async fn disable(
    State(st): State<AppState>,
    Path(name): Path<String>,
) -> Result<Json<Value>, ApiError> {
    set(&st, &name, Some("disabled through the API".into())).await
}
