//! Per-source rate limits (`rate_limit` pushes per second, `rate_limit_burst`
//! at once) with `governor`'s GCRA. A push over its source's rate is
//! answered 429 with `Retry-After` before its body is read: nothing is
//! stored, and the vendor retries it. The limits are per instance.

use crate::config::Config;
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use std::collections::HashMap;
use std::num::NonZeroU32;
use std::time::Duration;

/// The limiter of each source that has a `rate_limit`.
#[derive(Default)]
pub struct RateLimits(HashMap<String, DefaultDirectRateLimiter>);

impl RateLimits {
    /// The limiters of `config`'s sources (validated: rates are > 0).
    pub fn new(config: &Config) -> RateLimits {
        let limiters = config
            .sources
            .iter()
            .filter_map(|s| {
                let rate = NonZeroU32::new(s.rate_limit?)?;
                let burst = s.rate_limit_burst.and_then(NonZeroU32::new).unwrap_or(rate);
                let quota = Quota::per_second(rate).allow_burst(burst);
                Some((s.name.clone(), RateLimiter::direct(quota)))
            })
            .collect();
        RateLimits(limiters)
    }

    /// Takes one push of `source`; `Err` with how long until one is allowed.
    pub fn check(&self, source: &str) -> Result<(), Duration> {
        let Some(limiter) = self.0.get(source) else {
            return Ok(());
        };
        limiter.check().map_err(|not_until| {
            not_until.wait_time_from(governor::clock::Clock::now(
                &governor::clock::DefaultClock::default(),
            ))
        })
    }
}

/// A `Retry-After` in whole seconds, at least 1.
pub fn retry_after_seconds(wait: Duration) -> u64 {
    wait.as_secs_f64().ceil().max(1.0) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_source_gets_its_burst_then_waits() {
        let mut config = Config::defaults();
        config.sources[0].rate_limit = Some(1);
        config.sources[0].rate_limit_burst = Some(3);
        let name = config.sources[0].name.clone();
        let other = config.sources[1].name.clone();
        let limits = RateLimits::new(&config);
        for _ in 0..3 {
            assert!(limits.check(&name).is_ok());
        }
        let wait = limits.check(&name).unwrap_err();
        assert!(wait <= Duration::from_secs(1), "{wait:?}");
        assert_eq!(retry_after_seconds(wait), 1);
        for _ in 0..100 {
            assert!(limits.check(&other).is_ok(), "no limit configured");
        }
    }
}
