//! The sandbox and the fault policies: every kind of misbehaving plugin is
//! contained with every tick accounted for, each policy does what it says,
//! the circuit opens and closes, and a faulted instance comes back with its
//! last good state.

use tickhost::circuit::CircuitState;
use tickhost::plugin::Fault;
use tickhost::tick::Tick;
use tickhost::verdict::Verdict;

use crate::support::{configured_chain, symbol_tick};

fn batch(start: i64, len: i64) -> Vec<Tick> {
    (start..start + len)
        .map(|m| symbol_tick(["GOOG", "MSFT"][(m % 2) as usize], m, 100.0, 2_000_000))
        .collect()
}

#[test]
fn every_kind_of_fault_is_contained_and_the_chain_serves_on() {
    // A short deadline keeps the endless loop short; the memory cap is the
    // default's order of magnitude.
    let preamble = "[sandbox]\ndeadline = \"50ms\"\nmemory-mib = 32";
    let modes = [
        ("loop", "exceeded its deadline"),
        ("trap", "trapped"),
        ("panic", "trapped"),
        ("grow-memory", "exceeded its memory limit"),
        ("wrong-index", "returned invalid verdicts"),
        ("unsorted", "returned invalid verdicts"),
        ("bad-key", "returned invalid verdicts"),
        ("error", "returned an error"),
    ];
    for (mode, expected) in modes {
        let mut chain = configured_chain(
            preamble,
            &[
                ("threshold", "", "min-volume = 1"),
                ("misbehave", "", &format!("mode = \"{mode}\"\nafter = 1")),
            ],
        );
        assert_eq!(chain.process(&batch(0, 8)).unwrap().kept(), 8, "{mode}");

        let judgement = chain.process(&batch(8, 8)).expect("contained");

        assert_eq!(
            judgement.verdicts().len(),
            8,
            "{mode}: every tick has a verdict"
        );
        assert_eq!(judgement.faults().len(), 1, "{mode}");
        let fault = judgement.faults()[0].to_string();
        assert!(fault.contains(expected), "{mode}: {fault}");
        for verdict in judgement.verdicts() {
            match verdict {
                Verdict::Dropped { slot: 1, reason } => {
                    assert!(reason.starts_with("plugin fault: "), "{mode}: {reason}")
                }
                other => panic!("{mode}: expected the fault as the verdict, got {other:?}"),
            }
        }
        // The instance is rebuilt and serves the next batch.
        let next = chain.process(&batch(16, 8)).expect("serving");
        assert!(next.faults().is_empty(), "{mode}: {:?}", next.faults());
        assert_eq!(next.kept(), 8, "{mode}");
    }
}

#[test]
fn a_huge_output_is_cut_to_size_not_taken_whole() {
    let mut chain = configured_chain(
        "",
        &[("misbehave", "", "mode = \"huge-output\"\nbytes = 4_000_000")],
    );

    let judgement = chain.process(&batch(0, 4)).expect("contained");

    match &judgement.verdicts()[0] {
        Verdict::Dropped { reason, .. } => assert!(reason.len() <= 512, "{}", reason.len()),
        other => panic!("expected a drop, got {other:?}"),
    }
    assert_eq!(judgement.kept(), 3);
}

#[test]
fn skip_bypasses_the_faulting_slot_for_that_batch() {
    let mut chain = configured_chain(
        "",
        &[
            ("misbehave", "on-fault = \"skip\"", "mode = \"trap\""),
            ("threshold", "", "min-volume = 1_000_000"),
        ],
    );
    let mut ticks = batch(0, 6);
    ticks[2].volume = 10;

    let judgement = chain.process(&ticks).expect("contained");

    assert_eq!(judgement.faults().len(), 1);
    // Judged as if the faulting slot had kept every tick.
    assert_eq!(judgement.kept(), 5);
    assert!(matches!(
        judgement.verdicts()[2],
        Verdict::Dropped { slot: 1, .. }
    ));
}

#[test]
fn halt_stops_the_batch_with_the_fault() {
    let mut chain = configured_chain(
        "",
        &[("misbehave", "on-fault = \"halt\"", "mode = \"trap\"")],
    );

    let err = chain.process(&batch(0, 3)).unwrap_err();

    assert_eq!(err.slot, "misbehave");
    assert!(matches!(err.fault, Fault::Trap(_)), "{err}");
}

