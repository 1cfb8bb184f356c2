//! The threshold rule: its parameter and the verdict on each tick. The crate
//! docs define the rule; the calling protocol and the component glue are
//! the kit's.

use std::fmt;

use tickhost_plugin_kit::{
    Batch, CONTRACT_VERSION, Param, ParamError, ParamSpec, Params, PluginInfo, Rule, Thousands,
    Verdicts, snapshot,
};

/// The snapshot format: this plugin, state layout 1 (an empty state).
const FORMAT: &str = "threshold/1";

const MIN_VOLUME: &str = "min-volume";

/// A million: the default suits liquid stocks, whose volumes run to
/// millions, and is a round number to raise or lower from.
const DEFAULT_MIN_VOLUME: i64 = 1_000_000;

/// The threshold rule, configured.
#[derive(Debug)]
pub struct Threshold {
    min_volume: u64,
    /// How every reason ends, " below 1,000,000", formatted once: in a
    /// typical feed a tenth of the ticks are dropped here, each with a
    /// reason, and the minimum is the same for all of them.
    below: String,
}

impl Threshold {
    /// Why a tick with this volume was dropped.
    fn reason(&self, volume: u64) -> impl fmt::Display + '_ {
        fmt::from_fn(move |f| write!(f, "volume {}{}", Thousands(volume), self.below))
    }
}

impl Rule for Threshold {
    fn info() -> PluginInfo {
        PluginInfo {
            name: "threshold".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            contract: CONTRACT_VERSION.into(),
            description: env!("CARGO_PKG_DESCRIPTION").into(),
            params: vec![ParamSpec::integer(
                MIN_VOLUME,
                DEFAULT_MIN_VOLUME,
                "the smallest traded volume kept",
            )],
            annotations: Vec::new(),
        }
    }

    fn configure(params: &[Param]) -> Result<Self, ParamError> {
        let params = Params::parse(&Self::info().params, params)?;

        let min_volume = u64::try_from(params.integer(MIN_VOLUME))
            .map_err(|_| ParamError::out_of_range(MIN_VOLUME, "must be at least 0"))?;

        Ok(Self {
            min_volume,
            below: format!(" below {}", Thousands(min_volume)),
        })
    }

    fn process(&mut self, batch: &Batch<'_>) -> Verdicts {
        let mut verdicts = Verdicts::new();
        for tick in batch.ticks() {
            if tick.volume < self.min_volume {
                verdicts.drop_tick(tick.index, self.reason(tick.volume));
            }
        }
        verdicts
    }

    fn snapshot(&self) -> Vec<u8> {
        snapshot::encode(FORMAT, &())
    }

