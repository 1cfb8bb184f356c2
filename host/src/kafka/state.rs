//! Plugin state checkpointed to a compacted topic, so that a partition's
//! windows move with it: to another tickhost on rebalance, or to the same
//! one after a restart.
//!
//! A checkpoint holds every slot's snapshot of one input partition's chain
//! and the input offset it belongs to (the next offset to process), as one
//! document: one document for the whole chain keeps its slots consistent
//! with each other. The document is [`MARKER`], the length of a JSON header
//! (four bytes, little-endian), the header (`{"offset":N,"slots":[{"slot",
//! "plugin","version","bytes"}]}`), then each slot's snapshot bytes in the
//! header's order: the snapshots, most of a checkpoint, are written and read
//! as they are. Documents of earlier builds, all JSON with the snapshots in
//! base64, are still read. A checkpoint is written only after every
//! output of the ticks it covers was acknowledged, so whoever restores it
//! may resume from its offset: what lies before was delivered, what lies
//! after is processed again.
//!
//! # Chunks
//!
//! Windows of many symbols easily make a document larger than a Kafka
//! message may be (librdkafka refuses more than 1,000,000 bytes by default,
//! brokers about as much), so the document is split into chunks of at most
//! [`CHUNK_BYTES`], each a message of its own keyed
//! `{input topic}/{partition}/{n}`, `n` counting from 0. Compaction then
//! keeps the newest message of every chunk key. Every chunk carries two
//! headers: [`chunk_headers::CHECKPOINT`], an id that is new for every
//! checkpoint written (its offset and a random number), and
//! [`chunk_headers::CHUNKS`], how many chunks that checkpoint has. The
//! chunks of a checkpoint are all acknowledged before its offset is
//! committed.
//!
//! Reading the topic from its start, [`read_all`] gathers chunks by id and
//! takes, per partition, the checkpoint whose last chunk was read last among
//! those it has every chunk of. Chunks of no complete checkpoint are left
//! out: those of an older, larger checkpoint whose first chunks compaction
//! has replaced, and those of a checkpoint whose writer stopped midway. In
//! that last case the checkpoint before it is restored if the topic still
//! holds all of it (compaction may have replaced some of its chunks), and
//! otherwise the partition starts empty; either way the log says so.
//! "Last" is the order of the log, which is one order only while the state
//! topic has one partition, as tickhost creates it: with more, the chunks of
//! a checkpoint may be spread over them and an older checkpoint may be taken
//! for the newest (its offset is still safe to resume from, at the cost of
//! processing again what came after it).
//!
//! A message on the key `{input topic}/{partition}` with no chunk number is
//! a whole checkpoint as tickhost wrote it before it had chunks; it is still
//! read, so that an upgrade keeps the windows, and is newest only until the
//! first chunked checkpoint after it is complete. A tombstone on any of a
//! partition's keys forgets every checkpoint of that partition read before
//! it, which is how an operator clears a partition's state.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use anyhow::Context;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use rdkafka::client::ClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer, ConsumerContext};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{Headers, Message};
use rdkafka::{Offset, TopicPartitionList};
use serde::{Deserialize, Serialize};

use super::partition::Output;
use super::{KafkaConfig, client};
use crate::chain::{Chain, ChainError};

/// How long reading the state topic at an assignment may take.
const READ_TIMEOUT: Duration = Duration::from_secs(30);

/// The largest payload of one chunk: about half of librdkafka's default
/// `message.max.bytes` (1,000,000) and of Kafka's broker default
/// (1,048,588), so that the key, the headers and the framing of the record
/// always fit beside it. (A `message.max.bytes` set below it in
/// `[kafka.properties]` or `[kafka.producer-properties]` makes checkpoints
/// fail again.)
pub const CHUNK_BYTES: usize = 512 * 1024;

/// The headers of a chunk.
pub mod chunk_headers {
    /// The id of the checkpoint the chunk belongs to, new for every
    /// checkpoint written: `{offset}-{random}`.
    pub const CHECKPOINT: &str = "tickhost.checkpoint";
    /// How many chunks the checkpoint has, in decimal.
    pub const CHUNKS: &str = "tickhost.chunks";
}

