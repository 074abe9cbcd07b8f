//! Measuring one rule's condition now: the value, whether the condition
//! holds, and the words of its message.

use crate::config::{AlertRuleConfig, Condition};
use crate::storage::{AlertRecord, CallFilter, GroupBy, HealthQuery, Store, StoreError};
use jiff::Timestamp;
use std::time::Duration;

/// One rule measured.
#[derive(Debug, Clone, PartialEq)]
pub struct Measurement {
    /// Minutes silent, a fraction 0–1, or a count (the rule kind's unit).
    pub value: f64,
    /// The rule's threshold in the same unit.
    pub threshold: f64,
    /// Whether the condition holds now.
    pub holds: bool,
    /// Whether the rule may start firing now (`false` outside a
    /// `source_silent` rule's `active_hours`).
    pub may_fire: bool,
    /// What was measured, in words (`source `aliyun` silent for 12.5 min`).
    pub message: String,
}

/// Measures `rule` at `now`. `watching_since` is when evaluation started:
/// a source that never pushed counts as silent from then (or, when the
/// rule is firing already, from `firing`'s time less the rule's minutes,
/// so a restart does not resolve it). `all_targets`
/// are the configured targets (a `dead_deliveries` rule without
/// `subscriber` counts them all).
///
/// Errors: the store's.
pub async fn measure(
    store: &dyn Store,
    rule: &AlertRuleConfig,
    now: Timestamp,
    watching_since: Timestamp,
    firing: Option<&AlertRecord>,
    all_targets: &[String],
) -> Result<Measurement, StoreError> {
    let Some(condition) = &rule.condition else {
        return Err(StoreError::unavailable(format!(
            "alert `{}` was not validated",
            rule.name
        )));
    };
    let query =
        |since: Timestamp, sources: Vec<String>, targets: Vec<String>, total: bool| HealthQuery {
            sources,
            targets,
            since,
            with_total: total,
        };
    Ok(match condition {
        Condition::SourceSilent {
            source,
            silent_for,
            active,
        } => {
            let h = store
                .health(&query(now, vec![source.clone()], vec![], false))
                .await?;
            let last = h.last_push.first().and_then(|(_, at)| *at);
            let never_since = firing
                .map_or(watching_since, |a| a.fired_at - *silent_for)
                .min(watching_since);
            let from = last.unwrap_or(never_since);
            let silent_d = now.duration_since(from).unsigned_abs();
            let silent = minutes(silent_d);
            let threshold = minutes(*silent_for);
            let seen = match last {
                Some(t) => format!("last push {t}"),
                None => "never pushed".to_owned(),
            };
            Measurement {
                value: round2(silent),
                threshold,
                holds: silent > threshold,
                may_fire: active.as_ref().is_none_or(|a| a.contains(now)),
                message: format!(
                    "source `{source}` silent for {} ({seen}; threshold {})",
                    super::health::age(silent_d),
                    super::health::age(*silent_for)
                ),
            }
        }
        Condition::RejectedRate {
            above,
            window,
            min_receipts,
        } => {
            let since = now - *window;
            let h = store.health(&query(since, vec![], vec![], true)).await?;
            let total = h.total.unwrap_or(0);
            let rate = if total == 0 {
                0.0
            } else {
                h.rejected as f64 / total as f64
            };
            Measurement {
                value: round4(rate),
                threshold: *above,
                holds: total >= *min_receipts && rate > *above,
                may_fire: true,
                message: format!(
                    "{} of {total} receipts rejected in the last {} min ({:.1} %; threshold {:.1} %, at least {min_receipts} receipts)",
                    h.rejected,
                    minutes(*window),
                    rate * 100.0,
                    above * 100.0
                ),
            }
        }
        Condition::DeadDeliveries { above, subscriber } => {
            let targets = match subscriber {
                Some(s) => vec![s.clone()],
                None => all_targets.to_vec(),
            };
            let h = store.health(&query(now, vec![], targets, false)).await?;
            let dead: u64 = h.dead.iter().map(|(_, n)| n).sum();
            let of = subscriber
                .as_ref()
                .map_or("all subscribers".to_owned(), |s| {
                    format!("subscriber `{s}`")
                });
            Measurement {
                value: dead as f64,
                threshold: *above as f64,
                holds: dead > *above,
                may_fire: true,
                message: format!("{dead} dead deliveries of {of} (threshold {above})"),
            }
        }
        Condition::RecordingFailures {
            source,
            above,
            window,
        } => {
            let failing = store
                .recording_failures(source.as_deref(), now - *window)
                .await?;
            let of = source
                .as_ref()
                .map_or("all sources".to_owned(), |s| format!("source `{s}`"));
            Measurement {
                value: failing as f64,
                threshold: *above as f64,
                holds: failing > *above,
                may_fire: true,
                message: format!(
                    "{failing} recording downloads of {of} failed in the last {} min (threshold {above})",
                    minutes(*window)
                ),
            }
        }
        Condition::AnswerRate {
            task_id,
            vendor,
            below,
            window,
            min_calls,
        } => {
            let filter = CallFilter {
                task_id: task_id.clone(),
                vendor: *vendor,
                since: Some(now - *window),
                ..CallFilter::default()
            };
            let rows = store
                .stats(GroupBy::Vendor, &filter, &jiff::tz::TimeZone::UTC)
                .await?;
            // Calls still awaiting their report do not count against the rate.
            let calls: u64 = rows.iter().map(|r| r.calls - r.awaiting_report).sum();
            let answered: u64 = rows.iter().map(|r| r.answered).sum();
            let rate = if calls == 0 {
                0.0
            } else {
                answered as f64 / calls as f64
            };
            let what = match (task_id, vendor) {
                (Some(t), _) => format!("task `{t}`"),
                (None, Some(v)) => format!("vendor `{v}`"),
                (None, None) => "all calls".to_owned(),
            };
            Measurement {
                value: round4(rate),
                threshold: *below,
                holds: calls >= *min_calls && rate < *below,
                may_fire: true,
                message: format!(
                    "answer rate of {what}: {answered} of {calls} calls in the last {} min ({:.1} %; threshold {:.1} %, at least {min_calls} calls)",
                    minutes(*window),
                    rate * 100.0,
                    below * 100.0
                ),
            }
        }
    })
}

fn minutes(d: Duration) -> f64 {
    d.as_secs_f64() / 60.0
}
fn round2(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}
fn round4(v: f64) -> f64 {
    (v * 10_000.0).round() / 10_000.0
}
