//! The moving-average rule: its parameter, its per-symbol window and the
//! annotation on each tick. The crate docs define the rule; the compensated
//! sum is in `sum`, and the calling protocol and component glue are the
//! kit's.

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};
use tickhost_plugin_kit::{
    Batch, CONTRACT_VERSION, Order, Param, ParamError, ParamSpec, Params, PluginInfo, Rule,
    SymbolStates, Verdicts, snapshot,
};

use crate::sum::CompensatedSum;

/// The snapshot format: this plugin, state layout 2 (windows packed).
const FORMAT: &str = "moving-average/2";

/// The layout before, still restored: windows pair by pair.
const FORMAT_1: &str = "moving-average/1";

const WINDOW: &str = "window";

/// Ten minutes, the same default as spike's window, so that the two
/// describe the same stretch of a symbol's recent prices.
const DEFAULT_WINDOW_MS: u64 = 10 * 60 * 1000;

/// The key of `avg` in `describe`'s annotations.
const AVG: u32 = 0;

/// The moving-average rule, configured, with the state of every symbol seen.
#[derive(Debug)]
pub struct MovingAverage {
    window_ms: u64,
    symbols: SymbolStates<Window>,
}

/// One symbol's state.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Window {
    order: Order,
    /// The in-order ticks, as (ts, price), whose time was inside the window
    /// at this symbol's newest tick, oldest first.
    #[serde(with = "tickhost_plugin_kit::packed")]
    ticks: VecDeque<(i64, f64)>,
    /// The sum of the prices in `ticks`.
    sum: CompensatedSum,
}

/// One symbol's state in layout 1.
#[derive(Deserialize)]
struct Window1 {
    order: Order,
    ticks: VecDeque<(i64, f64)>,
    sum: CompensatedSum,
}

impl From<&Window1> for Window {
    fn from(old: &Window1) -> Window {
        Window {
            order: old.order,
            ticks: old.ticks.clone(),
            sum: old.sum,
        }
    }
}

impl Window {
    /// Adds a tick that is in order, and returns the mean price of the
    /// window with it.
    #[inline]
    fn push(&mut self, ts: i64, price: f64, window_ms: u64) -> f64 {
        // Ticks come in order, so the ones that have left the window are at
        // the front; each entry is popped once, which keeps this O(1) per
        // tick on average. `abs_diff` cannot overflow, and `oldest <= ts`.
        while let Some(&(oldest, old_price)) = self.ticks.front()
            && ts.abs_diff(oldest) >= window_ms
        {
            self.ticks.pop_front();
            self.sum.sub(old_price);
        }
        if self.ticks.is_empty() {
            // All that is left is the rounding of prices long gone: start
            // the new window from exactly nothing.
            self.sum = CompensatedSum::ZERO;
        }

        self.ticks.push_back((ts, price));
        self.sum.add(price);
        self.sum.value() / self.ticks.len() as f64
    }
}

impl Rule for MovingAverage {
    fn info() -> PluginInfo {
        PluginInfo {
            name: "moving-average".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            contract: CONTRACT_VERSION.into(),
            description: env!("CARGO_PKG_DESCRIPTION").into(),
            params: vec![ParamSpec::duration(
                WINDOW,
                DEFAULT_WINDOW_MS,
                "how far back the mean price reaches",
            )],
            annotations: vec!["avg".into()],
        }
    }

    fn configure(params: &[Param]) -> Result<Self, ParamError> {
        let params = Params::parse(&Self::info().params, params)?;

        let window_ms = params.window(WINDOW)?.unsigned_abs();

        Ok(Self {
            window_ms,
            symbols: SymbolStates::new(),
        })
    }

