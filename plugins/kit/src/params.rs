//! Configured parameters, checked against the [`ParamSpec`]s a plugin
//! declares: unknown names, wrong types and repeats are refused here, once
//! for every plugin; ranges are each rule's own, and it reports them with
//! [`ParamError::out_of_range`].

use crate::{Millis, Param, ParamError, ParamProblem, ParamSpec, ParamType, ParamValue};

/// The longest trailing window a rule accepts: one day.
///
/// A windowed rule keeps the window's ticks in memory for every symbol, so
/// the window bounds its memory; a day covers any trading session, and a
/// trend longer than that is not a tick filter's business.
pub const MAX_WINDOW_MS: u64 = 86_400_000;

impl ParamSpec {
    /// A float parameter.
    pub fn float(name: &str, default: f64, help: &str) -> Self {
        Self::new(name, ParamType::Float, ParamValue::Float(default), help)
    }

    /// An integer parameter.
    pub fn integer(name: &str, default: i64, help: &str) -> Self {
        Self::new(name, ParamType::Integer, ParamValue::Integer(default), help)
    }

    /// A boolean parameter.
    pub fn boolean(name: &str, default: bool, help: &str) -> Self {
        Self::new(name, ParamType::Boolean, ParamValue::Boolean(default), help)
    }

    /// A text parameter.
    pub fn text(name: &str, default: &str, help: &str) -> Self {
        let default = ParamValue::Text(default.to_string());
        Self::new(name, ParamType::Text, default, help)
    }

    /// A duration parameter, its default in milliseconds.
    pub fn duration(name: &str, default_ms: u64, help: &str) -> Self {
        let default = ParamValue::Duration(default_ms);
        Self::new(name, ParamType::Duration, default, help)
    }

    fn new(name: &str, kind: ParamType, default: ParamValue, help: &str) -> Self {
        Self {
            name: name.to_string(),
            kind,
            default,
            help: help.to_string(),
        }
    }
}

impl ParamError {
    /// The plugin has no parameter called `name`.
    pub fn unknown(name: &str, message: impl Into<String>) -> Self {
        Self::new(name, ParamProblem::Unknown, message)
    }

    /// The value of `name` has another type than the parameter.
    pub fn wrong_type(name: &str, message: impl Into<String>) -> Self {
        Self::new(name, ParamProblem::WrongType, message)
    }

    /// The value of `name` is outside its range; `message` says what the
    /// range is, for example "must be at least 1ms".
    pub fn out_of_range(name: &str, message: impl Into<String>) -> Self {
        Self::new(name, ParamProblem::OutOfRange, message)
    }

    /// The value of `name` has the right type and range but is still
    /// unusable.
    pub fn invalid(name: &str, message: impl Into<String>) -> Self {
        Self::new(name, ParamProblem::Invalid, message)
    }

    fn new(name: &str, problem: ParamProblem, message: impl Into<String>) -> Self {
        Self {
            name: name.to_string(),
            problem,
            message: message.into(),
        }
    }
}

/// A value for every declared parameter: the configured one, or the default.
///
/// Values have been checked against their spec's type, so the typed getters
/// cannot meet a value of another type. They do panic when asked for a name
/// the plugin never declared, or with the getter of another type: that is a
/// bug in the plugin (its first unit test finds it), not in the
/// configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct Params {
    values: Vec<(String, ParamValue)>,
}

impl Params {
    /// Checks `given` against `specs` and fills in the defaults.
    ///
    /// Refuses a name that no spec declares ([`ParamProblem::Unknown`]), a
    /// value of another type ([`ParamProblem::WrongType`]) and a name given
    /// twice ([`ParamProblem::Invalid`]). An integer is accepted for a float
    /// parameter, as the contract allows a whole number there.
    pub fn parse(specs: &[ParamSpec], given: &[Param]) -> Result<Self, ParamError> {
        let mut values: Vec<Option<ParamValue>> = vec![None; specs.len()];

        for param in given {
            let Some(slot) = specs.iter().position(|spec| spec.name == param.name) else {
                return Err(ParamError::unknown(
                    &param.name,
                    format!("no such parameter; expected one of {}", names(specs)),
                ));
            };
            if values[slot].is_some() {
                return Err(ParamError::invalid(&param.name, "given more than once"));
            }
            values[slot] = Some(typed(&specs[slot], &param.value)?);
        }

        let values = specs
            .iter()
            .zip(values)
            .map(|(spec, value)| {
                let value = value.unwrap_or_else(|| spec.default.clone());
                (spec.name.clone(), value)
            })
            .collect();
        Ok(Self { values })
    }

