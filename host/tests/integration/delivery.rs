//! Outputs are produced without waiting, so a refused one must still stop
//! the host before any offset that covers it is committed (here the mock
//! cluster refuses every produce request once the ticks are in), and a
//! checkpoint, from whose offset a partition resumes, must never reach the
//! broker before the outputs it covers (here the broker that leads the
//! output topics is down while the one that leads the state topic is up).

use std::path::Path;
use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::mocking::{MockCluster, MockCoordinator};
use rdkafka::producer::{BaseRecord, DefaultProducerContext, Producer, ThreadedProducer};
use rdkafka::types::{RDKafkaApiKey, RDKafkaRespErr};
use rdkafka::{ClientConfig, Offset, TopicPartitionList};

use tickhost::chain::load_lineup;
use tickhost::config::Config;
use tickhost::kafka::{PartitionChains, ServeOptions, serve, state};
use tickhost::plugin::ComponentCache;
use tickhost::swap::Chains as _;

use crate::support::{component, runtime};

const TOPICS: [&str; 5] = [
    "ticks",
    "ticks.processed",
    "ticks.rejected",
    "ticks.dlq",
    "tickhost.state",
];

/// Publishes `count` ticks of one symbol, a minute apart, to `ticks`.
fn publish(brokers: &str, count: i64) {
    let producer: ThreadedProducer<_> = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .create()
        .unwrap();
    for i in 0..count {
        let payload = format!(
            r#"{{"symbol":"GOOG","ts":{},"price":100.0,"volume":2000000}}"#,
            1_709_735_400_000 + i * 60_000
        );
        producer
            .send(BaseRecord::to("ticks").key("GOOG").payload(&payload))
            .unwrap_or_else(|(e, _)| panic!("{e}"));
    }
    producer.flush(Duration::from_secs(10)).unwrap();
}

/// A configuration of one threshold slot on `brokers`, in group `group`.
fn config(brokers: &str, group: &str) -> Config {
    let text = format!(
        "[[slot]]\nname = \"volume\"\npath = {:?}\n\
         [kafka]\nbrokers = \"{brokers}\"\ncreate-topics = false\ngroup-id = \"{group}\"\n\
         batch-max = 16\nbatch-wait = \"5ms\"\ncheckpoint-interval = \"100ms\"\n",
        component("threshold"),
    );
    Config::parse(&text, Path::new(".")).unwrap()
}

#[test]
fn a_refused_output_stops_the_host_without_committing() {
    let cluster: MockCluster<'static, DefaultProducerContext> = MockCluster::new(1).unwrap();
    for topic in TOPICS {
        cluster.create_topic(topic, 1, 1).unwrap();
    }
    let brokers = cluster.bootstrap_servers();
    publish(&brokers, 50);
    cluster.request_errors(
        RDKafkaApiKey::Produce,
        &[RDKafkaRespErr::RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED; 64],
    );

    let config = config(&brokers, "refused");
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

#[test]
fn no_checkpoint_is_written_before_the_outputs_it_covers_are_acknowledged() {
    // Broker 1 leads the input and the state topic and coordinates the
    // group; broker 2 leads the output topics, and is down at first.
    let cluster: MockCluster<'static, DefaultProducerContext> = MockCluster::new(2).unwrap();
    for topic in TOPICS {
        cluster.create_topic(topic, 1, 1).unwrap();
        let leader = if topic.starts_with("ticks.") { 2 } else { 1 };
        cluster.partition_leader(topic, 0, Some(leader)).unwrap();
    }
    cluster
        .coordinator(MockCoordinator::Group("ordered".to_string()), 1)
        .unwrap();
    let brokers = cluster.bootstrap_servers();
    publish(&brokers, 200);
    cluster.broker_down(2).unwrap();

    let config = config(&brokers, "ordered");
    let lineup = load_lineup(runtime(), &ComponentCache::new(None), &config).unwrap();
    let chains = PartitionChains::new();
    let host = {
        let (config, chains) = (config.clone(), chains.clone());
        std::thread::spawn(move || {
            tokio::runtime::Runtime::new().unwrap().block_on(serve(
                &config,
                lineup,
                chains,
                ServeOptions {
                    stop_after: Some(200),
                    report: false,
                },
                std::future::pending(),
            ))
        })
    };

    // The host joins the group, consumes and judges, but no output can be
    // acknowledged: a checkpoint written now would let a successor resume
    // past ticks whose outputs a crash would lose.
    let deadline = Instant::now() + Duration::from_secs(30);
    let judged = || {
        let mut batches = 0;
        chains.with_chains(&mut |chains| batches = chains.iter().map(|c| c.batches()).sum());
        batches
    };
    while judged() == 0 {
        assert!(Instant::now() < deadline, "the host judged nothing");
        std::thread::sleep(Duration::from_millis(20));
    }
    // Ten checkpoint intervals.
    std::thread::sleep(Duration::from_secs(1));
    let early = state::read_all(&config.kafka).unwrap();
    assert!(
        early.is_empty(),
        "a checkpoint reached the broker before its outputs: offset {:?}",
        early.get(&0).map(|c| c.offset)
    );

    cluster.broker_up(2).unwrap();
    let served = host.join().unwrap().unwrap();
    assert!(served.counters.balanced(), "{}", served.counters);
    assert_eq!(served.counters.consumed, 200);
    let last = state::read_all(&config.kafka).unwrap();
    assert_eq!(last.get(&0).map(|c| c.offset), Some(200));
}
