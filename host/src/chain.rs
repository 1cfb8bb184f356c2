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
//! The chain follows a [`Lineup`]: before each batch it adopts the slots
//! that were swapped or rolled back since the last one, so a batch is
//! always judged by one version of each slot. Adopting a new version
//! carries the state over (the old instance's snapshot restored into the
//! new one; a plugin that refuses it starts empty) and keeps the old
//! instance in step beside it for [`PROBATION`] batches: if the new version
//! faults in that time, the slot goes back to the old instance, which judges
//! the batch, and the lineup is rolled back for every chain.
//!
//! A fault (trap, deadline, memory cap, invalid verdicts) never leaves the
//! chain: the instance is thrown away and rebuilt from its plugin and its
//! last good snapshot, and the batch is handled as the slot's
//! [`OnFault`] policy says. Repeated faults open the slot's [`Circuit`].
//! Only the `halt` policy makes [`Chain::process`] return an error.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::batch::{self, BatchBuilder};
use crate::circuit::{Circuit, CircuitState, FaultPolicy, OnFault};
use crate::config::Config;
use crate::lineup::{Entry, Lineup};
use crate::plugin::bindings::Verdicts;
use crate::plugin::{ComponentCache, Fault, Instance, LoadError, Plugin, Runtime};
use crate::tick::Tick;
use crate::verdict::{self, Annotated, Judgement, Verdict};

/// Batches during which a newly adopted version is on probation: its
/// predecessor keeps running beside it, so that a fault rolls the slot back
/// without losing a tick or the state.
pub const PROBATION: u32 = 16;

/// A plugin in its place in the chain, with its running instance.
pub struct Slot {
    name: String,
    plugin: Plugin,
    policy: FaultPolicy,
    /// `None` after a fault the instance could not be rebuilt from.
    instance: Option<Instance>,
    /// How many of the chain's symbols the instance has been sent: the
    /// names of ids `0..symbols_sent`. A new instance starts with none.
    symbols_sent: usize,
    /// The instance's state at its last good snapshot, and when it was
    /// taken: a faulted instance is rebuilt from it.
    last_good: Option<Vec<u8>>,
    last_good_at: Instant,
    /// The version this one replaced, kept in step during probation.
    shadow: Option<Shadow>,
    probation: u32,
    circuit: Circuit,
    stats: SlotStats,
}

/// The previous version of a slot, running beside the new one.
struct Shadow {
    plugin: Plugin,
    instance: Instance,
    symbols_sent: usize,
}

/// What one slot has done since the chain was built. The admin API shows
/// them summed over the chains that run the slot.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, serde::Serialize)]
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
    /// Batches that reached the slot while its circuit was open.
    pub bypassed: u64,
}

