//! `GET/POST /login`, `POST /logout`, and the guard that sends a browser
//! without a valid session to the login form (only when `api_token` is set).

use super::session::{self, check_csrf, logged_in, token_matches};
use super::templates::LoginPage;
use super::{html, UiError};
use crate::http::AppState;
use axum::extract::{Query, Request, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use axum_extra::extract::cookie::CookieJar;
use serde::Deserialize;

/// Sends requests without a valid session to `/login` (GET) or answers
/// 401 (anything else); passes everything when no `api_token` is set.
pub async fn require_login(
    State(st): State<AppState>,
    jar: CookieJar,
    req: Request,
    next: Next,
) -> Response {
    let Some(token) = &st.config.api_token else {
        return next.run(req).await;
    };
    if logged_in(token, &jar) {
        return next.run(req).await;
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
/// (no open redirect to another site).
fn local_path(next: Option<&str>) -> String {
    match next {
        Some(p) if p.starts_with('/') && !p.starts_with("//") && !p.contains('\\') => p.to_owned(),
        _ => "/".to_owned(),
    }
}

pub async fn form(
    State(st): State<AppState>,
    jar: CookieJar,
    Query(q): Query<NextQuery>,
) -> Response {
    let next = local_path(q.next.as_deref());
    if st.config.api_token.is_none() {
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
    let Some(token) = &st.config.api_token else {
        return Ok(Redirect::to(&next).into_response());
    };
    if token_matches(token, f.token.trim()) {
        let jar = jar.add(session::session_cookie(token));
        return Ok((jar, Redirect::to(&next)).into_response());
    }
    tracing::warn!("dashboard login with a wrong token");
    let (jar, csrf) = session::csrf_token(jar);
    let page = LoginPage {
        csrf,
        next,
        error: Some("That is not the API token.".into()),
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
    Ok((jar.add(session::logout_cookie()), Redirect::to("/login")).into_response())
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
    }
}
