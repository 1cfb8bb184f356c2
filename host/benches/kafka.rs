//! The Kafka benchmark: `tickhost serve` end to end, against a bare rdkafka
//! pass-through with no plugins (the ceiling) and against the prototype's
//! design in Python (the baseline, `host/benches/prototype/prototype.py`),
//! on the same broker and the same ticks; then the latency of each at half
//! of tickhost's peak, and tickhost's resident memory with 1,000 symbols.
//!
//! Run it with `cargo bench -p tickhost --bench kafka`. It builds the
//! components first (`scripts/build-plugins.sh`), runs everything once on
//! librdkafka's mock cluster (inside this process) and once on tansu (a
//! separate process started on a free port, with its storage under
//! `target/bench-kafka/`, killed at the end), and prints a markdown table
//! per broker on stdout. It needs the tansu binary (`scripts/ensure-tansu.sh`
//! installs it, or set `TICKHOST_TANSU`) and a Python 3 with confluent-kafka
//! (`pip install confluent-kafka`; `TICKHOST_PYTHON` names the interpreter).
//! A missing prerequisite stops it at once, saying what to install.
//! `TICKHOST_BENCH_BROKERS=mock` (or `tansu`) runs it on one broker only.
//!
//! What is measured, and how:
//!
//! - **Throughput.** The ticks are produced to an input topic before any
//!   contender starts; each contender then reads the whole topic in its own
//!   consumer group and writes one output per tick to its own topics.
//!   Throughput is ticks divided by the time from the first output's
//!   timestamp to the last one's (the producer stamps a message when it is
//!   produced). That leaves out the consumer group's join, which on the mock
//!   cluster alone takes 3 seconds, and measures every contender the same
//!   way, from outside. The pass-through and the prototype also time
//!   themselves from the first consumed message to the last acknowledged
//!   output; the report shows both, and they should agree.
//! - **Latency.** Each contender runs on an empty input topic; a warm-up of
//!   ticks proves it is assigned and running; then ticks are produced at a
//!   steady rate, half of tickhost's peak on that broker and then a tenth of
//!   it, and a reader in this process notes when each tick's output
//!   arrives. A tick's latency is from the moment the benchmark hands it to
//!   its producer to the moment the reader receives its output: both broker
//!   hops, both clients' batching, and the contender's work.
//! - **Memory.** The `tickhost serve` binary runs as its own process on 1,000
//!   symbols, enough ticks that every symbol's windows hold ten minutes of
//!   ticks at the end; once every output is acknowledged, its VmRSS and its
//!   peak, VmHWM, are read from `/proc`. The prototype reports its own for
//!   the same ticks.
//!
//! Every contender's outputs are counted from the output topics'
//! watermarks, and tickhost and the prototype must keep and drop the same
//! ticks: a contender that judges differently, or loses a tick, stops the
//! benchmark.
//!
//! One setting differs from tickhost's defaults, for every contender alike,
//! and its constant's doc says why: `fetch.queue.backoff.ms`
//! ([`FETCH_QUEUE_BACKOFF_MS`]); tickhost's latency is also measured as
//! shipped.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::fs::File;
use std::io::Read as _;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::{ClientContext, DefaultClientContext};
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer, StreamConsumer};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{BorrowedMessage, DeliveryResult, Message};
use rdkafka::mocking::MockCluster;
use rdkafka::producer::{
    BaseRecord, DefaultProducerContext, FutureProducer, FutureRecord, Producer, ProducerContext,
    ThreadedProducer,
};
use rdkafka::{ClientConfig, Offset, TopicPartitionList};
use serde::Deserialize;

use tickhost::chain::load_lineup;
use tickhost::config::Config;
use tickhost::kafka::config::Topics;
use tickhost::kafka::{KafkaConfig, PartitionChains, ServeOptions, client, serve};
use tickhost::lineup::Lineup;
use tickhost::plugin::{ComponentCache, Runtime};

/// Ticks in the throughput run: 1,500 a symbol, so each symbol's windows
/// fill up in its first 600 and stay full; at the rates measured here, a
/// run of one to a few seconds. Spread evenly over the partitions, they
/// fit in what the mock cluster keeps (see [`produce_all`]); 200,000 do
/// not.
const TICKS: usize = 150_000;

/// Symbols in the throughput and latency runs, as in the chain benchmark.
const SYMBOLS: usize = 100;

/// A symbol's ticks in the throughput and latency runs are 0.5 to 1.5 s
/// apart: a ten-minute window holds about 600 of them.
const STEP_MS: (u64, u64) = (500, 1500);

/// Symbols in the memory run: the figure the memory target names.
const MEMORY_SYMBOLS: usize = 1000;

/// Ticks in the memory run, and how far apart each symbol's are: 150 ticks
/// a symbol, 2.5 to 6.5 s apart, span 11 minutes, so at the end every
/// symbol's windows hold the last ten minutes, about 130 ticks each. (More
/// ticks would not fit in what the mock cluster keeps of a partition.)
const MEMORY_TICKS: usize = 150_000;
const MEMORY_STEP_MS: (u64, u64) = (2500, 6500);

/// Partitions of every input and output topic, as in `docker-compose.yml`
/// and the demo; tickhost runs one chain for each.
const PARTITIONS: i32 = 3;

/// The latency run's warm-up: produced at once before the paced ticks;
/// once all their outputs are back, the contender is assigned and running.
const WARMUP_TICKS: usize = 2_000;

/// The light load at which latency is measured too, as a fraction of
/// tickhost's peak: what the design costs when the machine is idle.
const LOW_LOAD_DIVISOR: f64 = 10.0;

/// How long ticks are produced at the paced rate.
const PACED: Duration = Duration::from_secs(4);

/// How often the paced producer catches up with its schedule: ticks go out
/// in bursts this far apart, a few dozen at a time at the rates measured.
const PACE_TICK: Duration = Duration::from_micros(250);

/// The `batch-wait` of every contender: small, since the latency target is
/// a few milliseconds; with a backlog, batches fill before it passes.
const BATCH_WAIT: Duration = Duration::from_millis(2);

/// The `fetch.wait.max.ms` of every consumer. The mock cluster answers a
/// fetch that finds no data only once this much time has passed, even if
/// data arrives meanwhile (`rdkafka_mock_handlers.c`), so a caught-up
/// consumer sees a new message up to this late.
const FETCH_WAIT_MS: u32 = 1;

/// tickhost's own `fetch.wait.max.ms` (`host/src/kafka/client.rs`), which
/// the shipped configuration keeps.
const DEFAULT_FETCH_WAIT_MS: u32 = 10;

/// The `fetch.queue.backoff.ms` of every consumer. librdkafka's default,
/// 1,000, stops fetching for a second whenever its local queue holds more
/// than `queued.min.messages` (librdkafka's 100,000, tickhost's 50,000 a
/// partition): a consumer that drains a backlog
/// faster than that then waits with nothing to do, and each contender's
/// throughput came out near the same 130,000 ticks a second, a measure of
/// that pause rather than of the contender.
const FETCH_QUEUE_BACKOFF_MS: u32 = 10;

/// librdkafka's default `fetch.queue.backoff.ms`, which tickhost keeps.
const LIBRDKAFKA_FETCH_QUEUE_BACKOFF_MS: u32 = 1000;

/// The most any one run (a contender's pass, a warm-up, a wait for outputs)
/// may take before the benchmark gives up on it.
const RUN_TIMEOUT: Duration = Duration::from_secs(180);

/// How long a metadata or watermark request may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// How often a waiting loop looks again.
const POLL_EVERY: Duration = Duration::from_millis(50);

/// The seed of the generated ticks; every run of the benchmark gets the
/// same ticks.
const SEED: u64 = 0x6b61_666b_6162_656e;

/// The event time of the first ticks, 2024-03-06 14:30 UTC (the US open).
const START_MS: i64 = 1_709_735_400_000;

/// The generated prices: a random walk around this price, with a step of at
/// most this fraction and a pull back towards it of this fraction a step.
const BASE_PRICE: f64 = 100.0;
const MAX_WALK: f64 = 0.0005;
const REVERSION: f64 = 0.001;

/// The share of ticks that are a spike 3% to 8% away from the walk, which
/// the spike rule drops.
const SPIKE_RATE: f64 = 0.002;
const SPIKE_RANGE: (f64, f64) = (0.03, 0.08);

/// The share of ticks traded below the threshold's 1,000,000, and the
/// volumes of thin and ordinary trades.
const THIN_RATE: f64 = 0.10;
const THIN_VOLUMES: (u64, u64) = (1_000, 999_999);
const THICK_VOLUMES: (u64, u64) = (1_000_000, 4_999_999);

/// Prices are quoted to four decimals, as an exchange would.
const PRICE_SCALE: f64 = 1e4;

