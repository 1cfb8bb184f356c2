//! The state of one misbehave instance, and the verdicts it returns in each
//! mode.
//!
//! The state is a running count of the ticks processed (carried in snapshots
//! as 8 bytes, little-endian) and the number of `process` calls so far, which
//! decides when `after` is reached. The count advances by the batch's length
//! whenever `process` returns verdicts, whatever they are; the call count
//! advances on every call and is not part of the snapshot.
//!
//! Whatever its mode, an instance also counts the symbol names the host has
//! sent it, and refuses a batch with a symbol id it has not been sent, as a
//! plugin that keeps per-symbol state would have to: so the host's tests
//! see it when a replaced instance is not sent the names again.

use std::time::Duration;

use crate::bindings::exports::tickhost::filter::filter::{Batch, Param, ParamError, Verdicts};
use crate::bindings::tickhost::filter::types::{Annotations, Drops};
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
    /// Symbol names the host has sent this instance, which the ids of its
    /// ticks index. Not part of the snapshot: the names were sent to this
    /// instance, not to the one the snapshot came from.
    symbols: usize,
}

impl Instance {
    pub const fn new() -> Instance {
        Instance {
            config: Config::DEFAULT,
            seen: 0,
            batches: 0,
            symbols: 0,
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
        let len = batch.symbol.len();

        self.symbols += batch.symbols.len();
        if let Some(at) = batch
            .symbol
            .iter()
            .position(|&id| id as usize >= self.symbols)
        {
            return Err(format!(
                "misbehave: tick {at} has symbol id {} but it has been sent {} symbols",
                batch.symbol[at], self.symbols
            ));
        }

        let verdicts = match mode {
            Mode::Trap => faults::trap(),
            Mode::Panic => panic!("misbehave: asked to panic"),
            Mode::Loop => faults::spin_forever(),
            Mode::GrowMemory => faults::grow_memory_forever(),
            Mode::Error => return Err("misbehave: asked to fail".to_string()),

            Mode::WrongIndex => Verdicts {
                dropped: drops([(index(len), "misbehave: index past the end of the batch")]),
                annotations: self.seen_annotations(0..len, SEEN_KEY),
            },
            Mode::Unsorted => self.unsorted(len),
            Mode::BadKey => Verdicts {
                dropped: drops([]),
                annotations: self.seen_annotations(0..len, BAD_KEY),
            },
            Mode::HugeOutput => {
                let bytes = match self.config.bytes {
                    0 => DEFAULT_HUGE_REASON_BYTES,
                    n => n,
                };
                Verdicts {
                    dropped: drops([(0, "x".repeat(bytes as usize).as_str())]),
                    annotations: self.seen_annotations(1..len, SEEN_KEY),
                }
            }
            Mode::DropAll => Verdicts {
                dropped: drops((0..len).map(|i| (index(i), DROP_ALL_REASON))),
                annotations: no_annotations(),
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
            | Mode::TrapSnapshot
            | Mode::SlowSnapshot => self.keep_all(len),
        };

        self.seen += len as u64;
        Ok(verdicts)
    }

    /// The state as [`SNAPSHOT_LEN`] bytes; `trap-snapshot` traps instead
    /// once `after` batches have been processed, and `slow-snapshot` first
    /// busy-waits `bytes` milliseconds.
    pub fn snapshot(&self) -> Vec<u8> {
        match self.mode_now() {
            Mode::TrapSnapshot => faults::trap(),
            Mode::SlowSnapshot => faults::busy_wait(Duration::from_millis(self.config.bytes)),
            _ => {}
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
            dropped: drops([]),
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
            dropped: drops(
                order
                    .iter()
                    .map(|&i| (i, "misbehave: dropped out of order")),
            ),
            annotations: self.seen_annotations(2.min(len)..len, SEEN_KEY),
        }
    }

    /// The `seen` value for the ticks at `indices`, under `key`: the ticks
    /// processed before this batch, plus the tick's position in it, plus one.
    fn seen_annotations(&self, indices: std::ops::Range<usize>, key: u32) -> Annotations {
        Annotations {
            index: indices.clone().map(index).collect(),
            key: vec![key; indices.len()],
            value: indices.map(|i| (self.seen + i as u64 + 1) as f64).collect(),
        }
    }
}

/// The given (tick index, reason) drops, in the contract's layout: the
/// reasons one after another in one string, with their ends.
fn drops<'a>(dropped: impl IntoIterator<Item = (u32, &'a str)>) -> Drops {
    let mut drops = Drops {
        index: Vec::new(),
        reasons: String::new(),
        reason_ends: Vec::new(),
    };
    for (at, reason) in dropped {
        drops.index.push(at);
        drops.reasons.push_str(reason);
        let end = u32::try_from(drops.reasons.len()).expect("reasons stay under 4 GiB");
        drops.reason_ends.push(end);
    }
    drops
}