#[test]
fn repeated_faults_open_the_circuit_and_the_slot_is_bypassed() {
    let keys = "circuit = { faults = 2, window = \"1m\", open-for = \"1h\" }";
    let mut dead_letter = configured_chain(
        "",
        &[
            ("misbehave", keys, "mode = \"trap\""),
            ("threshold", "", ""),
        ],
    );
    let mut skip = configured_chain(
        "",
        &[
            (
                "misbehave",
                &format!("on-fault = \"skip\"\n{keys}"),
                "mode = \"trap\"",
            ),
            ("threshold", "", "min-volume = 0"),
        ],
    );

    for n in 0..5 {
        let faults = dead_letter
            .process(&batch(n * 4, 4))
            .unwrap()
            .faults()
            .len();
        assert_eq!(faults, usize::from(n < 2), "batch {n}");
        skip.process(&batch(n * 4, 4)).unwrap();
    }

    let slot = &dead_letter.slots()[0];
    assert_eq!(slot.stats().faults, 2);
    assert_eq!(slot.stats().bypassed, 3);
    assert!(matches!(slot.circuit(), CircuitState::Open { .. }));
    match &dead_letter.judgement().verdicts()[0] {
        Verdict::Dropped { slot: 0, reason } => {
            assert!(reason.contains("circuit is open"), "{reason}")
        }
        other => panic!("expected the open circuit as the reason, got {other:?}"),
    }
    // With `skip`, an open circuit passes the ticks on to the next slot.
    assert_eq!(skip.slots()[0].stats().bypassed, 3);
    assert_eq!(skip.judgement().kept(), 4);
}

#[test]
fn an_open_circuit_is_retried_after_its_period_and_closes_on_success() {
    // `after = 2`: every new instance behaves for two batches, then traps.
    let keys = "circuit = { faults = 1, window = \"1m\", open-for = \"300ms\" }";
    let mut chain = configured_chain("", &[("misbehave", keys, "mode = \"trap\"\nafter = 2")]);
    for n in 0..2 {
        assert!(chain.process(&batch(n * 4, 4)).unwrap().faults().is_empty());
    }
    assert_eq!(chain.process(&batch(8, 4)).unwrap().faults().len(), 1);
    assert!(matches!(
        chain.slots()[0].circuit(),
        CircuitState::Open { .. }
    ));
    assert_eq!(chain.process(&batch(12, 4)).unwrap().kept(), 0, "bypassed");

    std::thread::sleep(std::time::Duration::from_millis(350));
    let retried = chain.process(&batch(16, 4)).unwrap();

    assert_eq!(retried.kept(), 4, "the rebuilt instance judged it");
    assert_eq!(chain.slots()[0].circuit(), CircuitState::Closed);
}

#[test]
fn a_faulted_instance_comes_back_with_its_last_good_state() {
    // The running count `seen` is misbehave's state; the chain snapshots it
    // (as at a checkpoint) after two batches of 5, then the instance traps
    // on its fourth batch.
    let mut chain = configured_chain(
        "[sandbox]\nsnapshot-interval = \"1h\"",
        &[("misbehave", "", "mode = \"trap\"\nafter = 3")],
    );
    let seen = |chain: &tickhost::chain::Chain| {
        let annotations = chain.judgement().annotations();
        annotations.last().map(|a| a.value)
    };
    chain.process(&batch(0, 5)).unwrap();
    chain.process(&batch(5, 5)).unwrap();
    chain.snapshot().unwrap();
    chain.process(&batch(10, 5)).unwrap();
    assert_eq!(seen(&chain), Some(15.0));

    assert_eq!(chain.process(&batch(15, 5)).unwrap().faults().len(), 1);
    chain.process(&batch(20, 5)).unwrap();

    // Restored to the snapshot's 10, plus this batch's 5: the third batch's
    // ticks were after the last good snapshot.
    assert_eq!(seen(&chain), Some(15.0));
}

#[test]
fn plugin_output_and_slowness_within_the_deadline_are_not_faults() {
    let mut chain = configured_chain(
        "[sandbox]\ndeadline = \"500ms\"",
        &[
            ("misbehave", "", "mode = \"print\""),
            ("threshold", "", "min-volume = 0"),
        ],
    );
    let mut slow = configured_chain(
        "[sandbox]\ndeadline = \"500ms\"",
        &[("misbehave", "", "mode = \"slow\"\nbytes = 20")],
    );

    assert!(chain.process(&batch(0, 3)).unwrap().faults().is_empty());
    assert!(slow.process(&batch(0, 3)).unwrap().faults().is_empty());
}
