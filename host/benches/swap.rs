//! The swap benchmark: what a hot swap and the sandbox cost the chain.
//!
//! Run it with `cargo bench -p tickhost --bench swap`. It builds the
//! components first (with `scripts/build-plugins.sh`), runs the shipped
//! chain of `host/tickhost.toml` on one thread under a steady stream of
//! generated ticks, and prints markdown tables:
//!
//! - the pause a swap causes: how long the chains are held between batches
//!   while every one of them switches (prepare the new instance, carry the
//!   state over, commit), over hundreds of swaps of each slot, with one
//!   chain and with four (as four partitions would have);
//! - the chain's throughput while a slot is swapped ten times a second,
//!   against none;
//! - the chain's throughput with the sandbox's deadline and memory limits
//!   against an engine without deadlines and with no memory cap.

use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tickhost::chain::{Chain, load_lineup};
use tickhost::config::Config;
use tickhost::plugin::{ComponentCache, Runtime};
use tickhost::swap::{Chains, Control, Source};
use tickhost::tick::Tick;

/// Ticks per batch: the default batch size.
const BATCH: usize = 1024;
/// Symbols in the stream; each chain holds windows for all of them.
const SYMBOLS: usize = 1000;
/// Swaps timed per row of the pause table.
const SWAPS: usize = 300;
/// How long each throughput run streams.
const RUN: Duration = Duration::from_secs(3);

fn main() {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the host crate lives in the workspace");
    let status = Command::new(workspace.join("scripts").join("build-plugins.sh"))
        .status()
        .expect("scripts/build-plugins.sh runs");
    assert!(status.success(), "building the plugins failed");
    let config_path = workspace.join("host").join("tickhost.toml");
    let config = Config::load(&config_path).unwrap_or_else(|e| panic!("{e}"));
    let scratch = std::env::temp_dir().join("tickhost-swap-bench");
    let cache = ComponentCache::new(Some(scratch.join("components")));
    let stream = Stream::new();

    println!("## Swap pause\n");
    println!(
        "The shipped chain under a steady stream (batches of {BATCH}, {SYMBOLS} symbols, windows \
         full); {SWAPS} swaps of each slot, 5 ms apart. The pause is the time every chain is held \
         between two batches.\n"
    );
    println!("| chains | slot | p50 | p99 | max |");
    println!("|---:|---|---:|---:|---:|");
    let runtime = Runtime::new().expect("the runtime starts");
    for chains in [1, 4] {
        for slot in ["spike", "threshold", "moving-average"] {
            let pauses = swap_pauses(&runtime, &cache, &config, &stream, chains, slot);
            println!(
                "| {chains} | {slot} | {} | {} | {} |",
                micros(pauses[pauses.len() / 2]),
                micros(pauses[pauses.len() * 99 / 100]),
                micros(pauses[pauses.len() - 1])
            );
        }
    }

    println!("\n## Throughput during swaps\n");
    println!("| swaps | ticks/s | vs none |");
    println!("|---|---:|---:|");
    let none = throughput(&runtime, &cache, &config, &stream, None);
    let ten = throughput(
        &runtime,
        &cache,
        &config,
        &stream,
        Some(Duration::from_millis(100)),
    );
    println!("| none | {} | 1.00x |", millions(none));
    println!("| 10 a second | {} | {:.2}x |", millions(ten), ten / none);

    println!("\n## The sandbox's cost\n");
    println!("| engine | ticks/s | vs no limits |");
    println!("|---|---:|---:|");
    let mut open = config.clone();
    open.limits.memory = usize::MAX;
    open.limits.deadline = Duration::from_secs(3600);
    let free = Runtime::without_deadlines().expect("the runtime starts");
    let unlimited = throughput(&free, &cache, &open, &stream, None);
    let limited = throughput(&runtime, &cache, &config, &stream, None);
    println!(
        "| no deadlines, no memory cap | {} | 1.00x |",
        millions(unlimited)
    );
    println!(
        "| deadline {:?}, memory cap {} MiB (default) | {} | {:.2}x |",
        config.limits.deadline,
        config.limits.memory >> 20,
        millions(limited),
        limited / unlimited
    );
}

/// A generated stream, cycled through batch by batch.
struct Stream {
    batches: Vec<Vec<Tick>>,
}

