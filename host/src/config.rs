//! `tickhost.toml`: the plugin chain, its limits and the Kafka section
//! ([`crate::kafka::config`]), read and checked once.
//!
//! ```toml
//! [[slot]]
//! name = "spike"
//! path = "plugins/spike.wasm"   # relative to this file
//! [slot.params]
//! max-change-pct = 2.0
//! ```
//!
//! What the file can say is checked here (unknown keys, duplicate slot
//! names, sizes); what a plugin accepts as parameters is checked when the
//! plugin is loaded, against what the plugin itself declares.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::duration;
use crate::kafka::config::{KafkaConfig, KafkaFile};
use crate::plugin::Limits;
use crate::produce::config::{AlphaVantageConfig, AlphaVantageFile};

/// The batch size used when neither the command line nor the file sets one.
/// At 1,024 ticks the cost of crossing into a plugin is spread thin enough
/// that the chain runs within a small factor of native code (see the
/// README's benchmark), while a batch is still a fraction of a millisecond.
pub const DEFAULT_BATCH_SIZE: usize = 1024;

/// The largest batch accepted: the chain holds a batch and its verdicts in
/// memory, and every plugin holds a copy in its own memory.
pub const MAX_BATCH_SIZE: usize = 1 << 20;

/// Why a configuration file was refused.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("failed to read config '{path}': {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("invalid config '{path}': {message}")]
    Invalid { path: PathBuf, message: String },
}

/// A whole `tickhost.toml`.
#[derive(Debug, Clone, Default)]
pub struct Config {
    /// The chain's slots, in order.
    pub slots: Vec<SlotConfig>,
    /// Ticks per batch.
    pub batch_size: usize,
    /// The limits of every plugin instance.
    pub limits: Limits,
    /// Where `tickhost serve` reads and writes.
    pub kafka: KafkaConfig,
    /// How `tickhost produce` and `fetch` reach Alpha Vantage.
    pub alphavantage: AlphaVantageConfig,
}

