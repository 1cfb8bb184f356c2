//! Integration tests: the plugin components built for `wasm32-wasip2` and
//! run by the host, as a user runs them. One module per area.

mod admin;
mod broker;
mod chain;
mod cli;
mod compose;
mod delivery;
mod kafka;
mod loading;
mod produce;
mod sandbox;
mod support;
mod swap;
