//! When a failed recording download is tried again, and when to stop:
//! the schedule is 1 min, 5 min, 15 min, 1 h, then every 3 h after each
//! failed attempt (each ±10%, so many links failing together do not come
//! back together), until the link's deadline ([`deadline`]): its signed
//! expiry read from the URL ([`url_expiry`]), or the give-up time.
//! The signatures understood are [`crate::domain::link_expiry`]'s.

pub use crate::domain::link_expiry::url_expiry;
use jiff::{SignedDuration, Timestamp};
use rand::Rng;
use std::time::Duration;

/// The wait after each failed attempt, in seconds: after the 1st, 2nd,
/// 3rd, 4th; every later one waits the last.
const WAITS_SECS: [i64; 5] = [60, 5 * 60, 15 * 60, 3600, 3 * 3600];

/// The jitter, as a fraction of the wait (±).
const JITTER: f64 = 0.10;

/// When to make the next attempt after `attempts_made` attempts failed
/// (0: none made yet, so `now`): `now` plus 1 min, 5 min, 15 min, 1 h,
/// then 3 h, each ±10% at random.
///
/// `None` when that time is at or after `deadline` (give up: the link has
/// expired or the give-up time has come).
pub fn next_attempt(attempts_made: u32, now: Timestamp, deadline: Timestamp) -> Option<Timestamp> {
    let jitter = rand::rng().random_range(-1.0..=1.0);
    next_attempt_jittered(attempts_made, now, deadline, jitter)
}

/// [`next_attempt`] with the jitter given: `jitter` in `-1.0..=1.0` scales
/// the ±10% (0.0: the plain schedule).
pub fn next_attempt_jittered(
    attempts_made: u32,
    now: Timestamp,
    deadline: Timestamp,
    jitter: f64,
) -> Option<Timestamp> {
    let at = if attempts_made == 0 {
        now
    } else {
        let index = usize::try_from(attempts_made - 1)
            .unwrap_or(usize::MAX)
            .min(WAITS_SECS.len() - 1);
        let wait_ms = WAITS_SECS[index] as f64 * 1000.0;
        let jittered = wait_ms * (1.0 + JITTER * jitter.clamp(-1.0, 1.0));
        now.checked_add(SignedDuration::from_millis(jittered.round() as i64))
            .ok()?
    };
    (at < deadline).then_some(at)
}

/// The time after which a recording link is not tried any more: the
/// URL's signed expiry ([`url_expiry`]) when it has one, but no later
/// than `received_at + give_up_after`; otherwise `received_at +
/// give_up_after` (saturating at the latest representable time).
///
/// An expiry before `received_at` (a link that arrived dead) is returned
/// as is: [`next_attempt`] then gives up at once, and the caller decides
/// whether one attempt is still worth making.
pub fn deadline(url: &str, received_at: Timestamp, give_up_after: Duration) -> Timestamp {
    let cap = SignedDuration::try_from(give_up_after)
        .ok()
        .and_then(|d| received_at.checked_add(d).ok())
        .unwrap_or(Timestamp::MAX);
    match url_expiry(url) {
        Some(expiry) => expiry.min(cap),
        None => cap,
    }
}

#[cfg(test)]
#[path = "retry_tests.rs"]
mod tests;
