//! What the chain decided about each tick of a batch, and the checks that a
//! plugin's verdicts must pass before the chain believes them.
//!
//! A plugin answers with sparse verdicts (see `verdicts` in the WIT) that
//! index its own sub-batch; [`Judgement`] is the chain's answer for the
//! whole batch, indexed by the position of the tick in the input.

use crate::chain::ChainError;
use crate::plugin::bindings::{Drops, Verdicts};

/// The longest drop reason kept, in bytes. A reason is a line for a person;
/// a plugin that returns more is cut here, so that one output record stays
/// small whatever the plugin does.
pub const MAX_REASON_BYTES: usize = 512;

/// The chain's verdict on one tick.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// Every slot kept it.
    Kept,
    /// The slot at this index of the chain dropped it, for this reason;
    /// later slots never saw it.
    Dropped { slot: usize, reason: String },
}

/// A value a slot attached to a kept tick.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Annotated {
    /// The tick's index in the batch.
    pub tick: u32,
    /// The slot that attached it.
    pub slot: usize,
    /// The annotation's index in the plugin's declared annotation names.
    pub key: u32,
    pub value: f64,
}

/// The chain's verdicts on one batch: one per tick, and the annotations
/// gathered on the way, ordered by tick and, for one tick, by slot.
#[derive(Debug, Default)]
pub struct Judgement {
    pub(crate) verdicts: Vec<Verdict>,
    pub(crate) annotations: Vec<Annotated>,
    pub(crate) faults: Vec<ChainError>,
}

impl Judgement {
    /// One verdict per tick of the batch, in input order.
    pub fn verdicts(&self) -> &[Verdict] {
        &self.verdicts
    }

    /// Every annotation of the batch, by tick then slot.
    pub fn annotations(&self) -> &[Annotated] {
        &self.annotations
    }

    /// The annotations of the tick at `index`, in slot order.
    pub fn annotations_of(&self, index: u32) -> &[Annotated] {
        let start = self.annotations.partition_point(|a| a.tick < index);
        let end = start + self.annotations[start..].partition_point(|a| a.tick == index);
        &self.annotations[start..end]
    }

    /// The plugin faults that were contained while judging the batch
    /// (their slots' policies say what became of the ticks).
    pub fn faults(&self) -> &[ChainError] {
        &self.faults
    }

    /// How many ticks were kept.
    pub fn kept(&self) -> usize {
        self.verdicts
            .iter()
            .filter(|v| matches!(v, Verdict::Kept))
            .count()
    }

    pub(crate) fn reset(&mut self, ticks: usize) {
        self.verdicts.clear();
        self.verdicts.resize(ticks, Verdict::Kept);
        self.annotations.clear();
        self.faults.clear();
    }
}

/// Checks a plugin's verdicts on a batch of `ticks` ticks against the
/// contract: dropped indexes in range and strictly ascending, one reason
/// for each, annotation columns of one length, annotations on ticks that
/// exist and were kept, with keys the plugin declared.
pub fn check(verdicts: &Verdicts, ticks: usize, keys: usize) -> Result<(), String> {
    let drops = &verdicts.dropped;
    let mut previous: Option<u32> = None;
    for &index in &drops.index {
        if index as usize >= ticks {
            return Err(format!("dropped tick {index} of a batch of {ticks}"));
        }
        if let Some(previous) = previous.filter(|&p| p >= index) {
            return Err(format!(
                "dropped indexes are not strictly ascending ({index} after {previous})"
            ));
        }
        previous = Some(index);
    }
    check_reasons(drops)?;

    let annotations = &verdicts.annotations;
    let count = annotations.index.len();
    if [annotations.key.len(), annotations.value.len()] != [count; 2] {
        return Err(format!(
            "annotation columns differ in length: {count} indexes, {} keys, {} values",
            annotations.key.len(),
            annotations.value.len()
        ));
    }
    for (&index, &key) in annotations.index.iter().zip(&annotations.key) {
        if index as usize >= ticks {
            return Err(format!("annotated tick {index} of a batch of {ticks}"));
        }
        if key as usize >= keys {
            return Err(format!(
                "annotation key {key} is not one of the {keys} it declared"
            ));
        }
        // Most batches drop nothing, and then there is nothing to search.
        let on_dropped = !drops.index.is_empty() && drops.index.binary_search(&index).is_ok();
        if on_dropped {
            return Err(format!("annotated tick {index}, which it dropped"));
        }
    }
    Ok(())
}

/// Checks that the reasons of `drops` cut `drops.reasons` into one piece
/// per dropped tick, on character boundaries.
fn check_reasons(drops: &Drops) -> Result<(), String> {
    let (ticks, ends) = (drops.index.len(), drops.reason_ends.len());
    if ends != ticks {
        return Err(format!("{ticks} dropped ticks but {ends} reason ends"));
    }
    let mut start = 0;
    for &end in &drops.reason_ends {
        let end = end as usize;
        if end < start || !drops.reasons.is_char_boundary(end) {
            return Err(format!(
                "a reason ends at byte {end}, which is not a character boundary after {start} \
                 in reasons of {} bytes",
                drops.reasons.len()
            ));
        }
        start = end;
    }
    Ok(())
}

