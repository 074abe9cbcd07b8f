//! `POST /hooks/{source}` and `POST /hooks/{source}/{token}`. Every answer
//! is `{"code": N, "msg": "…"}`: 200 with `code` 0 only after the push's
//! receipt is durable (its calls are projected behind the answer; the
//! `Callhook-Receipt-Id` header names the receipt); 400 for a body that is
//! not JSON, not the kind's shape or nested deeper than
//! `limits.max_json_depth` (kept as a `rejected` receipt); 401 wrong token;
//! 403 address not allowed; 404 unknown source; 408 body not sent within
//! `limits.body_read_timeout`; 413 body over `limits.max_body_bytes` (not
//! kept) or more records than `limits.max_records_per_push` (kept as
//! `rejected`); 503 with `Retry-After` when storage is unavailable, when it
//! could not commit within `limits.ack_budget`, when the projection backlog
//! is at `limits.max_pending_records`, or when the service is at its
//! concurrency or memory limit (nothing acknowledged; the vendor retries).

use super::body::{self, BodyError};
use super::client_ip::client_addr;
use super::rate;
use super::{bearer, AppState};
use crate::config::SourceConfig;
use crate::ingest::{PushError, RejectReason};
use crate::storage::StoreError;
use crate::telemetry::push::{PushAnswer as Counted, PushResult};
use axum::extract::rejection::PathRejection;
use axum::extract::{ConnectInfo, Path, Request, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use serde::Serialize;
use std::collections::HashMap;
use std::net::SocketAddr;
use utoipa::openapi::schema::{ObjectBuilder, Schema, SchemaType, Type};
use utoipa::openapi::RefOr;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The response header naming the receipt a push was stored as (on 200,
/// and on 400/413 for a body kept as `rejected`): `GET
/// /api/v1/receipts/{id}` shows it `pending` until it is projected.
pub const RECEIPT_ID_HEADER: &str = "callhook-receipt-id";

/// The push routes with their OpenAPI paths.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(hook))
        .routes(routes!(hook_with_token))
}

pub fn router() -> Router<AppState> {
    routes().into()
}

/// Every answer to a push: `{"code": 0, "msg": "ok"}` once durable (what
/// every vendor accepts), else `code` is the HTTP status and `msg` says
/// what is wrong (with the JSON path for a body of the wrong shape).
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"code": 0, "msg": "ok"}))]
pub struct PushAnswer {
    /// 0 on success, else the HTTP status (400, 401, 403, 404, 408, 413, 429, 503).
    pub code: u16,
    pub msg: String,
}

/// A push body: the vendor's JSON, an array or an object of records whose
/// shape depends on the source's kind (a scalar is always rejected).
pub struct PushBody;

impl utoipa::PartialSchema for PushBody {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(SchemaType::from_iter([Type::Array, Type::Object]))
            .description(Some(
                "The vendor's report exactly as it sends it: a JSON array or object of \
                 records, shaped per the source's kind. Kept verbatim as a receipt.",
            ))
            .into()
    }
}

impl ToSchema for PushBody {}

