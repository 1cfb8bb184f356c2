//! The state of one misbehave instance, and the verdicts it returns in each
//! mode.
//!
//! The state is a running count of the ticks processed (carried in snapshots
//! as 8 bytes, little-endian) and the number of `process` calls so far, which
//! decides when `after` is reached. The count advances by the batch's length
//! whenever `process` returns verdicts, whatever they are; the call count
//! advances on every call and is not part of the snapshot.

use std::time::Duration;

use crate::bindings::exports::tickhost::filter::filter::{Batch, Param, ParamError, Verdicts};
use crate::bindings::tickhost::filter::types::{Annotation, Dropped};
use crate::config::{Config, Mode};
use crate::faults;

/// The length of a snapshot: the tick count as a little-endian u64.
pub const SNAPSHOT_LEN: usize = 8;

/// The key of the `seen` annotation in `describe`'s annotations.
const SEEN_KEY: u32 = 0;

/// The key `bad-key` uses: no annotation has this index.
const BAD_KEY: u32 = 7;

/// The size of the reason `huge-output` returns when `bytes` is 0: far more
/// than any real reason, and more than a host should copy out unchecked.
const DEFAULT_HUGE_REASON_BYTES: u64 = 64 << 20;

/// The reason `drop-all` gives for every tick.
const DROP_ALL_REASON: &str = "dropped by misbehave";

#[derive(Debug)]
pub struct Instance {
    config: Config,
    /// Ticks processed by this instance, and by those it was restored from.
    seen: u64,
    /// Calls to `process` so far; the number of the next batch.
    batches: u64,
}

impl Instance {
    pub const fn new() -> Instance {
        Instance {
            config: Config::DEFAULT,
            seen: 0,
            batches: 0,
        }
    }

    /// Validates and takes the parameters; `trap-configure` traps after
    /// they pass.
    pub fn configure(&mut self, params: &[Param]) -> Result<(), ParamError> {
        self.config = Config::from_params(params)?;

        if self.config.mode == Mode::TrapConfigure {
            faults::trap();
        }
        Ok(())
    }

    /// The mode in force now: the configured one once `after` batches have
    /// been processed, `ok` before.
    fn mode_now(&self) -> Mode {
        if self.batches >= self.config.after {
            self.config.mode
        } else {
            Mode::Ok
        }
    }

    /// Judges one batch, misbehaving as the mode says from batch `after` on.
    pub fn process(&mut self, batch: &Batch) -> Result<Verdicts, String> {
        let number = self.batches;
        let mode = self.mode_now();
        self.batches += 1;
        let len = batch.ticks.len();

        let verdicts = match mode {
            Mode::Trap => faults::trap(),
            Mode::Panic => panic!("misbehave: asked to panic"),
            Mode::Loop => faults::spin_forever(),
            Mode::GrowMemory => faults::grow_memory_forever(),
            Mode::Error => return Err("misbehave: asked to fail".to_string()),

            Mode::WrongIndex => Verdicts {
                dropped: vec![Dropped {
                    index: index(len),
                    reason: "misbehave: index past the end of the batch".to_string(),
                }],
                annotations: self.seen_annotations(0..len, SEEN_KEY),
            },
            Mode::Unsorted => self.unsorted(len),
            Mode::BadKey => Verdicts {
                dropped: Vec::new(),
                annotations: self.seen_annotations(0..len, BAD_KEY),
            },
            Mode::HugeOutput => {
                let bytes = match self.config.bytes {
                    0 => DEFAULT_HUGE_REASON_BYTES,
                    n => n,
                };
                Verdicts {
                    dropped: vec![Dropped {
                        index: 0,
                        reason: "x".repeat(bytes as usize),
                    }],
                    annotations: self.seen_annotations(1..len, SEEN_KEY),
                }
            }
            Mode::DropAll => Verdicts {
                dropped: (0..len)
                    .map(|i| Dropped {
                        index: index(i),
                        reason: DROP_ALL_REASON.to_string(),
                    })
                    .collect(),
                annotations: Vec::new(),
            },

            Mode::Print => {
                // The point of this mode: output the host must capture or
                // discard, never interleave with its own.
                println!("misbehave stdout batch {number}");
                eprintln!("misbehave stderr batch {number}");
                self.keep_all(len)
            }
            Mode::Slow => {
                faults::busy_wait(Duration::from_millis(self.config.bytes));
                self.keep_all(len)
            }
            Mode::Ok
            | Mode::TrapConfigure
            | Mode::RefuseRestore
            | Mode::TrapRestore
            | Mode::TrapSnapshot => self.keep_all(len),
        };

        self.seen += len as u64;
        Ok(verdicts)
    }

