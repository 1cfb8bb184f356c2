//! What an Alpha Vantage answer says: a series, a quote, or one of the
//! errors the API sends with HTTP 200 and a JSON body.
//!
//! The shapes are those of the API's documentation (`host/data/alphavantage`
//! holds an example of each). This module only reads the JSON; turning its
//! strings into ticks is [`super::clean`]'s job.

use std::collections::BTreeMap;

use serde::Deserialize;

/// The error bodies, told apart by their key and wording.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiError {
    /// `Note` or `Information` about the request frequency: wait and retry.
    #[error("rate limited by Alpha Vantage: {0}")]
    RateLimit(String),
    /// `Information` saying the endpoint itself is premium ("This is a
    /// premium endpoint"): waiting does not help.
    #[error("premium endpoint: {0}")]
    Premium(String),
    /// The key is missing, invalid or the demo key: nothing works.
    #[error("the API key was refused: {0}")]
    InvalidKey(String),
    /// `Error Message` for any other call, usually an unknown symbol.
    #[error("invalid call (unknown symbol?): {0}")]
    InvalidCall(String),
}

/// A body that is JSON but none of the shapes asked for.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unexpected response: {0}")]
pub struct Unexpected(pub String);

/// One answer of the API.
#[derive(Debug, Clone, PartialEq)]
pub enum Response {
    Intraday(Intraday),
    Quote(Quote),
}

/// A `TIME_SERIES_INTRADAY` answer, its fields still the API's strings.
#[derive(Debug, Clone, PartialEq)]
pub struct Intraday {
    pub symbol: String,
    /// The IANA name of the zone the series' times are in (`US/Eastern`).
    pub time_zone: String,
    /// Bar time (`2024-03-08 19:55:00`) to its fields (`4. close` ...).
    pub bars: BTreeMap<String, BTreeMap<String, String>>,
}

/// A `GLOBAL_QUOTE` answer's fields (`05. price`, `06. volume` ...).
#[derive(Debug, Clone, PartialEq)]
pub struct Quote {
    pub fields: BTreeMap<String, String>,
}

#[derive(Deserialize)]
struct IntradayBody {
    #[serde(rename = "Meta Data")]
    meta: BTreeMap<String, String>,
    #[serde(flatten)]
    rest: BTreeMap<String, serde_json::Value>,
}

/// Reads a body: a series or quote, an API error, or something else.
pub fn parse(body: &str) -> Result<Result<Response, Unexpected>, ApiError> {
    let value: serde_json::Value = match serde_json::from_str(body) {
        Ok(value) => value,
        Err(e) => return Ok(Err(Unexpected(format!("not JSON: {e}")))),
    };
    let Some(object) = value.as_object() else {
        return Ok(Err(Unexpected("not a JSON object".to_string())));
    };
    if let Some(error) = classify(object) {
        return Err(error);
    }

    if let Some(quote) = object.get("Global Quote") {
        // The API answers an unknown symbol's quote with an empty object
        // rather than an error body.
        if quote.as_object().is_some_and(|fields| fields.is_empty()) {
            return Err(ApiError::InvalidCall(
                "'Global Quote' is empty: no quote for this symbol".into(),
            ));
        }
        return Ok(parse_quote(quote));
    }
    if object.contains_key("Meta Data") {
        return Ok(parse_intraday(value));
    }
    let keys: Vec<&String> = object.keys().collect();
    Ok(Err(Unexpected(format!(
        "no series or quote among {keys:?}"
    ))))
}

/// The error a body carries, if it is one.
fn classify(object: &serde_json::Map<String, serde_json::Value>) -> Option<ApiError> {
    let text = |key: &str| {
        object
            .get(key)
            .map(|v| v.as_str().unwrap_or("").to_string())
    };

    if let Some(message) = text("Error Message") {
        let lower = message.to_lowercase();
        if lower.contains("apikey") || lower.contains("api key") {
            return Some(ApiError::InvalidKey(message));
        }
        return Some(ApiError::InvalidCall(message));
    }
    let notice = text("Note").or_else(|| text("Information"))?;
    Some(classify_notice(notice))
}

/// Words that only a rate-limit notice uses. Every notice of the API links
/// the premium plans, and the per-second one even promises to "unlock all
/// premium endpoints", so these are looked for before anything else.
const RATE_LIMIT_WORDS: [&str; 6] = [
    "rate limit",
    "sparingly",
    "per second",
    "requests per day",
    "call frequency",
    "calls per minute",
];

/// A `Note` or `Information` notice: a rate limit unless it says the
/// endpoint itself is premium or the key is refused. An unknown notice is
/// read as a rate limit, which waits and asks again rather than stopping.
fn classify_notice(notice: String) -> ApiError {
    let lower = notice.to_lowercase();
    if RATE_LIMIT_WORDS.iter().any(|words| lower.contains(words)) {
        ApiError::RateLimit(notice)
    } else if lower.contains("is a premium endpoint") {
        ApiError::Premium(notice)
    } else if lower.contains("api key") && (lower.contains("invalid") || lower.contains("demo")) {
        ApiError::InvalidKey(notice)
    } else {
        ApiError::RateLimit(notice)
    }
}

