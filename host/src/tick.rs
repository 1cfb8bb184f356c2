//! The tick: its wire form, parsing, and the checks a tick must pass before
//! any plugin sees it.
//!
//! Every way a tick enters tickhost (a Kafka message, a line of an input file,
//! a cleaned Alpha Vantage row) goes through [`Tick::parse_json`] or
//! [`RawTick::validate`], so the reasons a tick is rejected live here and
//! nowhere else. Plugins can rely on what this module guarantees: a
//! non-empty symbol, a finite price above zero, a volume of zero or more.

use serde::{Deserialize, Serialize};

/// The largest serialised tick accepted. A tick is four small fields; anything
/// much larger is not a tick, and refusing it early bounds the memory a
/// hostile producer can make us hold per message.
pub const MAX_TICK_BYTES: usize = 4096;

/// The longest symbol accepted. Exchange symbols are short; the limit keeps
/// per-symbol state keys bounded.
pub const MAX_SYMBOL_LEN: usize = 32;

/// A validated market tick.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Tick {
    /// The instrument, for example `GOOG`.
    pub symbol: String,
    /// Event time in milliseconds since the Unix epoch (UTC).
    pub ts: i64,
    /// Last traded price; finite and above zero.
    pub price: f64,
    /// Traded volume.
    pub volume: u64,
}

/// A tick as it arrives, before validation. Volume is signed so that a
/// negative volume is reported as such rather than as a type error.
#[derive(Debug, Clone, Deserialize)]
pub struct RawTick {
    pub symbol: String,
    pub ts: i64,
    pub price: f64,
    pub volume: i64,
}

/// Why an input is not a valid tick. The message is the reason recorded in
/// the rejection or dead-letter record.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TickError {
    #[error("not a tick: {0}")]
    Malformed(String),
    #[error("tick of {0} bytes exceeds the limit of {MAX_TICK_BYTES} bytes")]
    Oversized(usize),
    #[error("symbol is empty")]
    EmptySymbol,
    #[error("symbol of {0} characters exceeds the limit of {MAX_SYMBOL_LEN}")]
    SymbolTooLong(usize),
    #[error("symbol {0:?} contains a character other than A-Z, 0-9, '.', '-', '_' or '^'")]
    SymbolCharacters(String),
    #[error("price {0} is not a finite number")]
    PriceNotFinite(f64),
    #[error("price {0} is not above zero")]
    PriceNotPositive(f64),
    #[error("volume {0} is negative")]
    NegativeVolume(i64),
    #[error("timestamp {0} is before the Unix epoch")]
    NegativeTimestamp(i64),
}

impl Tick {
    /// Parses and validates one tick in its JSON form
    /// (`{"symbol":"GOOG","ts":1709562600000,"price":135.2,"volume":1200000}`).
    pub fn parse_json(bytes: &[u8]) -> Result<Tick, TickError> {
        if bytes.len() > MAX_TICK_BYTES {
            return Err(TickError::Oversized(bytes.len()));
        }
        let raw: RawTick =
            serde_json::from_slice(bytes).map_err(|e| TickError::Malformed(e.to_string()))?;
        raw.validate()
    }

    /// The tick's JSON form, as the input topic and input files carry it.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a tick always serialises")
    }
}

impl RawTick {
    /// Applies the checks every tick must pass before a plugin sees it.
    pub fn validate(self) -> Result<Tick, TickError> {
        let RawTick {
            symbol,
            ts,
            price,
            volume,
        } = self;

        if symbol.is_empty() {
            return Err(TickError::EmptySymbol);
        }
        let len = symbol.chars().count();
        if len > MAX_SYMBOL_LEN {
            return Err(TickError::SymbolTooLong(len));
        }
        if !symbol.chars().all(is_symbol_char) {
            return Err(TickError::SymbolCharacters(symbol));
        }
        if !price.is_finite() {
            return Err(TickError::PriceNotFinite(price));
        }
        if price <= 0.0 {
            return Err(TickError::PriceNotPositive(price));
        }
        if volume < 0 {
            return Err(TickError::NegativeVolume(volume));
        }
        if ts < 0 {
            return Err(TickError::NegativeTimestamp(ts));
        }

        Ok(Tick {
            symbol,
            ts,
            price,
            volume: volume as u64,
        })
    }
}