    /// The state as [`SNAPSHOT_LEN`] bytes; `trap-snapshot` traps instead
    /// once `after` batches have been processed.
    pub fn snapshot(&self) -> Vec<u8> {
        if self.mode_now() == Mode::TrapSnapshot {
            faults::trap();
        }
        self.seen.to_le_bytes().to_vec()
    }

    /// Takes the tick count from a snapshot. `refuse-restore` refuses every
    /// snapshot and `trap-restore` traps.
    pub fn restore(&mut self, state: &[u8]) -> Result<(), String> {
        match self.mode_now() {
            Mode::RefuseRestore => return Err("misbehave: snapshot refused".to_string()),
            Mode::TrapRestore => faults::trap(),
            _ => {}
        }

        let bytes: [u8; SNAPSHOT_LEN] = state.try_into().map_err(|_| {
            format!(
                "misbehave: a snapshot is {SNAPSHOT_LEN} bytes (a little-endian tick count), \
                 got {} bytes",
                state.len()
            )
        })?;
        self.seen = u64::from_le_bytes(bytes);
        Ok(())
    }

    /// Every tick kept, each annotated with its running count.
    fn keep_all(&self, len: usize) -> Verdicts {
        Verdicts {
            dropped: Vec::new(),
            annotations: self.seen_annotations(0..len, SEEN_KEY),
        }
    }

    /// Dropped indices out of order: [1, 0] when the batch has two ticks or
    /// more, [0, 0] (not strictly ascending either) for a single tick. An
    /// empty batch leaves nothing to misorder and is kept as in `ok`.
    fn unsorted(&self, len: usize) -> Verdicts {
        let order: &[u32] = match len {
            0 => &[],
            1 => &[0, 0],
            _ => &[1, 0],
        };
        Verdicts {
            dropped: order
                .iter()
                .map(|&i| Dropped {
                    index: i,
                    reason: "misbehave: dropped out of order".to_string(),
                })
                .collect(),
            annotations: self.seen_annotations(2.min(len)..len, SEEN_KEY),
        }
    }

    /// The `seen` value for the ticks at `indices`, under `key`: the ticks
    /// processed before this batch, plus the tick's position in it, plus one.
    fn seen_annotations(&self, indices: std::ops::Range<usize>, key: u32) -> Vec<Annotation> {
        indices
            .map(|i| Annotation {
                index: index(i),
                key,
                value: (self.seen + i as u64 + 1) as f64,
            })
            .collect()
    }
}

