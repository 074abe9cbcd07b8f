//! Measuring one rule's condition now: the value, whether the condition
//! holds, and the words of its message.

use crate::config::alerts::ActiveHours;
use crate::config::{AlertRuleConfig, Condition};
use crate::domain::Vendor;
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
    match condition {
        Condition::SourceSilent {
            source,
            silent_for,
            active,
        } => {
            let fired_at = firing.map(|a| a.fired_at);
            let never_since = never_pushed_since(watching_since, fired_at, *silent_for);
            source_silent(
                store,
                now,
                source,
                *silent_for,
                active.as_ref(),
                never_since,
            )
            .await
        }
        Condition::RejectedRate {
            above,
            window,
            min_receipts,
        } => rejected_rate(store, now, *window, *above, *min_receipts).await,
        Condition::DeadDeliveries { above, subscriber } => {
            dead_deliveries(store, now, subscriber.as_deref(), all_targets, *above).await
        }
        Condition::RecordingFailures {
            source,
            above,
            window,
        } => recording_failures(store, now, source.as_deref(), *window, *above).await,
        Condition::AnswerRate {
            task_id,
            vendor,
            below,
            window,
            min_calls,
        } => {
            let filter = calls_watched(task_id.as_deref(), *vendor, now - *window);
            answer_rate(store, &filter, *window, *below, *min_calls).await
        }
    }
}

/// When a source that never pushed started being silent: `watching_since`,
/// or, for a rule that fired at `fired_at` and still fires, `silent_for`
/// before then when that is earlier (so a restart does not resolve it).
fn never_pushed_since(
    watching_since: Timestamp,
    fired_at: Option<Timestamp>,
    silent_for: Duration,
) -> Timestamp {
    fired_at
        .map_or(watching_since, |at| at - silent_for)
        .min(watching_since)
}

/// `source_silent`: minutes since `source`'s last push (or since
/// `never_since` when it never pushed) against `silent_for`; it may fire
/// only inside `active` hours.
async fn source_silent(
    store: &dyn Store,
    now: Timestamp,
    source: &str,
    silent_for: Duration,
    active: Option<&ActiveHours>,
    never_since: Timestamp,
) -> Result<Measurement, StoreError> {
    let h = store
        .health(&health_query(now, vec![source.to_owned()], vec![], false))
        .await?;
    let last = h.last_push.first().and_then(|(_, at)| *at);
    let silent_d = now
        .duration_since(last.unwrap_or(never_since))
        .unsigned_abs();
    let silent = minutes(silent_d);
    let threshold = minutes(silent_for);
    let seen = match last {
        Some(t) => format!("last push {t}"),
        None => "never pushed".to_owned(),
    };
    Ok(Measurement {
        value: round2(silent),
        threshold,
        holds: silent > threshold,
        may_fire: active.is_none_or(|a| a.contains(now)),
        message: format!(
            "source `{source}` silent for {} ({seen}; threshold {})",
            super::health::age(silent_d),
            super::health::age(silent_for)
        ),
    })
}

/// `rejected_rate`: the fraction of receipts rejected in the last `window`,
/// against `above`, once there are `min_receipts`.
async fn rejected_rate(
    store: &dyn Store,
    now: Timestamp,
    window: Duration,
    above: f64,
    min_receipts: u64,
) -> Result<Measurement, StoreError> {
    let h = store
        .health(&health_query(now - window, vec![], vec![], true))
        .await?;
    let total = h.total.unwrap_or(0);
    let rate = ratio(h.rejected, total);
    Ok(Measurement {
        value: round4(rate),
        threshold: above,
        holds: total >= min_receipts && rate > above,
        may_fire: true,
        message: format!(
            "{} of {total} receipts rejected in the last {} min ({:.1} %; threshold {:.1} %, at least {min_receipts} receipts)",
            h.rejected,
            minutes(window),
            rate * 100.0,
            above * 100.0
        ),
    })
}

/// `dead_deliveries`: the dead deliveries of `subscriber` (or of all
/// `all_targets`) against `above`.
async fn dead_deliveries(
    store: &dyn Store,
    now: Timestamp,
    subscriber: Option<&str>,
    all_targets: &[String],
    above: u64,
) -> Result<Measurement, StoreError> {
    let targets = match subscriber {
        Some(s) => vec![s.to_owned()],
        None => all_targets.to_vec(),
    };
    let h = store
        .health(&health_query(now, vec![], targets, false))
        .await?;
    let dead: u64 = h.dead.iter().map(|(_, n)| n).sum();
    let of = subscriber.map_or("all subscribers".to_owned(), |s| {
        format!("subscriber `{s}`")
    });
    Ok(Measurement {
        value: dead as f64,
        threshold: above as f64,
        holds: dead > above,
        may_fire: true,
        message: format!("{dead} dead deliveries of {of} (threshold {above})"),
    })
}

