//! The HTTP side of Alpha Vantage: one request for one symbol, the body
//! returned as it came, every failure sorted into transient or not, and the
//! key kept out of every message.
//!
//! reqwest puts the request URL, key included, into its errors; each error
//! here is built from the error without its URL and then redacted again,
//! so that no path leads the key into a log line or an error message.

use std::time::Duration;

use async_trait::async_trait;

use super::config::ApiKey;

/// Which series a request asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Function {
    /// `TIME_SERIES_INTRADAY` at an interval (`1min`, `5min` ...).
    Intraday { interval: String },
    /// `GLOBAL_QUOTE`: the latest price and the day's volume.
    Quote,
}

/// Why a request got no answer to read. The messages never hold the key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransportError {
    #[error("request timed out after {0:?}")]
    Timeout(Duration),
    #[error("failed to connect: {0}")]
    Connect(String),
    #[error("server error: HTTP {0}")]
    Server(u16),
    #[error("request refused: HTTP {0}")]
    Refused(u16),
    #[error("request failed: {0}")]
    Other(String),
}

impl TransportError {
    /// Whether retrying later can help: timeouts, connection failures, 5xx
    /// and 429. Any other 4xx is a request the server will never accept.
    pub fn is_transient(&self) -> bool {
        match self {
            TransportError::Timeout(_)
            | TransportError::Connect(_)
            | TransportError::Server(_)
            | TransportError::Other(_) => true,
            TransportError::Refused(status) => *status == 429,
        }
    }
}

/// Something that fetches the body of one request; the producer's loop is
/// written against it so that its tests can script the answers.
#[async_trait]
pub trait Fetch: Send + Sync {
    async fn fetch(&self, symbol: &str, function: &Function) -> Result<String, TransportError>;
}

/// An Alpha Vantage client.
#[derive(Debug)]
pub struct Client {
    http: reqwest::Client,
    base_url: String,
    key: ApiKey,
    timeout: Duration,
}

impl Client {
    /// A client of the API at `base_url` (`https://www.alphavantage.co`).
    pub fn new(base_url: &str, key: ApiKey, timeout: Duration) -> Result<Client, TransportError> {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .user_agent(concat!("tickhost/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| TransportError::Other(e.without_url().to_string()))?;
        Ok(Client {
            http,
            base_url: base_url.trim_end_matches('/').to_string(),
            key,
            timeout,
        })
    }

    /// The URL of a request, key included: for the request only.
    fn url(&self, symbol: &str, function: &Function) -> Result<reqwest::Url, TransportError> {
        let mut url = reqwest::Url::parse(&format!("{}/query", self.base_url))
            .map_err(|e| TransportError::Other(format!("invalid base URL: {e}")))?;
        {
            let mut query = url.query_pairs_mut();
            match function {
                Function::Intraday { interval } => {
                    query
                        .append_pair("function", "TIME_SERIES_INTRADAY")
                        .append_pair("symbol", symbol)
                        .append_pair("interval", interval);
                }
                Function::Quote => {
                    query
                        .append_pair("function", "GLOBAL_QUOTE")
                        .append_pair("symbol", symbol);
                }
            }
            query.append_pair("apikey", self.key.expose());
        }
        Ok(url)
    }

    /// The URL of a request as it may be printed: the key redacted.
    pub fn display_url(&self, symbol: &str, function: &Function) -> String {
        match self.url(symbol, function) {
            Ok(url) => self.key.redact(url.as_str()),
            Err(e) => self.key.redact(&e.to_string()),
        }
    }

    fn error(&self, e: reqwest::Error) -> TransportError {
        let error = if e.is_timeout() {
            TransportError::Timeout(self.timeout)
        } else if e.is_connect() {
            TransportError::Connect(source_chain(&e.without_url()))
        } else {
            TransportError::Other(source_chain(&e.without_url()))
        };
        match error {
            TransportError::Connect(text) => TransportError::Connect(self.key.redact(&text)),
            TransportError::Other(text) => TransportError::Other(self.key.redact(&text)),
            other => other,
        }
    }
}

#[async_trait]
impl Fetch for Client {
    async fn fetch(&self, symbol: &str, function: &Function) -> Result<String, TransportError> {
        let url = self.url(symbol, function)?;
        tracing::debug!(url = %self.display_url(symbol, function), "request");

        let response = self.http.get(url).send().await.map_err(|e| self.error(e))?;
        let status = response.status();
        if status.is_server_error() {
            return Err(TransportError::Server(status.as_u16()));
        }
        if !status.is_success() {
            return Err(TransportError::Refused(status.as_u16()));
        }
        // Stored and printed bodies never hold the key, even if a server
        // echoes the request back.
        let body = response.text().await.map_err(|e| self.error(e))?;
        Ok(self.key.redact(&body))
    }
}

/// An error and its causes, `: `-separated, as `{:#}` prints them.
fn source_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_carry_the_key_but_print_without_it() {
        let client = Client::new(
            "http://127.0.0.1:9/",
            ApiKey::new("SENTINEL"),
            Duration::from_secs(1),
        )
        .unwrap();
        let function = Function::Intraday {
            interval: "1min".into(),
        };

        let url = client.url("GOOG", &function).unwrap();
        assert_eq!(
            url.as_str(),
            "http://127.0.0.1:9/query?function=TIME_SERIES_INTRADAY&symbol=GOOG\
             &interval=1min&apikey=SENTINEL"
        );
        assert!(
            client
                .display_url("GOOG", &function)
                .ends_with("apikey=REDACTED")
        );
    }

    #[tokio::test]
    async fn a_refused_connection_is_transient_and_names_no_key() {
        let client = Client::new(
            "http://127.0.0.1:9",
            ApiKey::new("SENTINEL"),
            Duration::from_secs(1),
        )
        .unwrap();

        let err = client.fetch("GOOG", &Function::Quote).await.unwrap_err();

        assert!(err.is_transient(), "{err}");
        assert!(!format!("{err} {err:?}").contains("SENTINEL"), "{err:?}");
    }
}
