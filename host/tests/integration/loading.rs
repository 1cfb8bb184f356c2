//! Loading plugins: what `inspect` shows, the compile cache, and a clear
//! error, naming the file, for every kind of component the host refuses.

use tickhost::plugin::{ComponentCache, Limits, LoadError, Origin, Plugin};

use crate::support::{component, load, load_path, runtime, scratch};

#[test]
fn a_plugin_describes_itself_and_its_parameters() {
    let plugin = load("spike", "").unwrap();
    let info = plugin.info();

    assert_eq!(info.name, "spike");
    assert_eq!(info.contract, "0.1.0");
    let names: Vec<&str> = info.params.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["max-change-pct", "window"]);
    assert_eq!(load("moving-average", "").unwrap().annotations(), ["avg"]);
    assert_eq!(plugin.hash().len(), 64);
}

#[test]
fn a_warm_start_reads_the_compiled_plugin_from_the_cache() {
    let dir = scratch("compile-cache");
    let cache = ComponentCache::new(Some(dir.clone()));
    let path = component("threshold");
    let table = toml::Table::new();

    let cold = Plugin::load(runtime(), &cache, &path, &table, Limits::default()).unwrap();
    let warm = Plugin::load(runtime(), &cache, &path, &table, Limits::default()).unwrap();

    assert_eq!(cold.compilation().0, Origin::Compiled);
    assert_eq!(warm.compilation().0, Origin::Cached);
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1, "one entry");
}

#[test]
fn a_component_of_another_world_is_refused() {
    let err = load("other-world", "").err().unwrap();

    assert!(matches!(err, LoadError::WrongWorld { .. }), "{err}");
    let text = err.to_string();
    assert!(text.contains("other_world.wasm"), "{text}");
    assert!(
        text.contains("does not export the tickhost:filter/filter interface"),
        "{text}"
    );
    assert!(text.contains("example:greeter/greet@0.1.0"), "{text}");
}

#[test]
fn a_component_of_another_contract_version_is_refused() {
    let err = load("future-contract", "").err().unwrap();

    assert!(
        matches!(&err, LoadError::Contract { found, .. } if found == "0.2.0"),
        "{err}"
    );
    assert!(
        err.to_string().contains("built for contract 0.2.0"),
        "{err}"
    );
}

#[test]
fn a_core_module_is_refused_as_not_a_component() {
    let path = scratch("core-module").join("core.wasm");
    // The smallest valid core module: the magic number and version 1.
    std::fs::write(&path, b"\0asm\x01\0\0\0").unwrap();

    let err = load_path(&path, "").err().unwrap();

    assert!(matches!(err, LoadError::CoreModule { .. }), "{err}");
    assert!(err.to_string().contains("core.wasm"), "{err}");
}

#[test]
fn files_that_are_not_whole_components_are_refused() {
    let dir = scratch("broken-files");
    let text = dir.join("notes.wasm");
    std::fs::write(&text, "not wasm at all").unwrap();
    let truncated = dir.join("truncated.wasm");
    let bytes = std::fs::read(component("spike")).unwrap();
    std::fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();

    let not_wasm = load_path(&text, "").err().unwrap();
    let cut = load_path(&truncated, "").err().unwrap();
    let missing = load_path(&dir.join("missing.wasm"), "").err().unwrap();

    assert!(matches!(not_wasm, LoadError::NotWasm { .. }), "{not_wasm}");
    assert!(matches!(cut, LoadError::Compile { .. }), "{cut}");
    assert!(cut.to_string().contains("truncated.wasm"), "{cut}");
    assert!(matches!(missing, LoadError::Read { .. }), "{missing}");
}

#[test]
fn bad_parameters_are_refused_with_the_parameter_named() {
    let cases = [
        (
            "spike",
            "max-change-pct = -1.0",
            "parameter 'max-change-pct' is out of range",
        ),
        (
            "spike",
            "window = \"0s\"",
            "parameter 'window' is out of range",
        ),
        (
            "spike",
            "max-change = 3.0",
            "parameter 'max-change' is unknown",
        ),
        (
            "spike",
            "window = 600",
            "parameter 'window' has the wrong type",
        ),
        (
            "threshold",
            "min-volume = 1.5",
            "parameter 'min-volume' has the wrong type",
        ),
        (
            "threshold",
            "min-volume = -1",
            "parameter 'min-volume' is out of range",
        ),
    ];
    for (plugin, params, expected) in cases {
        let err = load(plugin, params).err().unwrap();

        assert!(matches!(err, LoadError::Params { .. }), "{params}: {err}");
        assert!(err.to_string().contains(expected), "{params}: {err}");
    }
}

#[test]
fn a_plugin_that_traps_while_starting_is_refused() {
    let err = load("misbehave", "mode = \"trap-configure\"")
        .err()
        .unwrap();

    assert!(matches!(err, LoadError::Start { .. }), "{err}");
    assert!(
        err.to_string().contains("failed to start: trapped"),
        "{err}"
    );
}
