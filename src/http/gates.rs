//! Admission control (`[limits]`): a global limit on requests handled at
//! once, and a budget of push body bytes held in memory at once. Both
//! refuse at once with 503 and `Retry-After` instead of queueing, so memory
//! stays flat and the answer comes fast whatever the load.

use crate::config::Limits;
use crate::telemetry::push::{PushAnswer, PushResult};
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;
use std::sync::Arc;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Body bytes are counted in KiB permits, so the budget fits the
/// semaphore's `u32` acquisitions whatever its size.
const PERMIT_BYTES: usize = 1024;

/// The shared counters behind the limits. Cheap to clone.
#[derive(Clone)]
pub struct Gates {
    requests: Arc<Semaphore>,
    body_bytes: Arc<Semaphore>,
    max_requests: usize,
    retry_after: HeaderValue,
}

/// The in-flight body byte budget has no room for a reservation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the in-flight body byte budget is spent")]
pub struct BudgetSpent;

/// A reservation of body bytes, released when dropped.
pub struct BodyPermit {
    gate: Arc<Semaphore>,
    permits: Option<OwnedSemaphorePermit>,
    bytes: usize,
}

impl Gates {
    /// Gates sized by `limits.max_concurrent_requests` and
    /// `limits.max_inflight_body_bytes`.
    pub fn new(limits: &Limits) -> Gates {
        Gates {
            requests: Arc::new(Semaphore::new(limits.max_concurrent_requests)),
            body_bytes: Arc::new(Semaphore::new(kib(limits.max_inflight_body_bytes))),
            max_requests: limits.max_concurrent_requests,
            retry_after: HeaderValue::from(limits.retry_after_secs()),
        }
    }

    /// The `Retry-After` value sent with every 503.
    pub fn retry_after(&self) -> HeaderValue {
        self.retry_after.clone()
    }

    /// An empty reservation of body bytes, grown with [`BodyPermit::grow`].
    pub fn body_permit(&self) -> BodyPermit {
        BodyPermit {
            gate: self.body_bytes.clone(),
            permits: None,
            bytes: 0,
        }
    }
}

impl BodyPermit {
    /// Extends the reservation to cover `bytes` in all.
    ///
    /// Errors: [`BudgetSpent`] when the budget of in-flight body bytes is
    /// spent; what was reserved before stays reserved until drop.
    pub fn grow(&mut self, bytes: usize) -> Result<(), BudgetSpent> {
        let (have, want) = (kib(self.bytes), kib(bytes));
        if want <= have {
            return Ok(());
        }
        let more = u32::try_from(want - have).map_err(|_| BudgetSpent)?;
        let extra = self
            .gate
            .clone()
            .try_acquire_many_owned(more)
            .map_err(|_| BudgetSpent)?;
        match self.permits.as_mut() {
            Some(p) => p.merge(extra),
            None => self.permits = Some(extra),
        }
        self.bytes = bytes;
        Ok(())
    }
}

fn kib(bytes: usize) -> usize {
    bytes.div_ceil(PERMIT_BYTES)
}

/// Middleware: admits a request if fewer than `max_concurrent_requests`
/// are being handled, else answers 503 with `Retry-After` at once (in the
/// push format `{"code","msg"}` on `/hooks`, the API error format elsewhere).
pub async fn limit_concurrency(State(gates): State<Gates>, req: Request, next: Next) -> Response {
    let Ok(_permit) = gates.requests.clone().try_acquire_owned() else {
        let msg = format!(
            "overloaded: {} requests already in progress; retry later",
            gates.max_requests
        );
        let push = req.uri().path().starts_with("/hooks/");
        let body = if push {
            json!({"code": 503, "msg": msg})
        } else {
            json!({"error": {"code": "overloaded", "message": msg}})
        };
        let mut resp = (StatusCode::SERVICE_UNAVAILABLE, Json(body)).into_response();
        if push {
            resp.extensions_mut().insert(PushAnswer {
                result: PushResult::Overloaded,
                source: None,
            });
        }
        resp.headers_mut()
            .insert(header::RETRY_AFTER, gates.retry_after());
        return resp;
    };
    next.run(req).await
}
