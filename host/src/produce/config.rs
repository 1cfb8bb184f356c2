//! The `[alphavantage]` section of `tickhost.toml` and the API key.
//!
//! ```toml
//! [alphavantage]
//! api-key = "..."          # or ALPHAVANTAGE_API_KEY, which wins
//! base-url = "https://www.alphavantage.co"
//! per-minute = 5           # the free tier's limits
//! per-day = 25
//! min-gap = "1s"           # between two requests: the free tier allows 1 a second
//! timeout = "10s"
//! retry-backoff = "1s"     # first wait after a timeout, 5xx, refused connection
//! rate-limit-backoff = "15s"  # first wait after a rate-limit answer
//! ```
//!
//! The key is never taken from a flag, where it would land in shell history.
//! [`ApiKey`] keeps it out of `Debug` output; [`ApiKey::redact`] takes it
//! out of any text before it is printed or stored.

use std::fmt;
use std::time::Duration;

use serde::Deserialize;

use super::backoff::{self, Policy};
use crate::duration;

/// The environment variable holding the API key.
pub const API_KEY_ENV: &str = "ALPHAVANTAGE_API_KEY";

/// Where the API lives unless `base-url` or `--base-url` says otherwise.
pub const DEFAULT_BASE_URL: &str = "https://www.alphavantage.co";

/// The free tier allows 5 requests a minute.
pub const DEFAULT_PER_MINUTE: u32 = 5;

/// The free tier allows 25 requests a day.
pub const DEFAULT_PER_DAY: u32 = 25;

/// The free tier allows one request a second.
pub const DEFAULT_MIN_GAP: Duration = Duration::from_secs(1);

/// How long one request may take. The API usually answers within a second;
/// past ten it is stuck, and retrying is better than waiting on.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// What replaces the key wherever it would appear.
pub const REDACTED: &str = "REDACTED";

/// An Alpha Vantage API key. Its `Debug` and `Display` never show it.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(String);

impl ApiKey {
    pub fn new(key: impl Into<String>) -> ApiKey {
        ApiKey(key.into())
    }

    /// The key itself, for the request and nothing else.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// `text` with every occurrence of the key replaced by [`REDACTED`]:
    /// the key as it is, and in every way a URL or a JSON string may write
    /// it. Each of its bytes may appear as itself or percent-encoded in
    /// either case of hex (RFC 3986 leaves `~` alone, form encoding writes
    /// `%7E`), a space also as `+` (form encoding), and `"`, `\\` and `/`
    /// also backslash-escaped (JSON), in any mix.
    pub fn redact(&self, text: &str) -> String {
        if self.0.is_empty() {
            return text.to_string();
        }
        let key = self.0.as_bytes();
        let bytes = text.as_bytes();
        let mut out = Vec::with_capacity(bytes.len());
        let mut at = 0;
        while at < bytes.len() {
            match match_key(key, &bytes[at..]) {
                Some(len) => {
                    out.extend_from_slice(REDACTED.as_bytes());
                    at += len;
                }
                None => {
                    out.push(bytes[at]);
                    at += 1;
                }
            }
        }
        // A match starts and ends where the key's characters do, so the
        // text stays UTF-8; lossy only as a guard.
        String::from_utf8_lossy(&out).into_owned()
    }
}

/// The length of the key written at the start of `text`, in any of the
/// forms [`ApiKey::redact`] knows.
fn match_key(key: &[u8], text: &[u8]) -> Option<usize> {
    let Some((&byte, key_rest)) = key.split_first() else {
        return Some(0);
    };
    // The ways `byte` may be written at the start of `text`. A backslash
    // may be itself or the start of `\\`, so every way is tried in turn.
    let raw = text.first() == Some(&byte);
    let percent = text.len() >= 3 && text[0] == b'%' && hex_byte(text[1], text[2]) == Some(byte);
    let plus = byte == b' ' && text.first() == Some(&b'+');
    let escaped = matches!(byte, b'"' | b'\\' | b'/') && text.starts_with(&[b'\\', byte]);
    [(raw, 1), (percent, 3), (plus, 1), (escaped, 2)]
        .into_iter()
        .filter(|&(applies, _)| applies)
        .find_map(|(_, len)| match_key(key_rest, &text[len..]).map(|rest| len + rest))
}

fn hex_byte(high: u8, low: u8) -> Option<u8> {
    let digit = |c: u8| (c as char).to_digit(16);
    Some((digit(high)? * 16 + digit(low)?) as u8)
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl fmt::Display for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

/// How tickhost talks to Alpha Vantage.
#[derive(Debug, Clone, PartialEq)]
pub struct AlphaVantageConfig {
    /// From the environment or the file; `None` when neither has one.
    pub api_key: Option<ApiKey>,
    pub base_url: String,
    /// Requests allowed in any 60 seconds, across every symbol.
    pub per_minute: u32,
    /// Requests allowed in any 24 hours, across every symbol.
    pub per_day: u32,
    /// The least time between two requests, across every symbol.
    pub min_gap: Duration,
    /// The most one request may take.
    pub timeout: Duration,
    /// Backoff after a timeout, a 5xx or a refused connection.
    pub retry: Policy,
    /// Backoff after a rate-limit answer.
    pub rate_limit: Policy,
}

impl Default for AlphaVantageConfig {
    fn default() -> Self {
        AlphaVantageConfig {
            api_key: None,
            base_url: DEFAULT_BASE_URL.to_string(),
            per_minute: DEFAULT_PER_MINUTE,
            per_day: DEFAULT_PER_DAY,
            min_gap: DEFAULT_MIN_GAP,
            timeout: DEFAULT_TIMEOUT,
            retry: backoff::TRANSIENT,
            rate_limit: backoff::RATE_LIMIT,
        }
    }
}

/// The section as written; every key is optional.
#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(crate) struct AlphaVantageFile {
    api_key: Option<String>,
    base_url: Option<String>,
    per_minute: Option<u32>,
    per_day: Option<u32>,
    min_gap: Option<String>,
    timeout: Option<String>,
    retry_backoff: Option<String>,
    rate_limit_backoff: Option<String>,
}