/// Where tansu is installed by `scripts/ensure-tansu.sh`, under the cache.
const TANSU_IN_CACHE: &str = "tansu-0.6.0/bin/tansu";

/// How long tansu may take to answer after it starts.
const TANSU_START_TIMEOUT: Duration = Duration::from_secs(30);

/// How long a `tickhost serve` process may take to stop when asked to.
const STOP_TIMEOUT: Duration = Duration::from_secs(30);

/// Bytes in a megabyte, the unit of the memory target (100 MB).
const MB: f64 = 1e6;

/// What tickhost logs on stderr while it is measured, unless `RUST_LOG`
/// says otherwise: only what goes wrong, since every run starts and stops
/// a host. librdkafka's own warnings are left out: they are not what is
/// measured.
const LOG_FILTER: &str = "warn,librdkafka=error";

/// The targets of the issue this benchmark answers.
const TARGET_VS_PASS_THROUGH: f64 = 0.8;
const TARGET_VS_PROTOTYPE: f64 = 5.0;
const TARGET_P99_MS: f64 = 10.0;
const TARGET_RSS_MB: f64 = 100.0;

fn main() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(LOG_FILTER));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .init();
    let workspace = workspace();
    let python = python();
    build_plugins(workspace);

    let scratch = workspace.join("target").join("bench-kafka");
    std::fs::create_dir_all(&scratch)
        .unwrap_or_else(|e| panic!("failed to create '{}': {e}", scratch.display()));
    let config_path = workspace.join("host").join("tickhost.toml");
    let config = Config::load(&config_path).unwrap_or_else(|e| panic!("{e}"));
    let cache_dir = scratch.join("components");
    let wasm = Runtime::new().expect("the WebAssembly runtime starts");
    let lineup = load_lineup(
        &wasm,
        &ComponentCache::new(Some(cache_dir.clone())),
        &config,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let async_runtime = Arc::new(
        tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .expect("the async runtime starts"),
    );
    let bench = Bench {
        config,
        config_path,
        lineup,
        runtime: async_runtime,
        python,
        cache_dir,
        throughput_ticks: Stream::generate(TICKS, SYMBOLS, STEP_MS),
        memory_ticks: Stream::generate(MEMORY_TICKS, MEMORY_SYMBOLS, MEMORY_STEP_MS),
    };

    let brokers = std::env::var("TICKHOST_BENCH_BROKERS").unwrap_or_else(|_| "mock,tansu".into());
    let on = |name: &str| brokers.split(',').any(|b| b.trim() == name);

    if on("mock") {
        eprintln!("kafka bench: on the mock cluster");
        let mock = Broker::mock();
        let results = bench.measure(&mock, &scratch.join("mock"));
        drop(mock);
        print_results(
            "the mock cluster (librdkafka, in this process)",
            &results,
            true,
        );
    }
    if on("tansu") {
        eprintln!("kafka bench: on tansu");
        let tansu = tansu_binary();
        let broker = Broker::tansu(&tansu, &scratch.join("tansu"));
        let results = bench.measure(&broker, &scratch.join("tansu"));
        drop(broker);
        print_results(
            "tansu 0.6.0 (SQLite storage, its own process)",
            &results,
            false,
        );
    }
}

/// The workspace's root directory.
fn workspace() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the host crate lives in the workspace")
}

/// Builds the components where `host/tickhost.toml` finds them. Cargo does
/// nothing if they are up to date.
fn build_plugins(workspace: &Path) {
    let script = workspace.join("scripts").join("build-plugins.sh");
    let status = Command::new(&script)
        .status()
        .unwrap_or_else(|e| panic!("failed to run '{}': {e}", script.display()));
    assert!(
        status.success(),
        "'{}' failed ({status}); see its output above",
        script.display()
    );
}

/// The Python interpreter for the prototype, checked for confluent-kafka.
fn python() -> PathBuf {
    let python =
        std::env::var_os("TICKHOST_PYTHON").map_or_else(|| "python3".into(), PathBuf::from);
    let probe = Command::new(&python)
        .args(["-c", "import confluent_kafka"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    match probe {
        Ok(status) if status.success() => python,
        _ => panic!(
            "the Python baseline needs '{}' with confluent-kafka: \
             run `pip install confluent-kafka`, \
             or set TICKHOST_PYTHON to an interpreter that has it",
            python.display()
        ),
    }
}

/// The tansu binary, or a panic that says how to get it.
fn tansu_binary() -> PathBuf {
    if let Some(path) = std::env::var_os("TICKHOST_TANSU") {
        return PathBuf::from(path);
    }
    let home = std::env::var_os("HOME").expect("HOME is set");
    let cache = std::env::var_os("TICKHOST_CACHE")
        .map_or_else(|| Path::new(&home).join(".cache/tickhost"), PathBuf::from);
    let path = cache.join(TANSU_IN_CACHE);
    assert!(
        path.exists(),
        "the tansu broker is not installed: run scripts/ensure-tansu.sh, or set TICKHOST_TANSU"
    );
    path
}

/// Everything the runs share.
struct Bench {
    /// The shipped chain, `host/tickhost.toml`, with its `[kafka]` section
    /// at its defaults; each run sets the broker, group and topics.
    config: Config,
    config_path: PathBuf,
    lineup: Arc<Lineup>,
    runtime: Arc<tokio::runtime::Runtime>,
    python: PathBuf,
    /// The compiled components, shared with the `tickhost serve` process.
    cache_dir: PathBuf,
    throughput_ticks: Stream,
    memory_ticks: Stream,
}

/// One of the three things measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Contender {
    Tickhost,
    PassThrough,
    Prototype,
}

impl Contender {
    const ALL: [Contender; 3] = [
        Contender::Tickhost,
        Contender::PassThrough,
        Contender::Prototype,
    ];

    /// Its name in topic and group names.
    fn id(self) -> &'static str {
        match self {
            Contender::Tickhost => "tickhost",
            Contender::PassThrough => "pass",
            Contender::Prototype => "python",
        }
    }
}

/// How a contender's consumer is tuned; `None` leaves tickhost's default.
#[derive(Debug, Clone, Copy)]
struct Tuning {
    batch_wait: Duration,
    fetch_wait_ms: Option<u32>,
    fetch_queue_backoff_ms: Option<u32>,
}

/// The tuning of every run unless said otherwise.
const BENCH_TUNING: Tuning = Tuning {
    batch_wait: BATCH_WAIT,
    fetch_wait_ms: Some(FETCH_WAIT_MS),
    fetch_queue_backoff_ms: Some(FETCH_QUEUE_BACKOFF_MS),
};

/// tickhost as shipped: its default batch wait and librdkafka settings.
fn shipped_tuning() -> Tuning {
    Tuning {
        batch_wait: KafkaConfig::default().batch_wait,
        fetch_wait_ms: None,
        fetch_queue_backoff_ms: None,
    }
}

/// What one broker's runs found.
struct Results {
    throughput: Vec<(Contender, Throughput)>,
    /// At half of tickhost's peak.
    latency: Vec<(Contender, Latency)>,
    /// At a tenth of it.
    low_latency: Vec<(Contender, Latency)>,
    /// tickhost's latency as shipped: its default batch wait and fetch wait.
    shipped_latency: Latency,
    tickhost_memory: Memory,
    prototype_memory: Memory,
    /// tickhost's checkpoints in the throughput run and the memory run.
    checkpoints: Checkpoints,
    memory_checkpoints: Checkpoints,
}

