//! The chain with the real plugins: verdicts on hand-computed sequences,
//! the order of slots, state carried through snapshots, and a trapping
//! plugin contained.

use tickhost::plugin::Fault;
use tickhost::tick::Tick;
use tickhost::verdict::Verdict;

use crate::support::{chain, symbol_tick, tick};

const THREE: [(&str, &str); 3] = [
    ("spike", "max-change-pct = 2.0\nwindow = \"10m\""),
    ("threshold", "min-volume = 1_000_000"),
    ("moving-average", "window = \"10m\""),
];

/// What one tick came to: the reason it was dropped, or its `avg`.
#[derive(Debug, PartialEq)]
enum Outcome {
    Dropped(&'static str, String),
    Avg(f64),
}

fn outcomes(chain: &mut tickhost::chain::Chain, ticks: &[Tick]) -> Vec<Outcome> {
    chain.process(ticks).expect("the batch is judged");
    let (judgement, slots) = (chain.judgement(), chain.slots());
    judgement
        .verdicts()
        .iter()
        .enumerate()
        .map(|(i, verdict)| match verdict {
            Verdict::Dropped { slot, reason } => {
                let name = match slots[*slot].name() {
                    "spike" => "spike",
                    "threshold" => "threshold",
                    "moving-average" => "moving-average",
                    other => panic!("unexpected slot {other}"),
                };
                Outcome::Dropped(name, reason.clone())
            }
            Verdict::Kept => {
                let annotations = judgement.annotations_of(i as u32);
                assert_eq!(annotations.len(), 1, "tick {i} has one annotation");
                Outcome::Avg(annotations[0].value)
            }
        })
        .collect()
}

fn assert_avg(outcome: &Outcome, expected: f64) {
    match outcome {
        Outcome::Avg(avg) => assert!((avg - expected).abs() < 1e-9, "avg {avg} != {expected}"),
        other => panic!("expected an avg of {expected}, got {other:?}"),
    }
}

#[test]
fn the_three_plugins_judge_a_hand_computed_sequence() {
    let mut chain = chain(&THREE);
    let ticks = [
        tick(0, 100.0, 2_000_000),               // first tick: the reference
        tick(1, 101.0, 2_000_000),               // +1%
        tick(2, 103.0, 2_000_000),               // +3% against 100: a spike
        tick(3, 102.0, 500_000),                 // +2% exactly: kept by spike; low volume
        symbol_tick("MSFT", 3, 50.0, 2_000_000), // another symbol, its own window
        tick(4, 99.0, 1_000_000),                // -1%; volume exactly at the threshold
        tick(10, 102.5, 2_000_000),              // minute 0 has left the window
        tick(9, 100.0, 2_000_000),               // a minute older than the newest
    ];

    let got = outcomes(&mut chain, &ticks);

    assert_avg(&got[0], 100.0);
    assert_avg(&got[1], (100.0 + 101.0) / 2.0);
    assert_eq!(
        got[2],
        Outcome::Dropped(
            "spike",
            "price change of +3.00% over the last 10m exceeds 2%".into()
        )
    );
    assert_eq!(
        got[3],
        Outcome::Dropped("threshold", "volume 500,000 below 1,000,000".into())
    );
    assert_avg(&got[4], 50.0);
    assert_avg(&got[5], (100.0 + 101.0 + 99.0) / 3.0);
    // Spike's reference is now minute 1 (101.0): +1.49%. The average leaves
    // out minute 0 (exactly one window old) and the two dropped ticks.
    assert_avg(&got[6], (101.0 + 99.0 + 102.5) / 3.0);
    assert_eq!(
        got[7],
        Outcome::Dropped("spike", "out of order by 1m".into())
    );
}

#[test]
fn verdicts_do_not_depend_on_how_ticks_are_cut_into_batches() {
    let ticks: Vec<Tick> = (0..300)
        .map(|i| {
            let symbol = ["GOOG", "MSFT", "AAPL"][i % 3];
            let price = 100.0 + ((i * 37) % 11) as f64 * 0.35;
            let volume = 700_000 + ((i * 7919) % 900_000) as u64;
            symbol_tick(symbol, (i / 3) as i64, price, volume)
        })
        .collect();

    let mut whole = chain(&THREE);
    let expected = outcomes(&mut whole, &ticks);
    let mut cut = chain(&THREE);
    let mut got = Vec::new();
    for batch in ticks.chunks(7) {
        got.extend(outcomes(&mut cut, batch));
    }

    assert_eq!(got, expected);
    assert!(
        expected
            .iter()
            .any(|o| matches!(o, Outcome::Dropped("spike", _)))
    );
    assert!(
        expected
            .iter()
            .any(|o| matches!(o, Outcome::Dropped("threshold", _)))
    );
}

#[test]
fn the_order_of_the_slots_decides_what_the_average_sees() {
    let ticks = [
        tick(0, 100.0, 2_000_000),
        tick(1, 104.0, 2_000_000), // a spike
        tick(2, 101.0, 2_000_000),
    ];
    let mut spike_first = chain(&[THREE[0], THREE[2]]);
    let mut average_first = chain(&[THREE[2], THREE[0]]);

    let after_spike = outcomes(&mut spike_first, &ticks);
    let judgement = average_first.process(&ticks).unwrap();

    // Spike first: the spike never reaches the average.
    assert_avg(&after_spike[2], (100.0 + 101.0) / 2.0);
    // Average first: the spike is averaged, then dropped, and its record
    // carries no annotation of a slot it passed.
    assert!(matches!(
        judgement.verdicts()[1],
        Verdict::Dropped { slot: 1, .. }
    ));
    let avg = judgement.annotations_of(2)[0].value;
    assert!((avg - (100.0 + 104.0 + 101.0) / 3.0).abs() < 1e-9, "{avg}");
}

#[test]
fn a_restored_chain_continues_as_the_uninterrupted_one() {
    let first: Vec<Tick> = (0..40)
        .map(|m| tick(m, 100.0 + (m % 5) as f64 * 0.7, 900_000 + m as u64 * 10_000))
        .collect();
    let then: Vec<Tick> = (40..80)
        .map(|m| tick(m, 100.0 + (m % 7) as f64 * 0.6, 950_000 + m as u64 * 3_000))
        .collect();
    let mut uninterrupted = chain(&THREE);
    outcomes(&mut uninterrupted, &first);
    let snapshot = uninterrupted.snapshot().unwrap();

    let mut restored = chain(&THREE);
    restored.restore(&snapshot).unwrap();
    let mut fresh = chain(&THREE);

    let expected = outcomes(&mut uninterrupted, &then);
    let got = outcomes(&mut restored, &then);
    for (got, expected) in got.iter().zip(&expected) {
        match (got, expected) {
            (Outcome::Avg(a), Outcome::Avg(b)) => assert_eq!(a.to_bits(), b.to_bits()),
            (a, b) => assert_eq!(a, b),
        }
    }
    assert_ne!(
        outcomes(&mut fresh, &then),
        expected,
        "state made a difference"
    );
}

#[test]
fn a_plugin_refuses_another_plugins_snapshot() {
    let mut spike = chain(&[THREE[0]]);
    let snapshot = spike.snapshot().unwrap();
    let mut average = chain(&[THREE[2]]);

    let err = average.restore(&snapshot).unwrap_err();

    assert_eq!(err.slot, "moving-average");
    match err.fault {
        Fault::Refused(reason) => assert!(reason.contains("from plugin 'spike'"), "{reason}"),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[test]
fn a_trapping_plugin_is_contained_and_its_batch_rejected_with_the_fault() {
    let mut chain = chain(&[
        ("threshold", "min-volume = 2"),
        ("misbehave", "mode = \"trap\"\nafter = 1"),
    ]);
    let batch = [tick(0, 100.0, 1), tick(1, 100.0, 5)];
    chain.process(&batch).expect("batch 0 behaves");

    let judgement = chain.process(&batch).expect("the fault is contained");

    let err = &judgement.faults()[0];
    assert_eq!(err.plugin, "misbehave");
    assert_eq!(err.slot, "misbehave");
    assert_eq!(err.batch, 1);
    assert!(matches!(err.fault, Fault::Trap(_)), "{err}");
    assert!(
        err.to_string()
            .starts_with("plugin 'misbehave' in slot 'misbehave' failed on batch 1: trapped"),
        "{err}"
    );
    // The tick the threshold dropped keeps its verdict; the one that reached
    // the faulting slot is rejected with the fault as the reason.
    assert!(matches!(
        &judgement.verdicts()[0],
        Verdict::Dropped { slot: 0, .. }
    ));
    match &judgement.verdicts()[1] {
        Verdict::Dropped { slot: 1, reason } => {
            assert!(reason.starts_with("plugin fault: trapped"), "{reason}")
        }
        other => panic!("expected the fault as the reason, got {other:?}"),
    }

    // The instance was rebuilt: the next batch is judged again.
    let next = chain.process(&batch).unwrap();
    assert!(next.faults().is_empty());
    assert_eq!(next.kept(), 1);
    assert_eq!(chain.slots()[1].stats().faults, 1);
}

#[test]
fn verdicts_that_break_the_contract_are_a_fault() {
    for (mode, expected) in [
        ("wrong-index", "dropped tick"),
        ("unsorted", "not strictly ascending"),
        ("bad-key", "annotation key 7"),
    ] {
        let mut chain = chain(&[("misbehave", &format!("mode = \"{mode}\""))]);

        let judgement = chain
            .process(&[tick(0, 1.0, 1), tick(1, 1.0, 1), tick(2, 1.0, 1)])
            .unwrap();

        assert_eq!(judgement.kept(), 0, "{mode}: the batch is rejected");
        match judgement.faults()[0].fault.clone() {
            Fault::Invalid(problem) => assert!(problem.contains(expected), "{mode}: {problem}"),
            other => panic!("{mode}: expected invalid verdicts, got {other:?}"),
        }
    }
}
