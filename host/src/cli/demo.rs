//! `tickhost demo`: the whole pipeline inside one process, on librdkafka's
//! mock cluster: the bundled ticks are published to the input topic, the
//! streaming host consumes and judges them and publishes its outputs, and
//! the report is printed. No broker to install, no network.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, bail};
use clap::Args;
use rdkafka::mocking::MockCluster;
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::util::Timeout;

use tickhost::chain::load_lineup;
use tickhost::config::Config;
use tickhost::kafka::{PartitionChains, ServeOptions, client, serve};
use tickhost::plugin::{ComponentCache, Runtime};
use tickhost::tick::Tick;

use super::serve::{shutdown_signal, tokio_runtime};

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// The chain configuration.
    #[arg(long, short, default_value = "host/tickhost.toml")]
    config: PathBuf,

    /// The ticks to publish, as JSON lines.
    #[arg(long, short, default_value = "host/data/goog.jsonl")]
    input: PathBuf,

    /// Partitions of the input topic.
    #[arg(long, default_value_t = 3)]
    partitions: i32,
}

pub fn execute(args: DemoArgs, cache: &ComponentCache) -> anyhow::Result<()> {
    let mut config = Config::load(&args.config)?;
    if config.slots.is_empty() {
        bail!("'{}' names no plugins", args.config.display());
    }
    let text = std::fs::read_to_string(&args.input)
        .with_context(|| format!("failed to read '{}'", args.input.display()))?;
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();

    let cluster = MockCluster::new(1).context("failed to start the mock cluster")?;
    config.kafka.brokers = cluster.bootstrap_servers();
    // The mock cluster does not answer admin requests: create the topics
    // through its own interface instead.
    config.kafka.create_topics = false;
    let topics = &config.kafka.topics;
    for topic in [
        &topics.input,
        &topics.processed,
        &topics.rejected,
        &topics.dlq,
    ] {
        cluster
            .create_topic(topic, args.partitions, 1)
            .with_context(|| format!("failed to create topic '{topic}'"))?;
    }
    cluster
        .create_topic(&topics.state, 1, 1)
        .context("failed to create the state topic")?;
    let runtime = Runtime::new().context("failed to start the WebAssembly runtime")?;
    let lineup = load_lineup(&runtime, cache, &config)?;

    let tokio = tokio_runtime()?;
    let start = Instant::now();
    tokio.block_on(publish(&config, &lines))?;
    eprintln!(
        "published {} message(s) from '{}' to '{}' ({} partitions) on the mock cluster",
        lines.len(),
        args.input.display(),
        config.kafka.topics.input,
        args.partitions
    );
    let options = ServeOptions {
        stop_after: Some(lines.len() as u64),
        report: true,
    };
    let served = tokio.block_on(serve(
        &config,
        lineup,
        PartitionChains::new(),
        options,
        shutdown_signal(),
    ))?;
    let took = start.elapsed();

    eprintln!(
        "\ntickhost demo: {} through {} plugin(s) in {:.1} ms",
        config.kafka.topics.input,
        config.slots.len(),
        took.as_secs_f64() * 1e3
    );
    if let Some(report) = served.report {
        eprint!("{report}");
    }
    eprintln!("kafka: {}", served.counters);
    eprintln!(
        "outputs: {} (kept), {} (dropped), {} (not ticks)",
        config.kafka.topics.processed, config.kafka.topics.rejected, config.kafka.topics.dlq
    );
    Ok(())
}

/// Publishes each line as it is, keyed by its symbol when it is a tick.
async fn publish(config: &Config, lines: &[&str]) -> anyhow::Result<()> {
    let producer: FutureProducer = client::producer(&config.kafka)
        .create()
        .context("failed to create the demo's producer")?;
    let deliveries = lines.iter().map(|line| {
        let key = Tick::parse_json(line.as_bytes())
            .map(|tick| tick.symbol)
            .unwrap_or_default();
        let producer = &producer;
        let topic = &config.kafka.topics.input;
        async move {
            let record = FutureRecord::to(topic).key(&key).payload(*line);
            producer
                .send(record, Timeout::Never)
                .await
                .map_err(|(e, _)| e)
        }
    });
    for result in futures::future::join_all(deliveries).await {
        result.context("failed to publish a demo tick")?;
    }
    Ok(())
}