impl Bench {
    /// Every measurement on one broker. `dir` holds the files of the
    /// `tickhost serve` process.
    fn measure(&self, broker: &Broker, dir: &Path) -> Results {
        std::fs::create_dir_all(dir)
            .unwrap_or_else(|e| panic!("failed to create '{}': {e}", dir.display()));

        // Throughput, every contender on the same pre-produced ticks.
        let input = "tp.ticks";
        broker.create_topic(input, PARTITIONS);
        produce_all(broker, input, &self.throughput_ticks);
        let mut throughput = Vec::new();
        for contender in Contender::ALL {
            let run = format!("tp-{}", contender.id());
            let measured = self.throughput(broker, contender, input, &run);
            eprintln!("  {run}: {measured}");
            throughput.push((contender, measured));
        }
        let checkpoints = Checkpoints::read(broker, "tp-tickhost.state");
        let tickhost = throughput[0].1.rate();
        let prototype = throughput[2].1.rate();
        let (kept, dropped) = (throughput[0].1.kept, throughput[0].1.dropped);
        assert_eq!(
            (throughput[2].1.kept, throughput[2].1.dropped),
            (kept, dropped),
            "tickhost and the prototype judge the same ticks differently"
        );

        // Latency at half of tickhost's peak (the prototype at half of its
        // own if that is lower: beyond its peak, its latency only grows),
        // and at a tenth of it, where the machine is mostly idle.
        let half = tickhost / 2.0;
        let tenth = tickhost / LOW_LOAD_DIVISOR;
        let mut latency = Vec::new();
        let mut low_latency = Vec::new();
        for contender in Contender::ALL {
            let rate = match contender {
                Contender::Prototype => half.min(prototype / 2.0),
                _ => half,
            };
            let run = format!("lat-{}", contender.id());
            let measured = self.latency(broker, contender, &run, rate, BENCH_TUNING);
            eprintln!("  {run}: {measured}");
            latency.push((contender, measured));

            let run = format!("low-{}", contender.id());
            let measured = self.latency(broker, contender, &run, tenth, BENCH_TUNING);
            eprintln!("  {run}: {measured}");
            low_latency.push((contender, measured));
        }
        let shipped_latency = self.latency(
            broker,
            Contender::Tickhost,
            "lat-shipped",
            half,
            shipped_tuning(),
        );
        eprintln!("  lat-shipped: {shipped_latency}");

        // Memory with 1,000 symbols.
        let input = "mem.ticks";
        broker.create_topic(input, PARTITIONS);
        produce_all(broker, input, &self.memory_ticks);
        let tickhost_memory = self.tickhost_memory(broker, input, "mem-tickhost", dir);
        eprintln!("  mem-tickhost: {tickhost_memory}");
        let memory_checkpoints = Checkpoints::read(broker, "mem-tickhost.state");
        let prototype_memory = self.prototype_memory(broker, input, "mem-python");
        eprintln!("  mem-python: {prototype_memory}");

        Results {
            throughput,
            latency,
            low_latency,
            shipped_latency,
            tickhost_memory,
            prototype_memory,
            checkpoints,
            memory_checkpoints,
        }
    }

    /// The configuration of one run: the shipped chain, on `broker`, in its
    /// own group, from `input` to topics named after the run.
    fn run_config(&self, broker: &Broker, input: &str, run: &str, tuning: Tuning) -> Config {
        let mut config = self.config.clone();
        let kafka = &mut config.kafka;
        kafka.brokers = broker.bootstrap();
        kafka.group_id = run.to_string();
        kafka.topics = Topics {
            input: input.to_string(),
            processed: format!("{run}.processed"),
            rejected: format!("{run}.rejected"),
            dlq: format!("{run}.dlq"),
            state: format!("{run}.state"),
        };
        kafka.batch_wait = tuning.batch_wait;
        // The topics are created here, on both brokers: the mock cluster
        // does not answer CreateTopics.
        kafka.create_topics = false;
        if let Some(ms) = tuning.fetch_wait_ms {
            kafka
                .consumer_properties
                .insert("fetch.wait.max.ms".to_string(), ms.to_string());
        }
        if let Some(ms) = tuning.fetch_queue_backoff_ms {
            kafka
                .consumer_properties
                .insert("fetch.queue.backoff.ms".to_string(), ms.to_string());
        }
        config
    }

    /// Creates a run's output and state topics.
    fn create_outputs(&self, broker: &Broker, topics: &Topics) {
        for topic in [&topics.processed, &topics.rejected, &topics.dlq] {
            broker.create_topic(topic, PARTITIONS);
        }
        broker.create_topic(&topics.state, 1);
    }

    /// One contender's pass over the pre-produced ticks of `input`.
    fn throughput(
        &self,
        broker: &Broker,
        contender: Contender,
        input: &str,
        run: &str,
    ) -> Throughput {
        let config = self.run_config(broker, input, run, BENCH_TUNING);
        self.create_outputs(broker, &config.kafka.topics);
        let ticks = self.throughput_ticks.len() as u64;

        let topics = &config.kafka.topics;
        let first = FirstOutput::watch(broker, &[&topics.processed, &topics.rejected]);
        let finished = self.start(contender, &config, ticks).finish();
        let first_ms = first.stop();
        let outputs = Outputs::read(broker, topics);
        assert_eq!(
            outputs.count(),
            ticks,
            "{run}: {} outputs for {ticks} ticks",
            outputs.count()
        );
        if let Some((kept, dropped)) = finished.judged {
            assert_eq!(
                (kept, dropped),
                (outputs.processed, outputs.rejected),
                "{run}: its own counts differ from its output topics'"
            );
        }
        Throughput {
            ticks,
            span_ms: outputs.last_ms - first_ms,
            kept: outputs.processed,
            dropped: outputs.rejected,
            self_timed: finished.self_timed,
        }
    }

    /// One contender's latency with ticks produced at `rate` a second.
    fn latency(
        &self,
        broker: &Broker,
        contender: Contender,
        run: &str,
        rate: f64,
        tuning: Tuning,
    ) -> Latency {
        let paced = (rate * PACED.as_secs_f64()) as usize;
        let stream = Stream::generate(WARMUP_TICKS + paced, SYMBOLS, STEP_MS);
        let input = format!("{run}.ticks");
        broker.create_topic(&input, PARTITIONS);
        let config = self.run_config(broker, &input, run, tuning);
        let topics = &config.kafka.topics;
        self.create_outputs(broker, topics);

        // The reader first, from the start of the empty output topics, so
        // that it is reading before the first output can exist.
        let reader = Reader::start(
            broker,
            &[topics.processed.as_str(), topics.rejected.as_str()],
            stream.lookup(),
        );
        let running = self.start(contender, &config, stream.len() as u64);
        let producer = TickProducer::new(broker);

        // Warm up: the contender joins its group and judges a first batch.
        let mut sent = Vec::with_capacity(stream.len());
        for index in 0..WARMUP_TICKS {
            sent.push(Instant::now());
            producer.send(&input, &stream, index);
        }
        reader.wait_for(WARMUP_TICKS, run);

        // The paced ticks, on a schedule: after `t` seconds, `t * rate`
        // ticks have been handed to the producer.
        let start = Instant::now();
        let mut next = WARMUP_TICKS;
        while next < stream.len() {
            let due = WARMUP_TICKS + (start.elapsed().as_secs_f64() * rate) as usize;
            while next < due.min(stream.len()) {
                sent.push(Instant::now());
                producer.send(&input, &stream, next);
                next += 1;
            }
            std::thread::sleep(PACE_TICK);
        }
        let produced_in = start.elapsed();
        reader.wait_for(stream.len(), run);
        let received = reader.stop();
        running.finish();
        producer.flush();

        let mut latencies: Vec<Duration> = received
            .into_iter()
            .filter(|&(index, _)| index as usize >= WARMUP_TICKS)
            .map(|(index, at)| at.saturating_duration_since(sent[index as usize]))
            .collect();
        assert_eq!(latencies.len(), paced, "{run}: outputs missing");
        latencies.sort_unstable();
        Latency {
            rate: paced as f64 / produced_in.as_secs_f64(),
            p50: percentile(&latencies, 0.50),
            p99: percentile(&latencies, 0.99),
            max: *latencies.last().expect("some ticks were paced"),
        }
    }

    /// Starts a contender on `config`'s topics, to stop after `ticks`.
    fn start(&self, contender: Contender, config: &Config, ticks: u64) -> Running {
        match contender {
            Contender::Tickhost => {
                let (config, lineup) = (config.clone(), self.lineup.clone());
                let runtime = self.runtime.clone();
                Running::thread(move || {
                    let options = ServeOptions {
                        stop_after: Some(ticks),
                        report: false,
                    };
                    let never = std::future::pending::<()>();
                    let served = runtime.block_on(serve(
                        &config,
                        lineup,
                        PartitionChains::new(),
                        options,
                        never,
                    ))?;
                    let counters = served.counters;
                    anyhow::ensure!(
                        counters.balanced() && counters.consumed == ticks,
                        "tickhost's counters do not add up: {counters}"
                    );
                    Ok(Finished {
                        judged: Some((counters.processed, counters.rejected)),
                        self_timed: None,
                    })
                })
            }
            Contender::PassThrough => {
                let kafka = config.kafka.clone();
                let runtime = self.runtime.clone();
                Running::thread(move || {
                    let took = runtime.block_on(pass_through(&kafka, ticks))?;
                    Ok(Finished {
                        judged: Some((ticks, 0)),
                        self_timed: Some(took),
                    })
                })
            }
            Contender::Prototype => Running::Process(self.prototype(config, ticks)),
        }
    }