    /// The value of the float parameter `name`.
    pub fn float(&self, name: &str) -> f64 {
        match self.get(name) {
            ParamValue::Float(value) => *value,
            other => self.mistyped(name, other),
        }
    }

    /// The value of the integer parameter `name`.
    pub fn integer(&self, name: &str) -> i64 {
        match self.get(name) {
            ParamValue::Integer(value) => *value,
            other => self.mistyped(name, other),
        }
    }

    /// The value of the boolean parameter `name`.
    pub fn boolean(&self, name: &str) -> bool {
        match self.get(name) {
            ParamValue::Boolean(value) => *value,
            other => self.mistyped(name, other),
        }
    }

    /// The value of the text parameter `name`.
    pub fn text(&self, name: &str) -> &str {
        match self.get(name) {
            ParamValue::Text(value) => value,
            other => self.mistyped(name, other),
        }
    }

    /// The value of the duration parameter `name`, in milliseconds.
    pub fn duration(&self, name: &str) -> u64 {
        match self.get(name) {
            ParamValue::Duration(value) => *value,
            other => self.mistyped(name, other),
        }
    }

    /// The value of the duration parameter `name` as a trailing window: at
    /// least 1ms (an empty window would silently switch the rule off) and at
    /// most [`MAX_WINDOW_MS`].
    pub fn window(&self, name: &str) -> Result<i64, ParamError> {
        let window = self.duration(name);
        if !(1..=MAX_WINDOW_MS).contains(&window) {
            return Err(ParamError::out_of_range(
                name,
                format!("must be between 1ms and {}", Millis(MAX_WINDOW_MS)),
            ));
        }
        Ok(window as i64)
    }

    fn get(&self, name: &str) -> &ParamValue {
        self.values
            .iter()
            .find(|(declared, _)| declared == name)
            .map(|(_, value)| value)
            .unwrap_or_else(|| panic!("bug: parameter '{name}' is not declared by the plugin"))
    }

    fn mistyped(&self, name: &str, value: &ParamValue) -> ! {
        panic!(
            "bug: parameter '{name}' holds {}, read with the getter of another type",
            type_name(value)
        )
    }
}

/// `value` as the type `spec` declares, or why it is not.
fn typed(spec: &ParamSpec, value: &ParamValue) -> Result<ParamValue, ParamError> {
    match (spec.kind, value) {
        (ParamType::Float, ParamValue::Float(_))
        | (ParamType::Integer, ParamValue::Integer(_))
        | (ParamType::Boolean, ParamValue::Boolean(_))
        | (ParamType::Text, ParamValue::Text(_))
        | (ParamType::Duration, ParamValue::Duration(_)) => Ok(value.clone()),
        (ParamType::Float, ParamValue::Integer(whole)) => Ok(ParamValue::Float(*whole as f64)),
        (kind, value) => Err(ParamError::wrong_type(
            &spec.name,
            format!("expected {}, got {}", kind_name(kind), type_name(value)),
        )),
    }
}

fn kind_name(kind: ParamType) -> &'static str {
    match kind {
        ParamType::Float => "a float",
        ParamType::Integer => "an integer",
        ParamType::Boolean => "a boolean",
        ParamType::Text => "a text",
        ParamType::Duration => "a duration",
    }
}

fn type_name(value: &ParamValue) -> &'static str {
    match value {
        ParamValue::Float(_) => kind_name(ParamType::Float),
        ParamValue::Integer(_) => kind_name(ParamType::Integer),
        ParamValue::Boolean(_) => kind_name(ParamType::Boolean),
        ParamValue::Text(_) => kind_name(ParamType::Text),
        ParamValue::Duration(_) => kind_name(ParamType::Duration),
    }
}

