//! The producer's loop: every interval, each symbol's newest ticks from the
//! API to the input topic, within one shared request budget, riding out
//! rate limits and transient failures.
//!
//! What each answer leads to:
//!
//! | answer | what the loop does |
//! |---|---|
//! | a series or quote | cleans it, publishes the ticks newer than the symbol's last published one |
//! | a rate limit (`Note`, `Information`) | waits (capped exponential, jittered), asks again |
//! | a timeout, 5xx, refused connection | waits (capped exponential, jittered), asks again |
//! | an invalid call (`Error Message`) | reports the symbol and drops it; the others go on |
//! | an invalid key, a premium endpoint | stops with the API's message |
//!
//! Duplicates: a symbol's ticks go out in event-time order and only those
//! after its last published event time, which is recovered from the topic
//! at start ([`super::publish::last_published`]), so overlapping answers
//! and a restart do not publish a bar twice. A quote carries no time of its
//! own (its tick is stamped when it is received), so a quote whose trading
//! day, price and volume are those last published for its symbol is
//! skipped instead; that memory lives in the process, and the first quote
//! after a restart is published even if unchanged.
//!
//! The request budget ([`Budget`]) may hold a request back; when it holds
//! one back for longer than the polling interval, the loop says so at WARN,
//! since ticks then arrive later than the interval promises.

use std::collections::{HashMap, HashSet, VecDeque};
use std::time::Duration;

use rand::SeedableRng;
use rand::rngs::StdRng;

use super::backoff::{Backoff, Policy};
use super::budget::Budget;
use super::clean::{self, CleanError};
use super::client::{Fetch, Function, TransportError};
use super::clock::Clock;
use super::publish::{PublishError, Sink};
use super::response::{self, ApiError, Response};

/// A symbol as a user wrote it (`goog`), as the API is asked for it and
/// ticks carry it (`GOOG`): upper case, and otherwise one that a tick
/// accepts ([`crate::tick`]), so that a symbol whose every tick would be
/// refused is refused up front, with the reason.
pub fn normalise_symbol(text: &str) -> Result<String, String> {
    let symbol = text.trim().to_ascii_uppercase();
    crate::tick::RawTick {
        symbol,
        ts: 0,
        price: 1.0,
        volume: 0,
    }
    .validate()
    .map(|tick| tick.symbol)
    .map_err(|e| format!("symbol {text:?}: {e}"))
}

/// What the loop polls, and how often.
#[derive(Debug, Clone)]
pub struct PollOptions {
    pub symbols: Vec<String>,
    pub function: Function,
    /// From the start of one round to the start of the next.
    pub interval: Duration,
    /// Stop after this many rounds; `None` runs until stopped.
    pub rounds: Option<u64>,
    /// Backoff after a timeout, a 5xx or a refused connection.
    pub retry: Policy,
    /// Backoff after a rate-limit answer.
    pub rate_limit: Policy,
}

/// Why the loop stopped before its rounds were done.
#[derive(Debug, thiserror::Error)]
pub enum ProduceError {
    #[error(
        "Alpha Vantage refused the API key (set ALPHAVANTAGE_API_KEY or [alphavantage] api-key): {0}"
    )]
    InvalidKey(String),
    #[error("Alpha Vantage says this is a premium endpoint: {0}")]
    Premium(String),
    #[error("request for '{symbol}' failed for good: {source}")]
    Transport {
        symbol: String,
        source: TransportError,
    },
    #[error("no symbol left to poll: every one was refused")]
    NoSymbols,
    #[error("answer for '{symbol}': {source}")]
    Clean { symbol: String, source: CleanError },
    #[error(transparent)]
    Publish(#[from] PublishError),
}

/// What a run did, for the summary at its end.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Summary {
    pub requests: u64,
    pub published: u64,
    /// Ticks already published before (overlapping answers, a restart,
    /// an unchanged quote).
    pub duplicates: u64,
    /// Rows that were not ticks, each counted once.
    pub rejected: u64,
    pub rate_limited: u64,
    pub retried: u64,
    /// Symbols dropped, with the API's reason.
    pub refused: Vec<(String, String)>,
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} request(s), {} tick(s) published, {} duplicate(s) skipped, {} row(s) rejected, \
             {} rate limit(s), {} retry(ies), {} symbol(s) refused",
            self.requests,
            self.published,
            self.duplicates,
            self.rejected,
            self.rate_limited,
            self.retried,
            self.refused.len()
        )
    }
}

