//! What every tickhost filter plugin shares: the guest bindings for the
//! contract in `wit/filter.wit`, the [`Rule`] trait a plugin implements in
//! plain Rust, and the helpers each rule would otherwise write again.
//!
//! A plugin crate writes its rule as a type that implements [`Rule`] and
//! exports it with one line:
//!
//! ```ignore
//! tickhost_plugin_kit::export_rule!(Spike);
//! ```
//!
//! The export only expands on `wasm32`, so natively a plugin crate is an
//! ordinary library whose rule can be unit-tested and benchmarked by calling
//! the [`Rule`] methods directly.
//!
//! Modules:
//!
//! - [`bindings`]: the generated bindings, nothing else;
//! - [`rule`]: the [`Rule`] trait;
//! - [`batch`]: the [`Batch`] a rule judges, read as [`Tick`]s, and
//!   batches built for tests;
//! - [`instance`]: the one instance a component holds, and the order in
//!   which the host may call it;
//! - `export`: the [`export_rule!`] macro;
//! - [`params`]: configured parameters checked against their specs;
//! - [`symbols`]: the instance's symbol table, and per-symbol state
//!   resolved from it once per symbol;
//! - [`order`]: the out-of-order rule shared by the stateful plugins;
//! - [`snapshot`]: the envelope around a plugin's snapshot bytes;
//! - [`packed`]: windows of `(timestamp, price)` pairs in a snapshot as
//!   one run of bytes;
//! - [`text`]: durations and numbers as reasons show them;
//! - [`verdicts`]: verdicts written one drop and one annotation at a time.

pub mod batch;
pub mod bindings;
mod export;
pub mod instance;
pub mod order;
pub mod packed;
pub mod params;
pub mod rule;
pub mod snapshot;
pub mod symbols;
pub mod text;
pub mod verdicts;

pub use batch::{Batch, BatchBuilder, Tick};
/// A batch as the host sends it: its columns, and only the symbols new to
/// the instance. [`Instance`] turns it into the [`Batch`] a rule judges.
pub use bindings::tickhost::filter::types::Batch as HostBatch;
pub use bindings::tickhost::filter::types::{
    Annotations, Drops, Param, ParamError, ParamProblem, ParamSpec, ParamType, ParamValue,
    PluginInfo, SymbolId, Verdicts,
};
pub use instance::Instance;
pub use order::{Order, OutOfOrder};
pub use params::Params;
pub use rule::Rule;
pub use snapshot::SnapshotError;
pub use symbols::{SymbolStates, SymbolTable};
pub use text::{Millis, Thousands};

/// The version of the contract these bindings were generated from: the
/// version of the WIT package `tickhost:filter`. A plugin reports it in
/// [`PluginInfo::contract`], and the host refuses a plugin whose contract it
/// does not speak. A unit test keeps it equal to the version in the WIT.
pub const CONTRACT_VERSION: &str = "0.1.0";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contract_version_matches_the_wit_package() {
        let wit = include_str!("../../../wit/filter.wit");
        let package = wit
            .lines()
            .find_map(|line| line.strip_prefix("package tickhost:filter@"))
            .expect("the WIT declares package tickhost:filter");

        assert_eq!(package, format!("{CONTRACT_VERSION};"));
    }
}
