//! Host-side bindings for the filter contract in `wit/filter.wit`, generated
//! by wasmtime's `bindgen!`. Nothing else lives here: host logic that uses
//! these types is in the sibling modules.

wasmtime::component::bindgen!({
    world: "plugin",
    path: "../wit",
});

pub use self::tickhost::filter::types::{
    Annotations, Batch, Drops, Param, ParamError, ParamProblem, ParamSpec, ParamType, ParamValue,
    PluginInfo, Verdicts,
};
