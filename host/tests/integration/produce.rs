//! `tickhost fetch`, `produce` and `replay` as a user runs them, against a
//! local HTTP server that plays Alpha Vantage (recorded bodies in scripted
//! sequences) and librdkafka's mock cluster: answers saved as they came,
//! the key in no output on any path, ticks published once across a
//! restart while rate limits, 5xx and slow answers are ridden out, replay
//! order, and produce -> host -> outputs.
//!
//! The binary runs as a child process; the mock cluster and the HTTP
//! server run inside the test, on loopback ports the child connects to.

use std::collections::{HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::{Message, OwnedMessage};
use rdkafka::mocking::MockCluster;
use rdkafka::producer::DefaultProducerContext;
use rdkafka::{ClientConfig, Offset, TopicPartitionList};

use tickhost::chain::load_lineup;
use tickhost::config::Config;
use tickhost::kafka::{PartitionChains, ServeOptions, serve};
use tickhost::plugin::ComponentCache;

use crate::support::{component, runtime, scratch, text, workspace};

/// The key every test runs with; no output may contain it.
const SENTINEL: &str = "SENTINEL-KEY-7f3a";

/// A key that the request's form encoding changes (`~` to `%7E`, the space
/// to `+`), so that a search for the key as it is would miss it.
const ENCODED_SENTINEL: &str = "SENTINEL~KEY 7f3a";

/// How long a test waits for a topic to hold what it expects.
const READ_TIMEOUT: Duration = Duration::from_secs(30);

/// One scripted answer.
#[derive(Clone)]
enum Reply {
    Body(String),
    Status(u16),
    /// The body, after a pause longer than the client's timeout.
    Slow(Duration, String),
    /// A series whose body also echoes the request's query, key included,
    /// and the key decoded and percent-encoded (RFC 3986).
    Echo(String),
    /// A body in which `XXXXXXXXXXXXXXXX` is replaced by the request's key,
    /// as Alpha Vantage's daily rate-limit notice names the key.
    NamesKey(String),
}

type Script = HashMap<String, VecDeque<Reply>>;

/// A local Alpha Vantage: per symbol, the next scripted answer (the last
/// one repeats), and every query it was sent.
struct Server {
    url: String,
    queries: Arc<Mutex<Vec<String>>>,
    _runtime: tokio::runtime::Runtime,
}

/// The value of `name` in a form-encoded query, decoded.
fn query_value(query: &str, name: &str) -> Option<String> {
    let raw = query
        .split('&')
        .find_map(|pair| pair.strip_prefix(&format!("{name}=")))?;
    let bytes = raw.as_bytes();
    let mut out = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        match bytes[at] {
            b'+' => out.push(b' '),
            b'%' => {
                out.push(u8::from_str_radix(&raw[at + 1..at + 3], 16).unwrap());
                at += 2;
            }
            byte => out.push(byte),
        }
        at += 1;
    }
    Some(String::from_utf8(out).unwrap())
}

