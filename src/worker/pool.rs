//! [`Workers`]: a dispatcher per outbound target, started with the service
//! and stopped after it stops taking pushes.

use super::dispatch::Dispatcher;
use super::webhook::WebhookSink;
use super::Sink;
use crate::config::{Config, NATS_TARGET};
use crate::storage::{Outbox, StoreError};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// Extra lease beyond a target's request timeout: a claimed delivery is
/// never claimed again while its attempt can still be running (and being
/// recorded). After an instance dies, its deliveries in flight are taken
/// over by another instance this long after their timeout.
const LEASE_MARGIN: Duration = Duration::from_secs(5);

/// Why the workers could not start.
#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    #[error("subscriber `{name}`: {source}")]
    Webhook {
        name: String,
        #[source]
        source: super::webhook::WebhookError,
    },
    #[error("[nats]: {0}")]
    Nats(#[from] super::nats::NatsError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The running dispatchers.
pub struct Workers {
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl Workers {
    /// Starts one dispatcher per subscriber and one for `[nats]`. Leases
    /// left by a previous process are released first (the SQLite store
    /// belongs to one process), so what was in flight when it stopped is
    /// due at once.
    ///
    /// Errors: [`WorkerError`] for a sink that cannot be built (a bad
    /// secret) or an outbox that cannot be written. `outbox` is the store
    /// (`Arc<dyn Store>` coerces to it).
    pub async fn start(config: &Config, outbox: Arc<dyn Outbox>) -> Result<Workers, WorkerError> {
        let (stop, stopped) = watch::channel(false);
        let mut dispatchers = Vec::new();
        for s in &config.subscribers {
            let sink = WebhookSink::new(s, config.allow_private_subscribers).map_err(|source| {
                WorkerError::Webhook {
                    name: s.name.clone(),
                    source,
                }
            })?;
            dispatchers.push(Dispatcher {
                outbox: outbox.clone(),
                target: s.name.clone(),
                sink: Arc::new(sink) as Arc<dyn Sink>,
                schedule: Arc::new(s.retry_schedule.clone()),
                max_in_flight: s.max_in_flight,
                lease: s.timeout + LEASE_MARGIN,
            });
        }
        if let Some(n) = &config.nats {
            let sink = super::nats::connect(n).await?;
            dispatchers.push(Dispatcher {
                outbox: outbox.clone(),
                target: NATS_TARGET.to_owned(),
                sink: Arc::new(sink) as Arc<dyn Sink>,
                schedule: Arc::new(n.retry_schedule.clone()),
                max_in_flight: 64,
                lease: n.timeout + LEASE_MARGIN,
            });
        }
        if !dispatchers.is_empty() {
            let released = outbox.release_leases().await?;
            if released > 0 {
                tracing::info!(
                    released,
                    "deliveries in flight when callhook last stopped are due again"
                );
            }
        }
        let tasks = dispatchers
            .into_iter()
            .map(|d| {
                tracing::info!(target = %d.target, "outbound dispatcher started");
                tokio::spawn(d.run(stopped.clone()))
            })
            .collect();
        Ok(Workers { stop, tasks })
    }

    /// Stops claiming, lets the attempts in flight finish and be recorded,
    /// and waits for every dispatcher.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        for t in self.tasks {
            let _ = t.await;
        }
    }
}
