//! Every answer to a push that is not a 200: [`PushRefusal`], one variant
//! per reason, each with its status, its `{"code": N, "msg": "…"}` body
//! and its headers (docs/http-contract.md, "Answers"), and the label it is
//! counted under in `callhook_pushes_total`.

use super::{PushAnswer, RECEIPT_ID_HEADER};
use crate::config::SourceConfig;
use crate::http::body::BodyError;
use crate::http::rate;
use crate::ingest::{RejectReason, Rejection};
use crate::telemetry::push::{CountedPush, PushOutcome};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use std::time::Duration;

/// Why a push was not acknowledged. Every 503 carries the gates'
/// `Retry-After` (`retry_after`): nothing was kept and the vendor retries.
#[derive(Debug)]
pub enum PushRefusal {
    /// 400: the push URL's path could not be decoded.
    BadPath(String),
    /// 404: no source by this name.
    UnknownSource(String),
    /// 401: the source's token is missing or wrong.
    WrongToken,
    /// 403: the client's address is outside the source's `allow_ips`.
    AddressNotAllowed,
    /// 429 + `Retry-After`: over the source's `rate_limit`; the body is not read.
    OverRate { wait: Duration },
    /// 413: the body is over `limits.max_body_bytes` (not kept).
    BodyTooLarge(String),
    /// 408 + `Connection: close`: the body did not arrive within
    /// `limits.body_read_timeout`.
    BodyTimedOut(String),
    /// 400: the connection broke while the body was read.
    BodyBroken(String),
    /// 503: the in-flight body budget (`limits.max_inflight_body_bytes`) is spent.
    BodyMemory { retry_after: HeaderValue },
    /// 401: a signed kind's signature is missing, malformed, stale or wrong.
    BadSignature(String),
    /// 503: no room in the parse budget within `limits.ack_budget`.
    ParseBudget {
        mib: usize,
        retry_after: HeaderValue,
    },
    /// 503: the projection backlog is at `limits.max_pending_records`.
    Backlog {
        pending: u64,
        limit: u64,
        retry_after: HeaderValue,
    },
    /// 503: the store did not start the commit within `limits.ack_budget`.
    StoreBusy {
        budget: Duration,
        retry_after: HeaderValue,
    },
    /// 503: the store is unavailable.
    StoreUnavailable { retry_after: HeaderValue },
    /// 400, or 413 for too many records: the body is kept as the
    /// `rejected` receipt `receipt_id`.
    Rejected {
        rejection: Rejection,
        receipt_id: String,
    },
}

impl PushRefusal {
    /// The refusal of an unreadable body; `retry_after` for a 503.
    pub fn of_body(e: BodyError, retry_after: HeaderValue) -> PushRefusal {
        let msg = e.to_string();
        match e {
            BodyError::TooLarge { .. } => PushRefusal::BodyTooLarge(msg),
            BodyError::TimedOut(_) => PushRefusal::BodyTimedOut(msg),
            BodyError::Overloaded => PushRefusal::BodyMemory { retry_after },
            BodyError::Broken(_) => PushRefusal::BodyBroken(msg),
        }
    }

