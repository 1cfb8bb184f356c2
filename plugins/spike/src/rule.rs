//! The spike rule: its parameters, its per-symbol window of kept prices and
//! the verdict on each tick. The crate docs define the rule; the calling
//! protocol and the component glue are the kit's.

use std::collections::VecDeque;
use std::fmt;

use serde::{Deserialize, Serialize};
use tickhost_plugin_kit::{
    Batch, CONTRACT_VERSION, Millis, Order, Param, ParamError, ParamSpec, Params, PluginInfo, Rule,
    SymbolStates, Verdicts, snapshot,
};

/// The snapshot format: this plugin, state layout 2 (windows packed).
const FORMAT: &str = "spike/2";

/// The layout before, still restored: windows pair by pair.
const FORMAT_1: &str = "spike/1";

const MAX_CHANGE_PCT: &str = "max-change-pct";
const WINDOW: &str = "window";

/// Two percent is well past the move of a liquid stock within minutes, and
/// well short of a fat-fingered print.
const DEFAULT_MAX_CHANGE_PCT: f64 = 2.0;

/// Ten minutes: long enough that a reference survives a quiet spell, short
/// enough that a real trend soon moves the reference along with it.
const DEFAULT_WINDOW_MS: u64 = 10 * 60 * 1000;

/// The spike rule, configured, with the state of every symbol seen.
#[derive(Debug)]
pub struct Spike {
    limits: Limits,
    symbols: SymbolStates<Window>,
}

/// The configured parameters. Kept apart from the state so that a batch can
/// read them while it holds the states mutably.
#[derive(Debug, Clone, Copy)]
struct Limits {
    max_change_pct: f64,
    window_ms: u64,
}

/// One symbol's state.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Window {
    order: Order,
    /// The kept ticks, as (ts, price), whose time was inside the window at
    /// this symbol's newest tick, oldest first: the front is the reference.
    #[serde(with = "tickhost_plugin_kit::packed")]
    kept: VecDeque<(i64, f64)>,
}

/// One symbol's state in layout 1.
#[derive(Deserialize)]
struct Window1 {
    order: Order,
    kept: VecDeque<(i64, f64)>,
}

impl From<&Window1> for Window {
    fn from(old: &Window1) -> Window {
        Window {
            order: old.order,
            kept: old.kept.clone(),
        }
    }
}

impl Window {
    /// Judges a tick that is in order, and keeps it in the window if it is
    /// kept. Returns the change, in percent, of a tick that is dropped.
    #[inline]
    fn judge(&mut self, ts: i64, price: f64, limits: Limits) -> Option<f64> {
        // Ticks come in order, so the ones that have left the window are at
        // the front; each entry is popped once, which keeps this O(1) per
        // tick on average. `abs_diff` cannot overflow, and `oldest <= ts`.
        while let Some(&(oldest, _)) = self.kept.front()
            && ts.abs_diff(oldest) >= limits.window_ms
        {
            self.kept.pop_front();
        }

        if let Some(&(_, reference)) = self.kept.front() {
            let change = (price - reference) / reference * 100.0;
            if change.abs() > limits.max_change_pct {
                return Some(change);
            }
        }
        self.kept.push_back((ts, price));
        None
    }
}

impl Limits {
    /// Why a tick with this change was dropped.
    fn reason(self, change: f64) -> impl fmt::Display {
        fmt::from_fn(move |f| {
            write!(
                f,
                "price change of {change:+.2}% over the last {} exceeds {}%",
                Millis(self.window_ms),
                self.max_change_pct
            )
        })
    }
}

impl Rule for Spike {
    fn info() -> PluginInfo {
        PluginInfo {
            name: "spike".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            contract: CONTRACT_VERSION.into(),
            description: env!("CARGO_PKG_DESCRIPTION").into(),
            params: vec![
                ParamSpec::float(
                    MAX_CHANGE_PCT,
                    DEFAULT_MAX_CHANGE_PCT,
                    "the largest price change kept, in percent of the reference price",
                ),
                ParamSpec::duration(
                    WINDOW,
                    DEFAULT_WINDOW_MS,
                    "how far back the reference price may be",
                ),
            ],
            annotations: Vec::new(),
        }
    }

    fn configure(params: &[Param]) -> Result<Self, ParamError> {
        let params = Params::parse(&Self::info().params, params)?;

        let max_change_pct = params.float(MAX_CHANGE_PCT);
        if !(max_change_pct.is_finite() && max_change_pct > 0.0) {
            return Err(ParamError::out_of_range(
                MAX_CHANGE_PCT,
                "must be a finite number greater than 0",
            ));
        }
        let window_ms = params.window(WINDOW)?.unsigned_abs();

        Ok(Self {
            limits: Limits {
                max_change_pct,
                window_ms,
            },
            symbols: SymbolStates::new(),
        })
    }