    fn process(&mut self, batch: &Batch<'_>) -> Verdicts {
        let window_ms = self.window_ms;
        let mut states = self.symbols.resolve(batch.symbols);
        // Every tick in order is annotated, and nearly every tick is.
        let mut verdicts = Verdicts::with_annotations(batch.len());

        for tick in batch.ticks() {
            let window = states.get(tick.symbol);
            match window.order.check(tick.ts) {
                Ok(()) => {
                    let avg = window.push(tick.ts, tick.price, window_ms);
                    verdicts.annotate(tick.index, AVG, avg);
                }
                Err(late) => verdicts.drop_tick(tick.index, late),
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

    fn moving_average(window: Option<ParamValue>) -> Result<MovingAverage, ParamError> {
        let params: Vec<Param> = window
            .into_iter()
            .map(|value| Param {
                name: WINDOW.to_string(),
                value,
            })
            .collect();
        MovingAverage::configure(&params)
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

    /// The averages of one batch, as (index, avg), checking that every
    /// annotation has the `avg` key.
    fn averages(rule: &mut MovingAverage, ticks: &[(&str, i64, f64)]) -> Vec<(u32, f64)> {
        let verdicts = rule.process(&batch(ticks).batch());
        verdicts
            .annotations
            .iter()
            .map(|(index, key, avg)| {
                assert_eq!(key, AVG);
                (index, avg)
            })
            .collect()
    }

    #[test]
    fn the_first_tick_averages_to_its_own_price() {
        let mut rule = moving_average(None).unwrap();

        assert_eq!(averages(&mut rule, &[("AAPL", 0, 100.0)]), [(0, 100.0)]);
    }

    #[test]
    fn each_tick_gets_the_mean_of_its_window_itself_included() {
        let mut rule = moving_average(None).unwrap();

        let averages = averages(
            &mut rule,
            &[
                ("AAPL", 0, 100.0),
                ("AAPL", 1_000, 102.0),
                ("AAPL", 2_000, 105.0),
            ],
        );

        assert_eq!(averages, [(0, 100.0), (1, 101.0), (2, 102.33333333333333)]);
    }

    #[test]
    fn a_tick_exactly_one_window_old_has_left_it() {
        let mut rule = moving_average(None).unwrap();

        let averages = averages(
            &mut rule,
            &[
                ("AAPL", 0, 100.0),
                ("AAPL", 599_999, 200.0),
                ("AAPL", 600_000, 300.0),
            ],
        );

        assert_eq!(averages, [(0, 100.0), (1, 150.0), (2, 250.0)]);
    }

    #[test]
    fn a_window_that_empties_leaves_no_trace_of_its_rounding() {
        // Prices of nine and more digits, whose sums round at every step,
        // leave both parts of the running sum nonzero even when
        // their total is zero again.
        let mut rule = moving_average(Some(ParamValue::Duration(1_000))).unwrap();
        let history: Vec<_> = (0..1_000)
            .map(|i| ("AAPL", i * 100, (i as f64).sqrt() * 1e9 + 0.123))
            .collect();
        averages(&mut rule, &history);
        let mut fresh = moving_average(Some(ParamValue::Duration(1_000))).unwrap();

        let after = averages(&mut rule, &[("AAPL", 1_000_000, 0.7)]);
        averages(&mut fresh, &[("AAPL", 1_000_000, 0.7)]);

        assert_eq!(after[0].1.to_bits(), 0.7_f64.to_bits());
        assert_eq!(
            String::from_utf8(rule.snapshot()),
            String::from_utf8(fresh.snapshot())
        );
    }

    #[test]
    fn an_out_of_order_tick_is_dropped_and_never_enters_the_window() {
        let mut rule = moving_average(None).unwrap();

        let verdicts = rule.process(
            &batch(&[
                ("AAPL", 100_000, 100.0),
                ("AAPL", 58_000, 1_000.0),
                ("AAPL", 101_000, 102.0),
            ])
            .batch(),
        );

        assert_eq!(
            verdicts.dropped.iter().collect::<Vec<_>>(),
            [(1, "out of order by 42s")]
        );
        let annotated: Vec<_> = verdicts
            .annotations
            .iter()
            .map(|(index, _, avg)| (index, avg))
            .collect();
        assert_eq!(annotated, [(0, 100.0), (2, 101.0)]);
    }

    #[test]
    fn symbols_are_averaged_apart_whatever_their_ids() {
        let mut rule = moving_average(None).unwrap();
        let first = averages(
            &mut rule,
            &[
                ("AAPL", 0, 100.0),
                ("MSFT", 5_000, 200.0),
                ("AAPL", 1_000, 102.0),
                ("MSFT", 6_000, 210.0),
            ],
        );

        // The next batch gives MSFT id 0 and AAPL id 1.
        let second = batch(&[("MSFT", 7_000, 220.0), ("AAPL", 2_000, 104.0)]);
        assert_eq!(second.batch().symbols.names(), ["MSFT", "AAPL"]);
        let second: Vec<_> = rule
            .process(&second.batch())
            .annotations
            .iter()
            .map(|(index, _, avg)| (index, avg))
            .collect();

        // AAPL at 1_000 is in order though MSFT was at 5_000 before it.
        assert_eq!(first, [(0, 100.0), (1, 200.0), (2, 101.0), (3, 205.0)]);
        assert_eq!(second, [(0, 210.0), (1, 102.0)]);
    }

    /// A deterministic stream over three symbols, 45s apart, with prices
    /// whose sums round at every step, and a late tick now and then.
    fn stream(from: i64, count: i64) -> Vec<(&'static str, i64, f64)> {
        (from..from + count)
            .map(|i| {
                let symbol = ["AAPL", "MSFT", "IBM"][(i % 3) as usize];
                let late = if i % 17 == 0 { 200_000 } else { 0 };
                let price = 100.0 + (i % 7) as f64 * 0.1 + 1.0 / (1 + i % 5) as f64;
                (symbol, i * 45_000 - late, price)
            })
            .collect()
    }

    #[test]
    fn a_snapshot_of_the_layout_before_is_restored() {
        #[derive(Serialize)]
        struct Window1<'a> {
            order: Order,
            ticks: &'a VecDeque<(i64, f64)>,
            sum: CompensatedSum,
        }
        let mut uninterrupted = moving_average(None).unwrap();
        uninterrupted.process(&batch(&stream(0, 100)).batch());
        let older: SymbolStates<Window1<'_>> = uninterrupted
            .symbols
            .iter()
            .map(|(symbol, w)| {
                let window = Window1 {
                    order: w.order,
                    ticks: &w.ticks,
                    sum: w.sum,
                };
                (symbol.to_string(), window)
            })
            .collect();
        let older = snapshot::encode(FORMAT_1, &older);

        let mut restored = moving_average(None).unwrap();
        restored.restore(&older).unwrap();

        assert_eq!(restored.snapshot(), uninterrupted.snapshot());
    }

    #[test]
    fn a_restored_instance_goes_on_bit_for_bit() {
        let mut uninterrupted = moving_average(None).unwrap();
        uninterrupted.process(&batch(&stream(0, 100)).batch());

        let mut restored = moving_average(None).unwrap();
        restored.restore(&uninterrupted.snapshot()).unwrap();

        assert_eq!(restored.snapshot(), uninterrupted.snapshot());
        for from in (100..400).step_by(50) {
            let expected = uninterrupted.process(&batch(&stream(from, 50)).batch());
            let got = restored.process(&batch(&stream(from, 50)).batch());

            assert!(!expected.dropped.is_empty(), "the stream has late ticks");
            assert_eq!(got.dropped, expected.dropped);
            let bits = |verdicts: &Verdicts| -> Vec<(u32, u64)> {
                let annotations = verdicts.annotations.iter();
                annotations
                    .map(|(index, _, avg)| (index, avg.to_bits()))
                    .collect()
            };
            assert_eq!(bits(&got), bits(&expected));
        }
    }

    #[test]
    fn another_plugins_snapshot_is_refused_and_the_state_kept() {
        let mut rule = moving_average(None).unwrap();
        averages(&mut rule, &[("AAPL", 0, 100.0)]);

        let refused = rule.restore(&snapshot::encode("spike/1", &()));

        assert_eq!(
            refused,
            Err(
                "snapshot is from plugin 'spike' (format 'spike/1'), not from 'moving-average'"
                    .into()
            )
        );
        assert_eq!(averages(&mut rule, &[("AAPL", 1, 102.0)]), [(0, 101.0)]);
    }

    #[test]
    fn describe_lists_the_parameter_and_the_avg_annotation() {
        let info = MovingAverage::info();

        assert_eq!(info.name, "moving-average");
        assert_eq!(info.version, env!("CARGO_PKG_VERSION"));
        assert_eq!(info.contract, CONTRACT_VERSION);
        assert_eq!(
            info.params,
            [ParamSpec::duration(WINDOW, 600_000, &info.params[0].help)]
        );
        assert_eq!(info.annotations, ["avg"]);
    }

    #[test]
    fn the_window_must_be_between_1ms_and_a_day() {
        for bad in [0, 86_400_001] {
            let err = moving_average(Some(ParamValue::Duration(bad))).unwrap_err();

            assert_eq!(
                err,
                ParamError::out_of_range(WINDOW, "must be between 1ms and 1d")
            );
        }
    }

    #[test]
    fn a_window_of_another_type_is_refused() {
        let err = moving_average(Some(ParamValue::Integer(600))).unwrap_err();

        assert_eq!(err.name, WINDOW);
        assert_eq!(err.problem, ParamProblem::WrongType);
    }
}
