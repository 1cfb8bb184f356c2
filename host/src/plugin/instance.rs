//! One running plugin: a wasmtime [`Store`] with its sandbox, and the calls of
//! the contract wrapped so that whatever the plugin does comes back as a
//! value, never as a crash of the host.
//!
//! The sandbox: WASI with no preopened directories, no environment, no
//! arguments, no network and an empty stdin; stdout and stderr go to the log
//! ([`super::output`]); memory and table growth are capped by [`Limits`]; and
//! every call has a deadline enforced by epoch interruption. After a fault
//! the instance must not be called again: its memory may be half-updated.
//! Rebuilding it is the caller's business.

use std::sync::Arc;
use std::time::Duration;

use wasmtime::component::ResourceTable;
use wasmtime::{ResourceLimiter, Store, Trap};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use super::bindings::{Batch, Param, ParamError, Plugin, PluginInfo, PluginPre, Verdicts};
use super::engine::Runtime;
use super::output::{PluginOutput, Stream};

/// Default cap on a plugin's linear memory. The three shipped plugins use a
/// few MiB with thousands of symbols; the cap leaves room for ten times that
/// while keeping a hostile plugin from taking the host's memory.
pub const DEFAULT_MEMORY_LIMIT: usize = 64 << 20;

/// Default deadline of one call. The three shipped plugins judge a batch of
/// 8,192 ticks in well under a millisecond; a call that takes 100 times that
/// is looping, not working.
pub const DEFAULT_CALL_DEADLINE: Duration = Duration::from_millis(100);

/// Default deadline of a snapshot or a restore. A state grows with the
/// symbols and the windows (a plugin holding ten minutes of ticks a second
/// for a thousand symbols snapshots about 3 MiB, in some 30 ms), so it gets
/// more time than a batch; it still bounds how long a hostile plugin can
/// stall a swap, a checkpoint or a recovery.
pub const DEFAULT_STATE_DEADLINE: Duration = Duration::from_secs(1);

/// Default cap on table elements. Tables hold function references; Rust
/// plugins use a few hundred.
pub const DEFAULT_TABLE_ELEMENTS: usize = 100_000;

/// A component of a Rust plugin instantiates a handful of core instances
/// (its own code plus shims); this bounds what a crafted component can ask.
const MAX_INSTANCES: usize = 64;
const MAX_MEMORIES: usize = 16;
const MAX_TABLES: usize = 64;

/// The resource limits of every instance of a plugin.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limits {
    /// Bytes of linear memory, over all of the instance's memories.
    pub memory: usize,
    /// Elements per table.
    pub table_elements: usize,
    /// Wall-clock time one call may take.
    pub deadline: Duration,
    /// Wall-clock time a snapshot or a restore may take.
    pub state_deadline: Duration,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            memory: DEFAULT_MEMORY_LIMIT,
            table_elements: DEFAULT_TABLE_ELEMENTS,
            deadline: DEFAULT_CALL_DEADLINE,
            state_deadline: DEFAULT_STATE_DEADLINE,
        }
    }
}

/// What a plugin did wrong. The host is unaffected by any of these.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Fault {
    #[error("exceeded its deadline of {0:?}")]
    Deadline(Duration),
    #[error("exceeded its memory limit of {limit} bytes (asked for {asked})")]
    Memory { limit: usize, asked: usize },
    #[error("trapped: {0}")]
    Trap(String),
    #[error("returned an error: {0}")]
    Refused(String),
    #[error("returned invalid verdicts: {0}")]
    Invalid(String),
    #[error("is down after an earlier fault and has not been restarted")]
    Down,
}

/// The data of a plugin's store: its WASI context and its limiter.
pub struct Sandbox {
    wasi: WasiCtx,
    table: ResourceTable,
    limiter: Limiter,
}

impl WasiView for Sandbox {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

/// Enforces [`Limits`] and remembers which limit a trap came from, so that
/// the fault can say so.
struct Limiter {
    memory: usize,
    table_elements: usize,
    memory_denied: Option<usize>,
}

impl ResourceLimiter for Limiter {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        // `desired` is per memory; the cap is meant for the instance, and
        // Rust plugins have one memory, so per-memory is exact for them and
        // MAX_MEMORIES bounds the rest.
        if desired > self.memory {
            self.memory_denied = Some(desired);
            wasmtime::bail!(
                "memory limit of {} bytes reached (at {current})",
                self.memory
            );
        }
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.table_elements {
            wasmtime::bail!("table limit of {} elements reached", self.table_elements);
        }
        Ok(true)
    }