    /// Starts the prototype on `config`'s topics.
    fn prototype(&self, config: &Config, ticks: u64) -> Child {
        let kafka = &config.kafka;
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/prototype/prototype.py");
        let property = |name: &str| kafka.consumer_properties.get(name).cloned();
        let fetch_wait =
            property("fetch.wait.max.ms").unwrap_or_else(|| DEFAULT_FETCH_WAIT_MS.to_string());
        let backoff = property("fetch.queue.backoff.ms")
            .unwrap_or_else(|| LIBRDKAFKA_FETCH_QUEUE_BACKOFF_MS.to_string());
        Command::new(&self.python)
            .arg(&script)
            .args(["--brokers", &kafka.brokers])
            .args(["--input", &kafka.topics.input])
            .args(["--group", &kafka.group_id])
            .args(["--processed", &kafka.topics.processed])
            .args(["--rejected", &kafka.topics.rejected])
            .args(["--count", &ticks.to_string()])
            .args([
                "--batch-wait-ms",
                &(kafka.batch_wait.as_secs_f64() * 1e3).to_string(),
            ])
            .args(["--fetch-wait-ms", &fetch_wait])
            .args(["--fetch-queue-backoff-ms", &backoff])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("failed to start '{}': {e}", script.display()))
    }

    /// The resident memory of a `tickhost serve` process judging the ticks
    /// of `input`, read once every output is acknowledged.
    fn tickhost_memory(&self, broker: &Broker, input: &str, run: &str, dir: &Path) -> Memory {
        let config = self.run_config(broker, input, run, BENCH_TUNING);
        self.create_outputs(broker, &config.kafka.topics);
        let path = dir.join(format!("{run}.toml"));
        std::fs::write(&path, self.serve_config(&config))
            .unwrap_or_else(|e| panic!("failed to write '{}': {e}", path.display()));
        let log_path = dir.join(format!("{run}.log"));
        let log = File::create(&log_path)
            .unwrap_or_else(|e| panic!("failed to create '{}': {e}", log_path.display()));
        let mut child = ServeProcess(
            Command::new(env!("CARGO_BIN_EXE_tickhost"))
                .arg("--cache-dir")
                .arg(&self.cache_dir)
                .args(["serve", "--config"])
                .arg(&path)
                .env("RUST_LOG", "info")
                .env("NO_COLOR", "1")
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(log)
                .spawn()
                .expect("tickhost serve starts"),
        );

        // Once every tick has its output, read its memory.
        let ticks = self.memory_ticks.len() as u64;
        let pid = child.0.id();
        let deadline = Instant::now() + RUN_TIMEOUT;
        loop {
            assert!(
                proc_memory(pid).is_some(),
                "tickhost serve exited early; see '{}'",
                log_path.display()
            );
            if output_count(broker, &config.kafka.topics) >= ticks {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "{run}: not every output within {RUN_TIMEOUT:?}; see '{}'",
                log_path.display()
            );
            std::thread::sleep(POLL_EVERY);
        }
        let (rss, peak) = proc_memory(pid).expect("tickhost serve is running");
        child.stop(&log_path);
        Memory { rss, peak }
    }

    /// `host/tickhost.toml` with its plugin paths made absolute and the
    /// run's `[kafka]` section, for a `tickhost serve` process.
    fn serve_config(&self, config: &Config) -> String {
        let text = std::fs::read_to_string(&self.config_path).expect("the config was read before");
        let mut table: toml::Table = text.parse().expect("the config was parsed before");
        let slots = table
            .get_mut("slot")
            .and_then(toml::Value::as_array_mut)
            .expect("the shipped config has slots");
        for (slot, resolved) in slots.iter_mut().zip(&config.slots) {
            let path = resolved.path.to_str().expect("the workspace path is UTF-8");
            slot.as_table_mut()
                .expect("a slot is a table")
                .insert("path".to_string(), toml::Value::String(path.to_string()));
        }

        let kafka = &config.kafka;
        let mut section = toml::Table::new();
        let mut set = |key: &str, value: toml::Value| section.insert(key.to_string(), value);
        set("brokers", kafka.brokers.clone().into());
        set("group-id", kafka.group_id.clone().into());
        set("input-topic", kafka.topics.input.clone().into());
        set("processed-topic", kafka.topics.processed.clone().into());
        set("rejected-topic", kafka.topics.rejected.clone().into());
        set("dlq-topic", kafka.topics.dlq.clone().into());
        set("state-topic", kafka.topics.state.clone().into());
        set("batch-max", (kafka.batch_max as i64).into());
        set(
            "batch-wait",
            format!("{}ms", kafka.batch_wait.as_millis()).into(),
        );
        set("create-topics", kafka.create_topics.into());
        let table_of = |properties: &BTreeMap<String, String>| {
            properties
                .iter()
                .map(|(name, value)| (name.clone(), value.clone().into()))
                .collect::<toml::Table>()
        };
        set("properties", table_of(&kafka.properties).into());
        set(
            "consumer-properties",
            table_of(&kafka.consumer_properties).into(),
        );
        set(
            "producer-properties",
            table_of(&kafka.producer_properties).into(),
        );
        table.insert("kafka".to_string(), section.into());
        toml::to_string(&table).expect("a TOML table serializes")
    }

    /// The prototype's resident memory after judging the ticks of `input`.
    fn prototype_memory(&self, broker: &Broker, input: &str, run: &str) -> Memory {
        let config = self.run_config(broker, input, run, BENCH_TUNING);
        self.create_outputs(broker, &config.kafka.topics);
        let child = self.prototype(&config, self.memory_ticks.len() as u64);
        let report = wait_prototype(child);
        Memory {
            rss: report.rss_kib * 1024,
            peak: report.hwm_kib * 1024,
        }
    }
}

/// A contender at work.
enum Running {
    /// tickhost or the pass-through, on a thread of this process.
    Thread(JoinHandle<anyhow::Result<Finished>>),
    /// The prototype.
    Process(Child),
}

/// What a contender says about its own run.
struct Finished {
    /// The ticks it kept and dropped, if it counts them.
    judged: Option<(u64, u64)>,
    /// From its first consumed message to its last acknowledged output, if
    /// it times itself.
    self_timed: Option<Duration>,
}

impl Running {
    fn thread(work: impl FnOnce() -> anyhow::Result<Finished> + Send + 'static) -> Running {
        Running::Thread(std::thread::spawn(work))
    }

    /// Waits until the contender has stopped, by itself, after its ticks.
    fn finish(self) -> Finished {
        match self {
            Running::Thread(handle) => {
                let deadline = Instant::now() + RUN_TIMEOUT;
                while !handle.is_finished() {
                    assert!(
                        Instant::now() < deadline,
                        "a run did not finish in {RUN_TIMEOUT:?}"
                    );
                    std::thread::sleep(POLL_EVERY);
                }
                handle
                    .join()
                    .expect("the run does not panic")
                    .unwrap_or_else(|e| panic!("the run failed: {e:#}"))
            }
            Running::Process(child) => {
                let report = wait_prototype(child);
                Finished {
                    judged: Some((report.kept, report.dropped)),
                    self_timed: Some(Duration::from_secs_f64(report.seconds)),
                }
            }
        }
    }
}

/// What the prototype prints when it is done.
#[derive(Debug, Deserialize)]
struct PrototypeReport {
    kept: u64,
    dropped: u64,
    seconds: f64,
    rss_kib: u64,
    hwm_kib: u64,
}

/// Waits for the prototype to stop and reads its report.
fn wait_prototype(mut child: Child) -> PrototypeReport {
    let deadline = Instant::now() + RUN_TIMEOUT;
    let status = loop {
        if let Some(status) = child.try_wait().expect("the prototype can be waited for") {
            break status;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the prototype did not finish in {RUN_TIMEOUT:?}");
        }
        std::thread::sleep(POLL_EVERY);
    };
    let mut stdout = String::new();
    child
        .stdout
        .take()
        .expect("the prototype's stdout is piped")
        .read_to_string(&mut stdout)
        .expect("the prototype's report is text");
    assert!(status.success(), "the prototype failed ({status})");
    serde_json::from_str(stdout.trim())
        .unwrap_or_else(|e| panic!("the prototype's report {stdout:?} is unreadable: {e}"))
}

