//! `tickhost plugin inspect`: loads a component with its default parameters
//! and prints what it says about itself.

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;

use tickhost::plugin::params::{render, type_name};
use tickhost::plugin::{ComponentCache, Limits, Plugin, Runtime};

#[derive(Debug, Args)]
pub struct InspectArgs {
    /// The component file.
    file: PathBuf,
}

pub fn execute(args: InspectArgs, cache: &ComponentCache) -> anyhow::Result<()> {
    let runtime = Runtime::new().context("failed to start the WebAssembly runtime")?;
    let plugin = Plugin::load(
        &runtime,
        cache,
        &args.file,
        &toml::Table::new(),
        Limits::default(),
    )?;
    let info = plugin.info();

    println!("name:        {}", info.name);
    println!("version:     {}", info.version);
    println!("contract:    {}", info.contract);
    println!("description: {}", info.description);
    println!("sha256:      {}", plugin.hash());
    if info.annotations.is_empty() {
        println!("annotations: none");
    } else {
        println!("annotations: {}", info.annotations.join(", "));
    }
    if info.params.is_empty() {
        println!("parameters:  none");
    } else {
        println!("parameters:");
        for spec in &info.params {
            println!(
                "  {:<16} {:<9} default {:<12} {}",
                spec.name,
                type_name(spec.kind),
                render(&spec.default),
                spec.help
            );
        }
    }
    Ok(())
}
