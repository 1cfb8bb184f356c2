//! Loading a plugin: from a file to a validated, pre-instantiated component
//! that can start configured instances cheaply.
//!
//! Loading checks, in order, that the file is a component (not a core module
//! or something else), that it compiles, that it exports the filter
//! interface of a compatible contract version, that its imports are all
//! provided by the sandbox, that it starts and describes itself, and that it
//! accepts the configured parameters. Each failure is a [`LoadError`] naming
//! the file and what is wrong.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use sha2::{Digest, Sha256};
use wasmtime::component::types::ComponentItem;

use super::bindings::{Param, PluginInfo, PluginPre};
use super::cache::{ComponentCache, Origin};
use super::engine::Runtime;
use super::instance::{Fault, Instance, Limits, Sandbox};
use super::params::{self, BadParam};
use super::{CONTRACT_VERSION, FILTER_INTERFACE, contract_compatible};

/// Why a plugin could not be loaded. Every variant names the file.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("failed to read plugin '{path}': {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("plugin '{path}' is not a WebAssembly file (it does not start with \\0asm)")]
    NotWasm { path: PathBuf },
    #[error(
        "plugin '{path}' is a core WebAssembly module, not a component: build it for \
         wasm32-wasip2, or wrap it with `wasm-tools component new`"
    )]
    CoreModule { path: PathBuf },
    #[error("failed to compile plugin '{path}': {message}")]
    Compile { path: PathBuf, message: String },
    #[error(
        "plugin '{path}' does not export the {FILTER_INTERFACE} interface; it exports: {exports}"
    )]
    WrongWorld { path: PathBuf, exports: String },
    #[error(
        "plugin '{path}' was built for contract {found}, which this host ({CONTRACT_VERSION}) \
         does not speak"
    )]
    Contract { path: PathBuf, found: String },
    #[error("plugin '{path}' cannot be linked in the sandbox: {message}")]
    Link { path: PathBuf, message: String },
    #[error("plugin '{path}' failed to start: {fault}")]
    Start { path: PathBuf, fault: Fault },
    #[error("plugin '{path}' refused its parameters: {0}", .source)]
    Params { path: PathBuf, source: BadParam },
}

/// A compiled, validated plugin, ready to start configured instances.
pub struct Plugin {
    inner: Arc<Inner>,
}

struct Inner {
    /// Unique to this load in the process: two loads of the same file are
    /// two plugins, and a swap between them is a swap.
    id: u64,
    path: PathBuf,
    hash: String,
    info: PluginInfo,
    params: Vec<Param>,
    limits: Limits,
    pre: PluginPre<Sandbox>,
    origin: Origin,
    compile_time: Duration,
    loaded_at: SystemTime,
}

impl Clone for Plugin {
    fn clone(&self) -> Plugin {
        Plugin {
            inner: self.inner.clone(),
        }
    }
}

