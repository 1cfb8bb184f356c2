//! What the integration tests share: the plugin components, built once per
//! test run, and small helpers to load them.
//!
//! The components are built by running cargo for the `wasm32-wasip2` target
//! into their own target directory, so that this nested build never waits on
//! the lock of the build that is running the tests. A failed build fails the
//! tests that need it, with cargo's output: nothing is skipped.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use tickhost::chain::Chain;
use tickhost::config::Config;
use tickhost::plugin::{ComponentCache, Limits, LoadError, Plugin, Runtime};
use tickhost::tick::Tick;

/// Every component crate the tests load: the three real plugins and the
/// test-only fixtures.
const PLUGIN_CRATES: [&str; 6] = [
    "spike",
    "threshold",
    "moving-average",
    "misbehave",
    "future-contract",
    "other-world",
];

/// The workspace's root directory.
pub fn workspace() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the host crate lives in the workspace")
}

/// The directory holding the built components, building them on first use.
pub fn components() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let target = std::env::var_os("TICKHOST_PLUGIN_TARGET_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| workspace().join("target").join("plugins"));
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let mut command = Command::new(cargo);
        command
            .current_dir(workspace())
            .args(["build", "--release", "--target", "wasm32-wasip2"])
            .arg("--target-dir")
            .arg(&target);
        for name in PLUGIN_CRATES {
            command.args(["-p", name]);
        }
        let output = command.output().expect("failed to run cargo");
        assert!(
            output.status.success(),
            "building the plugin components failed:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        target.join("wasm32-wasip2").join("release")
    })
}

/// The component file of a plugin crate, such as `moving-average`.
pub fn component(name: &str) -> PathBuf {
    components().join(format!("{}.wasm", name.replace('-', "_")))
}

/// The process's runtime; one engine serves every test, as in the host.
pub fn runtime() -> &'static Runtime {
    static RUNTIME: OnceLock<Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| Runtime::new().expect("the runtime starts"))
}

/// Loads a plugin without the on-disk cache, with parameters in TOML.
pub fn load(name: &str, params: &str) -> Result<Plugin, LoadError> {
    load_path(&component(name), params)
}

/// Loads the component at `path` without the on-disk cache.
pub fn load_path(path: &Path, params: &str) -> Result<Plugin, LoadError> {
    let params: toml::Table = params.parse().expect("test parameters are TOML");
    Plugin::load(
        runtime(),
        &ComponentCache::new(None),
        path,
        &params,
        Limits::default(),
    )
}

/// A chain of (plugin crate, parameters) slots, each slot named after its
/// plugin.
pub fn chain(slots: &[(&str, &str)]) -> Chain {
    let plugins = slots
        .iter()
        .map(|&(name, params)| {
            let plugin = load(name, params).unwrap_or_else(|e| panic!("{e}"));
            (name.to_string(), plugin)
        })
        .collect();
    Chain::new(plugins).expect("the chain starts")
}

/// A chain from configuration text: `preamble` (top-level keys and
/// sections such as `[sandbox]`), then one slot per (plugin crate, slot
/// keys such as `on-fault`, parameters in TOML), each slot named after its
/// plugin.
pub fn configured_chain(preamble: &str, slots: &[(&str, &str, &str)]) -> Chain {
    let text = config_text(preamble, slots);
    let config = Config::parse(&text, Path::new("")).unwrap_or_else(|e| panic!("{e}\n{text}"));
    Chain::load(runtime(), &ComponentCache::new(None), &config).unwrap_or_else(|e| panic!("{e}"))
}

/// The configuration text of [`configured_chain`].
pub fn config_text(preamble: &str, slots: &[(&str, &str, &str)]) -> String {
    let mut text = format!("{preamble}\n");
    for (name, keys, params) in slots {
        text.push_str(&format!(
            "[[slot]]\nname = \"{name}\"\npath = {}\n{keys}\n[slot.params]\n{params}\n",
            toml::Value::String(component(name).display().to_string())
        ));
    }
    text
}

/// A GOOG tick at `minute` minutes past a fixed start.
pub fn tick(minute: i64, price: f64, volume: u64) -> Tick {
    symbol_tick("GOOG", minute, price, volume)
}

/// A tick of `symbol` at `minute` minutes past a fixed start.
pub fn symbol_tick(symbol: &str, minute: i64, price: f64, volume: u64) -> Tick {
    Tick {
        symbol: symbol.to_string(),
        ts: 1_709_735_400_000 + minute * 60_000,
        price,
        volume,
    }
}

/// A scratch directory for one test, empty, under the target directory.
pub fn scratch(name: &str) -> PathBuf {
    let dir = workspace().join("target").join("test-scratch").join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch directory");
    dir
}

/// A finished command's stdout and stderr, for assertion messages.
pub fn text(output: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}
