//! The lineup: which plugin every chain should run in each slot, now.
//!
//! All the chains of a process (one per input partition under `serve`, one
//! under `run`) start from the same lineup and follow it: a swap or a
//! rollback changes the lineup and bumps its generation, and a chain that
//! sees a generation it has not caught up with adopts the changed slots
//! before its next batch (see [`crate::chain::Chain::process`]). A chain
//! that rolls a slot back on its own, because the new version faulted in
//! its first batches, reports it here so that every other chain follows.
//!
//! The lineup also keeps, per slot, the versions that ran before (for
//! `rollback`) and what happened to the slot, for the admin API.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime};

use crate::circuit::FaultPolicy;
use crate::plugin::Plugin;

/// How many earlier versions of a slot are kept for rollback.
pub const HISTORY: usize = 8;

/// One slot of the lineup.
#[derive(Clone)]
pub struct Entry {
    /// The slot's name, unique in the chain.
    pub name: String,
    pub plugin: Plugin,
    /// The parameters as the configuration gave them, for the next version.
    pub params: toml::Table,
    pub policy: FaultPolicy,
    /// Earlier versions, newest last, with their parameters.
    pub previous: Vec<(Plugin, toml::Table)>,
    /// When the current version was put in.
    pub since: SystemTime,
    /// Swaps and rollbacks of this slot since the process started.
    pub swaps: u64,
    pub rollbacks: u64,
    /// The last swap or rollback, in a sentence.
    pub last_change: Option<String>,
}

impl std::fmt::Debug for Entry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Entry")
            .field("name", &self.name)
            .field("plugin", &self.plugin.name())
            .field("version", &self.plugin.info().version)
            .field("previous", &self.previous.len())
            .finish()
    }
}

impl Entry {
    /// A slot with its first version and the default fault policy.
    pub fn new(name: impl Into<String>, plugin: Plugin) -> Entry {
        Entry {
            name: name.into(),
            plugin,
            params: toml::Table::new(),
            policy: FaultPolicy::default(),
            previous: Vec::new(),
            since: SystemTime::now(),
            swaps: 0,
            rollbacks: 0,
            last_change: None,
        }
    }
}

/// The plugins every chain should run, and a generation that changes with
/// them.
#[derive(Debug)]
pub struct Lineup {
    generation: AtomicU64,
    slots: Mutex<Vec<Entry>>,
    /// How stale a slot's last good snapshot may get before the chain takes
    /// a new one (see [`crate::chain`] on recovering from a fault).
    snapshot_interval: Duration,
}

impl Lineup {
    pub fn new(slots: Vec<Entry>, snapshot_interval: Duration) -> Arc<Lineup> {
        Arc::new(Lineup {
            generation: AtomicU64::new(0),
            slots: Mutex::new(slots),
            snapshot_interval,
        })
    }

    /// Bumped by every change; a chain compares it with the one it follows
    /// before each batch, which costs one atomic load.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    pub fn snapshot_interval(&self) -> Duration {
        self.snapshot_interval
    }

    /// The slots as they are now, with the generation they belong to.
    pub fn entries(&self) -> (u64, Vec<Entry>) {
        let slots = self.lock();
        (self.generation(), slots.clone())
    }

    /// The index of the slot with this name.
    pub fn index_of(&self, name: &str) -> Option<usize> {
        self.lock().iter().position(|e| e.name == name)
    }

    /// Puts `plugin` in slot `index`; the version it replaces becomes the
    /// one a rollback goes back to.
    ///
    /// Returns the version that fell out of the history, if one did, for
    /// the caller to drop when it is not holding anything up: freeing a
    /// compiled component unmaps its code.
    #[must_use = "drop the evicted version outside any hold"]
    pub fn install(
        &self,
        index: usize,
        plugin: Plugin,
        params: toml::Table,
        note: String,
    ) -> Option<Plugin> {
        let mut slots = self.lock();
        let entry = &mut slots[index];
        let old = std::mem::replace(&mut entry.plugin, plugin);
        let old_params = std::mem::replace(&mut entry.params, params);
        entry.previous.push((old, old_params));
        let evicted = (entry.previous.len() > HISTORY).then(|| entry.previous.remove(0).0);
        entry.since = SystemTime::now();
        entry.swaps += 1;
        entry.last_change = Some(note);
        self.generation.fetch_add(1, Ordering::AcqRel);
        evicted
    }

    /// The version a rollback of slot `index` would go back to.
    pub fn previous(&self, index: usize) -> Option<(Plugin, toml::Table)> {
        self.lock()[index].previous.last().cloned()
    }

    /// Goes back to the previous version of slot `index`, if the slot still
    /// runs the plugin `from` (two chains may report the same fault).
    /// Returns the version now running, or `None` if nothing changed.
    pub fn roll_back(&self, index: usize, from: u64, note: String) -> Option<Plugin> {
        let mut slots = self.lock();
        let entry = &mut slots[index];
        if entry.plugin.id() != from {
            return None;
        }
        let (plugin, params) = entry.previous.pop()?;
        entry.plugin = plugin.clone();
        entry.params = params;
        entry.since = SystemTime::now();
        entry.rollbacks += 1;
        entry.last_change = Some(note);
        self.generation.fetch_add(1, Ordering::AcqRel);
        Some(plugin)
    }

    /// The plugin that slot `index` should run, and its fault policy.
    pub(crate) fn slot(&self, index: usize) -> (Plugin, FaultPolicy) {
        let slots = self.lock();
        (slots[index].plugin.clone(), slots[index].policy)
    }

    pub fn len(&self) -> usize {
        self.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> MutexGuard<'_, Vec<Entry>> {
        self.slots.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
