//! A running `tickhost serve` changed from outside, as an operator does it:
//! through `tickhost plugin list/swap/rollback` (the admin API) and by
//! editing the configuration file, while ticks flow through librdkafka's
//! mock cluster; and a runaway plugin contained under `serve` with every
//! tick accounted for.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use rdkafka::ClientConfig;
use rdkafka::mocking::MockCluster;
use rdkafka::producer::{DefaultProducerContext, FutureProducer, FutureRecord};
use serde_json::Value;

use tickhost::chain::load_lineup;
use tickhost::config::Config;
use tickhost::kafka::{PartitionChains, ServeOptions, serve};
use tickhost::plugin::ComponentCache;

use crate::support::{component, runtime, scratch, text};

const WAIT: Duration = Duration::from_secs(60);

fn cluster() -> MockCluster<'static, DefaultProducerContext> {
    let cluster = MockCluster::new(1).expect("the mock cluster starts");
    for (topic, partitions) in [
        ("ticks", 2),
        ("ticks.processed", 2),
        ("ticks.rejected", 2),
        ("ticks.dlq", 2),
        ("tickhost.state", 1),
    ] {
        cluster.create_topic(topic, partitions, 1).unwrap();
    }
    cluster
}

/// Publishes `count` ticks of two symbols, a minute apart, from `first`.
fn publish(brokers: &str, first: i64, count: i64) {
    let producer: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .create()
        .unwrap();
    let sends: Vec<_> = (first..first + count)
        .map(|i| {
            let symbol = ["GOOG", "MSFT"][(i % 2) as usize];
            let payload = format!(
                r#"{{"symbol":"{symbol}","ts":{},"price":{},"volume":{}}}"#,
                1_709_735_400_000 + i * 60_000,
                100.0 + (i % 5) as f64 * 0.1,
                900_000 + (i % 4) * 100_000
            );
            let producer = producer.clone();
            async move {
                producer
                    .send(
                        FutureRecord::to("ticks").key(symbol).payload(&payload),
                        Duration::from_secs(10),
                    )
                    .await
            }
        })
        .collect();
    for sent in futures::executor::block_on(futures::future::join_all(sends)) {
        sent.unwrap_or_else(|(e, _)| panic!("publishing failed: {e}"));
    }
}

fn tickhost(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tickhost"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("tickhost runs")
}

fn config_text(brokers: &str, min_volume: u64) -> String {
    let slot = |name: &str, params: &str| {
        format!(
            "[[slot]]\nname = \"{name}\"\npath = \"{}.wasm\"\n[slot.params]\n{params}\n",
            name.replace('-', "_")
        )
    };
    format!(
        "batch-size = 64\n[admin]\nlisten = \"127.0.0.1:0\"\n{}{}{}\
         [kafka]\nbrokers = \"{brokers}\"\ncreate-topics = false\ngroup-id = \"admin-test\"\n\
         batch-wait = \"10ms\"\ncheckpoint-interval = \"200ms\"\n",
        slot("spike", ""),
        slot("threshold", &format!("min-volume = {min_volume}")),
        slot("moving-average", ""),
    )
}

struct Host {
    child: Child,
    log: PathBuf,
}

