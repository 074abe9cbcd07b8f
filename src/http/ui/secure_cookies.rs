//! `Secure` on every cookie the dashboard sets when the browser reached it
//! over HTTPS: callhook serving TLS itself (`tls_cert`), or a trusted
//! proxy (`trusted_proxies`) saying so with `X-Forwarded-Proto: https`,
//! as Caddy and nginx do when they terminate TLS (docs/deploy.md). Over
//! plain HTTP the cookies stay without it, or the browser would drop them.

use crate::http::client_ip::forwarded_https;
use crate::http::AppState;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::header::SET_COOKIE;
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use std::net::SocketAddr;

/// Middleware: adds `; Secure` to each `Set-Cookie` of the response that
/// lacks it, when the request came over HTTPS.
pub async fn mark_secure(State(st): State<AppState>, req: Request, next: Next) -> Response {
    let https = st.config.tls_cert.is_some()
        || req
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .is_some_and(|c| forwarded_https(c.0, req.headers(), &st.config.trusted_proxies));
    let mut response = next.run(req).await;
    if https {
        secure_all(response.headers_mut());
    }
    response
}

/// Every `Set-Cookie` of `headers` with `Secure`.
fn secure_all(headers: &mut axum::http::HeaderMap) {
    let cookies: Vec<HeaderValue> = headers.get_all(SET_COOKIE).iter().cloned().collect();
    if cookies.is_empty() {
        return;
    }
    headers.remove(SET_COOKIE);
    for value in cookies {
        let secured = match value.to_str() {
            Ok(text) if !has_secure(text) => {
                HeaderValue::from_str(&format!("{text}; Secure")).unwrap_or(value)
            }
            _ => value,
        };
        headers.append(SET_COOKIE, secured);
    }
}

/// Whether a `Set-Cookie` value already carries the `Secure` attribute.
fn has_secure(text: &str) -> bool {
    text.split(';')
        .skip(1)
        .any(|attr| attr.trim().eq_ignore_ascii_case("secure"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_cookie_gets_secure_once() {
        let mut h = axum::http::HeaderMap::new();
        h.append(SET_COOKIE, "a=1; Path=/; HttpOnly".parse().unwrap());
        h.append(SET_COOKIE, "b=2; Secure; Path=/".parse().unwrap());
        secure_all(&mut h);
        let got: Vec<&str> = h
            .get_all(SET_COOKIE)
            .iter()
            .map(|v| v.to_str().unwrap())
            .collect();
        assert_eq!(
            got,
            ["a=1; Path=/; HttpOnly; Secure", "b=2; Secure; Path=/"]
        );
    }

    #[test]
    fn a_cookie_named_secure_is_not_the_attribute() {
        assert!(!has_secure("secure=1; Path=/"));
        assert!(has_secure("x=1; secure"));
    }
}