/// The bare pass-through: a consumer and a producer with tickhost's client
/// settings and the same rounds as `tickhost serve` (until a partition has
/// `batch-max` messages or `batch-wait` has passed since the round's
/// first), each message's key and payload produced as they are to the
/// processed topic, every delivery of a round awaited, then its offsets
/// committed. No parsing, no plugins, no copies of the messages. Returns
/// the time from the first consumed message to the last acknowledged
/// output.
async fn pass_through(kafka: &KafkaConfig, ticks: u64) -> anyhow::Result<Duration> {
    let consumer: StreamConsumer = client::consumer(kafka)
        .create()
        .context("failed to create the pass-through's consumer")?;
    consumer.subscribe(&[&kafka.topics.input])?;
    let producer: FutureProducer = client::producer(kafka)
        .create()
        .context("failed to create the pass-through's producer")?;
    let output = &kafka.topics.processed;

    let mut consumed = 0;
    let mut first = None;
    let mut next_offsets: HashMap<i32, i64> = HashMap::new();
    while consumed < ticks {
        // Gather a round.
        let mut round: Vec<BorrowedMessage<'_>> = Vec::new();
        let mut per_partition: HashMap<i32, usize> = HashMap::new();
        let mut deadline: Option<tokio::time::Instant> = None;
        loop {
            let wait = async {
                match deadline {
                    Some(at) => tokio::time::sleep_until(at).await,
                    None => std::future::pending().await,
                }
            };
            let message = tokio::select! {
                _ = wait => break,
                message = consumer.recv() => message?,
            };
            first.get_or_insert_with(Instant::now);
            let count = per_partition.entry(message.partition()).or_default();
            *count += 1;
            let full = *count >= kafka.batch_max;
            round.push(message);
            if full {
                break;
            }
            deadline.get_or_insert_with(|| tokio::time::Instant::now() + kafka.batch_wait);
        }

        // Produce the round and wait for every acknowledgement.
        let mut deliveries = Vec::with_capacity(round.len());
        for message in &round {
            let payload = message.payload().unwrap_or_default();
            let mut record = FutureRecord::to(output).payload(payload);
            if let Some(key) = message.key() {
                record = record.key(key);
            }
            loop {
                match producer.send_result(record) {
                    Ok(delivery) => {
                        deliveries.push(delivery);
                        break;
                    }
                    Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), back)) => {
                        record = back;
                        tokio::time::sleep(Duration::from_millis(5)).await;
                    }
                    Err((e, _)) => bail!("failed to produce to '{output}': {e}"),
                }
            }
        }
        for delivery in futures::future::join_all(deliveries).await {
            match delivery {
                Ok(Ok(_)) => {}
                Ok(Err((e, _))) => bail!("the broker refused a message: {e}"),
                Err(_) => bail!("the producer closed before a delivery was confirmed"),
            }
        }

        // Commit the round.
        for message in &round {
            next_offsets.insert(message.partition(), message.offset() + 1);
        }
        let mut commits = TopicPartitionList::new();
        for (&partition, &offset) in &next_offsets {
            commits.add_partition_offset(&kafka.topics.input, partition, Offset::Offset(offset))?;
        }
        consumer.commit(&commits, CommitMode::Async)?;
        consumed += round.len() as u64;
    }
    let took = first.map_or(Duration::ZERO, |first: Instant| first.elapsed());
    consumer.unsubscribe();
    Ok(took)
}

/// The ticks of a run, generated, and their JSON as produced.
struct Stream {
    /// Each tick's symbol (by number) and event time, which identify it.
    ids: Vec<(u32, i64)>,
    payloads: Vec<String>,
}

impl Stream {
    /// `count` ticks over `symbols` symbols, interleaved at random, each
    /// symbol's prices a random walk with spikes and thin trades for the
    /// rules to drop, its ticks in order and `step_ms` apart.
    fn generate(count: usize, symbols: usize, step_ms: (u64, u64)) -> Stream {
        let mut rng = SplitMix64(SEED);
        let mut state: Vec<(i64, f64)> = (0..symbols as i64)
            .map(|n| (START_MS + n, BASE_PRICE))
            .collect();
        let mut stream = Stream {
            ids: Vec::with_capacity(count),
            payloads: Vec::with_capacity(count),
        };
        for _ in 0..count {
            let symbol = rng.below(symbols as u64) as u32;
            let (ts, walk) = &mut state[symbol as usize];
            *ts += rng.between(step_ms.0, step_ms.1) as i64;
            *walk += (BASE_PRICE - *walk) * REVERSION + *walk * MAX_WALK * (2.0 * rng.unit() - 1.0);
            let mut price = *walk;
            if rng.chance(SPIKE_RATE) {
                let jump = SPIKE_RANGE.0 + (SPIKE_RANGE.1 - SPIKE_RANGE.0) * rng.unit();
                price *= if rng.chance(0.5) {
                    1.0 + jump
                } else {
                    1.0 - jump
                };
            }
            let price = (price * PRICE_SCALE).round() / PRICE_SCALE;
            let (low, high) = if rng.chance(THIN_RATE) {
                THIN_VOLUMES
            } else {
                THICK_VOLUMES
            };
            let volume = rng.between(low, high);
            stream.payloads.push(format!(
                r#"{{"symbol":"{}","ts":{ts},"price":{price},"volume":{volume}}}"#,
                symbol_name(symbol)
            ));
            stream.ids.push((symbol, *ts));
        }
        stream
    }

    fn len(&self) -> usize {
        self.payloads.len()
    }

    /// Each tick's index, by its symbol and time.
    fn lookup(&self) -> HashMap<(u32, i64), u32> {
        self.ids
            .iter()
            .enumerate()
            .map(|(index, &id)| (id, index as u32))
            .collect()
    }
}

/// A symbol's name, `S0042`: also the key of its messages.
fn symbol_name(symbol: u32) -> String {
    format!("S{symbol:04}")
}

/// A symbol's number, from a message key made by [`symbol_name`].
fn symbol_number(key: &[u8]) -> Option<u32> {
    std::str::from_utf8(key.strip_prefix(b"S")?)
        .ok()?
        .parse()
        .ok()
}

/// The `ts` of a tick or an output record, found in the JSON without
/// parsing the rest: the reader does this for every output while the
/// contender runs beside it, so it should cost little. Every contender
/// writes `"ts":` (the prototype with no space, too).
fn event_time(payload: &[u8]) -> Option<i64> {
    const FIELD: &[u8] = b"\"ts\":";
    let at = payload.windows(FIELD.len()).position(|w| w == FIELD)? + FIELD.len();
    let digits = payload[at..]
        .iter()
        .take_while(|b| b.is_ascii_digit())
        .count();
    std::str::from_utf8(&payload[at..at + digits])
        .ok()?
        .parse()
        .ok()
}

/// SplitMix64: a few lines, fast, and good enough for test data; ticks that
/// must be the same on every machine cannot depend on a crate's algorithm.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `[0, 1)`, from the top 53 bits.
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn chance(&mut self, probability: f64) -> bool {
        self.unit() < probability
    }

    /// A number in `[0, n)`; the bias of the modulo is below 1e-16 here.
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// A number in `[low, high]`.
    fn between(&mut self, low: u64, high: u64) -> u64 {
        low + self.below(high - low + 1)
    }
}

/// A broker to measure on.
enum Broker {
    Mock(MockCluster<'static, DefaultProducerContext>),
    Tansu(Tansu),
}

impl Broker {
    fn mock() -> Broker {
        Broker::Mock(MockCluster::new(1).expect("the mock cluster starts"))
    }

    fn tansu(binary: &Path, dir: &Path) -> Broker {
        Broker::Tansu(Tansu::start(binary, dir))
    }

    /// Its `bootstrap.servers`, reachable from other processes too.
    fn bootstrap(&self) -> String {
        match self {
            Broker::Mock(cluster) => cluster.bootstrap_servers(),
            Broker::Tansu(tansu) => format!("127.0.0.1:{}", tansu.port),
        }
    }

    fn client(&self) -> ClientConfig {
        let mut config = ClientConfig::new();
        config.set("bootstrap.servers", self.bootstrap());
        config
    }

    /// Creates a topic: on the mock cluster through its own interface (it
    /// does not answer CreateTopics), on tansu through the admin API (it
    /// creates no topic by itself).
    fn create_topic(&self, topic: &str, partitions: i32) {
        match self {
            Broker::Mock(cluster) => cluster
                .create_topic(topic, partitions, 1)
                .unwrap_or_else(|e| panic!("failed to create '{topic}': {e}")),
            Broker::Tansu(_) => {
                let admin: AdminClient<DefaultClientContext> =
                    self.client().create().expect("an admin client");
                let new = NewTopic::new(topic, partitions, TopicReplication::Fixed(1));
                let options = AdminOptions::new().operation_timeout(Some(REQUEST_TIMEOUT));
                let results = futures::executor::block_on(admin.create_topics(&[new], &options))
                    .unwrap_or_else(|e| panic!("failed to create '{topic}': {e}"));
                for result in results {
                    result.unwrap_or_else(|(topic, code)| {
                        panic!("failed to create '{topic}': {code}")
                    });
                }
            }
        }
    }

