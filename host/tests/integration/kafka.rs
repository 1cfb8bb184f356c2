//! `tickhost serve` against a real broker (tansu): the round trip, dead
//! letters, a crash, a broker restart, two hosts sharing a group, and plugin
//! state too large for one message.
//!
//! Each test starts its own broker and runs the `tickhost` binary as a
//! separate process, so that it can be killed as a crash would kill it.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::{Headers, Message, OwnedMessage};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::{Offset, TopicPartitionList};

use tickhost::tick::Tick;
use tickhost::verdict::Verdict;

use crate::broker::Broker;
use crate::support::{chain, component, scratch};

/// How long a test waits for outputs before it fails.
const OUTPUT_TIMEOUT: Duration = Duration::from_secs(120);

/// The shipped chain's parameters, as in host/tickhost.toml.
const SLOTS: [(&str, &str, &str); 3] = [
    ("spike", "spike", "max-change-pct = 2.0\nwindow = \"10m\""),
    ("volume", "threshold", "min-volume = 1_000_000"),
    ("moving-average", "moving-average", "window = \"10m\""),
];

/// Writes a configuration of the three plugins for `broker`.
fn config(dir: &Path, broker: &Broker, extra_properties: &str) -> PathBuf {
    config_of(&SLOTS, dir, broker, extra_properties)
}

