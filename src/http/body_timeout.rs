//! The body read timeout for every route that is not a push (the dashboard
//! forms, `/login`, `/logout`, API posts): the whole body must arrive within
//! `limits.body_read_timeout` of the handler being reached, else 408 and the
//! connection is closed. Pushes read their bodies under the same timeout in
//! [`super::body`]. Without this a client sending a byte now and then would
//! hold its admission slot ([`super::gates`]) for as long as it liked.

use super::error::Code;
use crate::config::Config;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use http_body_util::{BodyExt, Limited};
use serde_json::json;
use std::sync::Arc;

/// Largest body accepted on a route that is not a push: forms and API
/// posts are small (a CSRF token, a login token). 64 KiB.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// Middleware: reads the request body in whole (at most [`MAX_BODY_BYTES`])
/// within `limits.body_read_timeout`, then hands the buffered body on.
/// A request without a body passes untouched.
///
/// Answers: 408 with `Connection: close` when the body is late, 413 when
/// it is larger than [`MAX_BODY_BYTES`], 400 when the connection breaks;
/// JSON (`{"error":{"code","message"}}`) under `/api`, text elsewhere.
pub async fn read_body_in_time(
    State(config): State<Arc<Config>>,
    req: Request,
    next: Next,
) -> Response {
    use axum::body::HttpBody as _;
    if req.body().is_end_stream() {
        return next.run(req).await;
    }
    let api = req.uri().path().starts_with("/api/");
    let timeout = config.limits.body_read_timeout;
    let (parts, body) = req.into_parts();
    let read = Limited::new(body, MAX_BODY_BYTES).collect();
    let failure = match tokio::time::timeout(timeout, read).await {
        Ok(Ok(collected)) => {
            let req = Request::from_parts(parts, Body::from(collected.to_bytes()));
            return next.run(req).await;
        }
        Ok(Err(e)) if e.is::<http_body_util::LengthLimitError>() => (
            Code::TooLarge,
            format!("request body larger than {MAX_BODY_BYTES} bytes"),
        ),
        Ok(Err(e)) => (
            Code::Invalid,
            format!("could not read the request body: {e}"),
        ),
        Err(_) => (
            Code::Timeout,
            format!("request body not received within {timeout:?}"),
        ),
    };
    let (code, message) = failure;
    let status = code.status();
    let mut resp = if api {
        (
            status,
            Json(json!({"error": {"code": code.as_str(), "message": message}})),
        )
            .into_response()
    } else {
        (status, message).into_response()
    };
    // The rest of the body is never read: the connection cannot be reused.
    resp.headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    resp
}