/// `text` percent-encoded as RFC 3986 has it (a space as `%20`, `~` kept).
fn rfc3986(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[derive(Clone)]
struct Shared {
    script: Arc<Mutex<Script>>,
    queries: Arc<Mutex<Vec<String>>>,
}

impl Server {
    fn start(script: Vec<(&str, Vec<Reply>)>) -> Server {
        let script: Script = script
            .into_iter()
            .map(|(symbol, replies)| (symbol.to_string(), replies.into()))
            .collect();
        let shared = Shared {
            script: Arc::new(Mutex::new(script)),
            queries: Arc::default(),
        };
        let queries = shared.queries.clone();
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let app = axum::Router::new()
            .route("/query", axum::routing::get(answer))
            .with_state(shared);
        runtime.spawn(async move { axum::serve(listener, app).await });
        Server {
            url,
            queries,
            _runtime: runtime,
        }
    }

    fn queries(&self) -> Vec<String> {
        self.queries.lock().unwrap().clone()
    }
}

async fn answer(State(shared): State<Shared>, RawQuery(query): RawQuery) -> Response {
    let query = query.unwrap_or_default();
    shared.queries.lock().unwrap().push(query.clone());
    let symbol = query_value(&query, "symbol").unwrap_or_default();
    let key = query_value(&query, "apikey").unwrap_or_default();
    let reply = {
        let mut script = shared.script.lock().unwrap();
        let replies = script.get_mut(&symbol);
        match replies {
            Some(replies) if replies.len() > 1 => replies.pop_front().unwrap(),
            Some(replies) => replies[0].clone(),
            None => Reply::Body(recorded("error-invalid-symbol.json")),
        }
    };
    match reply {
        Reply::Body(body) => body.into_response(),
        Reply::Status(code) => StatusCode::from_u16(code).unwrap().into_response(),
        Reply::Slow(pause, body) => {
            tokio::time::sleep(pause).await;
            body.into_response()
        }
        Reply::Echo(body) => {
            let mut value: serde_json::Value = serde_json::from_str(&body).unwrap();
            value["Echo"] = serde_json::Value::String(query);
            value["Key"] = serde_json::Value::String(key.clone());
            value["Key3986"] = serde_json::Value::String(rfc3986(&key));
            value.to_string().into_response()
        }
        Reply::NamesKey(body) => body.replace("XXXXXXXXXXXXXXXX", &key).into_response(),
    }
}

/// A recorded body from `host/data/alphavantage`.
fn recorded(name: &str) -> String {
    std::fs::read_to_string(workspace().join("host/data/alphavantage").join(name)).unwrap()
}

/// An intraday answer of `symbol` with a bar at each of `minutes` past
/// 15:00 on 2024-03-08, US/Eastern.
fn series(symbol: &str, minutes: &[u32]) -> String {
    let bars: serde_json::Map<String, serde_json::Value> = minutes
        .iter()
        .map(|m| {
            (
                format!("2024-03-08 15:{m:02}:00"),
                serde_json::json!({
                    "1. open": "100.0000", "2. high": "101.0000", "3. low": "99.0000",
                    "4. close": format!("{}.5000", 100 + m),
                    "5. volume": if m % 2 == 1 { "500000" } else { "2000000" },
                }),
            )
        })
        .collect();
    serde_json::json!({
        "Meta Data": {
            "1. Information": "Intraday (1min) open, high, low, close prices and volume",
            "2. Symbol": symbol, "3. Last Refreshed": "2024-03-08 15:59:00",
            "4. Interval": "1min", "5. Output Size": "Compact", "6. Time Zone": "US/Eastern",
        },
        "Time Series (1min)": bars,
    })
    .to_string()
}

/// The UTC epoch milliseconds of 2024-03-08 15:MM US/Eastern (EST).
fn eastern_minute(minute: u32) -> i64 {
    1_709_928_000_000 + i64::from(minute) * 60_000
}

/// A configuration for the mock cluster at `brokers` with quick backoffs.
fn config(dir: &Path, brokers: &str) -> PathBuf {
    let path = dir.join("tickhost.toml");
    std::fs::write(
        &path,
        format!(
            "[kafka]\nbrokers = \"{brokers}\"\n\
             [alphavantage]\ntimeout = \"300ms\"\nretry-backoff = \"10ms\"\n\
             rate-limit-backoff = \"10ms\"\nper-minute = 1000\nper-day = 100000\n\
             min-gap = \"10ms\"\n"
        ),
    )
    .unwrap();
    path
}

fn tickhost(args: &[&str]) -> Output {
    tickhost_with_key(SENTINEL, args)
}

fn tickhost_with_key(key: &str, args: &[&str]) -> Output {
    use std::io::Read;

    let mut child = Command::new(env!("CARGO_BIN_EXE_tickhost"))
        .args(args)
        .env("ALPHAVANTAGE_API_KEY", key)
        .env("RUST_LOG", "trace")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("tickhost runs");
    let drain = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            pipe.read_to_end(&mut bytes).unwrap();
            bytes
        })
    };
    let stdout = drain(Box::new(child.stdout.take().unwrap()));
    let stderr = drain(Box::new(child.stderr.take().unwrap()));
    // A run that never ends (retrying forever) fails the test instead of
    // hanging it.
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            child.kill().unwrap();
            let status = child.wait().unwrap();
            let output = Output {
                status,
                stdout: stdout.join().unwrap(),
                stderr: stderr.join().unwrap(),
            };
            panic!("tickhost {args:?} still ran after 60s:\n{}", text(&output));
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Output {
        status,
        stdout: stdout.join().unwrap(),
        stderr: stderr.join().unwrap(),
    }
}

