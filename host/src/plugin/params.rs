//! A slot's parameters: from the TOML of `tickhost.toml` to the typed values
//! of the contract, checked against what the plugin declares.
//!
//! The host checks names and types before the plugin sees anything, so that
//! a typo gets an error listing the parameters that do exist. Ranges are the
//! plugin's business: `configure` refuses a value it cannot use.

use std::fmt;
use std::time::Duration;

use super::bindings::{Param, ParamError, ParamProblem, ParamSpec, ParamType, ParamValue};
use crate::duration;

/// A parameter the host or the plugin refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("parameter '{name}' {problem}: {message}")]
pub struct BadParam {
    pub name: String,
    pub problem: Problem,
    pub message: String,
}

/// What is wrong with a parameter; the host's mirror of the contract's
/// `param-problem`, with a display for error messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Problem {
    Unknown,
    WrongType,
    OutOfRange,
    Invalid,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Problem::Unknown => "is unknown",
            Problem::WrongType => "has the wrong type",
            Problem::OutOfRange => "is out of range",
            Problem::Invalid => "is invalid",
        })
    }
}

impl From<ParamError> for BadParam {
    fn from(e: ParamError) -> BadParam {
        let problem = match e.problem {
            ParamProblem::Unknown => Problem::Unknown,
            ParamProblem::WrongType => Problem::WrongType,
            ParamProblem::OutOfRange => Problem::OutOfRange,
            ParamProblem::Invalid => Problem::Invalid,
        };
        BadParam {
            name: e.name,
            problem,
            message: e.message,
        }
    }
}

/// Converts a slot's configured parameters to the contract's values, by the
/// types the plugin declares. Parameters left out are not sent: the plugin
/// applies its own defaults.
pub fn convert(specs: &[ParamSpec], table: &toml::Table) -> Result<Vec<Param>, BadParam> {
    table
        .iter()
        .map(|(name, value)| {
            let Some(spec) = specs.iter().find(|s| s.name == *name) else {
                let known: Vec<&str> = specs.iter().map(|s| s.name.as_str()).collect();
                return Err(BadParam {
                    name: name.clone(),
                    problem: Problem::Unknown,
                    message: if known.is_empty() {
                        "the plugin takes no parameters".to_string()
                    } else {
                        format!("the plugin takes {}", known.join(", "))
                    },
                });
            };
            let value = convert_value(spec, value)?;
            Ok(Param {
                name: name.clone(),
                value,
            })
        })
        .collect()
}

fn convert_value(spec: &ParamSpec, value: &toml::Value) -> Result<ParamValue, BadParam> {
    let wrong = |expected: &str| BadParam {
        name: spec.name.clone(),
        problem: Problem::WrongType,
        message: format!("expected {expected}, got {}", describe_toml(value)),
    };
    match (spec.kind, value) {
        (ParamType::Float, toml::Value::Float(f)) => Ok(ParamValue::Float(*f)),
        (ParamType::Float, toml::Value::Integer(i)) => Ok(ParamValue::Float(*i as f64)),
        (ParamType::Float, _) => Err(wrong("a number")),
        (ParamType::Integer, toml::Value::Integer(i)) => Ok(ParamValue::Integer(*i)),
        (ParamType::Integer, _) => Err(wrong("an integer")),
        (ParamType::Boolean, toml::Value::Boolean(b)) => Ok(ParamValue::Boolean(*b)),
        (ParamType::Boolean, _) => Err(wrong("true or false")),
        (ParamType::Text, toml::Value::String(s)) => Ok(ParamValue::Text(s.clone())),
        (ParamType::Text, _) => Err(wrong("a string")),
        (ParamType::Duration, toml::Value::String(s)) => duration::parse(s)
            .map(|d| ParamValue::Duration(d.as_millis() as u64))
            .map_err(|e| BadParam {
                name: spec.name.clone(),
                problem: Problem::WrongType,
                message: e.to_string(),
            }),
        (ParamType::Duration, _) => Err(wrong("a duration in quotes, such as \"10m\"")),
    }
}

fn describe_toml(value: &toml::Value) -> String {
    match value {
        toml::Value::String(s) => format!("the string {s:?}"),
        other => format!("{} {other}", other.type_str()),
    }
}

/// A parameter value as a person would write it in `tickhost.toml`.
pub fn render(value: &ParamValue) -> String {
    match value {
        ParamValue::Float(f) => format!("{f:?}"),
        ParamValue::Integer(i) => i.to_string(),
        ParamValue::Boolean(b) => b.to_string(),
        ParamValue::Text(s) => format!("{s:?}"),
        ParamValue::Duration(ms) => format!("\"{}\"", duration::format(Duration::from_millis(*ms))),
    }
}

/// The name of a parameter type, as `plugin inspect` shows it.
pub fn type_name(kind: ParamType) -> &'static str {
    match kind {
        ParamType::Float => "float",
        ParamType::Integer => "integer",
        ParamType::Boolean => "boolean",
        ParamType::Text => "text",
        ParamType::Duration => "duration",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn specs() -> Vec<ParamSpec> {
        let spec = |name: &str, kind, default| ParamSpec {
            name: name.into(),
            kind,
            default,
            help: String::new(),
        };
        vec![
            spec("max-change-pct", ParamType::Float, ParamValue::Float(2.0)),
            spec("min-volume", ParamType::Integer, ParamValue::Integer(1)),
            spec("window", ParamType::Duration, ParamValue::Duration(600_000)),
        ]
    }

    fn table(text: &str) -> toml::Table {
        text.parse().unwrap()
    }

    #[test]
    fn converts_by_declared_type() {
        let params = convert(
            &specs(),
            &table("max-change-pct = 3\nmin-volume = 5\nwindow = \"90s\""),
        )
        .unwrap();
        assert_eq!(params.len(), 3);
        let value = |name: &str| {
            params
                .iter()
                .find(|p| p.name == name)
                .unwrap()
                .value
                .clone()
        };
        assert!(matches!(value("max-change-pct"), ParamValue::Float(f) if f == 3.0));
        assert!(matches!(value("min-volume"), ParamValue::Integer(5)));
        assert!(matches!(value("window"), ParamValue::Duration(90_000)));
    }

    #[test]
    fn unknown_names_list_the_known_ones() {
        let err = convert(&specs(), &table("max-change = 3")).unwrap_err();
        assert_eq!(err.problem, Problem::Unknown);
        assert_eq!(err.name, "max-change");
        assert!(
            err.message.contains("max-change-pct, min-volume, window"),
            "{err}"
        );
    }

    #[test]
    fn wrong_types_say_what_was_expected() {
        let err = convert(&specs(), &table("min-volume = \"lots\"")).unwrap_err();
        assert_eq!(err.problem, Problem::WrongType);
        assert_eq!(
            err.to_string(),
            "parameter 'min-volume' has the wrong type: expected an integer, got the string \"lots\""
        );

        let err = convert(&specs(), &table("window = 600")).unwrap_err();
        assert!(err.message.contains("duration in quotes"), "{err}");

        let err = convert(&specs(), &table("window = \"10 minutes\"")).unwrap_err();
        assert!(err.message.contains("invalid duration"), "{err}");
    }

    #[test]
    fn renders_values_as_configuration() {
        assert_eq!(render(&ParamValue::Float(2.0)), "2.0");
        assert_eq!(render(&ParamValue::Duration(600_000)), "\"10m\"");
        assert_eq!(render(&ParamValue::Integer(1_000_000)), "1000000");
    }
}
