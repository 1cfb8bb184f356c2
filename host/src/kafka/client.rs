//! librdkafka clients for tickhost, built from the `[kafka]` section: the
//! settings tickhost relies on first, the user's properties last (those of
//! every client, then those of the consumers or of the producer).

use std::collections::BTreeMap;

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
    apply(&mut client, &config.properties);
    apply(&mut client, &config.consumer_properties);
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
    apply(&mut client, &config.properties);
    apply(&mut client, &config.producer_properties);
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
    apply(&mut client, &config.properties);
    apply(&mut client, &config.consumer_properties);
    client
}

/// Settings of a client that only asks for metadata or creates topics:
/// the brokers and the properties of every client (a secured cluster's
/// settings among them).
pub fn admin(config: &KafkaConfig) -> ClientConfig {
    let mut client = base(config);
    apply(&mut client, &config.properties);
    client
}

fn base(config: &KafkaConfig) -> ClientConfig {
    let mut client = ClientConfig::new();
    client.set("bootstrap.servers", &config.brokers);
    client
}

fn apply(client: &mut ClientConfig, properties: &BTreeMap<String, String>) {
    for (name, value) in properties {
        client.set(name, value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_client_gets_the_shared_properties_and_only_its_own() {
        let mut config = KafkaConfig::default();
        config
            .properties
            .insert("security.protocol".into(), "ssl".into());
        config
            .properties
            .insert("fetch.wait.max.ms".into(), "5".into());
        config
            .consumer_properties
            .insert("session.timeout.ms".into(), "6000".into());
        config
            .producer_properties
            .insert("linger.ms".into(), "7".into());

        for consumer in [consumer(&config), reader(&config)] {
            assert_eq!(consumer.get("security.protocol"), Some("ssl"));
            // The user's properties win over tickhost's settings.
            assert_eq!(consumer.get("fetch.wait.max.ms"), Some("5"));
            assert_eq!(consumer.get("session.timeout.ms"), Some("6000"));
            assert_eq!(consumer.get("linger.ms"), None);
        }
        let producer = producer(&config);
        assert_eq!(producer.get("security.protocol"), Some("ssl"));
        assert_eq!(producer.get("linger.ms"), Some("7"));
        assert_eq!(producer.get("session.timeout.ms"), None);
        let admin = admin(&config);
        assert_eq!(admin.get("security.protocol"), Some("ssl"));
        assert_eq!(admin.get("bootstrap.servers"), Some("localhost:9092"));
        assert_eq!(admin.get("session.timeout.ms"), None);
    }
}
