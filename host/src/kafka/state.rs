//! Plugin state checkpointed to a compacted topic, so that a partition's
//! windows move with it: to another tickhost on rebalance, or to the same
//! one after a restart.
//!
//! One message per input partition, keyed `{input topic}/{partition}`,
//! holds every slot's snapshot and the input offset it belongs to (the next
//! offset to process). One message for the whole chain keeps its slots
//! consistent with each other; compaction keeps the newest per partition.
//! A checkpoint is written only after every output of the ticks it covers
//! was acknowledged, so whoever restores it may resume from its offset:
//! what lies before was delivered, what lies after is processed again.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use anyhow::Context;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use rdkafka::client::ClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer, ConsumerContext};
use rdkafka::error::KafkaError;
use rdkafka::message::Message;
use rdkafka::{Offset, TopicPartitionList};
use serde::{Deserialize, Serialize};

use super::{KafkaConfig, client};
use crate::chain::{Chain, ChainError};

/// How long reading the state topic at an assignment may take.
const READ_TIMEOUT: Duration = Duration::from_secs(30);

/// The state of one partition's chain at an input offset.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// The next input offset to process: every tick before it is in the
    /// state, none after it.
    pub offset: i64,
    pub slots: Vec<SlotState>,
}

/// One slot's snapshot.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SlotState {
    pub slot: String,
    pub plugin: String,
    pub version: String,
    /// The plugin's snapshot bytes, base64.
    pub state: String,
}

/// The key of a partition's checkpoint.
pub fn key(topic: &str, partition: i32) -> String {
    format!("{topic}/{partition}")
}

impl Checkpoint {
    /// Takes the chain's snapshot at `offset`.
    pub fn take(chain: &mut Chain, offset: i64) -> Result<Checkpoint, ChainError> {
        let snapshots = chain.snapshot()?;
        let slots = chain
            .slots()
            .iter()
            .zip(snapshots)
            .map(|(slot, bytes)| SlotState {
                slot: slot.name().to_string(),
                plugin: slot.plugin().name().to_string(),
                version: slot.plugin().info().version.clone(),
                state: BASE64.encode(bytes),
            })
            .collect();
        Ok(Checkpoint { offset, slots })
    }

    /// Restores every slot of `chain` that the checkpoint has a snapshot for
    /// (matched by slot name). A slot without one, or whose plugin refuses
    /// its snapshot, starts empty, and the log says so.
    pub fn restore_into(&self, chain: &mut Chain) {
        for index in 0..chain.slots().len() {
            let name = chain.slots()[index].name().to_string();
            let Some(saved) = self.slots.iter().find(|s| s.slot == name) else {
                tracing::warn!(slot = %name, "no checkpointed state for this slot; it starts empty");
                continue;
            };
            let restored = BASE64
                .decode(&saved.state)
                .map_err(|e| e.to_string())
                .and_then(|bytes| chain.restore_slot(index, &bytes).map_err(|e| e.to_string()));
            if let Err(e) = restored {
                tracing::warn!(slot = %name, "checkpointed state not restored, the slot starts empty: {e}");
            }
        }
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("a checkpoint always serializes")
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<Checkpoint, serde_json::Error> {
        serde_json::from_slice(bytes)
    }
}

/// The state reader's context: the end of a partition is how the reader
/// knows it is done, not an error worth logging.
struct ReaderContext;

impl ClientContext for ReaderContext {
    fn error(&self, error: KafkaError, reason: &str) {
        if !matches!(error, KafkaError::PartitionEOF(_)) {
            tracing::warn!("state reader: {error}: {reason}");
        }
    }
}

impl ConsumerContext for ReaderContext {}

/// Reads the whole state topic and returns the newest checkpoint of each
/// partition of the input topic. Blocking: call it off the async runtime.
pub fn read_all(config: &KafkaConfig) -> anyhow::Result<HashMap<i32, Checkpoint>> {
    let topic = &config.topics.state;
    let reader: BaseConsumer<ReaderContext> = client::reader(config)
        .create_with_context(ReaderContext)
        .context("failed to create the state reader")?;
    let metadata = reader
        .fetch_metadata(Some(topic), READ_TIMEOUT)
        .with_context(|| format!("failed to read the metadata of '{topic}'"))?;
    let partitions: Vec<i32> = metadata
        .topics()
        .iter()
        .filter(|t| t.name() == topic)
        .flat_map(|t| t.partitions().iter().map(|p| p.id()))
        .collect();

    // Read each partition from its start up to the end it has now.
    let mut assignment = TopicPartitionList::new();
    let mut open = 0;
    for &partition in &partitions {
        let (low, high) = reader
            .fetch_watermarks(topic, partition, READ_TIMEOUT)
            .with_context(|| format!("failed to read the offsets of '{topic}'"))?;
        if high > low {
            assignment.add_partition_offset(topic, partition, Offset::Beginning)?;
            open += 1;
        }
    }
    let mut newest = HashMap::new();
    if open == 0 {
        return Ok(newest);
    }
    reader.assign(&assignment)?;

    let prefix = format!("{}/", config.topics.input);
    let deadline = Instant::now() + READ_TIMEOUT;
    while open > 0 {
        anyhow::ensure!(
            Instant::now() < deadline,
            "reading the state topic '{topic}' took longer than {READ_TIMEOUT:?}"
        );
        match reader.poll(Duration::from_millis(100)) {
            None => {}
            Some(Err(KafkaError::PartitionEOF(_))) => open -= 1,
            Some(Err(e)) => return Err(e).context("failed to read the state topic"),
            Some(Ok(message)) => {
                let partition = message
                    .key()
                    .and_then(|k| std::str::from_utf8(k).ok())
                    .and_then(|k| k.strip_prefix(&prefix))
                    .and_then(|p| p.parse::<i32>().ok());
                let Some(partition) = partition else { continue };
                match message.payload().map(Checkpoint::from_bytes) {
                    Some(Ok(checkpoint)) => {
                        newest.insert(partition, checkpoint);
                    }
                    // A tombstone or an unreadable value: no usable state.
                    Some(Err(e)) => {
                        tracing::warn!(partition, "ignoring an unreadable checkpoint: {e}");
                        newest.remove(&partition);
                    }
                    None => {
                        newest.remove(&partition);
                    }
                }
            }
        }
    }
    Ok(newest)
}