impl Stream {
    fn new() -> Stream {
        let mut state = 0x9E37_79B9_7F4A_7C15_u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut prices = vec![100.0_f64; SYMBOLS];
        let mut ts = vec![1_709_735_400_000_i64; SYMBOLS];
        let batches = (0..256)
            .map(|_| {
                (0..BATCH)
                    .map(|_| {
                        let s = (next() % SYMBOLS as u64) as usize;
                        ts[s] += 1000;
                        prices[s] *= 1.0 + ((next() % 2001) as f64 - 1000.0) / 400_000.0;
                        Tick {
                            symbol: format!("S{s:04}"),
                            ts: ts[s],
                            price: prices[s],
                            volume: 500_000 + next() % 1_500_000,
                        }
                    })
                    .collect()
            })
            .collect();
        Stream { batches }
    }
}

/// Several chains, as the partitions of a host would have, held together.
struct Partitions(Vec<Mutex<Chain>>);

impl Chains for Partitions {
    fn with_chains(&self, f: &mut dyn FnMut(&mut [&mut Chain])) {
        let mut guards: Vec<_> = self.0.iter().map(|c| c.lock().unwrap()).collect();
        let mut chains: Vec<&mut Chain> = guards.iter_mut().map(|g| &mut **g).collect();
        f(&mut chains);
    }
}

/// Streams through `chains` chains on one thread each while `swap` is
/// called on this one; returns the ticks judged per second.
fn stream_while(partitions: &Arc<Partitions>, stream: &Stream, swap: impl FnOnce()) -> f64 {
    let done = AtomicBool::new(false);
    let ticks = AtomicU64::new(0);
    let start = Instant::now();
    std::thread::scope(|scope| {
        for chain in &partitions.0 {
            let (done, ticks) = (&done, &ticks);
            scope.spawn(move || {
                let mut n = 0;
                while !done.load(Ordering::Acquire) {
                    let batch = &stream.batches[n % stream.batches.len()];
                    chain.lock().unwrap().process(batch).expect("judged");
                    ticks.fetch_add(batch.len() as u64, Ordering::Relaxed);
                    n += 1;
                }
            });
        }
        swap();
        done.store(true, Ordering::Release);
    });
    ticks.load(Ordering::Relaxed) as f64 / start.elapsed().as_secs_f64()
}

fn setup(
    runtime: &Runtime,
    cache: &ComponentCache,
    config: &Config,
    stream: &Stream,
    chains: usize,
) -> (Arc<Partitions>, Control) {
    let lineup = load_lineup(runtime, cache, config).unwrap_or_else(|e| panic!("{e}"));
    let partitions = Arc::new(Partitions(
        (0..chains)
            .map(|_| Mutex::new(Chain::start(lineup.clone()).expect("the chain starts")))
            .collect(),
    ));
    // Fill every window before measuring.
    for chain in &partitions.0 {
        let mut chain = chain.lock().unwrap();
        for batch in &stream.batches {
            chain.process(batch).expect("judged");
        }
    }
    let control = Control::new(
        runtime.clone(),
        cache.clone(),
        config.limits,
        lineup,
        partitions.clone(),
    );
    (partitions, control)
}

fn swap_pauses(
    runtime: &Runtime,
    cache: &ComponentCache,
    config: &Config,
    stream: &Stream,
    chains: usize,
    slot: &str,
) -> Vec<Duration> {
    let (partitions, control) = setup(runtime, cache, config, stream, chains);
    let path = config
        .slots
        .iter()
        .find(|s| s.name == slot)
        .map(|s| s.path.clone())
        .expect("the slot is configured");
    let mut pauses = Vec::with_capacity(SWAPS);
    stream_while(&partitions, stream, || {
        for _ in 0..SWAPS {
            let swapped = control
                .swap(slot, Source::Path(path.clone()), None)
                .unwrap_or_else(|e| panic!("{e}"));
            assert!(swapped.state_carried, "{swapped:?}");
            pauses.push(swapped.pause);
            std::thread::sleep(Duration::from_millis(5));
        }
    });
    pauses.sort();
    pauses
}

fn throughput(
    runtime: &Runtime,
    cache: &ComponentCache,
    config: &Config,
    stream: &Stream,
    every: Option<Duration>,
) -> f64 {
    let (partitions, control) = setup(runtime, cache, config, stream, 1);
    let path = config.slots[2].path.clone();
    let slot = config.slots[2].name.clone();
    stream_while(&partitions, stream, || {
        let start = Instant::now();
        while start.elapsed() < RUN {
            match every {
                Some(every) => {
                    std::thread::sleep(every);
                    control
                        .swap(&slot, Source::Path(path.clone()), None)
                        .unwrap_or_else(|e| panic!("{e}"));
                }
                None => std::thread::sleep(Duration::from_millis(50)),
            }
        }
    })
}

fn micros(duration: Duration) -> String {
    format!("{:.0} µs", duration.as_secs_f64() * 1e6)
}

fn millions(rate: f64) -> String {
    format!("{:.2} M", rate / 1e6)
}
