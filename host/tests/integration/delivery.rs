//! Outputs are produced without waiting, so a refused one must still stop
//! the host before any offset that covers it is committed: here the mock
//! cluster refuses every produce request once the ticks are in.

use std::path::Path;
use std::time::Duration;

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::mocking::MockCluster;
use rdkafka::producer::{BaseRecord, DefaultProducerContext, Producer, ThreadedProducer};
use rdkafka::types::{RDKafkaApiKey, RDKafkaRespErr};
use rdkafka::{ClientConfig, Offset, TopicPartitionList};

use tickhost::chain::load_lineup;
use tickhost::config::Config;
use tickhost::kafka::{PartitionChains, ServeOptions, serve};
use tickhost::plugin::ComponentCache;

use crate::support::{component, runtime};

#[test]
fn a_refused_output_stops_the_host_without_committing() {
    let cluster: MockCluster<'static, DefaultProducerContext> = MockCluster::new(1).unwrap();
    for topic in [
        "ticks",
        "ticks.processed",
        "ticks.rejected",
        "ticks.dlq",
        "tickhost.state",
    ] {
        cluster.create_topic(topic, 1, 1).unwrap();
    }
    let brokers = cluster.bootstrap_servers();
    let producer: ThreadedProducer<_> = ClientConfig::new()
        .set("bootstrap.servers", &brokers)
        .create()
        .unwrap();
    for i in 0..50_i64 {
        let payload = format!(
            r#"{{"symbol":"GOOG","ts":{},"price":100.0,"volume":2000000}}"#,
            1_709_735_400_000 + i * 60_000
        );
        producer
            .send(BaseRecord::to("ticks").key("GOOG").payload(&payload))
            .unwrap_or_else(|(e, _)| panic!("{e}"));
    }
    producer.flush(Duration::from_secs(10)).unwrap();
    cluster.request_errors(
        RDKafkaApiKey::Produce,
        &[RDKafkaRespErr::RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED; 64],
    );

    let text = format!(
        "[[slot]]\nname = \"volume\"\npath = {:?}\n\
         [kafka]\nbrokers = \"{brokers}\"\ncreate-topics = false\ngroup-id = \"refused\"\n\
         batch-wait = \"5ms\"\ncheckpoint-interval = \"200ms\"\n",
        component("threshold"),
    );
    let config = Config::parse(&text, Path::new(".")).unwrap();
    let lineup = load_lineup(runtime(), &ComponentCache::new(None), &config).unwrap();
    let served = tokio::runtime::Runtime::new().unwrap().block_on(async {
        tokio::time::timeout(
            Duration::from_secs(60),
            serve(
                &config,
                lineup,
                PartitionChains::new(),
                ServeOptions::default(),
                std::future::pending(),
            ),
        )
        .await
    });

    let error = match served {
        Ok(Err(error)) => format!("{error:#}"),
        Ok(Ok(served)) => panic!("the host went on: {}", served.counters),
        Err(_) => panic!("the host neither stopped nor failed within a minute"),
    };
    assert!(error.contains("refused"), "{error}");
    // Nothing was committed for the group: a restart judges every tick again.
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", &brokers)
        .set("group.id", "refused")
        .create()
        .unwrap();
    let mut partitions = TopicPartitionList::new();
    partitions.add_partition("ticks", 0);
    let committed = consumer
        .committed_offsets(partitions, Duration::from_secs(10))
        .unwrap();
    let offset = committed.find_partition("ticks", 0).unwrap().offset();
    assert_eq!(
        offset,
        Offset::Invalid,
        "an offset was committed: {offset:?}"
    );
}