impl fmt::Debug for AlphaVantageFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AlphaVantageFile")
            .field("base_url", &self.base_url)
            .finish_non_exhaustive()
    }
}

impl AlphaVantageFile {
    /// The file's settings over the defaults, then the key from the
    /// environment (`env` is `std::env::var` outside tests).
    pub(crate) fn resolve(
        self,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<AlphaVantageConfig, String> {
        let mut config = AlphaVantageConfig::default();
        let key = env(API_KEY_ENV).or(self.api_key).filter(|k| !k.is_empty());
        config.api_key = key.map(ApiKey::new);
        if let Some(url) = self.base_url {
            config.base_url = url;
        }
        if let Some(n) = self.per_minute {
            if n == 0 {
                return Err("alphavantage.per-minute must be at least 1".to_string());
            }
            config.per_minute = n;
        }
        if let Some(n) = self.per_day {
            if n == 0 {
                return Err("alphavantage.per-day must be at least 1".to_string());
            }
            config.per_day = n;
        }
        if let Some(text) = self.min_gap {
            config.min_gap =
                duration::parse(&text).map_err(|e| format!("alphavantage.min-gap: {e}"))?;
        }
        if let Some(text) = self.timeout {
            config.timeout =
                duration::parse(&text).map_err(|e| format!("alphavantage.timeout: {e}"))?;
        }
        if let Some(text) = self.retry_backoff {
            config.retry.base =
                duration::parse(&text).map_err(|e| format!("alphavantage.retry-backoff: {e}"))?;
        }
        if let Some(text) = self.rate_limit_backoff {
            config.rate_limit.base = duration::parse(&text)
                .map_err(|e| format!("alphavantage.rate-limit-backoff: {e}"))?;
        }
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolve(text: &str, env: Option<&str>) -> Result<AlphaVantageConfig, String> {
        let file: AlphaVantageFile = toml::from_str(text).map_err(|e| e.to_string())?;
        file.resolve(|name| {
            assert_eq!(name, API_KEY_ENV);
            env.map(str::to_string)
        })
    }

    #[test]
    fn the_environment_key_wins_over_the_file() {
        let config = resolve("api-key = \"FILE\"", Some("ENV")).unwrap();
        assert_eq!(config.api_key, Some(ApiKey::new("ENV")));

        let config = resolve("api-key = \"FILE\"", None).unwrap();
        assert_eq!(config.api_key, Some(ApiKey::new("FILE")));

        assert_eq!(resolve("", Some("")).unwrap().api_key, None);
    }

    #[test]
    fn limits_and_timeout_are_read_and_checked() {
        let config = resolve(
            "per-minute = 75\nper-day = 1000\ntimeout = \"2s\"\nretry-backoff = \"10ms\"\n\
             min-gap = \"250ms\"",
            None,
        )
        .unwrap();
        assert_eq!(config.min_gap, Duration::from_millis(250));
        assert_eq!(
            resolve("", None).unwrap().min_gap,
            Duration::from_secs(1),
            "one request a second unless told otherwise"
        );
        assert_eq!(config.retry.base, Duration::from_millis(10));
        assert_eq!(config.rate_limit, backoff::RATE_LIMIT);
        assert_eq!(config.per_minute, 75);
        assert_eq!(config.per_day, 1000);
        assert_eq!(config.timeout, Duration::from_secs(2));

        assert!(
            resolve("per-minute = 0", None)
                .unwrap_err()
                .contains("per-minute")
        );
        assert!(
            resolve("apikey = \"x\"", None)
                .unwrap_err()
                .contains("unknown field")
        );
    }

    #[test]
    fn the_key_never_shows_in_debug_output_and_is_redacted_from_text() {
        let key = ApiKey::new("S3CRET+KEY");
        let config = AlphaVantageConfig {
            api_key: Some(key.clone()),
            ..AlphaVantageConfig::default()
        };

        assert!(!format!("{config:?}").contains("S3CRET"));
        assert_eq!(
            key.redact("apikey=S3CRET+KEY and apikey=S3CRET%2BKEY"),
            "apikey=REDACTED and apikey=REDACTED"
        );
    }

    #[test]
    fn every_encoding_of_the_key_is_redacted() {
        let key = ApiKey::new(r#"K~E Y/\"q"#);
        let forms = [
            r#"K~E Y/\"q"#,            // as it is
            "K%7EE+Y%2F%5C%22q",       // form-encoded, as the request's URL has it
            "K~E%20Y%2F%5C%22q",       // RFC 3986
            "K%7eE%20Y%2f%5c%22q",     // lower-case hex
            "K%7E%45%20%59/%5C%22%71", // more encoded than needed
            r#"K~E Y\/\\\"q"#,         // JSON-escaped
        ];
        for form in forms {
            let text = format!("é before {form} after {form}");
            assert_eq!(
                key.redact(&text),
                "é before REDACTED after REDACTED",
                "{form}"
            );
        }
        // Near misses stay as they are.
        for text in ["K~E", r#"K~E  Y/\"q"#, r#"K~E+Y/\"Q"#, r#"K%7GE Y/\"q"#] {
            assert_eq!(key.redact(text), text);
        }
        assert_eq!(ApiKey::new("").redact("text"), "text");
    }
}
