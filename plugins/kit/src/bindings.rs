//! Guest-side bindings for the filter contract in `wit/filter.wit`, generated
//! by wit-bindgen. Generated code only: nothing here is written by hand, and
//! the WIT's own `///` docs carry over onto the types.
//!
//! The export macro is public and looks for these bindings at
//! `tickhost_plugin_kit::bindings`, so that plugin crates (through
//! [`export_rule!`](crate::export_rule)) can export a component without
//! generating bindings of their own.

wit_bindgen::generate!({
    world: "plugin",
    path: "../../wit",
    pub_export_macro: true,
    export_macro_name: "export_filter",
    default_bindings_module: "tickhost_plugin_kit::bindings",
    additional_derives: [PartialEq],
});
