//! Symbols by id: the table an instance has been sent, and per-symbol state
//! resolved from it once per symbol.
//!
//! The host sends each symbol's name to an instance once (see `symbol-id`
//! in the WIT), and ticks carry its id, which names the same symbol for the
//! instance's whole life. [`SymbolTable`] is that table. [`SymbolStates`]
//! keeps a rule's state by symbol name, so that a snapshot means the same
//! in any instance, and maps each id to its state the first time the id
//! appears: after that, a tick's state is two array indexes away, with no
//! hashing and nothing to do per batch.

use std::marker::PhantomData;
use std::sync::atomic::{AtomicU64, Ordering};

use rustc_hash::FxHashMap;
use serde::de::{MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::SymbolId;

/// The identity of the next table to get a symbol. 0 is the identity of
/// every empty table.
static NEXT_TABLE: AtomicU64 = AtomicU64::new(1);

/// The symbols an instance has been sent, by id: the first name sent has id
/// 0, the next 1, and so on. It only grows.
///
/// Each table that holds a symbol has an identity of its own, which is how
/// [`SymbolStates`] knows that the ids it has resolved still hold: the same
/// table only ever gains ids, while another table may give the same ids to
/// other symbols. So a table cannot be cloned.
#[derive(Debug, Default)]
pub struct SymbolTable {
    identity: u64,
    names: Vec<String>,
}

impl SymbolTable {
    /// A table with no symbols.
    pub const fn new() -> Self {
        Self {
            identity: 0,
            names: Vec::new(),
        }
    }

    /// Adds a symbol at the next id, and returns the id.
    pub fn push(&mut self, name: String) -> SymbolId {
        if self.identity == 0 {
            self.identity = NEXT_TABLE.fetch_add(1, Ordering::Relaxed);
        }
        self.names.push(name);
        (self.names.len() - 1) as SymbolId
    }

    /// The number of symbols, which is also the next id.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// Whether the table has no symbols.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// The symbol with this id, if there is one.
    pub fn get(&self, id: SymbolId) -> Option<&str> {
        self.names.get(id as usize).map(String::as_str)
    }

    /// Every symbol, by id.
    pub fn names(&self) -> &[String] {
        &self.names
    }
}

/// One state per symbol ever seen, found by name once per symbol id.
///
/// A state is created, with `S::default()`, the first time its symbol's id
/// is resolved, and is kept for as long as the states live: the number of
/// states is the number of distinct symbols seen, which for market data is
/// bounded by the instruments traded. States are never dropped, because a
/// quiet symbol's state (its newest timestamp) still decides its next tick.
///
/// It serializes as a map from symbol to state, in symbol order, so that the
/// same state always gives the same snapshot bytes. Ids are not part of it:
/// states restored from a snapshot resolve the ids of the table they are
/// next used with afresh.
#[derive(Debug, Clone)]
pub struct SymbolStates<S> {
    /// Where each symbol's state is in `states`.
    slots: FxHashMap<String, usize>,
    states: Vec<S>,
    /// The identity of the table that `ids` resolves; 0 for none.
    table: u64,
    /// The slot of each id of that table resolved so far, by id.
    ids: Vec<usize>,
}

impl<S> SymbolStates<S> {
    /// A table with no symbols.
    pub fn new() -> Self {
        Self {
            slots: FxHashMap::default(),
            states: Vec::new(),
            table: 0,
            ids: Vec::new(),
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

    /// Sets the state of `symbol`; a symbol given twice keeps its last.
    fn insert(&mut self, symbol: String, state: S) {
        match self.slots.get(symbol.as_str()) {
            Some(&slot) => self.states[slot] = state,
            None => {
                self.slots.insert(symbol, self.states.len());
                self.states.push(state);
            }
        }
    }

    /// Every symbol and its state, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &S)> {
        self.slots
            .iter()
            .map(|(symbol, &slot)| (symbol.as_str(), &self.states[slot]))
    }

    /// The same symbols, each state converted by `convert`: how a plugin
    /// brings states restored from an earlier layout up to its own.
    pub fn map<T>(&self, mut convert: impl FnMut(&S) -> T) -> SymbolStates<T> {
        self.iter()
            .map(|(symbol, state)| (symbol.to_string(), convert(state)))
            .collect()
    }
}

impl<S: Default> SymbolStates<S> {
    /// The states of the symbols of `table`, by id, creating those not seen
    /// before.
    ///
    /// Only the ids this table has gained since the last call are looked
    /// up; given another table than last time, every id is.
    pub fn resolve(&mut self, table: &SymbolTable) -> BatchStates<'_, S> {
        if table.identity != self.table {
            self.table = table.identity;
            self.ids.clear();
        }
        for symbol in &table.names[self.ids.len()..] {
            let slot = match self.slots.get(symbol.as_str()) {
                Some(&slot) => slot,
                None => {
                    let slot = self.states.len();
                    self.states.push(S::default());
                    self.slots.insert(symbol.clone(), slot);
                    slot
                }
            };
            self.ids.push(slot);
        }
        BatchStates {
            slots: &self.ids,
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
            table.insert(symbol, state);
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
        deserializer.deserialize_map(StatesVisitor(PhantomData))
    }
}

/// Reads a map of symbols to states straight into the table, without a map
/// in between: a swap waits for this.
struct StatesVisitor<S>(PhantomData<S>);

impl<'de, S: Deserialize<'de>> Visitor<'de> for StatesVisitor<S> {
    type Value = SymbolStates<S>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a map of symbols to their states")
    }

    fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Self::Value, M::Error> {
        let mut table = SymbolStates::new();
        let size = map.size_hint().unwrap_or(0).min(1 << 16);
        table.slots.reserve(size);
        table.states.reserve(size);
        while let Some((symbol, state)) = map.next_entry::<String, S>()? {
            table.insert(symbol, state);
        }
        Ok(table)
    }
}

