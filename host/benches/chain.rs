//! The chain benchmark: the shipped chain of `host/tickhost.toml` as
//! components, against the same three rules linked natively, on the same
//! generated ticks; and the time it takes to load the plugins, compiled and
//! from the cache.
//!
//! Run it with `cargo bench -p tickhost --bench chain`. It builds the
//! components first (with `scripts/build-plugins.sh`), and prints markdown
//! tables on stdout that can be pasted into the README as they are.
//!
//! The native baseline does the work of [`Chain::process`] minus the
//! component boundary: it numbers the symbols and fills the columns as the
//! host's `BatchBuilder` does, sends each rule a symbol's name once, passes
//! each rule only the ticks the rules before it kept, and gathers verdicts
//! and annotations by input position, calling each rule through the kit's
//! [`Instance`](kit::Instance), as the component glue does. What it leaves
//! out is what only the boundary costs: copying the batch into each plugin's
//! memory and the verdicts out of it, and checking the verdicts of a plugin
//! that the host does not trust. Both chains must reach the same verdicts,
//! or the benchmark stops: a faster chain that judges differently measures
//! nothing.
//!
//! Last, the same stream as Kafka messages through what the streaming host
//! does with a partition's batch ([`PartitionState::process`]: parsing each
//! message, the chain, the output records), without a broker: what the
//! host adds to the chain per tick, measured steadily, where the Kafka
//! benchmark's runs share two cores with a broker.

use std::fmt;
use std::ops::Range;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rdkafka::Timestamp;
use rdkafka::message::OwnedMessage;

use moving_average::MovingAverage;
use rustc_hash::FxHashMap;
use spike::Spike;
use threshold::Threshold;
use tickhost::batch;
use tickhost::chain::Chain;
use tickhost::config::Config;
use tickhost::kafka::partition::PartitionState;
use tickhost::kafka::{Counters, KafkaConfig};
use tickhost::plugin::bindings::{Param, ParamValue};
use tickhost::plugin::{ComponentCache, Origin, Plugin, Runtime, params};
use tickhost::tick::Tick;
use tickhost::verdict::{self, Annotated, Verdict};
use tickhost_plugin_kit::{self as kit, Rule, Thousands};

/// Ticks in the generated stream: about 10,000 per symbol, nearly three
/// hours of each symbol's trading at one tick a second, so every window is
/// full for most of the run.
const TICKS: usize = 1 << 20;

/// Symbols in the stream. A hundred instruments is a modest feed, and
/// enough that a batch of 1,024 carries every symbol several times.
const SYMBOLS: usize = 100;

/// The batch sizes measured: one tick at a time, the sizes around the
/// default of 1,024, and a large batch.
const BATCH_SIZES: [usize; 4] = [1, 64, 1024, 8192];

/// Batches smaller than this are timed over the first [`SMALL_BATCH_TICKS`]
/// ticks only: one tick at a time, the component chain judges a few hundred
/// thousand ticks a second, and a quarter of the stream shows the same rate
/// in a quarter of the time.
const SMALL_BATCH: usize = 64;

/// How many ticks the smallest batch sizes are timed over: enough that the
/// native chain's pass, the shortest, still takes tens of milliseconds.
const SMALL_BATCH_TICKS: usize = 1 << 18;

/// The prefix of the stream that warms up each chain (code, caches, the
/// allocator) before its timed runs.
const WARMUP_TICKS: usize = 1 << 16;

/// Timed runs per measurement; the fastest counts, since anything slower is
/// the machine doing something else.
const RUNS: usize = 3;

/// Every this many ticks, the verdict and the average of one tick are
/// compared between the chains. A prime, so that the samples fall on every
/// position within a batch.
const SAMPLE_EVERY: usize = 4099;

/// The seed of the generated stream; any seed gives a stream of the same
/// shape, this one gives the same stream every run.
const SEED: u64 = 0x7469_636b_686f_7374;

/// The event time of the first ticks, 2024-03-06 14:30 UTC (the US open).
const START_MS: i64 = 1_709_735_400_000;