/// What a checkpoint document starts with: a NUL, which no JSON text starts
/// with, then `thc` and the layout's version.
pub const MARKER: &[u8] = b"\0thc\x02";

/// The state of one partition's chain at an input offset.
#[derive(Debug, Clone, PartialEq)]
pub struct Checkpoint {
    /// The next input offset to process: every tick before it is in the
    /// state, none after it.
    pub offset: i64,
    pub slots: Vec<SlotState>,
}

/// One slot's snapshot.
#[derive(Debug, Clone, PartialEq)]
pub struct SlotState {
    pub slot: String,
    pub plugin: String,
    pub version: String,
    /// The plugin's snapshot bytes.
    pub state: Vec<u8>,
}

/// The header of a checkpoint document.
#[derive(Serialize, Deserialize)]
struct Header {
    offset: i64,
    slots: Vec<SlotHeader>,
}

#[derive(Serialize, Deserialize)]
struct SlotHeader {
    slot: String,
    plugin: String,
    version: String,
    /// The length of the slot's snapshot.
    bytes: usize,
}

/// A checkpoint document as earlier builds wrote it: JSON, the snapshots in
/// base64.
#[derive(Serialize, Deserialize)]
struct JsonCheckpoint {
    offset: i64,
    slots: Vec<JsonSlot>,
}

#[derive(Serialize, Deserialize)]
struct JsonSlot {
    slot: String,
    plugin: String,
    version: String,
    state: String,
}

/// The key of chunk `index` of a checkpoint of input `partition`.
pub fn chunk_key(topic: &str, partition: i32, index: usize) -> String {
    format!("{topic}/{partition}/{index}")
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
                state: bytes,
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
            if let Err(e) = chain.restore_slot(index, &saved.state) {
                tracing::warn!(slot = %name, "checkpointed state not restored, the slot starts empty: {e}");
            }
        }
    }

    /// The messages that write this checkpoint of input `partition` to the
    /// state topic: its chunks, in order, under a new checkpoint id.
    pub fn messages(&self, kafka: &KafkaConfig, partition: i32) -> Vec<Output> {
        let id = format!("{}-{:016x}", self.offset, rand::random::<u64>());
        chunk_messages(
            &kafka.topics.state,
            &kafka.topics.input,
            partition,
            &id,
            &self.to_bytes(),
            CHUNK_BYTES,
        )
    }

    /// The checkpoint's document.
    pub fn to_bytes(&self) -> Vec<u8> {
        let header = Header {
            offset: self.offset,
            slots: self
                .slots
                .iter()
                .map(|slot| SlotHeader {
                    slot: slot.slot.clone(),
                    plugin: slot.plugin.clone(),
                    version: slot.version.clone(),
                    bytes: slot.state.len(),
                })
                .collect(),
        };
        let header = serde_json::to_vec(&header).expect("a header always serializes");
        let states: usize = self.slots.iter().map(|slot| slot.state.len()).sum();
        let mut document = Vec::with_capacity(MARKER.len() + 4 + header.len() + states);
        document.extend_from_slice(MARKER);
        document.extend_from_slice(&(header.len() as u32).to_le_bytes());
        document.extend_from_slice(&header);
        for slot in &self.slots {
            document.extend_from_slice(&slot.state);
        }
        document
    }

    /// Reads a checkpoint's document, or one written by an earlier build.
    pub fn from_bytes(document: &[u8]) -> anyhow::Result<Checkpoint> {
        let Some(rest) = document.strip_prefix(MARKER) else {
            return Checkpoint::from_json(document);
        };
        let (length, rest) = rest
            .split_first_chunk::<4>()
            .context("the document ends before its header")?;
        let length = u32::from_le_bytes(*length) as usize;
        anyhow::ensure!(rest.len() >= length, "the document ends inside its header");
        let (header, mut states) = rest.split_at(length);
        let header: Header = serde_json::from_slice(header).context("unreadable header")?;
        let mut slots = Vec::with_capacity(header.slots.len());
        for slot in header.slots {
            anyhow::ensure!(
                states.len() >= slot.bytes,
                "the document ends inside the state of slot '{}'",
                slot.slot
            );
            let (state, rest) = states.split_at(slot.bytes);
            states = rest;
            slots.push(SlotState {
                slot: slot.slot,
                plugin: slot.plugin,
                version: slot.version,
                state: state.to_vec(),
            });
        }
        anyhow::ensure!(
            states.is_empty(),
            "{} bytes after the last slot's state",
            states.len()
        );
        Ok(Checkpoint {
            offset: header.offset,
            slots,
        })
    }

    fn from_json(document: &[u8]) -> anyhow::Result<Checkpoint> {
        let json: JsonCheckpoint = serde_json::from_slice(document)?;
        let slots = json
            .slots
            .into_iter()
            .map(|slot| {
                let state = BASE64
                    .decode(&slot.state)
                    .with_context(|| format!("the state of slot '{}' is not base64", slot.slot))?;
                Ok(SlotState {
                    slot: slot.slot,
                    plugin: slot.plugin,
                    version: slot.version,
                    state,
                })
            })
            .collect::<anyhow::Result<_>>()?;
        Ok(Checkpoint {
            offset: json.offset,
            slots,
        })
    }

    /// The document as earlier builds wrote it.
    #[cfg(test)]
    fn to_json(&self) -> Vec<u8> {
        let json = JsonCheckpoint {
            offset: self.offset,
            slots: self
                .slots
                .iter()
                .map(|slot| JsonSlot {
                    slot: slot.slot.clone(),
                    plugin: slot.plugin.clone(),
                    version: slot.version.clone(),
                    state: BASE64.encode(&slot.state),
                })
                .collect(),
        };
        serde_json::to_vec(&json).expect("a checkpoint always serializes")
    }
}

