//! The retry schedule: when a failed delivery is tried again, and when it
//! becomes a dead letter (docs/http-contract.md).

use crate::storage::NextStep;
use jiff::Timestamp;
use std::time::Duration;

/// How far each delay is spread: ±20 %, so deliveries that failed together
/// (a subscriber's outage) do not all come back in the same instant.
pub const JITTER: f64 = 0.2;

/// Where a delivery goes after its `attempts_made`-th attempt (counting
/// this one, from 1) failed at `now`.
///
/// `schedule[i]` is the delay before attempt `i + 2`; after attempt
/// `schedule.len() + 1` the delivery is [`NextStep::Dead`]. The delay is
/// scaled by `1 + spread` (`spread` in `-JITTER..=JITTER`, drawn by the
/// caller), and never shorter than the response's `Retry-After`.
pub fn after_failure(
    schedule: &[Duration],
    attempts_made: u32,
    retry_after: Option<Duration>,
    now: Timestamp,
    spread: f64,
) -> NextStep {
    let Some(base) = (attempts_made as usize)
        .checked_sub(1)
        .and_then(|i| schedule.get(i))
    else {
        return NextStep::Dead;
    };
    let spread = spread.clamp(-JITTER, JITTER);
    let mut delay = base.mul_f64(1.0 + spread);
    if let Some(floor) = retry_after {
        delay = delay.max(floor);
    }
    let delay = jiff::SignedDuration::try_from(delay).unwrap_or(jiff::SignedDuration::MAX);
    NextStep::RetryAt(now.saturating_add(delay).unwrap_or(Timestamp::MAX))
}

/// A random spread in `-JITTER..=JITTER`.
pub fn random_spread() -> f64 {
    rand::random_range(-JITTER..=JITTER)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(ms: i64) -> Timestamp {
        Timestamp::from_millisecond(ms).unwrap()
    }

    #[test]
    fn each_failure_waits_its_scheduled_delay_then_the_delivery_is_dead() {
        let schedule = [Duration::from_secs(5), Duration::from_secs(300)];
        let now = at(1_000_000);
        assert_eq!(
            after_failure(&schedule, 1, None, now, 0.0),
            NextStep::RetryAt(at(1_005_000))
        );
        assert_eq!(
            after_failure(&schedule, 2, None, now, 0.0),
            NextStep::RetryAt(at(1_300_000))
        );
        assert_eq!(after_failure(&schedule, 3, None, now, 0.0), NextStep::Dead);
        assert_eq!(after_failure(&[], 1, None, now, 0.0), NextStep::Dead);
    }

    #[test]
    fn jitter_spreads_by_at_most_twenty_percent_and_retry_after_is_a_floor() {
        let schedule = [Duration::from_secs(10)];
        let now = at(0);
        assert_eq!(
            after_failure(&schedule, 1, None, now, 0.2),
            NextStep::RetryAt(at(12_000))
        );
        assert_eq!(
            after_failure(&schedule, 1, None, now, -0.9),
            NextStep::RetryAt(at(8_000))
        );
        let later = after_failure(&schedule, 1, Some(Duration::from_secs(60)), now, 0.1);
        assert_eq!(later, NextStep::RetryAt(at(60_000)));
        let sooner = after_failure(&schedule, 1, Some(Duration::from_secs(1)), now, 0.0);
        assert_eq!(sooner, NextStep::RetryAt(at(10_000)));
        for _ in 0..1000 {
            let s = random_spread();
            assert!((-JITTER..=JITTER).contains(&s));
        }
    }
}