/// A mock cluster with the input topic in `partitions` partitions.
fn cluster(partitions: i32) -> MockCluster<'static, DefaultProducerContext> {
    let cluster = MockCluster::new(1).unwrap();
    cluster.create_topic("ticks", partitions, 1).unwrap();
    cluster
}

/// Every message of `topic` once there are `count`, per partition in order.
fn read(brokers: &str, topic: &str, count: usize) -> Vec<OwnedMessage> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("group.id", "produce-test-reader")
        .set("enable.auto.commit", "false")
        .create()
        .unwrap();
    let metadata = consumer
        .fetch_metadata(Some(topic), Duration::from_secs(5))
        .unwrap();
    let mut assignment = TopicPartitionList::new();
    for partition in metadata.topics()[0].partitions() {
        assignment
            .add_partition_offset(topic, partition.id(), Offset::Beginning)
            .unwrap();
    }
    consumer.assign(&assignment).unwrap();
    let deadline = Instant::now() + READ_TIMEOUT;
    let mut messages = Vec::new();
    while messages.len() < count {
        assert!(
            Instant::now() < deadline,
            "read {} of {count} message(s) of '{topic}'",
            messages.len()
        );
        if let Some(message) = consumer.poll(Duration::from_millis(100)) {
            messages.push(message.unwrap().detach());
        }
    }
    // Nothing more than expected arrives.
    std::thread::sleep(Duration::from_millis(300));
    while let Some(message) = consumer.poll(Duration::from_millis(100)) {
        messages.push(message.unwrap().detach());
    }
    messages
}

fn tick(message: &OwnedMessage) -> (String, i64, f64) {
    let value: serde_json::Value = serde_json::from_slice(message.payload().unwrap()).unwrap();
    assert_eq!(
        message.key().unwrap(),
        value["symbol"].as_str().unwrap().as_bytes(),
        "keyed by symbol"
    );
    (
        value["symbol"].as_str().unwrap().to_string(),
        value["ts"].as_i64().unwrap(),
        value["price"].as_f64().unwrap(),
    )
}

#[test]
fn fetch_saves_the_answer_as_it_came() {
    let dir = scratch("produce-fetch");
    let body = recorded("intraday-goog-1min.json");
    let server = Server::start(vec![("GOOG", vec![Reply::Body(body.clone())])]);
    let out = dir.join("goog.json");

    let run = tickhost(&[
        "fetch",
        "--symbol",
        "GOOG",
        "--out",
        out.to_str().unwrap(),
        "--base-url",
        &server.url,
    ]);

    assert!(run.status.success(), "{}", text(&run));
    assert_eq!(std::fs::read_to_string(&out).unwrap(), body);
    assert!(text(&run).contains("a GOOG series of 10 bar(s), times in US/Eastern"));
    assert_eq!(
        server.queries(),
        [format!(
            "function=TIME_SERIES_INTRADAY&symbol=GOOG&interval=1min&apikey={SENTINEL}"
        )]
    );
}

#[test]
fn the_key_appears_in_no_output_and_no_saved_file_on_any_path() {
    no_output_holds_the_key(SENTINEL, "produce-redaction");
}

#[test]
fn a_key_that_url_encoding_changes_appears_in_no_output_either() {
    no_output_holds_the_key(ENCODED_SENTINEL, "produce-redaction-encoded");
}

