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
    let bars = Stream::new(60_000);
    let seconds = Stream::new(1_000);

    println!("## Swap pause\n");
    println!(
        "The shipped chain under a steady stream (batches of {BATCH}, {SYMBOLS} symbols, time \
         moving on); \
         {SWAPS} swaps of each slot, 5 ms apart. The pause is the time every chain is held \
         between two batches: the old instance's snapshot, the new one's restore, the switch. \
         `state` is the slot's snapshot in one chain. With 1-minute bars a 10-minute window \
         holds 10 ticks per symbol; with a tick a second, up to {} (the stream's length).\n",
        seconds.per_symbol()
    );
    println!("| ticks | chains | slot | state | p50 | p99 | max |");
    println!("|---|---:|---|---:|---:|---:|---:|");
    let runtime = Runtime::new().expect("the runtime starts");
    for (label, stream) in [("1-minute bars", &bars), ("a tick a second", &seconds)] {
        for chains in [1, 4] {
            for (index, slot) in config.slots.iter().enumerate() {
                let (pauses, state) = swap_pauses(&runtime, &cache, &config, stream, chains, index);
                println!(
                    "| {label} | {chains} | {} | {} | {} | {} | {} |",
                    slot.name,
                    kib(state),
                    micros(pauses[pauses.len() / 2]),
                    micros(pauses[pauses.len() * 99 / 100]),
                    micros(pauses[pauses.len() - 1])
                );
            }
        }
    }
    let stream = &seconds;

    println!("\n## Throughput during swaps\n");
    println!("| swaps | ticks/s | vs none |");
    println!("|---|---:|---:|");
    let none = throughput(&runtime, &cache, &config, stream, None);
    let ten = throughput(
        &runtime,
        &cache,
        &config,
        stream,
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
    open.limits.state_deadline = Duration::from_secs(3600);
    let free = Runtime::without_deadlines().expect("the runtime starts");
    let unlimited = throughput(&free, &cache, &open, stream, None);
    let limited = throughput(&runtime, &cache, &config, stream, None);
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

/// A generated stream, cycled through batch by batch. Every pass is
/// `shift` later than the one before, so that time moves on as in a real
/// stream (a repeated tick would be out of order, or, with the newest
/// timestamp of its symbol, pile up in the windows).
struct Stream {
    batches: Vec<Vec<Tick>>,
    shift: i64,
}

impl Stream {
    /// Ticks of random symbols, each `step_ms` after its symbol's last.
    fn new(step_ms: i64) -> Stream {
        let mut state = 0x9E37_79B9_7F4A_7C15_u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        const START: i64 = 1_709_735_400_000;
        let mut prices = vec![100.0_f64; SYMBOLS];
        let mut ts = vec![START; SYMBOLS];
        let batches = (0..256)
            .map(|_| {
                (0..BATCH)
                    .map(|_| {
                        let s = (next() % SYMBOLS as u64) as usize;
                        ts[s] += step_ms;
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
        let shift = ts.iter().max().expect("symbols") - START + step_ms;
        Stream { batches, shift }
    }

    /// A copy of the stream for one thread to cycle through, starting with
    /// the pass after `passes` passes.
    fn copy(&self, passes: i64) -> Vec<Vec<Tick>> {
        let mut batches = self.batches.clone();
        self.advance(&mut batches, passes);
        batches
    }

    /// Moves `batches` on by `passes` passes.
    fn advance(&self, batches: &mut [Vec<Tick>], passes: i64) {
        for tick in batches.iter_mut().flatten() {
            tick.ts += self.shift * passes;
        }
    }

    /// Ticks per symbol in the whole stream, on average.
    fn per_symbol(&self) -> usize {
        self.batches.len() * BATCH / SYMBOLS
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
    // The chains were filled with the first pass.
    let copies: Vec<Vec<Vec<Tick>>> = partitions.0.iter().map(|_| stream.copy(1)).collect();
    let start = Instant::now();
    std::thread::scope(|scope| {
        for (chain, mut batches) in partitions.0.iter().zip(copies) {
            let (done, ticks) = (&done, &ticks);
            scope.spawn(move || {
                let mut n = 0;
                while !done.load(Ordering::Acquire) {
                    if n == batches.len() {
                        stream.advance(&mut batches, 1);
                        n = 0;
                    }
                    let batch = &batches[n];
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

/// The pauses of [`SWAPS`] swaps of slot `index`, sorted, and the size of
/// its state in one chain.
fn swap_pauses(
    runtime: &Runtime,
    cache: &ComponentCache,
    config: &Config,
    stream: &Stream,
    chains: usize,
    index: usize,
) -> (Vec<Duration>, usize) {
    let (partitions, control) = setup(runtime, cache, config, stream, chains);
    let state = partitions.0[0]
        .lock()
        .unwrap()
        .snapshot()
        .unwrap_or_else(|e| panic!("{e}"))[index]
        .len();
    let slot = &config.slots[index].name;
    let path = config.slots[index].path.clone();
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
    (pauses, state)
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

fn kib(bytes: usize) -> String {
    format!("{:.0} KiB", bytes as f64 / 1024.0)
}

fn millions(rate: f64) -> String {
    format!("{:.2} M", rate / 1e6)
}
