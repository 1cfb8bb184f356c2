//! `tickhost fetch`: one request to Alpha Vantage, the answer saved as it
//! came (with the key redacted), and what it is said on stderr. An error
//! answer is saved too, then reported as the command's error (exit code 78
//! for a refused key, as `produce`).

use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::Args;

use tickhost::produce::client::{Client, Fetch};
use tickhost::produce::config::ApiKey;
use tickhost::produce::response::{self, ApiError, Response};

use super::produce::{FunctionArg, load, redacted, symbols};
use super::serve::tokio_runtime;
use super::{EXIT_BAD_KEY, Exit};

#[derive(Debug, Args)]
pub struct FetchArgs {
    /// The symbol to ask for (upper case: `goog` is asked for as `GOOG`).
    #[arg(long)]
    symbol: String,

    /// Where to save the answer.
    #[arg(long)]
    out: PathBuf,

    /// What to ask for: the intraday series or the latest quote.
    #[arg(long, value_enum, default_value_t = FunctionArg::Intraday)]
    function: FunctionArg,

    /// The bar interval of an intraday series.
    #[arg(long, default_value = "1min")]
    interval: String,

    /// The API's address [default: the config's, or https://www.alphavantage.co].
    #[arg(long)]
    base_url: Option<String>,

    /// A configuration with an `[alphavantage]` section (the key may come
    /// from ALPHAVANTAGE_API_KEY instead).
    #[arg(long, short)]
    config: Option<PathBuf>,
}

pub fn execute(args: FetchArgs) -> anyhow::Result<()> {
    let (config, key) = load(args.config.as_deref())?;
    let base_url = args
        .base_url
        .clone()
        .unwrap_or(config.alphavantage.base_url.clone());
    fetch(args, &base_url, config.alphavantage.timeout, &key).map_err(|e| redacted(&key, e))
}

fn fetch(
    args: FetchArgs,
    base_url: &str,
    timeout: std::time::Duration,
    key: &ApiKey,
) -> anyhow::Result<()> {
    let client = Client::new(base_url, key.clone(), timeout)?;
    let function = args.function.function(&args.interval);
    let symbol = symbols(std::slice::from_ref(&args.symbol))?.remove(0);
    let url = client.display_url(&symbol, &function);

    let body = tokio_runtime()?
        .block_on(client.fetch(&symbol, &function))
        .with_context(|| format!("failed to fetch {url}"))?;
    std::fs::write(&args.out, &body)
        .with_context(|| format!("failed to write '{}'", args.out.display()))?;
    eprintln!(
        "saved {} byte(s) from {url} to '{}'",
        body.len(),
        args.out.display()
    );

    match response::parse(&body) {
        Ok(Ok(Response::Intraday(series))) => eprintln!(
            "a {} series of {} bar(s), times in {}",
            series.symbol,
            series.bars.len(),
            series.time_zone
        ),
        Ok(Ok(Response::Quote(quote))) => eprintln!("a quote of {} field(s)", quote.fields.len()),
        Ok(Err(unexpected)) => bail!("the answer is not a series or quote: {unexpected}"),
        Err(error @ ApiError::InvalidKey(_)) => {
            return Err(anyhow::Error::new(Exit {
                code: EXIT_BAD_KEY,
                message: format!("the answer is an error: {error}"),
            }));
        }
        Err(error) => bail!("the answer is an error: {error}"),
    }
    Ok(())
}