/// Runs `fetch` and `produce` with `key` through every answer and failure,
/// and searches everything they printed and saved for the key.
fn no_output_holds_the_key(key: &str, scratch_name: &str) {
    let tickhost = |args: &[&str]| tickhost_with_key(key, args);
    let dir = scratch(scratch_name);
    let mock = cluster(1);
    let config = config(&dir, &mock.bootstrap_servers());
    let config = config.to_str().unwrap();
    let slow = Duration::from_secs(2);
    let server = Server::start(vec![
        ("ECHO", vec![Reply::Echo(series("ECHO", &[50]))]),
        (
            "RATE",
            vec![
                Reply::Body(recorded("error-rate-limit-note.json")),
                Reply::Body(series("RATE", &[50])),
            ],
        ),
        (
            "INFO",
            vec![
                Reply::Body(recorded("error-rate-limit-information.json")),
                Reply::Body(series("INFO", &[50])),
            ],
        ),
        (
            "DAY",
            // Once for fetch, once for produce.
            vec![
                Reply::NamesKey(recorded("error-rate-limit-daily.json")),
                Reply::NamesKey(recorded("error-rate-limit-daily.json")),
                Reply::Body(series("DAY", &[50])),
            ],
        ),
        (
            "SEC",
            vec![
                Reply::Body(recorded("error-rate-limit-per-second.json")),
                Reply::Body(recorded("error-rate-limit-per-second.json")),
                Reply::Body(series("SEC", &[50])),
            ],
        ),
        (
            "FAIL",
            vec![
                Reply::Status(500),
                Reply::Status(503),
                Reply::Body(series("FAIL", &[50])),
            ],
        ),
        (
            "SLOW",
            vec![
                Reply::Slow(slow, series("SLOW", &[50])),
                Reply::Body(series("SLOW", &[50])),
            ],
        ),
        ("GONE", vec![Reply::Status(404)]),
        ("KEY", vec![Reply::Body(recorded("error-invalid-key.json"))]),
        ("PAID", vec![Reply::Body(recorded("error-premium.json"))]),
        (
            "NOPE",
            vec![Reply::Body(recorded("error-invalid-symbol.json"))],
        ),
    ]);
    let mut outputs = Vec::new();

    // fetch: every answer once, and an unreachable server.
    for symbol in [
        "ECHO", "RATE", "INFO", "DAY", "SEC", "FAIL", "SLOW", "GONE", "KEY", "PAID", "NOPE",
    ] {
        let out = dir.join(format!("{symbol}.json"));
        let run = tickhost(&[
            "fetch",
            "--symbol",
            symbol,
            "--out",
            out.to_str().unwrap(),
            "--base-url",
            &server.url,
            "--config",
            config,
        ]);
        outputs.push((format!("fetch {symbol}"), text(&run)));
        if let Ok(saved) = std::fs::read_to_string(&out) {
            outputs.push((format!("saved {symbol}"), saved));
        }
    }
    let refused = tickhost(&[
        "fetch",
        "--symbol",
        "GOOG",
        "--out",
        dir.join("x.json").to_str().unwrap(),
        "--base-url",
        "http://127.0.0.1:9",
        "--config",
        config,
    ]);
    assert!(!refused.status.success());
    outputs.push(("fetch refused".into(), text(&refused)));

    // produce: through rate limits, 5xx, a timeout, an invalid symbol, and
    // each way it stops.
    let run = tickhost(&[
        "produce",
        "--symbol",
        "ECHO",
        "--symbol",
        "RATE",
        "--symbol",
        "INFO",
        "--symbol",
        "DAY",
        "--symbol",
        "SEC",
        "--symbol",
        "FAIL",
        "--symbol",
        "SLOW",
        "--symbol",
        "NOPE",
        "--rounds",
        "1",
        "--base-url",
        &server.url,
        "--config",
        config,
    ]);
    assert!(run.status.success(), "{}", text(&run));
    outputs.push(("produce".into(), text(&run)));
    for symbol in ["KEY", "PAID", "GONE"] {
        let run = tickhost(&[
            "produce",
            "--symbol",
            symbol,
            "--rounds",
            "1",
            "--base-url",
            &server.url,
            "--config",
            config,
        ]);
        assert!(!run.status.success(), "{symbol}: {}", text(&run));
        outputs.push((format!("produce {symbol}"), text(&run)));
    }

    let echo = outputs
        .iter()
        .find(|(name, _)| name == "saved ECHO")
        .unwrap();
    assert!(
        echo.1.contains("apikey=REDACTED"),
        "the echo was redacted, not lost: {}",
        echo.1
    );
    let saved: serde_json::Value = serde_json::from_str(&echo.1).unwrap();
    assert_eq!(saved["Key"], "REDACTED", "{saved}");
    assert_eq!(saved["Key3986"], "REDACTED", "{saved}");
    let day = outputs
        .iter()
        .find(|(name, _)| name == "saved DAY")
        .unwrap();
    assert!(
        day.1.contains("detected your API key as REDACTED"),
        "{}",
        day.1
    );
    let fetched = outputs
        .iter()
        .find(|(name, _)| name == "fetch ECHO")
        .unwrap();
    assert!(fetched.1.contains("apikey=REDACTED"), "{}", fetched.1);
    let queries = server.queries();
    assert!(
        queries
            .iter()
            .all(|q| query_value(q, "apikey").as_deref() == Some(key)),
        "every request carried the key: {queries:?}"
    );
    for (name, output) in &outputs {
        assert!(!output.contains(key), "{name} printed the key:\n{output}");
        assert!(
            !output.contains("SENTINEL"),
            "{name} printed part of the key:\n{output}"
        );
    }
}

