//! The deliveries page's health table, one row per subscriber (and the
//! NATS stream): backlog (pending deliveries), last success, last failed
//! attempt with its time and HTTP status, dead letters, enabled or
//! disabled; and its buttons: `POST /deliveries/targets/{name}/disable`,
//! `…/enable` and `…/retry-dead` (admin sessions only, CSRF-checked),
//! which come back to the page saying what they did.

use super::login::CsrfForm;
use super::session::check_csrf;
use super::{format, UiError};
use crate::http::AppState;
use crate::storage::{DeliveryFilter, DeliveryStatus, StoreError, TargetActivity, TargetState};
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use axum_extra::extract::cookie::CookieJar;
use jiff::Timestamp;

/// One target's row.
pub struct HealthRow {
    pub name: String,
    /// The name as a path segment (percent-encoded).
    pub path: String,
    pub enabled: bool,
    /// `enabled` or `disabled`.
    pub state: &'static str,
    /// When and why it was disabled ("2026-03-26 15:22:00 · reason"); empty
    /// when enabled.
    pub state_detail: String,
    pub pending: u64,
    pub delivered: u64,
    pub dead: u64,
    pub last_success: String,
    /// "2026-03-26 15:22:00 · HTTP 503 · server error", or the dash.
    pub last_error: String,
}

impl HealthRow {
    fn of(s: TargetState, a: Option<&TargetActivity>) -> HealthRow {
        let last_error = a.and_then(|a| a.last_failure.as_ref()).map_or_else(
            || format::NONE.to_owned(),
            |f| {
                let mut parts = vec![format::time(f.at)];
                // The error often names the status already.
                if let Some(code) = f.response_status {
                    let named = format!("HTTP {code}");
                    if !f.error.contains(&named) {
                        parts.push(named);
                    }
                }
                parts.push(f.error.clone());
                parts.join(" · ")
            },
        );
        let (state, state_detail) = match (s.disabled_at, &s.disabled_reason) {
            (Some(at), Some(why)) => ("disabled", format!("{} · {why}", format::time(at))),
            (Some(at), None) => ("disabled", format::time(at)),
            (None, _) => ("enabled", String::new()),
        };
        HealthRow {
            path: form_urlencoded::byte_serialize(s.name.as_bytes()).collect(),
            enabled: s.disabled_at.is_none(),
            state,
            state_detail,
            pending: s.pending,
            delivered: s.delivered,
            dead: s.dead,
            last_success: format::opt_time(a.and_then(|a| a.last_delivered_at)),
            last_error,
            name: s.name,
        }
    }
}

/// The health rows of every configured target, in configuration order.
pub async fn rows(st: &AppState) -> Result<Vec<HealthRow>, StoreError> {
    let names = st.config.target_names();
    let states = st.store.target_states(&names).await?;
    let activity = st.store.target_activity(&names).await?;
    Ok(states
        .into_iter()
        .map(|s| {
            let a = activity.iter().find(|a| a.name == s.name);
            HealthRow::of(s, a)
        })
        .collect())
}

/// `name` if it is a configured target. Errors: 404.
fn known(st: &AppState, name: &str) -> Result<(), UiError> {
    if st.config.target_names().iter().any(|n| n == name) {
        Ok(())
    } else {
        Err(UiError::NotFound(format!("no subscriber named `{name}`")))
    }
}

fn back(done: &str, name: &str, n: Option<u64>) -> Response {
    let mut q = form_urlencoded::Serializer::new(String::new());
    q.append_pair("done", done);
    q.append_pair("target", name);
    if let Some(n) = n {
        q.append_pair("n", &n.to_string());
    }
    Redirect::to(&format!("/deliveries?{}", q.finish())).into_response()
}

/// The message for `done` (`disabled`, `enabled`, `retried-dead` with
/// `n`) about `target`; `None` for anything else.
pub fn flash(done: &str, target: &str, n: &str) -> Option<String> {
    let n = n.parse::<u64>().unwrap_or(0);
    match done {
        "retried" => Some("The delivery is due now; the dispatcher sends it shortly.".into()),
        "disabled" => Some(format!(
            "{target} is disabled: its deliveries wait, nothing is sent until it is enabled."
        )),
        "enabled" => Some(format!(
            "{target} is enabled: its pending deliveries are due now."
        )),
        "retried-dead" => {
            let (noun, verb) = if n == 1 {
                ("delivery", "is")
            } else {
                ("deliveries", "are")
            };
            Some(format!(
                "{n} dead {noun} to {target} {verb} due now with a fresh retry schedule."
            ))
        }
        _ => None,
    }
}

async fn set(
    st: &AppState,
    jar: &CookieJar,
    headers: &HeaderMap,
    csrf: &str,
    name: &str,
    reason: Option<String>,
) -> Result<(), UiError> {
    check_csrf(jar, headers, csrf)?;
    known(st, name)?;
    st.store
        .set_target_disabled(name, reason, Timestamp::now())
        .await?;
    Ok(())
}

pub async fn disable(
    State(st): State<AppState>,
    jar: CookieJar,
    headers: HeaderMap,
    Path(name): Path<String>,
    Form(f): Form<CsrfForm>,
) -> Result<Response, UiError> {
    let reason = Some("disabled on the dashboard".to_owned());
    set(&st, &jar, &headers, &f.csrf, &name, reason).await?;
    Ok(back("disabled", &name, None))
}

pub async fn enable(
    State(st): State<AppState>,
    jar: CookieJar,
    headers: HeaderMap,
    Path(name): Path<String>,
    Form(f): Form<CsrfForm>,
) -> Result<Response, UiError> {
    set(&st, &jar, &headers, &f.csrf, &name, None).await?;
    Ok(back("enabled", &name, None))
}

pub async fn retry_dead(
    State(st): State<AppState>,
    jar: CookieJar,
    headers: HeaderMap,
    Path(name): Path<String>,
    Form(f): Form<CsrfForm>,
) -> Result<Response, UiError> {
    check_csrf(&jar, &headers, &f.csrf)?;
    known(&st, &name)?;
    let filter = DeliveryFilter {
        subscriber: Some(name.clone()),
        status: Some(DeliveryStatus::Dead),
    };
    let n = st
        .store
        .retry_deliveries(None, &filter, Timestamp::now())
        .await?;
    Ok(back("retried-dead", &name, Some(n)))
}

#[cfg(test)]
mod tests {
    use super::flash;

    #[test]
    fn messages_count_right_and_ignore_unknown_actions() {
        assert_eq!(
            flash("retried-dead", "crm", "1").unwrap(),
            "1 dead delivery to crm is due now with a fresh retry schedule."
        );
        assert!(flash("retried-dead", "crm", "<b>")
            .unwrap()
            .starts_with("0 dead deliveries to crm are due"));
        assert!(flash("disabled", "crm", "")
            .unwrap()
            .contains("crm is disabled"));
        assert_eq!(flash("exploded", "crm", "1"), None);
    }
}
