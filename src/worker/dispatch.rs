//! One target's dispatcher: keeps up to `max_in_flight` deliveries in
//! flight, claiming due ones from the outbox as slots free, and records
//! each attempt's result. Every target has its own dispatcher task, so a
//! slow or failing subscriber only ever fills its own slots.
//!
//! Order: the outbox hands out only the oldest pending delivery of a call
//! ([`Outbox::claim_deliveries`]), so one call's events reach the target
//! in the order they were made, even across retries.
//!
//! Shutdown: on `stop`, no new delivery is claimed; those in flight finish
//! (bounded by the request timeout) and their results are recorded before
//! [`Dispatcher::run`] returns, so a restart sends nothing twice that was
//! acknowledged.

use super::schedule;
use super::{SendKind, SendResult, Sink};
use crate::storage::{AttemptRecord, NextStep, OutboundMessage, Outbox};
use crate::telemetry::names;
use jiff::Timestamp;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinSet;

/// The longest a dispatcher sleeps without looking at the outbox (another
/// process may have written deliveries: `callhook import`, or a peer).
const POLL: Duration = Duration::from_secs(1);

/// What a dispatcher needs; cheap to clone into each attempt.
#[derive(Clone)]
pub struct Dispatcher {
    /// The deliveries: claimed, recorded, and the target disabled on 410
    /// (any [`Store`](crate::storage::Store) coerces to it).
    pub outbox: Arc<dyn Outbox>,
    /// The subscriber's name, or `nats`.
    pub target: String,
    pub sink: Arc<dyn Sink>,
    /// Delays before each retry; see [`schedule::after_failure`].
    pub schedule: Arc<Vec<Duration>>,
    pub max_in_flight: usize,
    /// How long a claimed delivery is reserved: longer than one attempt can
    /// take, so it is never sent twice at once; after a crash it is due
    /// again once the lease ends.
    pub lease: Duration,
}

impl Dispatcher {
    /// Runs until `stop` turns true, then finishes the attempts in flight
    /// and records them.
    pub async fn run(self, mut stop: watch::Receiver<bool>) {
        let signal = self.outbox.outbox_signal();
        let mut in_flight: JoinSet<AttemptRecord> = JoinSet::new();
        let mut finished = Vec::new();
        let mut store_errors = 0u32;
        loop {
            while let Some(done) = in_flight.try_join_next() {
                finished.extend(done.ok());
            }
            // Every answer that came is recorded before the next claim, in
            // one transaction: a record per attempt would make each its own
            // round trip through the writer.
            self.record(std::mem::take(&mut finished)).await;
            if *stop.borrow() {
                break;
            }
            let notified = signal.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let free = self.max_in_flight.saturating_sub(in_flight.len());
            let mut wake = Timestamp::now() + POLL;
            // Claim in batches too: one claim per freed slot capped a
            // dispatcher near 2,000 events/s.
            let batch = (self.max_in_flight / 2).max(1);
            if free >= batch || in_flight.is_empty() {
                let now = Timestamp::now();
                match self
                    .outbox
                    .claim_deliveries(&self.target, now, free, self.lease)
                    .await
                {
                    Ok(claimed) => {
                        store_errors = 0;
                        let full = claimed.len() == free;
                        for m in claimed {
                            in_flight.spawn(self.clone().attempt(m));
                        }
                        if full {
                            continue;
                        }
                        match self.outbox.next_due(&self.target).await {
                            Ok(Some(t)) => wake = wake.min(t),
                            Ok(None) => {}
                            Err(e) => {
                                tracing::warn!(target = %self.target, error = %crate::error_chain::ErrorChain(&e), "outbox read failed")
                            }
                        }
                    }
                    Err(e) => {
                        store_errors += 1;
                        let backoff = Duration::from_millis(100 << store_errors.min(5));
                        tracing::warn!(target = %self.target, error = %crate::error_chain::ErrorChain(&e), "claiming deliveries failed; retrying");
                        wake = now + backoff;
                    }
                }
            }
            let sleep = wake
                .duration_since(Timestamp::now())
                .try_into()
                .unwrap_or(Duration::ZERO);
            tokio::select! {
                _ = &mut notified => {}
                Some(done) = in_flight.join_next(), if !in_flight.is_empty() => {
                    finished.extend(done.ok());
                }
                _ = tokio::time::sleep(sleep) => {}
                _ = stop.changed() => {}
            }
        }
        while let Some(done) = in_flight.join_next().await {
            finished.extend(done.ok());
        }
        self.record(finished).await;
    }