/// Each dropped tick's index with its reason, from verdicts that passed
/// [`check`].
pub fn reasons(drops: &Drops) -> impl Iterator<Item = (u32, &str)> {
    let starts = std::iter::once(0).chain(drops.reason_ends.iter().copied());
    let ranges = starts.zip(&drops.reason_ends);
    let reasons = ranges.map(|(start, &end)| &drops.reasons[start as usize..end as usize]);
    drops.index.iter().copied().zip(reasons)
}

/// The reason as a verdict keeps it: cut to [`MAX_REASON_BYTES`], on a
/// character boundary, the cut marked with an ellipsis.
pub fn cap_reason(reason: &str) -> String {
    if reason.len() <= MAX_REASON_BYTES {
        return reason.to_string();
    }
    let mut end = MAX_REASON_BYTES - '…'.len_utf8();
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &reason[..end])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugin::bindings::Annotations;

    fn verdicts(dropped: &[u32], annotations: &[(u32, u32)]) -> Verdicts {
        Verdicts {
            dropped: Drops {
                index: dropped.to_vec(),
                reasons: "r".repeat(dropped.len()),
                reason_ends: (1..=dropped.len() as u32).collect(),
            },
            annotations: Annotations {
                index: annotations.iter().map(|&(index, _)| index).collect(),
                key: annotations.iter().map(|&(_, key)| key).collect(),
                value: vec![1.0; annotations.len()],
            },
        }
    }

    #[test]
    fn well_formed_verdicts_pass() {
        assert_eq!(check(&verdicts(&[0, 2], &[(1, 0), (3, 1)]), 4, 2), Ok(()));
        assert_eq!(check(&verdicts(&[], &[]), 0, 0), Ok(()));
    }

    #[test]
    fn each_broken_promise_is_named() {
        let cases = [
            (verdicts(&[4], &[]), "dropped tick 4 of a batch of 4"),
            (verdicts(&[2, 1], &[]), "not strictly ascending (1 after 2)"),
            (verdicts(&[1, 1], &[]), "not strictly ascending (1 after 1)"),
            (verdicts(&[], &[(9, 0)]), "annotated tick 9 of a batch of 4"),
            (
                verdicts(&[], &[(0, 2)]),
                "key 2 is not one of the 2 it declared",
            ),
            (
                verdicts(&[3], &[(3, 0)]),
                "annotated tick 3, which it dropped",
            ),
        ];
        for (v, expected) in cases {
            let err = check(&v, 4, 2).unwrap_err();
            assert!(err.contains(expected), "got {err:?}, expected {expected:?}");
        }

        let mut unexplained = verdicts(&[0, 1], &[]);
        unexplained.dropped.reason_ends.pop();
        assert_eq!(
            check(&unexplained, 4, 2),
            Err("2 dropped ticks but 1 reason ends".into())
        );

        let mut ragged = verdicts(&[], &[(0, 0), (1, 0)]);
        ragged.annotations.value.pop();
        assert_eq!(
            check(&ragged, 4, 2),
            Err("annotation columns differ in length: 2 indexes, 2 keys, 1 values".into())
        );
    }

    #[test]
    fn reasons_are_cut_out_at_their_ends() {
        let drops = Drops {
            index: vec![1, 4, 6],
            reasons: "too lowé".into(),
            reason_ends: vec![3, 3, 9],
        };
        let verdicts = Verdicts {
            dropped: drops,
            ..verdicts(&[], &[])
        };

        assert_eq!(check(&verdicts, 8, 0), Ok(()));
        assert_eq!(
            reasons(&verdicts.dropped).collect::<Vec<_>>(),
            [(1, "too"), (4, ""), (6, " lowé")]
        );
    }

    #[test]
    fn reason_ends_that_cut_badly_are_refused() {
        for (ends, at) in [(vec![7, 3], 3), (vec![2, 8], 8), (vec![3, 10], 10)] {
            let mut verdicts = verdicts(&[0, 1], &[]);
            verdicts.dropped.reasons = "too lowé".into();
            verdicts.dropped.reason_ends = ends;

            let err = check(&verdicts, 4, 0).unwrap_err();

            assert!(
                err.starts_with(&format!("a reason ends at byte {at},")),
                "{err}"
            );
        }
    }

    #[test]
    fn long_reasons_are_cut_on_a_character_boundary() {
        let reason = "é".repeat(MAX_REASON_BYTES);

        let cut = cap_reason(&reason);

        assert!(cut.len() <= MAX_REASON_BYTES);
        assert!(cut.ends_with('…'));
        assert_eq!(cap_reason("short"), "short");
    }

    #[test]
    fn annotations_of_a_tick_are_found_by_index() {
        let at = |tick, slot| Annotated {
            tick,
            slot,
            key: 0,
            value: 0.0,
        };
        let judgement = Judgement {
            verdicts: vec![Verdict::Kept; 4],
            annotations: vec![at(0, 1), at(2, 0), at(2, 1), at(3, 0)],
            faults: Vec::new(),
        };

        assert_eq!(judgement.annotations_of(2), &[at(2, 0), at(2, 1)]);
        assert_eq!(judgement.annotations_of(1), &[]);
        assert_eq!(judgement.annotations_of(3).len(), 1);
    }
}
