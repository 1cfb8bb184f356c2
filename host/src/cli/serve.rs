//! `tickhost serve`: the streaming host on a Kafka cluster, with its admin
//! API and configuration watcher, until SIGINT or SIGTERM.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, bail};
use clap::Args;

use tickhost::chain::load_lineup;
use tickhost::config::Config;
use tickhost::kafka::{PartitionChains, ServeOptions, serve};
use tickhost::plugin::{ComponentCache, Runtime};
use tickhost::swap::{Control, admin, watch};

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The configuration: the chain and its `[kafka]` section.
    #[arg(long, short, default_value = "tickhost.toml")]
    config: PathBuf,

    /// Where the admin API listens, or `off` [default: the configuration's
    /// `[admin] listen`, else 127.0.0.1:9480].
    #[arg(long, value_name = "ADDR")]
    admin: Option<String>,

    /// Do not watch the configuration and plugin files for changes.
    #[arg(long)]
    no_watch: bool,
}

pub fn execute(args: ServeArgs, cache: &ComponentCache) -> anyhow::Result<()> {
    let config = Config::load(&args.config)?;
    if config.slots.is_empty() {
        bail!("'{}' names no plugins", args.config.display());
    }
    let listen: Option<SocketAddr> = match args.admin.as_deref() {
        None => config.admin.listen,
        Some("off") => None,
        Some(address) => Some(
            address
                .parse()
                .with_context(|| format!("--admin '{address}' is not an address"))?,
        ),
    };
    let runtime = Runtime::new().context("failed to start the WebAssembly runtime")?;
    let lineup = load_lineup(&runtime, cache, &config)?;
    let chains = PartitionChains::new();
    let control = Arc::new(Control::new(
        runtime,
        cache.clone(),
        config.limits,
        lineup.clone(),
        chains.clone(),
    ));
    let _watcher = if config.admin.watch && !args.no_watch {
        Some(watch::start(&args.config, control.clone())?)
    } else {
        None
    };

    let tokio = tokio_runtime()?;
    let served = tokio.block_on(async {
        if let Some(address) = listen {
            let listener = admin::bind(address).await?;
            let bound = listener.local_addr()?;
            tracing::info!("admin API on http://{bound}");
            eprintln!("tickhost serve: admin API on http://{bound}");
            tokio::spawn(admin::serve(listener, control, std::future::pending()));
        }
        serve(
            &config,
            lineup,
            chains,
            ServeOptions::default(),
            shutdown_signal(),
        )
        .await
    })?;
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