/// `document` split into chunks of at most `chunk_bytes`, each a message
/// to `state_topic` for input `partition` with the checkpoint id `id`.
fn chunk_messages(
    state_topic: &str,
    input_topic: &str,
    partition: i32,
    id: &str,
    document: &[u8],
    chunk_bytes: usize,
) -> Vec<Output> {
    let count = document.len().div_ceil(chunk_bytes).max(1);
    (0..count)
        .map(|index| {
            let start = (index * chunk_bytes).min(document.len());
            let end = (start + chunk_bytes).min(document.len());
            Output {
                topic: state_topic.to_string(),
                key: Some(chunk_key(input_topic, partition, index).into_bytes()),
                payload: document[start..end].to_vec(),
                headers: vec![
                    (chunk_headers::CHECKPOINT, id.to_string()),
                    (chunk_headers::CHUNKS, count.to_string()),
                ],
            }
        })
        .collect()
}

/// The checkpoints found on the state topic so far, message by message in
/// the order of the log.
#[derive(Debug)]
struct Reassembly {
    /// `{input topic}/`: the start of every key of ours.
    prefix: String,
    partitions: HashMap<i32, Found>,
}

/// What has been read of one input partition's checkpoints.
#[derive(Debug, Default)]
struct Found {
    /// The id (empty for a whole message) and document of the newest
    /// checkpoint read whole.
    complete: Option<(String, Vec<u8>)>,
    /// Checkpoints of which some chunks were read after it, by id.
    partial: HashMap<String, Partial>,
}

/// The chunks read so far of one checkpoint.
#[derive(Debug)]
struct Partial {
    count: usize,
    chunks: BTreeMap<usize, Vec<u8>>,
}

/// Where a message sits among a partition's checkpoints, by its key.
#[derive(Debug)]
enum Place {
    /// The whole checkpoint, as written before checkpoints had chunks.
    Whole,
    Chunk(usize),
}

impl Reassembly {
    fn new(input_topic: &str) -> Reassembly {
        Reassembly {
            prefix: format!("{input_topic}/"),
            partitions: HashMap::new(),
        }
    }