#[test]
fn each_error_body_and_failure_is_recognised() {
    let dir = scratch("produce-errors");
    let mock = cluster(1);
    let config = config(&dir, &mock.bootstrap_servers());
    let config = config.to_str().unwrap();
    let server = Server::start(vec![
        ("GOOG", vec![Reply::Body(series("GOOG", &[50]))]),
        ("KEY", vec![Reply::Body(recorded("error-invalid-key.json"))]),
        ("PAID", vec![Reply::Body(recorded("error-premium.json"))]),
        (
            "DAY",
            vec![
                Reply::NamesKey(recorded("error-rate-limit-daily.json")),
                Reply::Body(series("DAY", &[50])),
            ],
        ),
        (
            "SEC",
            vec![
                Reply::Body(recorded("error-rate-limit-per-second.json")),
                Reply::Body(series("SEC", &[50])),
            ],
        ),
    ]);
    let produce_at = |base_url: &str, symbols: &[&str]| {
        let mut args = vec![
            "produce",
            "--rounds",
            "1",
            "--base-url",
            base_url,
            "--config",
            config,
        ];
        for symbol in symbols {
            args.extend(["--symbol", symbol]);
        }
        tickhost(&args)
    };
    let produce = |symbols: &[&str]| produce_at(&server.url, symbols);

    let key = produce(&["GOOG", "KEY"]);
    assert_eq!(key.status.code(), Some(78), "{}", text(&key));
    assert!(
        text(&key).contains("error: Alpha Vantage refused the API key"),
        "{}",
        text(&key)
    );
    let no_key = tickhost_with_key(
        "",
        &["produce", "--symbol", "GOOG", "--base-url", &server.url],
    );
    assert_eq!(no_key.status.code(), Some(78), "{}", text(&no_key));
    assert!(text(&no_key).contains("no Alpha Vantage API key"));

    let paid = produce(&["PAID"]);
    assert_eq!(paid.status.code(), Some(1), "{}", text(&paid));
    assert!(text(&paid).contains("error: Alpha Vantage says this is a premium endpoint"));

    // Today's rate-limit notices mention the premium plans, the key and
    // even "premium endpoints": they are waited out, not taken as premium.
    let limited = produce(&["DAY", "SEC"]);
    assert!(limited.status.success(), "{}", text(&limited));
    assert!(
        text(&limited).contains("2 tick(s) published")
            && text(&limited).contains("2 rate limit(s)"),
        "{}",
        text(&limited)
    );

    let unknown = produce(&["GOOG", "NOPE"]);
    assert!(unknown.status.success(), "{}", text(&unknown));
    assert!(
        text(&unknown).contains("refused 'NOPE': Invalid API call"),
        "{}",
        text(&unknown)
    );

    let all_unknown = produce(&["NOPE"]);
    assert!(text(&all_unknown).contains("no symbol left to poll"));

    // A lower-case symbol is asked for in upper case, and says so.
    let lower = produce(&["goog"]);
    assert!(lower.status.success(), "{}", text(&lower));
    assert!(text(&lower).contains("asking for GOOG"), "{}", text(&lower));
    let queries = server.queries();
    assert!(
        queries.iter().all(|q| !q.contains("symbol=goog")),
        "{queries:?}"
    );

    // A base URL without a scheme stops at once with what is wrong, rather
    // than retrying a request that cannot be sent.
    for base in ["localhost:8080", "127.0.0.1:9"] {
        let bad = produce_at(base, &["GOOG"]);
        assert_eq!(bad.status.code(), Some(1), "{}", text(&bad));
        assert!(
            text(&bad).contains("must start with http:// or https://"),
            "{}",
            text(&bad)
        );
        assert!(!text(&bad).contains("retrying"), "{}", text(&bad));
    }
}

