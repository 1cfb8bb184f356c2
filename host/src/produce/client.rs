//! The HTTP side of Alpha Vantage: one request for one symbol, the body
//! returned as it came, every failure sorted into transient or not, and the
//! key kept out of every message.
//!
//! reqwest puts the request URL, key included, into its errors; each error
//! here is built from the error without its URL and then redacted again,
//! so that no path leads the key into a log line or an error message. The
//! URL that may be printed is built with `apikey=REDACTED` in the first
//! place, not by taking the key out of the real one, and redirects are not
//! followed, so that no other server is handed the key.

use std::time::Duration;

use async_trait::async_trait;

use super::config::{ApiKey, REDACTED};

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
    #[error(
        "the server redirects (HTTP {0}); redirects are not followed, so that the key is not \
         sent elsewhere: point the base URL at the final address"
    )]
    Redirect(u16),
    /// The base URL is unusable (no `http://` or `https://`, no host).
    #[error("{0}")]
    InvalidUrl(String),
    /// A request that could not even be built or sent as asked: asking
    /// again sends the same.
    #[error("invalid request: {0}")]
    Request(String),
    #[error("request failed: {0}")]
    Other(String),
}

impl TransportError {
    /// Whether retrying later can help: timeouts, connection failures, 5xx,
    /// 429 and failures while reading an answer. Any other 4xx, a redirect,
    /// a bad base URL or a request that cannot be built is the same on
    /// every try.
    pub fn is_transient(&self) -> bool {
        match self {
            TransportError::Timeout(_)
            | TransportError::Connect(_)
            | TransportError::Server(_)
            | TransportError::Other(_) => true,
            TransportError::Refused(status) => *status == 429,
            TransportError::Redirect(_)
            | TransportError::InvalidUrl(_)
            | TransportError::Request(_) => false,
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
    /// `{base}/query`, checked to be http or https.
    query_url: reqwest::Url,
    key: ApiKey,
    timeout: Duration,
}

impl Client {
    /// A client of the API at `base_url` (`https://www.alphavantage.co`),
    /// which must be an `http://` or `https://` URL with a host.
    pub fn new(base_url: &str, key: ApiKey, timeout: Duration) -> Result<Client, TransportError> {
        let query_url = query_url(base_url)?;
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("tickhost/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| TransportError::Request(key.redact(&source_chain(&e.without_url()))))?;
        Ok(Client {
            http,
            query_url,
            key,
            timeout,
        })
    }

    /// The URL of a request carrying `key` as its `apikey`.
    fn url_with(&self, symbol: &str, function: &Function, key: &str) -> reqwest::Url {
        let mut url = self.query_url.clone();
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
            query.append_pair("apikey", key);
        }
        url
    }

    /// The URL of a request, key included: for the request only.
    fn url(&self, symbol: &str, function: &Function) -> reqwest::Url {
        self.url_with(symbol, function, self.key.expose())
    }

    /// The URL of a request as it may be printed: built with
    /// `apikey=REDACTED`, so the key is never in it to be missed.
    pub fn display_url(&self, symbol: &str, function: &Function) -> String {
        self.url_with(symbol, function, REDACTED).to_string()
    }

    fn error(&self, e: reqwest::Error) -> TransportError {
        if e.is_timeout() {
            return TransportError::Timeout(self.timeout);
        }
        let (connect, request) = (e.is_connect(), e.is_builder() || e.is_redirect());
        let text = self.key.redact(&source_chain(&e.without_url()));
        if connect {
            TransportError::Connect(text)
        } else if request {
            TransportError::Request(text)
        } else {
            TransportError::Other(text)
        }
    }
}

#[async_trait]
impl Fetch for Client {
    async fn fetch(&self, symbol: &str, function: &Function) -> Result<String, TransportError> {
        let url = self.url(symbol, function);
        tracing::debug!(url = %self.display_url(symbol, function), "request");

        let response = self.http.get(url).send().await.map_err(|e| self.error(e))?;
        let status = response.status();
        if status.is_server_error() {
            return Err(TransportError::Server(status.as_u16()));
        }
        if status.is_redirection() {
            return Err(TransportError::Redirect(status.as_u16()));
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

/// `{base}/query`, or why `base` is no URL to send requests to. The
/// messages hold the base URL, which holds no key.
fn query_url(base: &str) -> Result<reqwest::Url, TransportError> {
    let invalid = |why: String| {
        TransportError::InvalidUrl(format!(
            "invalid base URL {base:?}: {why} (expected an address such as \
             https://www.alphavantage.co or http://127.0.0.1:8080)"
        ))
    };
    // `localhost:8080` would parse, as scheme `localhost` and path `8080`.
    let lower = base.to_ascii_lowercase();
    if !(lower.starts_with("http://") || lower.starts_with("https://")) {
        return Err(invalid(
            "it must start with http:// or https://".to_string(),
        ));
    }
    let url = reqwest::Url::parse(base).map_err(|e| invalid(e.to_string()))?;
    if url.host_str().is_none_or(str::is_empty) {
        return Err(invalid("it names no host".to_string()));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(invalid("it must not have a query or fragment".to_string()));
    }
    reqwest::Url::parse(&format!("{}/query", url.as_str().trim_end_matches('/')))
        .map_err(|e| invalid(e.to_string()))
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

        let url = client.url("GOOG", &function);
        assert_eq!(
            url.as_str(),
            "http://127.0.0.1:9/query?function=TIME_SERIES_INTRADAY&symbol=GOOG\
             &interval=1min&apikey=SENTINEL"
        );
        assert_eq!(
            client.display_url("GOOG", &function),
            "http://127.0.0.1:9/query?function=TIME_SERIES_INTRADAY&symbol=GOOG\
             &interval=1min&apikey=REDACTED"
        );
    }

    #[test]
    fn a_key_that_form_encoding_changes_is_still_left_out_of_printed_urls() {
        // Form encoding writes `~` as %7E and a space as `+`, which a
        // search for the key as it is, or RFC 3986-encoded, would miss.
        let key = ApiKey::new("SENT~INEL KEY");
        let client =
            Client::new("http://127.0.0.1:9", key.clone(), Duration::from_secs(1)).unwrap();

        let url = client.url("GOOG", &Function::Quote);
        assert!(url.as_str().ends_with("apikey=SENT%7EINEL+KEY"), "{url}");
        let shown = client.display_url("GOOG", &Function::Quote);
        assert!(shown.ends_with("apikey=REDACTED"), "{shown}");
        assert!(!shown.contains("SENT"), "{shown}");
        // And the real URL, if it ever were printed, is redacted too.
        assert_eq!(key.redact(url.as_str()), shown);
    }

    #[test]
    fn a_base_url_without_http_or_https_is_refused_up_front() {
        let new = |base: &str| Client::new(base, ApiKey::new("SENTINEL"), Duration::from_secs(1));
        for base in [
            "localhost:8080",
            "ftp://example.com",
            "127.0.0.1:8080",
            "",
            "http://",
            "http://h?x=1",
        ] {
            let err = new(base).expect_err(base);
            assert!(
                matches!(err, TransportError::InvalidUrl(_)),
                "{base}: {err:?}"
            );
            assert!(!err.is_transient(), "{base}");
            assert!(err.to_string().contains("invalid base URL"), "{err}");
        }
        let err = new("localhost:8080").unwrap_err().to_string();
        assert!(err.contains("must start with http:// or https://"), "{err}");
        for base in [
            "http://127.0.0.1:8080",
            "https://www.alphavantage.co/",
            "http://h/av",
        ] {
            assert!(new(base).is_ok(), "{base}");
        }
        assert_eq!(
            new("http://h/av/")
                .unwrap()
                .display_url("X", &Function::Quote),
            "http://h/av/query?function=GLOBAL_QUOTE&symbol=X&apikey=REDACTED"
        );
    }

    #[test]
    fn errors_that_asking_again_cannot_fix_are_not_transient() {
        assert!(!TransportError::Request("builder".into()).is_transient());
        assert!(!TransportError::Redirect(301).is_transient());
        assert!(!TransportError::Refused(404).is_transient());
        assert!(TransportError::Refused(429).is_transient());
        assert!(TransportError::Other("body cut short".into()).is_transient());
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

    #[tokio::test]
    async fn a_redirect_is_not_followed_and_stops() {
        // A server that answers every request with a redirect elsewhere.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let server = tokio::spawn(async move {
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            let (mut stream, _) = listener.accept().await.unwrap();
            let mut request = vec![0; 4096];
            let n = stream.read(&mut request).await.unwrap();
            stream
                .write_all(
                    b"HTTP/1.1 301 Moved Permanently\r\nlocation: http://127.0.0.1:9/query\r\n\
                      content-length: 0\r\nconnection: close\r\n\r\n",
                )
                .await
                .unwrap();
            String::from_utf8_lossy(&request[..n]).to_string()
        });
        let client = Client::new(
            &format!("http://{address}"),
            ApiKey::new("SENTINEL"),
            Duration::from_secs(5),
        )
        .unwrap();

        let err = client.fetch("GOOG", &Function::Quote).await.unwrap_err();

        assert_eq!(err, TransportError::Redirect(301));
        assert!(!err.is_transient());
        assert!(server.await.unwrap().contains("apikey=SENTINEL"));
    }
}
