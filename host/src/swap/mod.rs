//! Hot swap: replacing a slot's plugin in a running host, and rolling it
//! back, with every chain switching between two batches.
//!
//! One mechanism, three ways in: the admin HTTP API ([`admin`]), the
//! configuration watcher ([`watch`]), and `tickhost plugin swap`, which
//! calls the API. Each ends in [`Control::swap`] or [`Control::rollback`]:
//!
//! 1. the new component is read, compiled, validated and configured, and
//!    one instance of it is started per chain, off the hot path (a failure
//!    here changes nothing);
//! 2. every chain of the process is held between batches ([`Chains`]); each
//!    new instance is given the old instance's snapshot
//!    ([`Chain::prepare`]). If any traps, all are dropped and the old
//!    version keeps running everywhere;
//! 3. the lineup is changed and every chain takes its prepared instance
//!    ([`Chain::commit`]); the old instance runs beside the new one on
//!    probation, and a new version that faults then is rolled back by the
//!    chain itself, with no batch lost.
//!
//! The time the chains are held is the pause that a swap costs, returned in
//! [`Swapped`] and measured by `cargo bench -p tickhost --bench swap`.

pub mod admin;
pub mod watch;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant, SystemTime};

use serde::Serialize;

use crate::chain::{Adopted, Chain, Prepared, SlotStats};
use crate::circuit::CircuitState;
use crate::lineup::Lineup;
use crate::plugin::{ComponentCache, Fault, Instance, Limits, LoadError, Plugin, Runtime};

/// Every chain of a process, to be held between batches.
pub trait Chains: Send + Sync {
    /// Runs `f` on all chains at once, while none of them judges a batch.
    fn with_chains(&self, f: &mut dyn FnMut(&mut [&mut Chain]));
}

/// The one chain of `tickhost run`, or of a test.
impl Chains for Mutex<Chain> {
    fn with_chains(&self, f: &mut dyn FnMut(&mut [&mut Chain])) {
        let mut chain = self.lock().unwrap_or_else(PoisonError::into_inner);
        f(&mut [&mut *chain]);
    }
}

/// Where a new version comes from.
#[derive(Debug, Clone)]
pub enum Source {
    /// A component file on this machine.
    Path(PathBuf),
    /// A component's bytes, uploaded; `name` labels it in logs and errors.
    Bytes { name: String, bytes: Vec<u8> },
}

/// Why a swap or rollback did not happen. The old version keeps running.
#[derive(Debug, thiserror::Error)]
pub enum SwapError {
    #[error("there is no slot named '{0}'")]
    UnknownSlot(String),
    #[error("slot '{0}' has no previous version to roll back to")]
    NoPrevious(String),
    #[error(transparent)]
    Load(#[from] LoadError),
    #[error("the new version of slot '{slot}' failed to take over the state: {fault}")]
    Start { slot: String, fault: Fault },
}

/// One version of a plugin, as the API shows it.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Version {
    pub plugin: String,
    pub version: String,
    pub contract: String,
    /// SHA-256 of the component, hex.
    pub hash: String,
    pub path: String,
    /// When it was loaded, RFC 3339.
    pub loaded_at: String,
}

impl Version {
    pub fn of(plugin: &Plugin) -> Version {
        Version {
            plugin: plugin.name().to_string(),
            version: plugin.info().version.clone(),
            contract: plugin.info().contract.clone(),
            hash: plugin.hash().to_string(),
            path: plugin.path().display().to_string(),
            loaded_at: timestamp(plugin.loaded_at()),
        }
    }
}

/// What a swap or rollback did.
#[derive(Debug, Clone, Serialize)]
pub struct Swapped {
    pub slot: String,
    pub from: Version,
    pub to: Version,
    /// The chains that switched (one per assigned partition under `serve`).
    pub chains: usize,
    /// What became of the state, in a sentence per distinct outcome.
    pub state: Vec<String>,
    /// Whether every chain carried its state over.
    pub state_carried: bool,
    /// How long the chains were held between batches, in microseconds.
    #[serde(rename = "pause_us", serialize_with = "micros")]
    pub pause: Duration,
}

/// A slot as `GET /plugins` shows it.
#[derive(Debug, Clone, Serialize)]
pub struct SlotStatus {
    pub slot: String,
    #[serde(flatten)]
    pub running: Version,
    pub params: toml::Table,
    pub on_fault: String,
    /// When the running version was put in.
    pub since: String,
    pub swaps: u64,
    pub rollbacks: u64,
    pub last_change: Option<String>,
    /// Earlier versions, newest first: what `rollback` goes back to.
    pub previous: Vec<Version>,
    /// `closed`, `half-open`, or `open` (in any chain).
    pub circuit: &'static str,
    /// Chains running this slot, and how many are on probation.
    pub chains: usize,
    pub on_probation: usize,
    /// Summed over the chains that run the slot now.
    pub counters: SlotStats,
}

