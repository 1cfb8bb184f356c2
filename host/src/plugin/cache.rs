//! Compiled plugins cached on disk, so that a warm start does not recompile.
//!
//! An entry is keyed by the SHA-256 of the component's bytes and by the
//! engine's compatibility hash (wasmtime's version, the target and every
//! setting that changes generated code), so a changed plugin or a changed
//! engine never picks up a stale artifact. Entries are written to a temporary
//! file and renamed into place, so a reader never sees half an entry.

use std::collections::hash_map::DefaultHasher;
use std::fs;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use wasmtime::Engine;
use wasmtime::component::Component;

/// Where a component came from when it was loaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// Compiled from the component's bytes now.
    Compiled,
    /// Read from the cache.
    Cached,
}

/// A compiled component, where it came from, and how long that took.
pub struct Compiled {
    pub component: Component,
    pub origin: Origin,
    pub took: Duration,
}

/// The on-disk cache of compiled components. `None` for the directory turns
/// caching off.
#[derive(Debug, Clone)]
pub struct ComponentCache {
    dir: Option<PathBuf>,
}

impl ComponentCache {
    pub fn new(dir: Option<PathBuf>) -> ComponentCache {
        ComponentCache { dir }
    }

    /// The default location: `$XDG_CACHE_HOME/tickhost/components`, else
    /// `~/.cache/tickhost/components`; no cache if neither is known.
    pub fn default_dir() -> Option<PathBuf> {
        let base = std::env::var_os("XDG_CACHE_HOME")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|home| Path::new(&home).join(".cache")))?;
        Some(base.join("tickhost").join("components"))
    }

    /// Returns the compiled form of `bytes`, from the cache if it holds one.
    /// A cache that cannot be read or written is logged and bypassed: it
    /// makes a start slower, never failed.
    pub fn compile(&self, engine: &Engine, bytes: &[u8], hash: &str) -> wasmtime::Result<Compiled> {
        let start = Instant::now();
        let entry = self
            .dir
            .as_ref()
            .map(|dir| dir.join(entry_name(engine, hash)));

        if let Some(entry) = entry.as_ref().filter(|e| e.exists()) {
            // SAFETY: `deserialize_file` trusts the file to be an artifact
            // that this wasmtime produced. Entries are only ever written by
            // `store` below, from `Component::serialize`, under a name that
            // binds them to this engine's configuration; wasmtime checks the
            // header again and refuses an artifact of another engine.
            match unsafe { Component::deserialize_file(engine, entry) } {
                Ok(component) => {
                    return Ok(Compiled {
                        component,
                        origin: Origin::Cached,
                        took: start.elapsed(),
                    });
                }
                Err(e) => {
                    tracing::warn!(entry = %entry.display(), "ignoring unusable cache entry: {e}")
                }
            }
        }

        let component = Component::new(engine, bytes)?;
        if let Some(entry) = entry
            && let Err(e) = store(&component, &entry)
        {
            tracing::warn!(entry = %entry.display(), "failed to cache a compiled plugin: {e:#}");
        }
        Ok(Compiled {
            component,
            origin: Origin::Compiled,
            took: start.elapsed(),
        })
    }
}

fn entry_name(engine: &Engine, hash: &str) -> String {
    // The std hasher is deterministic within one build of tickhost, which is
    // all a key needs: a different build at worst misses the cache.
    let mut hasher = DefaultHasher::new();
    engine.precompile_compatibility_hash().hash(&mut hasher);
    format!("{hash}-{:016x}.cwasm", hasher.finish())
}

fn store(component: &Component, entry: &Path) -> anyhow::Result<()> {
    let bytes = component.serialize()?;
    let dir = entry.parent().expect("cache entries live in a directory");
    fs::create_dir_all(dir)?;
    let tmp = dir.join(format!(".tmp-{}-{}", std::process::id(), unique()));
    fs::write(&tmp, bytes)?;
    fs::rename(&tmp, entry)?;
    Ok(())
}

fn unique() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
}
