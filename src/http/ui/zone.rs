//! The display time zone of one dashboard request: the browser's choice
//! (the `callhook_tz` cookie, set on `/preferences`) or the configured
//! `display_timezone`. [`scope`] runs each page inside its zone, so
//! [`current`] (what `format::time`, the date filters and the charts'
//! days use) needs no argument threaded through every handler.

use super::session::{self, check_csrf};
use super::templates::Chrome;
use super::{chrome, html, UiError};
use crate::config::display;
use crate::config::Config;
use crate::http::AppState;
use askama::Template;
use axum::extract::{Request, State};
use axum::http::HeaderMap;
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use axum_extra::extract::cookie::CookieJar;
use jiff::tz::TimeZone;
use serde::Deserialize;

/// The cookie holding the browser's chosen zone (an IANA name).
pub const COOKIE: &str = "callhook_tz";

/// How long the choice is kept: a year, in seconds.
const KEEP_SECS: i64 = 365 * 24 * 3600;

tokio::task_local! {
    static ZONE: TimeZone;
    static PAGE: String;
}

/// The zone of the request being served; UTC outside one (a unit test).
pub fn current() -> TimeZone {
    ZONE.try_with(TimeZone::clone).unwrap_or(TimeZone::UTC)
}

/// Runs `f` with `tz` as the [`current`] zone (tests, exports).
pub async fn with<F: std::future::Future>(tz: TimeZone, f: F) -> F::Output {
    ZONE.scope(tz, f).await
}

/// The zone a request is shown in: its cookie's, when that names a zone,
/// else `display_timezone`.
pub fn of_request(config: &Config, jar: &CookieJar) -> TimeZone {
    jar.get(COOKIE)
        .and_then(|c| display::zone(c.value()).ok())
        .unwrap_or_else(|| config.display_zone())
}

/// The path and query of the page being served (`/` outside one): where
/// `/preferences` comes back to.
pub fn page_path() -> String {
    PAGE.try_with(String::clone).unwrap_or_else(|_| "/".into())
}

/// Middleware: serves the request inside its display zone.
pub async fn scope(
    State(st): State<AppState>,
    jar: CookieJar,
    req: Request,
    next: Next,
) -> Response {
    let tz = of_request(&st.config, &jar);
    let page = req
        .uri()
        .path_and_query()
        .map_or_else(|| "/".to_owned(), |p| p.as_str().to_owned());
    ZONE.scope(tz, PAGE.scope(page, next.run(req))).await
}

#[derive(Template)]
#[template(path = "preferences.html")]
pub struct PreferencesPage {
    pub nav: &'static str,
    pub chrome: Chrome,
    /// The zone in use now, and the configured default.
    pub current: String,
    pub default: String,
    /// Every zone name the time zone database knows, sorted.
    pub zones: Vec<String>,
    pub next: String,
}

#[derive(Debug, Deserialize)]
pub struct Back {
    #[serde(default)]
    pub next: Option<String>,
}

/// `GET /preferences`: the display zone form.
pub async fn form(
    State(st): State<AppState>,
    jar: CookieJar,
    axum::extract::Query(q): axum::extract::Query<Back>,
) -> (CookieJar, Response) {
    let (jar, chrome) = chrome(&st, jar, None);
    let mut zones: Vec<String> = jiff::tz::db()
        .available()
        .map(|n| n.as_str().to_owned())
        .collect();
    zones.sort();
    let page = PreferencesPage {
        nav: "preferences",
        current: display::name(&current()),
        default: display::name(&st.config.display_zone()),
        zones,
        next: super::login::local_path(q.next.as_deref()),
        chrome,
    };
    (jar, html(&page))
}

#[derive(Debug, Deserialize)]
pub struct Choice {
    #[serde(default)]
    pub csrf: String,
    /// An IANA name; empty goes back to the configured default.
    #[serde(default)]
    pub tz: String,
    #[serde(default)]
    pub next: Option<String>,
}

/// `POST /preferences`: keeps the browser's zone in a cookie (or forgets
/// it for an empty choice) and goes back to `next`.
///
/// Errors: 403 for a bad CSRF token; 400 naming an unknown zone.
pub async fn save(
    jar: CookieJar,
    headers: HeaderMap,
    Form(f): Form<Choice>,
) -> Result<(CookieJar, Response), UiError> {
    check_csrf(&jar, &headers, &f.csrf)?;
    let jar = match f.tz.trim() {
        "" => jar.add(session::cookie(COOKIE, String::new(), Some(0))),
        name => {
            let tz = display::zone(name).map_err(|e| UiError::BadRequest(format!("tz: {e}")))?;
            jar.add(session::cookie(COOKIE, display::name(&tz), Some(KEEP_SECS)))
        }
    };
    let to = super::login::local_path(f.next.as_deref());
    Ok((jar, Redirect::to(&to).into_response()))
}