/// A tick's position as a verdict index. Lists that cross the component
/// boundary have u32 lengths, so this cannot fail for a real batch.
fn index(i: usize) -> u32 {
    u32::try_from(i).expect("a batch has fewer than 2^32 ticks")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bindings::tickhost::filter::types::{ParamValue, Tick};

    fn batch(len: usize) -> Batch {
        let tick = |i: usize| Tick {
            symbol: 0,
            ts: 1_709_562_600_000 + 60_000 * i as i64,
            price: 135.0,
            volume: 1_500_000,
        };
        Batch {
            symbols: vec!["GOOG".to_string()],
            ticks: (0..len).map(tick).collect(),
        }
    }

    fn configured(mode: &str, after: i64, bytes: i64) -> Instance {
        let mut instance = Instance::new();
        let params = [
            Param {
                name: "mode".to_string(),
                value: ParamValue::Text(mode.to_string()),
            },
            Param {
                name: "after".to_string(),
                value: ParamValue::Integer(after),
            },
            Param {
                name: "bytes".to_string(),
                value: ParamValue::Integer(bytes),
            },
        ];
        instance.configure(&params).unwrap();
        instance
    }

    fn seen(verdicts: &Verdicts) -> Vec<(u32, u32, f64)> {
        verdicts
            .annotations
            .iter()
            .map(|a| (a.index, a.key, a.value))
            .collect()
    }

    fn dropped(verdicts: &Verdicts) -> Vec<u32> {
        verdicts.dropped.iter().map(|d| d.index).collect()
    }

    #[test]
    fn ok_counts_ticks_across_batches() {
        let mut instance = configured("ok", 0, 0);
        let first = instance.process(&batch(2)).unwrap();
        let second = instance.process(&batch(3)).unwrap();

        assert!(first.dropped.is_empty() && second.dropped.is_empty());
        assert_eq!(seen(&first), [(0, 0, 1.0), (1, 0, 2.0)]);
        assert_eq!(seen(&second), [(0, 0, 3.0), (1, 0, 4.0), (2, 0, 5.0)]);
    }

    #[test]
    fn the_count_survives_snapshot_and_restore() {
        let mut old = configured("ok", 0, 0);
        old.process(&batch(4)).unwrap();
        let snapshot = old.snapshot();
        assert_eq!(snapshot, 4u64.to_le_bytes());

        let mut new = configured("ok", 0, 0);
        new.restore(&snapshot).unwrap();
        assert_eq!(seen(&new.process(&batch(1)).unwrap()), [(0, 0, 5.0)]);
    }

    #[test]
    fn restore_rejects_a_snapshot_of_another_length() {
        let mut instance = configured("ok", 0, 0);
        let err = instance.restore(&[1, 2, 3]).unwrap_err();
        assert!(err.contains("got 3 bytes"), "{err}");
        assert_eq!(instance.snapshot(), 0u64.to_le_bytes());
    }

    #[test]
    fn refuse_restore_refuses_a_good_snapshot() {
        let mut instance = configured("refuse-restore", 0, 0);
        assert_eq!(
            instance.restore(&[0; 8]).unwrap_err(),
            "misbehave: snapshot refused"
        );
    }

    #[test]
    fn misbehaves_only_from_batch_after_on() {
        let mut instance = configured("error", 2, 0);
        assert!(instance.process(&batch(1)).is_ok());
        assert!(instance.process(&batch(1)).is_ok());
        assert_eq!(
            instance.process(&batch(1)).unwrap_err(),
            "misbehave: asked to fail"
        );
    }

    #[test]
    fn wrong_index_drops_the_tick_past_the_end() {
        let verdicts = configured("wrong-index", 0, 0).process(&batch(3)).unwrap();
        assert_eq!(dropped(&verdicts), [3]);
        assert_eq!(verdicts.annotations.len(), 3);
    }

    #[test]
    fn unsorted_drops_out_of_order_and_annotates_only_kept_ticks() {
        let verdicts = configured("unsorted", 0, 0).process(&batch(3)).unwrap();
        assert_eq!(dropped(&verdicts), [1, 0]);
        assert_eq!(seen(&verdicts), [(2, 0, 3.0)]);

        let single = configured("unsorted", 0, 0).process(&batch(1)).unwrap();
        assert_eq!(dropped(&single), [0, 0]);
        assert!(single.annotations.is_empty());
    }

    #[test]
    fn bad_key_uses_a_key_that_is_not_described() {
        let verdicts = configured("bad-key", 0, 0).process(&batch(2)).unwrap();
        assert!(verdicts.annotations.iter().all(|a| a.key == BAD_KEY));
    }

    #[test]
    fn huge_output_returns_a_reason_of_the_asked_size() {
        let verdicts = configured("huge-output", 0, 1000)
            .process(&batch(2))
            .unwrap();
        assert_eq!(dropped(&verdicts), [0]);
        assert_eq!(verdicts.dropped[0].reason.len(), 1000);
        assert_eq!(seen(&verdicts), [(1, 0, 2.0)]);
    }

    #[test]
    fn drop_all_drops_every_tick_and_still_counts_them() {
        let mut instance = configured("drop-all", 0, 0);
        let verdicts = instance.process(&batch(3)).unwrap();
        assert_eq!(dropped(&verdicts), [0, 1, 2]);
        assert!(verdicts.dropped.iter().all(|d| d.reason == DROP_ALL_REASON));
        assert!(verdicts.annotations.is_empty());
        assert_eq!(instance.snapshot(), 3u64.to_le_bytes());
    }

    #[test]
    fn slow_waits_at_least_the_asked_time() {
        let mut instance = configured("slow", 0, 20);
        let start = std::time::Instant::now();
        instance.process(&batch(1)).unwrap();
        assert!(start.elapsed() >= Duration::from_millis(20));
    }
}
