//! The configuration watcher: a changed plugin file, or changed parameters
//! of a slot in `tickhost.toml`, is swapped in without a restart.
//!
//! The directories of the configuration file and of every plugin it names
//! are watched (editors and build tools replace files by renaming, which a
//! watch on the file itself would miss). Events are debounced: the watcher
//! waits until the files have been quiet for [`DEBOUNCE`], then reads the
//! configuration again and [`reconcile`]s it with the running lineup. A
//! file caught half-written fails validation, and the next event tries
//! again; a version that was refused is not retried until it changes.
//!
//! Only plugin files and parameters are applied live. Adding, removing or
//! reordering slots, and the other sections, take a restart, and the log
//! says so.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

use anyhow::Context;
use notify::{EventKind, RecursiveMode, Watcher as _};
use sha2::{Digest, Sha256};

use super::{Control, Source, SwapError, Swapped};
use crate::config::Config;

/// How long the files must be quiet before a change is applied.
pub const DEBOUNCE: Duration = Duration::from_millis(300);

/// What the watcher last tried for each slot: the component's hash and the
/// parameters, so that a refused version is not tried on every event.
type Attempts = HashMap<String, (String, toml::Table)>;

/// A running watcher; dropping it stops the watch.
pub struct ConfigWatcher {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Drop for ConfigWatcher {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Starts watching `config` and the plugin files it names.
pub fn start(config: &Path, control: Arc<Control>) -> anyhow::Result<ConfigWatcher> {
    let config = std::path::absolute(config)
        .with_context(|| format!("failed to resolve '{}'", config.display()))?;
    let (events, received) = mpsc::channel();
    let mut watcher = notify::recommended_watcher(move |event| {
        let _ = events.send(event);
    })
    .context("failed to start the file watcher")?;
    let mut watched = BTreeSet::new();
    let mut files = watch_files(&config, &mut watcher, &mut watched)?;

    tracing::info!(config = %config.display(), "watching the configuration and its plugins");
    let stop = Arc::new(AtomicBool::new(false));
    let stopped = stop.clone();
    let thread = std::thread::Builder::new()
        .name("tickhost-watch".into())
        .spawn(move || {
            let mut attempts = Attempts::new();
            while !stopped.load(Ordering::Acquire) {
                let event = match received.recv_timeout(Duration::from_millis(200)) {
                    Ok(Ok(event)) => event,
                    Ok(Err(e)) => {
                        tracing::warn!("file watcher: {e}");
                        continue;
                    }
                    Err(mpsc::RecvTimeoutError::Timeout) => continue,
                    Err(mpsc::RecvTimeoutError::Disconnected) => break,
                };
                let relevant = matches!(
                    event.kind,
                    EventKind::Create(_) | EventKind::Modify(_) | EventKind::Remove(_)
                ) && event.paths.iter().any(|p| files.contains(p));
                if !relevant {
                    continue;
                }
                // Wait for the writes to settle.
                while received.recv_timeout(DEBOUNCE).is_ok() {}
                reconcile(&config, &control, &mut attempts);
                match watch_files(&config, &mut watcher, &mut watched) {
                    Ok(now) => files = now,
                    Err(e) => tracing::warn!("file watcher: {e:#}"),
                }
            }
        })
        .context("failed to start the watcher thread")?;
    Ok(ConfigWatcher {
        stop,
        thread: Some(thread),
    })
}

/// Watches the directories of the configuration and of its plugins (those
/// not watched yet), and returns the files whose changes count.
fn watch_files(
    config: &Path,
    watcher: &mut notify::RecommendedWatcher,
    watched: &mut BTreeSet<PathBuf>,
) -> anyhow::Result<BTreeSet<PathBuf>> {
    let mut files = BTreeSet::from([config.to_path_buf()]);
    if let Ok(loaded) = Config::load(config) {
        for slot in loaded.slots {
            files.insert(std::path::absolute(&slot.path).unwrap_or(slot.path));
        }
    }
    for file in &files {
        let Some(dir) = file.parent() else { continue };
        if dir.is_dir() && watched.insert(dir.to_path_buf()) {
            watcher
                .watch(dir, RecursiveMode::NonRecursive)
                .with_context(|| format!("failed to watch '{}'", dir.display()))?;
        }
    }
    Ok(files)
}

/// Reads the configuration again and swaps in every slot whose plugin file
/// or parameters differ from what runs. Returns what was tried, by slot.
pub fn reconcile(
    config: &Path,
    control: &Control,
    attempts: &mut HashMap<String, (String, toml::Table)>,
) -> Vec<(String, Result<Swapped, SwapError>)> {
    let loaded = match Config::load(config) {
        Ok(loaded) => loaded,
        Err(e) => {
            tracing::warn!("{e}; the running plugins are kept");
            return Vec::new();
        }
    };
    let (_, entries) = control.lineup().entries();
    let running: Vec<&str> = entries.iter().map(|e| e.name.as_str()).collect();
    let configured: Vec<&str> = loaded.slots.iter().map(|s| s.name.as_str()).collect();
    if running != configured {
        tracing::warn!(
            ?running,
            ?configured,
            "the slots were added, removed or reordered: that takes a restart; \
             the slots that exist are updated"
        );
    }

    let mut tried = Vec::new();
    for slot in &loaded.slots {
        let Some(entry) = entries.iter().find(|e| e.name == slot.name) else {
            continue;
        };
        let bytes = match std::fs::read(&slot.path) {
            Ok(bytes) => bytes,
            Err(e) => {
                tracing::warn!(slot = %slot.name, "cannot read '{}': {e}", slot.path.display());
                continue;
            }
        };
        let hash = hex::encode(Sha256::digest(&bytes));
        if hash == entry.plugin.hash() && slot.params == entry.params {
            attempts.remove(&slot.name);
            continue;
        }
        let attempt = (hash, slot.params.clone());
        if attempts.get(&slot.name) == Some(&attempt) {
            continue;
        }
        attempts.insert(slot.name.clone(), attempt);
        let source = Source::Bytes {
            name: slot.path.display().to_string(),
            bytes,
        };
        let result = control.swap(&slot.name, source, Some(slot.params.clone()));
        if let Err(e) = &result {
            tracing::warn!(slot = %slot.name, "the change was not applied, the running version is kept: {e}");
        }
        tried.push((slot.name.clone(), result));
    }
    tried
}
