//! The [`export_rule!`](crate::export_rule) macro, which makes a [`Rule`]
//! the component's implementation of the `filter` interface.
//!
//! [`Rule`]: crate::Rule

/// Exports a [`Rule`](crate::Rule) as the plugin's implementation of the
/// `filter` interface, with one global [`Instance`](crate::Instance) that
/// `configure` fills.
///
/// ```ignore
/// tickhost_plugin_kit::export_rule!(Spike);
/// ```
///
/// The generated glue defines the component's exported functions by symbol
/// name, so it only expands when compiling for `wasm32`: natively, several
/// plugin crates can then be linked into one binary (the host's native
/// benchmark does) without their exports clashing. On every target the macro
/// checks that the type implements [`Rule`](crate::Rule).
#[macro_export]
macro_rules! export_rule {
    ($rule:ty) => {
        const _: () = {
            fn implements_rule<R: $crate::Rule>() {}
            let _ = implements_rule::<$rule>;
        };

        #[cfg(target_arch = "wasm32")]
        const _: () = {
            static INSTANCE: $crate::instance::Global<$rule> = $crate::instance::Global::new();

            struct Component;

            impl $crate::bindings::exports::tickhost::filter::filter::Guest for Component {
                fn describe() -> $crate::PluginInfo {
                    <$rule as $crate::Rule>::info()
                }

                fn configure(
                    params: ::std::vec::Vec<$crate::Param>,
                ) -> ::std::result::Result<(), $crate::ParamError> {
                    INSTANCE.get().configure(&params)
                }

                fn process(
                    batch: $crate::HostBatch,
                ) -> ::std::result::Result<$crate::Verdicts, ::std::string::String> {
                    INSTANCE.get().process(&batch)
                }

                fn snapshot() -> ::std::vec::Vec<u8> {
                    INSTANCE.get().snapshot()
                }

                fn restore(
                    state: ::std::vec::Vec<u8>,
                ) -> ::std::result::Result<(), ::std::string::String> {
                    INSTANCE.get().restore(&state)
                }
            }

    $crate::bindings::export_filter!(Component with_types_in $crate::bindings);
        };
    };
}
