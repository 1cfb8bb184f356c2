//! librdkafka clients for tickhost, built from the `[kafka]` section: the
//! settings tickhost relies on first, the user's properties last.

use rdkafka::ClientConfig;

use super::KafkaConfig;

/// Settings of the consumer that reads the input topic. Offsets are stored
/// and committed by tickhost itself, after the outputs of a batch are
/// acknowledged; that is what makes delivery at least once. The prefetch is
/// bounded well below librdkafka's defaults (100,000 messages or 64 MiB a
/// partition), which with ticks of a hundred bytes held most of the
/// process's memory; 50,000 a partition (or 16 MiB) still keeps dozens of
/// full batches ahead of the chain. (20,000 saved another 9 MB of peak
/// memory in the Kafka benchmark, with lower throughput in the runs made.)
pub fn consumer(config: &KafkaConfig) -> ClientConfig {
    let mut client = base(config);
    client
        .set("group.id", &config.group_id)
        .set("enable.auto.commit", "false")
        .set("enable.auto.offset.store", "false")
        .set("auto.offset.reset", "earliest")
        .set("fetch.wait.max.ms", "10")
        .set("queued.min.messages", "50000")
        .set("queued.max.messages.kbytes", "16384");
    apply_properties(&mut client, config);
    client
}

/// Settings of the producer of outputs, dead letters and checkpoints.
/// Idempotence keeps the order of a partition's outputs through retries;
/// an unbounded message timeout makes a broker outage a wait, not a loss.
pub fn producer(config: &KafkaConfig) -> ClientConfig {
    let mut client = base(config);
    client
        .set("enable.idempotence", "true")
        .set("message.timeout.ms", "0")
        .set("linger.ms", "1")
        .set("queue.buffering.max.messages", "1000000");
    apply_properties(&mut client, config);
    client
}

/// Settings of a consumer outside any group, for reading a topic whole.
pub fn reader(config: &KafkaConfig) -> ClientConfig {
    let mut client = base(config);
    client
        .set("group.id", format!("{}-reader", config.group_id))
        .set("enable.auto.commit", "false")
        .set("enable.partition.eof", "true")
        .set("fetch.wait.max.ms", "10");
    apply_properties(&mut client, config);
    client
}

/// Settings shared by every client.
pub fn base(config: &KafkaConfig) -> ClientConfig {
    let mut client = ClientConfig::new();
    client.set("bootstrap.servers", &config.brokers);
    client
}

fn apply_properties(client: &mut ClientConfig, config: &KafkaConfig) {
    for (name, value) in &config.properties {
        client.set(name, value);
    }
}
