//! The topics tickhost writes: created at start when they are missing, so
//! that a first run on an empty broker works. The input topic is never
//! created here; it belongs to whoever produces ticks.

use std::time::Duration;

use anyhow::Context;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::RDKafkaErrorCode;

use super::{KafkaConfig, client};

/// How long a metadata or admin request may take at start-up.
const ADMIN_TIMEOUT: Duration = Duration::from_secs(30);

/// Creates the output topics (with as many partitions as the input topic,
/// so that outputs can be spread like the input) and the compacted state
/// topic, skipping those that exist.
pub async fn ensure(config: &KafkaConfig) -> anyhow::Result<()> {
    let partitions = partitions_of(config, &config.topics.input)
        .await?
        .unwrap_or(1)
        .max(1);
    let topics = &config.topics;
    let outputs = [&topics.processed, &topics.rejected, &topics.dlq];
    let mut new: Vec<NewTopic<'_>> = outputs
        .iter()
        .map(|name| NewTopic::new(name, partitions, TopicReplication::Fixed(1)))
        .collect();
    new.push(
        NewTopic::new(&topics.state, 1, TopicReplication::Fixed(1))
            .set("cleanup.policy", "compact"),
    );

    let admin: AdminClient<DefaultClientContext> = client::admin(config)
        .create()
        .context("failed to create the Kafka admin client")?;
    let options = AdminOptions::new().operation_timeout(Some(ADMIN_TIMEOUT));
    let results = admin
        .create_topics(&new, &options)
        .await
        .context("failed to create the output topics")?;
    for result in results {
        match result {
            Ok(topic) => tracing::info!(topic, "created topic"),
            Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
            Err((topic, code)) => anyhow::bail!("failed to create topic '{topic}': {code}"),
        }
    }
    Ok(())
}

/// The number of partitions of `topic`, or `None` if it does not exist.
pub async fn partitions_of(config: &KafkaConfig, topic: &str) -> anyhow::Result<Option<i32>> {
    let probe: BaseConsumer = client::admin(config)
        .create()
        .context("failed to create a Kafka client")?;
    let topic = topic.to_string();
    tokio::task::spawn_blocking(move || {
        let metadata = probe
            .fetch_metadata(Some(&topic), ADMIN_TIMEOUT)
            .with_context(|| format!("failed to read the metadata of topic '{topic}'"))?;
        Ok(metadata
            .topics()
            .iter()
            .find(|t| t.name() == topic && t.error().is_none())
            .map(|t| t.partitions().len() as i32)
            .filter(|&n| n > 0))
    })
    .await?
}