    /// The input partition and place of a key of ours.
    fn place(&self, key: &[u8]) -> Option<(i32, Place)> {
        let rest = std::str::from_utf8(key).ok()?.strip_prefix(&self.prefix)?;
        match rest.split_once('/') {
            None => Some((rest.parse().ok()?, Place::Whole)),
            Some((partition, index)) => {
                Some((partition.parse().ok()?, Place::Chunk(index.parse().ok()?)))
            }
        }
    }

    /// Takes the next message of the state topic into account.
    fn add(&mut self, message: &impl Message) {
        let Some((partition, place)) = message.key().and_then(|key| self.place(key)) else {
            return;
        };
        let Some(payload) = message.payload() else {
            // A tombstone: what came before is to be forgotten.
            self.partitions.remove(&partition);
            return;
        };
        let found = self.partitions.entry(partition).or_default();
        let index = match place {
            Place::Whole => {
                found.complete = Some((String::new(), payload.to_vec()));
                found.partial.clear();
                return;
            }
            Place::Chunk(index) => index,
        };

        let Some((id, count)) = chunk_of(message) else {
            tracing::warn!(partition, "ignoring a checkpoint chunk without its headers");
            return;
        };
        if found.complete.as_ref().is_some_and(|(done, _)| *done == id) {
            return;
        }
        if index >= count {
            tracing::warn!(
                partition,
                id,
                "ignoring chunk {index} of a checkpoint of {count}"
            );
            return;
        }
        let partial = found.partial.entry(id.clone()).or_insert_with(|| Partial {
            count,
            chunks: BTreeMap::new(),
        });
        if partial.count != count {
            tracing::warn!(
                partition,
                id,
                "ignoring a chunk that disagrees on the chunk count"
            );
            return;
        }
        partial.chunks.insert(index, payload.to_vec());
        if partial.chunks.len() < count {
            return;
        }

        // Complete: it is the newest, and checkpoints begun before it was
        // finished were abandoned.
        let chunks = found.partial.remove(&id).expect("just filled").chunks;
        let document = chunks.into_values().collect::<Vec<_>>().concat();
        found.complete = Some((id, document));
        found.partial.clear();
    }

    /// The newest complete checkpoint of each partition, saying which
    /// partitions have chunks of a newer one that is not complete.
    fn finish(self) -> HashMap<i32, Checkpoint> {
        let mut newest = HashMap::new();
        for (partition, found) in self.partitions {
            let checkpoint = found.complete.and_then(|(_, document)| {
                Checkpoint::from_bytes(&document)
                    .inspect_err(|e| {
                        tracing::warn!(partition, "ignoring an unreadable checkpoint: {e:#}");
                    })
                    .ok()
            });
            if let Some(partial) = found.partial.values().max_by_key(|p| p.chunks.len()) {
                let (read, count) = (partial.chunks.len(), partial.count);
                match &checkpoint {
                    Some(earlier) => tracing::warn!(
                        partition,
                        offset = earlier.offset,
                        "the newest checkpoint is incomplete ({read} of {count} chunks): its \
                         writer stopped midway, or is writing it now; using the one before it"
                    ),
                    None => tracing::warn!(
                        partition,
                        "the newest checkpoint is incomplete ({read} of {count} chunks) and no \
                         earlier one is whole: the partition starts empty"
                    ),
                }
            }
            if let Some(checkpoint) = checkpoint {
                newest.insert(partition, checkpoint);
            }
        }
        newest
    }
}

/// The checkpoint id and chunk count of a chunk, from its headers.
fn chunk_of(message: &impl Message) -> Option<(String, usize)> {
    let headers = message.headers()?;
    let value = |name: &str| {
        headers
            .iter()
            .find(|header| header.key == name)
            .and_then(|header| header.value)
            .and_then(|value| std::str::from_utf8(value).ok())
    };
    let id = value(chunk_headers::CHECKPOINT)?.to_string();
    let count = value(chunk_headers::CHUNKS)?.parse().ok()?;
    Some((id, count))
}

/// The state reader's context: the end of a partition is how the reader
/// knows it is done, not an error worth logging (librdkafka also reports it
/// as a global error).
struct ReaderContext;