    /// The partitions of `topic`, waiting for it to appear in the metadata.
    fn partitions(&self, topic: &str) -> Vec<i32> {
        let probe: BaseConsumer = self.client().create().expect("a client");
        let deadline = Instant::now() + REQUEST_TIMEOUT;
        loop {
            let metadata = probe
                .fetch_metadata(Some(topic), REQUEST_TIMEOUT)
                .unwrap_or_else(|e| panic!("failed to read the metadata of '{topic}': {e}"));
            let partitions: Vec<i32> = metadata
                .topics()
                .iter()
                .filter(|t| t.name() == topic && t.error().is_none())
                .flat_map(|t| t.partitions().iter().map(|p| p.id()))
                .collect();
            if !partitions.is_empty() {
                return partitions;
            }
            assert!(Instant::now() < deadline, "topic '{topic}' did not appear");
            std::thread::sleep(POLL_EVERY);
        }
    }
}

/// A tansu broker with empty storage, killed when dropped.
struct Tansu {
    child: Child,
    port: u16,
}

impl Tansu {
    fn start(binary: &Path, dir: &Path) -> Tansu {
        let storage = dir.join("broker");
        match std::fs::remove_dir_all(&storage) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => panic!("failed to empty '{}': {e}", storage.display()),
        }
        std::fs::create_dir_all(&storage)
            .unwrap_or_else(|e| panic!("failed to create '{}': {e}", storage.display()));
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("a free loopback port");
        let url = format!("tcp://127.0.0.1:{port}");
        let log = File::create(storage.join("tansu.log")).expect("the tansu log");
        // Started from inside its directory: tansu takes the SQLite path
        // relative to it.
        let child = Command::new(binary)
            .current_dir(&storage)
            .args(["broker", "--listener-url", &url])
            .args(["--advertised-listener-url", &url])
            .args(["--storage-engine", "sqlite://tansu.db"])
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("the tansu log"))
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("failed to start '{}': {e}", binary.display()));
        let tansu = Tansu { child, port };

        let deadline = Instant::now() + TANSU_START_TIMEOUT;
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "tansu did not listen in time");
            std::thread::sleep(POLL_EVERY);
        }
        let mut config = ClientConfig::new();
        config.set("bootstrap.servers", format!("127.0.0.1:{port}"));
        let probe: BaseConsumer = config.create().expect("a client");
        while probe.fetch_metadata(None, Duration::from_secs(2)).is_err() {
            assert!(Instant::now() < deadline, "tansu did not answer in time");
        }
        tansu
    }
}

impl Drop for Tansu {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A `tickhost serve` process, killed if the benchmark stops early.
struct ServeProcess(Child);

impl ServeProcess {
    /// Asks it to stop (SIGTERM), as a deployment would, and checks that it
    /// stopped cleanly.
    fn stop(&mut self, log: &Path) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.0.id().to_string()])
            .status();
        let deadline = Instant::now() + STOP_TIMEOUT;
        let status = loop {
            if let Some(status) = self.0.try_wait().expect("tickhost can be waited for") {
                break status;
            }
            assert!(
                Instant::now() < deadline,
                "tickhost serve did not stop in {STOP_TIMEOUT:?}; see '{}'",
                log.display()
            );
            std::thread::sleep(POLL_EVERY);
        };
        assert!(
            status.success(),
            "tickhost serve failed ({status}); see '{}'",
            log.display()
        );
    }
}

impl Drop for ServeProcess {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Counts failed deliveries of the benchmark's own producer.
#[derive(Default)]
struct Deliveries {
    failed: AtomicU64,
}

impl ClientContext for Deliveries {}

impl ProducerContext for Deliveries {
    type DeliveryOpaque = ();

    fn delivery(&self, result: &DeliveryResult<'_>, _: ()) {
        if result.is_err() {
            self.failed.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// The benchmark's producer of input ticks, with tickhost's producer
/// settings.
struct TickProducer {
    producer: ThreadedProducer<Deliveries>,
}

impl TickProducer {
    fn new(broker: &Broker) -> TickProducer {
        let kafka = KafkaConfig {
            brokers: broker.bootstrap(),
            ..KafkaConfig::default()
        };
        let producer = client::producer(&kafka)
            .create_with_context(Deliveries::default())
            .expect("the benchmark's producer starts");
        TickProducer { producer }
    }

    /// Hands one tick to the producer, keyed by its symbol, in the
    /// partition of its symbol's number: an even spread, so that no
    /// partition outgrows what the mock cluster keeps (see [`produce_all`]).
    fn send(&self, topic: &str, stream: &Stream, index: usize) {
        let symbol = stream.ids[index].0;
        let key = symbol_name(symbol);
        let mut record = BaseRecord::to(topic)
            .key(key.as_str())
            .payload(stream.payloads[index].as_str())
            .partition(symbol as i32 % PARTITIONS);
        loop {
            match self.producer.send(record) {
                Ok(()) => return,
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), back)) => {
                    record = back;
                    std::thread::sleep(Duration::from_millis(1));
                }
                Err((e, _)) => panic!("failed to produce to '{topic}': {e}"),
            }
        }
    }

    /// Waits until every tick is acknowledged, and checks none was refused.
    fn flush(&self) {
        self.producer
            .flush(RUN_TIMEOUT)
            .expect("every tick is acknowledged");
        let failed = self.producer.context().failed.load(Ordering::Relaxed);
        assert_eq!(failed, 0, "the broker refused {failed} ticks");
    }
}

/// Produces every tick of `stream` to `topic`, waits for them all, and
/// checks that the broker kept them all: the mock cluster keeps at most
/// 5 MiB of a partition (`rdkafka_mock.c`), some 60,000 ticks, and drops
/// the oldest beyond that.
fn produce_all(broker: &Broker, topic: &str, stream: &Stream) {
    let producer = TickProducer::new(broker);
    for index in 0..stream.len() {
        producer.send(topic, stream, index);
    }
    producer.flush();

    let consumer: BaseConsumer = broker.client().create().expect("a client");
    let mut kept = 0;
    for partition in broker.partitions(topic) {
        let (low, high) = consumer
            .fetch_watermarks(topic, partition, REQUEST_TIMEOUT)
            .unwrap_or_else(|e| panic!("failed to read the offsets of '{topic}': {e}"));
        assert_eq!(
            low, 0,
            "the broker dropped the oldest ticks of '{topic}' [{partition}]"
        );
        kept += high as usize;
    }
    assert_eq!(
        kept,
        stream.len(),
        "the broker kept {kept} ticks of {}",
        stream.len()
    );
}

/// What a run left in its output topics.
struct Outputs {
    processed: u64,
    rejected: u64,
    /// The timestamp of the last output, in epoch ms.
    last_ms: i64,
}

impl Outputs {
    /// Counts a run's outputs by the topics' high watermarks (the topics
    /// are new, and the mock cluster may have dropped their oldest
    /// messages already) and reads the timestamp of the last message of
    /// each partition (a partition's outputs come from one producer, in
    /// order).
    fn read(broker: &Broker, topics: &Topics) -> Outputs {
        let consumer: BaseConsumer = broker
            .client()
            .set("group.id", "bench-outputs")
            .set("enable.auto.commit", "false")
            .set("fetch.wait.max.ms", FETCH_WAIT_MS.to_string())
            .create()
            .expect("a reader of the outputs");
        let mut outputs = Outputs {
            processed: 0,
            rejected: 0,
            last_ms: i64::MIN,
        };
        for topic in [&topics.processed, &topics.rejected] {
            for partition in broker.partitions(topic) {
                let (low, high) = consumer
                    .fetch_watermarks(topic, partition, REQUEST_TIMEOUT)
                    .unwrap_or_else(|e| panic!("failed to read the offsets of '{topic}': {e}"));
                if high <= low {
                    continue;
                }
                if *topic == topics.processed {
                    outputs.processed += high as u64;
                } else {
                    outputs.rejected += high as u64;
                }
                let last = timestamp_at(&consumer, topic, partition, high - 1);
                outputs.last_ms = outputs.last_ms.max(last);
            }
        }
        outputs
    }