    /// Records attempts, retrying a failing store for about 6 s: an
    /// attempt left unrecorded is sent again once its lease ends.
    async fn record(&self, records: Vec<AttemptRecord>) {
        if records.is_empty() {
            return;
        }
        for i in 0..6u32 {
            match self.outbox.record_attempts(records.clone()).await {
                Ok(()) => {
                    self.count(&records);
                    return;
                }
                Err(e) => {
                    tracing::warn!(target = %self.target, attempts = records.len(), error = %crate::error_chain::ErrorChain(&e), "recording attempts failed");
                    tokio::time::sleep(Duration::from_millis(100 << i)).await;
                }
            }
        }
        tracing::error!(target = %self.target, attempts = records.len(), "attempts not recorded: they will be sent again when their leases end");
    }

    /// Counts recorded attempts in `callhook_deliveries_total`.
    fn count(&self, records: &[AttemptRecord]) {
        let (mut delivered, mut retry, mut dead) = (0u64, 0u64, 0u64);
        for r in records {
            match r.next {
                NextStep::Delivered => delivered += 1,
                NextStep::RetryAt(_) => retry += 1,
                NextStep::Dead => dead += 1,
            }
        }
        for (result, n) in [("delivered", delivered), ("retry", retry), ("dead", dead)] {
            if n > 0 {
                metrics::counter!(names::DELIVERIES, "target" => self.target.clone(), "result" => result)
                    .increment(n);
            }
        }
    }

    /// One attempt: send, and decide the next step.
    async fn attempt(self, m: OutboundMessage) -> AttemptRecord {
        let result = self.sink.send(&m).await;
        let at = Timestamp::now();
        let next = self.next_step(&m, &result, at).await;
        match next {
            NextStep::Dead => {
                tracing::warn!(target = %self.target, delivery = %m.delivery_id, error = ?result.error, "delivery is a dead letter after its last retry")
            }
            NextStep::RetryAt(t) => {
                tracing::debug!(target = %self.target, delivery = %m.delivery_id, retry_at = %t, error = ?result.error, "delivery failed")
            }
            NextStep::Delivered => {
                tracing::debug!(target = %self.target, delivery = %m.delivery_id, "delivered")
            }
        }
        AttemptRecord {
            delivery_id: m.delivery_id,
            at,
            response_status: result.status,
            error: result.error,
            next,
        }
    }

    async fn next_step(&self, m: &OutboundMessage, r: &SendResult, at: Timestamp) -> NextStep {
        match r.kind {
            SendKind::Delivered => NextStep::Delivered,
            SendKind::Gone => {
                let reason = format!(
                    "HTTP 410 Gone answered to delivery {} at {at}",
                    m.delivery_id
                );
                tracing::warn!(target = %self.target, "subscriber answered 410 Gone: disabled until enabled again");
                if let Err(e) = self
                    .outbox
                    .set_target_disabled(&self.target, Some(reason), at)
                    .await
                {
                    tracing::error!(target = %self.target, error = %crate::error_chain::ErrorChain(&e), "could not disable the subscriber");
                }
                // Kept pending: sent once the subscriber is enabled again.
                NextStep::RetryAt(at)
            }
            SendKind::Failed => schedule::after_failure(
                &self.schedule,
                m.attempts + 1,
                r.retry_after,
                at,
                schedule::random_spread(),
            ),
        }
    }
}
