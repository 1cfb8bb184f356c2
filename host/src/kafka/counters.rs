//! What happened to every consumed message, counted: each one is processed
//! (kept by the chain), rejected (dropped by a plugin, or in a batch whose
//! plugin faulted) or dead-lettered (not a valid tick), so that
//! `consumed = processed + rejected + dead_lettered` once a batch is done.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};

/// The host's counters; shared, and read while it runs.
#[derive(Debug, Default)]
pub struct Counters {
    pub consumed: AtomicU64,
    pub processed: AtomicU64,
    pub rejected: AtomicU64,
    pub dead_lettered: AtomicU64,
    /// Batches whose plugins faulted (their ticks count as rejected).
    pub faults: AtomicU64,
    /// Checkpoints of a partition's plugin state written.
    pub checkpoints: AtomicU64,
}

/// The counters at one moment.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Snapshot {
    pub consumed: u64,
    pub processed: u64,
    pub rejected: u64,
    pub dead_lettered: u64,
    pub faults: u64,
    pub checkpoints: u64,
}

impl Counters {
    pub fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    pub fn snapshot(&self) -> Snapshot {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        Snapshot {
            consumed: get(&self.consumed),
            processed: get(&self.processed),
            rejected: get(&self.rejected),
            dead_lettered: get(&self.dead_lettered),
            faults: get(&self.faults),
            checkpoints: get(&self.checkpoints),
        }
    }
}

impl Snapshot {
    /// Whether every consumed message is accounted for.
    pub fn balanced(&self) -> bool {
        self.consumed == self.processed + self.rejected + self.dead_lettered
    }
}

impl fmt::Display for Snapshot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "consumed {} = processed {} + rejected {} + dead-lettered {} ({} plugin faults, {} checkpoints)",
            self.consumed,
            self.processed,
            self.rejected,
            self.dead_lettered,
            self.faults,
            self.checkpoints
        )
    }
}
