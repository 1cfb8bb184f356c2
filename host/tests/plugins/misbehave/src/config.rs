//! The modes misbehave can run in, its parameters, and what `describe` says
//! about them.
//!
//! Validation follows the contract: the first bad parameter is reported, with
//! `unknown`, `wrong-type`, `out-of-range` (a negative number, a number too
//! large to honour, or a mode that does not exist) or `invalid` (a parameter
//! given twice, or an `after` that the mode can never reach).

use crate::bindings::exports::tickhost::filter::filter::{Param, ParamError, PluginInfo};
use crate::bindings::tickhost::filter::types::{ParamProblem, ParamSpec, ParamType, ParamValue};

/// The contract this plugin is built against; it matches the version of the
/// WIT package in `wit/filter.wit`.
pub const CONTRACT: &str = "0.1.0";

/// The annotations misbehave attaches; `annotation.key` indexes this list.
pub const ANNOTATIONS: [&str; 1] = ["seen"];

/// The largest `bytes` accepted. A wasm32 instance cannot hold more than
/// 4 GiB, and `huge-output` builds a string of this size, so a larger value
/// could not be honoured; as milliseconds for `slow` it is over 12 days.
pub const MAX_BYTES: i64 = 1 << 30;

/// The way the plugin behaves, from the batch numbered `after` on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Ok,
    Trap,
    Panic,
    Loop,
    GrowMemory,
    WrongIndex,
    Unsorted,
    BadKey,
    HugeOutput,
    Error,
    Print,
    DropAll,
    Slow,
    TrapConfigure,
    RefuseRestore,
    TrapRestore,
    TrapSnapshot,
    SlowSnapshot,
}

/// Every mode with the name the configuration uses for it.
const MODES: [(&str, Mode); 18] = [
    ("ok", Mode::Ok),
    ("trap", Mode::Trap),
    ("panic", Mode::Panic),
    ("loop", Mode::Loop),
    ("grow-memory", Mode::GrowMemory),
    ("wrong-index", Mode::WrongIndex),
    ("unsorted", Mode::Unsorted),
    ("bad-key", Mode::BadKey),
    ("huge-output", Mode::HugeOutput),
    ("error", Mode::Error),
    ("print", Mode::Print),
    ("drop-all", Mode::DropAll),
    ("slow", Mode::Slow),
    ("trap-configure", Mode::TrapConfigure),
    ("refuse-restore", Mode::RefuseRestore),
    ("trap-restore", Mode::TrapRestore),
    ("trap-snapshot", Mode::TrapSnapshot),
    ("slow-snapshot", Mode::SlowSnapshot),
];

impl Mode {
    fn from_name(name: &str) -> Option<Mode> {
        MODES
            .iter()
            .find(|(n, _)| *n == name)
            .map(|&(_, mode)| mode)
    }

    fn name(self) -> &'static str {
        MODES
            .iter()
            .find(|(_, m)| *m == self)
            .map(|&(n, _)| n)
            .expect("every mode is listed")
    }

    /// Whether the mode misbehaves in a call that comes before any batch
    /// (`configure` or `restore`), where `after` can never be reached.
    fn acts_before_batches(self) -> bool {
        matches!(
            self,
            Mode::TrapConfigure | Mode::RefuseRestore | Mode::TrapRestore
        )
    }
}

/// A validated configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Config {
    pub mode: Mode,
    /// The 0-based number of the first batch that misbehaves; earlier
    /// batches behave as `ok`. For `trap-snapshot`, the number of batches
    /// that must have been processed before a snapshot traps.
    pub after: u64,
    /// The size used by some modes: the reason's length in bytes for
    /// `huge-output`, the busy wait in milliseconds for `slow` and
    /// `slow-snapshot`.
    pub bytes: u64,
}

impl Config {
    /// The configuration when no parameter is given.
    pub const DEFAULT: Config = Config {
        mode: Mode::Ok,
        after: 0,
        bytes: 0,
    };

    /// Validates the parameters; left-out parameters take their defaults.
    pub fn from_params(params: &[Param]) -> Result<Config, ParamError> {
        let mut config = Config::DEFAULT;
        let mut given: Vec<&str> = Vec::new();

        for param in params {
            let name = param.name.as_str();
            if given.contains(&name) {
                return Err(problem(
                    name,
                    ParamProblem::Invalid,
                    "is given more than once",
                ));
            }
            match (name, &param.value) {
                ("mode", ParamValue::Text(text)) => {
                    config.mode = Mode::from_name(text).ok_or_else(|| {
                        let names: Vec<&str> = MODES.iter().map(|(n, _)| *n).collect();
                        let message = format!("must be one of {}", names.join(", "));
                        problem(name, ParamProblem::OutOfRange, &message)
                    })?;
                }
                ("after", ParamValue::Integer(n)) => config.after = non_negative(name, *n)?,
                ("bytes", ParamValue::Integer(n)) => config.bytes = non_negative(name, *n)?,
                ("mode", _) => return Err(problem(name, ParamProblem::WrongType, "must be text")),
                ("after" | "bytes", _) => {
                    return Err(problem(name, ParamProblem::WrongType, "must be an integer"));
                }
                _ => {
                    return Err(problem(
                        name,
                        ParamProblem::Unknown,
                        "is not a parameter of misbehave",
                    ));
                }
            }
            given.push(name);
        }

        if config.mode.acts_before_batches() && config.after > 0 {
            let message = format!(
                "must be 0 with mode {}, which misbehaves before any batch",
                config.mode.name()
            );
            return Err(problem("after", ParamProblem::Invalid, &message));
        }
        Ok(config)
    }
}

