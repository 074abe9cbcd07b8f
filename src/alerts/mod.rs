//! Alert rules (`[[alerts]]`, docs/alerts.md): evaluated by `serve` every
//! `alerts_interval`; a rule whose condition has held for `for_minutes`
//! fires (one `alerts` row, FIRING notifications), and resolves when it no
//! longer holds (RESOLVED notifications, once).
//!
//! The stored firing rows are the state: each evaluation reads them, so a
//! restart does not fire again, and on PostgreSQL several instances may
//! evaluate at once: the unique index on a rule's firing row lets only one
//! open it, and only the instance whose update resolves it notifies.
//! Debouncing (`for_minutes`) is kept in memory: after a restart a
//! condition must hold for `for_minutes` again.

pub mod health;
pub mod measure;
pub mod notify;

use crate::config::{AlertRuleConfig, Config};
use crate::storage::{AlertFilter, AlertRecord, AlertState, Store, StoreError};
use crate::telemetry::names;
use jiff::Timestamp;
use measure::Measurement;
use notify::Channel;
use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// The last measurement of each rule (for the `/alerts` page), by name.
pub type LastMeasured = Arc<RwLock<HashMap<String, (Timestamp, Measurement)>>>;

/// The running evaluator.
pub struct AlertJob {
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl AlertJob {
    /// Starts evaluating `config.alerts` every `config.alerts_interval`
    /// (the first evaluation at once), writing each rule's latest
    /// measurement into `last`.
    ///
    /// Errors: a channel that cannot be built (not expected after
    /// validation), as text.
    pub fn start(
        config: &Config,
        store: Arc<dyn Store>,
        last: LastMeasured,
    ) -> Result<AlertJob, String> {
        let channels = config
            .alert_channels
            .iter()
            .map(|c| Channel::new(c, config.allow_private_subscribers).map(Arc::new))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| format!("alert channel: {e}"))?;
        let mut evaluator = Evaluator {
            rules: config.alerts.clone(),
            channels,
            targets: config.target_names(),
            store,
            started: Timestamp::now(),
            pending: HashMap::new(),
            last,
        };
        let interval = config.alerts_interval;
        let (stop, mut stopped) = watch::channel(false);
        tracing::info!(
            rules = evaluator.rules.len(),
            channels = evaluator.channels.len(),
            ?interval,
            "alerts: evaluating rules"
        );
        let task = tokio::spawn(async move {
            loop {
                evaluator.tick(Timestamp::now()).await;
                tokio::select! {
                    _ = tokio::time::sleep(interval) => {}
                    _ = stopped.changed() => return,
                }
            }
        });
        Ok(AlertJob { stop, task })
    }

    /// Stops evaluating (an evaluation under way finishes first).
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

/// Evaluates the rules; owns the debounce state.
struct Evaluator {
    rules: Vec<AlertRuleConfig>,
    channels: Vec<Arc<Channel>>,
    targets: Vec<String>,
    store: Arc<dyn Store>,
    /// When evaluation started (a source that never pushed is silent since).
    started: Timestamp,
    /// Since when each rule's condition has held without firing yet.
    pending: HashMap<String, Timestamp>,
    last: LastMeasured,
}

/// The most firing alerts read per evaluation (one per rule).
const FIRING_LIMIT: usize = 10_000;

impl Evaluator {
    /// One evaluation of every rule at `now`; errors are logged.
    async fn tick(&mut self, now: Timestamp) {
        let firing = match self
            .store
            .list_alerts(&AlertFilter {
                state: Some(AlertState::Firing),
                limit: FIRING_LIMIT,
                ..AlertFilter::default()
            })
            .await
        {
            Ok(list) => list
                .into_iter()
                .map(|a| (a.rule.clone(), a))
                .collect::<HashMap<_, _>>(),
            Err(e) => {
                tracing::warn!(error = %crate::error_chain::ErrorChain(&e), "alerts: firing alerts not read; evaluation skipped");
                return;
            }
        };
        for rule in self.rules.clone() {
            if let Err(e) = self.evaluate(&rule, firing.get(&rule.name), now).await {
                tracing::warn!(rule = %rule.name, error = %crate::error_chain::ErrorChain(&e), "alerts: rule not evaluated");
            }
        }
        // Firings of rules no longer configured: resolved without notice.
        for (name, a) in &firing {
            if !self.rules.iter().any(|r| &r.name == name) {
                match self.store.resolve_alert(&a.id, now).await {
                    Ok(_) => {
                        tracing::info!(rule = %name, "alerts: rule no longer configured; its firing alert is resolved")
                    }
                    Err(e) => {
                        tracing::warn!(rule = %name, error = %crate::error_chain::ErrorChain(&e), "alerts: stale alert not resolved")
                    }
                }
            }
        }
    }