/// A symbol's ticks are about a second apart, between these two steps.
const MIN_STEP_MS: i64 = 500;
const MAX_STEP_MS: i64 = 1500;

/// The price every symbol starts at and is pulled back towards.
const BASE_PRICE: f64 = 100.0;

/// The largest move of one step of the random walk, as a fraction of the
/// price: ±0.05% a second wanders about 0.7% in ten minutes, so the spike
/// rule's 2% is crossed by a real trend only now and then.
const MAX_WALK: f64 = 0.0005;

/// How strongly each step pulls the walk back towards [`BASE_PRICE`], so
/// that prices stay near it over the whole stream.
const REVERSION: f64 = 0.001;

/// The share of ticks that are a spike: a print 3% to 8% away from the
/// walk, which the walk itself does not follow.
const SPIKE_RATE: f64 = 0.002;
const SPIKE_MIN: f64 = 0.03;
const SPIKE_MAX: f64 = 0.08;

/// The share of ticks traded below the threshold's 1,000,000. Volumes are
/// drawn from `[low, high)`: a thin trade is below the minimum, any other
/// at or above it.
const THIN_RATE: f64 = 0.10;
const THIN_VOLUMES: (u64, u64) = (1_000, 1_000_000);
const THICK_VOLUMES: (u64, u64) = (1_000_000, 5_000_000);

/// The share of ticks that arrive late: up to [`MAX_LAG_MS`] older than
/// their symbol's newest tick.
const LATE_RATE: f64 = 0.001;
const MAX_LAG_MS: i64 = 5000;

fn main() {
    let workspace = workspace();
    build_plugins(workspace);
    let config_path = workspace.join("host").join("tickhost.toml");
    let config = Config::load(&config_path).unwrap_or_else(|e| panic!("{e}"));
    let runtime = Runtime::new().expect("the runtime starts");
    let ticks = generate(TICKS);

    // Load the chain twice: compiled into an empty cache, then from it.
    let cache_dir = workspace.join("target").join("bench-cache");
    match std::fs::remove_dir_all(&cache_dir) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => panic!("failed to empty '{}': {e}", cache_dir.display()),
    }
    let cache = ComponentCache::new(Some(cache_dir));
    let cold = load(&runtime, &cache, &config);
    let warm = load(&runtime, &cache, &config);
    let plugins: Vec<(String, Plugin)> = warm
        .iter()
        .map(|load| (load.slot.clone(), load.plugin.clone()))
        .collect();
    let natives: Vec<NativeSlot> = plugins
        .iter()
        .zip(&config.slots)
        .map(|((_, plugin), slot)| NativeSlot::new(plugin, &slot.params))
        .collect();

    // Time both chains at each batch size, on the same ticks, and insist
    // that they agree.
    let mut rows = Vec::new();
    for size in BATCH_SIZES {
        let timed = if size < SMALL_BATCH {
            &ticks[..SMALL_BATCH_TICKS]
        } else {
            &ticks[..]
        };
        let native = measure(|| NativeChain::new(&natives), timed, size);
        let components = measure(
            || Chain::new(plugins.clone()).expect("the chain starts"),
            timed,
            size,
        );
        assert_eq!(
            native.outcome, components.outcome,
            "the native and the component chain disagree at batch size {size}"
        );
        rows.push(Row {
            size,
            ticks: timed.len(),
            native: native.took,
            components: components.took,
            outcome: native.outcome,
        });
    }
    let full: Vec<&Outcome> = rows
        .iter()
        .filter(|row| row.ticks == TICKS)
        .map(|row| &row.outcome)
        .collect();
    assert!(
        full.windows(2).all(|pair| pair[0] == pair[1]),
        "the verdicts depend on the batch size"
    );

    let partition = measure_partition(&plugins, &ticks);
    print_report(&rows, &cold, &warm, &plugins);
    print_partition(&rows, partition);
}

/// The batch size of the partition measurement: the host's default.
const PARTITION_BATCH: usize = 1024;

