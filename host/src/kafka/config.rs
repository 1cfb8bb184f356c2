//! The `[kafka]` section of `tickhost.toml`, with environment overrides.
//!
//! ```toml
//! [kafka]
//! brokers = "localhost:9092"
//! group-id = "tickhost"
//! [kafka.properties]            # every client, passed to librdkafka as they are
//! "security.protocol" = "plaintext"
//! [kafka.consumer-properties]   # the consumers only
//! "session.timeout.ms" = "6000"
//! [kafka.producer-properties]   # the producer only
//! "linger.ms" = "5"
//! ```
//!
//! The environment wins over the file, so that one file serves every
//! deployment: `TICKHOST_BROKERS`, `TICKHOST_GROUP_ID`, `TICKHOST_INPUT_TOPIC`.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Deserialize;

use crate::duration;

/// Where tickhost reads and writes, and how it batches.
#[derive(Debug, Clone, PartialEq)]
pub struct KafkaConfig {
    /// `bootstrap.servers`.
    pub brokers: String,
    /// The consumer group; every tickhost of one pipeline shares it.
    pub group_id: String,
    pub topics: Topics,
    /// The most ticks a partition's batch holds.
    pub batch_max: usize,
    /// The longest a batch waits to fill before it is processed anyway.
    pub batch_wait: Duration,
    /// How often every partition's plugin state is checkpointed to the state
    /// topic and its offset committed (besides on rebalance and shutdown):
    /// after a crash, up to this much input is processed again.
    pub checkpoint_interval: Duration,
    /// Whether tickhost creates its output and state topics when they are
    /// missing (the input topic is never created: it belongs to producers).
    pub create_topics: bool,
    /// librdkafka properties of every client (connection and security
    /// settings belong here), applied after tickhost's own settings.
    pub properties: BTreeMap<String, String>,
    /// librdkafka properties of the consumers only, applied after
    /// `properties`: a consumer property given to the producer would make
    /// librdkafka warn that it ignores it.
    pub consumer_properties: BTreeMap<String, String>,
    /// librdkafka properties of the producer only, applied after
    /// `properties`.
    pub producer_properties: BTreeMap<String, String>,
}

/// The topics tickhost uses.
#[derive(Debug, Clone, PartialEq)]
pub struct Topics {
    pub input: String,
    pub processed: String,
    pub rejected: String,
    pub dlq: String,
    /// Compacted: one checkpoint of plugin state per input partition.
    pub state: String,
}

impl Default for KafkaConfig {
    fn default() -> Self {
        KafkaConfig {
            brokers: "localhost:9092".to_string(),
            group_id: "tickhost".to_string(),
            topics: Topics {
                input: "ticks".to_string(),
                processed: "ticks.processed".to_string(),
                rejected: "ticks.rejected".to_string(),
                dlq: "ticks.dlq".to_string(),
                state: "tickhost.state".to_string(),
            },
            batch_max: crate::config::DEFAULT_BATCH_SIZE,
            batch_wait: Duration::from_millis(20),
            checkpoint_interval: Duration::from_secs(1),
            create_topics: true,
            properties: BTreeMap::new(),
            consumer_properties: BTreeMap::new(),
            producer_properties: BTreeMap::new(),
        }
    }
}

/// The section as written; every key is optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(crate) struct KafkaFile {
    brokers: Option<String>,
    group_id: Option<String>,
    input_topic: Option<String>,
    processed_topic: Option<String>,
    rejected_topic: Option<String>,
    dlq_topic: Option<String>,
    state_topic: Option<String>,
    batch_max: Option<usize>,
    batch_wait: Option<String>,
    checkpoint_interval: Option<String>,
    create_topics: Option<bool>,
    #[serde(default)]
    properties: BTreeMap<String, toml::Value>,
    #[serde(default)]
    consumer_properties: BTreeMap<String, toml::Value>,
    #[serde(default)]
    producer_properties: BTreeMap<String, toml::Value>,
}

