//! Ticks into the pipeline: live from the Alpha Vantage REST API, or
//! replayed from a recording.
//!
//! - [`config`]: the `[alphavantage]` section and the API key, kept out of
//!   every printed or stored text;
//! - [`client`]: one HTTP request, its failures sorted;
//! - [`response`]: the answer's JSON, including the error bodies;
//! - [`clean`]: the answer's strings into validated ticks, times into UTC;
//! - [`budget`], [`backoff`], [`clock`]: when a request may go out;
//! - [`poll`]: `tickhost produce`'s loop;
//! - [`publish`]: ticks onto the input topic, and the last one already there;
//! - [`replay`]: `tickhost replay`, recordings paced in event time.

pub mod backoff;
pub mod budget;
pub mod clean;
pub mod client;
pub mod clock;
pub mod config;
pub mod poll;
pub mod publish;
pub mod replay;
pub mod response;