impl Plugin {
    /// Loads and validates the plugin at `path` with the given parameters.
    pub fn load(
        runtime: &Runtime,
        cache: &ComponentCache,
        path: &Path,
        config: &toml::Table,
        limits: Limits,
    ) -> Result<Plugin, LoadError> {
        let bytes = std::fs::read(path).map_err(|source| LoadError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Plugin::from_bytes(runtime, cache, path, &bytes, config, limits)
    }

    /// Loads and validates a plugin from its bytes; `path` names it in
    /// errors and logs (an upload has no file, and is named by its caller).
    pub fn from_bytes(
        runtime: &Runtime,
        cache: &ComponentCache,
        path: &Path,
        bytes: &[u8],
        config: &toml::Table,
        limits: Limits,
    ) -> Result<Plugin, LoadError> {
        static NEXT_ID: AtomicU64 = AtomicU64::new(1);
        let path = path.to_path_buf();
        check_header(&path, bytes)?;
        let hash = hex::encode(Sha256::digest(bytes));

        let compiled =
            cache
                .compile(runtime.engine(), bytes, &hash)
                .map_err(|e| LoadError::Compile {
                    path: path.clone(),
                    message: format!("{e:#}"),
                })?;
        check_exports(runtime, &path, &compiled.component)?;
        let pre = runtime
            .linker()
            .instantiate_pre(&compiled.component)
            .and_then(PluginPre::new)
            .map_err(|e| LoadError::Link {
                path: path.clone(),
                message: format!("{e:#}"),
            })?;

        let start = |fault| LoadError::Start {
            path: path.clone(),
            fault,
        };
        let mut probe = Instance::new(&pre, &path.display().to_string(), limits).map_err(start)?;
        let info = probe.describe().map_err(start)?;
        if !contract_compatible(&info.contract) {
            return Err(LoadError::Contract {
                path,
                found: info.contract,
            });
        }
        let params = params::convert(&info.params, config).map_err(|source| LoadError::Params {
            path: path.clone(),
            source,
        })?;
        probe
            .configure(&params)
            .map_err(start)?
            .map_err(|e| LoadError::Params {
                path: path.clone(),
                source: e.into(),
            })?;

        tracing::info!(
            plugin = %info.name,
            version = %info.version,
            path = %path.display(),
            cached = compiled.origin == Origin::Cached,
            took_ms = compiled.took.as_millis() as u64,
            "plugin loaded"
        );
        Ok(Plugin {
            inner: Arc::new(Inner {
                id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
                path,
                hash,
                info,
                params,
                limits,
                pre,
                origin: compiled.origin,
                compile_time: compiled.took,
                loaded_at: SystemTime::now(),
            }),
        })
    }

    /// Starts a new instance and gives it the plugin's parameters. Cheap: the
    /// component is compiled and linked already.
    pub fn instantiate(&self) -> Result<Instance, Fault> {
        let mut instance =
            Instance::new(&self.inner.pre, &self.inner.info.name, self.inner.limits)?;
        instance
            .configure(&self.inner.params)?
            .map_err(|e| Fault::Refused(BadParam::from(e).to_string()))?;
        Ok(instance)
    }

    /// The identity of this load (see [`Plugin`]'s docs on swaps).
    pub fn id(&self) -> u64 {
        self.inner.id
    }

    /// The parameters the plugin was configured with, as the contract
    /// carries them.
    pub fn params(&self) -> &[Param] {
        &self.inner.params
    }

    /// The limits its instances run under.
    pub fn limits(&self) -> Limits {
        self.inner.limits
    }

    pub fn info(&self) -> &PluginInfo {
        &self.inner.info
    }

    pub fn name(&self) -> &str {
        &self.inner.info.name
    }

    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// SHA-256 of the component's bytes, in hex.
    pub fn hash(&self) -> &str {
        &self.inner.hash
    }

    /// Whether the compiled code came from the cache, and how long getting
    /// it took.
    pub fn compilation(&self) -> (Origin, Duration) {
        (self.inner.origin, self.inner.compile_time)
    }

    pub fn loaded_at(&self) -> SystemTime {
        self.inner.loaded_at
    }

    /// The names of the annotations this plugin may attach.
    pub fn annotations(&self) -> &[String] {
        &self.inner.info.annotations
    }
}

/// A WebAssembly binary starts with `\0asm` and a version; components and
/// core modules differ in the version's layer field.
fn check_header(path: &Path, bytes: &[u8]) -> Result<(), LoadError> {
    const MAGIC: &[u8] = b"\0asm";
    const CORE_VERSION: [u8; 4] = [1, 0, 0, 0];
    if bytes.len() < 8 || &bytes[..4] != MAGIC {
        return Err(LoadError::NotWasm {
            path: path.to_path_buf(),
        });
    }
    if bytes[4..8] == CORE_VERSION {
        return Err(LoadError::CoreModule {
            path: path.to_path_buf(),
        });
    }
    Ok(())
}

/// Checks that the component exports the filter interface at a compatible
/// version, and names what it exports when it does not.
fn check_exports(
    runtime: &Runtime,
    path: &Path,
    component: &wasmtime::component::Component,
) -> Result<(), LoadError> {
    let ty = component.component_type();
    let exports: Vec<(String, bool)> = ty
        .exports(runtime.engine())
        .map(|(name, item)| {
            (
                name.to_string(),
                matches!(item.ty, ComponentItem::ComponentInstance(_)),
            )
        })
        .collect();

    let prefix = FILTER_INTERFACE;
    let filter = exports.iter().find_map(|(name, is_instance)| {
        let rest = name.strip_prefix(prefix)?;
        is_instance.then(|| rest.strip_prefix('@').unwrap_or("").to_string())
    });
    match filter {
        Some(version) if contract_compatible(&version) => Ok(()),
        Some(version) => Err(LoadError::Contract {
            path: path.to_path_buf(),
            found: if version.is_empty() {
                "(unversioned)".to_string()
            } else {
                version
            },
        }),
        None => Err(LoadError::WrongWorld {
            path: path.to_path_buf(),
            exports: if exports.is_empty() {
                "nothing".to_string()
            } else {
                exports
                    .into_iter()
                    .map(|(name, _)| name)
                    .collect::<Vec<_>>()
                    .join(", ")
            },
        }),
    }
}