/// No annotations at all.
fn no_annotations() -> Annotations {
    Annotations {
        index: Vec::new(),
        key: Vec::new(),
        value: Vec::new(),
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
    use crate::bindings::tickhost::filter::types::ParamValue;

    fn batch(len: usize) -> Batch {
        Batch {
            symbols: vec!["GOOG".to_string()],
            symbol: vec![0; len],
            ts: (0..len as i64)
                .map(|i| 1_709_562_600_000 + 60_000 * i)
                .collect(),
            price: vec![135.0; len],
            volume: vec![1_500_000; len],
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
        let annotations = &verdicts.annotations;
        let columns = annotations.key.iter().zip(&annotations.value);
        annotations
            .index
            .iter()
            .zip(columns)
            .map(|(&index, (&key, &value))| (index, key, value))
            .collect()
    }

    fn dropped(verdicts: &Verdicts) -> Vec<u32> {
        verdicts.dropped.index.clone()
    }

    #[test]
    fn ok_counts_ticks_across_batches() {
        let mut instance = configured("ok", 0, 0);
        let first = instance.process(&batch(2)).unwrap();
        let second = instance.process(&batch(3)).unwrap();

        assert!(first.dropped.index.is_empty() && second.dropped.index.is_empty());
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
    fn a_symbol_it_was_not_sent_is_refused() {
        let mut instance = configured("ok", 0, 0);
        instance.process(&batch(1)).unwrap();
        let mut known = batch(2);
        known.symbols.clear();
        instance.process(&known).unwrap();
        known.symbol[1] = 1;

        assert_eq!(
            instance.process(&known).unwrap_err(),
            "misbehave: tick 1 has symbol id 1 but it has been sent 1 symbols"
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
        assert_eq!(verdicts.annotations.index.len(), 3);
    }

    #[test]
    fn unsorted_drops_out_of_order_and_annotates_only_kept_ticks() {
        let verdicts = configured("unsorted", 0, 0).process(&batch(3)).unwrap();
        assert_eq!(dropped(&verdicts), [1, 0]);
        assert_eq!(seen(&verdicts), [(2, 0, 3.0)]);

        let single = configured("unsorted", 0, 0).process(&batch(1)).unwrap();
        assert_eq!(dropped(&single), [0, 0]);
        assert!(single.annotations.index.is_empty());
    }

    #[test]
    fn bad_key_uses_a_key_that_is_not_described() {
        let verdicts = configured("bad-key", 0, 0).process(&batch(2)).unwrap();
        assert!(verdicts.annotations.key.iter().all(|&key| key == BAD_KEY));
    }

    #[test]
    fn huge_output_returns_a_reason_of_the_asked_size() {
        let verdicts = configured("huge-output", 0, 1000)
            .process(&batch(2))
            .unwrap();
        assert_eq!(dropped(&verdicts), [0]);
        assert_eq!(verdicts.dropped.reasons.len(), 1000);
        assert_eq!(verdicts.dropped.reason_ends, [1000]);
        assert_eq!(seen(&verdicts), [(1, 0, 2.0)]);
    }

    #[test]
    fn drop_all_drops_every_tick_and_still_counts_them() {
        let mut instance = configured("drop-all", 0, 0);
        let verdicts = instance.process(&batch(3)).unwrap();
        assert_eq!(dropped(&verdicts), [0, 1, 2]);
        assert_eq!(verdicts.dropped.reasons, DROP_ALL_REASON.repeat(3));
        assert_eq!(verdicts.dropped.reason_ends.len(), 3);
        assert!(verdicts.annotations.index.is_empty());
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