    fn restore(&mut self, bytes: &[u8]) -> Result<(), String> {
        snapshot::decode::<()>(FORMAT, bytes).map_err(|e| e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use tickhost_plugin_kit::{BatchBuilder, ParamProblem, ParamValue};

    use super::*;

    fn threshold(min_volume: Option<ParamValue>) -> Result<Threshold, ParamError> {
        let params: Vec<Param> = min_volume
            .into_iter()
            .map(|value| Param {
                name: MIN_VOLUME.to_string(),
                value,
            })
            .collect();
        Threshold::configure(&params)
    }

    /// A batch of (symbol, volume) ticks; symbols get their ids in the order
    /// they first appear, and every tick the same time and price.
    fn batch(ticks: &[(&str, u64)]) -> BatchBuilder {
        let mut batch = BatchBuilder::new();
        for &(symbol, volume) in ticks {
            batch.push(symbol, 0, 100.0, volume);
        }
        batch
    }

    /// The dropped ticks of one batch, as (index, reason).
    fn drops(rule: &mut Threshold, ticks: &[(&str, u64)]) -> Vec<(u32, String)> {
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
    fn a_volume_below_the_minimum_is_dropped_and_equal_is_kept() {
        let mut rule = threshold(None).unwrap();

        let dropped = drops(
            &mut rule,
            &[
                ("AAPL", 950_000),
                ("AAPL", 1_000_000),
                ("AAPL", 999_999),
                ("AAPL", 2_000_000),
            ],
        );

        assert_eq!(
            dropped,
            [
                drop_at(0, "volume 950,000 below 1,000,000"),
                drop_at(2, "volume 999,999 below 1,000,000"),
            ]
        );
    }

    #[test]
    fn the_first_tick_is_judged_like_any_other() {
        let mut rule = threshold(Some(ParamValue::Integer(500))).unwrap();

        assert_eq!(
            drops(&mut rule, &[("AAPL", 0)]),
            [drop_at(0, "volume 0 below 500")]
        );
        assert_eq!(drops(&mut rule, &[("MSFT", 500)]), []);
    }

    #[test]
    fn a_minimum_of_zero_keeps_every_tick() {
        let mut rule = threshold(Some(ParamValue::Integer(0))).unwrap();

        assert_eq!(drops(&mut rule, &[("AAPL", 0), ("MSFT", u64::MAX)]), []);
    }

    #[test]
    fn ticks_are_judged_alone_whatever_their_symbol_or_order() {
        let mut rule = threshold(Some(ParamValue::Integer(1_000))).unwrap();
        let ticks = [("AAPL", 999), ("MSFT", 5_000), ("AAPL", 1_000), ("IBM", 10)];

        let first = drops(&mut rule, &ticks);
        let reversed: Vec<_> = ticks.iter().rev().copied().collect();
        let second = drops(&mut rule, &reversed);

        assert_eq!(
            first,
            [
                drop_at(0, "volume 999 below 1,000"),
                drop_at(3, "volume 10 below 1,000"),
            ]
        );
        assert_eq!(
            second,
            [
                drop_at(0, "volume 10 below 1,000"),
                drop_at(3, "volume 999 below 1,000"),
            ]
        );
    }

    #[test]
    fn its_snapshot_restores_into_another_instance() {
        let rule = threshold(None).unwrap();
        let mut restored = threshold(None).unwrap();

        // The rule has no state: its snapshot is the format tag alone.
        assert_eq!(rule.snapshot(), snapshot::encode("threshold/1", &()));
        assert_eq!(restored.restore(&rule.snapshot()), Ok(()));
        assert_eq!(
            restored.restore(br#"{"format":"threshold/1","state":null}"#),
            Ok(()),
            "the JSON snapshot of an older build"
        );
        assert_eq!(
            drops(&mut restored, &[("AAPL", 1)]),
            [drop_at(0, "volume 1 below 1,000,000")]
        );
    }

    #[test]
    fn another_plugins_snapshot_is_refused() {
        let mut rule = threshold(None).unwrap();

        let refused = rule.restore(&snapshot::encode("spike/1", &[1, 2, 3]));

        assert_eq!(
            refused,
            Err("snapshot is from plugin 'spike' (format 'spike/1'), not from 'threshold'".into())
        );
    }

    #[test]
    fn describe_lists_the_parameter_and_its_default() {
        let info = Threshold::info();

        assert_eq!(info.name, "threshold");
        assert_eq!(info.version, env!("CARGO_PKG_VERSION"));
        assert_eq!(info.contract, CONTRACT_VERSION);
        assert_eq!(
            info.params,
            [ParamSpec::integer(
                MIN_VOLUME,
                1_000_000,
                &info.params[0].help
            )]
        );
        assert!(info.annotations.is_empty());
    }

    #[test]
    fn a_negative_minimum_is_out_of_range() {
        let err = threshold(Some(ParamValue::Integer(-1))).unwrap_err();

        assert_eq!(
            err,
            ParamError::out_of_range(MIN_VOLUME, "must be at least 0")
        );
    }

    #[test]
    fn a_minimum_of_another_type_is_refused() {
        let err = threshold(Some(ParamValue::Float(1.5))).unwrap_err();

        assert_eq!(err.name, MIN_VOLUME);
        assert_eq!(err.problem, ParamProblem::WrongType);
    }
}
