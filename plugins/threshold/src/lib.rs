//! threshold: a tickhost filter plugin that drops thinly traded ticks.
//!
//! # The rule
//!
//! A tick is dropped if its volume is below `min-volume`; a volume of
//! exactly the minimum is kept.
//!
//! Each tick is judged alone, from its own volume: the rule keeps no state,
//! so the order ticks come in does not matter and, unlike the windowed
//! plugins, it has no out-of-order rule. Its verdicts are the same for every
//! symbol and across batches.
//!
//! # Parameters
//!
//! | name | type | default | meaning |
//! |---|---|---|---|
//! | `min-volume` | integer | `1000000` | the smallest volume kept; 0 or more |
//!
//! # Reasons
//!
//! - `volume 950,000 below 1,000,000`: the tick's volume, then the minimum.
//!
//! # State
//!
//! None. Its snapshot is still an envelope (format `threshold/1`) with an
//! empty state, so that `restore` refuses another plugin's snapshot as every
//! plugin does: a snapshot handed to the wrong plugin is a mistake of the
//! host, and the error says whose it is.
//!
//! The rule and its parameter are in the private `rule` module
//! ([`Threshold`]); this file only documents it and exports it as the
//! component's `filter`.

mod rule;

pub use rule::Threshold;

tickhost_plugin_kit::export_rule!(Threshold);
