//! The commands and their arguments. Each command lives in its own module;
//! this one only declares the argument tree and dispatches.

mod admin;
mod demo;
mod fetch;
mod inspect;
pub mod logging;
mod produce;
mod replay;
mod run;
mod serve;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use tickhost::plugin::ComponentCache;

/// tickhost: market ticks through a chain of WebAssembly filter plugins.
#[derive(Debug, Parser)]
#[command(name = "tickhost", version, about)]
pub struct Args {
    #[command(subcommand)]
    command: Command,

    /// Where compiled plugins are cached [default: ~/.cache/tickhost/components].
    #[arg(long, global = true, env = "TICKHOST_CACHE_DIR")]
    cache_dir: Option<PathBuf>,

    /// Compile plugins on every start instead of using the cache.
    #[arg(long, global = true)]
    no_cache: bool,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run a file of ticks through the plugin chain.
    Run(run::RunArgs),
    /// Consume ticks from Kafka, judge them, publish the outcome.
    Serve(serve::ServeArgs),
    /// Run the bundled ticks through Kafka on an in-process mock cluster.
    Demo(demo::DemoArgs),
    /// Poll Alpha Vantage and publish new ticks to the input topic.
    Produce(produce::ProduceArgs),
    /// Save one Alpha Vantage answer, the key redacted.
    Fetch(fetch::FetchArgs),
    /// Publish a recording's ticks in event-time order, paced.
    Replay(replay::ReplayArgs),
    /// Work with plugin components.
    #[command(subcommand)]
    Plugin(PluginCommand),
}

#[derive(Debug, Subcommand)]
enum PluginCommand {
    /// Show a component's name, version, contract and parameters.
    Inspect(inspect::InspectArgs),
    /// List the slots of a running host (through its admin API).
    List(admin::ListArgs),
    /// Swap a new version into a slot of a running host.
    Swap(admin::SwapArgs),
    /// Roll a slot of a running host back to its previous version.
    Rollback(admin::RollbackArgs),
}

/// The exit code of a missing or refused Alpha Vantage key (`EX_CONFIG`
/// of sysexits.h), so that whoever restarts a failed producer can tell a
/// failure that no restart cures from one that a restart may.
pub const EXIT_BAD_KEY: u8 = 78;

/// An error that ends the process with its own exit code; any other error
/// exits with 1.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct Exit {
    pub code: u8,
    pub message: String,
}

/// The exit code for `error`.
pub fn exit_code(error: &anyhow::Error) -> u8 {
    error.downcast_ref::<Exit>().map_or(1, |exit| exit.code)
}

/// Runs the command the arguments name.
pub fn execute(args: Args) -> anyhow::Result<()> {
    let cache = if args.no_cache {
        ComponentCache::new(None)
    } else {
        ComponentCache::new(args.cache_dir.or_else(ComponentCache::default_dir))
    };
    match args.command {
        Command::Run(run) => run::execute(run, &cache),
        Command::Serve(serve) => serve::execute(serve, &cache),
        Command::Demo(demo) => demo::execute(demo, &cache),
        Command::Produce(produce) => produce::execute(produce),
        Command::Fetch(fetch) => fetch::execute(fetch),
        Command::Replay(replay) => replay::execute(replay),
        Command::Plugin(PluginCommand::Inspect(inspect)) => inspect::execute(inspect, &cache),
        Command::Plugin(PluginCommand::List(list)) => admin::list(list),
        Command::Plugin(PluginCommand::Swap(swap)) => admin::swap(swap),
        Command::Plugin(PluginCommand::Rollback(rollback)) => admin::rollback(rollback),
    }
}