/// One slot of the chain.
#[derive(Debug, Clone, PartialEq)]
pub struct SlotConfig {
    /// The slot's name, unique in the chain; output records and logs use it.
    pub name: String,
    /// The component file, resolved against the config file's directory.
    pub path: PathBuf,
    /// The parameters given to the plugin; those left out take its defaults.
    pub params: toml::Table,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct File {
    #[serde(default)]
    slot: Vec<SlotFile>,
    #[serde(default)]
    batch_size: Option<usize>,
    #[serde(default)]
    sandbox: SandboxFile,
    #[serde(default)]
    kafka: KafkaFile,
    #[serde(default)]
    alphavantage: AlphaVantageFile,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SlotFile {
    name: String,
    path: PathBuf,
    #[serde(default)]
    params: toml::Table,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct SandboxFile {
    memory_mib: Option<usize>,
    deadline: Option<String>,
}

impl Config {
    /// Reads and checks the file at `path`.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let base = path.parent().unwrap_or(Path::new("."));
        Config::parse(&text, base).map_err(|message| ConfigError::Invalid {
            path: path.to_path_buf(),
            message,
        })
    }

    /// Parses a configuration whose relative plugin paths are taken from
    /// `base`.
    pub fn parse(text: &str, base: &Path) -> Result<Config, String> {
        let file: File = toml::from_str(text).map_err(|e| e.message().to_string())?;

        let mut slots: Vec<SlotConfig> = Vec::with_capacity(file.slot.len());
        for slot in file.slot {
            if slot.name.is_empty() {
                return Err("a slot has an empty name".to_string());
            }
            if slots.iter().any(|s| s.name == slot.name) {
                return Err(format!("slot name '{}' is used twice", slot.name));
            }
            slots.push(SlotConfig {
                name: slot.name,
                path: base.join(slot.path),
                params: slot.params,
            });
        }

        let batch_size = file.batch_size.unwrap_or(DEFAULT_BATCH_SIZE);
        check_batch_size(batch_size)?;

        let mut limits = Limits::default();
        if let Some(mib) = file.sandbox.memory_mib {
            if mib == 0 {
                return Err("sandbox.memory-mib must be at least 1".to_string());
            }
            limits.memory = mib.saturating_mul(1 << 20);
        }
        if let Some(text) = file.sandbox.deadline {
            let deadline = duration::parse(&text).map_err(|e| format!("sandbox.deadline: {e}"))?;
            if deadline < Duration::from_millis(1) {
                return Err("sandbox.deadline must be at least 1ms".to_string());
            }
            limits.deadline = deadline;
        }

        let kafka = file.kafka.resolve(|name| std::env::var(name).ok())?;
        let alphavantage = file.alphavantage.resolve(|name| std::env::var(name).ok())?;

        Ok(Config {
            slots,
            batch_size,
            limits,
            kafka,
            alphavantage,
        })
    }

    /// A chain of the given component files with their default parameters,
    /// each slot named after its file (`spike.wasm` is slot `spike`).
    pub fn from_plugin_paths(paths: &[PathBuf]) -> Result<Config, String> {
        let mut text = String::new();
        for path in paths {
            let name = path
                .file_stem()
                .map(|stem| stem.to_string_lossy().replace('_', "-"))
                .unwrap_or_default();
            text.push_str(&format!(
                "[[slot]]\nname = {}\npath = {}\n",
                toml::Value::String(name),
                toml::Value::String(path.display().to_string()),
            ));
        }
        Config::parse(&text, Path::new(""))
    }
}

/// A batch size must be at least one tick and at most [`MAX_BATCH_SIZE`].
pub fn check_batch_size(size: usize) -> Result<(), String> {
    if !(1..=MAX_BATCH_SIZE).contains(&size) {
        return Err(format!(
            "batch size {size} must be between 1 and {MAX_BATCH_SIZE}"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_slots_in_order_with_paths_from_the_file() {
        let text = r#"
            batch-size = 64
            [[slot]]
            name = "spike"
            path = "plugins/spike.wasm"
            [slot.params]
            max-change-pct = 3.5
            [[slot]]
            name = "volume"
            path = "/abs/threshold.wasm"
        "#;

        let config = Config::parse(text, Path::new("/etc/tickhost")).unwrap();

        assert_eq!(config.batch_size, 64);
        assert_eq!(config.slots.len(), 2);
        assert_eq!(config.slots[0].name, "spike");
        assert_eq!(
            config.slots[0].path,
            Path::new("/etc/tickhost/plugins/spike.wasm")
        );
        assert_eq!(
            config.slots[0].params["max-change-pct"].as_float(),
            Some(3.5)
        );
        assert_eq!(config.slots[1].path, Path::new("/abs/threshold.wasm"));
        assert!(config.slots[1].params.is_empty());
    }

    #[test]
    fn defaults_apply_to_what_is_left_out() {
        let config = Config::parse("", Path::new(".")).unwrap();

        assert_eq!(config.batch_size, DEFAULT_BATCH_SIZE);
        assert_eq!(config.limits, Limits::default());
        assert!(config.slots.is_empty());
    }

    #[test]
    fn sandbox_limits_are_read() {
        let text = "[sandbox]\nmemory-mib = 16\ndeadline = \"250ms\"\n";

        let config = Config::parse(text, Path::new(".")).unwrap();

        assert_eq!(config.limits.memory, 16 << 20);
        assert_eq!(config.limits.deadline, Duration::from_millis(250));
    }

    #[test]
    fn mistakes_are_named() {
        let cases = [
            ("batch-size = 0", "batch size 0 must be between 1"),
            ("batch_size = 8", "unknown field `batch_size`"),
            ("[[slot]]\nname = \"a\"\n", "missing field `path`"),
            (
                "[[slot]]\nname = \"a\"\npath = \"x\"\n[[slot]]\nname = \"a\"\npath = \"y\"\n",
                "slot name 'a' is used twice",
            ),
            (
                "[sandbox]\ndeadline = \"soon\"",
                "sandbox.deadline: invalid duration",
            ),
            ("[sandbox]\nmemory-mib = 0", "memory-mib must be at least 1"),
        ];
        for (text, expected) in cases {
            let err = Config::parse(text, Path::new(".")).unwrap_err();
            assert!(err.contains(expected), "{text:?}: got {err:?}");
        }
    }

    #[test]
    fn plugin_paths_become_slots_named_after_their_files() {
        let paths = [
            PathBuf::from("a/spike.wasm"),
            PathBuf::from("moving_average.wasm"),
        ];

        let config = Config::from_plugin_paths(&paths).unwrap();

        let names: Vec<&str> = config.slots.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["spike", "moving-average"]);
        assert_eq!(config.slots[0].path, Path::new("a/spike.wasm"));
    }
}