/// Times [`PartitionState::process`] over the whole stream, as JSON
/// messages of one partition in batches of [`PARTITION_BATCH`], best of
/// [`RUNS`] after a warm-up, each run with fresh windows.
fn measure_partition(plugins: &[(String, Plugin)], ticks: &[Tick]) -> Duration {
    let messages: Vec<OwnedMessage> = ticks
        .iter()
        .enumerate()
        .map(|(offset, tick)| {
            OwnedMessage::new(
                Some(tick.to_json().into_bytes()),
                Some(tick.symbol.clone().into_bytes()),
                "ticks".to_string(),
                Timestamp::NotAvailable,
                0,
                offset as i64,
                None,
            )
        })
        .collect();
    let config = KafkaConfig::default();
    let counters = Counters::default();
    let start = || PartitionState {
        partition: 0,
        chain: Chain::new(plugins.to_vec()).expect("the chain starts"),
        assigned_in: 0,
        next_offset: None,
        checkpointed: None,
    };
    let pass = |state: &mut PartitionState, messages: &[OwnedMessage]| {
        let mut outputs = 0;
        for batch in messages.chunks(PARTITION_BATCH) {
            outputs += state
                .process(batch, &config, &counters, None)
                .expect("the chain judges every batch")
                .len();
        }
        assert_eq!(outputs, messages.len(), "one output per message");
    };
    pass(&mut start(), &messages[..WARMUP_TICKS]);
    (0..RUNS)
        .map(|_| {
            let mut state = start();
            let clock = Instant::now();
            pass(&mut state, &messages);
            clock.elapsed()
        })
        .min()
        .expect("at least one run")
}

fn print_partition(rows: &[Row], partition: Duration) {
    let chain = rows
        .iter()
        .find(|row| row.size == PARTITION_BATCH && row.ticks == TICKS)
        .expect("the partition's batch size is measured")
        .components;
    let per_tick = |took: Duration| took.as_secs_f64() / TICKS as f64 * 1e6;
    println!();
    println!(
        "| batches of {} | ticks/s | µs a tick |",
        Thousands(PARTITION_BATCH as u64)
    );
    println!("|---|---:|---:|");
    println!(
        "| the component chain on parsed ticks | {} | {:.2} |",
        Rate(TICKS, chain),
        per_tick(chain)
    );
    println!(
        "| a Kafka partition's batch: parse, chain, output records | {} | {:.2} |",
        Rate(TICKS, partition),
        per_tick(partition)
    );
}

/// The workspace's root directory.
fn workspace() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the host crate lives in the workspace")
}

/// Builds the components where `host/tickhost.toml` finds them. Cargo does
/// nothing if they are up to date; a failed build stops the benchmark, with
/// cargo's output on stderr.
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

/// A deterministic stream of `count` ticks over [`SYMBOLS`] symbols,
/// interleaved at random, each symbol's prices a random walk around
/// [`BASE_PRICE`] with the spikes, thin trades and late ticks that give each
/// rule of the chain something to drop.
fn generate(count: usize) -> Vec<Tick> {
    struct Symbol {
        name: String,
        ts: i64,
        price: f64,
    }
    let mut rng = SplitMix64(SEED);
    let mut symbols: Vec<Symbol> = (0..SYMBOLS as i64)
        .map(|n| Symbol {
            name: format!("S{n:03}"),
            ts: START_MS + n,
            price: BASE_PRICE,
        })
        .collect();

    (0..count)
        .map(|_| {
            let symbol = &mut symbols[rng.below(SYMBOLS as u64) as usize];

            // A late tick is older than the symbol's newest and moves
            // nothing; every other tick moves its symbol's clock and walk.
            let ts = if rng.chance(LATE_RATE) {
                symbol.ts - rng.between(1, MAX_LAG_MS as u64) as i64
            } else {
                symbol.ts += rng.between(MIN_STEP_MS as u64, MAX_STEP_MS as u64) as i64;
                let pull = (BASE_PRICE - symbol.price) * REVERSION;
                symbol.price += pull + symbol.price * MAX_WALK * (2.0 * rng.unit() - 1.0);
                symbol.ts
            };

            let price = if rng.chance(SPIKE_RATE) {
                let jump = SPIKE_MIN + (SPIKE_MAX - SPIKE_MIN) * rng.unit();
                let sign = if rng.chance(0.5) { 1.0 } else { -1.0 };
                symbol.price * (1.0 + sign * jump)
            } else {
                symbol.price
            };

            let (low, high) = if rng.chance(THIN_RATE) {
                THIN_VOLUMES
            } else {
                THICK_VOLUMES
            };
            Tick {
                symbol: symbol.name.clone(),
                ts,
                price,
                volume: rng.between(low, high - 1),
            }
        })
        .collect()
}

