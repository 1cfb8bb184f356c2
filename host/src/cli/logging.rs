//! Logging for the command line: `tracing` events on stderr, filtered by
//! `RUST_LOG` (default: tickhost's lifecycle events at INFO, everything
//! else at WARN). Stdout is kept for the records a command writes.

use tracing_subscriber::EnvFilter;

/// The filter used when `RUST_LOG` is not set.
const DEFAULT_FILTER: &str = "warn,tickhost=info";

/// Installs the subscriber; called once, before any command runs.
pub fn init() {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(DEFAULT_FILTER));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .init();
}
