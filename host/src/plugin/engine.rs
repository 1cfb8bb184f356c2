//! The one wasmtime [`Engine`] of a tickhost process, its [`Linker`], and the
//! clock that drives call deadlines.
//!
//! Every plugin is compiled by this engine and instantiated through this
//! linker. The linker provides WASI 0.2 with no capabilities (see
//! [`super::instance`] for what each store's context grants), because Rust's
//! standard library for `wasm32-wasip2` imports WASI even when a plugin never
//! touches a file.

use std::sync::Arc;
use std::thread;
use std::time::Duration;

use wasmtime::component::Linker;
use wasmtime::{Config, Engine, OptLevel};

use super::instance::Sandbox;

/// How often the epoch advances. A call's deadline is a number of epochs, so
/// this is the resolution of deadlines: a runaway call is stopped at most one
/// period after its deadline. One millisecond costs one atomic increment per
/// millisecond and is fine-grained enough for deadlines of a few ms.
pub const EPOCH_PERIOD: Duration = Duration::from_millis(1);

/// The engine and linker shared by every plugin of the process.
#[derive(Clone)]
pub struct Runtime {
    inner: Arc<Inner>,
}

struct Inner {
    engine: Engine,
    linker: Linker<Sandbox>,
}

impl Runtime {
    /// Creates the engine, links WASI, and starts the epoch clock. The clock
    /// thread ends by itself once the last clone of the engine is dropped.
    pub fn new() -> anyhow::Result<Runtime> {
        Runtime::build(true)
    }

    /// A runtime whose calls have no deadline: the generated code carries no
    /// epoch checks, so a looping plugin loops for ever. It exists to
    /// measure what deadlines cost (`cargo bench -p tickhost --bench
    /// swap`); never run plugins you do not control on it.
    pub fn without_deadlines() -> anyhow::Result<Runtime> {
        Runtime::build(false)
    }

    fn build(deadlines: bool) -> anyhow::Result<Runtime> {
        let mut config = Config::new();
        config
            .wasm_component_model(true)
            .epoch_interruption(deadlines)
            .cranelift_opt_level(OptLevel::Speed);
        let engine = Engine::new(&config)?;

        let mut linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker)?;

        if deadlines {
            start_epoch_clock(&engine);
        }
        Ok(Runtime {
            inner: Arc::new(Inner { engine, linker }),
        })
    }

    pub fn engine(&self) -> &Engine {
        &self.inner.engine
    }

    pub fn linker(&self) -> &Linker<Sandbox> {
        &self.inner.linker
    }

    /// Converts a duration to the number of epochs a call may run for,
    /// rounded up, and at least one.
    pub fn epochs_for(deadline: Duration) -> u64 {
        let period = EPOCH_PERIOD.as_nanos();
        (deadline.as_nanos().div_ceil(period) as u64).max(1)
    }
}

fn start_epoch_clock(engine: &Engine) {
    let weak = engine.weak();
    thread::Builder::new()
        .name("tickhost-epoch".into())
        .spawn(move || {
            while let Some(engine) = weak.upgrade() {
                engine.increment_epoch();
                drop(engine);
                thread::sleep(EPOCH_PERIOD);
            }
        })
        .expect("failed to start the epoch clock thread");
}
