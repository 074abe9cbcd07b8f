//! The outermost middleware of every request: gives it an id
//! ([`super::request_id`]), runs it inside a `request` span carrying
//! `request_id`, `method` and the redacted `path` (so every log line of the
//! request carries them), logs one line when it is answered (status,
//! latency), counts pushes ([`crate::telemetry::push`]) and returns the id in
//! `X-Request-Id`.
//!
//! The span is created at ERROR level so that it is enabled whatever
//! `CALLHOOK_LOG` lets through: a warning inside a request carries its id
//! even when info lines are filtered out. The completion line is a debug
//! event of target [`ACCESS_TARGET`] (`CALLHOOK_LOG=info,callhook::access=debug`
//! turns it on): at info it cost about 20 µs of CPU per push (formatting
//! and a write to stderr per request, measured at 5,000 pushes/s), an
//! eighth of what a one-record push costs in all.

use super::request_id;
use crate::config::Config;
use crate::telemetry::names;
use crate::telemetry::push::{count_push, CountedPush, PushOutcome};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use std::sync::Arc;
use std::time::Instant;
use tracing::Instrument;

/// The target of the one line logged per answered request.
pub const ACCESS_TARGET: &str = "callhook::access";

/// Middleware: see the module documentation.
/// Its state is only the configuration (to name a push's source).
pub async fn track(State(config): State<Arc<Config>>, req: Request, next: Next) -> Response {
    let arrived = Instant::now();
    let id = request_id::of(req.headers());
    let push_source = push_source(&req);
    let span = tracing::error_span!(
        target: "callhook::http",
        "request",
        request_id = %id,
        method = %req.method(),
        path = %request_id::redacted(req.uri(), config.mask_numbers),
    );
    let mut resp = next.run(req).instrument(span.clone()).await;
    let elapsed = arrived.elapsed();
    if let Some(raw) = push_source {
        let answer = resp.extensions_mut().remove::<CountedPush>();
        let (result, source) = match answer {
            Some(a) => (a.result, a.source),
            // The router's own answers: no such route, or a path it could
            // not decode.
            None if resp.status() == StatusCode::NOT_FOUND => {
                (PushOutcome::NotFound.as_str(), None)
            }
            None => (PushOutcome::Other.as_str(), None),
        };
        let source = source
            .or_else(|| config.source(&raw).map(|s| s.name.clone()))
            .unwrap_or_else(|| names::UNKNOWN_SOURCE.to_owned());
        count_push(source, result, elapsed.as_secs_f64());
    }
    span.in_scope(|| {
        tracing::debug!(
            target: ACCESS_TARGET,
            status = resp.status().as_u16(),
            latency_ms = elapsed.as_secs_f64() * 1000.0,
            "answered"
        )
    });
    if let Ok(v) = HeaderValue::from_str(&id) {
        resp.headers_mut().insert(&request_id::HEADER, v);
    }
    resp
}

/// For a push (`POST /hooks/{source}[/…]`), the raw source segment.
fn push_source(req: &Request) -> Option<String> {
    if req.method() != Method::POST {
        return None;
    }
    let rest = req.uri().path().strip_prefix("/hooks/")?;
    let segment = rest.split('/').next().unwrap_or_default();
    Some(segment.to_owned())
}
