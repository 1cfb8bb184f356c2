//! `tickhost plugin list`, `swap` and `rollback`: clients of a running
//! host's admin API (see `tickhost::swap::admin`).

use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::Args;
use serde_json::Value;

use tickhost::config::DEFAULT_ADMIN_ADDR;

use super::serve::tokio_runtime;

#[derive(Debug, Args)]
pub struct Admin {
    /// The admin API of the running host.
    #[arg(long, env = "TICKHOST_ADMIN_URL", default_value_t = format!("http://{DEFAULT_ADMIN_ADDR}"))]
    admin: String,

    /// Print the API's JSON answer as it came.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    #[command(flatten)]
    admin: Admin,
}

#[derive(Debug, Args)]
pub struct SwapArgs {
    /// The slot to put the new version in.
    slot: String,
    /// The new component.
    file: PathBuf,
    /// A parameter, as NAME=VALUE (a TOML value: 2.5, "10m", true); repeat
    /// for more. Without any, the slot's current parameters are kept.
    #[arg(long = "param", short = 'p', value_name = "NAME=VALUE")]
    params: Vec<String>,
    /// Send the file's path instead of its bytes (the host reads it; it must
    /// be on the host's machine).
    #[arg(long)]
    by_path: bool,
    #[command(flatten)]
    admin: Admin,
}

#[derive(Debug, Args)]
pub struct RollbackArgs {
    /// The slot to roll back to its previous version.
    slot: String,
    #[command(flatten)]
    admin: Admin,
}

pub fn list(args: ListArgs) -> anyhow::Result<()> {
    let admin = args.admin;
    let answer = call(&admin, |client, base| client.get(format!("{base}/plugins")))?;
    if admin.json {
        println!("{}", serde_json::to_string_pretty(&answer)?);
        return Ok(());
    }
    let slots = answer["slots"].as_array().cloned().unwrap_or_default();
    for slot in slots {
        let text = |key: &str| slot[key].as_str().unwrap_or("-").to_string();
        let number = |key: &str| slot["counters"][key].as_u64().unwrap_or(0);
        println!(
            "{:<16} {} {} (contract {}, {}) since {}",
            text("slot"),
            text("plugin"),
            text("version"),
            text("contract"),
            &text("hash")[..12.min(text("hash").len())],
            text("since")
        );
        println!(
            "{:<16} circuit {}, on fault {}, {} chain(s), {} on probation; swaps {}, rollbacks {}",
            "",
            text("circuit"),
            text("on_fault"),
            slot["chains"].as_u64().unwrap_or(0),
            slot["on_probation"].as_u64().unwrap_or(0),
            slot["swaps"].as_u64().unwrap_or(0),
            slot["rollbacks"].as_u64().unwrap_or(0),
        );
        println!(
            "{:<16} batches {}, ticks {}, dropped {}, faults {}, bypassed {}",
            "",
            number("batches"),
            number("ticks"),
            number("dropped"),
            number("faults"),
            number("bypassed"),
        );
        if let Some(change) = slot["last_change"].as_str() {
            println!("{:<16} last change: {change}", "");
        }
    }
    Ok(())
}

pub fn swap(args: SwapArgs) -> anyhow::Result<()> {
    let params = parse_params(&args.params)?;
    let slot = args.slot.clone();
    let answer = if args.by_path {
        let path = std::path::absolute(&args.file)
            .with_context(|| format!("failed to resolve '{}'", args.file.display()))?;
        let body = serde_json::json!({ "path": path, "params": params });
        call(&args.admin, |client, base| {
            client.put(format!("{base}/plugins/{slot}")).json(&body)
        })?
    } else {
        let bytes = std::fs::read(&args.file)
            .with_context(|| format!("failed to read '{}'", args.file.display()))?;
        let query: Vec<(&str, String)> = match &params {
            Some(params) => vec![("params", serde_json::to_string(params)?)],
            None => Vec::new(),
        };
        call(&args.admin, |client, base| {
            client
                .put(format!("{base}/plugins/{slot}"))
                .query(&query)
                .header("content-type", "application/wasm")
                .body(bytes.clone())
        })?
    };
    print_change(&args.admin, &answer)
}

pub fn rollback(args: RollbackArgs) -> anyhow::Result<()> {
    let slot = &args.slot;
    let answer = call(&args.admin, |client, base| {
        client.post(format!("{base}/plugins/{slot}/rollback"))
    })?;
    print_change(&args.admin, &answer)
}

fn print_change(admin: &Admin, answer: &Value) -> anyhow::Result<()> {
    if admin.json {
        println!("{}", serde_json::to_string_pretty(answer)?);
        return Ok(());
    }
    let version = |side: &str| {
        format!(
            "{} {}",
            answer[side]["plugin"].as_str().unwrap_or("?"),
            answer[side]["version"].as_str().unwrap_or("?")
        )
    };
    println!(
        "slot '{}': {} -> {} in {} chain(s), paused {} us",
        answer["slot"].as_str().unwrap_or("?"),
        version("from"),
        version("to"),
        answer["chains"].as_u64().unwrap_or(0),
        answer["pause_us"].as_u64().unwrap_or(0)
    );
    for line in answer["state"].as_array().into_iter().flatten() {
        println!("  {}", line.as_str().unwrap_or(""));
    }
    Ok(())
}

/// `NAME=VALUE` pairs as a TOML table; a value that is not TOML is a string.
fn parse_params(pairs: &[String]) -> anyhow::Result<Option<toml::Table>> {
    if pairs.is_empty() {
        return Ok(None);
    }
    let mut table = toml::Table::new();
    for pair in pairs {
        let Some((name, value)) = pair.split_once('=') else {
            bail!("--param '{pair}' is not NAME=VALUE");
        };
        let value = toml::from_str::<toml::Table>(&format!("v = {value}"))
            .ok()
            .and_then(|mut t| t.remove("v"))
            .unwrap_or_else(|| toml::Value::String(value.to_string()));
        table.insert(name.trim().to_string(), value);
    }
    Ok(Some(table))
}

/// Sends one request to the admin API and returns its JSON answer; an error
/// answer becomes an error with the API's message.
fn call(
    admin: &Admin,
    request: impl FnOnce(&reqwest::Client, &str) -> reqwest::RequestBuilder,
) -> anyhow::Result<Value> {
    let base = admin.admin.trim_end_matches('/');
    let client = reqwest::Client::new();
    let request = request(&client, base);
    tokio_runtime()?.block_on(async {
        let response = request
            .send()
            .await
            .with_context(|| format!("failed to reach the admin API at {base}"))?;
        let status = response.status();
        let body: Value = response
            .json()
            .await
            .with_context(|| format!("the admin API at {base} answered {status} without JSON"))?;
        if !status.is_success() {
            bail!(
                "{} ({status})",
                body["error"].as_str().unwrap_or("the admin API refused")
            );
        }
        Ok(body)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_are_toml_values_or_strings() {
        let pairs = [
            "max-change-pct=2.5".to_string(),
            "window=\"10m\"".to_string(),
            "label=plain text".to_string(),
        ];

        let table = parse_params(&pairs).unwrap().unwrap();

        assert_eq!(table["max-change-pct"].as_float(), Some(2.5));
        assert_eq!(table["window"].as_str(), Some("10m"));
        assert_eq!(table["label"].as_str(), Some("plain text"));
        assert!(parse_params(&["novalue".to_string()]).is_err());
    }
}
