//! The chain: plugin slots in their configured order, a batch of ticks in,
//! a [`Judgement`] out.
//!
//! Each slot sees only the ticks that every slot before it kept: after a
//! slot drops ticks, the chain compacts the batch in place and keeps a map
//! from the positions of the smaller batch back to the input, so that a
//! verdict or annotation from any slot lands on the right tick. Symbol ids
//! are the chain's (see [`crate::batch`]): each slot's instance is sent a
//! symbol's name once, and all of them again if it is replaced.
//!
//! A fault in a slot stops the batch and comes back as a [`ChainError`]
//! naming the slot, the plugin and the batch; what to do next (retry,
//! bypass, halt) is the caller's policy, and until [`Chain::recover`] is
//! called the slot refuses further batches rather than run on an instance
//! whose memory a fault may have left half-written.

use crate::batch::{self, BatchBuilder};
use crate::config::Config;
use crate::plugin::{ComponentCache, Fault, Instance, LoadError, Plugin, Runtime};
use crate::tick::Tick;
use crate::verdict::{self, Annotated, Judgement, Verdict};

/// A plugin in its place in the chain, with its running instance.
pub struct Slot {
    name: String,
    plugin: Plugin,
    /// `None` after a fault, until the slot is recovered.
    instance: Option<Instance>,
    /// How many of the chain's symbols the instance has been sent: the
    /// names of ids `0..symbols_sent`. A new instance starts with none.
    symbols_sent: usize,
    stats: SlotStats,
}

/// What one slot has done since the chain was built.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct SlotStats {
    /// Batches the slot judged.
    pub batches: u64,
    /// Ticks that reached the slot.
    pub ticks: u64,
    /// Ticks the slot dropped.
    pub dropped: u64,
    /// Annotations the slot attached.
    pub annotations: u64,
    /// Faults of the slot's instances.
    pub faults: u64,
}

impl std::fmt::Debug for Slot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Slot")
            .field("name", &self.name)
            .field("plugin", &self.plugin.name())
            .field("running", &self.instance.is_some())
            .field("stats", &self.stats)
            .finish()
    }
}

