//! `GET/POST /login`, `POST /logout`, and the guard that sends a browser
//! without a valid session to the login form (only when an API token is
//! configured) and refuses a read-scope session's posts.

use super::session::{self, check_csrf, logged_in};
use super::templates::LoginPage;
use super::{html, UiError};
use crate::http::auth::permit;
use crate::http::AppState;
use axum::extract::{Query, Request, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use axum_extra::extract::cookie::CookieJar;
use serde::Deserialize;

/// Sends requests without a valid session to `/login` (GET) or answers
/// 401 (anything else); a session whose token has the `read` scope may
/// not post (403: replay, retry). Passes everything when no API token is
/// configured.
pub async fn require_login(
    State(st): State<AppState>,
    jar: CookieJar,
    mut req: Request,
    next: Next,
) -> Response {
    if !st.config.api_auth() {
        return next.run(req).await;
    }
    if let Some(holder) = logged_in(&st.config, &jar) {
        return match permit(holder, req.method()) {
            Ok(holder) => {
                req.extensions_mut().insert(holder);
                next.run(req).await
            }
            Err(denied) => UiError::Forbidden(denied.message()).into_response(),
        };
    }
    if req.method() == Method::GET {
        let target = req
            .uri()
            .path_and_query()
            .map_or("/".to_owned(), |p| p.to_string());
        let next: String = form_urlencoded::byte_serialize(target.as_bytes()).collect();
        return Redirect::to(&format!("/login?next={next}")).into_response();
    }
    (StatusCode::UNAUTHORIZED, "log in first: /login").into_response()
}

#[derive(Deserialize, Default)]
pub struct NextQuery {
    #[serde(default)]
    next: Option<String>,
}

/// A path of this site to go to after logging in; anything else is `/`
/// (no open redirect to another site). Accepted: exactly one `/`, then a
/// character that is neither `/` nor `\\` (or nothing), and no control
/// character anywhere: browsers drop tabs and newlines from URLs, so
/// `/\t/evil.example` would be read as `//evil.example`, and CR/LF cannot
/// go in a `Location` header.
pub(super) fn local_path(next: Option<&str>) -> String {
    match next {
        Some(p) if is_local_path(p) => p.to_owned(),
        _ => "/".to_owned(),
    }
}

fn is_local_path(p: &str) -> bool {
    let mut chars = p.chars();
    chars.next() == Some('/')
        && !matches!(chars.next(), Some('/' | '\\'))
        && !p.chars().any(char::is_control)
        && !p.contains('\\')
}

pub async fn form(
    State(st): State<AppState>,
    jar: CookieJar,
    Query(q): Query<NextQuery>,
) -> Response {
    let next = local_path(q.next.as_deref());
    if !st.config.api_auth() {
        return Redirect::to(&next).into_response();
    }
    let (jar, csrf) = session::csrf_token(jar);
    let page = LoginPage {
        csrf,
        next,
        error: None,
    };
    (jar, html(&page)).into_response()
}

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    token: String,
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    next: Option<String>,
}

pub async fn submit(
    State(st): State<AppState>,
    jar: CookieJar,
    headers: HeaderMap,
    Form(f): Form<LoginForm>,
) -> Result<Response, UiError> {
    check_csrf(&jar, &headers, &f.csrf)?;
    let next = local_path(f.next.as_deref());
    if !st.config.api_auth() {
        return Ok(Redirect::to(&next).into_response());
    }
    let holder = st.config.api_principal(f.token.trim());
    if let Some((name, token)) = holder
        .as_ref()
        .and_then(|h| Some((h.name.as_str(), st.config.api_token_named(&h.name)?.0)))
    {
        tracing::info!(token_name = name, "dashboard login");
        let jar = jar.add(session::session_cookie(name, token));
        return Ok((jar, Redirect::to(&next)).into_response());
    }
    tracing::warn!("dashboard login with a wrong token");
    let (jar, csrf) = session::csrf_token(jar);
    let page = LoginPage {
        csrf,
        next,
        error: Some("That is not one of the API tokens.".into()),
    };
    Ok((StatusCode::UNAUTHORIZED, jar, html(&page)).into_response())
}

#[derive(Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    pub csrf: String,
}

pub async fn logout(
    jar: CookieJar,
    headers: HeaderMap,
    Form(f): Form<CsrfForm>,
) -> Result<Response, UiError> {
    check_csrf(&jar, &headers, &f.csrf)?;
    let gone = session::logout_cookie();
    Ok((jar.add(gone), Redirect::to("/login")).into_response())
}

#[cfg(test)]
mod tests {
    use super::local_path;

    #[test]
    fn only_paths_of_this_site_are_followed_after_login() {
        assert_eq!(
            local_path(Some("/calls?vendor=aliyun")),
            "/calls?vendor=aliyun"
        );
        assert_eq!(local_path(Some("//evil.example/x")), "/");
        assert_eq!(local_path(Some("https://evil.example")), "/");
        assert_eq!(local_path(Some("/\\evil.example")), "/");
        assert_eq!(local_path(None), "/");
        assert_eq!(local_path(Some("/")), "/");
        assert_eq!(local_path(Some("/calls/01J%2Fx")), "/calls/01J%2Fx");
    }

    #[test]
    fn control_characters_and_disguised_double_slashes_go_home() {
        for bad in [
            "/\t/evil.example/x",
            "/\n/evil.example",
            "/\r\nSet-Cookie: x=1",
            "/calls\r\nLocation: //evil.example",
            "/\u{0}x",
            "/\u{7f}",
            "/\u{85}/evil.example",
            "\t//evil.example",
            " /calls",
            "",
            "calls",
        ] {
            assert_eq!(local_path(Some(bad)), "/", "{bad:?}");
        }
    }
}
