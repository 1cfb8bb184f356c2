//! spike: a tickhost filter plugin that drops price spikes.
//!
//! # The rule
//!
//! Each symbol is judged on its own, in event time. For a tick of symbol S
//! at time `t`, the *reference price* is the price of the oldest tick of S
//! that this plugin kept whose time `ts` is inside the trailing window,
//! `ts > t - window`: a kept tick exactly one window old no longer counts.
//!
//! - With no reference, the tick is kept, and becomes the reference.
//! - Otherwise its change is `(price - reference) / reference * 100`, in
//!   percent, and the tick is dropped if `|change| > max-change-pct`. A
//!   change of exactly the limit is kept.
//!
//! A dropped tick never enters the window, so a spike can never become the
//! reference that the ticks after it are measured against.
//!
//! A tick older than the newest in-order tick of its symbol (whether that one
//! was kept or dropped) is dropped as out of order, by the rule the windowed
//! plugins share (`tickhost_plugin_kit::order`): it could only be judged
//! against a window that has already moved past it. It does not enter the
//! window and does not move the symbol's newest time.
//!
//! # Parameters
//!
//! | name | type | default | meaning |
//! |---|---|---|---|
//! | `max-change-pct` | float | `2.0` | largest change kept, in %; finite, > 0 |
//! | `window` | duration | `10m` | how far back a reference may be; 1ms to 1d |
//!
//! # Reasons
//!
//! - `price change of +3.05% over the last 10m exceeds 2%`: the change with
//!   its sign and two decimals, the window, and the limit as configured;
//! - `out of order by 42s`: how far the tick is behind its symbol's newest.
//!
//! # State
//!
//! Per symbol, the kept ticks inside the window (time and price, oldest
//! first) and the newest in-order time. The next tick of a symbol drops its
//! entries that have left the window, each entry once, so a tick costs O(1)
//! on average and memory is bounded by the kept ticks of one window per
//! symbol. The snapshot (format `spike/2`, windows packed sixteen bytes a
//! tick; `spike/1` snapshots of earlier builds are still restored) holds
//! that state and no parameters: restored into an instance with another
//! window, the entries are judged by the new one.
//!
//! The rule, its parameters and state are in the private `rule` module
//! ([`Spike`]); this file only documents it and exports it as the
//! component's `filter`.

mod rule;

pub use rule::Spike;

tickhost_plugin_kit::export_rule!(Spike);