impl ClientContext for ReaderContext {
    fn error(&self, error: KafkaError, reason: &str) {
        let end = matches!(
            error,
            KafkaError::PartitionEOF(_) | KafkaError::Global(RDKafkaErrorCode::PartitionEOF)
        );
        if !end {
            tracing::warn!("state reader: {error}: {reason}");
        }
    }
}

impl ConsumerContext for ReaderContext {}

/// Reads the whole state topic and returns the newest complete checkpoint
/// of each partition of the input topic. Blocking: call it off the async
/// runtime.
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
    if open == 0 {
        return Ok(HashMap::new());
    }
    reader.assign(&assignment)?;

    let mut reassembly = Reassembly::new(&config.topics.input);
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
            Some(Ok(message)) => reassembly.add(&message),
        }
    }
    Ok(reassembly.finish())
}

#[cfg(test)]
mod tests {
    use rdkafka::Timestamp;
    use rdkafka::message::{Header, OwnedHeaders, OwnedMessage};

    use super::*;

    /// A small chunk size, so that small checkpoints have many chunks.
    const SMALL: usize = 64;

    /// A checkpoint at `offset` whose one slot holds `len` bytes of state.
    fn checkpoint(offset: i64, len: usize) -> Checkpoint {
        let bytes: Vec<u8> = (0..len).map(|i| (i * 7 + offset as usize) as u8).collect();
        Checkpoint {
            offset,
            slots: vec![SlotState {
                slot: "moving-average".to_string(),
                plugin: "moving-average".to_string(),
                version: "0.1.0".to_string(),
                state: bytes,
            }],
        }
    }

    /// The chunks of `checkpoint` for input partition `partition` of
    /// `ticks`, as messages read from the state topic.
    fn chunks(checkpoint: &Checkpoint, partition: i32, id: &str) -> Vec<OwnedMessage> {
        let document = checkpoint.to_bytes();
        chunk_messages("tickhost.state", "ticks", partition, id, &document, SMALL)
            .into_iter()
            .map(|output| {
                let mut headers = OwnedHeaders::new();
                for (key, value) in &output.headers {
                    headers = headers.insert(Header {
                        key,
                        value: Some(value.as_bytes()),
                    });
                }
                message(output.key.unwrap(), Some(output.payload), Some(headers))
            })
            .collect()
    }

    fn message(
        key: Vec<u8>,
        payload: Option<Vec<u8>>,
        headers: Option<OwnedHeaders>,
    ) -> OwnedMessage {
        let topic = "tickhost.state".to_string();
        OwnedMessage::new(
            payload,
            Some(key),
            topic,
            Timestamp::NotAvailable,
            0,
            0,
            headers,
        )
    }

    /// What compaction leaves of `log`: the newest message of every key, in
    /// the order of the log.
    fn compact(log: &[OwnedMessage]) -> Vec<OwnedMessage> {
        log.iter()
            .enumerate()
            .filter(|(at, message)| log[at + 1..].iter().all(|m| m.key() != message.key()))
            .map(|(_, message)| message.clone())
            .collect()
    }

    fn read(log: &[OwnedMessage]) -> HashMap<i32, Checkpoint> {
        let mut reassembly = Reassembly::new("ticks");
        for message in log {
            reassembly.add(message);
        }
        reassembly.finish()
    }

    #[test]
    fn a_checkpoint_is_split_into_keyed_chunks_that_read_back_whole() {
        let saved = checkpoint(42, 200);
        let log = chunks(&saved, 3, "42-a");
        let document = saved.to_bytes();

        assert_eq!(log.len(), document.len().div_ceil(SMALL));
        assert!(log.len() > 2, "{} chunks", log.len());
        for (index, chunk) in log.iter().enumerate() {
            assert_eq!(chunk.key(), Some(format!("ticks/3/{index}").as_bytes()));
            assert!(chunk.payload().unwrap().len() <= SMALL);
            assert_eq!(chunk_of(chunk), Some(("42-a".to_string(), log.len())));
        }
        assert_eq!(read(&log), HashMap::from([(3, saved)]));
    }