impl KafkaFile {
    /// Applies the file's settings over the defaults, then the environment
    /// (`env` is `std::env::var` outside tests).
    pub(crate) fn resolve(
        self,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<KafkaConfig, String> {
        let mut config = KafkaConfig::default();
        let set = |field: &mut String, value: Option<String>| {
            if let Some(value) = value {
                *field = value;
            }
        };
        set(&mut config.brokers, self.brokers);
        set(&mut config.group_id, self.group_id);
        set(&mut config.topics.input, self.input_topic);
        set(&mut config.topics.processed, self.processed_topic);
        set(&mut config.topics.rejected, self.rejected_topic);
        set(&mut config.topics.dlq, self.dlq_topic);
        set(&mut config.topics.state, self.state_topic);
        set(&mut config.brokers, env("TICKHOST_BROKERS"));
        set(&mut config.group_id, env("TICKHOST_GROUP_ID"));
        set(&mut config.topics.input, env("TICKHOST_INPUT_TOPIC"));

        if let Some(max) = self.batch_max {
            crate::config::check_batch_size(max).map_err(|e| format!("kafka.batch-max: {e}"))?;
            config.batch_max = max;
        }
        let read = |name: &str, text: Option<String>, default: Duration| match text {
            Some(text) => duration::parse(&text).map_err(|e| format!("kafka.{name}: {e}")),
            None => Ok(default),
        };
        config.batch_wait = read("batch-wait", self.batch_wait, config.batch_wait)?;
        config.checkpoint_interval = read(
            "checkpoint-interval",
            self.checkpoint_interval,
            config.checkpoint_interval,
        )?;
        if let Some(create) = self.create_topics {
            config.create_topics = create;
        }
        config.properties = texts("properties", self.properties)?;
        config.consumer_properties = texts("consumer-properties", self.consumer_properties)?;
        config.producer_properties = texts("producer-properties", self.producer_properties)?;
        Ok(config)
    }
}

/// The values of a table of librdkafka properties as the text librdkafka
/// takes; `table` names it in errors.
fn texts(
    table: &str,
    properties: BTreeMap<String, toml::Value>,
) -> Result<BTreeMap<String, String>, String> {
    properties
        .into_iter()
        .map(|(name, value)| match value {
            toml::Value::String(text) => Ok((name, text)),
            toml::Value::Integer(_) | toml::Value::Boolean(_) | toml::Value::Float(_) => {
                Ok((name, value.to_string()))
            }
            other => Err(format!(
                "kafka.{table}.{name}: expected a string, number or boolean, got {}",
                other.type_str()
            )),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolve(text: &str, env: &[(&str, &str)]) -> Result<KafkaConfig, String> {
        let file: KafkaFile = toml::from_str(text).map_err(|e| e.to_string())?;
        file.resolve(|name| {
            env.iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| value.to_string())
        })
    }

    #[test]
    fn defaults_fill_what_the_file_leaves_out() {
        let config = resolve("", &[]).unwrap();

        assert_eq!(config, KafkaConfig::default());
        assert_eq!(config.topics.input, "ticks");
        assert_eq!(config.topics.dlq, "ticks.dlq");
    }

    #[test]
    fn the_environment_wins_over_the_file() {
        let text = "brokers = \"file:9092\"\ngroup-id = \"g\"\ninput-topic = \"in\"";

        let config = resolve(text, &[("TICKHOST_BROKERS", "env:9092")]).unwrap();

        assert_eq!(config.brokers, "env:9092");
        assert_eq!(config.group_id, "g");
        assert_eq!(config.topics.input, "in");
    }

    #[test]
    fn properties_pass_through_as_text() {
        let text = "[properties]\n\"fetch.wait.max.ms\" = 5\n\"enable.idempotence\" = true";

        let config = resolve(text, &[]).unwrap();

        assert_eq!(config.properties["fetch.wait.max.ms"], "5");
        assert_eq!(config.properties["enable.idempotence"], "true");
    }

    #[test]
    fn consumer_and_producer_properties_are_kept_apart() {
        let text = "[properties]\n\"client.id\" = \"a\"\n\
                    [consumer-properties]\n\"session.timeout.ms\" = 6000\n\
                    [producer-properties]\n\"linger.ms\" = \"5\"";

        let config = resolve(text, &[]).unwrap();

        assert_eq!(config.properties.len(), 1);
        assert_eq!(config.consumer_properties["session.timeout.ms"], "6000");
        assert!(!config.consumer_properties.contains_key("linger.ms"));
        assert_eq!(config.producer_properties["linger.ms"], "5");
        let error = resolve("[producer-properties]\nx = { y = 1 }", &[]).unwrap_err();
        assert!(error.contains("kafka.producer-properties.x"), "{error}");
    }

    #[test]
    fn mistakes_are_named() {
        assert!(
            resolve("batch-wait = \"soon\"", &[])
                .unwrap_err()
                .contains("kafka.batch-wait")
        );
        assert!(
            resolve("batch-max = 0", &[])
                .unwrap_err()
                .contains("kafka.batch-max")
        );
        assert!(
            resolve("topic = \"x\"", &[])
                .unwrap_err()
                .contains("unknown field")
        );
        assert!(
            resolve("[properties]\nx = [1]", &[])
                .unwrap_err()
                .contains("kafka.properties.x")
        );
    }
}