    async fn evaluate(
        &mut self,
        rule: &AlertRuleConfig,
        firing: Option<&AlertRecord>,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let m =
            measure::measure(&*self.store, rule, now, self.started, firing, &self.targets).await?;
        if let Ok(mut last) = self.last.write() {
            last.insert(rule.name.clone(), (now, m.clone()));
        }
        let mut is_firing = firing.is_some();
        match (m.holds, firing) {
            (true, Some(_)) => {}
            (true, None) if !m.may_fire => {
                self.pending.remove(&rule.name);
            }
            (true, None) => {
                let since = *self.pending.entry(rule.name.clone()).or_insert(now);
                let held = now.duration_since(since).as_secs_f64();
                if held >= rule.for_minutes * 60.0 {
                    self.pending.remove(&rule.name);
                    is_firing = self.fire(rule, &m, now).await?;
                }
            }
            (false, Some(a)) => {
                self.pending.remove(&rule.name);
                if self.store.resolve_alert(&a.id, now).await? {
                    tracing::info!(rule = %rule.name, message = %m.message, "alert resolved");
                    let mut resolved = a.clone();
                    resolved.state = AlertState::Resolved;
                    resolved.resolved_at = Some(now);
                    resolved.value = m.value;
                    notify::spawn(
                        self.store.clone(),
                        self.channels_of(rule),
                        resolved,
                        m.message.clone(),
                    );
                }
                is_firing = false;
            }
            (false, None) => {
                self.pending.remove(&rule.name);
            }
        }
        metrics::gauge!(names::ALERTS_FIRING, "rule" => rule.name.clone()).set(if is_firing {
            1.0
        } else {
            0.0
        });
        Ok(())
    }

    /// Opens `rule`'s firing and notifies: `true` when it is firing now
    /// (opened here, or by another instance first).
    async fn fire(
        &self,
        rule: &AlertRuleConfig,
        m: &Measurement,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        let alert = AlertRecord {
            id: crate::storage::alerts::new_alert_id(now),
            rule: rule.name.clone(),
            kind: rule.kind.as_str().to_owned(),
            state: AlertState::Firing,
            value: m.value,
            threshold: m.threshold,
            message: m.message.clone(),
            fired_at: now,
            resolved_at: None,
            notified: Default::default(),
        };
        if self.store.open_alert(&alert).await? {
            tracing::warn!(rule = %rule.name, message = %m.message, "alert firing");
            notify::spawn(
                self.store.clone(),
                self.channels_of(rule),
                alert,
                m.message.clone(),
            );
        }
        Ok(true)
    }

    /// The channels `rule` notifies: its `channels`, or all.
    fn channels_of(&self, rule: &AlertRuleConfig) -> Vec<Arc<Channel>> {
        self.channels
            .iter()
            .filter(|c| rule.channels.as_ref().is_none_or(|l| l.contains(&c.name)))
            .cloned()
            .collect()
    }
}

/// How often the health strip's figures are read: every
/// [`health::MAX_AGE`], or every `alerts_interval` when that is shorter.
pub fn refresh_every(config: &Config) -> Duration {
    config.alerts_interval.min(health::MAX_AGE)
}
