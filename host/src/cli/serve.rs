//! `tickhost serve`: the streaming host on a Kafka cluster, until SIGINT or
//! SIGTERM.

use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::Args;

use tickhost::chain::load_plugins;
use tickhost::config::Config;
use tickhost::kafka::{ServeOptions, serve};
use tickhost::plugin::{ComponentCache, Runtime};

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The configuration: the chain and its `[kafka]` section.
    #[arg(long, short, default_value = "tickhost.toml")]
    config: PathBuf,
}

pub fn execute(args: ServeArgs, cache: &ComponentCache) -> anyhow::Result<()> {
    let config = Config::load(&args.config)?;
    if config.slots.is_empty() {
        bail!("'{}' names no plugins", args.config.display());
    }
    let runtime = Runtime::new().context("failed to start the WebAssembly runtime")?;
    let plugins = load_plugins(&runtime, cache, &config)?;

    let served = tokio_runtime()?.block_on(serve(
        &config,
        plugins,
        ServeOptions::default(),
        shutdown_signal(),
    ))?;
    eprintln!("tickhost serve: {}", served.counters);
    Ok(())
}

/// The runtime of the streaming commands.
pub fn tokio_runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("failed to start the async runtime")
}

/// Resolves at the first SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut terminate) => {
                tokio::select! {
                    _ = interrupt => {}
                    _ = terminate.recv() => {}
                }
            }
            Err(_) => {
                let _ = interrupt.await;
            }
        }
    }
    #[cfg(not(unix))]
    let _ = interrupt.await;
    tracing::info!("shutting down: finishing the batch in flight");
}