/// The states of a table's symbols, indexed by their ids.
#[derive(Debug)]
pub struct BatchStates<'a, S> {
    slots: &'a [usize],
    states: &'a mut [S],
}

impl<S> BatchStates<'_, S> {
    /// The state of the symbol with this id.
    ///
    /// # Panics
    ///
    /// If `symbol` is not an id in the table, which the host promises (and
    /// [`Instance`](crate::Instance) checks) it is.
    #[inline]
    pub fn get(&mut self, symbol: SymbolId) -> &mut S {
        &mut self.states[self.slots[symbol as usize]]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn map_converts_every_state_and_keeps_the_symbols() {
        let states: SymbolStates<u32> = [("GOOG".to_string(), 2), ("AAPL".to_string(), 3)]
            .into_iter()
            .collect();
        let doubled = states.map(|n| u64::from(*n) * 2);
        let mut found: Vec<(&str, u64)> = doubled.iter().map(|(s, n)| (s, *n)).collect();
        found.sort();
        assert_eq!(found, [("AAPL", 6), ("GOOG", 4)]);
    }

    fn table(names: &[&str]) -> SymbolTable {
        let mut table = SymbolTable::new();
        for name in names {
            table.push(name.to_string());
        }
        table
    }

    #[test]
    fn ids_are_given_in_order_and_only_grow() {
        let mut table = table(&["AAPL", "MSFT"]);

        assert_eq!(table.push("IBM".to_string()), 2);
        assert_eq!(table.get(0), Some("AAPL"));
        assert_eq!(table.get(2), Some("IBM"));
        assert_eq!(table.get(3), None);
        assert_eq!(table.len(), 3);
    }

    #[test]
    fn ids_keep_their_states_as_the_table_grows() {
        let mut names = table(&["AAPL", "MSFT"]);
        let mut states = SymbolStates::<u32>::new();

        let mut first = states.resolve(&names);
        *first.get(0) += 1;
        *first.get(1) += 10;
        names.push("IBM".to_string());
        let mut second = states.resolve(&names);
        *second.get(1) += 10;
        *second.get(2) += 100;

        assert_eq!(states.get("AAPL"), Some(&1));
        assert_eq!(states.get("MSFT"), Some(&20));
        assert_eq!(states.get("IBM"), Some(&100));
        assert_eq!(states.get("TSLA"), None);
        assert_eq!(states.len(), 3);
    }

    #[test]
    fn another_table_is_resolved_afresh() {
        let mut states = SymbolStates::<u32>::new();
        *states.resolve(&table(&["AAPL", "MSFT"])).get(0) = 5;

        // Another table, where id 0 is MSFT and AAPL comes later.
        let mut other = states.resolve(&table(&["MSFT", "IBM", "AAPL"]));

        assert_eq!(*other.get(0), 0);
        assert_eq!(*other.get(2), 5);
        assert_eq!(states.len(), 3);
    }

    #[test]
    fn it_serializes_in_symbol_order_and_back() {
        let mut states = SymbolStates::<u32>::new();
        let mut batch = states.resolve(&table(&["MSFT", "AAPL"]));
        *batch.get(0) = 2;
        *batch.get(1) = 1;

        let json = serde_json::to_string(&states).unwrap();
        let back: SymbolStates<u32> = serde_json::from_str(&json).unwrap();

        assert_eq!(json, r#"{"AAPL":1,"MSFT":2}"#);
        assert_eq!(back.get("AAPL"), Some(&1));
        assert_eq!(back.get("MSFT"), Some(&2));
        assert_eq!(back.len(), 2);
    }

    #[test]
    fn restored_states_resolve_the_ids_of_the_table_in_use() {
        let names = table(&["IBM", "AAPL"]);
        let mut states = SymbolStates::<u32>::new();
        *states.resolve(&names).get(0) = 1;

        // As a restore does: the states replaced by a snapshot's, which
        // knows symbols but no ids.
        states = [("AAPL".to_string(), 5)].into_iter().collect();
        let mut batch = states.resolve(&names);

        assert_eq!(*batch.get(1), 5);
        assert_eq!(*batch.get(0), 0, "IBM is not in the snapshot");
    }
}
