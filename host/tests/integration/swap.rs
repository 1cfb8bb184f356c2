//! Hot swap through the [`Control`]: state carried over, refusals and
//! failures before the switch, automatic rollback, and hundreds of swaps
//! under a stream of ticks with every verdict equal to an uninterrupted run.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tickhost::chain::Chain;
use tickhost::plugin::{ComponentCache, Limits};
use tickhost::swap::{Control, Source, SwapError};
use tickhost::tick::Tick;
use tickhost::verdict::Verdict;

use crate::support::{chain, component, runtime, scratch, symbol_tick};

const THREE: [(&str, &str); 3] = [
    ("spike", "max-change-pct = 2.0\nwindow = \"10m\""),
    ("threshold", "min-volume = 1_000_000"),
    ("moving-average", "window = \"10m\""),
];

/// A chain behind a mutex, and its controller with an on-disk compile
/// cache, so that loading a version again takes a millisecond.
fn controlled(slots: &[(&str, &str)], cache: &str) -> (Arc<Mutex<Chain>>, Control) {
    let cache = ComponentCache::new(Some(scratch(cache)));
    control_of(chain(slots), cache, Limits::default())
}

/// `chain` behind a mutex, and a controller that loads new versions with
/// `limits`.
fn control_of(chain: Chain, cache: ComponentCache, limits: Limits) -> (Arc<Mutex<Chain>>, Control) {
    let lineup = chain.lineup().clone();
    let chain = Arc::new(Mutex::new(chain));
    let control = Control::new(runtime().clone(), cache, limits, lineup, chain.clone());
    (chain, control)
}

/// Batch `n` of a deterministic stream over 20 symbols: prices wander and
/// now and then jump, volumes sometimes fall below the threshold.
fn batch(n: u64, len: u64) -> Vec<Tick> {
    (0..len)
        .map(|i| {
            let k = n * len + i;
            let symbol = format!("S{:02}", k % 20);
            let minute = (k / 20) as i64;
            let wave = ((k * 7919) % 101) as f64 / 100.0;
            let jump = if k.is_multiple_of(97) { 5.0 } else { 0.0 };
            let volume = 900_000 + (k * 104_729) % 400_000;
            symbol_tick(&symbol, minute, 100.0 + wave + jump, volume)
        })
        .collect()
}

/// What the chain decided about each tick, comparable bit for bit.
fn outcome(chain: &Chain) -> Vec<(i64, u64)> {
    let judgement = chain.judgement();
    judgement
        .verdicts()
        .iter()
        .enumerate()
        .map(|(i, verdict)| match verdict {
            Verdict::Dropped { slot, .. } => (-1 - *slot as i64, 0),
            Verdict::Kept => {
                let avg = judgement.annotations_of(i as u32).last().map(|a| a.value);
                (0, avg.unwrap_or(f64::NAN).to_bits())
            }
        })
        .collect()
}

fn uninterrupted(slots: &[(&str, &str)], batches: u64, len: u64) -> Vec<Vec<(i64, u64)>> {
    let mut chain = chain(slots);
    (0..batches)
        .map(|n| {
            chain.process(&batch(n, len)).unwrap();
            outcome(&chain)
        })
        .collect()
}

fn process(chain: &Mutex<Chain>, n: u64, len: u64) -> Vec<(i64, u64)> {
    let mut chain = chain.lock().unwrap();
    chain.process(&batch(n, len)).unwrap();
    outcome(&chain)
}

#[test]
fn a_swap_carries_the_state_over() {
    let expected = uninterrupted(&THREE, 8, 200);
    let (chain, control) = controlled(&THREE, "swap-carry");
    for n in 0..4 {
        assert_eq!(process(&chain, n, 200), expected[n as usize]);
    }

    let swapped = control
        .swap(
            "moving-average",
            Source::Path(component("moving-average")),
            None,
        )
        .unwrap();

    assert!(swapped.state_carried, "{swapped:?}");
    assert_eq!(swapped.chains, 1);
    assert_eq!(swapped.state, ["state restored"]);
    for n in 4..8 {
        assert_eq!(process(&chain, n, 200), expected[n as usize], "batch {n}");
    }
    let status = control.status();
    assert_eq!(status[2].swaps, 1);
    assert_eq!(status[2].previous.len(), 1);
    assert_eq!(
        status[2].counters.batches, 8,
        "the slot counts across swaps"
    );
}

