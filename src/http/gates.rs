//! Admission control (`[limits]`): limits on requests handled at once, one
//! per route class (pushes under `/hooks/`: `max_concurrent_requests`;
//! the dashboard, `/login` and the API: `max_concurrent_api_requests`), so
//! slow or many dashboard requests never take a push's slot; and a budget
//! of push body bytes held in memory at once. All
//! refuse at once with 503 and `Retry-After` instead of queueing, so memory
//! stays flat and the answer comes fast whatever the load. Parsing has a
//! budget of its own, of the same size, counted by the estimated parsed
//! size of each body (a transcript line takes far more memory parsed than
//! as text); a push waits for it up to `ack_budget`.

use super::error::Code;
use crate::config::Limits;
use crate::telemetry::push::{CountedPush, PushOutcome};
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
    pushes: Class,
    others: Class,
    body_bytes: Arc<Semaphore>,
    /// The memory parsing takes, estimated per body: its own budget, waited
    /// for (a push holding body bytes never waits on body bytes again, so
    /// there is no deadlock).
    parse_bytes: Arc<Semaphore>,
    parse_permits: usize,
    retry_after: HeaderValue,
}

/// One route class's request slots.
#[derive(Clone)]
struct Class {
    slots: Arc<Semaphore>,
    max: usize,
}

impl Class {
    fn new(max: usize) -> Class {
        Class {
            slots: Arc::new(Semaphore::new(max)),
            max,
        }
    }
}

/// Whether `path` is a push (its own admission class and answer format).
fn is_push(path: &str) -> bool {
    path.starts_with("/hooks/")
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
    /// Gates sized by `limits.max_concurrent_requests` (pushes),
    /// `limits.max_concurrent_api_requests` (everything else that passes
    /// [`limit_concurrency`]) and `limits.max_inflight_body_bytes`.
    pub fn new(limits: &Limits) -> Gates {
        Gates {
            pushes: Class::new(limits.max_concurrent_requests),
            others: Class::new(limits.max_concurrent_api_requests),
            body_bytes: Arc::new(Semaphore::new(kib(limits.max_inflight_body_bytes))),
            parse_bytes: Arc::new(Semaphore::new(kib(limits.max_inflight_body_bytes))),
            parse_permits: kib(limits.max_inflight_body_bytes),
            retry_after: HeaderValue::from(limits.retry_after_secs()),
        }
    }

    /// The `Retry-After` value sent with every 503.
    pub fn retry_after(&self) -> HeaderValue {
        self.retry_after.clone()
    }

    /// Reserves `estimate` bytes (from
    /// [`crate::ingest::screen::parsed_size`]) of the parse budget, which
    /// is as large as `limits.max_inflight_body_bytes`, waiting up to `wait`
    /// for them in arrival order. An estimate above the whole budget takes
    /// all of it, so no body is refused forever for its size: the largest
    /// are parsed one at a time.
    ///
    /// Errors: [`BudgetSpent`] when `wait` passed first.
    pub async fn reserve_parse(
        &self,
        estimate: usize,
        wait: std::time::Duration,
    ) -> Result<OwnedSemaphorePermit, BudgetSpent> {
        let permits = kib(estimate).clamp(1, self.parse_permits);
        let permits = u32::try_from(permits).map_err(|_| BudgetSpent)?;
        let acquire = self.parse_bytes.clone().acquire_many_owned(permits);
        match tokio::time::timeout(wait, acquire).await {
            Ok(Ok(permit)) => Ok(permit),
            _ => Err(BudgetSpent),
        }
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

/// Middleware: admits a request if fewer than its class's limit are being
/// handled (pushes: `max_concurrent_requests`; anything else:
/// `max_concurrent_api_requests`), else answers 503 with `Retry-After` at
/// once (in the push format `{"code","msg"}` on `/hooks`, the API error
/// format elsewhere).
pub async fn limit_concurrency(State(gates): State<Gates>, req: Request, next: Next) -> Response {
    let push = is_push(req.uri().path());
    let class = if push { &gates.pushes } else { &gates.others };
    let Ok(_permit) = class.slots.clone().try_acquire_owned() else {
        let msg = format!(
            "overloaded: {} requests already in progress; retry later",
            class.max
        );
        let body = if push {
            json!({"code": 503, "msg": msg})
        } else {
            json!({"error": {"code": Code::Overloaded.as_str(), "message": msg}})
        };
        let mut resp = (StatusCode::SERVICE_UNAVAILABLE, Json(body)).into_response();
        if push {
            resp.extensions_mut().insert(CountedPush {
                result: PushOutcome::Overloaded.as_str(),
                source: None,
            });
        }
        resp.headers_mut()
            .insert(header::RETRY_AFTER, gates.retry_after());
        return resp;
    };
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn gates(budget: usize) -> Gates {
        Gates::new(&Limits {
            max_body_bytes: budget,
            max_inflight_body_bytes: budget,
            ..Limits::default()
        })
    }

    #[tokio::test]
    async fn parsing_waits_for_its_estimated_memory_and_gives_up_at_the_deadline() {
        let g = gates(1024 * 1024);
        let wait = Duration::from_millis(50);
        // Three quarters of the budget, then a quarter: both fit.
        let big = g.reserve_parse(768 * 1024, wait).await.expect("fits");
        let small = g.reserve_parse(256 * 1024, wait).await.expect("fits");
        // The budget is spent: the next one waits, then gives up.
        assert_eq!(g.reserve_parse(1, wait).await.err(), Some(BudgetSpent));
        drop(small);
        assert!(g.reserve_parse(200 * 1024, wait).await.is_ok());
        drop(big);
    }

    #[tokio::test]
    async fn an_estimate_beyond_the_whole_budget_takes_all_of_it_once_free() {
        let g = gates(1024 * 1024);
        let wait = Duration::from_millis(50);
        let other = g.reserve_parse(1024, wait).await.expect("fits");
        // 100 MiB estimated: it waits for the whole budget ...
        assert_eq!(
            g.reserve_parse(100 << 20, wait).await.err(),
            Some(BudgetSpent)
        );
        drop(other);
        // ... and is never refused forever: alone, it gets it.
        let huge = g
            .reserve_parse(100 << 20, wait)
            .await
            .expect("the whole budget");
        assert_eq!(g.reserve_parse(1, wait).await.err(), Some(BudgetSpent));
        drop(huge);
        assert!(g.reserve_parse(1, wait).await.is_ok());
    }

    #[tokio::test]
    async fn a_waiting_parse_is_served_when_memory_is_released() {
        let g = gates(1024 * 1024);
        let held = g
            .reserve_parse(1 << 20, Duration::from_millis(50))
            .await
            .unwrap();
        let waiter = {
            let g = g.clone();
            tokio::spawn(async move {
                g.reserve_parse(512 * 1024, Duration::from_secs(5))
                    .await
                    .is_ok()
            })
        };
        tokio::time::sleep(Duration::from_millis(20)).await;
        drop(held);
        assert!(waiter.await.unwrap(), "served once the first was done");
    }
}