/// `recording_failures`: the recording downloads of `source` (or of all
/// sources) that failed in the last `window`, against `above`.
async fn recording_failures(
    store: &dyn Store,
    now: Timestamp,
    source: Option<&str>,
    window: Duration,
    above: u64,
) -> Result<Measurement, StoreError> {
    let failing = store.recording_failures(source, now - window).await?;
    let of = source.map_or("all sources".to_owned(), |s| format!("source `{s}`"));
    Ok(Measurement {
        value: failing as f64,
        threshold: above as f64,
        holds: failing > above,
        may_fire: true,
        message: format!(
            "{failing} recording downloads of {of} failed in the last {} min (threshold {above})",
            minutes(window)
        ),
    })
}

/// `answer_rate`: the fraction of the calls `filter` selects (its task or
/// vendor, over the last `window`) that were answered, against `below`,
/// once there are `min_calls`.
async fn answer_rate(
    store: &dyn Store,
    filter: &CallFilter,
    window: Duration,
    below: f64,
    min_calls: u64,
) -> Result<Measurement, StoreError> {
    let rows = store
        .stats(GroupBy::Vendor, filter, &jiff::tz::TimeZone::UTC)
        .await?;
    // Calls still awaiting their report do not count against the rate.
    let calls: u64 = rows.iter().map(|r| r.calls - r.awaiting_report).sum();
    let answered: u64 = rows.iter().map(|r| r.answered).sum();
    let rate = ratio(answered, calls);
    Ok(Measurement {
        value: round4(rate),
        threshold: below,
        holds: calls >= min_calls && rate < below,
        may_fire: true,
        message: format!(
            "answer rate of {}: {answered} of {calls} calls in the last {} min ({:.1} %; threshold {:.1} %, at least {min_calls} calls)",
            calls_of(filter),
            minutes(window),
            rate * 100.0,
            below * 100.0
        ),
    })
}

/// The calls an `answer_rate` rule watches: those of `task_id` (or of
/// `vendor`) started since `since`.
fn calls_watched(task_id: Option<&str>, vendor: Option<Vendor>, since: Timestamp) -> CallFilter {
    CallFilter {
        task_id: task_id.map(str::to_owned),
        vendor,
        since: Some(since),
        ..CallFilter::default()
    }
}

/// The calls an `answer_rate` rule watches, in words (`task `t1``).
fn calls_of(filter: &CallFilter) -> String {
    match (&filter.task_id, filter.vendor) {
        (Some(t), _) => format!("task `{t}`"),
        (None, Some(v)) => format!("vendor `{v}`"),
        (None, None) => "all calls".to_owned(),
    }
}

fn health_query(
    since: Timestamp,
    sources: Vec<String>,
    targets: Vec<String>,
    with_total: bool,
) -> HealthQuery {
    HealthQuery {
        sources,
        targets,
        since,
        with_total,
    }
}

/// `part / whole`, 0 when `whole` is 0.
fn ratio(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn a_source_that_never_pushed_is_silent_from_the_earlier_of_start_and_firing() {
        let started = at("2026-03-02T10:00:00Z");
        let ten_min = Duration::from_secs(600);
        assert_eq!(never_pushed_since(started, None, ten_min), started);
        // Firing since before the restart: silent from `silent_for` before it fired.
        let fired = at("2026-03-02T09:00:00Z");
        assert_eq!(
            never_pushed_since(started, Some(fired), ten_min),
            at("2026-03-02T08:50:00Z")
        );
        // Fired after the start (no restart): the start is earlier.
        let fired = at("2026-03-02T10:30:00Z");
        assert_eq!(never_pushed_since(started, Some(fired), ten_min), started);
    }

    #[test]
    fn a_ratio_of_nothing_is_zero() {
        assert_eq!(ratio(0, 0), 0.0);
        assert_eq!(ratio(5, 0), 0.0);
        assert_eq!(ratio(1, 4), 0.25);
    }

    #[test]
    fn the_calls_of_a_rule_are_named_by_task_then_vendor() {
        let mut f = CallFilter::default();
        assert_eq!(calls_of(&f), "all calls");
        f.vendor = Some(Vendor::Vapi);
        assert_eq!(calls_of(&f), "vendor `vapi`");
        f.task_id = Some("t1".into());
        assert_eq!(calls_of(&f), "task `t1`");
    }
}