    #[test]
    fn a_checkpoint_of_megabytes_is_written_in_chunks_below_the_message_limit() {
        let saved = checkpoint(7, 3 << 20);
        let outputs = saved.messages(&KafkaConfig::default(), 0);

        assert!(
            outputs.len() > (3 << 20) / CHUNK_BYTES,
            "{} chunks",
            outputs.len()
        );
        for output in &outputs {
            assert_eq!(output.topic, "tickhost.state");
            assert!(output.payload.len() <= CHUNK_BYTES);
        }
        let document: Vec<u8> = outputs.iter().flat_map(|o| o.payload.clone()).collect();
        assert_eq!(Checkpoint::from_bytes(&document).unwrap(), saved);

        // Every checkpoint written gets an id of its own.
        let again = saved.messages(&KafkaConfig::default(), 0);
        assert_ne!(outputs[0].headers, again[0].headers);
        assert!(outputs[0].headers[0].1.starts_with("7-"));
    }

    #[test]
    fn leftover_chunks_of_an_older_larger_checkpoint_are_ignored() {
        let (older, newer) = (checkpoint(100, 400), checkpoint(200, 100));
        let mut log = chunks(&older, 0, "100-a");
        let newer_chunks = chunks(&newer, 0, "200-b");
        assert!(log.len() > newer_chunks.len() + 1);
        log.extend(newer_chunks);

        // Compacted, the older one's last chunks are left over, before the
        // newer one's; uncompacted, the older one is whole before it.
        let compacted = compact(&log);
        assert!(compacted.len() < log.len());
        assert_eq!(read(&compacted), HashMap::from([(0, newer.clone())]));
        assert_eq!(read(&log), HashMap::from([(0, newer)]));
    }

    #[test]
    fn a_checkpoint_left_partial_falls_back_to_the_whole_one_before_it() {
        let (whole, partial) = (checkpoint(100, 300), checkpoint(200, 300));
        let mut log = chunks(&whole, 0, "100-a");
        let count = log.len();
        log.extend(chunks(&partial, 0, "200-b").into_iter().take(count - 1));

        assert_eq!(read(&log), HashMap::from([(0, whole)]));
    }

    #[test]
    fn a_checkpoint_left_partial_with_no_whole_one_before_it_starts_empty() {
        let (whole, partial) = (checkpoint(100, 300), checkpoint(200, 300));
        let mut log = chunks(&whole, 0, "100-a");
        log.extend(chunks(&partial, 0, "200-b").into_iter().take(1));

        // Compaction replaced the first chunk of the whole one.
        assert_eq!(read(&compact(&log)), HashMap::new());
    }

    #[test]
    fn partitions_are_read_apart_and_other_topics_keys_ignored() {
        let (zero, one) = (checkpoint(10, 300), checkpoint(20, 300));
        let mut other = chunks(&checkpoint(30, 300), 0, "30-c");
        for chunk in &mut other {
            let key = String::from_utf8(chunk.key().unwrap().to_vec()).unwrap();
            *chunk = message(
                key.replacen("ticks/", "quotes/", 1).into_bytes(),
                chunk.payload().map(<[u8]>::to_vec),
                chunk.headers().cloned(),
            );
        }
        // Interleaved, as two hosts would write them.
        let mut log = Vec::new();
        let (a, b) = (chunks(&zero, 0, "10-a"), chunks(&one, 1, "20-b"));
        for ((a, b), c) in a.into_iter().zip(b).zip(other) {
            log.extend([a, b, c]);
        }

        assert_eq!(read(&log), HashMap::from([(0, zero), (1, one)]));
    }

    #[test]
    fn a_document_holds_the_snapshots_as_they_are() {
        let saved = Checkpoint {
            offset: 9,
            slots: vec![
                checkpoint(9, 100).slots.remove(0),
                SlotState {
                    slot: "spike".to_string(),
                    plugin: "spike".to_string(),
                    version: "0.2.0".to_string(),
                    state: Vec::new(),
                },
            ],
        };

        let document = saved.to_bytes();

        assert!(document.starts_with(MARKER));
        assert!(document.ends_with(&saved.slots[0].state));
        assert!(document.len() < 100 + 200, "{} bytes", document.len());
        assert_eq!(Checkpoint::from_bytes(&document).unwrap(), saved);
    }

