//! Per-symbol state, resolved once per batch.
//!
//! A batch interns its symbols (see `batch` in the WIT): ticks carry an id
//! into the batch's symbol table, and ids mean nothing outside their batch.
//! [`SymbolStates::resolve`] looks each symbol of the table up once, which
//! turns every tick's state lookup into two array indexes instead of a hash
//! of its symbol.

use std::collections::BTreeMap;

use rustc_hash::FxHashMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::SymbolId;

/// One state per symbol ever seen, found by name once per batch.
///
/// A state is created, with `S::default()`, the first time a symbol appears
/// in a batch's symbol table, and is kept for as long as the table lives:
/// the number of states is the number of distinct symbols seen, which for
/// market data is bounded by the instruments traded. States are never
/// dropped, because a quiet symbol's state (its newest timestamp) still
/// decides its next tick.
///
/// It serializes as a map from symbol to state, in symbol order, so that the
/// same state always gives the same snapshot bytes.
#[derive(Debug, Clone)]
pub struct SymbolStates<S> {
    /// Where each symbol's state is in `states`.
    slots: FxHashMap<String, usize>,
    states: Vec<S>,
    /// For the batch being judged: the slot of each symbol id. Kept between
    /// batches so that resolving does not allocate once warm.
    batch_slots: Vec<usize>,
}

impl<S> SymbolStates<S> {
    /// A table with no symbols.
    pub fn new() -> Self {
        Self {
            slots: FxHashMap::default(),
            states: Vec::new(),
            batch_slots: Vec::new(),
        }
    }

    /// The number of symbols with a state.
    pub fn len(&self) -> usize {
        self.states.len()
    }

    /// Whether no symbol has a state yet.
    pub fn is_empty(&self) -> bool {
        self.states.is_empty()
    }

    /// The state of `symbol`, if it has one.
    pub fn get(&self, symbol: &str) -> Option<&S> {
        self.slots.get(symbol).map(|&slot| &self.states[slot])
    }

    /// Every symbol and its state, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &S)> {
        self.slots
            .iter()
            .map(|(symbol, &slot)| (symbol.as_str(), &self.states[slot]))
    }
}

impl<S: Default> SymbolStates<S> {
    /// Resolves a batch's symbol table to states, creating those not seen
    /// before; the result indexes them by the batch's symbol ids.
    pub fn resolve(&mut self, symbols: &[String]) -> BatchStates<'_, S> {
        self.batch_slots.clear();
        for symbol in symbols {
            let slot = match self.slots.get(symbol.as_str()) {
                Some(&slot) => slot,
                None => {
                    let slot = self.states.len();
                    self.states.push(S::default());
                    self.slots.insert(symbol.clone(), slot);
                    slot
                }
            };
            self.batch_slots.push(slot);
        }
        BatchStates {
            slots: &self.batch_slots,
            states: &mut self.states,
        }
    }
}

impl<S> Default for SymbolStates<S> {
    fn default() -> Self {
        Self::new()
    }
}

impl<S> FromIterator<(String, S)> for SymbolStates<S> {
    /// A table with the given states; a symbol given twice keeps its last.
    fn from_iter<I: IntoIterator<Item = (String, S)>>(states: I) -> Self {
        let mut table = Self::new();
        for (symbol, state) in states {
            match table.slots.get(symbol.as_str()) {
                Some(&slot) => table.states[slot] = state,
                None => {
                    table.slots.insert(symbol, table.states.len());
                    table.states.push(state);
                }
            }
        }
        table
    }
}

impl<S: Serialize> Serialize for SymbolStates<S> {
    fn serialize<Z: Serializer>(&self, serializer: Z) -> Result<Z::Ok, Z::Error> {
        let mut by_symbol: Vec<(&str, &S)> = self.iter().collect();
        by_symbol.sort_unstable_by_key(|&(symbol, _)| symbol);
        serializer.collect_map(by_symbol)
    }
}

impl<'de, S: Deserialize<'de>> Deserialize<'de> for SymbolStates<S> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let by_symbol = BTreeMap::<String, S>::deserialize(deserializer)?;
        Ok(by_symbol.into_iter().collect())
    }
}

/// The states of one batch's symbols, indexed by the batch's symbol ids.
#[derive(Debug)]
pub struct BatchStates<'a, S> {
    slots: &'a [usize],
    states: &'a mut [S],
}

impl<S> BatchStates<'_, S> {
    /// The state of the symbol with this id in the batch.
    ///
    /// # Panics
    ///
    /// If `symbol` is not an id in the batch's symbol table, which the host
    /// promises (and [`Instance`](crate::Instance) checks) it is.
    #[inline]
    pub fn get(&mut self, symbol: SymbolId) -> &mut S {
        &mut self.states[self.slots[symbol as usize]]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn symbols(names: &[&str]) -> Vec<String> {
        names.iter().map(|name| name.to_string()).collect()
    }

    #[test]
    fn ids_resolve_to_the_same_state_across_batches() {
        let mut table = SymbolStates::<u32>::new();

        let mut first = table.resolve(&symbols(&["AAPL", "MSFT"]));
        *first.get(0) += 1;
        *first.get(1) += 10;
        *first.get(0) += 1;

        // The next batch lists the symbols the other way round, plus a new one.
        let mut second = table.resolve(&symbols(&["MSFT", "IBM", "AAPL"]));
        *second.get(0) += 10;
        *second.get(2) += 1;

        assert_eq!(table.get("AAPL"), Some(&3));
        assert_eq!(table.get("MSFT"), Some(&20));
        assert_eq!(table.get("IBM"), Some(&0));
        assert_eq!(table.get("TSLA"), None);
        assert_eq!(table.len(), 3);
    }

    #[test]
    fn it_serializes_in_symbol_order_and_back() {
        let mut table = SymbolStates::<u32>::new();
        let mut batch = table.resolve(&symbols(&["MSFT", "AAPL"]));
        *batch.get(0) = 2;
        *batch.get(1) = 1;

        let json = serde_json::to_string(&table).unwrap();
        let back: SymbolStates<u32> = serde_json::from_str(&json).unwrap();

        assert_eq!(json, r#"{"AAPL":1,"MSFT":2}"#);
        assert_eq!(back.get("AAPL"), Some(&1));
        assert_eq!(back.get("MSFT"), Some(&2));
        assert_eq!(back.len(), 2);
    }

    #[test]
    fn a_restored_table_resolves_its_symbols() {
        let mut table: SymbolStates<u32> = [("AAPL".to_string(), 5)].into_iter().collect();

        let mut batch = table.resolve(&symbols(&["IBM", "AAPL"]));

        assert_eq!(*batch.get(1), 5);
        assert_eq!(*batch.get(0), 0);
    }
}
