//! The streaming host: ticks from a Kafka topic through the chain, and what
//! survives (and why the rest did not) back to Kafka.
//!
//! - [`config`]: the `[kafka]` section of `tickhost.toml`;
//! - [`client`]: librdkafka clients built from it;
//! - [`topics`]: the output and state topics, created when missing;
//! - [`partition`]: one input partition's chain, and a batch of its
//!   messages turned into output messages;
//! - [`state`]: plugin state checkpointed to a compacted topic;
//! - [`counters`]: what happened to every consumed message;
//! - [`deliveries`]: outputs in flight, settled before offsets move;
//! - [`serve`](mod@serve): the consume, process, produce, commit loop and
//!   rebalances.
//!
//! Delivery is at least once: a batch's offsets are committed only after
//! every output of the batch is acknowledged by the broker.

pub mod client;
pub mod config;
pub mod counters;
pub mod deliveries;
pub mod partition;
pub mod serve;
pub mod state;
pub mod topics;

pub use config::KafkaConfig;
pub use counters::Counters;
pub use serve::{PartitionChains, ServeOptions, serve};