fn non_negative(name: &str, value: i64) -> Result<u64, ParamError> {
    if !(0..=MAX_BYTES).contains(&value) {
        let message = format!("must be between 0 and {MAX_BYTES}");
        return Err(problem(name, ParamProblem::OutOfRange, &message));
    }
    Ok(value as u64)
}

fn problem(name: &str, problem: ParamProblem, message: &str) -> ParamError {
    ParamError {
        name: name.to_string(),
        problem,
        message: message.to_string(),
    }
}

/// What `describe` returns; it does not depend on the configuration.
pub fn describe() -> PluginInfo {
    let spec = |name: &str, kind, default, help: &str| ParamSpec {
        name: name.to_string(),
        kind,
        default,
        help: help.to_string(),
    };
    PluginInfo {
        name: "misbehave".to_string(),
        version: env!("CARGO_PKG_VERSION").to_string(),
        contract: CONTRACT.to_string(),
        description: "Test fixture: keeps every tick, or misbehaves in the way `mode` asks"
            .to_string(),
        params: vec![
            spec(
                "mode",
                ParamType::Text,
                ParamValue::Text("ok".to_string()),
                "the fault to show, for example trap, loop or grow-memory; ok for none",
            ),
            spec(
                "after",
                ParamType::Integer,
                ParamValue::Integer(0),
                "the 0-based number of the first batch that misbehaves",
            ),
            spec(
                "bytes",
                ParamType::Integer,
                ParamValue::Integer(0),
                "the reason's size for huge-output (0: 64 MiB), the wait in ms for slow and slow-snapshot",
            ),
        ],
        annotations: ANNOTATIONS.iter().map(|a| a.to_string()).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn param(name: &str, value: ParamValue) -> Param {
        Param {
            name: name.to_string(),
            value,
        }
    }

    fn text(s: &str) -> ParamValue {
        ParamValue::Text(s.to_string())
    }

    #[test]
    fn defaults_to_ok_from_the_first_batch() {
        assert_eq!(Config::from_params(&[]).unwrap(), Config::DEFAULT);
    }

    #[test]
    fn accepts_every_listed_mode() {
        for (name, mode) in MODES {
            let config = Config::from_params(&[param("mode", text(name))]).unwrap();
            assert_eq!(config.mode, mode);
            assert_eq!(mode.name(), name);
        }
    }

    #[test]
    fn reads_after_and_bytes() {
        let params = [
            param("mode", text("slow")),
            param("after", ParamValue::Integer(3)),
            param("bytes", ParamValue::Integer(20)),
        ];
        let config = Config::from_params(&params).unwrap();
        assert_eq!(
            (config.mode, config.after, config.bytes),
            (Mode::Slow, 3, 20)
        );
    }

    #[test]
    fn reports_each_bad_parameter_with_its_problem() {
        let cases = [
            (
                param("colour", text("red")),
                "colour",
                ParamProblem::Unknown,
            ),
            (
                param("mode", text("explode")),
                "mode",
                ParamProblem::OutOfRange,
            ),
            (
                param("mode", ParamValue::Integer(1)),
                "mode",
                ParamProblem::WrongType,
            ),
            (param("after", text("1")), "after", ParamProblem::WrongType),
            (
                param("after", ParamValue::Integer(-1)),
                "after",
                ParamProblem::OutOfRange,
            ),
            (
                param("bytes", ParamValue::Integer(MAX_BYTES + 1)),
                "bytes",
                ParamProblem::OutOfRange,
            ),
        ];
        for (bad, name, expected) in cases {
            let err = Config::from_params(&[bad]).unwrap_err();
            assert_eq!(
                (err.name.as_str(), err.problem),
                (name, expected),
                "{}",
                err.message
            );
        }
    }

    #[test]
    fn refuses_a_parameter_given_twice() {
        let params = [param("mode", text("ok")), param("mode", text("trap"))];
        let err = Config::from_params(&params).unwrap_err();
        assert_eq!(err.problem, ParamProblem::Invalid);
    }

    #[test]
    fn refuses_after_with_a_mode_that_acts_before_any_batch() {
        let params = [
            param("mode", text("refuse-restore")),
            param("after", ParamValue::Integer(2)),
        ];
        let err = Config::from_params(&params).unwrap_err();
        assert_eq!(
            (err.name.as_str(), err.problem),
            ("after", ParamProblem::Invalid)
        );
    }

    #[test]
    fn describes_its_contract_and_annotations() {
        let info = describe();
        assert_eq!(
            (info.name.as_str(), info.contract.as_str()),
            ("misbehave", "0.1.0")
        );
        assert_eq!(info.annotations, ["seen"]);
        let names: Vec<&str> = info.params.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["mode", "after", "bytes"]);
    }
}