fn parse_quote(quote: &serde_json::Value) -> Result<Response, Unexpected> {
    let fields: BTreeMap<String, String> = serde_json::from_value(quote.clone())
        .map_err(|e| Unexpected(format!("'Global Quote' is not an object of strings: {e}")))?;
    Ok(Response::Quote(Quote { fields }))
}

fn parse_intraday(value: serde_json::Value) -> Result<Response, Unexpected> {
    let body: IntradayBody = serde_json::from_value(value)
        .map_err(|e| Unexpected(format!("'Meta Data' is not an object of strings: {e}")))?;
    let meta = |suffix: &str| {
        body.meta
            .iter()
            .find(|(key, _)| key.ends_with(suffix))
            .map(|(_, value)| value.clone())
            .ok_or_else(|| Unexpected(format!("'Meta Data' has no '{suffix}'")))
    };
    let symbol = meta("Symbol")?;
    let time_zone = meta("Time Zone")?;

    let (name, series) = body
        .rest
        .into_iter()
        .find(|(key, _)| key.starts_with("Time Series"))
        .ok_or_else(|| Unexpected("no 'Time Series' beside 'Meta Data'".into()))?;
    // A bar's fields are read one by one, so that a bar with a bad field is
    // rejected by the cleaner with a reason instead of failing the answer.
    let serde_json::Value::Object(series) = series else {
        return Err(Unexpected(format!("'{name}' is not an object")));
    };
    let bars = series
        .into_iter()
        .map(|(time, bar)| {
            let fields = match bar {
                serde_json::Value::Object(fields) => fields
                    .into_iter()
                    .filter_map(|(k, v)| match v {
                        serde_json::Value::String(s) => Some((k, s)),
                        serde_json::Value::Number(n) => Some((k, n.to_string())),
                        _ => None,
                    })
                    .collect(),
                _ => BTreeMap::new(),
            };
            (time, fields)
        })
        .collect();
    Ok(Response::Intraday(Intraday {
        symbol,
        time_zone,
        bars,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/data/alphavantage");

    fn body(name: &str) -> String {
        std::fs::read_to_string(format!("{DATA}/{name}")).unwrap()
    }

    #[test]
    fn reads_the_recorded_series_and_quote() {
        let Ok(Ok(Response::Intraday(series))) = parse(&body("intraday-goog-1min.json")) else {
            panic!("a series")
        };
        assert_eq!(series.symbol, "GOOG");
        assert_eq!(series.time_zone, "US/Eastern");
        assert!(!series.bars.is_empty());

        let Ok(Ok(Response::Quote(quote))) = parse(&body("quote-goog.json")) else {
            panic!("a quote")
        };
        assert_eq!(quote.fields["01. symbol"], "GOOG");
    }

    #[test]
    fn recognises_every_error_body() {
        let cases = [
            ("error-rate-limit-note.json", "rate limited"),
            ("error-rate-limit-information.json", "rate limited"),
            ("error-rate-limit-daily.json", "rate limited"),
            ("error-rate-limit-per-second.json", "rate limited"),
            ("error-premium.json", "premium endpoint"),
            ("error-invalid-key.json", "API key was refused"),
            ("error-invalid-symbol.json", "invalid call"),
        ];
        let empty_quote = parse(r#"{"Global Quote": {}}"#);
        assert!(matches!(empty_quote, Err(ApiError::InvalidCall(_))));
        for (file, expected) in cases {
            let err = parse(&body(file)).expect_err(file).to_string();
            assert!(err.contains(expected), "{file}: {err}");
        }
    }

    #[test]
    fn rate_limits_that_mention_premium_endpoints_or_the_key_are_rate_limits() {
        // The per-second notice promises to "unlock all premium endpoints",
        // and the daily one names the key: both are still rate limits.
        for file in [
            "error-rate-limit-daily.json",
            "error-rate-limit-per-second.json",
        ] {
            assert!(
                matches!(parse(&body(file)), Err(ApiError::RateLimit(_))),
                "{file}"
            );
        }
        // Even when the key it detected is the demo key.
        let demo = r#"{"Information": "We have detected your API key as demo and our standard API rate limit is 25 requests per day."}"#;
        assert!(matches!(parse(demo), Err(ApiError::RateLimit(_))));
        // Only a notice that the endpoint itself is premium stops.
        assert!(matches!(
            parse(&body("error-premium.json")),
            Err(ApiError::Premium(_))
        ));
        let unknown = r#"{"Information": "Thank you for using Alpha Vantage!"}"#;
        assert!(matches!(parse(unknown), Err(ApiError::RateLimit(_))));
    }

    #[test]
    fn other_bodies_are_unexpected_not_errors() {
        for text in ["<html>", "[]", "{}", r#"{"Global Quote":[]}"#] {
            assert!(matches!(parse(text), Ok(Err(Unexpected(_)))), "{text}");
        }
    }
}