#[test]
fn hundreds_of_swaps_under_a_stream_lose_and_double_nothing() {
    const LEN: u64 = 64;
    let (chain, control) = controlled(&THREE, "swap-stream");
    let done = Arc::new(AtomicBool::new(false));

    // One thread streams batches without pause while this one swaps.
    let streamer = {
        let (chain, done) = (chain.clone(), done.clone());
        std::thread::spawn(move || {
            let mut seen = Vec::new();
            let mut n = 0;
            while !done.load(Ordering::Acquire) || n < 50 {
                seen.push(process(&chain, n, LEN));
                n += 1;
            }
            seen
        })
    };
    let mut pauses = Vec::new();
    let start = Instant::now();
    for i in 0..300 {
        let slot = ["spike", "moving-average", "threshold"][i % 3];
        let swapped = control
            .swap(slot, Source::Path(component(slot)), None)
            .unwrap();
        assert!(swapped.state_carried, "swap {i}: {swapped:?}");
        pauses.push(swapped.pause);
        std::thread::sleep(Duration::from_millis(2));
    }
    done.store(true, Ordering::Release);
    let seen = streamer.join().unwrap();

    let expected = uninterrupted(&THREE, seen.len() as u64, LEN);
    for (n, (seen, expected)) in seen.iter().zip(&expected).enumerate() {
        assert_eq!(seen, expected, "batch {n}");
    }
    pauses.sort();
    eprintln!(
        "300 swaps in {:?} over {} batches; pause p50 {:?}, max {:?}",
        start.elapsed(),
        seen.len(),
        pauses[150],
        pauses[299]
    );
    assert!(seen.len() > 300, "the stream ran through the swaps");
    assert_eq!(control.status()[0].swaps, 100);
}

#[test]
fn a_refused_snapshot_starts_the_new_version_empty_and_says_so() {
    let slots = [("misbehave", "")];
    let (chain, control) = controlled(&slots, "swap-refused");
    process(&chain, 0, 10);

    let swapped = control
        .swap(
            "misbehave",
            Source::Path(component("misbehave")),
            Some(toml::from_str("mode = \"refuse-restore\"").unwrap()),
        )
        .unwrap();

    assert!(!swapped.state_carried);
    assert!(
        swapped.state[0].contains("misbehave: snapshot refused"),
        "{:?}",
        swapped.state
    );
    // `seen` starts again from the new version's first tick.
    let chain = chain.lock().map(|mut c| {
        c.process(&batch(1, 3)).unwrap();
        c.judgement()
            .annotations()
            .iter()
            .map(|a| a.value)
            .collect::<Vec<_>>()
    });
    assert_eq!(chain.unwrap(), [1.0, 2.0, 3.0]);
}

#[test]
fn a_version_that_fails_before_the_switch_leaves_the_old_one_running() {
    let dir = scratch("swap-refusals");
    let truncated = dir.join("truncated.wasm");
    let bytes = std::fs::read(component("spike")).unwrap();
    std::fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();
    let core = dir.join("core.wasm");
    std::fs::write(&core, b"\0asm\x01\0\0\0").unwrap();
    let not_wasm = dir.join("notes.txt");
    std::fs::write(&not_wasm, "not a component").unwrap();
    let params = |text: &str| Some(toml::from_str::<toml::Table>(text).unwrap());
    let cases: Vec<(Source, Option<toml::Table>, &str)> = vec![
        (Source::Path(not_wasm), None, "not a WebAssembly file"),
        (Source::Path(core), None, "core WebAssembly module"),
        (Source::Path(truncated), None, "failed to compile"),
        (
            Source::Path(component("other-world")),
            None,
            "does not export",
        ),
        (
            Source::Path(component("future-contract")),
            None,
            "contract 0.2.0",
        ),
        (
            Source::Path(component("spike")),
            params("max-change-pct = -1.0"),
            "max-change-pct",
        ),
        (
            Source::Path(component("misbehave")),
            params("mode = \"trap-configure\""),
            "failed to start",
        ),
        (
            Source::Path(component("misbehave")),
            params("mode = \"trap-restore\""),
            "failed to take over",
        ),
        (
            Source::Bytes {
                name: "upload".into(),
                bytes: vec![0; 16],
            },
            None,
            "upload",
        ),
    ];
    let slots = [("spike", THREE[0].1), ("moving-average", THREE[2].1)];
    let expected = uninterrupted(&slots, cases.len() as u64 + 1, 50);
    let (chain, control) = controlled(&slots, "swap-refusals-cache");
    let before = control.status()[0].running.clone();

    for (n, (source, params, message)) in cases.into_iter().enumerate() {
        assert_eq!(process(&chain, n as u64, 50), expected[n], "batch {n}");
        let err = control.swap("spike", source, params).unwrap_err();
        assert!(err.to_string().contains(message), "{message}: {err}");
    }

    let last = expected.len() as u64 - 1;
    assert_eq!(process(&chain, last, 50), expected[last as usize]);
    assert_eq!(control.status()[0].running, before);
    assert_eq!(control.status()[0].swaps, 0);
    assert!(matches!(
        control.swap("nope", Source::Path(component("spike")), None),
        Err(SwapError::UnknownSlot(_))
    ));
    assert!(matches!(
        control.rollback("spike"),
        Err(SwapError::NoPrevious(_))
    ));
}