/// How many rejected rows are remembered as reported. An answer repeats a
/// bad row only while the row is in the API's window (100 bars per symbol
/// for a compact series), so this covers a hundred symbols; a row pushed
/// out of the memory by newer ones is reported again if it comes back.
pub const REPORTED_ROWS: usize = 10_000;

/// The rows already reported, the oldest forgotten first past a capacity,
/// so that a producer that runs for months does not grow without bound.
#[derive(Debug)]
struct Reported {
    capacity: usize,
    rows: HashSet<String>,
    order: VecDeque<String>,
}

impl Reported {
    fn new(capacity: usize) -> Reported {
        Reported {
            capacity: capacity.max(1),
            rows: HashSet::new(),
            order: VecDeque::new(),
        }
    }

    /// Whether `row` is new; it is remembered either way.
    fn insert(&mut self, row: &str) -> bool {
        if self.rows.contains(row) {
            return false;
        }
        if self.order.len() >= self.capacity
            && let Some(oldest) = self.order.pop_front()
        {
            self.rows.remove(&oldest);
        }
        self.rows.insert(row.to_string());
        self.order.push_back(row.to_string());
        true
    }
}

/// What identifies a quote's content: its trading day, price and volume.
type QuoteKey = (String, f64, u64);

/// The loop's state.
pub struct Poller<'a> {
    fetch: &'a dyn Fetch,
    clock: &'a dyn Clock,
    sink: &'a mut dyn Sink,
    budget: Budget,
    /// Each symbol's newest published event time.
    last: HashMap<String, i64>,
    /// Rows already reported as rejected, so a row that every overlapping
    /// answer repeats is counted and logged once.
    reported: Reported,
    /// Each symbol's last published quote, so that an unchanged quote is
    /// not published again with a newer receive time.
    last_quote: HashMap<String, QuoteKey>,
    /// The wall-clock time, UTC epoch ms, that stamps a received quote.
    received_ms: fn() -> i64,
    rng: StdRng,
    summary: Summary,
}

