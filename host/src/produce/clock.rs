//! Time as the producer and replay see it: a clock that tells how long it
//! has run and can sleep. Pacing, budgets and backoff are written against
//! [`Clock`], so tests drive them with [`FakeClock`], which jumps instead
//! of sleeping, and assert on the sleeps without waiting for them.

use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use tokio::time::Instant;

/// A monotonic clock that can sleep.
#[async_trait]
pub trait Clock: Send + Sync {
    /// Time since the clock started.
    fn now(&self) -> Duration;
    /// Waits for `duration`.
    async fn sleep(&self, duration: Duration);
}

/// The real clock: tokio's, so that sleeps are timers, not threads.
#[derive(Debug)]
pub struct SystemClock {
    start: Instant,
}

impl Default for SystemClock {
    fn default() -> Self {
        SystemClock {
            start: Instant::now(),
        }
    }
}

#[async_trait]
impl Clock for SystemClock {
    fn now(&self) -> Duration {
        self.start.elapsed()
    }

    async fn sleep(&self, duration: Duration) {
        tokio::time::sleep(duration).await;
    }
}

/// A clock for tests: sleeping moves it forward at once, and every sleep is
/// recorded.
#[derive(Debug, Default)]
pub struct FakeClock {
    now: Mutex<Duration>,
    sleeps: Mutex<Vec<Duration>>,
}

impl FakeClock {
    /// The sleeps asked for so far, in order.
    pub fn sleeps(&self) -> Vec<Duration> {
        self.sleeps.lock().expect("clock lock").clone()
    }

    /// Moves the clock forward without a sleep, as work taking time would.
    pub fn advance(&self, duration: Duration) {
        *self.now.lock().expect("clock lock") += duration;
    }
}

#[async_trait]
impl Clock for FakeClock {
    fn now(&self) -> Duration {
        *self.now.lock().expect("clock lock")
    }

    async fn sleep(&self, duration: Duration) {
        self.sleeps.lock().expect("clock lock").push(duration);
        self.advance(duration);
    }
}