    fn process(&mut self, batch: &Batch<'_>) -> Verdicts {
        let limits = self.limits;
        let mut states = self.symbols.resolve(batch.symbols);
        let mut verdicts = Verdicts::new();

        for tick in batch.ticks() {
            let window = states.get(tick.symbol);
            match window.order.check(tick.ts) {
                Err(late) => verdicts.drop_tick(tick.index, late),
                Ok(()) => {
                    if let Some(change) = window.judge(tick.ts, tick.price, limits) {
                        verdicts.drop_tick(tick.index, limits.reason(change));
                    }
                }
            }
        }
        verdicts
    }

    fn snapshot(&self) -> Vec<u8> {
        snapshot::encode(FORMAT, &self.symbols)
    }

    fn restore(&mut self, bytes: &[u8]) -> Result<(), String> {
        let upgrade = |old: SymbolStates<Window1>| old.map(|window| Window::from(window));
        self.symbols = snapshot::decode_or_upgrade(FORMAT, FORMAT_1, bytes, upgrade)
            .map_err(|e| e.to_string())?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use tickhost_plugin_kit::{BatchBuilder, ParamProblem, ParamValue};

    use super::*;

    fn spike(params: &[(&str, ParamValue)]) -> Spike {
        Spike::configure(&to_params(params)).unwrap()
    }

    fn to_params(params: &[(&str, ParamValue)]) -> Vec<Param> {
        params
            .iter()
            .map(|(name, value)| Param {
                name: name.to_string(),
                value: value.clone(),
            })
            .collect()
    }

    /// A batch of (symbol, ts, price) ticks; symbols get their ids in the
    /// order they first appear.
    fn batch(ticks: &[(&str, i64, f64)]) -> BatchBuilder {
        let mut batch = BatchBuilder::new();
        for &(symbol, ts, price) in ticks {
            batch.push(symbol, ts, price, 1);
        }
        batch
    }

    /// The dropped ticks of one batch, as (index, reason).
    fn drops(rule: &mut Spike, ticks: &[(&str, i64, f64)]) -> Vec<(u32, String)> {
        let verdicts = rule.process(&batch(ticks).batch());
        assert!(verdicts.annotations.is_empty());
        verdicts
            .dropped
            .iter()
            .map(|(index, reason)| (index, reason.to_string()))
            .collect()
    }

    fn drop_at(index: u32, reason: &str) -> (u32, String) {
        (index, reason.to_string())
    }

    #[test]
    fn the_first_tick_of_a_symbol_is_kept() {
        let mut rule = spike(&[]);

        assert_eq!(drops(&mut rule, &[("AAPL", 0, 100.0)]), []);
    }

    #[test]
    fn a_change_of_exactly_the_limit_is_kept_and_more_is_dropped() {
        let mut rule = spike(&[]);

        let dropped = drops(
            &mut rule,
            &[
                ("AAPL", 0, 100.0),
                ("AAPL", 1_000, 102.0),
                ("AAPL", 2_000, 102.01),
                ("AAPL", 3_000, 98.0),
                ("AAPL", 4_000, 97.99),
            ],
        );

        assert_eq!(
            dropped,
            [
                drop_at(2, "price change of +2.01% over the last 10m exceeds 2%"),
                drop_at(4, "price change of -2.01% over the last 10m exceeds 2%"),
            ]
        );
    }

    #[test]
    fn the_reason_shows_the_configured_limit_and_window() {
        let mut rule = spike(&[
            (MAX_CHANGE_PCT, ParamValue::Float(2.5)),
            (WINDOW, ParamValue::Duration(90_000)),
        ]);

        let dropped = drops(&mut rule, &[("AAPL", 0, 100.0), ("AAPL", 1, 103.05)]);

        assert_eq!(
            dropped,
            [drop_at(
                1,
                "price change of +3.05% over the last 1m30s exceeds 2.5%"
            )]
        );
    }

    #[test]
    fn a_dropped_spike_never_becomes_the_reference() {
        let mut rule = spike(&[]);

        let dropped = drops(
            &mut rule,
            &[("AAPL", 0, 100.0), ("AAPL", 1, 110.0), ("AAPL", 2, 101.0)],
        );

        assert_eq!(
            dropped,
            [drop_at(
                1,
                "price change of +10.00% over the last 10m exceeds 2%"
            )]
        );
    }

    #[test]
    fn a_tick_exactly_one_window_old_is_no_reference() {
        let mut rule = spike(&[]);

        let dropped = drops(
            &mut rule,
            &[
                ("AAPL", 0, 100.0),
                ("AAPL", 599_999, 150.0),
                ("AAPL", 600_000, 150.0),
                ("AAPL", 600_001, 152.0),
            ],
        );

        // At 599_999 the tick at 0 is still the reference; at 600_000 it has
        // left, so 150 is kept and is the reference for 152 (+1.33%).
        assert_eq!(
            dropped,
            [drop_at(
                1,
                "price change of +50.00% over the last 10m exceeds 2%"
            )]
        );
    }

    #[test]
    fn when_the_reference_expires_the_next_oldest_kept_tick_takes_over() {
        let mut rule = spike(&[]);

        let dropped = drops(
            &mut rule,
            &[
                ("AAPL", 0, 100.0),
                ("AAPL", 60_000, 101.0),
                ("AAPL", 599_999, 103.0),
                ("AAPL", 600_000, 103.0),
            ],
        );

        // 103 is +3% from 100, but only +1.98% from 101 once 100 expires.
        assert_eq!(
            dropped,
            [drop_at(
                2,
                "price change of +3.00% over the last 10m exceeds 2%"
            )]
        );
    }

    #[test]
    fn a_window_of_expired_ticks_has_no_reference() {
        let mut rule = spike(&[]);
        drops(&mut rule, &[("AAPL", 0, 100.0), ("AAPL", 300_000, 101.0)]);

        let dropped = drops(&mut rule, &[("AAPL", 900_000, 200.0)]);

        assert_eq!(dropped, []);
    }

    #[test]
    fn an_out_of_order_tick_is_dropped_by_its_lag() {
        let mut rule = spike(&[]);

        let dropped = drops(
            &mut rule,
            &[("AAPL", 100_000, 100.0), ("AAPL", 58_000, 100.0)],
        );

        assert_eq!(dropped, [drop_at(1, "out of order by 42s")]);
    }

    #[test]
    fn a_dropped_spike_still_moves_the_order_on() {
        let mut rule = spike(&[]);

        let dropped = drops(
            &mut rule,
            &[
                ("AAPL", 0, 100.0),
                ("AAPL", 5_000, 150.0),
                ("AAPL", 4_000, 100.0),
            ],
        );

        assert_eq!(dropped[1], drop_at(2, "out of order by 1s"));
    }

    #[test]
    fn an_out_of_order_tick_never_enters_the_window() {
        let mut rule = spike(&[]);

        let dropped = drops(
            &mut rule,
            &[
                ("AAPL", 0, 100.0),
                ("AAPL", 300_000, 103.0),
                ("AAPL", 200_000, 101.0),
                ("AAPL", 600_000, 98.0),
            ],
        );

        // Had 101 entered the window, 98 would be -2.97% from it.
        assert_eq!(
            dropped,
            [
                drop_at(1, "price change of +3.00% over the last 10m exceeds 2%"),
                drop_at(2, "out of order by 1m40s"),
            ]
        );
    }

    #[test]
    fn symbols_are_judged_apart_whatever_their_ids() {
        let mut rule = spike(&[]);
        let first = drops(
            &mut rule,
            &[
                ("AAPL", 0, 100.0),
                ("MSFT", 5_000, 200.0),
                ("AAPL", 1_000, 101.0),
                ("MSFT", 6_000, 205.0),
            ],
        );

        // The next batch gives MSFT id 0 and AAPL id 1.
        let second = batch(&[("MSFT", 7_000, 203.0), ("AAPL", 2_000, 103.0)]);
        assert_eq!(second.batch().symbols.names(), ["MSFT", "AAPL"]);
        let second: Vec<_> = rule
            .process(&second.batch())
            .dropped
            .iter()
            .map(|(index, reason)| (index, reason.to_string()))
            .collect();

        // AAPL at 1_000 is in order though MSFT was at 5_000 before it.
        assert_eq!(
            first,
            [drop_at(
                3,
                "price change of +2.50% over the last 10m exceeds 2%"
            )]
        );
        assert_eq!(
            second,
            [drop_at(
                1,
                "price change of +3.00% over the last 10m exceeds 2%"
            )]
        );
    }

    /// A deterministic stream over three symbols, 45s apart, with small moves
    /// and a spike on every 7th tick: windows fill, expire and drop.
    fn stream(from: i64, count: i64) -> Vec<(&'static str, i64, f64)> {
        (from..from + count)
            .map(|i| {
                let symbol = ["AAPL", "MSFT", "IBM"][(i % 3) as usize];
                let spike = if i % 7 == 0 { 5.0 } else { 0.0 };
                (symbol, i * 45_000, 100.0 + (i % 5) as f64 * 0.6 + spike)
            })
            .collect()
    }

    #[test]
    fn a_restored_instance_judges_as_the_uninterrupted_one() {
        let mut uninterrupted = spike(&[]);
        drops(&mut uninterrupted, &stream(0, 100));

        let mut restored = spike(&[]);
        restored.restore(&uninterrupted.snapshot()).unwrap();

        assert_eq!(restored.snapshot(), uninterrupted.snapshot());
        for from in (100..400).step_by(50) {
            let expected = drops(&mut uninterrupted, &stream(from, 50));
            assert!(!expected.is_empty(), "the stream drops ticks");
            assert_eq!(drops(&mut restored, &stream(from, 50)), expected);
        }
    }

    #[test]
    fn a_snapshot_of_the_layout_before_is_restored() {
        #[derive(Serialize)]
        struct Window1<'a> {
            order: Order,
            kept: &'a VecDeque<(i64, f64)>,
        }
        let mut uninterrupted = spike(&[]);
        drops(&mut uninterrupted, &stream(0, 100));
        let older: SymbolStates<Window1<'_>> = uninterrupted
            .symbols
            .iter()
            .map(|(symbol, w)| {
                (
                    symbol.to_string(),
                    Window1 {
                        order: w.order,
                        kept: &w.kept,
                    },
                )
            })
            .collect();
        let older = snapshot::encode(FORMAT_1, &older);

        let mut restored = spike(&[]);
        restored.restore(&older).unwrap();

        assert_eq!(restored.snapshot(), uninterrupted.snapshot());
    }

