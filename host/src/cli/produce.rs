//! `tickhost produce`: polls Alpha Vantage for the given symbols and
//! publishes each new tick to the input topic, until stopped or its rounds
//! are done; and what `fetch` shares with it: the configuration, the key,
//! the symbols, and errors printed without the key.
//!
//! Exit codes: 0 when the rounds are done or the producer is stopped,
//! [`EXIT_BAD_KEY`] (78) when the key is missing or refused, 1 otherwise.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, anyhow};
use clap::{Args, ValueEnum};

use tickhost::config::Config;
use tickhost::produce::budget::Budget;
use tickhost::produce::client::{Client, Function};
use tickhost::produce::clock::SystemClock;
use tickhost::produce::config::{API_KEY_ENV, ApiKey};
use tickhost::produce::poll::{PollOptions, Poller, ProduceError, normalise_symbol};
use tickhost::produce::publish::{KafkaSink, last_published};

use super::serve::{shutdown_signal, tokio_runtime};
use super::{EXIT_BAD_KEY, Exit, exit_code};

#[derive(Debug, Args)]
pub struct ProduceArgs {
    /// A symbol to poll; repeat for more. They share one request budget.
    /// Symbols are upper case: `goog` is asked for as `GOOG`.
    #[arg(long = "symbol", required = true)]
    symbols: Vec<String>,

    /// The bar interval asked for, which is also how often each symbol is
    /// polled: 1min, 5min, 15min, 30min or 60min.
    #[arg(long, default_value = "1min")]
    interval: String,

    /// What to ask for: the intraday series or the latest quote.
    #[arg(long, value_enum, default_value_t = FunctionArg::Intraday)]
    function: FunctionArg,

    /// The API's address [default: the config's, or https://www.alphavantage.co].
    #[arg(long)]
    base_url: Option<String>,

    /// The configuration: `[alphavantage]` and `[kafka]` (the key may come
    /// from ALPHAVANTAGE_API_KEY instead).
    #[arg(long, short)]
    config: Option<PathBuf>,

    /// The topic to publish to [default: the config's input topic].
    #[arg(long)]
    topic: Option<String>,

    /// Stop after this many rounds of polling every symbol.
    #[arg(long)]
    rounds: Option<u64>,
}

/// The two kinds of request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FunctionArg {
    /// TIME_SERIES_INTRADAY.
    Intraday,
    /// GLOBAL_QUOTE.
    Quote,
}

impl FunctionArg {
    pub fn function(self, interval: &str) -> Function {
        match self {
            FunctionArg::Intraday => Function::Intraday {
                interval: interval.to_string(),
            },
            FunctionArg::Quote => Function::Quote,
        }
    }
}

pub fn execute(args: ProduceArgs) -> anyhow::Result<()> {
    let (config, key) = load(args.config.as_deref())?;
    // Whatever goes wrong below, the message is printed without the key.
    produce(args, config, &key).map_err(|e| redacted(&key, e))
}

/// `error` with the key taken out of its message, its exit code kept.
pub fn redacted(key: &ApiKey, error: anyhow::Error) -> anyhow::Error {
    anyhow::Error::new(Exit {
        code: exit_code(&error),
        message: key.redact(&format!("{error:#}")),
    })
}

/// The symbols as the API is asked for them: upper case, each once. A
/// symbol that was not written so is noted.
pub fn symbols(given: &[String]) -> anyhow::Result<Vec<String>> {
    let mut symbols: Vec<String> = Vec::new();
    for text in given {
        let symbol = normalise_symbol(text).map_err(|e| anyhow!(e))?;
        if symbol != *text {
            tracing::info!(given = %text, %symbol, "symbols are upper case; asking for {symbol}");
        }
        if !symbols.contains(&symbol) {
            symbols.push(symbol);
        }
    }
    Ok(symbols)
}

fn produce(args: ProduceArgs, config: Config, key: &ApiKey) -> anyhow::Result<()> {
    let interval = interval(&args.interval)?;
    let symbols = symbols(&args.symbols)?;
    let base_url = args
        .base_url
        .as_deref()
        .unwrap_or(&config.alphavantage.base_url);
    let topic = args
        .topic
        .clone()
        .unwrap_or(config.kafka.topics.input.clone());
    let client = Client::new(base_url, key.clone(), config.alphavantage.timeout)?;
    let options = PollOptions {
        symbols,
        function: args.function.function(&args.interval),
        interval,
        rounds: args.rounds,
        retry: config.alphavantage.retry,
        rate_limit: config.alphavantage.rate_limit,
    };

    let tokio = tokio_runtime()?;
    // Blocking reads of the topic's tail, before the loop starts.
    let last: HashMap<String, i64> = last_published(&config.kafka, &topic)
        .context("failed to recover the last published ticks")?;
    for symbol in &options.symbols {
        match last.get(symbol) {
            Some(ts) => {
                tracing::info!(%symbol, last_ts = ts, "resuming after the last published tick")
            }
            None => tracing::info!(%symbol, "no tick of this symbol published yet"),
        }
    }

    let (summary, result) = tokio.block_on(async {
        let mut sink = KafkaSink::new(&config.kafka, &topic)?;
        let clock = SystemClock::default();
        let budget = Budget::new(
            config.alphavantage.per_minute,
            config.alphavantage.per_day,
            config.alphavantage.min_gap,
        );
        let poller = Poller::new(&client, &clock, &mut sink, budget, last);
        anyhow::Ok(poller.run(&options, shutdown_signal()).await)
    })?;
    eprintln!("tickhost produce: {summary}");
    for (symbol, reason) in &summary.refused {
        eprintln!("refused '{symbol}': {reason}");
    }
    match result {
        Ok(()) => Ok(()),
        Err(e @ ProduceError::InvalidKey(_)) => Err(anyhow::Error::new(Exit {
            code: EXIT_BAD_KEY,
            message: e.to_string(),
        })),
        Err(e) => Err(e.into()),
    }
}

/// The configuration (the file's when one is named) and the API key.
pub fn load(path: Option<&Path>) -> anyhow::Result<(Config, ApiKey)> {
    let config = match path {
        Some(path) => Config::load(path)?,
        None => Config::parse("", Path::new(".")).map_err(|e| anyhow!("{e}"))?,
    };
    let key = config.alphavantage.api_key.clone().ok_or_else(|| Exit {
        code: EXIT_BAD_KEY,
        message: format!(
            "no Alpha Vantage API key: set {API_KEY_ENV} or [alphavantage] api-key in the config"
        ),
    })?;
    Ok((config, key))
}

/// How long an interval such as `5min` is.
fn interval(text: &str) -> anyhow::Result<Duration> {
    let minutes: u64 = text
        .strip_suffix("min")
        .and_then(|n| n.parse().ok())
        .filter(|n| [1, 5, 15, 30, 60].contains(n))
        .with_context(|| format!("interval '{text}' is not 1min, 5min, 15min, 30min or 60min"))?;
    Ok(Duration::from_secs(minutes * 60))
}