/// Swaps and rolls back the plugins of a running host.
pub struct Control {
    runtime: Runtime,
    cache: ComponentCache,
    limits: Limits,
    lineup: Arc<Lineup>,
    chains: Arc<dyn Chains>,
    /// One change at a time.
    changing: Mutex<()>,
}

/// What a change does to the lineup once every chain is ready.
enum Change {
    Install(toml::Table),
    RollBack,
}

impl Control {
    pub fn new(
        runtime: Runtime,
        cache: ComponentCache,
        limits: Limits,
        lineup: Arc<Lineup>,
        chains: Arc<dyn Chains>,
    ) -> Control {
        Control {
            runtime,
            cache,
            limits,
            lineup,
            chains,
            changing: Mutex::new(()),
        }
    }

    pub fn lineup(&self) -> &Arc<Lineup> {
        &self.lineup
    }

    /// Replaces the plugin of `slot` with the component from `source`,
    /// configured with `params` (by default, the slot's current ones).
    pub fn swap(
        &self,
        slot: &str,
        source: Source,
        params: Option<toml::Table>,
    ) -> Result<Swapped, SwapError> {
        let index = self.index(slot)?;
        let params = params.unwrap_or_else(|| self.lineup.entries().1[index].params.clone());
        let plugin = match &source {
            Source::Path(path) => {
                Plugin::load(&self.runtime, &self.cache, path, &params, self.limits)?
            }
            Source::Bytes { name, bytes } => Plugin::from_bytes(
                &self.runtime,
                &self.cache,
                Path::new(name),
                bytes,
                &params,
                self.limits,
            )?,
        };
        self.switch(index, plugin, Change::Install(params))
    }

    /// Goes back to the version that `slot` ran before its last swap.
    pub fn rollback(&self, slot: &str) -> Result<Swapped, SwapError> {
        let index = self.index(slot)?;
        let (plugin, _) = self
            .lineup
            .previous(index)
            .ok_or_else(|| SwapError::NoPrevious(slot.to_string()))?;
        self.switch(index, plugin, Change::RollBack)
    }

    /// Every slot, its versions, its circuit and its counters.
    pub fn status(&self) -> Vec<SlotStatus> {
        let (_, entries) = self.lineup.entries();
        let mut slots: Vec<SlotStatus> = entries
            .iter()
            .map(|entry| SlotStatus {
                slot: entry.name.clone(),
                running: Version::of(&entry.plugin),
                params: entry.params.clone(),
                on_fault: entry.policy.on_fault.to_string(),
                since: timestamp(entry.since),
                swaps: entry.swaps,
                rollbacks: entry.rollbacks,
                last_change: entry.last_change.clone(),
                previous: entry
                    .previous
                    .iter()
                    .rev()
                    .map(|(p, _)| Version::of(p))
                    .collect(),
                circuit: "closed",
                chains: 0,
                on_probation: 0,
                counters: SlotStats::default(),
            })
            .collect();
        self.chains.with_chains(&mut |chains| {
            for chain in chains.iter() {
                for (status, slot) in slots.iter_mut().zip(chain.slots()) {
                    status.chains += 1;
                    status.on_probation += slot.on_probation() as usize;
                    status.counters += slot.stats();
                    status.circuit = match (status.circuit, slot.circuit()) {
                        (_, CircuitState::Open { .. }) | ("open", _) => "open",
                        (_, CircuitState::HalfOpen) | ("half-open", _) => "half-open",
                        _ => "closed",
                    };
                }
            }
        });
        slots
    }

    fn index(&self, slot: &str) -> Result<usize, SwapError> {
        self.lineup
            .index_of(slot)
            .ok_or_else(|| SwapError::UnknownSlot(slot.to_string()))
    }