impl Slot {
    /// Calls the slot's instance; a fault puts the slot down.
    fn call<T>(
        &mut self,
        batch: u64,
        call: impl FnOnce(&mut Instance) -> Result<T, Fault>,
    ) -> Result<T, ChainError> {
        let result = match self.instance.as_mut() {
            Some(instance) => call(instance),
            None => Err(Fault::Down),
        };
        result.map_err(|fault| {
            if fault != Fault::Down {
                self.instance = None;
                self.symbols_sent = 0;
                self.stats.faults += 1;
            }
            ChainError {
                slot: self.name.clone(),
                plugin: self.plugin.name().to_string(),
                batch,
                fault,
            }
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn plugin(&self) -> &Plugin {
        &self.plugin
    }

    pub fn stats(&self) -> SlotStats {
        self.stats
    }
}

/// A slot's fault on one batch.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("plugin '{plugin}' in slot '{slot}' failed on batch {batch}: {fault}")]
pub struct ChainError {
    pub slot: String,
    pub plugin: String,
    /// The number of the batch, counting from 0 for the chain's first.
    pub batch: u64,
    pub fault: Fault,
}

/// Why a configured chain could not be started.
#[derive(Debug, thiserror::Error)]
pub enum LoadChainError {
    #[error("slot '{slot}': {source}")]
    Load { slot: String, source: LoadError },
    #[error(transparent)]
    Start(#[from] ChainError),
}

/// Loads every plugin the configuration names, in order, with its slot's
/// name; a chain (or one per partition) is then started from them cheaply.
pub fn load_plugins(
    runtime: &Runtime,
    cache: &ComponentCache,
    config: &Config,
) -> Result<Vec<(String, Plugin)>, LoadChainError> {
    config
        .slots
        .iter()
        .map(|slot| {
            Plugin::load(runtime, cache, &slot.path, &slot.params, config.limits)
                .map(|plugin| (slot.name.clone(), plugin))
                .map_err(|source| LoadChainError::Load {
                    slot: slot.name.clone(),
                    source,
                })
        })
        .collect()
}

/// Plugin slots in order, and the buffers a batch passes through.
pub struct Chain {
    slots: Vec<Slot>,
    builder: BatchBuilder,
    /// For each tick of the batch a slot is judging, its index in the input.
    positions: Vec<u32>,
    judgement: Judgement,
    batches: u64,
}

impl Chain {
    /// Starts one instance of each plugin, in the given order, under the
    /// given slot names.
    pub fn new(plugins: Vec<(String, Plugin)>) -> Result<Chain, ChainError> {
        let mut slots = Vec::with_capacity(plugins.len());
        for (name, plugin) in plugins {
            let instance = plugin.instantiate().map_err(|fault| ChainError {
                slot: name.clone(),
                plugin: plugin.name().to_string(),
                batch: 0,
                fault,
            })?;
            slots.push(Slot {
                name,
                plugin,
                instance: Some(instance),
                symbols_sent: 0,
                stats: SlotStats::default(),
            });
        }
        Ok(Chain {
            slots,
            builder: BatchBuilder::default(),
            positions: Vec::new(),
            judgement: Judgement::default(),
            batches: 0,
        })
    }

    /// Loads every plugin the configuration names, in order, and starts the
    /// chain. The first plugin that fails to load stops it.
    pub fn load(
        runtime: &Runtime,
        cache: &ComponentCache,
        config: &Config,
    ) -> Result<Chain, LoadChainError> {
        Ok(Chain::new(load_plugins(runtime, cache, config)?)?)
    }

    pub fn slots(&self) -> &[Slot] {
        &self.slots
    }

    /// The number of batches judged so far.
    pub fn batches(&self) -> u64 {
        self.batches
    }

    /// The verdicts on the last batch judged.
    pub fn judgement(&self) -> &Judgement {
        &self.judgement
    }

    /// Judges one batch of validated ticks; [`Chain::judgement`] then holds
    /// the verdicts.
    pub fn process(&mut self, ticks: &[Tick]) -> Result<&Judgement, ChainError> {
        let number = self.batches;
        self.batches += 1;
        self.judgement.reset(ticks.len());
        self.positions.clear();
        self.positions.extend(0..ticks.len() as u32);
        self.builder.build(ticks);
        let symbols = self.builder.symbols();

        for (index, slot) in self.slots.iter_mut().enumerate() {
            // Judge, with the names the instance has not been sent yet, and
            // believe the verdicts only once they are checked.
            let batch = self.builder.for_instance(slot.symbols_sent);
            let len = batch.symbol.len();
            if len == 0 {
                break;
            }
            let keys = slot.plugin.annotations().len();
            let verdicts = slot.call(number, |instance| {
                let verdicts = instance.process(batch)?;
                verdict::check(&verdicts, len, keys).map_err(Fault::Invalid)?;
                Ok(verdicts)
            })?;
            slot.symbols_sent = symbols;
            slot.stats.batches += 1;
            slot.stats.ticks += len as u64;
            slot.stats.dropped += verdicts.dropped.index.len() as u64;
            let annotations = &verdicts.annotations;
            slot.stats.annotations += annotations.index.len() as u64;

            // Record them against the input positions of the ticks.
            let columns = annotations.key.iter().zip(&annotations.value);
            for (&at, (&key, &value)) in annotations.index.iter().zip(columns) {
                self.judgement.annotations.push(Annotated {
                    tick: self.positions[at as usize],
                    slot: index,
                    key,
                    value,
                });
            }
            if verdicts.dropped.index.is_empty() {
                continue;
            }
            for (at, reason) in verdict::reasons(&verdicts.dropped) {
                let position = self.positions[at as usize] as usize;
                self.judgement.verdicts[position] = Verdict::Dropped {
                    slot: index,
                    reason: verdict::cap_reason(reason),
                };
            }

            // Compact the batch's columns to the ticks still kept, for the
            // next slot; symbol ids mean the same in every slot.
            let dropped = &verdicts.dropped.index;
            batch::remove(&mut batch.symbol, dropped);
            batch::remove(&mut batch.ts, dropped);
            batch::remove(&mut batch.price, dropped);
            batch::remove(&mut batch.volume, dropped);
            batch::remove(&mut self.positions, dropped);
        }

        // Annotations arrive slot by slot; a stable sort by tick keeps the
        // slot order within a tick. With one annotating slot that emits in
        // tick order they are sorted already, and the check saves the sort's
        // buffer.
        if !self.judgement.annotations.is_sorted_by_key(|a| a.tick) {
            self.judgement.annotations.sort_by_key(|a| a.tick);
        }
        Ok(&self.judgement)
    }

    /// Every slot's state, in slot order, as its plugin's snapshot bytes.
    pub fn snapshot(&mut self) -> Result<Vec<Vec<u8>>, ChainError> {
        let batch = self.batches;
        self.slots
            .iter_mut()
            .map(|slot| slot.call(batch, |instance| instance.snapshot()))
            .collect()
    }

    /// Restores every slot from a snapshot taken by [`Chain::snapshot`] of a
    /// chain with the same slots, before the first batch. A plugin that
    /// refuses its snapshot is an error naming it; its slot then keeps
    /// running with the state it had.
    pub fn restore(&mut self, snapshots: &[Vec<u8>]) -> Result<(), ChainError> {
        assert_eq!(
            snapshots.len(),
            self.slots.len(),
            "a chain snapshot has one entry per slot"
        );
        for (index, bytes) in snapshots.iter().enumerate() {
            self.restore_slot(index, bytes)?;
        }
        Ok(())
    }

    /// Restores one slot from its snapshot bytes. A refusal leaves the slot
    /// running with the state it had.
    pub fn restore_slot(&mut self, index: usize, bytes: &[u8]) -> Result<(), ChainError> {
        let batch = self.batches;
        let slot = &mut self.slots[index];
        slot.call(batch, |instance| instance.restore(bytes))?
            .map_err(|refusal| ChainError {
                slot: slot.name.clone(),
                plugin: slot.plugin.name().to_string(),
                batch,
                fault: Fault::Refused(refusal),
            })
    }

    /// Starts a fresh instance for every slot that faulted, with empty state.
    pub fn recover(&mut self) -> Result<(), ChainError> {
        for slot in self.slots.iter_mut().filter(|s| s.instance.is_none()) {
            let instance = slot.plugin.instantiate().map_err(|fault| ChainError {
                slot: slot.name.clone(),
                plugin: slot.plugin.name().to_string(),
                batch: self.batches,
                fault,
            })?;
            slot.instance = Some(instance);
            slot.symbols_sent = 0;
        }
        Ok(())
    }
}