fn names(specs: &[ParamSpec]) -> String {
    let names: Vec<&str> = specs.iter().map(|spec| spec.name.as_str()).collect();
    names.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn specs() -> Vec<ParamSpec> {
        vec![
            ParamSpec::float("limit", 2.5, "a float"),
            ParamSpec::integer("count", 7, "an integer"),
            ParamSpec::boolean("strict", false, "a boolean"),
            ParamSpec::text("label", "none", "a text"),
            ParamSpec::duration("window", 600_000, "a duration"),
        ]
    }

    fn param(name: &str, value: ParamValue) -> Param {
        Param {
            name: name.to_string(),
            value,
        }
    }

    #[test]
    fn parameters_left_out_take_their_defaults() {
        let params = Params::parse(&specs(), &[]).unwrap();

        assert_eq!(params.float("limit"), 2.5);
        assert_eq!(params.integer("count"), 7);
        assert!(!params.boolean("strict"));
        assert_eq!(params.text("label"), "none");
        assert_eq!(params.duration("window"), 600_000);
    }

    #[test]
    fn given_parameters_replace_the_defaults() {
        let given = [
            param("window", ParamValue::Duration(90_000)),
            param("strict", ParamValue::Boolean(true)),
            param("label", ParamValue::Text("x".into())),
        ];

        let params = Params::parse(&specs(), &given).unwrap();

        assert_eq!(params.duration("window"), 90_000);
        assert!(params.boolean("strict"));
        assert_eq!(params.text("label"), "x");
        assert_eq!(params.integer("count"), 7);
    }

    #[test]
    fn a_whole_number_is_accepted_for_a_float() {
        let given = [param("limit", ParamValue::Integer(3))];

        let params = Params::parse(&specs(), &given).unwrap();

        assert_eq!(params.float("limit"), 3.0);
    }

    #[test]
    fn an_unknown_name_is_refused_and_named() {
        let given = [param("limt", ParamValue::Float(1.0))];

        let err = Params::parse(&specs(), &given).unwrap_err();

        assert_eq!(err.name, "limt");
        assert_eq!(err.problem, ParamProblem::Unknown);
        assert_eq!(
            err.message,
            "no such parameter; expected one of limit, count, strict, label, window"
        );
    }

    #[test]
    fn a_value_of_another_type_is_refused_and_named() {
        let given = [param("window", ParamValue::Float(10.0))];

        let err = Params::parse(&specs(), &given).unwrap_err();

        assert_eq!(err.name, "window");
        assert_eq!(err.problem, ParamProblem::WrongType);
        assert_eq!(err.message, "expected a duration, got a float");
    }

    #[test]
    fn a_float_is_not_accepted_for_an_integer() {
        let given = [param("count", ParamValue::Float(1.0))];

        let err = Params::parse(&specs(), &given).unwrap_err();

        assert_eq!(err.problem, ParamProblem::WrongType);
        assert_eq!(err.message, "expected an integer, got a float");
    }

    #[test]
    fn a_name_given_twice_is_refused() {
        let given = [
            param("count", ParamValue::Integer(1)),
            param("count", ParamValue::Integer(2)),
        ];

        let err = Params::parse(&specs(), &given).unwrap_err();

        assert_eq!(err, ParamError::invalid("count", "given more than once"));
    }

    #[test]
    fn a_window_must_be_between_1ms_and_a_day() {
        let window = |ms| Params::parse(&specs(), &[param("window", ParamValue::Duration(ms))]);

        assert_eq!(window(1).unwrap().window("window"), Ok(1));
        assert_eq!(window(86_400_000).unwrap().window("window"), Ok(86_400_000));
        for ms in [0, 86_400_001] {
            let err = window(ms).unwrap().window("window").unwrap_err();
            assert_eq!(
                err,
                ParamError::out_of_range("window", "must be between 1ms and 1d")
            );
        }
    }

    #[test]
    #[should_panic(expected = "parameter 'limits' is not declared")]
    fn reading_an_undeclared_name_is_a_plugin_bug() {
        Params::parse(&specs(), &[]).unwrap().float("limits");
    }

    #[test]
    #[should_panic(expected = "parameter 'count' holds an integer")]
    fn reading_with_the_wrong_getter_is_a_plugin_bug() {
        Params::parse(&specs(), &[]).unwrap().float("count");
    }
}