    /// Prepares the new version in every chain, then, if all are ready,
    /// changes the lineup and commits them, all between two batches.
    fn switch(&self, index: usize, plugin: Plugin, change: Change) -> Result<Swapped, SwapError> {
        let _one_at_a_time = self.changing.lock().unwrap_or_else(PoisonError::into_inner);
        let (_, entries) = self.lineup.entries();
        let entry = &entries[index];
        let from = Version::of(&entry.plugin);
        let to = Version::of(&plugin);
        // Start the new instances before holding the chains, so that the
        // pause is the state's transfer alone. A chain that appears in the
        // meantime starts its own.
        let mut count = 0;
        self.chains.with_chains(&mut |chains| count = chains.len());
        let mut spares = (0..count)
            .map(|_| plugin.instantiate())
            .collect::<Result<Vec<Instance>, Fault>>()
            .map_err(|fault| SwapError::Start {
                slot: entry.name.clone(),
                fault,
            })?;
        let mut outcome: Result<(usize, Vec<Adopted>, Duration), Fault> = Err(Fault::Down);
        let mut change = Some(change);
        // Dropped at the end, once the chains run again.
        let mut evicted: Option<Plugin> = None;
        self.chains.with_chains(&mut |chains| {
            let start = Instant::now();
            let prepared = match prepare_all(chains, index, &plugin, &mut spares) {
                Ok(prepared) => prepared,
                Err(fault) => {
                    outcome = Err(fault);
                    return;
                }
            };
            let adopted: Vec<Adopted> = prepared.iter().map(|p| p.adopted().clone()).collect();
            let note = describe(&from, &to, &adopted);
            match change.take().expect("one change per switch") {
                Change::Install(params) => {
                    evicted = self.lineup.install(index, plugin.clone(), params, note);
                }
                Change::RollBack => {
                    self.lineup.roll_back(index, entry.plugin.id(), note);
                }
            }
            let generation = self.lineup.generation();
            for (chain, ready) in chains.iter_mut().zip(prepared) {
                chain.commit(ready);
                chain.set_generation(generation);
            }
            outcome = Ok((chains.len(), adopted, start.elapsed()));
        });
        drop(evicted);
        let (chains, adopted, pause) = outcome.map_err(|fault| SwapError::Start {
            slot: entry.name.clone(),
            fault,
        })?;
        if chains == 0 {
            // No chain ran yet: only the lineup changed.
            if let Some(change) = change.take() {
                let note = describe(&from, &to, &[]);
                match change {
                    Change::Install(params) => {
                        drop(self.lineup.install(index, plugin, params, note));
                    }
                    Change::RollBack => {
                        self.lineup.roll_back(index, entry.plugin.id(), note);
                    }
                }
            }
        }
        let mut state: Vec<String> = adopted.iter().map(ToString::to_string).collect();
        state.sort();
        state.dedup();
        let state_carried = adopted
            .iter()
            .all(|a| matches!(a, Adopted::Restored | Adopted::FromShadow));
        let swapped = Swapped {
            slot: entry.name.clone(),
            from,
            to,
            chains,
            state,
            state_carried,
            pause,
        };
        if swapped.state_carried {
            tracing::info!(slot = %swapped.slot, chains, pause_us = pause.as_micros() as u64, "{}", describe(&swapped.from, &swapped.to, &adopted));
        } else {
            tracing::warn!(slot = %swapped.slot, chains, pause_us = pause.as_micros() as u64, "{}", describe(&swapped.from, &swapped.to, &adopted));
        }
        Ok(swapped)
    }
}

/// The cores this process may use, looked up once: the lookup reads the
/// cgroup's files, which a swap's pause should not wait for.
fn cores() -> usize {
    static CORES: OnceLock<usize> = OnceLock::new();
    *CORES.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

/// The state, summed over the chains, from which a swap transfers it in
/// parallel.
const PARALLEL_STATE: usize = 64 << 10;

/// Prepares the new version in every chain, the chains spread over the
/// cores when their state is large: the chains are held meanwhile, and each
/// transfers its own state.
fn prepare_all(
    chains: &mut [&mut Chain],
    index: usize,
    plugin: &Plugin,
    spares: &mut Vec<Instance>,
) -> Result<Vec<Prepared>, Fault> {
    let mut work: Vec<(&mut Chain, Option<Instance>)> = chains
        .iter_mut()
        .map(|chain| (&mut **chain, spares.pop()))
        .collect();
    let prepare = |(chain, spare): &mut (&mut Chain, Option<Instance>)| {
        chain.catch_up();
        chain.prepare(index, plugin, spare.take())
    };
    // A thread costs tens of microseconds to start: worth it only when
    // there is state to move. Without a snapshot yet, assume there is.
    let state: usize = work
        .iter()
        .map(|(chain, _)| chain.slots()[index].state_size().unwrap_or(usize::MAX))
        .fold(0, usize::saturating_add);
    if work.len() <= 1 || state < PARALLEL_STATE || cores() == 1 {
        return work.iter_mut().map(prepare).collect();
    }
    let workers = cores();
    let per_worker = work.len().div_ceil(workers);
    std::thread::scope(|scope| {
        let handles: Vec<_> = work
            .chunks_mut(per_worker)
            .map(|chunk| scope.spawn(move || chunk.iter_mut().map(prepare).collect::<Vec<_>>()))
            .collect();
        handles
            .into_iter()
            .flat_map(|handle| {
                handle
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
            .collect()
    })
}

/// A change in a sentence, for the log and the lineup's history.
fn describe(from: &Version, to: &Version, adopted: &[Adopted]) -> String {
    let mut outcomes: Vec<String> = adopted.iter().map(ToString::to_string).collect();
    outcomes.sort();
    outcomes.dedup();
    let state = if outcomes.is_empty() {
        "no chain was running".to_string()
    } else {
        outcomes.join("; ")
    };
    format!(
        "{} {} ({}) replaced by {} {} ({}): {state}",
        from.plugin,
        from.version,
        short(&from.hash),
        to.plugin,
        to.version,
        short(&to.hash)
    )
}

fn short(hash: &str) -> &str {
    &hash[..hash.len().min(12)]
}

fn timestamp(time: SystemTime) -> String {
    jiff::Timestamp::try_from(time)
        .map(|t| t.to_string())
        .unwrap_or_default()
}

fn micros<S: serde::Serializer>(duration: &Duration, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_u64(duration.as_micros() as u64)
}
