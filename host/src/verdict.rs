//! What the chain decided about each tick of a batch, and the checks that a
//! plugin's verdicts must pass before the chain believes them.
//!
//! A plugin answers with sparse verdicts (see `verdicts` in the WIT) that
//! index its own sub-batch; [`Judgement`] is the chain's answer for the
//! whole batch, indexed by the position of the tick in the input.

use crate::plugin::bindings::Verdicts;

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
    }
}

/// Checks a plugin's verdicts on a batch of `ticks` ticks against the
/// contract: dropped indexes in range and strictly ascending, annotations on
/// ticks that exist and were kept, with keys the plugin declared.
pub fn check(verdicts: &Verdicts, ticks: usize, keys: usize) -> Result<(), String> {
    let mut previous: Option<u32> = None;
    for dropped in &verdicts.dropped {
        if dropped.index as usize >= ticks {
            return Err(format!(
                "dropped tick {} of a batch of {ticks}",
                dropped.index
            ));
        }
        if previous.is_some_and(|p| p >= dropped.index) {
            return Err(format!(
                "dropped indexes are not strictly ascending ({} after {})",
                dropped.index,
                previous.unwrap_or_default()
            ));
        }
        previous = Some(dropped.index);
    }

    for annotation in &verdicts.annotations {
        if annotation.index as usize >= ticks {
            return Err(format!(
                "annotated tick {} of a batch of {ticks}",
                annotation.index
            ));
        }
        if annotation.key as usize >= keys {
            return Err(format!(
                "annotation key {} is not one of the {keys} it declared",
                annotation.key
            ));
        }
        let on_dropped = verdicts
            .dropped
            .binary_search_by_key(&annotation.index, |d| d.index)
            .is_ok();
        if on_dropped {
            return Err(format!(
                "annotated tick {}, which it dropped",
                annotation.index
            ));
        }
    }
    Ok(())
}

/// Cuts a reason to [`MAX_REASON_BYTES`], on a character boundary, marking
/// the cut with an ellipsis.
pub fn cap_reason(mut reason: String) -> String {
    if reason.len() > MAX_REASON_BYTES {
        let mut end = MAX_REASON_BYTES - '…'.len_utf8();
        while !reason.is_char_boundary(end) {
            end -= 1;
        }
        reason.truncate(end);
        reason.push('…');
    }
    reason
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugin::bindings::{Annotation, Dropped};

    fn verdicts(dropped: &[u32], annotations: &[(u32, u32)]) -> Verdicts {
        Verdicts {
            dropped: dropped
                .iter()
                .map(|&index| Dropped {
                    index,
                    reason: "r".into(),
                })
                .collect(),
            annotations: annotations
                .iter()
                .map(|&(index, key)| Annotation {
                    index,
                    key,
                    value: 1.0,
                })
                .collect(),
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
    }

    #[test]
    fn long_reasons_are_cut_on_a_character_boundary() {
        let reason = "é".repeat(MAX_REASON_BYTES);

        let cut = cap_reason(reason);

        assert!(cut.len() <= MAX_REASON_BYTES);
        assert!(cut.ends_with('…'));
        assert_eq!(cap_reason("short".into()), "short");
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
        };

        assert_eq!(judgement.annotations_of(2), &[at(2, 0), at(2, 1)]);
        assert_eq!(judgement.annotations_of(1), &[]);
        assert_eq!(judgement.annotations_of(3).len(), 1);
    }
}