/// Writes a configuration of `slots` (name, plugin, parameters) for
/// `broker`.
fn config_of(
    slots: &[(&str, &str, &str)],
    dir: &Path,
    broker: &Broker,
    extra_properties: &str,
) -> PathBuf {
    let mut text = String::from("batch-size = 256\n");
    for &(slot, plugin, params) in slots {
        text.push_str(&format!(
            "[[slot]]\nname = \"{slot}\"\npath = {:?}\n[slot.params]\n{params}\n",
            component(plugin)
        ));
    }
    // Two hosts run side by side: each asks the system for its admin port.
    text.push_str("[admin]\nlisten = \"127.0.0.1:0\"\n");
    text.push_str(&format!(
        "[kafka]\nbrokers = \"{}\"\ngroup-id = \"tickhost-test\"\nbatch-max = 256\n\
         batch-wait = \"10ms\"\ncheckpoint-interval = \"200ms\"\n[kafka.consumer-properties]\n\
         \"fetch.wait.max.ms\" = \"5\"\n{extra_properties}\n",
        broker.bootstrap()
    ));
    let path = dir.join("tickhost.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// A `tickhost serve` process.
struct Host {
    child: Child,
    log: PathBuf,
}

impl Host {
    fn start(config: &Path, log: PathBuf) -> Host {
        let file = std::fs::File::create(&log).unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_tickhost"))
            .args(["serve", "--config"])
            .arg(config)
            .env("RUST_LOG", "info")
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(file)
            .spawn()
            .expect("tickhost serve starts");
        Host { child, log }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Stops the host as a crash would: SIGKILL, no clean-up.
    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Asks the host to stop (SIGTERM) and waits for it; returns its log.
    fn stop(mut self) -> String {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let status = self.child.wait().unwrap();
        let log = self.log();
        assert!(status.success(), "tickhost serve failed: {log}");
        log
    }
}

impl Drop for Host {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Publishes `(key, payload)` messages to `topic`, in order.
fn publish(broker: &Broker, topic: &str, messages: &[(String, Vec<u8>)]) {
    send_all(&producer(broker), topic, messages);
}

/// Publishes `ticks` to "ticks" in chunks of 100 every 10 ms, from one
/// producer, until they run out or `stop` is set; returns how many went.
fn publish_paced(broker: &Broker, ticks: &[Tick], stop: &AtomicBool) -> usize {
    let producer = producer(broker);
    let mut sent = 0;
    for chunk in ticks.chunks(100) {
        if stop.load(Ordering::Relaxed) {
            break;
        }
        send_all(&producer, "ticks", &messages(chunk));
        sent += chunk.len();
        std::thread::sleep(Duration::from_millis(10));
    }
    sent
}

fn producer(broker: &Broker) -> FutureProducer {
    broker
        .client()
        .set("enable.idempotence", "true")
        .set("linger.ms", "5")
        .create()
        .unwrap()
}

/// Sends `messages` to `topic` and waits until each is acknowledged.
fn send_all(producer: &FutureProducer, topic: &str, messages: &[(String, Vec<u8>)]) {
    let deliveries: Vec<_> = messages
        .iter()
        .map(|(key, payload)| {
            producer
                .send_result(FutureRecord::to(topic).key(key).payload(payload))
                .unwrap_or_else(|(e, _)| panic!("publishing failed: {e}"))
        })
        .collect();
    for delivery in futures::executor::block_on(futures::future::join_all(deliveries)) {
        delivery
            .unwrap()
            .unwrap_or_else(|(e, _)| panic!("publishing failed: {e}"));
    }
}

/// Reads `topic` from the start until `done` says it has enough.
fn read_until(
    broker: &Broker,
    topic: &str,
    done: impl Fn(&[OwnedMessage]) -> bool,
) -> Vec<OwnedMessage> {
    let consumer: BaseConsumer = broker
        .client()
        .set("group.id", "test-reader")
        .set("enable.auto.commit", "false")
        .set("fetch.wait.max.ms", "10")
        .create()
        .unwrap();
    let deadline = Instant::now() + OUTPUT_TIMEOUT;
    let metadata = loop {
        let metadata = consumer
            .fetch_metadata(Some(topic), Duration::from_secs(5))
            .unwrap();
        let found = metadata
            .topics()
            .iter()
            .any(|t| t.name() == topic && !t.partitions().is_empty());
        if found {
            break metadata;
        }
        assert!(Instant::now() < deadline, "topic '{topic}' never appeared");
        std::thread::sleep(Duration::from_millis(100));
    };
    let mut assignment = TopicPartitionList::new();
    for partition in metadata.topics()[0].partitions() {
        assignment
            .add_partition_offset(topic, partition.id(), Offset::Beginning)
            .unwrap();
    }
    consumer.assign(&assignment).unwrap();
    // `done` may look at every message, so it is asked only when the reader
    // has caught up or has read another thousand.
    let mut messages = Vec::new();
    let mut unchecked = 0;
    loop {
        match consumer.poll(Duration::from_millis(100)) {
            Some(message) => {
                messages.push(message.expect("reading outputs").detach());
                unchecked += 1;
                if unchecked < 1_000 {
                    continue;
                }
            }
            None => {
                assert!(
                    Instant::now() < deadline,
                    "read {} message(s) of '{topic}' in {OUTPUT_TIMEOUT:?}, not enough",
                    messages.len()
                );
            }
        }
        unchecked = 0;
        if done(&messages) {
            return messages;
        }
    }
}

/// Waits until the logs of two hosts satisfy `done`, failing with both
/// logs after [`OUTPUT_TIMEOUT`].
fn wait_for_logs(one: &Host, two: &Host, what: &str, done: impl Fn(&str, &str) -> bool) {
    let deadline = Instant::now() + OUTPUT_TIMEOUT;
    while !done(&one.log(), &two.log()) {
        assert!(
            Instant::now() < deadline,
            "waited for {what}:\n{}\n---\n{}",
            one.log(),
            two.log()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn json(message: &OwnedMessage) -> serde_json::Value {
    serde_json::from_slice(message.payload().unwrap()).unwrap()
}

/// A stream of ticks over `symbols` symbols, a minute apart per symbol, with
/// low volumes and spikes at fixed places so that every plugin has work.
fn ticks(count: usize, symbols: usize) -> Vec<Tick> {
    (0..count)
        .map(|i| {
            let step = (i / symbols) as i64;
            let price = 100.0 + (step % 9) as f64 * 0.1 + if i % 97 == 0 { 5.0 } else { 0.0 };
            let volume = if i % 11 == 0 {
                900_000
            } else {
                1_500_000 + i as u64
            };
            Tick {
                symbol: format!("S{:02}", i % symbols),
                ts: 1_709_735_400_000 + step * 60_000,
                price,
                volume,
            }
        })
        .collect()
}

fn messages(ticks: &[Tick]) -> Vec<(String, Vec<u8>)> {
    ticks
        .iter()
        .map(|t| (t.symbol.clone(), t.to_json().into_bytes()))
        .collect()
}

/// What the chain, run in this process on the whole stream, says about each
/// tick: `None` for kept with its avg, `Some(slot)` for dropped.
fn expected(ticks: &[Tick]) -> HashMap<(String, i64), (Option<String>, f64)> {
    expected_of(&SLOTS, ticks)
}

/// [`expected`] for a chain of `slots`, of which the last annotates `avg`.
fn expected_of(
    slots: &[(&str, &str, &str)],
    ticks: &[Tick],
) -> HashMap<(String, i64), (Option<String>, f64)> {
    let plugins: Vec<(&str, &str)> = slots
        .iter()
        .map(|&(_, plugin, params)| (plugin, params))
        .collect();
    let mut chain = chain(&plugins);
    let judgement = chain.process(ticks).unwrap();
    let mut expected = HashMap::new();
    for (i, tick) in ticks.iter().enumerate() {
        let outcome = match &judgement.verdicts()[i] {
            Verdict::Kept => (None, judgement.annotations_of(i as u32)[0].value),
            Verdict::Dropped { slot, .. } => (Some(slots[*slot].0.to_string()), 0.0),
        };
        expected.insert((tick.symbol.clone(), tick.ts), outcome);
    }
    expected
}

/// The (symbol, ts) of an output record.
fn id(record: &serde_json::Value) -> (String, i64) {
    (
        record["symbol"].as_str().unwrap().to_string(),
        record["ts"].as_i64().unwrap(),
    )
}

/// Checks every output against the expected verdicts; returns the number of
/// distinct ticks seen.
fn check_outputs(
    processed: &[OwnedMessage],
    rejected: &[OwnedMessage],
    expected: &HashMap<(String, i64), (Option<String>, f64)>,
) -> usize {
    let mut seen = std::collections::HashSet::new();
    for message in processed {
        let record = json(message);
        let (slot, avg) = &expected[&id(&record)];
        assert_eq!(slot, &None, "{record} was expected dropped");
        let got = record["annotations"]["avg"].as_f64().unwrap();
        assert_eq!(got.to_bits(), avg.to_bits(), "{record}: avg {got} != {avg}");
        assert_eq!(
            message.key(),
            Some(record["symbol"].as_str().unwrap().as_bytes())
        );
        seen.insert(id(&record));
    }
    for message in rejected {
        let record = json(message);
        let (slot, _) = &expected[&id(&record)];
        assert_eq!(slot.as_deref(), record["slot"].as_str(), "{record}");
        seen.insert(id(&record));
    }
    seen.len()
}

/// Reads both output topics until every tick of `expected` is in one of
/// them (duplicates, as after a crash, counted once).
fn every_output(
    broker: &Broker,
    expected: &HashMap<(String, i64), (Option<String>, f64)>,
) -> (Vec<OwnedMessage>, Vec<OwnedMessage>) {
    let kept = expected.values().filter(|(slot, _)| slot.is_none()).count();
    let processed = read_until(broker, "ticks.processed", |m| distinct(m) >= kept);
    let rejected = read_until(broker, "ticks.rejected", |m| {
        distinct(m) >= expected.len() - kept
    });
    (processed, rejected)
}

fn distinct(messages: &[OwnedMessage]) -> usize {
    messages
        .iter()
        .map(|m| id(&json(m)))
        .collect::<std::collections::HashSet<_>>()
        .len()
}

#[test]
fn ticks_go_round_trip_with_the_expected_verdicts_and_order() {
    let broker = Broker::start("round-trip");
    broker.create_topic("ticks", 3);
    let dir = scratch("kafka-round-trip");
    let ticks = ticks(1_200, 6);
    let expected = expected(&ticks);
    publish(&broker, "ticks", &messages(&ticks));

    let host = Host::start(&config(&dir, &broker, ""), dir.join("host.log"));
    let kept = expected.values().filter(|(slot, _)| slot.is_none()).count();
    let processed = read_until(&broker, "ticks.processed", |m| m.len() >= kept);
    let rejected = read_until(&broker, "ticks.rejected", |m| m.len() >= ticks.len() - kept);
    let log = host.stop();

    assert_eq!(check_outputs(&processed, &rejected, &expected), ticks.len());
    assert_eq!(
        processed.len() + rejected.len(),
        ticks.len(),
        "no duplicates without a crash"
    );
    // The consumer's properties went to the consumer alone.
    assert!(!log.contains("CONFWARN"), "{log}");
    // Order is kept per symbol (and so per input partition).
    let mut last: HashMap<String, i64> = HashMap::new();
    for message in &processed {
        let (symbol, ts) = id(&json(message));
        let previous = last.insert(symbol.clone(), ts);
        assert!(
            previous.is_none_or(|p| p < ts),
            "{symbol} out of order at {ts}"
        );
    }
    assert!(
        log.contains(&format!(
            "consumed {} = processed {kept} + rejected {} + dead-lettered 0",
            ticks.len(),
            ticks.len() - kept
        )),
        "{log}"
    );
}

#[test]
fn messages_that_are_not_ticks_are_dead_lettered_with_their_provenance() {
    let broker = Broker::start("dead-letters");
    broker.create_topic("ticks", 1);
    let dir = scratch("kafka-dead-letters");
    let good = ticks(4, 1);
    let bad: Vec<(&str, Vec<u8>, &str)> = vec![
        ("S00", b"not json".to_vec(), "not a tick"),
        (
            "S00",
            br#"{"symbol":"S00","ts":1,"volume":5}"#.to_vec(),
            "missing field `price`",
        ),
        (
            "S00",
            br#"{"symbol":"S00","ts":1,"price":"NaN","volume":5}"#.to_vec(),
            "invalid type",
        ),
        (
            "S00",
            br#"{"symbol":"S00","ts":1,"price":1.0,"volume":-5}"#.to_vec(),
            "volume -5 is negative",
        ),
        (
            "S00",
            br#"{"symbol":"S00","ts":1,"price":0,"volume":5}"#.to_vec(),
            "not above zero",
        ),
        ("S00", vec![b' '; 5_000], "exceeds the limit of 4096 bytes"),
    ];
    let mut stream = vec![(good[0].symbol.clone(), good[0].to_json().into_bytes())];
    stream.extend(
        bad.iter()
            .map(|(key, payload, _)| (key.to_string(), payload.clone())),
    );
    stream.push((good[1].symbol.clone(), good[1].to_json().into_bytes()));
    publish(&broker, "ticks", &stream);

    let host = Host::start(&config(&dir, &broker, ""), dir.join("host.log"));
    let dead = read_until(&broker, "ticks.dlq", |m| m.len() >= bad.len());
    // The host keeps consuming after the dead letters.
    publish(&broker, "ticks", &messages(&good[2..]));
    let expected = expected(&good);
    let kept = expected.values().filter(|(slot, _)| slot.is_none()).count();
    let processed = read_until(&broker, "ticks.processed", |m| m.len() >= kept);
    let rejected = read_until(&broker, "ticks.rejected", |m| m.len() >= good.len() - kept);
    host.stop();

    assert_eq!(dead.len(), bad.len());
    for (message, (_, payload, reason)) in dead.iter().zip(&bad) {
        assert_eq!(
            message.payload(),
            Some(payload.as_slice()),
            "original bytes untouched"
        );
        let headers: HashMap<&str, String> = message
            .headers()
            .unwrap()
            .iter()
            .map(|h| {
                (
                    h.key,
                    String::from_utf8_lossy(h.value.unwrap()).into_owned(),
                )
            })
            .collect();
        assert!(headers["tickhost.reason"].contains(reason), "{headers:?}");
        assert_eq!(headers["tickhost.topic"], "ticks");
        assert_eq!(headers["tickhost.partition"], "0");
        assert!(headers.contains_key("tickhost.timestamp"));
        let offset: i64 = headers["tickhost.offset"].parse().unwrap();
        assert_eq!(
            offset,
            1 + bad.iter().position(|b| &b.1 == payload).unwrap() as i64
        );
    }
    assert_eq!(check_outputs(&processed, &rejected, &expected), good.len());
}

#[test]
fn a_host_killed_mid_stream_resumes_without_losing_a_tick() {
    let broker = Broker::start("crash");
    broker.create_topic("ticks", 3);
    let dir = scratch("kafka-crash");
    let ticks = ticks(30_000, 12);
    let expected = expected(&ticks);
    publish(&broker, "ticks", &messages(&ticks));
    let config = config(&dir, &broker, "\"session.timeout.ms\" = \"6000\"");

    let mut host = Host::start(&config, dir.join("host-1.log"));
    read_until(&broker, "ticks.processed", |m| m.len() >= 5_000);
    host.kill();
    let host = Host::start(&config, dir.join("host-2.log"));
    let (processed, rejected) = every_output(&broker, &expected);
    host.stop();

    assert_eq!(check_outputs(&processed, &rejected, &expected), ticks.len());
    let duplicates = processed.len() + rejected.len() - ticks.len();
    eprintln!(
        "crash test: {} ticks, every one delivered, {duplicates} duplicate(s)",
        ticks.len()
    );
}

#[test]
fn the_host_rides_out_a_broker_restart() {
    let mut broker = Broker::start("broker-restart");
    broker.create_topic("ticks", 2);
    let dir = scratch("kafka-broker-restart");
    let ticks = ticks(4_000, 4);
    let expected = expected(&ticks);
    let (first, second) = ticks.split_at(2_000);
    publish(&broker, "ticks", &messages(first));

    let host = Host::start(&config(&dir, &broker, ""), dir.join("host.log"));
    read_until(&broker, "ticks.processed", |m| m.len() >= 1_000);
    broker.restart();
    publish(&broker, "ticks", &messages(second));
    let (processed, rejected) = every_output(&broker, &expected);
    host.stop();

    assert_eq!(check_outputs(&processed, &rejected, &expected), ticks.len());
}

#[test]
fn a_host_started_before_its_broker_waits_for_it() {
    let mut broker = Broker::reserve("late-broker");
    let dir = scratch("kafka-late-broker");
    let ticks = ticks(300, 3);
    let expected = expected(&ticks);

    let host = Host::start(&config(&dir, &broker, ""), dir.join("host.log"));
    std::thread::sleep(Duration::from_secs(3));
    broker.launch();
    broker.create_topic("ticks", 1);
    publish(&broker, "ticks", &messages(&ticks));
    let kept = expected.values().filter(|(slot, _)| slot.is_none()).count();
    let processed = read_until(&broker, "ticks.processed", |m| m.len() >= kept);
    let rejected = read_until(&broker, "ticks.rejected", |m| m.len() >= ticks.len() - kept);
    host.stop();

    assert_eq!(check_outputs(&processed, &rejected, &expected), ticks.len());
}

#[test]
fn a_second_host_takes_over_partitions_with_their_windows() {
    let log = takeover("takeover", "");
    // Eager: when the other left, every partition went back to the group and came back.
    assert!(log.contains("partition revoked"), "{log}");
}

/// The same under the cooperative protocol: partitions move one by one
/// (incremental assignment and revocation), and the ones that stay keep
/// their messages in flight.
#[test]
fn a_second_host_takes_over_partitions_under_cooperative_rebalancing() {
    let log = takeover(
        "takeover-cooperative",
        "\"partition.assignment.strategy\" = \"cooperative-sticky\"",
    );
    // Incremental: the remaining host kept its own partitions when the other left.
    assert!(!log.contains("partition revoked"), "{log}");
}

/// Two hosts share the partitions; one stops cleanly and the other takes
/// its partitions over with their windows. Returns what the other logged
/// from the stop on.
fn takeover(name: &str, extra_properties: &str) -> String {
    let broker = Broker::start(name);
    broker.create_topic("ticks", 4);
    let dir = scratch(&format!("kafka-{name}"));
    let ticks = ticks(8_000, 8);
    let expected = expected(&ticks);
    let (first, second) = ticks.split_at(4_000);
    let config = config(
        &dir,
        &broker,
        &format!(
            "\"session.timeout.ms\" = \"6000\"\n\"heartbeat.interval.ms\" = \"500\"\n{extra_properties}"
        ),
    );

    let one = Host::start(&config, dir.join("host-1.log"));
    let two = Host::start(&config, dir.join("host-2.log"));
    // Both in the group with partitions before the ticks come: otherwise
    // the first to join may judge them all before the other is in.
    wait_for_logs(&one, &two, "the hosts to both get partitions", |a, b| {
        a.contains("partitions assigned") && b.contains("partitions assigned")
    });
    publish(&broker, "ticks", &messages(first));
    read_until(&broker, "ticks.processed", |m| distinct(m) >= 3_000);
    let split = |log: &str| {
        log.lines()
            .rfind(|l| l.contains("partitions assigned"))
            .map(str::to_string)
    };
    let log_two = two.log();
    // A clean stop (SIGTERM): the host checkpoints, commits and leaves the
    // group. (A SIGKILLed member was seen to stay in tansu 0.6.0's group, so
    // its partitions never moved; the crash test covers SIGKILL.)
    let log_one = one.stop();
    publish(&broker, "ticks", &messages(second));
    let (processed, rejected) = every_output(&broker, &expected);
    let log = two.stop();

    // Both hosts had partitions before the kill.
    assert!(
        split(&log_one).is_some() && split(&log_two).is_some(),
        "{log_one}\n---\n{log_two}"
    );
    // Every average after the takeover equals the uninterrupted run's.
    assert_eq!(check_outputs(&processed, &rejected, &expected), ticks.len());
    assert!(log.contains("partition state restored"), "{log}");
    // Which host joined first, and gave partitions to the other, varies.
    log[log_two.len()..].to_string()
}

/// A second host joins while ticks flow, under the cooperative protocol:
/// the first gives up some partitions in the middle of its rounds and keeps
/// the others, whose messages gathered before the rebalance are not fetched
/// again, so they must still be judged.
#[test]
fn a_host_joining_mid_stream_under_cooperative_rebalancing_loses_no_tick() {
    let broker = Broker::start("join-cooperative");
    broker.create_topic("ticks", 4);
    let dir = scratch("kafka-join-cooperative");
    // Enough for a stream of half a minute or more: it is stopped once the
    // rebalance is over, however long that takes.
    let ticks = ticks(200_000, 8);
    let config = config(
        &dir,
        &broker,
        "\"session.timeout.ms\" = \"6000\"\n\"heartbeat.interval.ms\" = \"500\"\n\
         \"partition.assignment.strategy\" = \"cooperative-sticky\"",
    );
    // Rounds of a second: the rebalance comes while one is being gathered.
    let text = std::fs::read_to_string(&config).unwrap();
    let long_rounds = text
        .replace("batch-wait = \"10ms\"", "batch-wait = \"1s\"")
        .replace("batch-max = 256", "batch-max = 100000");
    assert_ne!(text, long_rounds);
    std::fs::write(&config, long_rounds).unwrap();

    let one = Host::start(&config, dir.join("host-1.log"));
    let stop = AtomicBool::new(false);
    let (published, log_one, log_two) = std::thread::scope(|scope| {
        let publisher = scope.spawn(|| publish_paced(&broker, &ticks, &stop));
        read_until(&broker, "ticks.processed", |m| m.len() >= 500);
        let two = Host::start(&config, dir.join("host-2.log"));
        wait_for_logs(&one, &two, "the second host to get partitions", |a, b| {
            a.contains("partition revoked") && b.contains("partitions assigned")
        });
        // The stream goes on a while after the hand-over.
        std::thread::sleep(Duration::from_secs(1));
        stop.store(true, Ordering::Relaxed);
        let published = publisher.join().unwrap();
        assert!(
            published < ticks.len(),
            "the stream ended before the rebalance"
        );
        let expected = expected(&ticks[..published]);
        let (processed, rejected) = every_output(&broker, &expected);
        let (log_one, log_two) = (one.stop(), two.stop());
        assert_eq!(
            check_outputs(&processed, &rejected, &expected),
            published,
            "{log_one}\n---\n{log_two}"
        );
        (published, log_one, log_two)
    });

    // Incremental: the first host started each of the 4 partitions once
    // and never got back one it kept, which would have been fetched again
    // from its checkpoint (as under the eager protocol).
    assert!(published > 500);
    let started = log_one.matches("partition starts with empty state").count()
        + log_one.matches("partition state restored").count();
    assert_eq!(started, 4, "{log_one}\n---\n{log_two}");
}

/// The shipped chain with day-long windows: every tick of the stream below
/// stays in the state of spike and moving-average.
const DAY_SLOTS: [(&str, &str, &str); 3] = [
    ("spike", "spike", "max-change-pct = 2.0\nwindow = \"1d\""),
    ("volume", "threshold", "min-volume = 1_000_000"),
    ("moving-average", "moving-average", "window = \"1d\""),
];

/// What the state topic holds: for each checkpoint id, the chunk count its
/// headers give, the chunks read and their bytes.
fn checkpoints(messages: &[OwnedMessage]) -> HashMap<String, (usize, usize, usize)> {
    let mut found: HashMap<String, (usize, usize, usize)> = HashMap::new();
    for message in messages {
        let header = |name: &str| {
            let headers = message.headers()?;
            let value = headers.iter().find(|h| h.key == name)?.value?;
            Some(String::from_utf8_lossy(value).into_owned())
        };
        let (Some(id), Some(count)) = (header("tickhost.checkpoint"), header("tickhost.chunks"))
        else {
            continue;
        };
        let entry = found.entry(id).or_default();
        entry.0 = count.parse().unwrap();
        entry.1 += 1;
        entry.2 += message.payload().map_or(0, <[u8]>::len);
    }
    found
}

#[test]
fn state_larger_than_a_message_is_checkpointed_in_chunks_and_restored() {
    let broker = Broker::start("big-state");
    broker.create_topic("ticks", 1);
    let dir = scratch("kafka-big-state");
    // 48 symbols a minute apart: 1,250 minutes each, all inside a day.
    let ticks = ticks(60_000, 48);
    let expected = expected_of(&DAY_SLOTS, &ticks);
    let (first, second) = ticks.split_at(48_000);
    let config = config_of(
        &DAY_SLOTS,
        &dir,
        &broker,
        "\"session.timeout.ms\" = \"6000\"\n\"heartbeat.interval.ms\" = \"500\"",
    );

    // The state after the first part is more than one message may hold.
    let plugins: Vec<(&str, &str)> = DAY_SLOTS
        .iter()
        .map(|&(_, p, params)| (p, params))
        .collect();
    let mut reference = chain(&plugins);
    reference.process(first).unwrap();
    let state: usize = reference.snapshot().unwrap().iter().map(Vec::len).sum();
    assert!(state > 1_000_000, "the state is only {state} bytes");

    // One host judges the first part alone; a second one joining makes it
    // checkpoint at revocation, and whichever gets the partition restores.
    publish(&broker, "ticks", &messages(first));
    let one = Host::start(&config, dir.join("host-1.log"));
    let kept_first = expected_of(&DAY_SLOTS, first)
        .values()
        .filter(|(slot, _)| slot.is_none())
        .count();
    read_until(&broker, "ticks.processed", |m| m.len() >= kept_first);
    let two = Host::start(&config, dir.join("host-2.log"));
    wait_for_logs(&one, &two, "a host to restore the partition", |a, b| {
        a.contains("partition state restored") || b.contains("partition state restored")
    });

    // The first host leaves (checkpointing if it holds the partition); the
    // second goes on with the restored windows.
    let log_one = one.stop();
    publish(&broker, "ticks", &messages(second));
    let (processed, rejected) = every_output(&broker, &expected);
    let log_two = two.stop();

    // Every average after the hand-over equals the uninterrupted run's: the
    // day-long windows came through whole.
    assert_eq!(check_outputs(&processed, &rejected, &expected), ticks.len());
    assert!(log_one.contains("partition revoked"), "{log_one}");
    assert!(
        !log_one.contains("checkpoint at revocation failed"),
        "{log_one}"
    );
    assert!(log_two.contains("partition state restored"), "{log_two}");

    // The checkpoints were written in chunks below the message limit.
    let limit = tickhost::kafka::state::CHUNK_BYTES;
    let state = read_until(&broker, "tickhost.state", |m| {
        checkpoints(m)
            .values()
            .any(|&(count, read, bytes)| count > 1 && read == count && bytes > 1_000_000)
    });
    assert!(state.iter().all(|m| m.payload().unwrap().len() <= limit));
    let (count, _, bytes) = checkpoints(&state)
        .into_values()
        .max_by_key(|&(_, _, bytes)| bytes)
        .unwrap();
    eprintln!(
        "big-state test: {} checkpoint chunks; the largest checkpoint {bytes} bytes in {count} chunks",
        state.len()
    );
}