/// SplitMix64: a few lines, fast, and good enough for test data; a stream
/// that must be the same on every machine cannot depend on a crate's
/// algorithm staying the same across versions.
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

/// One plugin loaded, and how long that took.
struct Load {
    slot: String,
    plugin: Plugin,
    took: Duration,
}

/// Loads every plugin of the chain, in order, as [`Chain::load`] does,
/// timing each load as a whole: reading, hashing, compiling or
/// deserializing, linking, and the probe instance that checks it.
fn load(runtime: &Runtime, cache: &ComponentCache, config: &Config) -> Vec<Load> {
    config
        .slots
        .iter()
        .map(|slot| {
            let start = Instant::now();
            let plugin = Plugin::load(runtime, cache, &slot.path, &slot.params, config.limits)
                .unwrap_or_else(|e| panic!("{e}"));
            Load {
                slot: slot.name.clone(),
                plugin,
                took: start.elapsed(),
            }
        })
        .collect()
}

/// A rule as the native chain calls it: through the kit's instance, which
/// checks the batch's symbol ids as it does inside a component.
trait Stage {
    fn process(&mut self, batch: &kit::HostBatch) -> Result<kit::Verdicts, String>;
}

impl<R: Rule> Stage for kit::Instance<R> {
    fn process(&mut self, batch: &kit::HostBatch) -> Result<kit::Verdicts, String> {
        kit::Instance::process(self, batch)
    }
}

/// What it takes to start one slot of the native chain: which rule, and
/// the parameters its component was loaded with.
struct NativeSlot {
    plugin: String,
    params: Vec<kit::Param>,
}

impl NativeSlot {
    /// The native twin of a loaded plugin, with the slot's parameters
    /// converted as the host converts them for the component.
    fn new(plugin: &Plugin, table: &toml::Table) -> NativeSlot {
        let params = params::convert(&plugin.info().params, table)
            .unwrap_or_else(|e| panic!("{e}"))
            .iter()
            .map(native_param)
            .collect();
        NativeSlot {
            plugin: plugin.name().to_string(),
            params,
        }
    }

    /// A configured rule with empty state.
    fn start(&self) -> Box<dyn Stage> {
        fn configured<R: Rule + 'static>(params: &[kit::Param]) -> Box<dyn Stage> {
            let mut instance = kit::Instance::<R>::new();
            instance
                .configure(params)
                .unwrap_or_else(|e| panic!("native rule refused its parameters: {e:?}"));
            Box::new(instance)
        }
        match self.plugin.as_str() {
            "spike" => configured::<Spike>(&self.params),
            "threshold" => configured::<Threshold>(&self.params),
            "moving-average" => configured::<MovingAverage>(&self.params),
            other => panic!("the benchmark has no native build of plugin '{other}'"),
        }
    }
}

/// The host's parameter as the guest's type: the same value.
fn native_param(param: &Param) -> kit::Param {
    let value = match &param.value {
        ParamValue::Float(v) => kit::ParamValue::Float(*v),
        ParamValue::Integer(v) => kit::ParamValue::Integer(*v),
        ParamValue::Boolean(v) => kit::ParamValue::Boolean(*v),
        ParamValue::Text(v) => kit::ParamValue::Text(v.clone()),
        ParamValue::Duration(v) => kit::ParamValue::Duration(*v),
    };
    kit::Param {
        name: param.name.clone(),
        value,
    }
}

