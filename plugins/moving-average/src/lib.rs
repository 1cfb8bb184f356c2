//! moving-average: a tickhost filter plugin that annotates every tick with
//! its symbol's mean price over a trailing window.
//!
//! # The rule
//!
//! Each symbol is followed on its own, in event time. Every tick that is in
//! order is kept and annotated with `avg`: the mean price of the ticks of
//! its symbol that reached this plugin in order with a time `ts` inside the
//! trailing window `(t - window, t]`, the tick itself included. A tick
//! exactly one window old no longer counts.
//!
//! A tick older than the newest tick of its symbol is dropped as out of
//! order, by the rule the windowed plugins share
//! (`tickhost_plugin_kit::order`), as spike drops it: its window has already
//! moved past it. It gets no annotation, does not enter the window and does
//! not move the symbol's newest time.
//!
//! # Parameters
//!
//! | name | type | default | meaning |
//! |---|---|---|---|
//! | `window` | duration | `10m` | how far back the mean reaches; 1ms to 1d |
//!
//! # Annotations and reasons
//!
//! - `avg` (key 0): the mean price, on every kept tick;
//! - `out of order by 42s`: the reason for the only ticks it drops.
//!
//! # Cost and state
//!
//! Per symbol: the ticks inside the window (time and price, oldest first),
//! their running sum and the newest time. Each tick enters the window once
//! and leaves it once, so a tick costs O(1) on average, and memory is
//! bounded by the ticks of one window per symbol: nothing grows with the
//! length of the stream. (The queue keeps the capacity of the busiest window
//! it has held, which is the same bound.)
//!
//! The running sum is compensated (see the private `sum` module), so
//! millions of additions and subtractions do not drift from the prices
//! actually in the window, and it restarts from exactly zero whenever the
//! window empties. The snapshot (format `moving-average/2`, windows packed
//! sixteen bytes a tick; `moving-average/1` snapshots of earlier builds are
//! still restored) holds this state bit for bit, so a restored instance goes on giving exactly the averages
//! the uninterrupted one would; it holds no parameters, and restored into an
//! instance with another window, the entries are judged by the new one.
//!
//! The rule, its parameter and state are in the private `rule` module
//! ([`MovingAverage`]); this file only documents it and exports it as the
//! component's `filter`.

mod rule;
mod sum;

pub use rule::MovingAverage;

tickhost_plugin_kit::export_rule!(MovingAverage);
