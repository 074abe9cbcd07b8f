//! The background purge of `serve`: with `retention_days` set, a first
//! purge shortly after start, then one every `retention_interval`, each in
//! batches ([`super::purge_all`]), logged at info. It stops with the
//! service, between two batches.

use super::{purge_all, Purged, BATCH};
use crate::storage::purge::cutoff;
use crate::storage::Store;
use jiff::Timestamp;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// The longest wait before the first purge after start.
const FIRST_RUN: Duration = Duration::from_secs(5);

/// The running job.
pub struct RetentionJob {
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl RetentionJob {
    /// Starts purging what is older than `days` days from `store`, first
    /// after `min(5 s, interval)`, then every `interval`.
    pub fn start(store: Arc<dyn Store>, days: u32, interval: Duration) -> RetentionJob {
        let (stop, stopped) = watch::channel(false);
        super::describe();
        tracing::info!(
            retention_days = days,
            interval = ?interval,
            "retention: purging receipts, calls and finished events older than the window"
        );
        let task = tokio::spawn(run(store, days, interval, stopped));
        RetentionJob { stop, task }
    }

    /// Stops the job (a batch in progress is finished and committed) and
    /// waits for it.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

async fn run(
    store: Arc<dyn Store>,
    days: u32,
    interval: Duration,
    mut stopped: watch::Receiver<bool>,
) {
    let mut wait = FIRST_RUN.min(interval);
    loop {
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = stopped.changed() => return,
        }
        wait = interval;
        let cutoff = cutoff(Timestamp::now(), days);
        let flag = stopped.clone();
        let stop = move || *flag.borrow();
        match purge_all(&*store, cutoff, BATCH, &stop, &mut |_| {}).await {
            Ok(Purged::Done(n)) if n.total() > 0 => tracing::info!(
                calls = n.calls,
                receipts = n.receipts,
                events = n.events,
                %cutoff,
                "retention: purged rows older than the cutoff"
            ),
            Ok(Purged::Done(_)) => tracing::debug!(%cutoff, "retention: nothing to purge"),
            Ok(Purged::Busy(n)) => tracing::info!(
                calls = n.calls,
                receipts = n.receipts,
                events = n.events,
                "retention: another instance is purging; this one stops until its next run"
            ),
            Err(e) => tracing::warn!(
                error = %crate::error_chain::ErrorChain(&e),
                next_in = ?interval,
                "retention: purge failed; what was deleted before stays deleted"
            ),
        }
        if *stopped.borrow() {
            return;
        }
    }
}