    #[test]
    fn a_chunked_json_checkpoint_of_an_older_tickhost_is_read() {
        let old = checkpoint(100, 300);
        let log: Vec<OwnedMessage> =
            chunk_messages("tickhost.state", "ticks", 0, "100-a", &old.to_json(), SMALL)
                .into_iter()
                .map(|o| {
                    let mut headers = OwnedHeaders::new();
                    for (key, value) in &o.headers {
                        headers = headers.insert(Header {
                            key,
                            value: Some(value.as_bytes()),
                        });
                    }
                    message(o.key.unwrap(), Some(o.payload), Some(headers))
                })
                .collect();

        assert_eq!(read(&log), HashMap::from([(0, old)]));
    }

    #[test]
    fn a_damaged_document_is_refused_with_the_reason() {
        let document = checkpoint(5, 40).to_bytes();
        let header = u32::from_le_bytes(document[MARKER.len()..][..4].try_into().unwrap());
        let start = MARKER.len() + 4 + header as usize;
        let mut longer = document.clone();
        longer.push(0);
        for (damaged, reason) in [
            (&document[..MARKER.len() + 2], "before its header"),
            (&document[..start - 1], "inside its header"),
            (
                &document[..start + 39],
                "inside the state of slot 'moving-average'",
            ),
            (&longer[..], "1 bytes after"),
        ] {
            let err = format!("{:#}", Checkpoint::from_bytes(damaged).unwrap_err());
            assert!(err.contains(reason), "{err}");
        }
    }

    #[test]
    fn a_checkpoint_written_whole_by_an_older_tickhost_is_read() {
        let (old, new) = (checkpoint(100, 300), checkpoint(200, 300));
        let whole = message(b"ticks/0".to_vec(), Some(old.to_json()), None);
        assert_eq!(
            read(std::slice::from_ref(&whole)),
            HashMap::from([(0, old)])
        );

        // The first chunked checkpoint after it is newer.
        let mut log = vec![whole];
        log.extend(chunks(&new, 0, "200-a"));
        assert_eq!(read(&log), HashMap::from([(0, new)]));
    }

    #[test]
    fn a_tombstone_forgets_the_partitions_checkpoints() {
        let mut log = chunks(&checkpoint(100, 300), 0, "100-a");
        log.push(message(b"ticks/0/0".to_vec(), None, None));
        assert_eq!(read(&log), HashMap::new());

        let after = checkpoint(200, 10);
        log.extend(chunks(&after, 0, "200-b"));
        assert_eq!(read(&log), HashMap::from([(0, after)]));
    }

    #[test]
    fn chunks_with_missing_or_inconsistent_headers_are_ignored() {
        let saved = checkpoint(100, 10);
        let mut log = chunks(&saved, 0, "100-a");
        // Each of these would make a newer checkpoint of one or two chunks.
        let newer = Some(checkpoint(200, 10).to_bytes());
        let headers = |id: &str, chunks: &str| {
            OwnedHeaders::new()
                .insert(Header {
                    key: chunk_headers::CHECKPOINT,
                    value: Some(id),
                })
                .insert(Header {
                    key: chunk_headers::CHUNKS,
                    value: Some(chunks),
                })
        };
        log.extend([
            message(b"ticks/0/0".to_vec(), newer.clone(), None),
            message(
                b"ticks/0/1".to_vec(),
                newer.clone(),
                Some(headers("200-b", "1")),
            ),
            message(
                b"ticks/0/0".to_vec(),
                newer.clone(),
                Some(headers("200-c", "one")),
            ),
            message(
                b"ticks/0/0".to_vec(),
                newer.clone(),
                Some(headers("200-d", "2")),
            ),
            message(b"ticks/0/1".to_vec(), newer, Some(headers("200-d", "3"))),
        ]);

        assert_eq!(read(&log), HashMap::from([(0, saved)]));
    }
}