/// [`Chain::process`] with the rules linked in: the same batch layout, the
/// same compaction between slots, the same verdicts and annotations.
struct NativeChain {
    slots: Vec<Box<dyn Stage>>,
    /// How many of the chain's symbols each slot has been sent.
    symbols_sent: Vec<usize>,
    dropped: Vec<u64>,
    batch: kit::HostBatch,
    /// Every symbol seen, by id, and the id of each, sharing one copy of
    /// the name, as `BatchBuilder` keeps them.
    names: Vec<Arc<str>>,
    ids: FxHashMap<Arc<str>, u32>,
    /// The ids whose names `batch.symbols` holds.
    sent: Range<usize>,
    positions: Vec<u32>,
    verdicts: Vec<Verdict>,
    annotations: Vec<Annotated>,
}

impl NativeChain {
    fn new(slots: &[NativeSlot]) -> NativeChain {
        NativeChain {
            slots: slots.iter().map(NativeSlot::start).collect(),
            symbols_sent: vec![0; slots.len()],
            dropped: vec![0; slots.len()],
            batch: kit::HostBatch {
                symbols: Vec::new(),
                symbol: Vec::new(),
                ts: Vec::new(),
                price: Vec::new(),
                volume: Vec::new(),
            },
            names: Vec::new(),
            ids: FxHashMap::default(),
            sent: 0..0,
            positions: Vec::new(),
            verdicts: Vec::new(),
            annotations: Vec::new(),
        }
    }

    /// Numbers the symbols and fills the columns, as `BatchBuilder::build`
    /// does for the host.
    fn build(&mut self, ticks: &[Tick]) {
        let batch = &mut self.batch;
        batch.symbol.clear();
        batch.ts.clear();
        batch.price.clear();
        batch.volume.clear();

        for tick in ticks {
            let id = match self.ids.get(tick.symbol.as_str()) {
                Some(&id) => id,
                None => {
                    let id = self.names.len() as u32;
                    let name: Arc<str> = tick.symbol.as_str().into();
                    self.names.push(name.clone());
                    self.ids.insert(name, id);
                    id
                }
            };
            batch.symbol.push(id);
            batch.ts.push(tick.ts);
            batch.price.push(tick.price);
            batch.volume.push(tick.volume);
        }
    }

    /// Puts the names a slot has not been sent into the batch, as
    /// `BatchBuilder::for_instance` does.
    fn send_symbols(&mut self, known: usize) {
        let wanted = known..self.names.len();
        if self.sent != wanted {
            let names = self.names[wanted.clone()].iter();
            self.batch.symbols.clear();
            self.batch
                .symbols
                .extend(names.map(|name| name.to_string()));
            self.sent = wanted;
        }
    }
}

/// A chain under measurement, native or components.
trait Judge {
    /// Judges one batch: a verdict per tick and the annotations by tick.
    fn judge(&mut self, ticks: &[Tick]) -> (&[Verdict], &[Annotated]);

    /// Ticks dropped by each slot so far.
    fn dropped(&self) -> Vec<u64>;
}

impl Judge for Chain {
    fn judge(&mut self, ticks: &[Tick]) -> (&[Verdict], &[Annotated]) {
        let judgement = self.process(ticks).unwrap_or_else(|e| panic!("{e}"));
        (judgement.verdicts(), judgement.annotations())
    }

    fn dropped(&self) -> Vec<u64> {
        self.slots()
            .iter()
            .map(|slot| slot.stats().dropped)
            .collect()
    }
}

