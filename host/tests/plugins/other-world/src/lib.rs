//! other-world: a test fixture for the host's plugin loading, not a filter
//! anyone should deploy.
//!
//! It is a valid component that exports another interface than the filter
//! contract: `example:greeter/greet@0.1.0`, from the WIT in this crate's
//! `wit/` folder, and no `tickhost:filter/filter` at all. A host must refuse
//! it when it loads it, with an error saying that it is not a filter plugin,
//! rather than fail later when it looks for `describe`.
//!
//! Modules: `bindings` (generated). This file is the whole component.

mod bindings;

use bindings::exports::example::greeter::greet::Guest;

struct Component;

impl Guest for Component {
    fn hello() -> String {
        "hello from another world".into()
    }
}

bindings::export!(Component with_types_in bindings);
