//! What a slot does when its plugin faults: the per-slot policy for the
//! faulting batch, and the circuit breaker that stops calling a plugin that
//! keeps faulting.
//!
//! The breaker counts faults in a sliding window. When `faults` of them
//! fall within `window`, the circuit opens: for `open-for` the slot is not
//! called, and its batches are handled as the policy says (bypassed or
//! dead-lettered). Then the circuit is half open: the next batch is tried,
//! and a success closes it, while another fault opens it again for twice as
//! long (at most [`MAX_OPEN`]). Time is passed in, so the breaker is tested
//! without sleeping.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

/// The longest a circuit stays open at a time, however often it reopens.
pub const MAX_OPEN: Duration = Duration::from_secs(600);

/// What happens to the batch on which a slot's plugin faults (and to the
/// batches that reach the slot while its circuit is open).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OnFault {
    /// The ticks that reached the slot are rejected, with the fault as the
    /// reason; later slots do not see them.
    #[default]
    DeadLetter,
    /// The slot is bypassed for that batch: its ticks go on to the next slot
    /// as if the slot had kept them.
    Skip,
    /// The host stops cleanly without committing the batch, so that it is
    /// processed again when the host is restarted.
    Halt,
}

impl std::fmt::Display for OnFault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            OnFault::DeadLetter => "dead-letter",
            OnFault::Skip => "skip",
            OnFault::Halt => "halt",
        })
    }
}

/// When a slot's circuit opens, and for how long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CircuitConfig {
    /// Faults within `window` that open the circuit.
    pub faults: u32,
    pub window: Duration,
    /// How long the circuit first stays open.
    pub open_for: Duration,
}

impl Default for CircuitConfig {
    fn default() -> CircuitConfig {
        CircuitConfig {
            faults: 3,
            window: Duration::from_secs(60),
            open_for: Duration::from_secs(30),
        }
    }
}

/// A slot's fault handling: the policy and the breaker's settings.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FaultPolicy {
    pub on_fault: OnFault,
    pub circuit: CircuitConfig,
}

/// The state of a circuit, as the admin API and the logs show it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CircuitState {
    /// The plugin is called.
    Closed,
    /// The plugin is not called until the instant.
    Open { until: Instant },
    /// The open period is over: the next batch tries the plugin again.
    HalfOpen,
}

/// One slot's circuit breaker.
#[derive(Debug, Clone)]
pub struct Circuit {
    config: CircuitConfig,
    /// The instants of the faults within the window, oldest first.
    recent: VecDeque<Instant>,
    state: CircuitState,
    /// How long the next opening lasts.
    open_for: Duration,
}

impl Circuit {
    pub fn new(config: CircuitConfig) -> Circuit {
        Circuit {
            config,
            recent: VecDeque::new(),
            state: CircuitState::Closed,
            open_for: config.open_for,
        }
    }

    pub fn state(&self) -> CircuitState {
        self.state
    }

    /// Whether the plugin may be called at `now`. An open circuit whose time
    /// is up becomes half open and allows one try.
    pub fn allows(&mut self, now: Instant) -> bool {
        match self.state {
            CircuitState::Closed | CircuitState::HalfOpen => true,
            CircuitState::Open { until } if now >= until => {
                self.state = CircuitState::HalfOpen;
                true
            }
            CircuitState::Open { .. } => false,
        }
    }

    /// The plugin judged a batch: a half-open circuit closes. Returns
    /// whether this success closed it.
    pub fn success(&mut self) -> bool {
        if self.state != CircuitState::HalfOpen {
            return false;
        }
        self.state = CircuitState::Closed;
        self.open_for = self.config.open_for;
        self.recent.clear();
        true
    }

    /// The plugin faulted at `now`. Returns how long the circuit is now open
    /// for, if this fault opened it.
    pub fn fault(&mut self, now: Instant) -> Option<Duration> {
        let open_for = match self.state {
            CircuitState::Open { .. } => return None,
            CircuitState::HalfOpen => (self.open_for * 2).min(MAX_OPEN),
            CircuitState::Closed => {
                self.recent.push_back(now);
                while self
                    .recent
                    .front()
                    .is_some_and(|&at| now.duration_since(at) >= self.config.window)
                {
                    self.recent.pop_front();
                }
                if self.recent.len() < self.config.faults as usize {
                    return None;
                }
                self.config.open_for
            }
        };
        self.open_for = open_for;
        self.recent.clear();
        self.state = CircuitState::Open {
            until: now + open_for,
        };
        Some(open_for)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> CircuitConfig {
        CircuitConfig {
            faults: 3,
            window: Duration::from_secs(60),
            open_for: Duration::from_secs(10),
        }
    }

    #[test]
    fn opens_after_enough_faults_within_the_window() {
        let start = Instant::now();
        let mut circuit = Circuit::new(config());

        assert_eq!(circuit.fault(start), None);
        assert_eq!(circuit.fault(start + Duration::from_secs(1)), None);
        let opened = circuit.fault(start + Duration::from_secs(2));

        assert_eq!(opened, Some(Duration::from_secs(10)));
        assert!(!circuit.allows(start + Duration::from_secs(3)));
        assert!(!circuit.allows(start + Duration::from_secs(11)));
        assert!(circuit.allows(start + Duration::from_secs(12)));
        assert_eq!(circuit.state(), CircuitState::HalfOpen);
    }

    #[test]
    fn faults_older_than_the_window_do_not_count() {
        let start = Instant::now();
        let mut circuit = Circuit::new(config());

        circuit.fault(start);
        circuit.fault(start + Duration::from_secs(30));
        let third = circuit.fault(start + Duration::from_secs(61));

        assert_eq!(third, None);
        assert_eq!(circuit.state(), CircuitState::Closed);
    }

    /// A circuit opened by three faults, and the moment it is retried.
    fn half_open() -> (Circuit, Instant) {
        let start = Instant::now();
        let mut circuit = Circuit::new(config());
        for s in 0..3 {
            circuit.fault(start + Duration::from_secs(s));
        }
        let retry = start + Duration::from_secs(20);
        assert!(circuit.allows(retry));
        (circuit, retry)
    }

    #[test]
    fn a_fault_when_half_open_reopens_for_twice_as_long() {
        let (mut circuit, retry) = half_open();

        let reopened = circuit.fault(retry);

        assert_eq!(reopened, Some(Duration::from_secs(20)));
        assert!(!circuit.allows(retry + Duration::from_secs(19)));
        assert!(circuit.allows(retry + Duration::from_secs(20)));
    }

    #[test]
    fn a_success_when_half_open_closes_and_resets() {
        let (mut circuit, retry) = half_open();

        assert!(circuit.success(), "the success closed the circuit");

        assert_eq!(circuit.state(), CircuitState::Closed);
        assert!(!circuit.success(), "a closed circuit stays closed");
        // Closed again: it takes three new faults to open it, for the
        // first period again.
        assert_eq!(circuit.fault(retry), None);
        assert_eq!(circuit.fault(retry), None);
        assert_eq!(circuit.fault(retry), Some(Duration::from_secs(10)));
    }

    #[test]
    fn reopening_is_capped() {
        let start = Instant::now();
        let mut circuit = Circuit::new(CircuitConfig {
            faults: 1,
            window: Duration::from_secs(1),
            open_for: Duration::from_secs(400),
        });
        let mut now = start;
        let mut last = circuit.fault(now);
        for _ in 0..5 {
            now += last.unwrap();
            assert!(circuit.allows(now));
            last = circuit.fault(now);
        }

        assert_eq!(last, Some(MAX_OPEN));
    }
}