    /// The metrics label: the `result` of `callhook_pushes_total`.
    pub fn reason(&self) -> &'static str {
        self.outcome().as_str()
    }

    fn outcome(&self) -> PushOutcome {
        use PushRefusal::*;
        match self {
            BadPath(_) => PushOutcome::Other,
            UnknownSource(_) => PushOutcome::NotFound,
            WrongToken => PushOutcome::Unauthorized,
            AddressNotAllowed => PushOutcome::Forbidden,
            OverRate { .. } => PushOutcome::RateLimited,
            BodyTooLarge(_) => PushOutcome::TooLarge,
            BodyTimedOut(_) => PushOutcome::Timeout,
            BodyBroken(_) => PushOutcome::Aborted,
            BodyMemory { .. } | ParseBudget { .. } => PushOutcome::Overloaded,
            BadSignature(_) => PushOutcome::BadSignature,
            Backlog { .. } => PushOutcome::Backlog,
            StoreBusy { .. } | StoreUnavailable { .. } => PushOutcome::Unavailable,
            Rejected { rejection, .. } if too_many(rejection) => PushOutcome::TooLarge,
            Rejected { .. } => PushOutcome::Rejected,
        }
    }

    fn status(&self) -> StatusCode {
        use PushRefusal::*;
        match self {
            BadPath(_) | BodyBroken(_) => StatusCode::BAD_REQUEST,
            UnknownSource(_) => StatusCode::NOT_FOUND,
            WrongToken | BadSignature(_) => StatusCode::UNAUTHORIZED,
            AddressNotAllowed => StatusCode::FORBIDDEN,
            OverRate { .. } => StatusCode::TOO_MANY_REQUESTS,
            BodyTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            BodyTimedOut(_) => StatusCode::REQUEST_TIMEOUT,
            BodyMemory { .. }
            | ParseBudget { .. }
            | Backlog { .. }
            | StoreBusy { .. }
            | StoreUnavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
            Rejected { rejection, .. } if too_many(rejection) => StatusCode::PAYLOAD_TOO_LARGE,
            Rejected { .. } => StatusCode::BAD_REQUEST,
        }
    }

    /// The answer's `msg`.
    fn message(&self) -> String {
        use PushRefusal::*;
        match self {
            BadPath(msg) | BodyTooLarge(msg) | BodyTimedOut(msg) | BodyBroken(msg) => msg.clone(),
            BadSignature(msg) => msg.clone(),
            UnknownSource(name) => format!("unknown source `{name}`"),
            WrongToken => "missing or wrong token".into(),
            AddressNotAllowed => "this address may not push to this source".into(),
            OverRate { .. } => "this source is over its rate_limit; retry later".into(),
            BodyMemory { .. } => BodyError::Overloaded.to_string(),
            ParseBudget { mib, .. } => format!(
                "overloaded: too many push bodies being parsed (this one needs about {mib} MiB); retry later"
            ),
            Backlog { pending, limit, .. } => format!(
                "busy: {pending} records are waiting to be projected (limit {limit}); nothing was kept, retry later"
            ),
            StoreBusy { budget, .. } => format!(
                "busy: not stored within {} ms; nothing was kept, retry later",
                budget.as_millis()
            ),
            StoreUnavailable { .. } => "storage unavailable; retry later".into(),
            Rejected { rejection, .. } => rejection.message.clone(),
        }
    }

    /// The headers besides the body's: `Retry-After`, `Connection`, the
    /// receipt id of a body kept as `rejected`.
    fn headers(&self) -> Vec<(header::HeaderName, HeaderValue)> {
        use PushRefusal::*;
        match self {
            OverRate { wait } => {
                vec![(header::RETRY_AFTER, rate::retry_after_seconds(*wait).into())]
            }
            BodyTimedOut(_) => vec![(header::CONNECTION, HeaderValue::from_static("close"))],
            BodyMemory { retry_after }
            | ParseBudget { retry_after, .. }
            | Backlog { retry_after, .. }
            | StoreBusy { retry_after, .. }
            | StoreUnavailable { retry_after } => {
                vec![(header::RETRY_AFTER, retry_after.clone())]
            }
            Rejected { receipt_id, .. } => HeaderValue::from_str(receipt_id)
                .map(|v| vec![(header::HeaderName::from_static(RECEIPT_ID_HEADER), v)])
                .unwrap_or_default(),
            _ => Vec::new(),
        }
    }

    /// This refusal of a push to `source`, which is named in the metrics.
    pub fn to(self, source: &SourceConfig) -> Refused {
        Refused {
            refusal: self,
            source: Some(source.name.clone()),
        }
    }
}

fn too_many(rejection: &Rejection) -> bool {
    rejection.reason == RejectReason::TooManyRecords
}

/// The `{"code": N, "msg": …}` answer with `status` (`code` 0 for 200).
pub fn answer(status: StatusCode, msg: &str) -> Response {
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

impl IntoResponse for PushRefusal {
    fn into_response(self) -> Response {
        let mut resp = answer(self.status(), &self.message());
        resp.headers_mut().extend(self.headers());
        resp.extensions_mut().insert(CountedPush {
            result: self.reason(),
            source: None,
        });
        resp
    }
}

/// A [`PushRefusal`] and the configured source the push named, if any
/// (the `source` label of its count).
#[derive(Debug)]
pub struct Refused {
    pub refusal: PushRefusal,
    pub source: Option<String>,
}

impl From<PushRefusal> for Refused {
    fn from(refusal: PushRefusal) -> Refused {
        Refused {
            refusal,
            source: None,
        }
    }
}

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        let mut resp = self.refusal.into_response();
        if let Some(counted) = resp.extensions_mut().get_mut::<CountedPush>() {
            counted.source = self.source;
        }
        resp
    }
}
