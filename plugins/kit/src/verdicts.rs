//! Verdicts as a rule writes them: one call per dropped tick and per
//! annotation, whatever the layout the contract sends them back in.
//!
//! The contract returns verdicts as columns (see `drops` and `annotations`
//! in the WIT), because the host copies lists of numbers, and one string,
//! out of a plugin far faster than lists of records and of strings.
//! [`Verdicts::drop_tick`] and [`Verdicts::annotate`] keep that layout out
//! of the rules, and a reason is formatted straight into the one string of
//! reasons, so dropping a tick allocates nothing of its own.

use std::fmt::{self, Write as _};

use crate::{Annotations, Drops, Verdicts};

impl Verdicts {
    /// Verdicts that keep every tick and annotate none.
    pub fn new() -> Self {
        Self::with_annotations(0)
    }

    /// Verdicts with room for `annotations` annotations, for a rule that
    /// annotates most ticks.
    pub fn with_annotations(annotations: usize) -> Self {
        Self {
            dropped: Drops {
                index: Vec::new(),
                reasons: String::new(),
                reason_ends: Vec::new(),
            },
            annotations: Annotations {
                index: Vec::with_capacity(annotations),
                key: Vec::with_capacity(annotations),
                value: Vec::with_capacity(annotations),
            },
        }
    }

    /// Drops the tick at `index`, for `reason`, which is formatted into the
    /// reasons here. Ticks must be dropped in ascending index order, each
    /// once.
    ///
    /// # Panics
    ///
    /// If the reasons of one batch grow past 4 GiB, which the contract's
    /// 32-bit offsets cannot address and a plugin's memory cannot hold.
    pub fn drop_tick(&mut self, index: u32, reason: impl fmt::Display) {
        let drops = &mut self.dropped;
        write!(drops.reasons, "{reason}").expect("a String takes any text");
        let end = u32::try_from(drops.reasons.len()).expect("reasons stay under 4 GiB");
        drops.index.push(index);
        drops.reason_ends.push(end);
    }

    /// Attaches `value` under `key` (an index into the plugin's declared
    /// annotation names) to the tick at `index`, which must be kept.
    #[inline]
    pub fn annotate(&mut self, index: u32, key: u32, value: f64) {
        self.annotations.index.push(index);
        self.annotations.key.push(key);
        self.annotations.value.push(value);
    }
}

impl Default for Verdicts {
    fn default() -> Self {
        Self::new()
    }
}

impl Drops {
    /// The number of dropped ticks.
    pub fn len(&self) -> usize {
        self.index.len()
    }

    /// Whether no tick is dropped.
    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    /// Each dropped tick as (tick index, reason), in index order.
    ///
    /// # Panics
    ///
    /// If the reason ends do not cut the reasons on character boundaries,
    /// which [`Verdicts::drop_tick`] never does.
    pub fn iter(&self) -> impl Iterator<Item = (u32, &str)> + '_ {
        let starts = std::iter::once(0).chain(self.reason_ends.iter().copied());
        let ranges = starts.zip(&self.reason_ends);
        let reasons = ranges.map(|(start, &end)| &self.reasons[start as usize..end as usize]);
        self.index.iter().copied().zip(reasons)
    }
}

impl Annotations {
    /// The number of annotations.
    pub fn len(&self) -> usize {
        self.index.len()
    }

    /// Whether there are no annotations.
    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    /// Each annotation as (tick index, key, value), in the order they were
    /// attached.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (u32, u32, f64)> + '_ {
        let columns = self.key.iter().zip(&self.value);
        self.index
            .iter()
            .zip(columns)
            .map(|(&index, (&key, &value))| (index, key, value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drops_and_annotations_are_kept_in_the_order_given() {
        let mut verdicts = Verdicts::with_annotations(2);

        verdicts.drop_tick(1, "too high");
        verdicts.drop_tick(3, format_args!("volume {} below {}", 5, 10));
        verdicts.annotate(0, 0, 1.5);
        verdicts.annotate(2, 1, 2.5);

        assert_eq!(
            verdicts.dropped.iter().collect::<Vec<_>>(),
            [(1, "too high"), (3, "volume 5 below 10")]
        );
        assert_eq!(verdicts.dropped.reasons, "too highvolume 5 below 10");
        assert_eq!(
            verdicts.annotations.iter().collect::<Vec<_>>(),
            [(0, 0, 1.5), (2, 1, 2.5)]
        );
        assert_eq!(verdicts.annotations.len(), 2);
        assert!(Verdicts::new().annotations.is_empty());
        assert!(Verdicts::new().dropped.is_empty());
    }
}
