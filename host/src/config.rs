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

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::circuit::{CircuitConfig, FaultPolicy, OnFault};
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

/// Where the admin API listens when the file does not say: loopback only,
/// since it can replace the code that judges every tick.
pub const DEFAULT_ADMIN_ADDR: &str = "127.0.0.1:9480";

/// How stale a slot's last good snapshot may get by default. A faulted
/// instance is rebuilt from it, so this bounds the state a fault can lose;
/// a snapshot a second costs little next to a second of ticks.
pub const DEFAULT_SNAPSHOT_INTERVAL: Duration = Duration::from_secs(1);

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
    /// How often each slot's state is snapshotted, to rebuild it from after
    /// a fault (checkpoints count too).
    pub snapshot_interval: Duration,
    /// How a running host is changed: the admin API and the file watcher.
    pub admin: AdminConfig,
}

/// The admin API and the configuration watcher of a running host.
#[derive(Debug, Clone, PartialEq)]
pub struct AdminConfig {
    /// Where the API listens; `None` when it is off.
    pub listen: Option<SocketAddr>,
    /// Whether the configuration file and the plugin files it names are
    /// watched, and changed slots swapped in.
    pub watch: bool,
}

impl Default for AdminConfig {
    fn default() -> AdminConfig {
        AdminConfig {
            listen: Some(DEFAULT_ADMIN_ADDR.parse().expect("a valid address")),
            watch: true,
        }
    }
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
    /// What a fault of the plugin does to the batch, and when the slot's
    /// circuit opens.
    pub policy: FaultPolicy,
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
    #[serde(default)]
    admin: AdminFile,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct SlotFile {
    name: String,
    path: PathBuf,
    #[serde(default)]
    params: toml::Table,
    #[serde(default)]
    on_fault: OnFault,
    #[serde(default)]
    circuit: CircuitFile,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct CircuitFile {
    faults: Option<u32>,
    window: Option<String>,
    open_for: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct SandboxFile {
    memory_mib: Option<usize>,
    deadline: Option<String>,
    state_deadline: Option<String>,
    snapshot_interval: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct AdminFile {
    listen: Option<String>,
    watch: Option<bool>,
}

impl CircuitFile {
    fn resolve(self, slot: &str) -> Result<CircuitConfig, String> {
        let mut circuit = CircuitConfig::default();
        let field = |name: &str, text: &str| {
            duration::parse(text).map_err(|e| format!("slot '{slot}': circuit.{name}: {e}"))
        };
        if let Some(faults) = self.faults {
            if faults == 0 {
                return Err(format!("slot '{slot}': circuit.faults must be at least 1"));
            }
            circuit.faults = faults;
        }
        if let Some(text) = self.window {
            circuit.window = field("window", &text)?;
        }
        if let Some(text) = self.open_for {
            circuit.open_for = field("open-for", &text)?;
        }
        Ok(circuit)
    }
}

impl AdminFile {
    /// `TICKHOST_ADMIN` overrides the file's address; `off` turns the API
    /// off.
    fn resolve(self, env: impl Fn(&str) -> Option<String>) -> Result<AdminConfig, String> {
        let mut admin = AdminConfig::default();
        if let Some(watch) = self.watch {
            admin.watch = watch;
        }
        let (listen, origin) = match env("TICKHOST_ADMIN") {
            Some(value) => (Some(value), "TICKHOST_ADMIN"),
            None => (self.listen, "admin.listen"),
        };
        if let Some(listen) = listen {
            admin.listen = match listen.trim() {
                "off" | "" => None,
                address => Some(address.parse().map_err(|e| {
                    format!("{origin}: '{address}' is not an address like 127.0.0.1:9480 ({e})")
                })?),
            };
        }
        Ok(admin)
    }
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
            let circuit = slot.circuit.resolve(&slot.name)?;
            slots.push(SlotConfig {
                path: base.join(slot.path),
                params: slot.params,
                policy: FaultPolicy {
                    on_fault: slot.on_fault,
                    circuit,
                },
                name: slot.name,
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
        if let Some(text) = file.sandbox.state_deadline {
            let deadline =
                duration::parse(&text).map_err(|e| format!("sandbox.state-deadline: {e}"))?;
            if deadline < Duration::from_millis(1) {
                return Err("sandbox.state-deadline must be at least 1ms".to_string());
            }
            limits.state_deadline = deadline;
        }
        let snapshot_interval = match file.sandbox.snapshot_interval {
            Some(text) => {
                duration::parse(&text).map_err(|e| format!("sandbox.snapshot-interval: {e}"))?
            }
            None => DEFAULT_SNAPSHOT_INTERVAL,
        };

        let kafka = file.kafka.resolve(|name| std::env::var(name).ok())?;
        let alphavantage = file.alphavantage.resolve(|name| std::env::var(name).ok())?;
        let admin = file.admin.resolve(|name| std::env::var(name).ok())?;

        Ok(Config {
            slots,
            batch_size,
            limits,
            kafka,
            alphavantage,
            snapshot_interval,
            admin,
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
        let text = "[sandbox]\nmemory-mib = 16\ndeadline = \"250ms\"\nstate-deadline = \"3s\"\n";

        let config = Config::parse(text, Path::new(".")).unwrap();

        assert_eq!(config.limits.memory, 16 << 20);
        assert_eq!(config.limits.deadline, Duration::from_millis(250));
        assert_eq!(config.limits.state_deadline, Duration::from_secs(3));
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
            (
                "[[slot]]\nname = \"a\"\npath = \"x\"\non-fault = \"ignore\"",
                "unknown variant `ignore`",
            ),
            (
                "[[slot]]\nname = \"a\"\npath = \"x\"\n[slot.circuit]\nfaults = 0",
                "slot 'a': circuit.faults must be at least 1",
            ),
            (
                "[admin]\nlisten = \"localhost\"",
                "admin.listen: 'localhost' is not an address",
            ),
        ];
        for (text, expected) in cases {
            let err = Config::parse(text, Path::new(".")).unwrap_err();
            assert!(err.contains(expected), "{text:?}: got {err:?}");
        }
    }

    #[test]
    fn fault_policies_and_the_admin_section_are_read() {
        let text = r#"
            [sandbox]
            snapshot-interval = "5s"
            [admin]
            listen = "127.0.0.1:0"
            watch = false
            [[slot]]
            name = "spike"
            path = "spike.wasm"
            on-fault = "skip"
            [slot.circuit]
            faults = 5
            window = "10s"
            open-for = "2m"
            [[slot]]
            name = "volume"
            path = "threshold.wasm"
        "#;

        let config = Config::parse(text, Path::new(".")).unwrap();

        assert_eq!(config.snapshot_interval, Duration::from_secs(5));
        assert_eq!(config.admin.listen, Some("127.0.0.1:0".parse().unwrap()));
        assert!(!config.admin.watch);
        let spike = config.slots[0].policy;
        assert_eq!(spike.on_fault, OnFault::Skip);
        assert_eq!(spike.circuit.faults, 5);
        assert_eq!(spike.circuit.window, Duration::from_secs(10));
        assert_eq!(spike.circuit.open_for, Duration::from_secs(120));
        assert_eq!(config.slots[1].policy, FaultPolicy::default());
    }

    #[test]
    fn the_admin_address_can_be_overridden_or_turned_off() {
        let env = |value: &'static str| {
            move |name: &str| (name == "TICKHOST_ADMIN").then(|| value.to_string())
        };
        let file = || AdminFile {
            listen: Some("127.0.0.1:1".to_string()),
            watch: None,
        };

        let overridden = file().resolve(env("127.0.0.1:2")).unwrap();
        let off = file().resolve(env("off")).unwrap();

        assert_eq!(overridden.listen, Some("127.0.0.1:2".parse().unwrap()));
        assert_eq!(off.listen, None);
        assert!(off.watch);
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