fn answer(status: StatusCode, msg: &str) -> Response {
    let code = if status == StatusCode::OK {
        0
    } else {
        status.as_u16()
    };
    let body = PushAnswer {
        code,
        msg: msg.to_owned(),
    };
    (status, Json(body)).into_response()
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

/// A push: the vendor's body, answered once it is durable. The answer
/// carries a [`Counted`] extension (what it came to, for `/metrics`).
#[utoipa::path(
    post,
    path = "/hooks/{source}",
    tag = "hooks",
    operation_id = "push",
    params(
        ("source" = String, Path, description = "The configured source's name (one push URL per vendor account)."),
        ("token" = Option<String>, Query, description = "The source's token, when not in the path or an `Authorization: Bearer` header."),
    ),
    request_body(
        content = inline(PushBody),
        content_type = "application/json",
        description = "The vendor's report exactly as it sends it (JSON; shape per the source's kind). Kept verbatim as a receipt.",
    ),
    responses(
        (status = 200, description = "Durable: the verbatim body is committed as a `pending` receipt, named by the `Callhook-Receipt-Id` header; its calls are projected shortly after (at rest within 50 ms).", body = PushAnswer,
            headers(("Callhook-Receipt-Id" = String, description = "The receipt's id: `GET /api/v1/receipts/{id}` shows `pending` until projected"))),
        (status = 400, description = "Not JSON, not the kind's shape, or nested deeper than `max_json_depth`; kept as a `rejected` receipt.", body = PushAnswer),
        (status = 401, description = "Missing or wrong token, or (Vapi, Retell, Bland sources with a `secret`) a missing, stale or wrong vendor signature; nothing was kept.", body = PushAnswer),
        (status = 403, description = "The client's address is outside the source's `allow_ips`.", body = PushAnswer),
        (status = 404, description = "No source with this name.", body = PushAnswer),
        (status = 408, description = "The body was not sent within `body_read_timeout`.", body = PushAnswer),
        (status = 413, description = "Body over `max_body_bytes` (not kept), or more records than `max_records_per_push` (kept as `rejected`).", body = PushAnswer),
        (status = 429, description = "The source is over its `rate_limit`; nothing was read or kept.", body = PushAnswer,
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
        (status = 503, description = "Storage unavailable or busy past `ack_budget`, the projection backlog at `max_pending_records`, or the service at a limit; nothing was kept.", body = PushAnswer,
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    ),
    security((), ("push_token" = []), ("push_token_query" = [])),
)]
async fn hook(
    st: State<AppState>,
    path: Result<Path<HashMap<String, String>>, PathRejection>,
    req: Request,
) -> Response {
    receive(st, path, req).await
}

/// The same push with the token as the last path segment.
#[utoipa::path(
    post,
    path = "/hooks/{source}/{token}",
    tag = "hooks",
    operation_id = "push_with_token",
    params(
        ("source" = String, Path, description = "The configured source's name."),
        ("token" = String, Path, description = "The source's token."),
    ),
    request_body(
        content = inline(PushBody),
        content_type = "application/json",
        description = "The vendor's report exactly as it sends it.",
    ),
    responses(
        (status = 200, description = "Durable.", body = PushAnswer),
        (status = 400, description = "Rejected body (kept).", body = PushAnswer),
        (status = 401, description = "Wrong token or signature.", body = PushAnswer),
        (status = 403, description = "Address not allowed.", body = PushAnswer),
        (status = 404, description = "No such source.", body = PushAnswer),
        (status = 408, description = "Body too slow.", body = PushAnswer),
        (status = 413, description = "Body or record count over the limit.", body = PushAnswer),
        (status = 429, description = "Over the source's `rate_limit`.", body = PushAnswer,
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
        (status = 503, description = "Nothing kept; retry later.", body = PushAnswer,
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    ),
    security(()),
)]
async fn hook_with_token(
    st: State<AppState>,
    path: Result<Path<HashMap<String, String>>, PathRejection>,
    req: Request,
) -> Response {
    receive(st, path, req).await
}

async fn receive(
    State(st): State<AppState>,
    path: Result<Path<HashMap<String, String>>, PathRejection>,
    req: Request,
) -> Response {
    let path = match path {
        Ok(Path(path)) => path,
        Err(e) => return answer(StatusCode::BAD_REQUEST, &e.body_text()),
    };
    let name = path.get("source").map(String::as_str).unwrap_or_default();
    let Some(source) = st.config.source(name) else {
        let mut resp = answer(StatusCode::NOT_FOUND, &format!("unknown source `{name}`"));
        resp.extensions_mut().insert(Counted {
            result: PushResult::NotFound,
            source: None,
        });
        return resp;
    };
    let (result, mut resp) = push(&st, source, &path, req).await;
    resp.extensions_mut().insert(Counted {
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
    // A signed kind's signature is checked on the raw bytes before
    // anything is kept: a forged push leaves no receipt.
    if let Some(signer) = &source.signer {
        let header = |name: &str| parts.headers.get(name).and_then(|v| v.to_str().ok());
        if let Err(e) = signer.verify(header, &bytes, jiff::Timestamp::now()) {
            tracing::warn!(source = %source.name, peer = ?peer, reason = %e, "push refused: bad signature");
            return (
                PushResult::BadSignature,
                answer(StatusCode::UNAUTHORIZED, &e.to_string()),
            );
        }
    }
    // Parsed, a body takes several times its length (a value per
    // transcript line): reserved from the parse budget before parsing.
    let estimate = crate::ingest::screen::parsed_size(&bytes);
    let Ok(_parsing) = st.gates.reserve_parse(estimate, limits.ack_budget).await else {
        let msg = format!(
            "overloaded: too many push bodies being parsed (this one needs about {} MiB); retry later",
            estimate.div_ceil(1 << 20)
        );
        return (PushResult::Overloaded, retry_later(st, &msg));
    };
    let remote = peer.unwrap_or_else(|| "unknown".into());
    match st
        .ingestor
        .push(source, bytes, remote, Some(limits.ack_budget))
        .await
    {
        Ok(r) => {
            let (result, resp) = match &r.rejection {
                Some(rej) if rej.reason == RejectReason::TooManyRecords => (
                    PushResult::TooLarge,
                    answer(StatusCode::PAYLOAD_TOO_LARGE, &rej.message),
                ),
                Some(rej) => (
                    PushResult::Rejected,
                    answer(StatusCode::BAD_REQUEST, &rej.message),
                ),
                None if r.unusable > 0 => (PushResult::Partial, answer(StatusCode::OK, "ok")),
                None => (PushResult::Accepted, answer(StatusCode::OK, "ok")),
            };
            let mut resp = resp;
            if let Ok(v) = header::HeaderValue::from_str(&r.receipt_id) {
                resp.headers_mut().insert(RECEIPT_ID_HEADER, v);
            }
            (result, resp)
        }
        Err(PushError::Backlog { pending, limit }) => {
            tracing::warn!(source = %source.name, pending, limit, "push refused: projection backlog at max_pending_records");
            let msg = format!(
                "busy: {pending} records are waiting to be projected (limit {limit}); nothing was kept, retry later"
            );
            (PushResult::Backlog, retry_later(st, &msg))
        }
        Err(PushError::Store(StoreError::Busy(detail))) => {
            tracing::warn!(source = %source.name, %detail, "push refused: store busy");
            let msg = format!(
                "busy: not stored within {} ms; nothing was kept, retry later",
                limits.ack_budget.as_millis()
            );
            (PushResult::Unavailable, retry_later(st, &msg))
        }
        Err(PushError::Store(e)) => {
            tracing::error!(source = %source.name, error = %crate::error_chain::ErrorChain(&e), "push not stored");
            (
                PushResult::Unavailable,
                retry_later(st, "storage unavailable; retry later"),
            )
        }
    }
}
