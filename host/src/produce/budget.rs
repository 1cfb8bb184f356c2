//! The request budget that every symbol of a producer shares: at most
//! `per-minute` requests in any 60 seconds and `per-day` in any 24 hours,
//! and at least `min-gap` between two requests (the free tier allows one
//! a second), kept before the API has to say so.
//!
//! The windows slide (a request counts for exactly a minute and a day after
//! it was sent), which is never looser than the API's own accounting. The
//! budget lives in the process: a restart forgets the day's requests, so
//! a producer restarted often can still meet the API's daily limit, and
//! then backs off on the rate-limit answer like any other.

use std::collections::VecDeque;
use std::time::Duration;

use super::clock::Clock;

const MINUTE: Duration = Duration::from_secs(60);
const DAY: Duration = Duration::from_secs(24 * 60 * 60);

/// Requests sent in the last day, by the clock's time.
#[derive(Debug)]
pub struct Budget {
    per_minute: usize,
    per_day: usize,
    min_gap: Duration,
    sent: VecDeque<Duration>,
}

impl Budget {
    /// A budget of `per_minute` and `per_day` requests (both at least 1),
    /// sent at least `min_gap` apart.
    pub fn new(per_minute: u32, per_day: u32, min_gap: Duration) -> Budget {
        Budget {
            per_minute: per_minute.max(1) as usize,
            per_day: per_day.max(1) as usize,
            min_gap,
            sent: VecDeque::new(),
        }
    }

    /// How long from `now` until a request may be sent.
    pub fn wait(&mut self, now: Duration) -> Duration {
        while self.sent.front().is_some_and(|&t| now >= t + DAY) {
            self.sent.pop_front();
        }
        let mut wait = Duration::ZERO;
        if let Some(&last) = self.sent.back() {
            wait = (last + self.min_gap).saturating_sub(now);
        }
        let in_minute = self
            .sent
            .iter()
            .rev()
            .take_while(|&&t| now < t + MINUTE)
            .count();
        if in_minute >= self.per_minute {
            let oldest = self.sent[self.sent.len() - self.per_minute];
            wait = wait.max(oldest + MINUTE - now);
        }
        if self.sent.len() >= self.per_day {
            let oldest = self.sent[self.sent.len() - self.per_day];
            wait = wait.max(oldest + DAY - now);
        }
        wait
    }

    /// Waits until a request may be sent, and counts it as sent; how long
    /// it waited, for the caller to tell whether that was long.
    pub async fn acquire(&mut self, clock: &dyn Clock) -> Duration {
        let start = clock.now();
        loop {
            let wait = self.wait(clock.now());
            if wait.is_zero() {
                break;
            }
            tracing::debug!(
                wait_ms = wait.as_millis() as u64,
                "request budget spent; waiting"
            );
            clock.sleep(wait).await;
        }
        let now = clock.now();
        self.sent.push_back(now);
        now.saturating_sub(start)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::produce::clock::FakeClock;

    #[tokio::test]
    async fn the_per_minute_limit_spaces_requests_before_the_api_complains() {
        let clock = FakeClock::default();
        let mut budget = Budget::new(5, 100, Duration::ZERO);

        for _ in 0..12 {
            budget.acquire(&clock).await;
        }

        // Five at once, then a wait of a minute for the next five, and so on.
        assert_eq!(clock.sleeps(), [MINUTE, MINUTE]);
        assert_eq!(clock.now(), 2 * MINUTE);
    }

    #[tokio::test]
    async fn the_per_day_limit_holds_across_minutes() {
        let clock = FakeClock::default();
        let mut budget = Budget::new(5, 7, Duration::ZERO);

        let waits: Vec<Duration> = {
            let mut waits = Vec::new();
            for _ in 0..8 {
                waits.push(budget.acquire(&clock).await);
            }
            waits
        };

        // 5 at 0s, 2 at 60s, then the 8th waits until the 1st is a day old.
        assert_eq!(clock.sleeps(), [MINUTE, DAY - MINUTE]);
        assert_eq!(waits[5], MINUTE, "acquire tells how long it waited");
        assert_eq!(waits[7], DAY - MINUTE);
        assert!(waits[..5].iter().all(|w| w.is_zero()));
    }

    #[tokio::test]
    async fn requests_go_out_at_least_the_minimum_gap_apart() {
        let clock = FakeClock::default();
        let gap = Duration::from_secs(1);
        let mut budget = Budget::new(5, 100, gap);

        for _ in 0..3 {
            budget.acquire(&clock).await;
        }
        // Work that took longer than the gap leaves nothing to wait; work
        // that took part of it leaves the rest.
        clock.advance(Duration::from_millis(1_500));
        budget.acquire(&clock).await;
        clock.advance(Duration::from_millis(400));
        budget.acquire(&clock).await;

        assert_eq!(clock.sleeps(), [gap, gap, Duration::from_millis(600)]);
        // The per-minute limit still holds on top of the gap: the sixth
        // request waits for the first to be a minute old.
        budget.acquire(&clock).await;
        assert_eq!(clock.now(), MINUTE);
    }

    #[test]
    fn requests_spread_out_need_no_wait() {
        let mut budget = Budget::new(2, 100, Duration::from_secs(1));
        budget.sent.push_back(Duration::ZERO);
        budget.sent.push_back(Duration::from_secs(30));

        assert_eq!(
            budget.wait(Duration::from_secs(45)),
            Duration::from_secs(15)
        );
        assert_eq!(budget.wait(Duration::from_secs(61)), Duration::ZERO);
    }
}
