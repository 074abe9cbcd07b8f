//! The web dashboard (docs/http-contract.md): server-rendered
//! pages, templates and assets compiled into the binary (no build step):
//! `/` overview, `/calls`, `/calls/{id}`, `/calls/{id}/recording` (the kept recording), `/calls/export`, `/receipts`
//! (with bulk replay), `/receipts/{id}` (with replay), `/deliveries` (with
//! retry, and each subscriber's health with disable/enable and retry of its
//! dead letters), `/tasks` and `/tasks/{id}` (campaigns), `/alerts`,
//! `/preferences` (display time zone), `/login`.
//! Guarded by a login when `api_token` is set (`session.rs`); every form
//! post is CSRF-checked. See `docs/dashboard.md`.

mod alerts;
mod call;
mod call_recording;
mod calls;
mod charts;
mod deliveries;
mod delivery_health;
mod drawing;
mod durations;
mod error;
mod export;
mod filters;
mod format;
mod local;
mod login;
mod overview;
mod period;
mod range;
mod receipt_form;
mod receipts;
mod receipts_bulk;
mod recording;
mod recording_expiry;
mod session;
mod tasks;
mod templates;
mod vendor_rows;
pub mod zone;

use super::AppState;
use askama::Template;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{middleware, Router};
use axum_extra::extract::cookie::CookieJar;
pub use error::UiError;
use templates::Chrome;

/// Content Security Policy of every page: scripts and styles only from
/// this site (no inline script, so even a missed escape could not run);
/// audio and video may come from any `http(s)` origin, so the call page's
/// player can stream a vendor's recording (`media-src` only).
const CSP: &str = "default-src 'self'; img-src 'self' data:; media-src 'self' https: http:; \
    style-src 'self' 'unsafe-inline'; script-src 'self'; object-src 'none'; base-uri 'none'; \
    frame-ancestors 'none'; form-action 'self'";

pub fn router(state: AppState) -> Router<AppState> {
    Router::new()
        .route("/", get(overview::page))
        .route("/calls", get(calls::page))
        .route("/calls/export", get(export::download))
        .route("/calls/{id}", get(call::page))
        .route("/calls/{id}/recording", get(recording::play))
        .route("/receipts", get(receipts::list))
        .route("/receipts/replay", post(receipts_bulk::replay_all))
        .route("/receipts/{id}", get(receipts::show))
        .route("/receipts/{id}/replay", post(receipts::replay))
        .route("/deliveries", get(deliveries::page))
        .route("/deliveries/{id}/retry", post(deliveries::retry))
        .route("/tasks", get(tasks::list))
        .route("/tasks/{task_id}", get(tasks::show))
        .route("/preferences", get(zone::form).post(zone::save))
        .route(
            "/deliveries/targets/{name}/disable",
            post(delivery_health::disable),
        )
        .route(
            "/deliveries/targets/{name}/enable",
            post(delivery_health::enable),
        )
        .route(
            "/deliveries/targets/{name}/retry-dead",
            post(delivery_health::retry_dead),
        )
        .route("/alerts", get(alerts::page))
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            login::require_login,
        ))
        .route("/login", get(login::form).post(login::submit))
        .route("/logout", post(login::logout))
        .route("/assets/app.css", get(css))
        .route("/assets/app.js", get(js))
        .layer(middleware::from_fn_with_state(state.clone(), zone::scope))
        .layer(middleware::from_fn_with_state(state, session::scope_https))
        .layer(middleware::map_response(security_headers))
}

async fn security_headers(mut r: Response) -> Response {
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    r
}

/// A rendered template as an HTML response (500 if it cannot render,
/// which a compiled template only does on a formatting error).
pub fn html(t: &impl Template) -> Response {
    match t.render() {
        Ok(body) => ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], body).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "template failed to render");
            (StatusCode::INTERNAL_SERVER_ERROR, "page failed to render").into_response()
        }
    }
}

/// The header state of a page, and the jar to answer with (a CSRF token
/// is set on the first page a browser sees).
pub fn chrome(st: &AppState, jar: CookieJar, flash: Option<String>) -> (CookieJar, Chrome) {
    let holder = session::logged_in(&st.config, &jar);
    let (jar, csrf) = session::csrf_token(jar);
    let chrome = Chrome {
        csrf,
        logged_in: st.config.api_auth(),
        // Without any API token everything is open, so admin.
        can_admin: !st.config.api_auth()
            || holder
                .as_ref()
                .is_some_and(|h| h.may(crate::config::Scope::Admin)),
        user: holder.map(|h| format!("{} ({})", h.name, h.scope.as_str())),
        flash,
        tz: crate::config::display::name(&zone::current()),
        preferences: format!(
            "/preferences?next={}",
            form_urlencoded::byte_serialize(zone::page_path().as_bytes()).collect::<String>()
        ),
        health: st.health.current(),
    };
    (jar, chrome)
}

async fn css() -> impl IntoResponse {
    asset(
        "text/css; charset=utf-8",
        include_str!("../../../assets/app.css"),
    )
}

async fn js() -> impl IntoResponse {
    asset(
        "text/javascript; charset=utf-8",
        include_str!("../../../assets/app.js"),
    )
}

fn asset(content_type: &'static str, body: &'static str) -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        body,
    )
}
