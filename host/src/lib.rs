//! tickhost: market ticks through a chain of WebAssembly filter plugins.
//!
//! A tick enters as JSON (from Kafka or a file) and is validated in [`tick`];
//! batches of ticks, in the contract's layout ([`batch`]), are judged by the
//! [`chain`] of plugin slots, each a component loaded and sandboxed by
//! [`plugin`], into [`verdict`]s. What a tick came to leaves as a [`record`].
//!
//! - [`config`]: `tickhost.toml`, with [`duration`]s as people write them;
//! - [`input`], [`run`], [`report`]: `tickhost run` over a file;
//! - [`kafka`]: `tickhost serve`, the streaming host;
//! - [`produce`]: ticks into the input topic from Alpha Vantage or a
//!   recording (`tickhost produce`, `fetch`, `replay`).
//!
//! Logging policy: INFO for lifecycle events (a plugin loaded, a run
//! finished), WARN for a fault that was contained, ERROR for what stops the
//! process. Per-tick events are TRACE at most; per-tick facts are counted.
pub mod batch;
pub mod chain;
pub mod circuit;
pub mod config;
pub mod duration;
pub mod input;
pub mod kafka;
pub mod lineup;
pub mod plugin;
pub mod produce;
pub mod record;
pub mod report;
pub mod run;
pub mod swap;
pub mod tick;
pub mod verdict;
