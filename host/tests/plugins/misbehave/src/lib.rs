//! misbehave: a test fixture for the host's containment tests, not a filter
//! anyone should deploy.
//!
//! It is a well-formed filter plugin for contract 0.1.0 whose fault is chosen
//! by its `mode` parameter, so that one component covers every way a plugin
//! can go wrong: traps, panics, endless loops, unbounded memory growth,
//! verdicts that break the contract, oversized output, errors, output on
//! stdout and stderr, slowness, and faults in `configure`, `restore` and
//! `snapshot`. With `mode = "ok"` it keeps every tick and annotates it with a
//! running count (`seen`) that survives snapshot and restore, so the tests
//! can also check that state carries over.
//!
//! Modules: [`bindings`] (generated), [`config`] (the modes and parameters),
//! [`instance`] (the state of one instance and its verdicts), [`faults`] (the
//! faults that never return). This file is only the WIT glue.

mod bindings;
mod config;
mod faults;
mod instance;

use std::sync::{Mutex, MutexGuard, PoisonError};

use bindings::exports::tickhost::filter::filter::{
    Batch, Guest, Param, ParamError, PluginInfo, Verdicts,
};
use instance::Instance;

/// The state of this component instance. A component instance runs on one
/// thread, so the lock is never contended; it only makes the static safe to
/// mutate. A panic traps the whole instance, so a poisoned lock is never
/// seen again by the host, and natively it is simply taken over.
static INSTANCE: Mutex<Instance> = Mutex::new(Instance::new());

fn instance() -> MutexGuard<'static, Instance> {
    INSTANCE.lock().unwrap_or_else(PoisonError::into_inner)
}

struct Component;

impl Guest for Component {
    fn describe() -> PluginInfo {
        config::describe()
    }

    fn configure(params: Vec<Param>) -> Result<(), ParamError> {
        instance().configure(&params)
    }

    fn process(batch: Batch) -> Result<Verdicts, String> {
        instance().process(&batch)
    }

    fn snapshot() -> Vec<u8> {
        instance().snapshot()
    }

    fn restore(state: Vec<u8>) -> Result<(), String> {
        instance().restore(&state)
    }
}

bindings::export!(Component with_types_in bindings);
