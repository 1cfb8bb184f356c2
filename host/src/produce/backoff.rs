//! Capped exponential backoff with jitter, for the two kinds of waiting the
//! producer does: after a transient failure (a timeout, a 5xx, a refused
//! connection) and after a rate-limit answer.
//!
//! The n-th wait is drawn uniformly from the upper half of
//! `min(cap, base * 2^n)`: never shorter than half the nominal wait, so the
//! API gets its rest, and spread so that several producers that failed
//! together do not retry together.

use std::time::Duration;

use rand::{Rng, RngExt};

/// After a transient failure: quick at first, a minute at most, since the
/// fault is usually brief and the data goes stale while we wait.
pub const TRANSIENT: Policy = Policy {
    base: Duration::from_secs(1),
    cap: Duration::from_secs(60),
};

/// After a rate-limit answer: the free tier's window is a minute, so the
/// first wait is a fair part of it, and the longest is five minutes.
pub const RATE_LIMIT: Policy = Policy {
    base: Duration::from_secs(15),
    cap: Duration::from_secs(300),
};

/// The first wait and the longest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    pub base: Duration,
    pub cap: Duration,
}

/// The waits of one run of failures.
#[derive(Debug, Clone)]
pub struct Backoff {
    policy: Policy,
    attempt: u32,
}

impl Backoff {
    pub fn new(policy: Policy) -> Backoff {
        Backoff { policy, attempt: 0 }
    }

    /// The nominal wait before the next retry, before jitter.
    pub fn ceiling(&self) -> Duration {
        let factor = 2u32.saturating_pow(self.attempt.min(16));
        self.policy.base.saturating_mul(factor).min(self.policy.cap)
    }

    /// The next wait, with jitter, and one more failure counted.
    pub fn next(&mut self, rng: &mut impl Rng) -> Duration {
        let ceiling = self.ceiling();
        self.attempt += 1;
        let half = ceiling / 2;
        half + Duration::from_nanos(rng.random_range(0..=half.as_nanos() as u64))
    }

    /// Starts over after a success.
    pub fn reset(&mut self) {
        self.attempt = 0;
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    use super::*;

    #[test]
    fn waits_double_within_jitter_bounds_up_to_the_cap() {
        let mut rng = StdRng::seed_from_u64(4);
        for seed in 0..50 {
            let mut rng2 = StdRng::seed_from_u64(seed);
            let mut backoff = Backoff::new(TRANSIENT);
            let waits: Vec<Duration> = (0..10).map(|_| backoff.next(&mut rng2)).collect();
            for (n, wait) in waits.iter().enumerate() {
                let nominal = (TRANSIENT.base * 2u32.pow(n as u32)).min(TRANSIENT.cap);
                assert!(*wait >= nominal / 2 && *wait <= nominal, "{n}: {wait:?}");
            }
        }

        let mut backoff = Backoff::new(RATE_LIMIT);
        for _ in 0..40 {
            assert!(backoff.next(&mut rng) <= RATE_LIMIT.cap);
        }
        backoff.reset();
        assert_eq!(backoff.ceiling(), RATE_LIMIT.base);
    }
}
