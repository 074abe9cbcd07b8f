//! Dashboard login and CSRF protection.
//!
//! - **Login** (only when `api_token` is set): `POST /login` with the token
//!   sets `callhook_session` = `{expiry ms}.{hex HMAC-SHA256(api_token,
//!   "session:{expiry ms}")}`: HttpOnly, `SameSite=Strict`, 12 hours.
//!   Stateless, so any instance behind a load balancer accepts it, and
//!   changing the token logs everyone out.
//! - **CSRF** (always, also without a token): every page sets a random
//!   `callhook_csrf` cookie (`SameSite=Strict`) and puts the same value in
//!   its forms; a `POST` is refused (403) unless the form's `csrf` field
//!   equals the cookie, and unless its `Origin` (when sent) is this host.

use super::error::UiError;
use crate::config::secret_matches;
use axum::http::{header, HeaderMap};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;
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

/// The session cookie's value for a login expiring at `expires_ms`.
pub fn session_value(token: &SecretString, expires_ms: i64) -> String {
    format!(
        "{expires_ms}.{}",
        mac(token, &format!("session:{expires_ms}"))
    )
}

/// Whether `value` is a session made with `token` that has not expired at `now_ms`.
pub fn session_valid(token: &SecretString, value: &str, now_ms: i64) -> bool {
    let Some((expires, _)) = value.split_once('.') else {
        return false;
    };
    let Ok(expires_ms) = expires.parse::<i64>() else {
        return false;
    };
    let want = session_value(token, expires_ms);
    expires_ms > now_ms && bool::from(want.as_bytes().ct_eq(value.as_bytes()))
}

/// `true` when the request carries a valid session for `token`.
pub fn logged_in(token: &SecretString, jar: &CookieJar) -> bool {
    let now = jiff::Timestamp::now().as_millisecond();
    jar.get(SESSION_COOKIE)
        .is_some_and(|c| session_valid(token, c.value(), now))
}

/// A cookie that lives for the browser's session or `max_age` seconds.
fn cookie(name: &'static str, value: String, max_age: Option<i64>) -> Cookie<'static> {
    let mut c = Cookie::new(name, value);
    c.set_http_only(true);
    c.set_same_site(SameSite::Strict);
    c.set_path("/");
    if let Some(s) = max_age {
        c.set_max_age(Some(cookie::time::Duration::seconds(s)));
    }
    c
}

/// The session cookie of a login with `token` now.
pub fn session_cookie(token: &SecretString) -> Cookie<'static> {
    let expires = jiff::Timestamp::now().as_millisecond() + SESSION_SECONDS * 1000;
    cookie(
        SESSION_COOKIE,
        session_value(token, expires),
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

/// Whether the submitted login `token` is the configured one.
pub fn token_matches(token: &SecretString, given: &str) -> bool {
    secret_matches(token, given)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_is_valid_until_it_expires_and_only_for_its_token() {
        let token = SecretString::from("s3cret");
        let v = session_value(&token, 10_000);
        assert!(session_valid(&token, &v, 9_999));
        assert!(!session_valid(&token, &v, 10_000), "expired");
        assert!(!session_valid(&SecretString::from("other"), &v, 0));
        let forged = format!("99999999.{}", v.split_once('.').unwrap().1);
        assert!(!session_valid(&token, &forged, 0), "expiry is signed");
        assert!(!session_valid(&token, "garbage", 0));
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