impl Judge for NativeChain {
    fn judge(&mut self, ticks: &[Tick]) -> (&[Verdict], &[Annotated]) {
        self.verdicts.clear();
        self.verdicts.resize(ticks.len(), Verdict::Kept);
        self.annotations.clear();
        self.positions.clear();
        self.positions.extend(0..ticks.len() as u32);
        self.build(ticks);
        let symbols = self.names.len();

        for index in 0..self.slots.len() {
            self.send_symbols(self.symbols_sent[index]);
            let len = self.batch.symbol.len();
            if len == 0 {
                break;
            }
            let verdicts = self.slots[index]
                .process(&self.batch)
                .unwrap_or_else(|e| panic!("native rule failed: {e}"));
            self.symbols_sent[index] = symbols;
            self.dropped[index] += verdicts.dropped.len() as u64;

            let annotations = &verdicts.annotations;
            let columns = annotations.key.iter().zip(&annotations.value);
            for (&at, (&key, &value)) in annotations.index.iter().zip(columns) {
                self.annotations.push(Annotated {
                    tick: self.positions[at as usize],
                    slot: index,
                    key,
                    value,
                });
            }
            if verdicts.dropped.is_empty() {
                continue;
            }
            for (at, reason) in verdicts.dropped.iter() {
                let position = self.positions[at as usize] as usize;
                self.verdicts[position] = Verdict::Dropped {
                    slot: index,
                    reason: verdict::cap_reason(reason),
                };
            }

            let dropped = &verdicts.dropped.index;
            let batch = &mut self.batch;
            batch::remove(&mut batch.symbol, dropped);
            batch::remove(&mut batch.ts, dropped);
            batch::remove(&mut batch.price, dropped);
            batch::remove(&mut batch.volume, dropped);
            batch::remove(&mut self.positions, dropped);
        }

        if !self.annotations.is_sorted_by_key(|a| a.tick) {
            self.annotations.sort_by_key(|a| a.tick);
        }
        (&self.verdicts, &self.annotations)
    }

    fn dropped(&self) -> Vec<u64> {
        self.dropped.clone()
    }
}

/// What a chain decided about a stream, as far as the two chains are
/// compared: the drops of each slot, and a sample of the verdicts and
/// annotations, reasons and averages to the bit.
#[derive(Debug, PartialEq)]
struct Outcome {
    ticks: usize,
    dropped: Vec<u64>,
    samples: Vec<Sample>,
}

impl Outcome {
    fn kept(&self) -> u64 {
        self.ticks as u64 - self.dropped.iter().sum::<u64>()
    }
}

/// The verdict on one sampled tick, and its annotations as (slot, key,
/// bits of the value).
#[derive(Debug, PartialEq)]
struct Sample {
    tick: usize,
    verdict: Verdict,
    annotations: Vec<(usize, u32, u64)>,
}

/// The fastest of [`RUNS`] timed passes, and what the chain decided.
struct Measurement {
    took: Duration,
    outcome: Outcome,
}

/// Warms up a chain on a prefix of the stream, then times [`RUNS`] passes
/// over all of `ticks` in batches of `size`, each with a fresh chain from
/// `start` (so every window starts empty), started before the clock does.
fn measure<J: Judge>(mut start: impl FnMut() -> J, ticks: &[Tick], size: usize) -> Measurement {
    pass(&mut start(), &ticks[..WARMUP_TICKS.min(ticks.len())], size);

    let mut fastest: Option<Measurement> = None;
    for _ in 0..RUNS {
        let mut chain = start();
        let clock = Instant::now();
        let samples = pass(&mut chain, ticks, size);
        let took = clock.elapsed();

        let outcome = Outcome {
            ticks: ticks.len(),
            dropped: chain.dropped(),
            samples,
        };
        if let Some(fastest) = &fastest {
            assert_eq!(fastest.outcome, outcome, "two runs of one chain disagree");
        }
        if fastest.as_ref().is_none_or(|fastest| took < fastest.took) {
            fastest = Some(Measurement { took, outcome });
        }
    }
    fastest.expect("at least one run")
}