#[test]
fn produce_publishes_each_tick_once_across_a_restart_and_rides_out_failures() {
    let dir = scratch("produce-restart");
    let mock = cluster(3);
    let brokers = mock.bootstrap_servers();
    let config = config(&dir, &brokers);
    let config = config.to_str().unwrap();
    let server = Server::start(vec![
        (
            "GOOG",
            vec![
                Reply::Body(recorded("error-rate-limit-note.json")),
                Reply::Body(series("GOOG", &[50, 51])),
                Reply::Status(500),
                Reply::Body(series("GOOG", &[51, 52, 53])),
            ],
        ),
        (
            "MSFT",
            vec![
                Reply::Slow(Duration::from_secs(2), series("MSFT", &[50])),
                Reply::Body(series("MSFT", &[49, 50])),
                Reply::Body(series("MSFT", &[50, 51])),
            ],
        ),
    ]);
    let produce = || {
        tickhost(&[
            "produce",
            "--symbol",
            "GOOG",
            "--symbol",
            "MSFT",
            "--rounds",
            "1",
            "--base-url",
            &server.url,
            "--config",
            config,
        ])
    };

    let first = produce();
    assert!(first.status.success(), "{}", text(&first));
    // GOOG after a rate limit, MSFT after a timeout: 50, 51 and 49, 50.
    assert!(
        text(&first).contains("4 tick(s) published"),
        "{}",
        text(&first)
    );
    let second = produce();
    assert!(second.status.success(), "{}", text(&second));
    // GOOG after a 500: 52, 53 new, 51 not; MSFT: 51 new, 50 not.
    let summary = "3 tick(s) published, 2 duplicate(s) skipped";
    assert!(text(&second).contains(summary), "{}", text(&second));

    let mut ticks: Vec<(String, i64, f64)> = read(&brokers, "ticks", 7).iter().map(tick).collect();
    ticks.sort_by(|a, b| (&a.0, a.1).cmp(&(&b.0, b.1)));
    let expected = [
        ("GOOG", 50),
        ("GOOG", 51),
        ("GOOG", 52),
        ("GOOG", 53),
        ("MSFT", 49),
        ("MSFT", 50),
        ("MSFT", 51),
    ];
    let got: Vec<(&str, i64)> = ticks.iter().map(|(s, ts, _)| (s.as_str(), *ts)).collect();
    let want: Vec<(&str, i64)> = expected
        .iter()
        .map(|(s, m)| (*s, eastern_minute(*m)))
        .collect();
    assert_eq!(got, want, "every bar once, times in UTC");
    assert_eq!(ticks[0].2, 150.5, "the close price");
}

