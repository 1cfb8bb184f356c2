//! Ticks onto the input topic, keyed by symbol, as the JSON the host reads;
//! and, for a producer that restarts, the last event time already there.
//!
//! [`Sink`] is what the producer and replay write to; [`KafkaSink`] is the
//! real one. Each tick is handed to librdkafka without waiting, and
//! [`Sink::flush`] waits until the broker acknowledged all of them, so a
//! round of ticks costs one round trip, not one per tick.

use std::collections::HashMap;
use std::time::Duration;

use async_trait::async_trait;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::Message;
use rdkafka::producer::{DeliveryFuture, FutureProducer, FutureRecord};
use rdkafka::{Offset, TopicPartitionList};

use crate::kafka::{KafkaConfig, client};
use crate::tick::Tick;

/// How many of a partition's newest messages are read to find each
/// symbol's last event time. A symbol lives in one partition and the
/// producer publishes every symbol each round, so the newest few thousand
/// messages hold every symbol unless a partition carries thousands of
/// symbols; a symbol not found there is published from its first tick.
pub const TAIL_MESSAGES: i64 = 10_000;

/// How long reading the tail may take before the producer gives up on it.
pub const TAIL_TIMEOUT: Duration = Duration::from_secs(30);

/// Why ticks could not be published, or the tail not read.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error("failed to create the Kafka client: {0}")]
    Client(KafkaError),
    #[error("failed to publish to '{topic}': {source}")]
    Deliver { topic: String, source: KafkaError },
    #[error("failed to read the tail of '{topic}': {source}")]
    Tail { topic: String, source: KafkaError },
    #[error("reading the tail of '{0}' took longer than {TAIL_TIMEOUT:?}")]
    TailTimeout(String),
}

/// Where published ticks go.
#[async_trait]
pub trait Sink: Send {
    /// Queues one tick.
    async fn send(&mut self, tick: &Tick) -> Result<(), PublishError>;
    /// Waits until every queued tick is stored.
    async fn flush(&mut self) -> Result<(), PublishError>;
}

/// Ticks to a Kafka topic.
pub struct KafkaSink {
    producer: FutureProducer,
    topic: String,
    pending: Vec<DeliveryFuture>,
}

/// Deliveries in flight before [`KafkaSink::send`] waits for them, so that
/// a fast replay does not fill librdkafka's queue.
const MAX_PENDING: usize = 10_000;

impl KafkaSink {
    pub fn new(config: &KafkaConfig, topic: &str) -> Result<KafkaSink, PublishError> {
        let producer = client::producer(config)
            .create()
            .map_err(PublishError::Client)?;
        Ok(KafkaSink {
            producer,
            topic: topic.to_string(),
            pending: Vec::new(),
        })
    }
}

#[async_trait]
impl Sink for KafkaSink {
    async fn send(&mut self, tick: &Tick) -> Result<(), PublishError> {
        if self.pending.len() >= MAX_PENDING {
            self.flush().await?;
        }
        let payload = tick.to_json();
        let topic = self.topic.clone();
        let mut record = FutureRecord::to(&topic)
            .key(&tick.symbol)
            .payload(&payload)
            .timestamp(tick.ts);
        loop {
            match self.producer.send_result(record) {
                Ok(delivery) => {
                    self.pending.push(delivery);
                    return Ok(());
                }
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), back)) => {
                    record = back;
                    self.flush().await?;
                }
                Err((source, _)) => {
                    return Err(PublishError::Deliver { topic, source });
                }
            }
        }
    }

    async fn flush(&mut self) -> Result<(), PublishError> {
        let deliver = |source| PublishError::Deliver {
            topic: self.topic.clone(),
            source,
        };
        for delivery in std::mem::take(&mut self.pending) {
            match delivery.await {
                Ok(Ok(_)) => {}
                Ok(Err((e, _))) => return Err(deliver(e)),
                Err(_) => return Err(deliver(KafkaError::Canceled)),
            }
        }
        Ok(())
    }
}

/// The newest event time per symbol among the last [`TAIL_MESSAGES`] of
/// each partition of `topic`. Messages that are not ticks are passed over.
/// Blocking: call it before the producer's loop starts.
pub fn last_published(
    config: &KafkaConfig,
    topic: &str,
) -> Result<HashMap<String, i64>, PublishError> {
    let tail = |source| PublishError::Tail {
        topic: topic.to_string(),
        source,
    };
    let consumer: BaseConsumer = client::reader(config)
        .create()
        .map_err(PublishError::Client)?;
    let metadata = consumer
        .fetch_metadata(Some(topic), TAIL_TIMEOUT)
        .map_err(tail)?;

    let mut assignment = TopicPartitionList::new();
    let mut ends: HashMap<i32, i64> = HashMap::new();
    for partition in metadata.topics().iter().flat_map(|t| t.partitions()) {
        let (low, high) = consumer
            .fetch_watermarks(topic, partition.id(), TAIL_TIMEOUT)
            .map_err(tail)?;
        if high > low {
            let start = low.max(high - TAIL_MESSAGES);
            assignment
                .add_partition_offset(topic, partition.id(), Offset::Offset(start))
                .map_err(tail)?;
            ends.insert(partition.id(), high);
        }
    }
    let mut last = HashMap::new();
    if ends.is_empty() {
        return Ok(last);
    }
    consumer.assign(&assignment).map_err(tail)?;

    let deadline = std::time::Instant::now() + TAIL_TIMEOUT;
    while !ends.is_empty() {
        if std::time::Instant::now() > deadline {
            return Err(PublishError::TailTimeout(topic.to_string()));
        }
        let Some(result) = consumer.poll(Duration::from_millis(100)) else {
            continue;
        };
        let message = match result {
            Ok(message) => message,
            Err(KafkaError::PartitionEOF(partition)) => {
                ends.remove(&partition);
                continue;
            }
            Err(e) => return Err(tail(e)),
        };
        if let Some(Ok(tick)) = message.payload().map(Tick::parse_json) {
            let ts = last.entry(tick.symbol).or_insert(tick.ts);
            *ts = (*ts).max(tick.ts);
        }
        if ends.get(&message.partition()) == Some(&(message.offset() + 1)) {
            ends.remove(&message.partition());
        }
    }
    Ok(last)
}

/// A sink that keeps what it is sent, for tests.
#[derive(Debug, Default)]
pub struct MemorySink {
    pub ticks: Vec<Tick>,
    pub flushes: usize,
}

#[async_trait]
impl Sink for MemorySink {
    async fn send(&mut self, tick: &Tick) -> Result<(), PublishError> {
        self.ticks.push(tick.clone());
        Ok(())
    }

    async fn flush(&mut self) -> Result<(), PublishError> {
        self.flushes += 1;
        Ok(())
    }
}