/// Judges `ticks` in batches of `size`, and returns the samples.
fn pass(chain: &mut impl Judge, ticks: &[Tick], size: usize) -> Vec<Sample> {
    let mut samples = Vec::with_capacity(ticks.len() / SAMPLE_EVERY + 1);
    let mut next = 0;
    for (number, batch) in ticks.chunks(size).enumerate() {
        let offset = number * size;
        let (verdicts, annotations) = chain.judge(batch);

        while next < offset + batch.len() {
            let index = (next - offset) as u32;
            let from = annotations.partition_point(|a| a.tick < index);
            let to = annotations.partition_point(|a| a.tick <= index);
            samples.push(Sample {
                tick: next,
                verdict: verdicts[next - offset].clone(),
                annotations: annotations[from..to]
                    .iter()
                    .map(|a| (a.slot, a.key, a.value.to_bits()))
                    .collect(),
            });
            next += SAMPLE_EVERY;
        }
    }
    samples
}

/// One batch size's results.
struct Row {
    size: usize,
    ticks: usize,
    native: Duration,
    components: Duration,
    outcome: Outcome,
}

/// Ticks per second, in millions.
struct Rate(usize, Duration);

impl fmt::Display for Rate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:.2} M", self.0 as f64 / self.1.as_secs_f64() / 1e6)
    }
}

fn print_report(rows: &[Row], cold: &[Load], warm: &[Load], plugins: &[(String, Plugin)]) {
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "Chain benchmark: {} ticks over {SYMBOLS} symbols, {cpus} CPUs, \
         best of {RUNS} runs, each after a warm-up on the first {} ticks.",
        Thousands(TICKS as u64),
        Thousands(WARMUP_TICKS as u64),
    );
    println!();
    println!(
        "| batch size | ticks timed | native, ticks/s | components, ticks/s | components / native |"
    );
    println!("|---:|---:|---:|---:|---:|");
    for row in rows {
        let first = if row.ticks < TICKS { "first " } else { "" };
        println!(
            "| {} | {first}{} | {} | {} | {:.2} |",
            Thousands(row.size as u64),
            Thousands(row.ticks as u64),
            Rate(row.ticks, row.native),
            Rate(row.ticks, row.components),
            row.native.as_secs_f64() / row.components.as_secs_f64(),
        );
    }

    println!();
    println!("| plugin | cold load | warm load |");
    println!("|---|---:|---:|");
    for (cold, warm) in cold.iter().zip(warm) {
        println!(
            "| {} | {:.1} ms ({}) | {:.1} ms ({}) |",
            cold.plugin.name(),
            cold.took.as_secs_f64() * 1e3,
            origin(&cold.plugin),
            warm.took.as_secs_f64() * 1e3,
            origin(&warm.plugin),
        );
    }
    let total = |loads: &[Load]| loads.iter().map(|l| l.took).sum::<Duration>();
    println!(
        "| the chain | {:.1} ms | {:.1} ms |",
        total(cold).as_secs_f64() * 1e3,
        total(warm).as_secs_f64() * 1e3,
    );

    let full = rows
        .iter()
        .find(|row| row.ticks == TICKS)
        .expect("one batch size runs the whole stream");
    println!();
    println!(
        "Verdicts on the {} ticks, the same at every batch size and in both chains:",
        Thousands(TICKS as u64)
    );
    println!();
    println!("- kept: {}", Thousands(full.outcome.kept()));
    for ((slot, plugin), &dropped) in plugins.iter().zip(&full.outcome.dropped) {
        // moving-average drops nothing but late ticks; behind spike, which
        // drops them by the same rule, it never sees one. Say so, lest a
        // zero read as a broken benchmark.
        let why = if plugin.name() == "moving-average" && dropped == 0 {
            " (it drops only late ticks, and spike ahead of it drops them first)"
        } else {
            ""
        };
        println!(
            "- dropped by slot `{slot}` ({}): {}{why}",
            plugin.name(),
            Thousands(dropped)
        );
    }
}

fn origin(plugin: &Plugin) -> &'static str {
    match plugin.compilation().0 {
        Origin::Compiled => "compiled",
        Origin::Cached => "cached",
    }
}
