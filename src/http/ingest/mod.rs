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
//!
//! A push goes through a few steps, the first failure answering: the
//! [`AdmittedSource`] extractor (source, token, `allow_ips`, rate), then
//! `receive`: read the body, check the signature, reserve the parse
//! budget, append the receipt, acknowledge. Every refusal is a
//! [`PushRefusal`], which makes its answer and names its metrics label.

mod admit;
mod refusal;

pub use admit::{AdmittedSource, PushPath};
pub use refusal::{PushRefusal, Refused};

use super::body;
use super::gates::BodyPermit;
use super::AppState;
use crate::config::SourceConfig;
use crate::ingest::{AppendedReceipt, PushError};
use crate::storage::StoreError;
use crate::telemetry::push::{CountedPush, PushOutcome};
use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use axum::Router;
use bytes::Bytes;
use refusal::answer;
use serde::Serialize;
use tokio::sync::OwnedSemaphorePermit;
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

/// A push: the vendor's body, answered once it is durable. The answer
/// carries a [`CountedPush`] extension (what it came to, for `/metrics`).
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
    source: AdmittedSource,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, Refused> {
    receive(st, source, headers, body).await
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
    source: AdmittedSource,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, Refused> {
    receive(st, source, headers, body).await
}

/// A push admitted to `source` (the extractor checked its token,
/// address and rate): its body read, its signature checked, then parsed
/// and appended as a receipt; answered 200 once the receipt is durable.
async fn receive(
    State(st): State<AppState>,
    source: AdmittedSource,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, Refused> {
    let refused = |refusal: PushRefusal| refusal.to(&source);
    let (bytes, _in_memory) = read_body(&st, &source, &headers, body)
        .await
        .map_err(refused)?;
    verify_signature(&source, &headers, &bytes).map_err(refused)?;
    let _parsing = reserve_parse(&st, &bytes).await.map_err(refused)?;
    let receipt = append(&st, &source, bytes).await.map_err(refused)?;
    acknowledge(receipt, &source).map_err(refused)
}

/// The whole body, within `limits.max_body_bytes`, `body_read_timeout`
/// and the in-flight body budget (keep the permit while the body lives).
async fn read_body(
    st: &AppState,
    source: &AdmittedSource,
    headers: &HeaderMap,
    body: Body,
) -> Result<(Bytes, BodyPermit), PushRefusal> {
    let limits = &st.config.limits;
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<usize>().ok());
    let max = limits.max_body_bytes;
    let read = body::read(body, declared, max, limits.body_read_timeout, &st.gates).await;
    read.map_err(|e| {
        if matches!(e, body::BodyError::TimedOut(_)) {
            tracing::warn!(source = %source.name, peer = ?source.peer, "push body timed out");
        }
        PushRefusal::of_body(e, st.gates.retry_after())
    })
}

/// A signed kind's signature, checked on the raw bytes before anything is
/// kept: a forged push leaves no receipt.
fn verify_signature(
    source: &AdmittedSource,
    headers: &HeaderMap,
    bytes: &[u8],
) -> Result<(), PushRefusal> {
    let Some(signer) = &source.signer else {
        return Ok(());
    };
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    signer
        .verify(header, bytes, jiff::Timestamp::now())
        .map_err(|e| {
            tracing::warn!(source = %source.name, peer = ?source.peer, reason = %e, "push refused: bad signature");
            PushRefusal::BadSignature(e.to_string())
        })
}

/// Parsed, a body takes several times its length (a value per transcript
/// line): its share of the parse budget, reserved before parsing.
async fn reserve_parse(st: &AppState, bytes: &[u8]) -> Result<OwnedSemaphorePermit, PushRefusal> {
    let estimate = crate::ingest::screen::parsed_size(bytes);
    let wait = st.config.limits.ack_budget;
    st.gates
        .reserve_parse(estimate, wait)
        .await
        .map_err(|_| PushRefusal::ParseBudget {
            mib: estimate.div_ceil(1 << 20),
            retry_after: st.gates.retry_after(),
        })
}

/// The body parsed and appended to the receipt log (durable on return),
/// within `limits.ack_budget` and `limits.max_pending_records`.
async fn append(
    st: &AppState,
    source: &AdmittedSource,
    bytes: Bytes,
) -> Result<AppendedReceipt, PushRefusal> {
    let budget = st.config.limits.ack_budget;
    let remote = source.peer.clone().unwrap_or_else(|| "unknown".into());
    let appended = st.ingestor.push(source, bytes, remote, Some(budget)).await;
    let retry_after = st.gates.retry_after();
    appended.map_err(|e| match e {
        PushError::Backlog { pending, limit } => {
            tracing::warn!(source = %source.name, pending, limit, "push refused: projection backlog at max_pending_records");
            PushRefusal::Backlog {
                pending,
                limit,
                retry_after,
            }
        }
        PushError::Store(StoreError::Busy(detail)) => {
            tracing::warn!(source = %source.name, %detail, "push refused: store busy");
            PushRefusal::StoreBusy {
                budget,
                retry_after,
            }
        }
        PushError::Store(e) => {
            tracing::error!(source = %source.name, error = %crate::error_chain::ErrorChain(&e), "push not stored");
            PushRefusal::StoreUnavailable { retry_after }
        }
    })
}

/// The 200 for a durable receipt, naming it; a body the adapter refused
/// (kept as `rejected`) is refused.
fn acknowledge(receipt: AppendedReceipt, source: &SourceConfig) -> Result<Response, PushRefusal> {
    if let Some(rejection) = receipt.rejection {
        return Err(PushRefusal::Rejected {
            rejection,
            receipt_id: receipt.receipt_id,
        });
    }
    let outcome = if receipt.unusable > 0 {
        PushOutcome::Partial
    } else {
        PushOutcome::Accepted
    };
    let mut resp = answer(StatusCode::OK, "ok");
    if let Ok(v) = HeaderValue::from_str(&receipt.receipt_id) {
        resp.headers_mut().insert(RECEIPT_ID_HEADER, v);
    }
    resp.extensions_mut().insert(CountedPush {
        result: outcome.as_str(),
        source: Some(source.name.clone()),
    });
    Ok(resp)
}
