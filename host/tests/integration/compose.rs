//! docker-compose.yml and the Dockerfile, checked against the code: no
//! Docker engine runs here, so the structure is what can be tested.

use std::process::Command;

use serde_yaml::Value;
use tickhost::kafka::KafkaConfig;

use crate::support::workspace;

fn compose() -> Value {
    let text = std::fs::read_to_string(workspace().join("docker-compose.yml")).unwrap();
    serde_yaml::from_str(&text).expect("docker-compose.yml is YAML")
}

fn strings(value: &Value) -> Vec<String> {
    value
        .as_sequence()
        .unwrap_or_else(|| panic!("expected a list, got {value:?}"))
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect()
}

#[test]
fn the_compose_file_runs_tickhost_serve_against_its_kafka() {
    let compose = compose();
    let services = &compose["services"];

    for name in ["kafka", "topics", "tickhost", "producer"] {
        assert!(services[name].is_mapping(), "service {name} is missing");
    }
    let tickhost = &services["tickhost"];
    assert_eq!(tickhost["build"]["dockerfile"], "host/Dockerfile");
    assert_eq!(tickhost["environment"]["TICKHOST_BROKERS"], "kafka:9092");
    let advertised = services["kafka"]["environment"]["KAFKA_ADVERTISED_LISTENERS"]
        .as_str()
        .unwrap();
    assert!(advertised.ends_with("//kafka:9092"), "{advertised}");

    // The command is one the binary accepts, with a config the image has.
    let command = strings(&tickhost["command"]);
    assert_eq!(command[0], "serve");
    let mut args = command.clone();
    args.push("--help".into());
    let help = Command::new(env!("CARGO_BIN_EXE_tickhost"))
        .args(&args)
        .output()
        .unwrap();
    assert!(help.status.success(), "{command:?} is refused by tickhost");
    let config = &command[command.iter().position(|a| a == "--config").unwrap() + 1];
    assert!(
        workspace().join(config).exists(),
        "{config} is not in the repository"
    );
}

#[test]
fn the_producer_publishes_to_the_broker_without_a_key_on_its_command_line() {
    let compose = compose();
    let producer = &compose["services"]["producer"];

    let command = strings(&producer["command"]);
    assert_eq!(command[0], "produce");
    assert!(!command.iter().any(|a| a.contains("key")), "{command:?}");
    let mut args = command.clone();
    args.push("--help".into());
    let help = Command::new(env!("CARGO_BIN_EXE_tickhost"))
        .args(&args)
        .output()
        .unwrap();
    assert!(help.status.success(), "{command:?} is refused by tickhost");
    assert_eq!(producer["environment"]["TICKHOST_BROKERS"], "kafka:9092");
    assert!(
        producer["environment"]["ALPHAVANTAGE_API_KEY"]
            .as_str()
            .unwrap()
            .starts_with("${")
    );
}

#[test]
fn the_producer_restarts_only_on_failure_and_a_bounded_number_of_times() {
    // Its request budget lives in the process: a restart spends requests
    // afresh, and no restart cures a refused key.
    let compose = compose();
    let restart = compose["services"]["producer"]["restart"]
        .as_str()
        .expect("the producer has a restart policy");

    let retries = restart
        .strip_prefix("on-failure:")
        .unwrap_or_else(|| panic!("restart is {restart:?}, not on-failure:N"));
    let retries: u32 = retries.parse().expect("a number of retries");
    assert!((1..=5).contains(&retries), "{restart}");
}

#[test]
fn the_topics_service_creates_the_input_topic_tickhost_reads() {
    let command = strings(&compose()["services"]["topics"]["command"]);
    let topic = &command[command.iter().position(|a| a == "--topic").unwrap() + 1];

    assert_eq!(topic, &KafkaConfig::default().topics.input);
}

#[test]
fn the_image_has_the_plugins_where_the_shipped_config_looks() {
    let dockerfile = std::fs::read_to_string(workspace().join("host/Dockerfile")).unwrap();
    let config = std::fs::read_to_string(workspace().join("host/tickhost.toml")).unwrap();

    assert!(dockerfile.contains("COPY host/tickhost.toml /opt/tickhost/host/tickhost.toml"));
    for line in config.lines().filter_map(|l| l.strip_prefix("path = ")) {
        // Paths are relative to host/, so ../target/... is /opt/tickhost/target/...
        let relative = line.trim_matches('"').trim_start_matches("../");
        let (dir, file) = relative.rsplit_once('/').unwrap();
        assert!(
            dockerfile.contains(&format!("/opt/tickhost/{dir}/")),
            "{dir} not in the image"
        );
        assert!(
            dockerfile.contains(file),
            "{file} not copied into the image"
        );
    }
    assert!(dockerfile.contains("scripts/build-plugins.sh"));
}
