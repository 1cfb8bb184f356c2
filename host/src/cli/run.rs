//! `tickhost run`: loads the chain, runs a tick file through it, writes the
//! records, and prints the report on stderr. With `--admin` or `--watch`
//! its plugins can be swapped while it runs, as under `tickhost serve`
//! (useful when the input is a pipe that keeps delivering ticks).

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use anyhow::{Context, bail};
use clap::Args;

use tickhost::chain::Chain;
use tickhost::config::{self, Config};
use tickhost::input::{Format, TickReader};
use tickhost::plugin::{ComponentCache, Runtime};
use tickhost::swap::{Control, admin, watch};

/// The configuration file used when neither `--config` nor `--plugin` is
/// given and it exists in the working directory.
const DEFAULT_CONFIG: &str = "tickhost.toml";

#[derive(Debug, Args)]
pub struct RunArgs {
    /// The tick file: JSON lines, or CSV with a header.
    #[arg(long, short)]
    input: PathBuf,

    /// The input's format [default: csv for a .csv file, else jsonl].
    #[arg(long, value_enum)]
    format: Option<Format>,

    /// The chain configuration [default: ./tickhost.toml].
    #[arg(long, short)]
    config: Option<PathBuf>,

    /// A plugin component, with default parameters; repeat for a chain, in
    /// order. Replaces the configuration's chain.
    #[arg(long = "plugin", short = 'p', value_name = "PATH")]
    plugins: Vec<PathBuf>,

    /// Ticks per batch [default: the configuration's, else 1024].
    #[arg(long)]
    batch_size: Option<usize>,

    /// Where to write the records [default: stdout].
    #[arg(long, short)]
    output: Option<PathBuf>,

    /// Serve the admin API (`tickhost plugin ...`) on this address while
    /// the run lasts [default: no API].
    #[arg(long, value_name = "ADDR")]
    admin: Option<SocketAddr>,

    /// Swap in plugins whose file or parameters change in the configuration
    /// while the run lasts.
    #[arg(long)]
    watch: bool,
}

pub fn execute(args: RunArgs, cache: &ComponentCache) -> anyhow::Result<()> {
    let mut config = chain_config(&args)?;
    if let Some(size) = args.batch_size {
        config::check_batch_size(size).map_err(anyhow::Error::msg)?;
        config.batch_size = size;
    }
    if config.slots.is_empty() {
        bail!("the chain has no plugins: name them in the configuration or with --plugin");
    }

    let runtime = Runtime::new().context("failed to start the WebAssembly runtime")?;
    let chain = Arc::new(Mutex::new(Chain::load(&runtime, cache, &config)?));
    let (_admin, _watcher) = live_changes(&args, &config, runtime, cache, &chain)?;

    let format = args.format.unwrap_or_else(|| Format::of_path(&args.input));
    let reader = TickReader::open(&args.input, format)
        .with_context(|| format!("failed to open input '{}'", args.input.display()))?;
    let mut out: Box<dyn Write> = match &args.output {
        Some(path) => {
            Box::new(BufWriter::new(File::create(path).with_context(|| {
                format!("failed to create output '{}'", path.display())
            })?))
        }
        None => Box::new(BufWriter::new(io::stdout().lock())),
    };

    let start = Instant::now();
    let report = tickhost::run::run(&chain, reader, &mut out, config.batch_size)
        .with_context(|| format!("run of '{}' stopped", args.input.display()))?;
    let took = start.elapsed();
    let chain = chain.lock().unwrap_or_else(PoisonError::into_inner);

    eprintln!(
        "\ntickhost run: {} line(s) of '{}' through {} plugin(s) in {} batch(es) of up to {} \
         ticks, {:.1} ms",
        report.read(),
        args.input.display(),
        chain.slots().len(),
        chain.batches(),
        config.batch_size,
        took.as_secs_f64() * 1e3
    );
    eprint!("{report}");
    Ok(())
}

/// Starts the admin API and the watcher that `--admin` and `--watch` ask
/// for; both stop when what is returned is dropped.
fn live_changes(
    args: &RunArgs,
    config: &Config,
    runtime: Runtime,
    cache: &ComponentCache,
    chain: &Arc<Mutex<Chain>>,
) -> anyhow::Result<(
    Option<tokio::runtime::Runtime>,
    Option<watch::ConfigWatcher>,
)> {
    if args.admin.is_none() && !args.watch {
        return Ok((None, None));
    }
    let lineup = chain
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .lineup()
        .clone();
    let control = Arc::new(Control::new(
        runtime,
        cache.clone(),
        config.limits,
        lineup,
        chain.clone(),
    ));
    let watcher = match (args.watch, &args.config) {
        (false, _) => None,
        (true, Some(path)) => Some(watch::start(path, control.clone())?),
        (true, None) => bail!("--watch needs --config: there is no configuration to watch"),
    };
    let Some(address) = args.admin else {
        return Ok((None, watcher));
    };
    let tokio = super::serve::tokio_runtime()?;
    let listener = tokio.block_on(admin::bind(address))?;
    let bound = listener.local_addr()?;
    tracing::info!("admin API on http://{bound}");
    eprintln!("tickhost run: admin API on http://{bound}");
    tokio.spawn(admin::serve(listener, control, std::future::pending()));
    Ok((Some(tokio), watcher))
}

/// The chain: from `--plugin`, else `--config`, else `./tickhost.toml`.
fn chain_config(args: &RunArgs) -> anyhow::Result<Config> {
    match (&args.config, args.plugins.is_empty()) {
        (Some(_), false) => bail!("give either --config or --plugin, not both"),
        (None, false) => Config::from_plugin_paths(&args.plugins).map_err(anyhow::Error::msg),
        (Some(path), true) => Ok(Config::load(path)?),
        (None, true) if Path::new(DEFAULT_CONFIG).exists() => {
            Ok(Config::load(Path::new(DEFAULT_CONFIG))?)
        }
        (None, true) => {
            bail!("no chain to run: pass --config FILE or --plugin PATH (no {DEFAULT_CONFIG} here)")
        }
    }
}