/// Symbols are upper-case tickers, with the punctuation that exchanges and
/// index providers use (`BRK.B`, `RDS-A`, `^GSPC`).
fn is_symbol_char(c: char) -> bool {
    c.is_ascii_uppercase() || c.is_ascii_digit() || matches!(c, '.' | '-' | '_' | '^')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<Tick, TickError> {
        Tick::parse_json(s.as_bytes())
    }

    #[test]
    fn parses_a_valid_tick() {
        let tick = parse(r#"{"symbol":"GOOG","ts":1709562600000,"price":135.25,"volume":1200000}"#)
            .unwrap();
        assert_eq!(
            tick,
            Tick {
                symbol: "GOOG".into(),
                ts: 1_709_562_600_000,
                price: 135.25,
                volume: 1_200_000
            }
        );
    }

    #[test]
    fn json_round_trips() {
        let tick = Tick {
            symbol: "BRK.B".into(),
            ts: 1,
            price: 0.1 + 0.2,
            volume: 0,
        };
        assert_eq!(parse(&tick.to_json()).unwrap(), tick);
    }

    #[test]
    fn rejects_each_bad_field_with_its_reason() {
        let cases = [
            (r#"not json"#, "not a tick: expected ident"),
            (
                r#"{"symbol":"GOOG","ts":1,"volume":5}"#,
                "missing field `price`",
            ),
            (
                r#"{"symbol":"GOOG","ts":1,"price":"NaN","volume":5}"#,
                "invalid type: string \"NaN\"",
            ),
            (
                r#"{"symbol":"GOOG","ts":1,"price":0,"volume":5}"#,
                "price 0 is not above zero",
            ),
            (
                r#"{"symbol":"GOOG","ts":1,"price":-3.5,"volume":5}"#,
                "price -3.5 is not above zero",
            ),
            (
                r#"{"symbol":"GOOG","ts":1,"price":1e999,"volume":5}"#,
                "not a tick",
            ),
            (
                r#"{"symbol":"GOOG","ts":1,"price":2,"volume":-5}"#,
                "volume -5 is negative",
            ),
            (
                r#"{"symbol":"","ts":1,"price":2,"volume":5}"#,
                "symbol is empty",
            ),
            (
                r#"{"symbol":"goog","ts":1,"price":2,"volume":5}"#,
                "contains a character",
            ),
            (
                r#"{"symbol":"GOOG","ts":-1,"price":2,"volume":5}"#,
                "before the Unix epoch",
            ),
            (
                r#"{"symbol":"GOOG","ts":"1","price":2,"volume":5}"#,
                "invalid type: string \"1\"",
            ),
        ];
        for (input, expected) in cases {
            let err = parse(input).expect_err(input).to_string();
            assert!(
                err.contains(expected),
                "{input}: got {err:?}, expected {expected:?}"
            );
        }
    }

    #[test]
    fn rejects_oversized_input_before_parsing() {
        let input = format!(r#"{{"symbol":"{}"}}"#, "A".repeat(MAX_TICK_BYTES));
        assert_eq!(parse(&input), Err(TickError::Oversized(input.len())));
    }

    #[test]
    fn rejects_long_symbols() {
        let raw = RawTick {
            symbol: "A".repeat(MAX_SYMBOL_LEN + 1),
            ts: 0,
            price: 1.0,
            volume: 0,
        };
        assert_eq!(
            raw.validate(),
            Err(TickError::SymbolTooLong(MAX_SYMBOL_LEN + 1))
        );
    }

    #[test]
    fn validate_catches_nan_from_non_json_sources() {
        let raw = RawTick {
            symbol: "GOOG".into(),
            ts: 0,
            price: f64::NAN,
            volume: 0,
        };
        assert!(matches!(raw.validate(), Err(TickError::PriceNotFinite(p)) if p.is_nan()));
    }
}