impl Host {
    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The admin API's address, from the line the host prints.
    fn admin(&self) -> String {
        let deadline = Instant::now() + WAIT;
        loop {
            if let Some(line) = self
                .log()
                .lines()
                .find(|l| l.contains("admin API on http://"))
            {
                let url = line.split("admin API on ").nth(1).unwrap();
                return url.trim().to_string();
            }
            assert!(
                Instant::now() < deadline,
                "no admin address: {}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Host {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn list(admin: &str) -> Vec<Value> {
    let output = tickhost(&["plugin", "list", "--json", "--admin", admin]);
    assert!(output.status.success(), "{}", text(&output));
    let listing: Value = serde_json::from_slice(&output.stdout).unwrap();
    listing["slots"].as_array().unwrap().clone()
}

/// Polls the slot listing until `done` holds.
fn wait_for(admin: &str, what: &str, done: impl Fn(&[Value]) -> bool) -> Vec<Value> {
    let deadline = Instant::now() + WAIT;
    loop {
        let slots = list(admin);
        if done(&slots) {
            return slots;
        }
        assert!(Instant::now() < deadline, "waited for {what}: {slots:#?}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn a_running_host_is_changed_through_its_api_its_cli_and_its_config_file() {
    let dir = scratch("admin-live");
    for name in ["spike", "threshold", "moving-average"] {
        let file = format!("{}.wasm", name.replace('-', "_"));
        std::fs::copy(component(name), dir.join(&file)).unwrap();
    }
    let core = dir.join("core.wasm");
    std::fs::write(&core, b"\0asm\x01\0\0\0").unwrap();
    let mock = cluster();
    let brokers = mock.bootstrap_servers();
    let config = dir.join("tickhost.toml");
    std::fs::write(&config, config_text(&brokers, 1_000_000)).unwrap();
    let log = dir.join("serve.log");
    let child = Command::new(env!("CARGO_BIN_EXE_tickhost"))
        .args(["serve", "--config"])
        .arg(&config)
        .env("RUST_LOG", "info")
        .env("NO_COLOR", "1")
        .env("TICKHOST_CACHE_DIR", dir.join("cache"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let host = Host { child, log };
    let admin = host.admin();

    publish(&brokers, 0, 200);
    let ticks = |slots: &[Value], n: u64| slots[0]["counters"]["ticks"].as_u64() >= Some(n);
    let slots = wait_for(&admin, "the first ticks", |s| ticks(s, 200));
    let names: Vec<&str> = slots.iter().map(|s| s["slot"].as_str().unwrap()).collect();
    assert_eq!(names, ["spike", "threshold", "moving-average"]);
    assert_eq!(slots[2]["plugin"], "moving-average");
    let human = tickhost(&["plugin", "list", "--admin", &admin]);
    assert!(text(&human).contains("moving-average"), "{}", text(&human));

    // Swap by upload, with the state carried into every partition's chain.
    let average = dir.join("moving_average.wasm");
    let swapped = tickhost(&[
        "plugin",
        "swap",
        "moving-average",
        average.to_str().unwrap(),
        "--admin",
        &admin,
    ]);
    assert!(swapped.status.success(), "{}", text(&swapped));
    assert!(
        text(&swapped).contains("state restored"),
        "{}",
        text(&swapped)
    );

    // A core module is refused, and the running version stays.
    let refused = tickhost(&[
        "plugin",
        "swap",
        "moving-average",
        core.to_str().unwrap(),
        "--admin",
        &admin,
    ]);
    assert!(!refused.status.success());
    assert!(
        text(&refused).contains("core WebAssembly module"),
        "{}",
        text(&refused)
    );
    let slots = list(&admin);
    assert_eq!(slots[2]["swaps"], 1);

    let back = tickhost(&["plugin", "rollback", "moving-average", "--admin", &admin]);
    assert!(back.status.success(), "{}", text(&back));
    let unknown = tickhost(&["plugin", "rollback", "nope", "--admin", &admin]);
    assert!(
        text(&unknown).contains("no slot named 'nope'"),
        "{}",
        text(&unknown)
    );

    // A new parameter in the file is swapped in by the watcher.
    std::fs::write(&config, config_text(&brokers, 950_000)).unwrap();
    wait_for(&admin, "the watcher's swap", |s| {
        s[1]["params"]["min-volume"].as_i64() == Some(950_000) && s[1]["swaps"] == 1
    });

    publish(&brokers, 200, 200);
    wait_for(&admin, "the later ticks", |s| ticks(s, 400));
    let _ = Command::new("kill")
        .args(["-TERM", &host.child.id().to_string()])
        .status();
    let mut host = host;
    let status = host.child.wait().unwrap();
    let log = host.log();
    assert!(status.success(), "{log}");
    assert!(log.contains("consumed 400"), "{log}");
}

#[test]
fn a_runaway_plugin_under_serve_is_contained_and_every_tick_accounted_for() {
    let mock = cluster();
    let brokers = mock.bootstrap_servers();
    publish(&brokers, 0, 2_000);
    let text = format!(
        "batch-size = 100\n[sandbox]\ndeadline = \"20ms\"\n\
         [[slot]]\nname = \"loop\"\npath = {:?}\n[slot.params]\nmode = \"loop\"\nafter = 3\n\
         [[slot]]\nname = \"volume\"\npath = {:?}\n\
         [kafka]\nbrokers = \"{brokers}\"\ncreate-topics = false\ngroup-id = \"runaway\"\n\
         batch-max = 100\nbatch-wait = \"5ms\"\n",
        component("misbehave"),
        component("threshold"),
    );
    let config = Config::parse(&text, Path::new(".")).unwrap();
    let lineup = load_lineup(runtime(), &ComponentCache::new(None), &config).unwrap();
    let options = ServeOptions {
        stop_after: Some(2_000),
        report: false,
    };

    let served = tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(serve(
            &config,
            lineup,
            PartitionChains::new(),
            options,
            std::future::pending(),
        ))
        .unwrap();

    let counters = served.counters;
    assert_eq!(counters.consumed, 2_000);
    assert!(counters.balanced(), "{counters}");
    assert!(counters.faults >= 1, "{counters}");
    assert!(counters.processed > 0, "the host served on: {counters}");
}

/// `n` JSON ticks of GOOG, a minute apart from `first`, all of `volume`.
fn tick_lines(first: i64, n: i64, volume: u64) -> String {
    (first..first + n)
        .map(|i| {
            format!(
                "{{\"symbol\":\"GOOG\",\"ts\":{},\"price\":100.0,\"volume\":{volume}}}\n",
                1_709_735_400_000 + i * 60_000
            )
        })
        .collect()
}

#[test]
fn tickhost_run_on_a_pipe_takes_a_swap_between_two_batches() {
    use std::io::Write as _;

    let dir = scratch("admin-run");
    let config = dir.join("tickhost.toml");
    let threshold = component("threshold");
    std::fs::write(
        &config,
        format!(
            "batch-size = 10\n[[slot]]\nname = \"volume\"\npath = {threshold:?}\n\
             [slot.params]\nmin-volume = 1_000_000\n"
        ),
    )
    .unwrap();
    let output = dir.join("records.jsonl");
    let log = dir.join("run.log");
    let mut child = Command::new(env!("CARGO_BIN_EXE_tickhost"))
        .args(["run", "--input", "/dev/stdin", "--admin", "127.0.0.1:0"])
        .arg("--config")
        .arg(&config)
        .arg("--output")
        .arg(&output)
        .env("NO_COLOR", "1")
        .env("TICKHOST_CACHE_DIR", dir.join("cache"))
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    let host = Host { child, log };
    let admin = host.admin();

    // Ticks of 900,000 shares: below the first minimum, above the second.
    input
        .write_all(tick_lines(0, 100, 900_000).as_bytes())
        .unwrap();
    input.flush().unwrap();
    wait_for(&admin, "the first 100 ticks", |s| {
        s[0]["counters"]["ticks"].as_u64() == Some(100)
    });
    let swapped = tickhost(&[
        "plugin",
        "swap",
        "volume",
        threshold.to_str().unwrap(),
        "--param",
        "min-volume=800000",
        "--admin",
        &admin,
    ]);
    assert!(swapped.status.success(), "{}", text(&swapped));
    input
        .write_all(tick_lines(100, 100, 900_000).as_bytes())
        .unwrap();
    drop(input);

    let mut host = host;
    let status = host.child.wait().unwrap();
    assert!(status.success(), "{}", host.log());
    let records: Vec<Value> = std::fs::read_to_string(&output)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(records.len(), 200, "one record per line");
    let verdicts: Vec<&str> = records
        .iter()
        .map(|r| r["verdict"].as_str().unwrap())
        .collect();
    assert!(
        verdicts[..100].iter().all(|v| *v == "dropped"),
        "{verdicts:?}"
    );
    assert!(verdicts[100..].iter().all(|v| *v == "kept"), "{verdicts:?}");
}
