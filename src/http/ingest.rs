//! `POST /hooks/{source}` and `POST /hooks/{source}/{token}`
//! (`interfaces.md`, Ingest). Every answer is `{"code": N, "msg": "…"}`:
//! 200 with `code` 0 only after the push is durable; 400 for a body that is
//! not JSON, not the kind's shape or nested deeper than
//! `limits.max_json_depth` (kept as a `rejected` receipt); 401 wrong token;
//! 403 address not allowed; 404 unknown source; 408 body not sent within
//! `limits.body_read_timeout`; 413 body over `limits.max_body_bytes` (not
//! kept) or more records than `limits.max_records_per_push` (kept as
//! `rejected`); 503 with `Retry-After` when storage is unavailable, when it
//! could not commit within `limits.ack_budget`, or when the service is at
//! its concurrency or memory limit (nothing acknowledged; the vendor retries).

use super::body::{self, BodyError};
use super::client_ip::client_addr;
use super::rate;
use super::{bearer, AppState};
use crate::config::SourceConfig;
use crate::ingest::RejectReason;
use crate::storage::{ReceiptStatus, StoreError};
use crate::telemetry::push::{PushAnswer, PushResult};
use axum::extract::{ConnectInfo, Path, Request, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::json;
use std::collections::HashMap;
use std::net::SocketAddr;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/hooks/{source}", post(hook))
        .route("/hooks/{source}/{token}", post(hook))
}

fn answer(status: StatusCode, msg: &str) -> Response {
    let code = if status == StatusCode::OK {
        0
    } else {
        status.as_u16()
    };
    (status, Json(json!({"code": code, "msg": msg}))).into_response()
}

/// 503 with `Retry-After`: nothing was acknowledged, the vendor retries.
fn retry_later(st: &AppState, msg: &str) -> Response {
    let mut resp = answer(StatusCode::SERVICE_UNAVAILABLE, msg);
    resp.headers_mut()
        .insert(header::RETRY_AFTER, st.gates.retry_after());
    resp
}

fn query_token(query: Option<&str>) -> Option<String> {
    form_urlencoded::parse(query?.as_bytes())
        .find(|(k, _)| k == "token")
        .map(|(_, v)| v.into_owned())
}

/// The push handler; the answer carries a [`PushAnswer`] extension (what it
/// came to, for `/metrics`).
async fn hook(
    State(st): State<AppState>,
    Path(path): Path<HashMap<String, String>>,
    req: Request,
) -> Response {
    let name = path.get("source").map(String::as_str).unwrap_or_default();
    let Some(source) = st.config.source(name) else {
        let mut resp = answer(StatusCode::NOT_FOUND, &format!("unknown source `{name}`"));
        resp.extensions_mut().insert(PushAnswer {
            result: PushResult::NotFound,
            source: None,
        });
        return resp;
    };
    let (result, mut resp) = push(&st, source, &path, req).await;
    resp.extensions_mut().insert(PushAnswer {
        result,
        source: Some(source.name.clone()),
    });
    resp
}

/// A push to the configured `source`: what it came to, and the answer.
async fn push(
    st: &AppState,
    source: &SourceConfig,
    path: &HashMap<String, String>,
    req: Request,
) -> (PushResult, Response) {
    let (parts, body) = req.into_parts();
    let client = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| client_addr(c.0, &parts.headers, &st.config.trusted_proxies));
    let peer = client.map(|c| c.describe());
    // Path, then `?token=`, then Bearer; an empty one gives way to the next.
    let given = path
        .get("token")
        .cloned()
        .filter(|t| !t.is_empty())
        .or_else(|| query_token(parts.uri.query()).filter(|t| !t.is_empty()))
        .or_else(|| {
            bearer(&parts.headers)
                .filter(|t| !t.is_empty())
                .map(str::to_owned)
        });
    if !source.token_matches(given.as_deref()) {
        tracing::warn!(source = %source.name, peer = ?peer, "push refused: wrong or missing token");
        return (
            PushResult::Unauthorized,
            answer(StatusCode::UNAUTHORIZED, "missing or wrong token"),
        );
    }
    if !source.allow_ips.is_empty() {
        let allowed =
            client.is_some_and(|c| source.allow_ips.iter().any(|net| net.contains(&c.ip)));
        if !allowed {
            tracing::warn!(source = %source.name, peer = ?peer, "push refused: address not in allow_ips");
            return (
                PushResult::Forbidden,
                answer(
                    StatusCode::FORBIDDEN,
                    "this address may not push to this source",
                ),
            );
        }
    }
    if let Err(wait) = st.rates.check(&source.name) {
        tracing::warn!(source = %source.name, peer = ?peer, "push refused: over the source's rate_limit");
        let mut resp = answer(
            StatusCode::TOO_MANY_REQUESTS,
            "this source is over its rate_limit; retry later",
        );
        resp.headers_mut()
            .insert(header::RETRY_AFTER, rate::retry_after_seconds(wait).into());
        return (PushResult::RateLimited, resp);
    }
    let limits = &st.config.limits;
    let declared = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<usize>().ok());
    let read = body::read(
        body,
        declared,
        limits.max_body_bytes,
        limits.body_read_timeout,
        &st.gates,
    )
    .await;
    let (bytes, _permit) = match read {
        Ok(read) => read,
        Err(e) => {
            let msg = e.to_string();
            return match e {
                BodyError::TooLarge { .. } => (
                    PushResult::TooLarge,
                    answer(StatusCode::PAYLOAD_TOO_LARGE, &msg),
                ),
                BodyError::TimedOut(_) => {
                    tracing::warn!(source = %source.name, peer = ?peer, "push body timed out");
                    let mut resp = answer(StatusCode::REQUEST_TIMEOUT, &msg);
                    resp.headers_mut().insert(
                        header::CONNECTION,
                        header::HeaderValue::from_static("close"),
                    );
                    (PushResult::Timeout, resp)
                }
                BodyError::Overloaded => (PushResult::Overloaded, retry_later(st, &msg)),
                BodyError::Broken(_) => {
                    (PushResult::Aborted, answer(StatusCode::BAD_REQUEST, &msg))
                }
            };
        }
    };
    let remote = peer.unwrap_or_else(|| "unknown".into());
    match st
        .ingestor
        .push(source, bytes, remote, Some(limits.ack_budget))
        .await
    {
        Ok(r) => match r.rejection {
            Some(rej) if rej.reason == RejectReason::TooManyRecords => (
                PushResult::TooLarge,
                answer(StatusCode::PAYLOAD_TOO_LARGE, &rej.message),
            ),
            Some(rej) => (
                PushResult::Rejected,
                answer(StatusCode::BAD_REQUEST, &rej.message),
            ),
            None => {
                let result = match r.outcome.status {
                    Some(ReceiptStatus::Duplicate) => PushResult::Duplicate,
                    Some(ReceiptStatus::Partial) => PushResult::Partial,
                    _ => PushResult::Accepted,
                };
                (result, answer(StatusCode::OK, "ok"))
            }
        },
        Err(StoreError::Busy(detail)) => {
            tracing::warn!(source = %source.name, %detail, "push refused: store busy");
            let msg = format!(
                "busy: not stored within {} ms; nothing was kept, retry later",
                limits.ack_budget.as_millis()
            );
            (PushResult::Unavailable, retry_later(st, &msg))
        }
        Err(e) => {
            tracing::error!(source = %source.name, error = %e, "push not stored");
            (
                PushResult::Unavailable,
                retry_later(st, "storage unavailable; retry later"),
            )
        }
    }
}