impl<'a> Poller<'a> {
    /// A loop over `fetch` publishing to `sink`, resuming after `last`.
    pub fn new(
        fetch: &'a dyn Fetch,
        clock: &'a dyn Clock,
        sink: &'a mut dyn Sink,
        budget: Budget,
        last: HashMap<String, i64>,
    ) -> Poller<'a> {
        Poller {
            fetch,
            clock,
            sink,
            budget,
            last,
            reported: Reported::new(REPORTED_ROWS),
            last_quote: HashMap::new(),
            received_ms: || jiff::Timestamp::now().as_millisecond(),
            rng: StdRng::from_rng(&mut rand::rng()),
            summary: Summary::default(),
        }
    }

    /// The same loop, stamping quotes with `received_ms` instead of the
    /// system's time, for tests.
    #[cfg(test)]
    fn with_receive_time(mut self, received_ms: fn() -> i64) -> Poller<'a> {
        self.received_ms = received_ms;
        self
    }

    /// Polls until the rounds are done or `shutdown` resolves; the summary
    /// so far either way. A round cut short loses nothing: what was not
    /// acknowledged is published again after the restart's recovery.
    pub async fn run(
        mut self,
        options: &PollOptions,
        shutdown: impl Future<Output = ()>,
    ) -> (Summary, Result<(), ProduceError>) {
        let result = tokio::select! {
            result = self.rounds(options) => result,
            () = shutdown => Ok(()),
        };
        (self.summary, result)
    }

    async fn rounds(&mut self, options: &PollOptions) -> Result<(), ProduceError> {
        let mut symbols = options.symbols.clone();
        let mut round = 0;
        loop {
            let started = self.clock.now();

            for symbol in symbols.clone() {
                if let Some(reason) = self.poll(&symbol, options).await? {
                    tracing::error!(%symbol, %reason, "symbol refused by the API; dropped");
                    symbols.retain(|s| *s != symbol);
                    self.summary.refused.push((symbol, reason));
                }
            }
            if symbols.is_empty() {
                return Err(ProduceError::NoSymbols);
            }

            round += 1;
            if options.rounds.is_some_and(|rounds| round >= rounds) {
                return Ok(());
            }
            let next = started + options.interval;
            let now = self.clock.now();
            if next > now {
                self.clock.sleep(next - now).await;
            }
        }
    }

    /// One symbol's answer, asked until it comes; `Some(reason)` when the
    /// API refuses the symbol.
    async fn poll(
        &mut self,
        symbol: &str,
        options: &PollOptions,
    ) -> Result<Option<String>, ProduceError> {
        let function = &options.function;
        let mut transient = Backoff::new(options.retry);
        let mut limited = Backoff::new(options.rate_limit);
        loop {
            let waited = self.budget.acquire(self.clock).await;
            if waited > options.interval {
                tracing::warn!(
                    %symbol,
                    waited_s = waited.as_secs(),
                    interval_s = options.interval.as_secs(),
                    "the request budget (alphavantage.per-minute, per-day, min-gap) held this \
                     request back longer than the polling interval; ticks arrive late"
                );
            }
            self.summary.requests += 1;

            let body = match self.fetch.fetch(symbol, function).await {
                Ok(body) => body,
                Err(source) if source.is_transient() => {
                    let wait = transient.next(&mut self.rng);
                    tracing::warn!(%symbol, error = %source, wait_ms = wait.as_millis() as u64, "request failed; retrying");
                    self.summary.retried += 1;
                    self.clock.sleep(wait).await;
                    continue;
                }
                Err(source) => {
                    return Err(ProduceError::Transport {
                        symbol: symbol.to_string(),
                        source,
                    });
                }
            };

            let answer = match response::parse(&body) {
                Ok(Ok(answer)) => answer,
                Ok(Err(unexpected)) => {
                    tracing::warn!(%symbol, error = %unexpected, "unreadable answer; skipped this round");
                    return Ok(None);
                }
                Err(ApiError::RateLimit(message)) => {
                    let wait = limited.next(&mut self.rng);
                    tracing::warn!(%symbol, %message, wait_ms = wait.as_millis() as u64, "rate limited; backing off");
                    self.summary.rate_limited += 1;
                    self.clock.sleep(wait).await;
                    continue;
                }
                Err(ApiError::InvalidCall(message)) => return Ok(Some(message)),
                Err(ApiError::InvalidKey(message)) => {
                    return Err(ProduceError::InvalidKey(message));
                }
                Err(ApiError::Premium(message)) => return Err(ProduceError::Premium(message)),
            };
            self.publish(symbol, answer).await?;
            return Ok(None);
        }
    }

    /// Cleans an answer and publishes its new ticks.
    async fn publish(&mut self, symbol: &str, answer: Response) -> Result<(), ProduceError> {
        let mut trading_day = None;
        let cleaned = match answer {
            Response::Intraday(series) => {
                clean::intraday(&series).map_err(|source| ProduceError::Clean {
                    symbol: symbol.to_string(),
                    source,
                })?
            }
            Response::Quote(quote) => {
                trading_day = Some(
                    quote
                        .fields
                        .get("07. latest trading day")
                        .cloned()
                        .unwrap_or_default(),
                );
                clean::quote(&quote, (self.received_ms)())
            }
        };
        for rejected in cleaned.rejected {
            if self.reported.insert(&rejected.row) {
                tracing::warn!(row = %rejected.row, reason = %rejected.reason, "row is not a tick; not published");
                self.summary.rejected += 1;
            }
        }

        let mut published = 0;
        for tick in &cleaned.ticks {
            let last = self.last.get(&tick.symbol).copied();
            if last.is_some_and(|last| tick.ts <= last) {
                self.summary.duplicates += 1;
                continue;
            }
            let quote = trading_day
                .as_ref()
                .map(|day| (day.clone(), tick.price, tick.volume));
            if quote.is_some() && self.last_quote.get(&tick.symbol) == quote.as_ref() {
                tracing::debug!(symbol = %tick.symbol, "quote unchanged since the last one; skipped");
                self.summary.duplicates += 1;
                continue;
            }
            self.sink.send(tick).await?;
            self.last.insert(tick.symbol.clone(), tick.ts);
            if let Some(quote) = quote {
                self.last_quote.insert(tick.symbol.clone(), quote);
            }
            published += 1;
        }
        self.sink.flush().await?;
        self.summary.published += published;
        tracing::info!(%symbol, published, "published new ticks");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use async_trait::async_trait;

    use super::*;
    use crate::produce::backoff;
    use crate::produce::clock::FakeClock;
    use crate::produce::publish::MemorySink;

    /// Answers from a script, one per request, then the last one forever.
    struct Script(Mutex<Vec<Result<String, TransportError>>>);

    impl Script {
        fn new(answers: Vec<Result<String, TransportError>>) -> Script {
            Script(Mutex::new(answers.into_iter().rev().collect()))
        }
    }

    #[async_trait]
    impl Fetch for Script {
        async fn fetch(&self, _: &str, _: &Function) -> Result<String, TransportError> {
            let mut answers = self.0.lock().unwrap();
            if answers.len() > 1 {
                answers.pop().unwrap()
            } else {
                answers[0].clone()
            }
        }
    }

    fn series(symbol: &str, minutes: &[u32]) -> String {
        let bars: serde_json::Map<String, serde_json::Value> = minutes
            .iter()
            .map(|m| {
                (
                    format!("2024-03-08 15:{m:02}:00"),
                    serde_json::json!({"4. close": "100.5", "5. volume": "10"}),
                )
            })
            .collect();
        serde_json::json!({
            "Meta Data": {"2. Symbol": symbol, "6. Time Zone": "US/Eastern"},
            "Time Series (1min)": bars,
        })
        .to_string()
    }

    fn options(symbols: &[&str], rounds: u64) -> PollOptions {
        PollOptions {
            symbols: symbols.iter().map(|s| s.to_string()).collect(),
            function: Function::Intraday {
                interval: "1min".into(),
            },
            interval: Duration::from_secs(60),
            rounds: Some(rounds),
            retry: backoff::TRANSIENT,
            rate_limit: backoff::RATE_LIMIT,
        }
    }

    async fn run(
        script: &Script,
        clock: &FakeClock,
        sink: &mut MemorySink,
        last: HashMap<String, i64>,
        options: &PollOptions,
    ) -> (Summary, Result<(), ProduceError>) {
        Poller::new(
            script,
            clock,
            sink,
            Budget::new(1000, 1000, Duration::ZERO),
            last,
        )
        .run(options, std::future::pending())
        .await
    }

    #[tokio::test]
    async fn overlapping_answers_and_a_restart_publish_each_tick_once() {
        let script = Script::new(vec![
            Ok(series("GOOG", &[50, 51])),
            Ok(series("GOOG", &[51, 52])),
        ]);
        let clock = FakeClock::default();
        let mut sink = MemorySink::default();

        let (summary, result) = run(
            &script,
            &clock,
            &mut sink,
            HashMap::new(),
            &options(&["GOOG"], 2),
        )
        .await;
        result.unwrap();
        assert_eq!((summary.published, summary.duplicates), (3, 1));

        // A restart that recovered the newest event time from the topic.
        let last = HashMap::from([("GOOG".to_string(), sink.ticks.last().unwrap().ts)]);
        let script = Script::new(vec![Ok(series("GOOG", &[51, 52, 53]))]);
        let (summary, result) = run(&script, &clock, &mut sink, last, &options(&["GOOG"], 1)).await;
        result.unwrap();
        assert_eq!((summary.published, summary.duplicates), (1, 2));

        let times: Vec<i64> = sink.ticks.iter().map(|t| t.ts).collect();
        assert!(times.windows(2).all(|w| w[1] - w[0] == 60_000), "{times:?}");
        assert_eq!(times.len(), 4);
    }

    #[tokio::test]
    async fn transient_failures_back_off_exponentially_within_bounds_then_resume() {
        let script = Script::new(vec![
            Err(TransportError::Timeout(Duration::from_secs(10))),
            Err(TransportError::Server(500)),
            Err(TransportError::Connect("refused".into())),
            Ok(series("GOOG", &[50])),
        ]);
        let clock = FakeClock::default();
        let mut sink = MemorySink::default();

        let (summary, result) = run(
            &script,
            &clock,
            &mut sink,
            HashMap::new(),
            &options(&["GOOG"], 1),
        )
        .await;
        result.unwrap();

        let sleeps = clock.sleeps();
        assert_eq!(sleeps.len(), 3);
        for (n, wait) in sleeps.iter().enumerate() {
            let nominal = backoff::TRANSIENT.base * 2u32.pow(n as u32);
            assert!(
                *wait >= nominal / 2 && *wait <= nominal,
                "retry {n}: {wait:?}"
            );
        }
        assert_eq!((summary.retried, summary.published), (3, 1));
    }

    #[tokio::test]
    async fn a_rate_limit_backs_off_with_jitter_and_resumes() {
        let limit = include_str!("../../data/alphavantage/error-rate-limit-note.json");
        let script = Script::new(vec![
            Ok(limit.into()),
            Ok(limit.into()),
            Ok(series("GOOG", &[50])),
        ]);
        let clock = FakeClock::default();
        let mut sink = MemorySink::default();

        let (summary, result) = run(
            &script,
            &clock,
            &mut sink,
            HashMap::new(),
            &options(&["GOOG"], 1),
        )
        .await;
        result.unwrap();

        let sleeps = clock.sleeps();
        let base = backoff::RATE_LIMIT.base;
        assert!(sleeps[0] >= base / 2 && sleeps[0] <= base, "{sleeps:?}");
        assert!(sleeps[1] >= base && sleeps[1] <= base * 2, "{sleeps:?}");
        assert_eq!((summary.rate_limited, summary.published), (2, 1));
    }

    #[tokio::test]
    async fn an_invalid_symbol_is_dropped_and_an_invalid_key_stops() {
        let invalid = include_str!("../../data/alphavantage/error-invalid-symbol.json");
        let script = Script::new(vec![Ok(invalid.into()), Ok(series("GOOG", &[50]))]);
        let clock = FakeClock::default();
        let mut sink = MemorySink::default();

        let (summary, result) = run(
            &script,
            &clock,
            &mut sink,
            HashMap::new(),
            &options(&["NOPE", "GOOG"], 2),
        )
        .await;
        result.unwrap();
        assert_eq!(summary.refused.len(), 1);
        assert_eq!(summary.refused[0].0, "NOPE");
        assert_eq!(summary.requests, 3, "NOPE is asked once, GOOG twice");

        let key = include_str!("../../data/alphavantage/error-invalid-key.json");
        let script = Script::new(vec![Ok(key.into())]);
        let (_, result) = run(
            &script,
            &clock,
            &mut sink,
            HashMap::new(),
            &options(&["GOOG"], 1),
        )
        .await;
        assert!(matches!(result, Err(ProduceError::InvalidKey(_))));
    }

    #[tokio::test]
    async fn rounds_start_an_interval_apart() {
        let script = Script::new(vec![Ok(series("GOOG", &[50]))]);
        let clock = FakeClock::default();
        let mut sink = MemorySink::default();

        let (_, result) = run(
            &script,
            &clock,
            &mut sink,
            HashMap::new(),
            &options(&["GOOG"], 3),
        )
        .await;
        result.unwrap();

        assert_eq!(
            clock.sleeps(),
            [Duration::from_secs(60), Duration::from_secs(60)]
        );
    }

    fn quote(day: &str, price: &str, volume: &str) -> String {
        serde_json::json!({"Global Quote": {
            "01. symbol": "GOOG", "05. price": price, "06. volume": volume,
            "07. latest trading day": day,
        }})
        .to_string()
    }

    #[tokio::test]
    async fn an_unchanged_quote_is_not_published_again() {
        let script = Script::new(vec![
            Ok(quote("2024-03-08", "134.99", "100")),
            Ok(quote("2024-03-08", "134.99", "100")),
            Ok(quote("2024-03-08", "134.99", "150")),
            Ok(quote("2024-03-08", "135.10", "150")),
            Ok(quote("2024-03-11", "135.10", "150")),
            Ok(quote("2024-03-11", "135.10", "150")),
        ]);
        let clock = FakeClock::default();
        let mut sink = MemorySink::default();
        let mut options = options(&["GOOG"], 6);
        options.function = Function::Quote;
        // Quotes received a minute apart, as the rounds are.
        static RECEIVED: std::sync::atomic::AtomicI64 = std::sync::atomic::AtomicI64::new(0);
        let received = || RECEIVED.fetch_add(60_000, std::sync::atomic::Ordering::Relaxed);

        let poller = Poller::new(
            &script,
            &clock,
            &mut sink,
            Budget::new(1000, 1000, Duration::ZERO),
            HashMap::new(),
        )
        .with_receive_time(received);
        let (summary, result) = poller.run(&options, std::future::pending()).await;
        result.unwrap();

        // A new volume, a new price and a new day are each published.
        let published: Vec<(f64, u64)> = sink.ticks.iter().map(|t| (t.price, t.volume)).collect();
        assert_eq!(
            published,
            [(134.99, 100), (134.99, 150), (135.10, 150), (135.10, 150)]
        );
        assert_eq!((summary.published, summary.duplicates), (4, 2));
    }

    #[tokio::test]
    async fn a_bad_row_that_every_answer_repeats_is_counted_once() {
        let bad = serde_json::json!({
            "Meta Data": {"2. Symbol": "GOOG", "6. Time Zone": "US/Eastern"},
            "Time Series (1min)": {
                "2024-03-08 15:50:00": {"4. close": "100.5", "5. volume": "10"},
                "2024-03-08 15:51:00": {"4. close": "0.0000", "5. volume": "10"},
                "2024-03-08 15:52:00": {"4. close": "abc", "5. volume": "10"},
            },
        })
        .to_string();
        let script = Script::new(vec![Ok(bad)]);
        let clock = FakeClock::default();
        let mut sink = MemorySink::default();

        let (summary, result) = run(
            &script,
            &clock,
            &mut sink,
            HashMap::new(),
            &options(&["GOOG"], 3),
        )
        .await;
        result.unwrap();

        assert_eq!(summary.rejected, 2, "two bad rows, in three answers each");
        assert_eq!((summary.published, summary.duplicates), (1, 2));
    }

    #[test]
    fn the_memory_of_reported_rows_is_bounded() {
        let mut reported = Reported::new(2);
        assert!(reported.insert("a"));
        assert!(!reported.insert("a"));
        assert!(reported.insert("b"));
        assert!(reported.insert("c"), "a is forgotten to make room");
        assert_eq!(reported.rows.len(), 2);
        assert!(!reported.insert("c"));
        assert!(reported.insert("a"), "a is new again");
        assert_eq!((reported.rows.len(), reported.order.len()), (2, 2));
    }

    /// Log lines of the tracing events emitted on this thread.
    #[derive(Clone, Default)]
    struct Logs(std::sync::Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Logs {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[tokio::test]
    async fn a_budget_wait_longer_than_the_interval_is_logged_at_warn() {
        let logs = Logs::default();
        let writer = logs.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::WARN)
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .finish();
        let _guard = tracing::subscriber::set_default(subscriber);

        let script = Script::new(vec![Ok(series("GOOG", &[50]))]);
        let clock = FakeClock::default();
        let mut sink = MemorySink::default();
        // Two requests a day, polled every minute: the third round waits
        // for the first request to be a day old.
        let poller = Poller::new(
            &script,
            &clock,
            &mut sink,
            Budget::new(5, 2, Duration::ZERO),
            HashMap::new(),
        );
        let (summary, result) = poller
            .run(&options(&["GOOG"], 3), std::future::pending())
            .await;
        result.unwrap();
        assert_eq!(summary.requests, 3);

        let text = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
        let warnings: Vec<&str> = text
            .lines()
            .filter(|l| l.contains("longer than the polling interval"))
            .collect();
        assert_eq!(warnings.len(), 1, "{text}");
        assert!(warnings[0].contains("WARN"), "{text}");
        assert!(warnings[0].contains("interval_s=60"), "{text}");
    }

    #[test]
    fn symbols_are_upper_cased_and_checked() {
        assert_eq!(normalise_symbol("goog"), Ok("GOOG".to_string()));
        assert_eq!(normalise_symbol(" brk.b "), Ok("BRK.B".to_string()));
        assert_eq!(normalise_symbol("MSFT"), Ok("MSFT".to_string()));
        let err = normalise_symbol("go og").unwrap_err();
        assert!(
            err.contains("\"go og\"") && err.contains("contains a character"),
            "{err}"
        );
        assert!(normalise_symbol("").unwrap_err().contains("empty"));
    }
}