    fn count(&self) -> u64 {
        self.processed + self.rejected
    }
}

/// The timestamp of the message at `offset`, in epoch ms.
fn timestamp_at(consumer: &BaseConsumer, topic: &str, partition: i32, offset: i64) -> i64 {
    let mut assignment = TopicPartitionList::new();
    assignment
        .add_partition_offset(topic, partition, Offset::Offset(offset))
        .expect("a valid partition");
    consumer
        .assign(&assignment)
        .expect("the assignment applies");
    let deadline = Instant::now() + REQUEST_TIMEOUT;
    loop {
        assert!(
            Instant::now() < deadline,
            "could not read '{topic}' [{partition}] at {offset}"
        );
        match consumer.poll(POLL_EVERY) {
            Some(Ok(message)) if message.offset() == offset => {
                return message.timestamp().to_millis().unwrap_or_else(|| {
                    panic!("'{topic}' [{partition}] at {offset} has no timestamp")
                });
            }
            Some(Err(e)) => panic!("failed to read '{topic}': {e}"),
            _ => {}
        }
    }
}

/// The checkpoints tickhost wrote to a state topic.
struct Checkpoints {
    /// How many were written, by the topic's high watermark.
    count: u64,
    /// The largest of those the broker still has, in bytes: the mock
    /// cluster keeps only the newest 5 MiB of a partition, possibly none.
    largest: Option<usize>,
}

impl Checkpoints {
    fn read(broker: &Broker, topic: &str) -> Checkpoints {
        let consumer: BaseConsumer = broker
            .client()
            .set("group.id", "bench-checkpoints")
            .set("enable.auto.commit", "false")
            .set("fetch.wait.max.ms", FETCH_WAIT_MS.to_string())
            .create()
            .expect("a reader of the checkpoints");
        let mut checkpoints = Checkpoints {
            count: 0,
            largest: None,
        };
        for partition in broker.partitions(topic) {
            let (low, high) = consumer
                .fetch_watermarks(topic, partition, REQUEST_TIMEOUT)
                .unwrap_or_else(|e| panic!("failed to read the offsets of '{topic}': {e}"));
            checkpoints.count += high.max(0) as u64;
            if high <= low {
                continue;
            }
            let mut assignment = TopicPartitionList::new();
            assignment
                .add_partition_offset(topic, partition, Offset::Offset(low))
                .expect("a valid partition");
            consumer
                .assign(&assignment)
                .expect("the assignment applies");
            let deadline = Instant::now() + REQUEST_TIMEOUT;
            let mut next = low;
            while next < high {
                assert!(Instant::now() < deadline, "could not read '{topic}'");
                match consumer.poll(POLL_EVERY) {
                    Some(Ok(message)) => {
                        let size = message.payload().map_or(0, <[u8]>::len);
                        checkpoints.largest = checkpoints.largest.max(Some(size));
                        next = message.offset() + 1;
                    }
                    Some(Err(e)) => panic!("failed to read '{topic}': {e}"),
                    None => {}
                }
            }
        }
        checkpoints
    }
}

/// The messages ever written to a run's processed and rejected topics, by
/// their high watermarks.
fn output_count(broker: &Broker, topics: &Topics) -> u64 {
    let consumer: BaseConsumer = broker.client().create().expect("a client");
    let mut count = 0;
    for topic in [&topics.processed, &topics.rejected] {
        for partition in broker.partitions(topic) {
            let (_, high) = consumer
                .fetch_watermarks(topic, partition, REQUEST_TIMEOUT)
                .unwrap_or_else(|e| panic!("failed to read the offsets of '{topic}': {e}"));
            count += high.max(0) as u64;
        }
    }
    count
}

/// Notes the timestamp of a run's first output, on its own thread: it
/// reads each output partition from the start until it has one message of
/// each, or is stopped. Reading the first message after the run would not
/// do: the mock cluster keeps at most 5 MiB a partition and drops the
/// oldest messages beyond that.
struct FirstOutput {
    thread: JoinHandle<Option<i64>>,
    stop: Arc<AtomicBool>,
}

impl FirstOutput {
    fn watch(broker: &Broker, topics: &[&str]) -> FirstOutput {
        let consumer: BaseConsumer = broker
            .client()
            .set("group.id", "bench-first-output")
            .set("enable.auto.commit", "false")
            .set("fetch.wait.max.ms", FETCH_WAIT_MS.to_string())
            .create()
            .expect("the first-output watcher starts");
        let mut assignment = TopicPartitionList::new();
        for topic in topics {
            for partition in broker.partitions(topic) {
                assignment
                    .add_partition_offset(topic, partition, Offset::Beginning)
                    .expect("a valid partition");
            }
        }
        consumer
            .assign(&assignment)
            .expect("the assignment applies");
        let partitions = assignment.count();

        let stop = Arc::new(AtomicBool::new(false));
        let stopped = stop.clone();
        let thread = std::thread::spawn(move || {
            let mut first: Option<i64> = None;
            let mut seen = std::collections::HashSet::new();
            while seen.len() < partitions && !stopped.load(Ordering::Relaxed) {
                let message = match consumer.poll(POLL_EVERY) {
                    None => continue,
                    Some(Ok(message)) => message,
                    Some(Err(e)) => panic!("the first-output watcher failed: {e}"),
                };
                if seen.insert((message.topic().to_string(), message.partition())) {
                    if let Some(ms) = message.timestamp().to_millis() {
                        first = Some(first.map_or(ms, |f| f.min(ms)));
                    }
                    let mut done = TopicPartitionList::new();
                    done.add_partition(message.topic(), message.partition());
                    let _ = consumer.pause(&done);
                }
            }
            first
        });
        FirstOutput { thread, stop }
    }

    /// The earliest timestamp of a first message, in epoch ms.
    fn stop(self) -> i64 {
        self.stop.store(true, Ordering::Relaxed);
        self.thread
            .join()
            .expect("the first-output watcher does not panic")
            .expect("the run wrote outputs with timestamps")
    }
}

/// Reads a run's outputs as they arrive, on its own thread, and notes when
/// each tick's output was received.
struct Reader {
    thread: JoinHandle<Vec<(u32, Instant)>>,
    seen: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
}

impl Reader {
    fn start(broker: &Broker, topics: &[&str], lookup: HashMap<(u32, i64), u32>) -> Reader {
        let consumer: BaseConsumer = broker
            .client()
            .set("group.id", "bench-reader")
            .set("enable.auto.commit", "false")
            .set("fetch.wait.max.ms", FETCH_WAIT_MS.to_string())
            .create()
            .expect("the output reader starts");
        let mut assignment = TopicPartitionList::new();
        for topic in topics {
            for partition in broker.partitions(topic) {
                assignment
                    .add_partition_offset(topic, partition, Offset::Beginning)
                    .expect("a valid partition");
            }
        }
        consumer
            .assign(&assignment)
            .expect("the assignment applies");

        let seen = Arc::new(AtomicU64::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (counter, stopped) = (seen.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            let mut received = Vec::with_capacity(lookup.len());
            while !stopped.load(Ordering::Relaxed) {
                let message = match consumer.poll(POLL_EVERY) {
                    None => continue,
                    Some(Ok(message)) => message,
                    Some(Err(e)) => panic!("the output reader failed: {e}"),
                };
                let at = Instant::now();
                let id = message
                    .key()
                    .and_then(symbol_number)
                    .zip(message.payload().and_then(event_time));
                let index = id
                    .and_then(|id| lookup.get(&id))
                    .unwrap_or_else(|| panic!("an output of no tick: {:?}", message.payload()));
                received.push((*index, at));
                counter.fetch_add(1, Ordering::Relaxed);
            }
            received
        });
        Reader { thread, seen, stop }
    }

    /// Waits until `count` outputs have arrived.
    fn wait_for(&self, count: usize, run: &str) {
        let deadline = Instant::now() + RUN_TIMEOUT;
        while self.seen.load(Ordering::Relaxed) < count as u64 {
            assert!(
                Instant::now() < deadline,
                "{run}: {} of {count} outputs in {RUN_TIMEOUT:?}",
                self.seen.load(Ordering::Relaxed)
            );
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    /// Stops reading; each output received, by tick index, and when.
    fn stop(self) -> Vec<(u32, Instant)> {
        self.stop.store(true, Ordering::Relaxed);
        self.thread
            .join()
            .expect("the output reader does not panic")
    }
}

/// The VmRSS and VmHWM of a process, in bytes; `None` once it has exited.
fn proc_memory(pid: u32) -> Option<(u64, u64)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |name: &str| -> Option<u64> {
        let line = status.lines().find(|l| l.starts_with(name))?;
        let kib: u64 = line[name.len()..]
            .trim()
            .trim_end_matches("kB")
            .trim()
            .parse()
            .ok()?;
        Some(kib * 1024)
    };
    Some((field("VmRSS:")?, field("VmHWM:")?))
}

/// The value at quantile `q` of sorted latencies (nearest rank).
fn percentile(sorted: &[Duration], q: f64) -> Duration {
    let rank = ((sorted.len() as f64 * q).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

/// One contender's pass over the throughput ticks.
struct Throughput {
    ticks: u64,
    /// From the first output's timestamp to the last one's.
    span_ms: i64,
    kept: u64,
    dropped: u64,
    self_timed: Option<Duration>,
}

impl Throughput {
    /// Ticks a second, by the output timestamps.
    fn rate(&self) -> f64 {
        self.ticks as f64 / (self.span_ms.max(1) as f64 / 1e3)
    }

    /// Ticks a second, by the contender's own clock.
    fn self_rate(&self) -> Option<f64> {
        self.self_timed
            .map(|took| self.ticks as f64 / took.as_secs_f64())
    }
}

impl fmt::Display for Throughput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} ticks in {} ms: {} ticks/s ({} kept, {} dropped)",
            self.ticks,
            self.span_ms,
            Thousands(self.rate()),
            self.kept,
            self.dropped
        )?;
        if let Some(rate) = self.self_rate() {
            write!(f, "; by its own clock {} ticks/s", Thousands(rate))?;
        }
        Ok(())
    }
}

