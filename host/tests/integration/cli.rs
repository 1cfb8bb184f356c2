//! The `tickhost` binary as a user runs it: the bundled data through the
//! shipped configuration's chain, malformed lines, fatal errors and their
//! exit codes, and `plugin inspect`.

use std::path::Path;
use std::process::{Command, Output};

use crate::support::{component, scratch, workspace};

fn tickhost(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tickhost"))
        .args(args)
        .env("RUST_LOG", "warn")
        .output()
        .expect("tickhost runs")
}

/// A configuration of the three plugins as the shipped one has them, with
/// the paths of the components these tests built.
fn config(dir: &Path) -> String {
    let shipped = std::fs::read_to_string(workspace().join("host/tickhost.toml")).unwrap();
    let mut text = String::new();
    for line in shipped.lines() {
        match line.strip_prefix("path = ") {
            Some(path) => {
                let file = Path::new(path.trim_matches('"')).file_stem().unwrap();
                let name = file.to_string_lossy().replace('_', "-");
                text.push_str(&format!("path = {:?}\n", component(&name)));
            }
            None => text.push_str(&format!("{line}\n")),
        }
    }
    let path = dir.join("tickhost.toml");
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

fn records(path: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).expect("every record is JSON"))
        .collect()
}

#[test]
fn the_bundled_data_runs_through_the_shipped_chain() {
    let dir = scratch("cli-bundled");
    let config = config(&dir);
    let input = workspace().join("host/data/goog.jsonl");
    let out = dir.join("records.jsonl");

    let run = tickhost(&[
        "run",
        "--config",
        &config,
        "--input",
        input.to_str().unwrap(),
        "--output",
        out.to_str().unwrap(),
    ]);

    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{stderr}");
    let records = records(&out);
    let lines = std::fs::read_to_string(&input).unwrap().lines().count();
    assert_eq!(records.len(), lines, "one record per input line");
    let count = |verdict: &str| records.iter().filter(|r| r["verdict"] == verdict).count();
    let by = |slot: &str| records.iter().filter(|r| r["slot"] == slot).count();
    // host/data/README.md: 14 spikes and 3 late ticks for spike, and 234
    // ticks below 1,000,000 for the volume slot.
    assert_eq!(by("spike"), 14 + 3, "{stderr}");
    assert_eq!(by("volume"), 234, "{stderr}");
    assert_eq!(count("kept"), lines - 17 - 234);
    assert!(
        records
            .iter()
            .filter(|r| r["verdict"] == "kept")
            .all(|r| r["annotations"]["avg"].is_f64())
    );
    assert!(
        stderr.contains(&format!(
            "counts: {lines} read = {} kept + 251 dropped + 0 invalid",
            lines - 251
        )),
        "{stderr}"
    );
}

#[test]
fn malformed_lines_become_invalid_records_and_the_run_goes_on() {
    let dir = scratch("cli-malformed");
    let config = config(&dir);
    let input = dir.join("ticks.jsonl");
    std::fs::write(
        &input,
        concat!(
            "{\"symbol\":\"GOOG\",\"ts\":1709735400000,\"price\":135.0,\"volume\":2000000}\n",
            "{\"symbol\":\"GOOG\",\"ts\":1709735460000,\"price\":\"NaN\",\"volume\":2000000}\n",
            "garbage\n",
            "{\"symbol\":\"GOOG\",\"ts\":1709735520000,\"price\":135.1,\"volume\":-4}\n",
            "{\"symbol\":\"GOOG\",\"ts\":1709735580000,\"price\":135.2,\"volume\":2000000}\n",
        ),
    )
    .unwrap();
    let out = dir.join("records.jsonl");

    let run = tickhost(&[
        "run",
        "--config",
        &config,
        "--input",
        input.to_str().unwrap(),
        "--output",
        out.to_str().unwrap(),
    ]);

    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let records = records(&out);
    let verdicts: Vec<&str> = records
        .iter()
        .map(|r| r["verdict"].as_str().unwrap())
        .collect();
    assert_eq!(verdicts, ["kept", "invalid", "invalid", "invalid", "kept"]);
    assert_eq!(records[2]["line"], 3);
    assert_eq!(records[2]["input"], "garbage");
    assert_eq!(records[3]["reason"], "volume -4 is negative");
}

#[test]
fn a_csv_file_gives_the_same_records_as_its_json_twin() {
    let dir = scratch("cli-csv");
    let config = config(&dir);
    let run = |input: &str, out: &str| {
        let input = workspace().join("host/data").join(input);
        let out = dir.join(out);
        let run = tickhost(&[
            "run",
            "--config",
            &config,
            "--input",
            input.to_str().unwrap(),
            "--output",
            out.to_str().unwrap(),
        ]);
        assert!(
            run.status.success(),
            "{}",
            String::from_utf8_lossy(&run.stderr)
        );
        records(&out)
    };

    assert_eq!(
        run("goog.csv", "csv.jsonl"),
        run("goog.jsonl", "json.jsonl")
    );
}

#[test]
fn fatal_errors_exit_non_zero_with_the_error_on_stderr() {
    let dir = scratch("cli-fatal");
    let input = workspace().join("host/data/goog.jsonl");
    let missing = dir.join("missing.wasm");

    let no_plugin = tickhost(&[
        "run",
        "--input",
        input.to_str().unwrap(),
        "--plugin",
        missing.to_str().unwrap(),
    ]);
    let no_input = tickhost(&[
        "run",
        "--input",
        "/nonexistent/ticks.jsonl",
        "--plugin",
        component("threshold").to_str().unwrap(),
    ]);

    assert_eq!(no_plugin.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&no_plugin.stderr);
    assert!(
        stderr.contains("failed to read plugin") && stderr.contains("missing.wasm"),
        "{stderr}"
    );
    assert_eq!(no_input.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&no_input.stderr);
    assert!(
        stderr.contains("failed to open input '/nonexistent/ticks.jsonl'"),
        "{stderr}"
    );
}

#[test]
fn inspect_lists_parameters_with_their_defaults() {
    let run = tickhost(&["plugin", "inspect", component("spike").to_str().unwrap()]);

    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(stdout.contains("name:        spike"), "{stdout}");
    assert!(stdout.contains("contract:    0.1.0"), "{stdout}");
    let window = stdout
        .lines()
        .find(|l| l.trim_start().starts_with("window"))
        .unwrap();
    assert!(
        window.contains("duration") && window.contains("\"10m\""),
        "{window}"
    );
    let pct = stdout
        .lines()
        .find(|l| l.trim_start().starts_with("max-change-pct"))
        .unwrap();
    assert!(pct.contains("float") && pct.contains("2.0"), "{pct}");
}
