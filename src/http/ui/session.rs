//! Dashboard login and CSRF protection.
//!
//! - **Login** (only when an API token is configured): `POST /login` with
//!   `api_token` or one of `[[api_tokens]]` sets `callhook_session` =
//!   `{token name}.{expiry ms}.{hex HMAC-SHA256(that token, "session:{token
//!   name}:{expiry ms}")}`: HttpOnly, `SameSite=Strict`, 12 hours. The
//!   session has the token's scope as configured at each request.
//!   Stateless, so any instance behind a load balancer accepts it, and
//!   changing or removing a token logs out whoever used it.
//! - **CSRF** (always, also without a token): every page sets a random
//!   `callhook_csrf` cookie (`SameSite=Strict`) and puts the same value in
//!   its forms; a `POST` is refused (403) unless the form's `csrf` field
//!   equals the cookie, and unless its `Origin` (when sent) is this host.

use super::error::UiError;
use crate::config::{Config, Principal};
use crate::http::client_ip::forwarded_https;
use crate::http::AppState;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderMap};
use axum::middleware::Next;
use axum::response::Response;
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;
use std::net::SocketAddr;
use subtle::ConstantTimeEq;

/// The login cookie's name.
pub const SESSION_COOKIE: &str = "callhook_session";
/// The CSRF cookie's name.
pub const CSRF_COOKIE: &str = "callhook_csrf";
/// How long a login lasts, in seconds.
pub const SESSION_SECONDS: i64 = 12 * 3600;

fn mac(token: &SecretString, message: &str) -> String {
    let mut m = Hmac::<Sha256>::new_from_slice(token.expose_secret().as_bytes())
        .expect("HMAC takes a key of any length");
    m.update(message.as_bytes());
    hex::encode(m.finalize().into_bytes())
}

/// The session cookie's value for a login with the token called `name`
/// (secret `token`) expiring at `expires_ms`.
pub fn session_value(name: &str, token: &SecretString, expires_ms: i64) -> String {
    format!(
        "{name}.{expires_ms}.{}",
        mac(token, &format!("session:{name}:{expires_ms}"))
    )
}

/// The holder of session `value` when it was made with a token of
/// `config` (by name) and has not expired at `now_ms`.
pub fn session_holder(config: &Config, value: &str, now_ms: i64) -> Option<Principal> {
    // The name may contain dots; the expiry and MAC never do.
    let mut parts = value.rsplitn(3, '.');
    let (_mac, expires, name) = (parts.next()?, parts.next()?, parts.next()?);
    let expires_ms = expires.parse::<i64>().ok()?;
    let (token, scope) = config.api_token_named(name)?;
    let want = session_value(name, token, expires_ms);
    (expires_ms > now_ms && bool::from(want.as_bytes().ct_eq(value.as_bytes()))).then(|| {
        Principal {
            name: name.to_owned(),
            scope,
        }
    })
}

/// The holder of the request's session, if it carries a valid one.
pub fn logged_in(config: &Config, jar: &CookieJar) -> Option<Principal> {
    let now = jiff::Timestamp::now().as_millisecond();
    session_holder(config, jar.get(SESSION_COOKIE)?.value(), now)
}

tokio::task_local! {
    /// Whether the request being served reached the browser over HTTPS.
    static HTTPS: bool;
}

/// Middleware: serves the request knowing whether the browser reached it
/// over HTTPS — callhook serving TLS itself (`tls_cert`), or a trusted
/// proxy (`trusted_proxies`) saying so with `X-Forwarded-Proto: https`, as
/// Caddy and nginx do when they terminate TLS (docs/deploy.md) — so that
/// [`cookie`] marks the cookies it makes `Secure` then, and only then (the
/// browser would drop them over plain HTTP).
pub async fn scope_https(State(st): State<AppState>, req: Request, next: Next) -> Response {
    let https = st.config.tls_cert.is_some()
        || req
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .is_some_and(|c| forwarded_https(c.0, req.headers(), &st.config.trusted_proxies));
    HTTPS.scope(https, next.run(req)).await
}

/// A cookie that lives for the browser's session or `max_age` seconds;
/// `Secure` when the request came over HTTPS ([`scope_https`]).
pub(super) fn cookie(name: &'static str, value: String, max_age: Option<i64>) -> Cookie<'static> {
    let mut c = Cookie::new(name, value);
    c.set_secure(HTTPS.try_with(|h| *h).unwrap_or(false));
    c.set_http_only(true);
    c.set_same_site(SameSite::Strict);
    c.set_path("/");
    if let Some(s) = max_age {
        c.set_max_age(Some(cookie::time::Duration::seconds(s)));
    }
    c
}

/// The session cookie of a login now with the token called `name`.
pub fn session_cookie(name: &str, token: &SecretString) -> Cookie<'static> {
    let expires = jiff::Timestamp::now().as_millisecond() + SESSION_SECONDS * 1000;
    cookie(
        SESSION_COOKIE,
        session_value(name, token, expires),
        Some(SESSION_SECONDS),
    )
}

