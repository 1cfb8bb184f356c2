//! Ticks in the contract's batch layout: symbols interned into one table per
//! batch, ticks as fixed-size records that carry an index into it.
//!
//! The layout is the reason the chain is fast (see `batch` in
//! `wit/filter.wit`): a symbol crosses into a plugin once per batch, not once
//! per tick. [`BatchBuilder`] keeps its buffers between batches, so that a
//! warm chain allocates nothing to build one.

use rustc_hash::FxHashMap;

use crate::plugin::bindings;
use crate::tick::Tick;

/// Builds contract batches from validated ticks, reusing its buffers.
#[derive(Debug)]
pub struct BatchBuilder {
    batch: bindings::Batch,
    ids: FxHashMap<String, u32>,
}

impl Default for BatchBuilder {
    fn default() -> Self {
        BatchBuilder {
            batch: bindings::Batch {
                symbols: Vec::new(),
                ticks: Vec::new(),
            },
            ids: FxHashMap::default(),
        }
    }
}

impl BatchBuilder {
    /// The batch of `ticks`, in their order, with a symbol table listing each
    /// distinct symbol once, in order of first appearance.
    pub fn build(&mut self, ticks: &[Tick]) -> &mut bindings::Batch {
        self.batch.symbols.clear();
        self.batch.ticks.clear();
        self.ids.clear();

        for tick in ticks {
            let symbol = match self.ids.get(tick.symbol.as_str()) {
                Some(&id) => id,
                None => {
                    let id = self.batch.symbols.len() as u32;
                    self.batch.symbols.push(tick.symbol.clone());
                    self.ids.insert(tick.symbol.clone(), id);
                    id
                }
            };
            self.batch.ticks.push(bindings::Tick {
                symbol,
                ts: tick.ts,
                price: tick.price,
                volume: tick.volume,
            });
        }
        &mut self.batch
    }
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
    fn symbols_are_interned_in_order_of_first_appearance() {
        let mut builder = BatchBuilder::default();

        let batch = builder.build(&[tick("MSFT", 1), tick("GOOG", 2), tick("MSFT", 3)]);

        assert_eq!(batch.symbols, ["MSFT", "GOOG"]);
        let ids: Vec<u32> = batch.ticks.iter().map(|t| t.symbol).collect();
        assert_eq!(ids, [0, 1, 0]);
        assert_eq!(batch.ticks[2].ts, 3);
    }

    #[test]
    fn a_rebuilt_batch_forgets_the_previous_one() {
        let mut builder = BatchBuilder::default();
        builder.build(&[tick("MSFT", 1), tick("GOOG", 2)]);

        let batch = builder.build(&[tick("GOOG", 5)]);

        assert_eq!(batch.symbols, ["GOOG"]);
        assert_eq!(batch.ticks.len(), 1);
        assert_eq!(batch.ticks[0].symbol, 0);
    }
}