    #[test]
    fn another_plugins_snapshot_is_refused_and_the_state_kept() {
        let mut rule = spike(&[]);
        drops(&mut rule, &[("AAPL", 0, 100.0)]);

        let refused = rule.restore(&snapshot::encode("threshold/1", &()));

        assert_eq!(
            refused,
            Err(
                "snapshot is from plugin 'threshold' (format 'threshold/1'), not from 'spike'"
                    .into()
            )
        );
        let dropped = drops(&mut rule, &[("AAPL", 1, 103.0)]);
        assert_eq!(dropped.len(), 1, "100 is still the reference");
    }

    #[test]
    fn describe_lists_the_parameters_and_their_defaults() {
        let info = Spike::info();

        assert_eq!(info.name, "spike");
        assert_eq!(info.version, env!("CARGO_PKG_VERSION"));
        assert_eq!(info.contract, CONTRACT_VERSION);
        assert_eq!(
            info.params,
            [
                ParamSpec::float(MAX_CHANGE_PCT, 2.0, &info.params[0].help),
                ParamSpec::duration(WINDOW, 600_000, &info.params[1].help),
            ]
        );
        assert!(info.annotations.is_empty());
    }

    #[test]
    fn the_limit_must_be_finite_and_positive() {
        for bad in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            let err = Spike::configure(&to_params(&[(MAX_CHANGE_PCT, ParamValue::Float(bad))]))
                .unwrap_err();

            assert_eq!(
                err,
                ParamError::out_of_range(MAX_CHANGE_PCT, "must be a finite number greater than 0"),
                "{bad}"
            );
        }
    }

    #[test]
    fn a_whole_number_limit_is_accepted() {
        let mut rule = spike(&[(MAX_CHANGE_PCT, ParamValue::Integer(5))]);

        let dropped = drops(&mut rule, &[("AAPL", 0, 100.0), ("AAPL", 1, 105.5)]);

        assert_eq!(
            dropped,
            [drop_at(
                1,
                "price change of +5.50% over the last 10m exceeds 5%"
            )]
        );
    }

    #[test]
    fn the_window_must_be_between_1ms_and_a_day() {
        for bad in [0, 86_400_001] {
            let err =
                Spike::configure(&to_params(&[(WINDOW, ParamValue::Duration(bad))])).unwrap_err();

            assert_eq!(err.name, WINDOW);
            assert_eq!(err.problem, ParamProblem::OutOfRange);
        }
    }

    #[test]
    fn a_parameter_of_another_type_is_refused() {
        let err = Spike::configure(&to_params(&[(WINDOW, ParamValue::Float(10.0))])).unwrap_err();

        assert_eq!(err.name, WINDOW);
        assert_eq!(err.problem, ParamProblem::WrongType);
    }
}