/// A cookie that removes the session.
pub fn logout_cookie() -> Cookie<'static> {
    cookie(SESSION_COOKIE, String::new(), Some(0))
}

/// The request's CSRF token, and the jar to answer with (a new token is
/// made and set when the request has none).
pub fn csrf_token(jar: CookieJar) -> (CookieJar, String) {
    if let Some(c) = jar.get(CSRF_COOKIE).filter(|c| c.value().len() == 32) {
        let v = c.value().to_owned();
        return (jar, v);
    }
    let v = hex::encode(rand::random::<[u8; 16]>());
    (jar.add(cookie(CSRF_COOKIE, v.clone(), None)), v)
}

/// Checks a form post: its `csrf` field equals the cookie, and the
/// request's `Origin`, when sent, names this host.
///
/// Errors: [`UiError::Forbidden`] saying which check failed.
pub fn check_csrf(jar: &CookieJar, headers: &HeaderMap, given: &str) -> Result<(), UiError> {
    let cookie = jar.get(CSRF_COOKIE).map(|c| c.value()).unwrap_or_default();
    if cookie.is_empty() || !bool::from(cookie.as_bytes().ct_eq(given.as_bytes())) {
        return Err(UiError::Forbidden(
            "the form's CSRF token does not match this browser's: reload the page and try again"
                .into(),
        ));
    }
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    let origin = headers.get(header::ORIGIN).and_then(|h| h.to_str().ok());
    if let (Some(origin), Some(host)) = (origin, host) {
        let origin_host = origin.split_once("://").map_or(origin, |(_, h)| h);
        if origin != "null" && origin_host != host {
            return Err(UiError::Forbidden(format!(
                "a form from `{origin}` may not post to {host}"
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn cookies_are_secure_only_inside_an_https_request() {
        assert!(!cookie("c", "v".into(), None).secure().unwrap_or(false));
        let inside = HTTPS
            .scope(true, async { cookie("c", "v".into(), None) })
            .await;
        assert_eq!(inside.secure(), Some(true));
        let plain = HTTPS.scope(false, async { logout_cookie() }).await;
        assert_eq!(plain.secure(), Some(false));
    }
    use crate::config::Scope;

    fn config(toml: &str) -> Config {
        let mut c: Config = toml::from_str(toml).unwrap();
        c.validate().unwrap();
        c
    }

    #[test]
    fn a_session_is_valid_until_it_expires_and_only_for_its_token() {
        let c =
            config("api_token = \"s3cret\"\n[[api_tokens]]\nname = \"team.read\"\ntoken = \"r\"\n");
        let token = SecretString::from("s3cret");
        let v = session_value("api_token", &token, 10_000);
        let admin = session_holder(&c, &v, 9_999).unwrap();
        assert_eq!(
            (admin.name.as_str(), admin.scope),
            ("api_token", Scope::Admin)
        );
        assert!(session_holder(&c, &v, 10_000).is_none(), "expired");
        let other = session_value("api_token", &SecretString::from("other"), 10_000);
        assert!(
            session_holder(&c, &other, 0).is_none(),
            "signed with another token"
        );
        let mac = v.rsplit_once('.').unwrap().1;
        let forged = format!("api_token.99999999.{mac}");
        assert!(session_holder(&c, &forged, 0).is_none(), "expiry is signed");
        let renamed = format!("team.read.10000.{mac}");
        assert!(session_holder(&c, &renamed, 0).is_none(), "name is signed");
        assert!(session_holder(&c, "garbage", 0).is_none());
        // A dotted name keeps its own scope.
        let r = session_value("team.read", &SecretString::from("r"), 10_000);
        let reader = session_holder(&c, &r, 0).unwrap();
        assert_eq!(
            (reader.name.as_str(), reader.scope),
            ("team.read", Scope::Read)
        );
        // Removing the token from the configuration ends its sessions.
        let without = config("api_token = \"s3cret\"\n");
        assert!(session_holder(&without, &r, 0).is_none());
    }

    #[test]
    fn a_post_needs_the_cookie_token_and_its_own_origin() {
        let jar = CookieJar::new().add(Cookie::new(CSRF_COOKIE, "a".repeat(32)));
        let mut h = HeaderMap::new();
        h.insert(header::HOST, "127.0.0.1:8080".parse().unwrap());
        assert!(check_csrf(&jar, &h, &"a".repeat(32)).is_ok());
        assert!(check_csrf(&jar, &h, &"b".repeat(32)).is_err());
        assert!(check_csrf(&CookieJar::new(), &h, "").is_err());
        h.insert(header::ORIGIN, "http://127.0.0.1:8080".parse().unwrap());
        assert!(check_csrf(&jar, &h, &"a".repeat(32)).is_ok());
        h.insert(header::ORIGIN, "https://evil.example".parse().unwrap());
        let e = check_csrf(&jar, &h, &"a".repeat(32)).unwrap_err();
        assert!(e.to_string().contains("evil.example"), "{e}");
    }
}
