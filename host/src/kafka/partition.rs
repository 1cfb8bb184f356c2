//! One input partition: its chain, where it has got to, and a batch of its
//! messages turned into output messages.
//!
//! A partition's ticks are judged by its own chain, so its plugins' windows
//! hold exactly the symbols that live in it and can move with it to another
//! tickhost. A message that is not a valid tick becomes a dead letter with
//! the original bytes and where it came from. A plugin fault is contained
//! by the chain as the slot's policy says (by default the ticks that reached
//! the slot go to the rejected topic with the fault as the reason); under
//! the `halt` policy the batch comes back as an error, with nothing output.

use rdkafka::message::{Message, OwnedMessage};

use super::KafkaConfig;
use super::counters::Counters;
use crate::chain::{Chain, ChainError};
use crate::record::Record;
use crate::report::Report;
use crate::tick::Tick;

/// The headers of a dead letter.
pub mod dlq_headers {
    /// Why the message is not a tick.
    pub const REASON: &str = "tickhost.reason";
    pub const TOPIC: &str = "tickhost.topic";
    pub const PARTITION: &str = "tickhost.partition";
    pub const OFFSET: &str = "tickhost.offset";
    /// The message's timestamp, in epoch milliseconds, if it had one.
    pub const TIMESTAMP: &str = "tickhost.timestamp";
}

/// A message to produce.
#[derive(Debug, Clone, PartialEq)]
pub struct Output {
    pub topic: String,
    pub key: Option<Vec<u8>>,
    pub payload: Vec<u8>,
    pub headers: Vec<(&'static str, String)>,
}

/// An assigned input partition.
pub struct PartitionState {
    pub partition: i32,
    pub chain: Chain,
    /// The rebalance epoch its assignment began in.
    pub assigned_in: u64,
    /// The offset after the last message processed: what to commit.
    pub next_offset: Option<i64>,
    /// The offset of its last checkpoint written.
    pub checkpointed: Option<i64>,
}

/// What is about to be judged: a tick (by its index in the batch), or a
/// message already known to be a dead letter.
enum Item {
    Tick(usize),
    Dead(Output),
}

impl PartitionState {
    /// Judges a batch of this partition's messages, in offset order, and
    /// returns the messages to produce, in the same order.
    pub fn process(
        &mut self,
        messages: &[OwnedMessage],
        config: &KafkaConfig,
        counters: &Counters,
        mut report: Option<&mut Report>,
    ) -> Result<Vec<Output>, ChainError> {
        let mut ticks: Vec<Tick> = Vec::with_capacity(messages.len());
        let mut items: Vec<Item> = Vec::with_capacity(messages.len());
        for message in messages {
            let parsed = match message.payload() {
                None => Err("the message has no payload".to_string()),
                Some(bytes) => Tick::parse_json(bytes).map_err(|e| e.to_string()),
            };
            match parsed {
                Ok(tick) => {
                    items.push(Item::Tick(ticks.len()));
                    ticks.push(tick);
                }
                Err(reason) => {
                    if let Some(report) = report.as_deref_mut() {
                        report.invalid(message.offset() as u64, &reason);
                    }
                    items.push(Item::Dead(dead_letter(message, reason, config)));
                }
            }
        }
        if let Some(last) = messages.last() {
            self.next_offset = Some(last.offset() + 1);
        }
        Counters::add(&counters.consumed, messages.len() as u64);
        Counters::add(&counters.dead_lettered, (items.len() - ticks.len()) as u64);

        // A fault is contained in the chain, as its slot's policy says;
        // only `halt` comes back, and then nothing of the batch is output.
        if !ticks.is_empty() {
            self.chain.process(&ticks)?;
        }
        let mut outputs = Vec::with_capacity(items.len());
        let (mut kept, mut dropped) = (0, 0);
        let slots = self.chain.slots();
        let judgement = self.chain.judgement();
        for item in items {
            let i = match item {
                Item::Dead(output) => {
                    outputs.push(output);
                    continue;
                }
                Item::Tick(i) => i,
            };
            let tick = &ticks[i];
            let verdict = &judgement.verdicts()[i];
            let annotations = judgement.annotations_of(i as u32);
            if let Some(report) = report.as_deref_mut() {
                report.judged(tick, verdict, annotations, slots);
            }
            let record = Record::judged(tick, verdict, annotations, slots);
            let topic = match record {
                Record::Kept { .. } => {
                    kept += 1;
                    &config.topics.processed
                }
                _ => {
                    dropped += 1;
                    &config.topics.rejected
                }
            };
            outputs.push(Output {
                topic: topic.clone(),
                key: Some(tick.symbol.as_bytes().to_vec()),
                payload: record.to_json().into_bytes(),
                headers: Vec::new(),
            });
        }
        Counters::add(&counters.processed, kept);
        Counters::add(&counters.rejected, dropped);
        if !ticks.is_empty() {
            Counters::add(&counters.faults, judgement.faults().len() as u64);
        }
        Ok(outputs)
    }
}

/// A dead letter: the original bytes and key, and headers that say why and
/// where from.
fn dead_letter(message: &OwnedMessage, reason: String, config: &KafkaConfig) -> Output {
    let mut headers = vec![
        (dlq_headers::REASON, reason),
        (dlq_headers::TOPIC, message.topic().to_string()),
        (dlq_headers::PARTITION, message.partition().to_string()),
        (dlq_headers::OFFSET, message.offset().to_string()),
    ];
    if let Some(ms) = message.timestamp().to_millis() {
        headers.push((dlq_headers::TIMESTAMP, ms.to_string()));
    }
    Output {
        topic: config.topics.dlq.clone(),
        key: message.key().map(<[u8]>::to_vec),
        payload: message.payload().map(<[u8]>::to_vec).unwrap_or_default(),
        headers,
    }
}