impl std::ops::AddAssign for SlotStats {
    fn add_assign(&mut self, other: SlotStats) {
        self.batches += other.batches;
        self.ticks += other.ticks;
        self.dropped += other.dropped;
        self.annotations += other.annotations;
        self.faults += other.faults;
        self.bypassed += other.bypassed;
    }
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
    fn new(name: String, plugin: Plugin, policy: FaultPolicy, instance: Instance) -> Slot {
        Slot {
            name,
            plugin,
            policy,
            instance: Some(instance),
            symbols_sent: 0,
            last_good: None,
            last_good_at: Instant::now(),
            shadow: None,
            probation: 0,
            circuit: Circuit::new(policy.circuit),
            stats: SlotStats::default(),
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn plugin(&self) -> &Plugin {
        &self.plugin
    }

    pub fn policy(&self) -> FaultPolicy {
        self.policy
    }

    /// The size of the last good snapshot, if one was taken: what a swap
    /// of this slot can expect to transfer.
    pub fn state_size(&self) -> Option<usize> {
        self.last_good.as_ref().map(Vec::len)
    }

    pub fn stats(&self) -> SlotStats {
        self.stats
    }

    pub fn circuit(&self) -> CircuitState {
        self.circuit.state()
    }

    /// Whether a previous version runs beside this one, on probation.
    pub fn on_probation(&self) -> bool {
        self.shadow.is_some()
    }

    fn error(&self, batch: u64, fault: Fault) -> ChainError {
        ChainError {
            slot: self.name.clone(),
            plugin: self.plugin.name().to_string(),
            batch,
            fault,
        }
    }

    /// Calls the slot's instance; a fault leaves the slot without one.
    fn call<T>(
        &mut self,
        call: impl FnOnce(&mut Instance) -> Result<T, Fault>,
    ) -> Result<T, Fault> {
        let result = match self.instance.as_mut() {
            Some(instance) => call(instance),
            None => Err(Fault::Down),
        };
        if result.is_err() {
            self.instance = None;
        }
        result
    }

    /// Judges the batch with the current instance and, on probation, keeps
    /// the previous version in step. If the current version faults on
    /// probation, the slot rolls back to the previous one, which judges the
    /// batch; the rolled-back plugin is returned beside the verdicts.
    fn judge(
        &mut self,
        builder: &mut BatchBuilder,
        symbols: usize,
    ) -> Result<(Verdicts, Option<(Plugin, Fault)>), Fault> {
        let first = judge_with(
            self.instance.as_mut(),
            &self.plugin,
            builder,
            self.symbols_sent,
        );
        match first {
            Ok(verdicts) => {
                self.symbols_sent = symbols;
                self.keep_shadow_in_step(builder, symbols);
                Ok((verdicts, None))
            }
            Err(fault) => {
                self.instance = None;
                let Some(shadow) = self.shadow.take() else {
                    return Err(fault);
                };
                self.probation = 0;
                let failed = std::mem::replace(&mut self.plugin, shadow.plugin);
                self.instance = Some(shadow.instance);
                self.symbols_sent = shadow.symbols_sent;
                let verdicts = judge_with(
                    self.instance.as_mut(),
                    &self.plugin,
                    builder,
                    self.symbols_sent,
                )
                .inspect_err(|_| self.instance = None)?;
                self.symbols_sent = symbols;
                Ok((verdicts, Some((failed, fault))))
            }
        }
    }

    fn keep_shadow_in_step(&mut self, builder: &mut BatchBuilder, symbols: usize) {
        let Some(shadow) = self.shadow.as_mut() else {
            return;
        };
        let batch = builder.for_instance(shadow.symbols_sent);
        match shadow.instance.process(batch) {
            Ok(_) => shadow.symbols_sent = symbols,
            Err(fault) => {
                tracing::warn!(
                    slot = %self.name,
                    plugin = %shadow.plugin.name(),
                    "the previous version faulted while kept in step ({fault}); \
                     it can no longer be rolled back to"
                );
                self.shadow = None;
            }
        }
        self.probation = self.probation.saturating_sub(1);
        if self.probation == 0 {
            self.shadow = None;
        }
    }

    /// Rebuilds a faulted instance from the plugin and the last good
    /// snapshot. A snapshot the new instance will not take leaves it empty.
    fn revive(&mut self) -> Result<(), Fault> {
        let mut instance = self.plugin.instantiate()?;
        if let Some(state) = &self.last_good {
            match instance.restore(state)? {
                Ok(()) => {}
                Err(refusal) => {
                    tracing::warn!(slot = %self.name, "restarted empty: its snapshot was refused: {refusal}");
                    instance = self.plugin.instantiate()?;
                }
            }
        }
        self.instance = Some(instance);
        self.symbols_sent = 0;
        Ok(())
    }

    /// Takes a snapshot and keeps it as the last good one.
    fn snapshot(&mut self) -> Result<Vec<u8>, Fault> {
        let bytes = self.call(|instance| instance.snapshot())?;
        self.last_good = Some(bytes.clone());
        self.last_good_at = Instant::now();
        Ok(bytes)
    }
}

/// Judges a batch with `instance`, checking the verdicts against it.
fn judge_with(
    instance: Option<&mut Instance>,
    plugin: &Plugin,
    builder: &mut BatchBuilder,
    known: usize,
) -> Result<Verdicts, Fault> {
    let instance = instance.ok_or(Fault::Down)?;
    let batch = builder.for_instance(known);
    let len = batch.symbol.len();
    let verdicts = instance.process(batch)?;
    verdict::check(&verdicts, len, plugin.annotations().len()).map_err(Fault::Invalid)?;
    Ok(verdicts)
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

/// Loads every plugin the configuration names into a lineup, with each
/// slot's parameters and fault policy.
pub fn load_lineup(
    runtime: &Runtime,
    cache: &ComponentCache,
    config: &Config,
) -> Result<Arc<Lineup>, LoadChainError> {
    let plugins = load_plugins(runtime, cache, config)?;
    let entries = plugins
        .into_iter()
        .zip(&config.slots)
        .map(|((name, plugin), slot)| Entry {
            params: slot.params.clone(),
            policy: slot.policy,
            ..Entry::new(name, plugin)
        })
        .collect();
    Ok(Lineup::new(entries, config.snapshot_interval))
}

/// How a slot took on a new version: what happened to its state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Adopted {
    /// The old instance's snapshot was restored into the new one.
    Restored,
    /// The new version refused the snapshot and started empty.
    Refused(String),
    /// There was no state to carry (the old instance was down and had
    /// never been snapshotted).
    Empty,
    /// The version was already running beside the old one (a rollback
    /// during probation): its state is current.
    FromShadow,
}

impl std::fmt::Display for Adopted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Adopted::Restored => f.write_str("state restored"),
            Adopted::Refused(reason) => write!(f, "started empty: it refused the state ({reason})"),
            Adopted::Empty => f.write_str("started empty: there was no state to carry"),
            Adopted::FromShadow => f.write_str("state current (it ran beside the new version)"),
        }
    }
}

