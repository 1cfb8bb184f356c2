//! Plugins: the wasmtime runtime, loading and validating components,
//! caching their compiled code, and running instances in a sandbox.
//!
//! - [`engine`]: the one engine and linker of the process, and the epoch clock;
//! - [`cache`]: compiled components on disk;
//! - [`component`]: a plugin file loaded, validated and pre-instantiated;
//! - [`instance`]: a running instance, its limits, and the faults it may report;
//! - [`params`]: configured parameters checked against the declared ones;
//! - [`output`]: a plugin's stdout and stderr, as log events;
//! - [`bindings`]: the generated host bindings of `wit/filter.wit`.

pub mod bindings;
pub mod cache;
pub mod component;
pub mod engine;
pub mod instance;
pub mod output;
pub mod params;

pub use cache::{ComponentCache, Origin};
pub use component::{LoadError, Plugin};
pub use engine::Runtime;
pub use instance::{Fault, Instance, Limits};

/// The contract version this host speaks: the version of the `tickhost:filter`
/// package in `wit/filter.wit`.
pub const CONTRACT_VERSION: &str = "0.1.0";

/// The name of the interface every plugin exports, without its version.
pub const FILTER_INTERFACE: &str = "tickhost:filter/filter";

/// Whether a plugin built for contract `version` can run on this host: the
/// same major version, or for 0.x the same minor version, as semver has it.
pub fn contract_compatible(version: &str) -> bool {
    let parse = |v: &str| -> Option<(u64, u64)> {
        let mut parts = v.split('.');
        let major = parts.next()?.parse().ok()?;
        let minor = parts.next()?.parse().ok()?;
        let patch = parts.next()?;
        (parts.next().is_none() && patch.parse::<u64>().is_ok()).then_some((major, minor))
    };
    match (parse(version), parse(CONTRACT_VERSION)) {
        (Some((0, minor)), Some((0, ours))) => minor == ours,
        (Some((major, _)), Some((ours, _))) => major == ours,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contract_compatibility_follows_semver() {
        assert!(contract_compatible("0.1.0"));
        assert!(contract_compatible("0.1.7"));
        assert!(!contract_compatible("0.2.0"));
        assert!(!contract_compatible("1.1.0"));
        assert!(!contract_compatible("0.1"));
        assert!(!contract_compatible(""));
        assert!(!contract_compatible("0.1.0.1"));
    }
}
