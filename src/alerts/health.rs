//! The dashboard's health strip: [`crate::storage::Store::health`] read
//! by a background task every few seconds ([`MAX_AGE`], or
//! `alerts_interval` when shorter) into a [`HealthCache`], so a page load
//! never waits for it.

use crate::config::Config;
use crate::storage::{HealthQuery, Store};
use jiff::Timestamp;
use std::sync::{Arc, RwLock};
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// The longest the strip's figures are kept before they are read again.
pub const MAX_AGE: Duration = Duration::from_secs(5);

/// What the strip shows, as read at `read_at`.
#[derive(Debug, Clone, PartialEq)]
pub struct HealthStrip {
    pub read_at: Timestamp,
    /// The start of the day counted (UTC midnight for now).
    pub day_start: Timestamp,
    /// Each configured source and its last push.
    pub sources: Vec<(String, Option<Timestamp>)>,
    pub rejected: u64,
    pub partial: u64,
    pub pending: u64,
    pub oldest_pending_at: Option<Timestamp>,
    pub dead: u64,
    pub firing: u64,
}

impl HealthStrip {
    /// Each source that has pushed and how long ago (`"3 min ago"`), most
    /// recent first.
    pub fn source_ages(&self) -> Vec<(String, String)> {
        let now = Timestamp::now();
        let mut pushed: Vec<(&String, Timestamp)> = self
            .sources
            .iter()
            .filter_map(|(s, at)| at.map(|t| (s, t)))
            .collect();
        pushed.sort_by_key(|p| std::cmp::Reverse(p.1));
        pushed
            .into_iter()
            .map(|(s, t)| (s.clone(), ago(now, t)))
            .collect()
    }

    /// The sources that never pushed, comma-separated (`""` when none):
    /// shown as one "N never" part so that unused built-in sources do not
    /// fill the line.
    pub fn never_pushed(&self) -> (usize, String) {
        let never: Vec<&str> = self
            .sources
            .iter()
            .filter(|(_, at)| at.is_none())
            .map(|(s, _)| s.as_str())
            .collect();
        (never.len(), never.join(", "))
    }

    /// The age of the oldest pending receipt (`"12 s"`), if any.
    pub fn oldest_age(&self) -> Option<String> {
        self.oldest_pending_at
            .map(|t| age(Timestamp::now().duration_since(t).unsigned_abs()))
    }
}

/// `"just now"`, `"42 s ago"`, `"3 min ago"`, `"5 h ago"`, `"2 d ago"`.
pub fn ago(now: Timestamp, at: Timestamp) -> String {
    let d = now.duration_since(at);
    if d.as_secs() < 1 {
        return "just now".into();
    }
    format!("{} ago", age(d.unsigned_abs()))
}

/// A duration in its largest whole unit: `"42 s"`, `"3 min"`, `"5 h"`, `"2 d"`.
pub fn age(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        0..60 => format!("{s} s"),
        60..3600 => format!("{} min", s / 60),
        3600..86_400 => format!("{} h", s / 3600),
        _ => format!("{} d", s / 86_400),
    }
}

/// The latest strip, shared by the pages.
#[derive(Debug, Default)]
pub struct HealthCache(RwLock<Option<Arc<HealthStrip>>>);

impl HealthCache {
    /// The latest figures (`None` before the first read).
    pub fn current(&self) -> Option<Arc<HealthStrip>> {
        self.0.read().ok().and_then(|g| g.clone())
    }

    /// Reads the figures now, counting receipts from `day_start` on.
    ///
    /// Errors: the store's, as text (the previous figures stay).
    pub async fn refresh(
        &self,
        store: &dyn Store,
        config: &Config,
        day_start: Timestamp,
    ) -> Result<(), String> {
        let query = HealthQuery {
            sources: config.sources.iter().map(|s| s.name.clone()).collect(),
            targets: config.target_names(),
            since: day_start,
            with_total: false,
        };
        let h = store.health(&query).await.map_err(|e| e.to_string())?;
        let strip = HealthStrip {
            read_at: Timestamp::now(),
            day_start,
            sources: h.last_push,
            rejected: h.rejected,
            partial: h.partial,
            pending: h.lag.pending_receipts,
            oldest_pending_at: h.lag.oldest_pending_at,
            dead: h.dead.iter().map(|(_, n)| n).sum(),
            firing: h.firing,
        };
        if let Ok(mut g) = self.0.write() {
            *g = Some(Arc::new(strip));
        }
        Ok(())
    }
}

/// The start of the UTC day of `now`.
pub fn utc_day_start(now: Timestamp) -> Timestamp {
    let secs = now.as_second();
    Timestamp::from_second(secs - secs.rem_euclid(86_400)).unwrap_or(now)
}

/// Where the strip's "today" starts for an instant: UTC midnight
/// ([`utc_day_start`]) or a display time zone's.
pub type DayStart = Arc<dyn Fn(Timestamp) -> Timestamp + Send + Sync>;

/// The background reader of the strip's figures.
pub struct HealthRefresher {
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl HealthRefresher {
    /// Reads the figures into `cache` at once, then every `every`,
    /// counting the day's receipts from `day_start(now)` ([`utc_day_start`],
    /// or the display time zone's midnight).
    pub fn start(
        cache: Arc<HealthCache>,
        store: Arc<dyn Store>,
        config: Arc<Config>,
        every: Duration,
        day_start: DayStart,
    ) -> HealthRefresher {
        let (stop, mut stopped) = watch::channel(false);
        let task = tokio::spawn(async move {
            loop {
                let now = Timestamp::now();
                if let Err(e) = cache.refresh(&*store, &config, day_start(now)).await {
                    tracing::debug!(error = %e, "health strip not refreshed");
                }
                tokio::select! {
                    _ = tokio::time::sleep(every) => {}
                    _ = stopped.changed() => return,
                }
            }
        });
        HealthRefresher { stop, task }
    }

    /// Stops the task and waits for it.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_read_in_their_largest_unit() {
        let now: Timestamp = "2026-03-01T12:00:00Z".parse().unwrap();
        let at = |s: i64| now - jiff::SignedDuration::from_secs(s);
        assert_eq!(ago(now, now), "just now");
        assert_eq!(ago(now, at(42)), "42 s ago");
        assert_eq!(ago(now, at(180)), "3 min ago");
        assert_eq!(ago(now, at(5 * 3600 + 10)), "5 h ago");
        assert_eq!(ago(now, at(2 * 86_400)), "2 d ago");
    }

    #[test]
    fn the_day_starts_at_utc_midnight() {
        let now: Timestamp = "2026-03-01T12:34:56Z".parse().unwrap();
        assert_eq!(
            utc_day_start(now),
            "2026-03-01T00:00:00Z".parse::<Timestamp>().unwrap()
        );
    }
}
