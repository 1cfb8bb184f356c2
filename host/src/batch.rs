//! Ticks in the contract's batch layout: one column per field, and symbols
//! as ids that stay the same for the life of the chain.
//!
//! The layout is the reason the chain is fast (see `batch` and `symbol-id`
//! in `wit/filter.wit`): the columns are lists of plain numbers, which
//! cross into a plugin in one copy each, and a symbol's name crosses into
//! each instance once in the instance's life, not once per batch.
//! [`BatchBuilder`] numbers the symbols for the whole chain, so that every
//! instance that has been sent the names so far shares the same ids, and it
//! keeps its buffers between batches, so that a warm chain allocates
//! nothing to build one.

use std::ops::Range;
use std::sync::Arc;

use rustc_hash::FxHashMap;

use crate::plugin::bindings;
use crate::tick::Tick;

/// Builds contract batches from validated ticks, reusing its buffers, and
/// gives each instance the symbols it has not been sent yet.
#[derive(Debug)]
pub struct BatchBuilder {
    batch: bindings::Batch,
    /// Every symbol seen, by id.
    ///
    /// It holds one entry per distinct symbol, as do the plugins' tables
    /// and per-symbol states, and like them it is bounded by the
    /// instruments of the feed. A name is shared with `ids`, not copied.
    names: Vec<Arc<str>>,
    ids: FxHashMap<Arc<str>, u32>,
    /// The ids whose names `batch.symbols` holds now, so that instances
    /// that need the same names (all of them, usually) share one copy.
    sent: Range<usize>,
}

impl Default for BatchBuilder {
    fn default() -> Self {
        BatchBuilder {
            batch: bindings::Batch {
                symbols: Vec::new(),
                symbol: Vec::new(),
                ts: Vec::new(),
                price: Vec::new(),
                volume: Vec::new(),
            },
            names: Vec::new(),
            ids: FxHashMap::default(),
            sent: 0..0,
        }
    }
}

impl BatchBuilder {
    /// Fills the batch's columns with `ticks`, in their order, giving a
    /// symbol not seen before the next id. [`BatchBuilder::for_instance`]
    /// then gives the batch as one instance must be sent it.
    pub fn build(&mut self, ticks: &[Tick]) {
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

    /// The number of symbols seen so far, which is also the next id.
    pub fn symbols(&self) -> usize {
        self.names.len()
    }

    /// The batch as an instance that has been sent the names of the first
    /// `known` ids must get it: with the names of the ids after those.
    ///
    /// Its columns may be changed (the chain compacts them between slots);
    /// its symbols must be left as they are.
    pub fn for_instance(&mut self, known: usize) -> &mut bindings::Batch {
        let wanted = known..self.names.len();
        if self.sent != wanted {
            let names = self.names[wanted.clone()].iter();
            self.batch.symbols.clear();
            self.batch
                .symbols
                .extend(names.map(|name| name.to_string()));
            self.sent = wanted;
        }
        &mut self.batch
    }
}

/// Removes the values at `dropped` from a column, keeping the order of the
/// rest: how the chain compacts a batch to the ticks a slot kept.
///
/// `dropped` must be strictly ascending and within the column, as
/// [`crate::verdict::check`] makes sure a plugin's drops are. The kept runs
/// between two drops move in one copy each, so the cost follows the number
/// of drops, which is small, rather than the number of ticks.
pub fn remove<T: Copy>(column: &mut Vec<T>, dropped: &[u32]) {
    let Some(&first) = dropped.first() else {
        return;
    };
    let mut kept = first as usize;
    for (at, &index) in dropped.iter().enumerate() {
        let start = index as usize + 1;
        let end = dropped
            .get(at + 1)
            .map_or(column.len(), |&next| next as usize);
        column.copy_within(start..end, kept);
        kept += end - start;
    }
    column.truncate(kept);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tick(symbol: &str, ts: i64) -> Tick {
        Tick {
            symbol: symbol.into(),
            ts,
            price: 1.0,
            volume: 2,
        }
    }

    #[test]
    fn symbols_are_numbered_in_order_of_first_appearance() {
        let mut builder = BatchBuilder::default();

        builder.build(&[tick("MSFT", 1), tick("GOOG", 2), tick("MSFT", 3)]);
        let batch = builder.for_instance(0);

        assert_eq!(batch.symbols, ["MSFT", "GOOG"]);
        assert_eq!(batch.symbol, [0, 1, 0]);
        assert_eq!(batch.ts, [1, 2, 3]);
        assert_eq!(batch.price, [1.0; 3]);
        assert_eq!(batch.volume, [2; 3]);
    }

    #[test]
    fn ids_stay_and_only_new_names_are_sent() {
        let mut builder = BatchBuilder::default();
        builder.build(&[tick("MSFT", 1), tick("GOOG", 2)]);
        builder.for_instance(0);

        builder.build(&[tick("GOOG", 5), tick("IBM", 6)]);

        assert_eq!(builder.symbols(), 3);
        assert_eq!(builder.for_instance(2).symbols, ["IBM"]);
        assert_eq!(builder.for_instance(2).symbol, [1, 2]);
        assert_eq!(builder.for_instance(3).symbols, Vec::<String>::new());
    }

    #[test]
    fn removing_keeps_the_rest_in_order() {
        let cases: [(&[u32], &[u32]); 5] = [
            (&[], &[0, 1, 2, 3, 4, 5]),
            (&[0], &[1, 2, 3, 4, 5]),
            (&[5], &[0, 1, 2, 3, 4]),
            (&[1, 2, 4], &[0, 3, 5]),
            (&[0, 1, 2, 3, 4, 5], &[]),
        ];
        for (dropped, kept) in cases {
            let mut column: Vec<u32> = (0..6).collect();

            remove(&mut column, dropped);

            assert_eq!(column, kept, "dropping {dropped:?}");
        }
    }

    #[test]
    fn a_new_instance_is_sent_every_name() {
        let mut builder = BatchBuilder::default();
        builder.build(&[tick("MSFT", 1)]);
        builder.for_instance(0);
        builder.build(&[tick("GOOG", 2)]);

        let batch = builder.for_instance(0);

        assert_eq!(batch.symbols, ["MSFT", "GOOG"]);
        assert_eq!(batch.symbol, [1]);
    }
}
