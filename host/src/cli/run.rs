//! `tickhost run`: loads the chain, runs a tick file through it, writes the
//! records, and prints the report on stderr.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, bail};
use clap::Args;

use tickhost::chain::Chain;
use tickhost::config::{self, Config};
use tickhost::input::{Format, TickReader};
use tickhost::plugin::{ComponentCache, Runtime};

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
    let mut chain = Chain::load(&runtime, cache, &config)?;

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
    let report = tickhost::run::run(&mut chain, reader, &mut out, config.batch_size)
        .with_context(|| format!("run of '{}' stopped", args.input.display()))?;
    let took = start.elapsed();

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
