//! The [`Rule`] trait: a filter plugin's rule in plain Rust, free of the
//! component glue. The calling protocol (configure first, one instance) is
//! enforced by [`Instance`](crate::Instance), not here.

use crate::{Batch, Param, ParamError, PluginInfo, Verdicts};

/// A filter rule: what a plugin crate implements, and what
/// [`export_rule!`](crate::export_rule) turns into a component.
///
/// A configured rule is a value of the implementing type, so natively (in
/// unit tests and in the host's native benchmark) a rule is created with
/// [`Rule::configure`] and driven by calling [`Rule::process`] directly.
pub trait Rule: Sized {
    /// Says who the plugin is and what it accepts. It must not depend on
    /// configuration, and its `contract` must be
    /// [`CONTRACT_VERSION`](crate::CONTRACT_VERSION).
    fn info() -> PluginInfo;

    /// Creates the rule from the configured parameters, taking the default of
    /// every parameter left out, or names the first bad parameter.
    fn configure(params: &[Param]) -> Result<Self, ParamError>;

    /// Judges one batch, carrying per-symbol state over to the next.
    ///
    /// The batch is as the host promises it: its columns have one length,
    /// every id in `batch.symbol` indexes `batch.symbols` and every price is
    /// finite and positive. [`Batch::ticks`] reads it tick by tick. Ticks
    /// must be dropped in strictly ascending index order (see
    /// [`Verdicts::drop_tick`]), and no annotation may name a dropped tick.
    fn process(&mut self, batch: &Batch<'_>) -> Verdicts;

    /// The rule's state as bytes that [`Rule::restore`] of this version (or
    /// a newer one) accepts.
    fn snapshot(&self) -> Vec<u8>;

    /// Replaces the rule's state with a snapshot, or says why it cannot and
    /// leaves the state as it was.
    fn restore(&mut self, bytes: &[u8]) -> Result<(), String>;
}