/// One contender's latency at a paced rate.
#[derive(Debug, Clone, Copy)]
struct Latency {
    /// The rate achieved, ticks a second.
    rate: f64,
    p50: Duration,
    p99: Duration,
    max: Duration,
}

impl fmt::Display for Latency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "at {} ticks/s: p50 {}, p99 {}, max {}",
            Thousands(self.rate),
            Ms(self.p50),
            Ms(self.p99),
            Ms(self.max)
        )
    }
}

/// Resident memory, in bytes.
struct Memory {
    /// At the end, once every output was acknowledged.
    rss: u64,
    /// The peak, VmHWM.
    peak: u64,
}

impl fmt::Display for Memory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RSS {}, peak {}", Mb(self.rss), Mb(self.peak))
    }
}

/// A number with thousands separators, rounded to an integer.
struct Thousands(f64);

impl fmt::Display for Thousands {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let digits = format!("{:.0}", self.0);
        let mut text = String::new();
        for (i, digit) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i) % 3 == 0 {
                text.push(',');
            }
            text.push(digit);
        }
        f.write_str(&text)
    }
}

/// A duration in milliseconds, to a tenth.
struct Ms(Duration);

impl fmt::Display for Ms {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:.1} ms", self.0.as_secs_f64() * 1e3)
    }
}

/// Bytes in megabytes (10^6), to a tenth.
struct Mb(u64);

impl fmt::Display for Mb {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:.1} MB", self.0 as f64 / MB)
    }
}

/// Prints one broker's table, what it measures, and the targets.
fn print_results(broker: &str, results: &Results, mock: bool) {
    let find = |list: &'_ [(Contender, Latency)], c: Contender| -> Latency {
        list.iter()
            .find(|(x, _)| *x == c)
            .map(|(_, l)| *l)
            .expect("every contender ran")
    };
    let throughput = |c: Contender| {
        &results
            .throughput
            .iter()
            .find(|(x, _)| *x == c)
            .expect("every contender ran")
            .1
    };
    let (tickhost, pass, proto) = (
        throughput(Contender::Tickhost),
        throughput(Contender::PassThrough),
        throughput(Contender::Prototype),
    );

    println!("\n### On {broker}\n");
    println!(
        "Throughput: {ticks} ticks over {SYMBOLS} symbols in a topic of {PARTITIONS} \
         partitions, produced before each run; each contender reads them all in its own \
         consumer group and writes one output per tick; ticks / (last output's timestamp - \
         first output's timestamp), as stamped by the contender's producer (ms resolution; \
         the consumer-group join is not in it). The second row is the contender's own \
         clock, from its first consumed message to its last acknowledged output. \
         Latency: from handing a tick to the benchmark's producer to the benchmark's \
         reader receiving its output, ticks paced over {paced} s after a warm-up of \
         {WARMUP_TICKS}; the benchmark's producer and reader{broker_note} share the 2 \
         cores with the contender. Every consumer: `batch-wait` {batch_wait} ms, \
         `fetch.wait.max.ms` {FETCH_WAIT_MS}, `fetch.queue.backoff.ms` \
         {FETCH_QUEUE_BACKOFF_MS}. Memory: {memory} ticks over {MEMORY_SYMBOLS} symbols, \
         every symbol's windows holding its last 10 minutes at the end; tickhost as a \
         `tickhost serve` process, read from /proc once every output is acknowledged; the \
         prototype reads its own. MB = 10^6 bytes.\n",
        ticks = Thousands(tickhost.ticks as f64),
        paced = PACED.as_secs(),
        broker_note = if mock {
            " and the mock broker (inside the benchmark)"
        } else {
            ", and tansu,"
        },
        batch_wait = BATCH_WAIT.as_millis(),
        memory = Thousands(MEMORY_TICKS as f64),
    );
    println!("| | tickhost (3 plugins) | pass-through (no plugins) | Python prototype |");
    println!("|---|--:|--:|--:|");
    let row = |name: &str, cell: &dyn Fn(Contender) -> String| {
        let cells: Vec<String> = Contender::ALL.iter().map(|&c| cell(c)).collect();
        println!("| {name} | {} |", cells.join(" | "));
    };
    row("throughput, ticks/s", &|c| {
        Thousands(throughput(c).rate()).to_string()
    });
    row("same, by its own clock, ticks/s", &|c| {
        throughput(c)
            .self_rate()
            .map_or("-".to_string(), |r| Thousands(r).to_string())
    });
    row("kept / dropped", &|c| {
        let t = throughput(c);
        format!(
            "{} / {}",
            Thousands(t.kept as f64),
            Thousands(t.dropped as f64)
        )
    });
    let latency_rows = |load: &str, list: &[(Contender, Latency)]| {
        row(&format!("{load}: paced rate, ticks/s"), &|c| {
            Thousands(find(list, c).rate).to_string()
        });
        row(&format!("{load}: latency p50 / p99"), &|c| {
            let l = find(list, c);
            format!("{} / {}", Ms(l.p50), Ms(l.p99))
        });
        row(&format!("{load}: latency max"), &|c| {
            Ms(find(list, c).max).to_string()
        });
    };
    latency_rows("half load", &results.latency);
    latency_rows("tenth load", &results.low_latency);
    row("RSS at the end, 1,000 symbols", &|c| match c {
        Contender::Tickhost => Mb(results.tickhost_memory.rss).to_string(),
        Contender::Prototype => Mb(results.prototype_memory.rss).to_string(),
        Contender::PassThrough => "-".to_string(),
    });
    row("peak RSS (VmHWM), 1,000 symbols", &|c| match c {
        Contender::Tickhost => Mb(results.tickhost_memory.peak).to_string(),
        Contender::Prototype => Mb(results.prototype_memory.peak).to_string(),
        Contender::PassThrough => "-".to_string(),
    });
    println!(
        "\nHalf load is half of tickhost's throughput (the prototype: half of its own if \
         that is lower), tenth load a tenth of tickhost's. tickhost as shipped \
         (`batch-wait` {} ms, `fetch.wait.max.ms` {DEFAULT_FETCH_WAIT_MS}) at half load: \
         latency p50 {}, p99 {}, max {}.",
        shipped_tuning().batch_wait.as_millis(),
        Ms(results.shipped_latency.p50),
        Ms(results.shipped_latency.p99),
        Ms(results.shipped_latency.max),
    );
    let largest = |c: &Checkpoints| {
        c.largest
            .map_or("none kept by the broker".to_string(), |b| {
                Mb(b as u64).to_string()
            })
    };
    println!(
        "tickhost's checkpoints (every partition's plugin state, every second and at the \
         end, in chunks of at most 512 KiB): {} chunk messages in the throughput run, the \
         largest {}; {} in the memory run, the largest {}.\n",
        results.checkpoints.count,
        largest(&results.checkpoints),
        results.memory_checkpoints.count,
        largest(&results.memory_checkpoints),
    );

    let vs_pass = tickhost.rate() / pass.rate();
    let vs_proto = tickhost.rate() / proto.rate();
    let p99 = find(&results.latency, Contender::Tickhost)
        .p99
        .as_secs_f64()
        * 1e3;
    let peak = results.tickhost_memory.peak as f64 / MB;
    println!("| target | measured | |");
    println!("|---|--:|---|");
    println!(
        "| tickhost at least {TARGET_VS_PASS_THROUGH}x the pass-through | {vs_pass:.2}x | {} |",
        verdict(vs_pass, TARGET_VS_PASS_THROUGH, true)
    );
    println!(
        "| tickhost at least {TARGET_VS_PROTOTYPE}x the prototype | {vs_proto:.2}x | {} |",
        verdict(vs_proto, TARGET_VS_PROTOTYPE, true)
    );
    let p99_note = if mock {
        ""
    } else {
        " (the target is for the mock cluster)"
    };
    println!(
        "| tickhost p99 at half load at most {TARGET_P99_MS} ms | {p99:.1} ms | {}{p99_note} |",
        verdict(p99, TARGET_P99_MS, false)
    );
    println!(
        "| tickhost peak RSS at most {TARGET_RSS_MB} MB | {peak:.1} MB | {} |",
        verdict(peak, TARGET_RSS_MB, false)
    );
}

/// "met", or "missed" and by what factor; `at_least` says which side of
/// the target meets it.
fn verdict(measured: f64, target: f64, at_least: bool) -> String {
    let met = if at_least {
        measured >= target
    } else {
        measured <= target
    };
    let factor = if at_least {
        target / measured
    } else {
        measured / target
    };
    if met {
        "met".to_string()
    } else {
        format!("missed by {factor:.2}x")
    }
}