/// A new version's instance, made ready for one chain by
/// [`Chain::prepare`], to be put in by [`Chain::commit`].
pub struct Prepared {
    index: usize,
    plugin: Plugin,
    instance: Option<Instance>,
    state: Option<Vec<u8>>,
    adopted: Adopted,
}

impl Prepared {
    pub fn adopted(&self) -> &Adopted {
        &self.adopted
    }
}

/// Plugin slots in order, and the buffers a batch passes through.
pub struct Chain {
    lineup: Arc<Lineup>,
    /// The lineup generation the slots are in step with.
    generation: u64,
    slots: Vec<Slot>,
    builder: BatchBuilder,
    /// For each tick of the batch a slot is judging, its index in the input.
    positions: Vec<u32>,
    judgement: Judgement,
    batches: u64,
}

impl Chain {
    /// Starts one instance of each plugin, in the given order, under the
    /// given slot names, with the default fault policy.
    pub fn new(plugins: Vec<(String, Plugin)>) -> Result<Chain, ChainError> {
        let entries = plugins
            .into_iter()
            .map(|(name, plugin)| Entry::new(name, plugin))
            .collect();
        Chain::start(Lineup::new(entries, Duration::from_secs(1)))
    }

    /// Starts a chain that follows `lineup`, with an instance of each of
    /// its plugins.
    pub fn start(lineup: Arc<Lineup>) -> Result<Chain, ChainError> {
        let (generation, entries) = lineup.entries();
        let mut slots = Vec::with_capacity(entries.len());
        for entry in entries {
            let instance = entry.plugin.instantiate().map_err(|fault| ChainError {
                slot: entry.name.clone(),
                plugin: entry.plugin.name().to_string(),
                batch: 0,
                fault,
            })?;
            slots.push(Slot::new(entry.name, entry.plugin, entry.policy, instance));
        }
        Ok(Chain {
            lineup,
            generation,
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
        Ok(Chain::start(load_lineup(runtime, cache, config)?)?)
    }

    pub fn slots(&self) -> &[Slot] {
        &self.slots
    }

    pub fn lineup(&self) -> &Arc<Lineup> {
        &self.lineup
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
    /// the verdicts, and the faults that were contained on the way.
    ///
    /// Fails only when a slot whose policy is `halt` faults: the batch is
    /// then unjudged, and the caller should stop without committing it.
    pub fn process(&mut self, ticks: &[Tick]) -> Result<&Judgement, ChainError> {
        self.catch_up();
        let number = self.batches;
        self.batches += 1;
        self.judgement.reset(ticks.len());
        self.positions.clear();
        self.positions.extend(0..ticks.len() as u32);
        self.builder.build(ticks);
        let symbols = self.builder.symbols();
        let now = Instant::now();

        for index in 0..self.slots.len() {
            if self.positions.is_empty() {
                break;
            }
            let slot = &mut self.slots[index];
            if !slot.circuit.allows(now) {
                slot.stats.bypassed += 1;
                match slot.policy.on_fault {
                    OnFault::Skip => continue,
                    OnFault::DeadLetter | OnFault::Halt => {
                        let reason = format!(
                            "slot '{}' is bypassed: its circuit is open after repeated faults of \
                             plugin '{}'",
                            slot.name,
                            slot.plugin.name()
                        );
                        self.reject_remaining(index, &reason);
                        break;
                    }
                }
            }
            if slot.instance.is_none()
                && let Err(fault) = slot.revive()
            {
                // Still down: handled below as a fault of this batch.
                tracing::warn!(slot = %slot.name, "failed to restart the plugin: {fault}");
            }

            // Judge, with the names the instance has not been sent yet, and
            // believe the verdicts only once they are checked.
            let len = self.positions.len();
            let verdicts = match slot.judge(&mut self.builder, symbols) {
                Ok((verdicts, rolled_back)) => {
                    if slot.circuit.success() {
                        tracing::info!(slot = %slot.name, "circuit closed: the plugin judged a batch again");
                    }
                    if let Some((failed, fault)) = rolled_back {
                        slot.stats.faults += 1;
                        let note = format!(
                            "{} {} faulted on probation ({fault}) and was rolled back to {} {}",
                            failed.name(),
                            failed.info().version,
                            slot.plugin.name(),
                            slot.plugin.info().version
                        );
                        tracing::warn!(slot = %slot.name, "{note}");
                        self.judgement.faults.push(ChainError {
                            slot: slot.name.clone(),
                            plugin: failed.name().to_string(),
                            batch: number,
                            fault,
                        });
                        self.lineup.roll_back(index, failed.id(), note);
                    }
                    verdicts
                }
                Err(fault) => {
                    slot.stats.faults += 1;
                    let error = slot.error(number, fault);
                    if let Some(open_for) = slot.circuit.fault(now) {
                        tracing::warn!(slot = %slot.name, "circuit open for {open_for:?} after repeated faults");
                    }
                    let revived = slot.revive();
                    match slot.policy.on_fault {
                        OnFault::Halt => return Err(error),
                        OnFault::Skip => {
                            tracing::warn!("{error}; the slot was bypassed for this batch");
                        }
                        OnFault::DeadLetter => {
                            tracing::warn!("{error}; the ticks that reached it were rejected");
                            let reason = format!("plugin fault: {}", error.fault);
                            self.reject_remaining(index, &reason);
                        }
                    }
                    if let Err(fault) = revived {
                        tracing::warn!(slot = %error.slot, "failed to restart the plugin: {fault}");
                    }
                    self.judgement.faults.push(error);
                    continue;
                }
            };
            slot.stats.batches += 1;
            slot.stats.ticks += len as u64;
            slot.stats.dropped += verdicts.dropped.index.len() as u64;
            let annotations = &verdicts.annotations;
            slot.stats.annotations += annotations.index.len() as u64;
            if slot.last_good_at.elapsed() >= self.lineup.snapshot_interval()
                && let Err(fault) = slot.snapshot()
            {
                tracing::warn!(slot = %slot.name, "snapshot failed: {fault}");
            }

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
            let batch = self.builder.for_instance(symbols);
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

    /// Drops every tick still in the batch, at slot `index`, for `reason`.
    fn reject_remaining(&mut self, index: usize, reason: &str) {
        for &position in &self.positions {
            self.judgement.verdicts[position as usize] = Verdict::Dropped {
                slot: index,
                reason: reason.to_string(),
            };
        }
        self.positions.clear();
    }

    /// Adopts what changed in the lineup since the last batch: the slots
    /// whose plugin is no longer the lineup's. [`Chain::process`] does it
    /// before every batch.
    pub fn catch_up(&mut self) {
        let generation = self.lineup.generation();
        if generation == self.generation {
            return;
        }
        for index in 0..self.slots.len() {
            let (plugin, _) = self.lineup.slot(index);
            if plugin.id() == self.slots[index].plugin.id() {
                continue;
            }
            let slot = self.slots[index].name.clone();
            match self.prepare(index, &plugin, None) {
                Ok(prepared) => {
                    tracing::info!(slot = %slot, plugin = %plugin.name(), version = %plugin.info().version, "adopted: {}", prepared.adopted);
                    self.commit(prepared);
                }
                Err(fault) => {
                    // The lineup says this version; a chain that cannot start
                    // it takes it without state, and faults like any other.
                    tracing::error!(slot = %slot, "failed to adopt {}: {fault}", plugin.name());
                    let slot = &mut self.slots[index];
                    slot.plugin = plugin;
                    slot.instance = None;
                    slot.shadow = None;
                    slot.last_good = None;
                }
            }
        }
        self.generation = generation;
    }

    /// Makes an instance of `plugin` ready to replace slot `index`, with the
    /// slot's state carried over; the slot itself is left as it is, so a
    /// caller that prepares several chains can give up on all of them.
    ///
    /// Fails if the new version traps while starting or restoring, or if
    /// the running instance faults when asked for its snapshot.
    ///
    /// `spare` is an instance of `plugin` started beforehand, off the hot
    /// path, to be used instead of starting one here.
    pub fn prepare(
        &mut self,
        index: usize,
        plugin: &Plugin,
        spare: Option<Instance>,
    ) -> Result<Prepared, Fault> {
        let slot = &mut self.slots[index];
        if let Some(shadow) = &slot.shadow
            && shadow.plugin.id() == plugin.id()
        {
            return Ok(Prepared {
                index,
                plugin: plugin.clone(),
                instance: None,
                state: None,
                adopted: Adopted::FromShadow,
            });
        }
        let state = match slot.instance {
            Some(_) => Some(slot.snapshot()?),
            None => slot.last_good.clone(),
        };
        let mut instance = match spare {
            Some(instance) => instance,
            None => plugin.instantiate()?,
        };
        let adopted = match &state {
            None => Adopted::Empty,
            Some(bytes) => match instance.restore(bytes)? {
                Ok(()) => Adopted::Restored,
                Err(refusal) => {
                    instance = plugin.instantiate()?;
                    Adopted::Refused(refusal)
                }
            },
        };
        Ok(Prepared {
            index,
            plugin: plugin.clone(),
            instance: Some(instance),
            state: state.filter(|_| adopted == Adopted::Restored),
            adopted,
        })
    }

    /// Puts a prepared version in its slot. The instance it replaces runs
    /// beside it for [`PROBATION`] batches.
    pub fn commit(&mut self, prepared: Prepared) {
        let slot = &mut self.slots[prepared.index];
        let Some(instance) = prepared.instance else {
            // The new version is the one kept in step: swap them back.
            let shadow = slot.shadow.take().expect("prepared from the shadow");
            slot.plugin = shadow.plugin;
            slot.instance = Some(shadow.instance);
            slot.symbols_sent = shadow.symbols_sent;
            slot.probation = 0;
            slot.last_good = None;
            slot.last_good_at = Instant::now() - self.lineup.snapshot_interval();
            return;
        };
        let old_plugin = std::mem::replace(&mut slot.plugin, prepared.plugin);
        let old_instance = slot.instance.replace(instance);
        slot.shadow = old_instance.map(|instance| Shadow {
            plugin: old_plugin,
            instance,
            symbols_sent: slot.symbols_sent,
        });
        slot.probation = PROBATION;
        slot.symbols_sent = 0;
        slot.last_good = prepared.state;
        slot.last_good_at = Instant::now();
        slot.circuit = Circuit::new(slot.policy.circuit);
    }

    /// Marks the chain in step with the lineup's generation `generation`,
    /// after its slots were changed by [`Chain::commit`].
    pub fn set_generation(&mut self, generation: u64) {
        self.generation = generation;
    }

    /// Every slot's state, in slot order, as its plugin's snapshot bytes.
    /// Each becomes the slot's last good snapshot.
    pub fn snapshot(&mut self) -> Result<Vec<Vec<u8>>, ChainError> {
        let batch = self.batches;
        self.slots
            .iter_mut()
            .map(|slot| slot.snapshot().map_err(|fault| slot.error(batch, fault)))
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
        let restored = slot.call(|instance| instance.restore(bytes));
        match restored {
            Ok(Ok(())) => {
                slot.last_good = Some(bytes.to_vec());
                slot.last_good_at = Instant::now();
                Ok(())
            }
            Ok(Err(refusal)) => Err(slot.error(batch, Fault::Refused(refusal))),
            Err(fault) => {
                let error = slot.error(batch, fault);
                let _ = slot.revive();
                Err(error)
            }
        }
    }
}