#[test]
fn replay_publishes_in_event_time_order_with_the_recorded_times() {
    let dir = scratch("produce-replay");
    let mock = cluster(1);
    let brokers = mock.bootstrap_servers();
    let config = config(&dir, &brokers);
    let file = dir.join("ticks.jsonl");
    std::fs::write(
        &file,
        "{\"symbol\":\"B\",\"ts\":1709931060000,\"price\":2.0,\"volume\":1}\n\
         {\"symbol\":\"A\",\"ts\":1709931000000,\"price\":1.0,\"volume\":1}\n\
         not a tick\n\
         {\"symbol\":\"A\",\"ts\":1709931120000,\"price\":3.0,\"volume\":1}\n",
    )
    .unwrap();
    let answer = workspace().join("host/data/alphavantage/intraday-goog-1min.json");

    let lines = tickhost(&[
        "replay",
        file.to_str().unwrap(),
        "--speed",
        "600",
        "--config",
        config.to_str().unwrap(),
    ]);
    assert!(lines.status.success(), "{}", text(&lines));
    assert!(text(&lines).contains("3 tick(s)"), "{}", text(&lines));
    assert!(
        text(&lines).contains("1 entr(ies) not ticks"),
        "{}",
        text(&lines)
    );
    let recorded = tickhost(&[
        "replay",
        answer.to_str().unwrap(),
        "--speed",
        "max",
        "--topic",
        "ticks",
        "--config",
        config.to_str().unwrap(),
    ]);
    assert!(recorded.status.success(), "{}", text(&recorded));

    let ticks: Vec<(String, i64, f64)> = read(&brokers, "ticks", 13).iter().map(tick).collect();
    let first: Vec<(&str, i64)> = ticks[..3]
        .iter()
        .map(|(s, ts, _)| (s.as_str(), *ts))
        .collect();
    assert_eq!(
        first,
        [
            ("A", 1_709_931_000_000),
            ("B", 1_709_931_060_000),
            ("A", 1_709_931_120_000)
        ]
    );
    let goog: Vec<i64> = ticks[3..].iter().map(|t| t.1).collect();
    let want: Vec<i64> = (50..60).map(eastern_minute).collect();
    assert_eq!(goog, want);
}

#[test]
fn produced_ticks_go_through_the_host_to_its_outputs() {
    let dir = scratch("produce-end-to-end");
    let mock = cluster(3);
    let brokers = mock.bootstrap_servers();
    for topic in ["ticks.processed", "ticks.rejected", "ticks.dlq"] {
        mock.create_topic(topic, 3, 1).unwrap();
    }
    mock.create_topic("tickhost.state", 1, 1).unwrap();
    let produce_config = config(&dir, &brokers);
    let server = Server::start(vec![
        ("GOOG", vec![Reply::Body(series("GOOG", &[50, 51, 52, 53]))]),
        ("MSFT", vec![Reply::Body(series("MSFT", &[50, 51]))]),
    ]);

    let run = tickhost(&[
        "produce",
        "--symbol",
        "GOOG",
        "--symbol",
        "MSFT",
        "--rounds",
        "1",
        "--base-url",
        &server.url,
        "--config",
        produce_config.to_str().unwrap(),
    ]);
    assert!(run.status.success(), "{}", text(&run));

    // The host, with the threshold plugin at its default of 1,000,000:
    // the odd minutes' bars, of 500,000, are dropped.
    let text = format!(
        "[[slot]]\nname = \"volume\"\npath = {:?}\n[kafka]\nbrokers = \"{brokers}\"\n\
         create-topics = false\ngroup-id = \"produce-end-to-end\"\n",
        component("threshold")
    );
    let config = Config::parse(&text, Path::new(".")).unwrap();
    let lineup = load_lineup(runtime(), &ComponentCache::new(None), &config).unwrap();
    let options = ServeOptions {
        stop_after: Some(6),
        report: false,
    };
    let tokio = tokio::runtime::Runtime::new().unwrap();
    let served = tokio
        .block_on(serve(
            &config,
            lineup,
            PartitionChains::new(),
            options,
            std::future::pending(),
        ))
        .unwrap();

    assert_eq!(served.counters.consumed, 6);
    let mut kept: Vec<(String, i64)> = read(&brokers, "ticks.processed", 3)
        .iter()
        .map(|m| {
            let value: serde_json::Value = serde_json::from_slice(m.payload().unwrap()).unwrap();
            assert_eq!(value["verdict"], "kept");
            let symbol = value["symbol"].as_str().unwrap().to_string();
            (symbol, value["ts"].as_i64().unwrap())
        })
        .collect();
    kept.sort();
    assert_eq!(
        kept,
        [
            ("GOOG".to_string(), eastern_minute(50)),
            ("GOOG".to_string(), eastern_minute(52)),
            ("MSFT".to_string(), eastern_minute(50)),
        ]
    );
    assert_eq!(read(&brokers, "ticks.rejected", 3).len(), 3);
}