#[test]
fn a_version_that_traps_on_probation_is_rolled_back_without_loss() {
    let slots = [("threshold", THREE[1].1), ("moving-average", THREE[2].1)];
    let expected = uninterrupted(&slots, 10, 100);
    let (chain, control) = controlled(&slots, "swap-rollback");
    for n in 0..4 {
        assert_eq!(process(&chain, n, 100), expected[n as usize]);
    }

    // A version that traps on its third batch, in place of the average.
    let swapped = control
        .swap(
            "moving-average",
            Source::Path(component("misbehave")),
            Some(toml::from_str("mode = \"trap\"\nafter = 2").unwrap()),
        )
        .unwrap();
    assert!(
        !swapped.state_carried,
        "misbehave refuses the average's state"
    );
    for n in 4..6 {
        process(&chain, n, 100);
    }

    // The trapping batch is judged by the previous version, kept in step.
    for n in 6..10 {
        assert_eq!(process(&chain, n, 100), expected[n as usize], "batch {n}");
    }
    let status = &control.status()[1];
    assert_eq!(status.running.plugin, "moving-average");
    assert_eq!(status.rollbacks, 1);
    assert_eq!(status.counters.faults, 1);
    assert!(
        status
            .last_change
            .as_deref()
            .unwrap()
            .contains("rolled back"),
        "{:?}",
        status.last_change
    );
}

#[test]
fn a_rollback_returns_to_the_previous_version_with_the_state() {
    let slots = [("spike", THREE[0].1), ("moving-average", THREE[2].1)];
    let expected = uninterrupted(&slots, 40, 50);
    let (chain, control) = controlled(&slots, "swap-back");
    let first = control.status()[1].running.clone();
    for n in 0..2 {
        process(&chain, n, 50);
    }

    // Back while on probation (from the version kept in step), then, after
    // probation, back again by carrying the snapshot over.
    control
        .swap(
            "moving-average",
            Source::Path(component("moving-average")),
            None,
        )
        .unwrap();
    for n in 2..5 {
        assert_eq!(process(&chain, n, 50), expected[n as usize]);
    }
    let back = control.rollback("moving-average").unwrap();
    assert_eq!(back.to, first);
    assert_eq!(
        back.state,
        ["state current (it ran beside the new version)"]
    );
    control
        .swap(
            "moving-average",
            Source::Path(component("moving-average")),
            None,
        )
        .unwrap();
    for n in 5..30 {
        assert_eq!(process(&chain, n, 50), expected[n as usize], "batch {n}");
    }
    let back = control.rollback("moving-average").unwrap();
    assert_eq!(back.state, ["state restored"]);
    for n in 30..40 {
        assert_eq!(process(&chain, n, 50), expected[n as usize], "batch {n}");
    }
    assert_eq!(control.status()[1].running, first);
}

/// A chain of one `slow-snapshot` misbehave slot whose snapshot takes
/// 60 ms, under a batch deadline of 20 ms and the given state deadline,
/// with a controller of the same limits.
fn slow_snapshot(state_deadline: &str) -> (Arc<Mutex<Chain>>, Control) {
    let preamble = format!("[sandbox]\ndeadline = \"20ms\"\nstate-deadline = \"{state_deadline}\"");
    let slots = [("misbehave", "", "mode = \"slow-snapshot\"\nbytes = 60")];
    let text = crate::support::config_text(&preamble, &slots);
    let config = tickhost::config::Config::parse(&text, std::path::Path::new("")).unwrap();
    let cache = ComponentCache::new(None);
    let chain = Chain::load(runtime(), &cache, &config).unwrap();
    control_of(chain, cache, config.limits)
}

#[test]
fn a_snapshot_is_held_to_the_state_deadline_not_the_batch_deadline() {
    let (chain, control) = slow_snapshot("2s");
    process(&chain, 0, 10);

    let swapped = control
        .swap("misbehave", Source::Path(component("misbehave")), None)
        .unwrap_or_else(|e| panic!("a 60 ms snapshot is within 2s: {e}"));
    assert!(swapped.state_carried, "{swapped:?}");

    let (chain, control) = slow_snapshot("30ms");
    process(&chain, 0, 10);
    let refused = control
        .swap("misbehave", Source::Path(component("misbehave")), None)
        .unwrap_err();
    assert!(matches!(&refused, SwapError::Start { .. }), "{refused:?}");
    assert!(
        refused.to_string().contains("deadline of 30ms"),
        "{refused}"
    );
    // The old version still judges, and keeps every tick.
    let outcome = process(&chain, 1, 10);
    assert_eq!(outcome.len(), 10);
    assert!(
        outcome.iter().all(|&(verdict, _)| verdict == 0),
        "{outcome:?}"
    );
}
