//! A batch as a rule sees it, read tick by tick, and batches built for tests
//! and tools.
//!
//! The host sends a batch as columns (see `batch` in the WIT), one list per
//! field, because lists of plain numbers cross the component boundary in
//! one copy; and it sends each symbol's name once per instance, so ticks
//! carry ids into the instance's [`SymbolTable`]. [`Instance`] keeps that
//! table and hands the rule a [`Batch`]: the columns of the ticks with the
//! table their ids index. Rules read more naturally one tick at a time, so
//! [`Batch::ticks`] zips the columns back into [`Tick`]s; the zip compiles
//! to the same loop as indexing the columns by hand.
//!
//! [`Instance`]: crate::Instance

use rustc_hash::FxHashMap;

use crate::{SymbolId, SymbolTable};

/// A batch as a rule sees it: the ticks, one column per field, and the
/// symbol table that their symbol ids index.
///
/// [`Instance`](crate::Instance) has checked what a rule indexes by: the
/// columns have one length and every id is in the table.
#[derive(Debug, Clone, Copy)]
pub struct Batch<'a> {
    /// Every symbol the instance has been sent, by id; it only grows, and
    /// an id names the same symbol for the instance's whole life.
    pub symbols: &'a SymbolTable,
    /// Each tick's symbol, as an id in `symbols`.
    pub symbol: &'a [SymbolId],
    /// Each tick's event time, in milliseconds since the Unix epoch (UTC).
    pub ts: &'a [i64],
    /// Each tick's last traded price; finite and above zero.
    pub price: &'a [f64],
    /// Each tick's traded volume.
    pub volume: &'a [u64],
}

/// One tick of a batch, read across its columns.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tick {
    /// The tick's index in the batch, which its verdict names.
    pub index: u32,
    /// The tick's symbol, as an id in the batch's symbol table.
    pub symbol: SymbolId,
    /// Event time, in milliseconds since the Unix epoch (UTC).
    pub ts: i64,
    /// Last traded price; finite and above zero.
    pub price: f64,
    /// Traded volume.
    pub volume: u64,
}

impl Batch<'_> {
    /// The number of ticks, the length of every column.
    #[inline]
    pub fn len(&self) -> usize {
        self.symbol.len()
    }

    /// Whether the batch has no ticks.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.symbol.is_empty()
    }

    /// The ticks in batch order, each with its index.
    ///
    /// Were the columns of different lengths, this would yield as many
    /// ticks as the shortest has; [`Instance`](crate::Instance) refuses
    /// such a batch before a rule sees it.
    #[inline]
    pub fn ticks(&self) -> impl ExactSizeIterator<Item = Tick> + '_ {
        // Lists crossing the component boundary have u32 lengths, so an
        // index always fits.
        let indexes = 0..self.symbol.len() as u32;
        let columns = self.symbol.iter().zip(self.ts).zip(self.price);
        indexes
            .zip(columns.zip(self.volume))
            .map(|(index, (((&symbol, &ts), &price), &volume))| Tick {
                index,
                symbol,
                ts,
                price,
                volume,
            })
    }
}

/// Builds batches the way a host sends them to one instance, for tests and
/// tools that drive a rule directly: symbols get ids in order of first
/// appearance, and keep them from batch to batch.
#[derive(Debug, Default)]
pub struct BatchBuilder {
    symbols: SymbolTable,
    ids: FxHashMap<String, SymbolId>,
    symbol: Vec<SymbolId>,
    ts: Vec<i64>,
    price: Vec<f64>,
    volume: Vec<u64>,
}

impl BatchBuilder {
    /// A builder with no symbols and no ticks.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends a tick to the batch being built; a symbol not seen before
    /// gets the next id.
    pub fn push(&mut self, symbol: &str, ts: i64, price: f64, volume: u64) {
        let id = match self.ids.get(symbol) {
            Some(&id) => id,
            None => {
                let id = self.symbols.push(symbol.to_string());
                self.ids.insert(symbol.to_string(), id);
                id
            }
        };
        self.symbol.push(id);
        self.ts.push(ts);
        self.price.push(price);
        self.volume.push(volume);
    }

    /// The batch built so far.
    pub fn batch(&self) -> Batch<'_> {
        Batch {
            symbols: &self.symbols,
            symbol: &self.symbol,
            ts: &self.ts,
            price: &self.price,
            volume: &self.volume,
        }
    }

    /// Forgets the ticks, to build the next batch; the symbols keep their
    /// ids.
    pub fn clear(&mut self) {
        self.symbol.clear();
        self.ts.clear();
        self.price.clear();
        self.volume.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pushed_ticks_come_back_in_order_with_their_symbol_ids() {
        let mut builder = BatchBuilder::new();
        builder.push("MSFT", 1, 10.0, 100);
        builder.push("GOOG", 2, 20.0, 200);
        builder.push("MSFT", 3, 30.0, 300);

        let batch = builder.batch();
        let ticks: Vec<Tick> = batch.ticks().collect();

        assert_eq!(batch.symbols.names(), ["MSFT", "GOOG"]);
        assert_eq!(batch.len(), 3);
        assert_eq!(
            ticks[2],
            Tick {
                index: 2,
                symbol: 0,
                ts: 3,
                price: 30.0,
                volume: 300,
            }
        );
        assert_eq!(
            ticks.iter().map(|t| t.symbol).collect::<Vec<_>>(),
            [0, 1, 0]
        );
    }

    #[test]
    fn symbols_keep_their_ids_in_the_next_batch() {
        let mut builder = BatchBuilder::new();
        builder.push("MSFT", 1, 10.0, 100);
        builder.clear();

        builder.push("GOOG", 2, 20.0, 200);
        builder.push("MSFT", 3, 30.0, 300);

        assert_eq!(builder.batch().symbol, [1, 0]);
        assert_eq!(builder.batch().ts, [2, 3]);
        assert_eq!(builder.batch().symbols.names(), ["MSFT", "GOOG"]);
    }

    #[test]
    fn an_empty_batch_has_no_ticks() {
        let builder = BatchBuilder::new();

        assert!(builder.batch().is_empty());
        assert_eq!(builder.batch().ticks().len(), 0);
    }
}