    fn instances(&self) -> usize {
        MAX_INSTANCES
    }

    fn tables(&self) -> usize {
        MAX_TABLES
    }

    fn memories(&self) -> usize {
        MAX_MEMORIES
    }
}

/// A live instance of a plugin.
pub struct Instance {
    store: Store<Sandbox>,
    plugin: Plugin,
    limits: Limits,
    /// The deadline of the call in progress (or the last one).
    armed: Duration,
}

impl Instance {
    /// Instantiates a pre-linked plugin in a new store with its own limits.
    pub fn new(pre: &PluginPre<Sandbox>, name: &str, limits: Limits) -> Result<Instance, Fault> {
        let name: Arc<str> = name.into();
        let wasi = WasiCtx::builder()
            .stdout(PluginOutput::new(name.clone(), Stream::Stdout))
            .stderr(PluginOutput::new(name, Stream::Stderr))
            .build();
        let sandbox = Sandbox {
            wasi,
            table: ResourceTable::new(),
            limiter: Limiter {
                memory: limits.memory,
                table_elements: limits.table_elements,
                memory_denied: None,
            },
        };

        let mut store = Store::new(pre.engine(), sandbox);
        store.limiter(|sandbox| &mut sandbox.limiter);
        store.epoch_deadline_trap();
        store.set_epoch_deadline(Runtime::epochs_for(limits.deadline));

        let plugin = pre
            .instantiate(&mut store)
            .map_err(|e| classify(&store, limits, limits.deadline, e))?;
        Ok(Instance {
            store,
            plugin,
            limits,
            armed: limits.deadline,
        })
    }

    pub fn describe(&mut self) -> Result<PluginInfo, Fault> {
        self.arm(self.limits.deadline);
        let result = self
            .plugin
            .tickhost_filter_filter()
            .call_describe(&mut self.store);
        self.settle(result)
    }

    pub fn configure(&mut self, params: &[Param]) -> Result<Result<(), ParamError>, Fault> {
        self.arm(self.limits.deadline);
        let result = self
            .plugin
            .tickhost_filter_filter()
            .call_configure(&mut self.store, params);
        self.settle(result)
    }

    /// Judges one batch. The verdicts are returned as the plugin gave them;
    /// checking them against the batch is the chain's job.
    pub fn process(&mut self, batch: &Batch) -> Result<Verdicts, Fault> {
        self.arm(self.limits.deadline);
        let result = self
            .plugin
            .tickhost_filter_filter()
            .call_process(&mut self.store, batch);
        self.settle(result)?.map_err(Fault::Refused)
    }

    pub fn snapshot(&mut self) -> Result<Vec<u8>, Fault> {
        self.arm(self.limits.state_deadline);
        let result = self
            .plugin
            .tickhost_filter_filter()
            .call_snapshot(&mut self.store);
        self.settle(result)
    }

    pub fn restore(&mut self, state: &[u8]) -> Result<Result<(), String>, Fault> {
        self.arm(self.limits.state_deadline);
        let result = self
            .plugin
            .tickhost_filter_filter()
            .call_restore(&mut self.store, state);
        self.settle(result)
    }

    fn arm(&mut self, deadline: Duration) {
        self.armed = deadline;
        self.store.set_epoch_deadline(Runtime::epochs_for(deadline));
    }

    fn settle<T>(&mut self, result: wasmtime::Result<T>) -> Result<T, Fault> {
        result.map_err(|e| classify(&self.store, self.limits, self.armed, e))
    }
}

/// Turns a wasmtime error from a call into the fault it stands for.
fn classify(
    store: &Store<Sandbox>,
    limits: Limits,
    deadline: Duration,
    error: wasmtime::Error,
) -> Fault {
    if let Some(asked) = store.data().limiter.memory_denied {
        return Fault::Memory {
            limit: limits.memory,
            asked,
        };
    }
    match error.downcast_ref::<Trap>() {
        Some(Trap::Interrupt) => Fault::Deadline(deadline),
        Some(trap) => Fault::Trap(trap.to_string()),
        None => Fault::Trap(format!("{error:#}")),
    }
}
