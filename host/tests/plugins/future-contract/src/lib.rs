//! future-contract: a test fixture for the host's contract check, not a
//! filter anyone should deploy.
//!
//! It is a filter plugin in every way but one: it exports the `filter`
//! interface of contract 0.2.0, `tickhost:filter/filter@0.2.0`, from the
//! copy of the WIT in this crate's `wit/` folder. A host that speaks 0.1.0
//! must see that export and refuse the component when it loads it, with an
//! error that names both versions, before calling any of its functions. If
//! it were called anyway, it describes itself as contract 0.2.0, takes no
//! parameters, keeps no state and keeps every tick.
//!
//! Modules: `bindings` (generated). This file is the whole plugin.

mod bindings;

use bindings::exports::tickhost::filter::filter::{
    Batch, Guest, Param, ParamError, PluginInfo, Verdicts,
};
use bindings::tickhost::filter::types::{Annotations, Drops, ParamProblem};

/// The contract this fixture exports: the package version of its WIT.
const CONTRACT: &str = "0.2.0";

struct Component;

impl Guest for Component {
    fn describe() -> PluginInfo {
        PluginInfo {
            name: "future-contract".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            contract: CONTRACT.into(),
            description: "test fixture: a plugin built against a future contract".into(),
            params: Vec::new(),
            annotations: Vec::new(),
        }
    }

    fn configure(params: Vec<Param>) -> Result<(), ParamError> {
        match params.into_iter().next() {
            None => Ok(()),
            Some(param) => Err(ParamError {
                name: param.name,
                problem: ParamProblem::Unknown,
                message: "this plugin takes no parameters".into(),
            }),
        }
    }

    fn process(_batch: Batch) -> Result<Verdicts, String> {
        Ok(Verdicts {
            dropped: Drops {
                index: Vec::new(),
                reasons: String::new(),
                reason_ends: Vec::new(),
            },
            annotations: Annotations {
                index: Vec::new(),
                key: Vec::new(),
                value: Vec::new(),
            },
        })
    }

    fn snapshot() -> Vec<u8> {
        Vec::new()
    }

    fn restore(state: Vec<u8>) -> Result<(), String> {
        if state.is_empty() {
            Ok(())
        } else {
            Err("this plugin keeps no state".into())
        }
    }
}

bindings::export!(Component with_types_in bindings);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn it_describes_the_contract_version_of_its_wit() {
        let wit = include_str!("../wit/filter.wit");

        assert!(wit.contains(&format!("\npackage tickhost:filter@{CONTRACT};\n")));
        assert_eq!(Component::describe().contract, CONTRACT);
    }
}
