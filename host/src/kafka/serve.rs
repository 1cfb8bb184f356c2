//! `tickhost serve`: consume, judge, produce, commit, in rounds.
//!
//! A round gathers messages until one partition has a full batch or the
//! batch wait has passed since the first; judges each partition's messages
//! with that partition's chain (partitions in parallel, one thread each);
//! and hands every output to the producer without waiting for the broker
//! ([`Deliveries`]): they travel while the next round is gathered and
//! judged, which then waits for them before it sends its own. Every
//! checkpoint interval the state of each partition's chain that moved is
//! snapshotted (partitions in parallel) and handed to the producer for the
//! state topic the same way; the round after it, once the checkpoint and
//! every output before it are acknowledged, commits the offsets. A crash
//! therefore replays, never skips: at least once.
//!
//! Rebalances are handled in the consumer's callbacks, which librdkafka runs
//! while the loop waits for messages, that is between rounds, when every
//! partition's chain and offsets agree: a revoked partition's state is
//! checkpointed and its offset committed before it goes. A partition that
//! arrives restores its chain from its newest checkpoint and resumes at the
//! checkpoint's offset rather than the committed one, so that its windows
//! are exactly those of an uninterrupted run (after a crash the ticks
//! between the two are output again: duplicates, not gaps).

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use rdkafka::client::ClientContext;
use rdkafka::consumer::{
    BaseConsumer, CommitMode, Consumer, ConsumerContext, RebalanceProtocol, StreamConsumer,
};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{Header, Message, OwnedHeaders, OwnedMessage};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::types::RDKafkaRespErr;
use rdkafka::{Offset, TopicPartitionList};
use tokio::sync::watch;

use super::counters::{Counters, Snapshot};
use super::deliveries::Deliveries;
use super::partition::{Output, PartitionState};
use super::state::{self, Checkpoint};

use super::{KafkaConfig, client, topics};
use crate::chain::{Chain, ChainError};
use crate::config::Config;
use crate::lineup::Lineup;
use crate::report::Report;
use crate::swap::Chains;

/// The longest pause between attempts while the broker is unreachable.
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// How a serve run ends and what it collects, besides the counters.
#[derive(Debug, Default, Clone, Copy)]
pub struct ServeOptions {
    /// Stop cleanly once this many messages have been consumed (the demo
    /// uses it; a service runs until it is signalled).
    pub stop_after: Option<u64>,
    /// Gather the same report as `tickhost run` (processing then runs on
    /// one thread).
    pub report: bool,
}

/// What a serve run did.
#[derive(Debug)]
pub struct Served {
    pub counters: Snapshot,
    pub report: Option<Report>,
}

/// What the loop and the rebalance callbacks share.
struct Shared {
    partitions: HashMap<i32, PartitionState>,
    /// Bumped at every rebalance. A message is processed only if it was
    /// gathered after its partition's current assignment began: one
    /// gathered before may belong to a partition that has moved, or that
    /// came back and is fetched again from its checkpoint. (Under the
    /// cooperative protocol the partitions that stay keep their assignment,
    /// and their messages.)
    epoch: u64,
}

/// The chains of the assigned partitions, one per partition, shared by the
/// loop, the rebalance callbacks and the swap [`Control`](crate::swap::Control),
/// which holds them between rounds to switch them all at once.
pub struct PartitionChains {
    shared: Mutex<Shared>,
}

impl PartitionChains {
    pub fn new() -> Arc<PartitionChains> {
        Arc::new(PartitionChains {
            shared: Mutex::new(Shared {
                partitions: HashMap::new(),
                epoch: 0,
            }),
        })
    }

    fn lock(&self) -> MutexGuard<'_, Shared> {
        self.shared.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Chains for PartitionChains {
    fn with_chains(&self, f: &mut dyn FnMut(&mut [&mut Chain])) {
        let mut shared = self.lock();
        let mut chains: Vec<&mut Chain> = shared
            .partitions
            .values_mut()
            .map(|state| &mut state.chain)
            .collect();
        f(&mut chains);
    }
}

struct HostContext {
    shared: Arc<PartitionChains>,
    producer: FutureProducer,
    deliveries: Arc<Deliveries>,
    config: KafkaConfig,
    counters: Arc<Counters>,
    lineup: Arc<Lineup>,
}

impl ClientContext for HostContext {}

impl ConsumerContext for HostContext {
    /// Runs each rebalance: state out before partitions go, state in (and
    /// the offset to resume from) before they come.
    fn rebalance(
        &self,
        consumer: &BaseConsumer<Self>,
        err: RDKafkaRespErr,
        partitions: &mut TopicPartitionList,
    ) {
        let cooperative = matches!(
            consumer.rebalance_protocol(),
            RebalanceProtocol::Cooperative
        );
        let result = match err {
            RDKafkaRespErr::RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS => {
                self.assigned(partitions);
                if cooperative {
                    consumer.incremental_assign(partitions)
                } else {
                    consumer.assign(partitions)
                }
            }
            RDKafkaRespErr::RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS => {
                self.revoked(consumer, partitions);
                if cooperative {
                    consumer.incremental_unassign(partitions)
                } else {
                    consumer.unassign()
                }
            }
            other => {
                tracing::warn!("rebalance failed: {other:?}");
                self.revoked(consumer, partitions);
                consumer.unassign()
            }
        };
        if let Err(e) = result {
            tracing::error!("failed to apply a rebalance: {e}");
        }
    }
}

impl HostContext {
    /// Checkpoints each revoked partition's chain and commits its offset.
    fn revoked(&self, consumer: &BaseConsumer<Self>, revoked: &TopicPartitionList) {
        // The outputs of every round so far must be safe before an offset
        // that covers them is committed.
        let delivered = self.deliveries.settle_blocking();
        let mut shared = self.shared.lock();
        shared.epoch += 1;
        let mut commits = TopicPartitionList::new();
        for element in revoked.elements() {
            let Some(mut state) = shared.partitions.remove(&element.partition()) else {
                continue;
            };
            // Commit only an offset whose state is safe: without it, the next
            // owner would resume there with empty windows.
            match checkpoint_blocking(&self.producer, &self.config, &mut state) {
                Ok(written) => {
                    if written {
                        Counters::add(&self.counters.checkpoints, 1);
                    }
                    if let Some(next) = state.next_offset {
                        let _ = commits.add_partition_offset(
                            &self.config.topics.input,
                            state.partition,
                            Offset::Offset(next),
                        );
                    }
                }
                Err(e) => tracing::error!(
                    partition = state.partition,
                    "checkpoint at revocation failed, its offset is not committed: {e:#}"
                ),
            }
            tracing::info!(partition = state.partition, "partition revoked");
        }
        if let Err(e) = delivered {
            tracing::error!("outputs were not delivered, no offset is committed: {e:#}");
            return;
        }
        if commits.count() > 0
            && let Err(e) = consumer.commit(&commits, CommitMode::Sync)
        {
            tracing::warn!("commit at revocation failed: {e}");
        }
    }

    /// Starts a chain for each assigned partition, restored from the
    /// partition's newest checkpoint, and makes the partition resume at the
    /// checkpoint's offset: ticks before it were delivered, and the state
    /// holds exactly them, so the windows go on as if never interrupted.
    /// Without a checkpoint, the chain starts empty at the committed offset.
    fn assigned(&self, assigned: &mut TopicPartitionList) {
        let checkpoints = match state::read_all(&self.config) {
            Ok(checkpoints) => checkpoints,
            Err(e) => {
                tracing::error!("failed to read checkpoints, partitions start empty: {e:#}");
                HashMap::new()
            }
        };
        let mut shared = self.shared.lock();
        shared.epoch += 1;
        let epoch = shared.epoch;
        let mut started = Vec::new();
        let partitions: Vec<i32> = assigned.elements().iter().map(|e| e.partition()).collect();
        for partition in partitions {
            let mut chain = match Chain::start(self.lineup.clone()) {
                Ok(chain) => chain,
                Err(e) => {
                    tracing::error!(partition, "failed to start the chain: {e}");
                    continue;
                }
            };
            match checkpoints.get(&partition) {
                Some(checkpoint) => {
                    checkpoint.restore_into(&mut chain);
                    let resumed = assigned.set_partition_offset(
                        &self.config.topics.input,
                        partition,
                        Offset::Offset(checkpoint.offset),
                    );
                    if let Err(e) = resumed {
                        tracing::error!(partition, "failed to resume at the checkpoint: {e}");
                    }
                    tracing::info!(
                        partition,
                        offset = checkpoint.offset,
                        "partition state restored"
                    );
                }
                None => tracing::info!(partition, "partition starts with empty state"),
            }
            shared.partitions.insert(
                partition,
                PartitionState {
                    partition,
                    chain,
                    assigned_in: epoch,
                    next_offset: None,
                    checkpointed: None,
                },
            );
            started.push(partition);
        }
        tracing::info!(partitions = ?started, "partitions assigned");
    }
}

/// Runs the streaming host until `shutdown` resolves (or `stop_after` is
/// reached), then checkpoints, commits and closes.
pub async fn serve(
    config: &Config,
    lineup: Arc<Lineup>,
    shared: Arc<PartitionChains>,
    options: ServeOptions,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<Served> {
    let kafka = &config.kafka;
    let (stop_tx, mut stop) = watch::channel(false);
    tokio::spawn(async move {
        shutdown.await;
        let _ = stop_tx.send(true);
    });

    // A broker that is not up yet is waited for, not a reason to exit.
    if kafka.create_topics {
        let mut backoff = Duration::from_millis(500);
        while let Err(e) = topics::ensure(kafka).await {
            tracing::warn!("cannot set up topics yet, retrying in {backoff:?}: {e:#}");
            tokio::select! {
                _ = stop.changed() => bail!("stopped before the broker could be reached"),
                _ = tokio::time::sleep(backoff) => {}
            }
            backoff = (backoff * 2).min(MAX_BACKOFF);
        }
    }
    let counters = Arc::new(Counters::default());
    let producer: FutureProducer = client::producer(kafka)
        .create()
        .context("failed to create the Kafka producer")?;
    let deliveries = Arc::new(Deliveries::default());
    let context = HostContext {
        shared: shared.clone(),
        producer: producer.clone(),
        deliveries: deliveries.clone(),
        config: kafka.clone(),
        counters: counters.clone(),
        lineup,
    };
    let consumer: StreamConsumer<HostContext> = client::consumer(kafka)
        .create_with_context(context)
        .context("failed to create the Kafka consumer")?;
    consumer
        .subscribe(&[&kafka.topics.input])
        .with_context(|| format!("failed to subscribe to '{}'", kafka.topics.input))?;
    tracing::info!(topic = %kafka.topics.input, group = %kafka.group_id, brokers = %kafka.brokers, "serving");

    let mut host = Host {
        kafka,
        consumer: &consumer,
        producer: &producer,
        deliveries: &deliveries,
        shared: &shared,
        counters: &counters,
        report: options.report.then(|| Report::new(&[])),
        last_checkpoint: Instant::now(),
        dirty: false,
        checkpoint_moved: Instant::now(),
        taken: None,
        written: None,
        backoff: Duration::ZERO,
    };
    loop {
        let Some(round) = host.gather(&mut stop).await else {
            break;
        };
        // A delivery refused in a rebalance callback stops the host too.
        deliveries.failure()?;
        host.round(round).await?;
        if host.dirty
            && host.taken.is_none()
            && host.last_checkpoint.elapsed() >= kafka.checkpoint_interval
        {
            host.take_checkpoint()?;
        }
        if options
            .stop_after
            .is_some_and(|n| counters.snapshot().consumed >= n)
        {
            break;
        }
    }

    host.close().await?;
    let counters = counters.snapshot();
    tracing::info!("stopped: {counters}");
    Ok(Served {
        counters,
        report: host.report,
    })
}

/// The messages of one round, by partition, each with the epoch it was
/// received in.
type Round = BTreeMap<i32, Vec<(u64, OwnedMessage)>>;

struct Host<'a> {
    kafka: &'a KafkaConfig,
    consumer: &'a StreamConsumer<HostContext>,
    producer: &'a FutureProducer,
    deliveries: &'a Deliveries,
    shared: &'a Arc<PartitionChains>,
    counters: &'a Arc<Counters>,
    report: Option<Report>,
    last_checkpoint: Instant,
    /// Whether outputs were produced since the last checkpoint.
    dirty: bool,
    /// When a checkpoint was last taken or written.
    checkpoint_moved: Instant,
    /// A checkpoint taken, until the outputs it covers are acknowledged.
    taken: Option<Taken>,
    /// A checkpoint written, until its chunks are acknowledged.
    written: Option<Taken>,
    backoff: Duration,
}

/// A checkpoint of the partitions' chains, on its way to the state topic.
struct Taken {
    /// The rebalance epoch it was taken in.
    epoch: u64,
    /// The chunks of every partition that moved since its last checkpoint.
    chunks: Vec<Output>,
    /// Those partitions, and the offsets their chunks belong to.
    written: Vec<(i32, Option<i64>)>,
    /// The offset of every partition, to commit once it is written.
    offsets: TopicPartitionList,
}

impl Host<'_> {
    /// Waits for a first message, then gathers until a partition's batch is
    /// full or the batch wait has passed. `None` once asked to stop.
    async fn gather(&mut self, stop: &mut watch::Receiver<bool>) -> Option<Round> {
        let mut round = Round::new();
        let mut deadline: Option<tokio::time::Instant> = None;
        loop {
            if *stop.borrow() {
                return (!round.is_empty()).then_some(round);
            }
            // A round closes at its batch deadline; an idle host still wakes
            // up to checkpoint the progress it has not saved yet.
            let checkpoint_due = self.dirty.then(|| {
                tokio::time::Instant::from_std(
                    self.last_checkpoint + self.kafka.checkpoint_interval,
                )
            });
            // A checkpoint is written, then committed, as deliveries are
            // acknowledged, which an idle host has to wake up for too.
            let commit_due = (self.taken.is_some() || self.written.is_some()).then(|| {
                tokio::time::Instant::from_std(self.checkpoint_moved + self.kafka.batch_wait)
            });
            let wait = async {
                match deadline.or(commit_due).or(checkpoint_due) {
                    Some(at) => tokio::time::sleep_until(at).await,
                    None => std::future::pending().await,
                }
            };
            let received = tokio::select! {
                _ = stop.changed() => continue,
                _ = wait => return Some(round),
                received = self.consumer.recv() => received,
            };
            match received {
                Ok(message) => {
                    self.backoff = Duration::ZERO;
                    let epoch = self.shared.lock().epoch;
                    let batch = round.entry(message.partition()).or_default();
                    batch.push((epoch, message.detach()));
                    if batch.len() >= self.kafka.batch_max {
                        return Some(round);
                    }
                    deadline
                        .get_or_insert_with(|| tokio::time::Instant::now() + self.kafka.batch_wait);
                }
                Err(e) => {
                    self.backoff =
                        (self.backoff * 2).clamp(Duration::from_millis(100), MAX_BACKOFF);
                    tracing::warn!("consuming failed, retrying in {:?}: {e}", self.backoff);
                    tokio::time::sleep(self.backoff).await;
                }
            }
        }
    }

    /// Judges and produces one round, and commits the last checkpoint's
    /// offsets once what they cover is acknowledged.
    async fn round(&mut self, round: Round) -> anyhow::Result<()> {
        // Set up arriving partitions and drop what a rebalance overtook.
        let batches = self.prepare(round);
        let outputs = if batches.is_empty() {
            Vec::new()
        } else {
            // Judge every partition's batch.
            let outputs = {
                let mut shared = self.shared.lock();
                let mut work: Vec<(&mut PartitionState, &[OwnedMessage])> = Vec::new();
                let mut rest: Vec<&mut PartitionState> = shared.partitions.values_mut().collect();
                for (partition, messages) in &batches {
                    if let Some(at) = rest.iter().position(|s| s.partition == *partition) {
                        work.push((rest.swap_remove(at), messages));
                    }
                }
                self.judge(work)
            };
            match outputs {
                Ok(outputs) => outputs,
                Err(fault) => return self.halt(fault),
            }
        };

        // Deliver. The previous round's outputs (and the last checkpoint's
        // chunks) were in flight while this round was judged; they are
        // awaited now, so that rounds stay as large as the backlog (waiting
        // for nothing would shrink them to a few messages each), and then
        // the checkpoints move along.
        self.deliveries.settle().await?;
        self.advance_checkpoints().await?;
        if !batches.is_empty() {
            self.deliveries.send(self.producer, &outputs).await?;
            self.dirty = true;
        }
        Ok(())
    }

    /// Keeps the messages of partitions that are still assigned as they
    /// were when the messages arrived; a rebalance in between may have moved
    /// a partition, and its new owner processes them.
    fn prepare(&mut self, round: Round) -> BTreeMap<i32, Vec<OwnedMessage>> {
        let shared = self.shared.lock();
        round
            .into_iter()
            .filter_map(|(partition, messages)| {
                let since = shared.partitions.get(&partition)?.assigned_in;
                let messages = messages
                    .into_iter()
                    .filter(|(received, _)| *received >= since)
                    .map(|(_, message)| message)
                    .collect::<Vec<_>>();
                Some((partition, messages))
            })
            .filter(|(_, messages)| !messages.is_empty())
            .collect()
    }

    /// Runs each partition's batch through its chain: on one thread per
    /// partition, or on this one when a report is gathered.
    fn judge(
        &mut self,
        work: Vec<(&mut PartitionState, &[OwnedMessage])>,
    ) -> Result<Vec<Output>, ChainError> {
        let (kafka, counters) = (self.kafka, &**self.counters);
        if let Some(report) = self.report.as_mut() {
            let mut outputs = Vec::new();
            for (state, messages) in work {
                if report.slots_len() == 0 {
                    *report = Report::new(state.chain.slots());
                }
                outputs.extend(state.process(messages, kafka, counters, Some(report))?);
            }
            return Ok(outputs);
        }
        let outputs = in_parallel(work, |(state, messages)| {
            state.process(messages, kafka, counters, None)
        });
        let mut all = Vec::new();
        for outputs in outputs {
            all.extend(outputs?);
        }
        Ok(all)
    }

    /// Takes a checkpoint of every partition that moved since its last
    /// one, at its current offset: snapshots its chain (partitions in
    /// parallel) and keeps the chunks for [`Host::advance_checkpoints`],
    /// which writes them once every output they cover is acknowledged and
    /// commits their offsets once they are. Every committed offset is thus
    /// matched by a checkpoint of the state at that offset, and every
    /// checkpoint's offset by delivered outputs, so whoever resumes a
    /// partition at its checkpoint resumes its windows too and skips
    /// nothing; the price is that a crash replays up to a few checkpoint
    /// intervals. Nothing here waits for the broker.
    fn take_checkpoint(&mut self) -> anyhow::Result<()> {
        let mut shared = self.shared.lock();
        let mut taken = Taken {
            epoch: shared.epoch,
            chunks: Vec::new(),
            written: Vec::new(),
            offsets: TopicPartitionList::new(),
        };
        for state in shared.partitions.values() {
            if let Some(next) = state.next_offset {
                taken.offsets.add_partition_offset(
                    &self.kafka.topics.input,
                    state.partition,
                    Offset::Offset(next),
                )?;
            }
        }
        let due: Vec<&mut PartitionState> = shared
            .partitions
            .values_mut()
            .filter(|state| state.next_offset != state.checkpointed)
            .collect();
        let kafka = self.kafka;
        let snapshots = in_parallel(due, |state| {
            let chunks = checkpoint_outputs(kafka, state)?;
            anyhow::Ok((state.partition, state.next_offset, chunks))
        });
        for snapshot in snapshots {
            let (partition, offset, chunks) = snapshot?;
            taken.chunks.extend(chunks);
            taken.written.push((partition, offset));
        }
        drop(shared);
        if taken.offsets.count() > 0 {
            self.taken = Some(taken);
        }
        self.last_checkpoint = Instant::now();
        self.checkpoint_moved = self.last_checkpoint;
        self.dirty = false;
        Ok(())
    }

    /// Moves the checkpoints along; called once every delivery enqueued so
    /// far is acknowledged. The checkpoint written before is safe now: its
    /// offsets are committed. The checkpoint taken since is written now: the
    /// outputs it covers are safe. A checkpoint that a rebalance overtook is
    /// dropped; the rebalance wrote and committed what it revoked itself,
    /// and the partitions that stay are checkpointed again.
    async fn advance_checkpoints(&mut self) -> anyhow::Result<()> {
        let epoch = self.shared.lock().epoch;
        if let Some(written) = self.written.take() {
            Counters::add(&self.counters.checkpoints, written.written.len() as u64);
            if written.epoch == epoch
                && let Err(e) = self.consumer.commit(&written.offsets, CommitMode::Async)
            {
                tracing::warn!("commit failed (the next checkpoint retries it): {e}");
            }
        }
        let Some(taken) = self.taken.take() else {
            return Ok(());
        };
        if taken.epoch != epoch {
            return Ok(());
        }
        self.deliveries.send(self.producer, &taken.chunks).await?;
        {
            let mut shared = self.shared.lock();
            for &(partition, offset) in &taken.written {
                if let Some(state) = shared.partitions.get_mut(&partition) {
                    state.checkpointed = offset;
                }
            }
        }
        self.written = Some(taken);
        self.checkpoint_moved = Instant::now();
        Ok(())
    }

    /// Stops because a slot whose policy is `halt` faulted: nothing of the
    /// round is output and nothing more is committed or checkpointed, so a
    /// restarted host judges the batch again.
    fn halt(&mut self, fault: ChainError) -> anyhow::Result<()> {
        // Nothing is left for the revocation that leaving triggers either.
        self.shared.lock().partitions.clear();
        self.consumer.unsubscribe();
        bail!(
            "halted, as slot '{}' is configured to on a fault: {fault}",
            fault.slot
        )
    }

    /// Checkpoints, commits synchronously, and leaves the group.
    async fn close(&mut self) -> anyhow::Result<()> {
        // What was taken before is written; what is taken now covers every
        // output, which are safe once settled; then it is written too.
        self.deliveries.settle().await?;
        self.advance_checkpoints().await?;
        self.take_checkpoint()?;
        self.deliveries.settle().await?;
        self.advance_checkpoints().await?;
        self.deliveries.settle().await?;
        if let Some(written) = self.written.take() {
            Counters::add(&self.counters.checkpoints, written.written.len() as u64);
        }
        let mut commits = TopicPartitionList::new();
        {
            let mut shared = self.shared.lock();
            for state in shared.partitions.values() {
                if let Some(next) = state.next_offset {
                    commits.add_partition_offset(
                        &self.kafka.topics.input,
                        state.partition,
                        Offset::Offset(next),
                    )?;
                }
            }
            // Nothing is left for the revocation that leaving triggers.
            shared.partitions.clear();
        }
        if commits.count() > 0 {
            let consumer = self.consumer;
            tokio::task::block_in_place(|| consumer.commit(&commits, CommitMode::Sync))
                .context("failed to commit at shutdown")?;
        }
        self.consumer.unsubscribe();
        Ok(())
    }
}

/// The messages of a partition's checkpoint (its chunks), none if it has
/// processed nothing.
fn checkpoint_outputs(
    kafka: &KafkaConfig,
    state: &mut PartitionState,
) -> anyhow::Result<Vec<Output>> {
    let Some(offset) = state.next_offset else {
        return Ok(Vec::new());
    };
    let checkpoint = Checkpoint::take(&mut state.chain, offset)
        .with_context(|| format!("failed to snapshot partition {}", state.partition))?;
    Ok(checkpoint.messages(kafka, state.partition))
}

/// Runs `f` on every item, on a thread each when there are several: each
/// partition's chain on a core of its own.
fn in_parallel<T: Send, R: Send>(items: Vec<T>, f: impl Fn(T) -> R + Sync) -> Vec<R> {
    if items.len() <= 1 {
        return items.into_iter().map(f).collect();
    }
    let f = &f;
    tokio::task::block_in_place(|| {
        std::thread::scope(|scope| {
            let handles: Vec<_> = items
                .into_iter()
                .map(|item| scope.spawn(move || f(item)))
                .collect();
            handles
                .into_iter()
                .map(|handle| handle.join().expect("a partition's work never panics"))
                .collect()
        })
    })
}

/// Writes a partition's checkpoint and waits until every chunk of it is
/// acknowledged, from a callback.
fn checkpoint_blocking(
    producer: &FutureProducer,
    kafka: &KafkaConfig,
    state: &mut PartitionState,
) -> anyhow::Result<bool> {
    if state.checkpointed == state.next_offset {
        // Its newest state is on the topic already (and acknowledged: the
        // caller settled every delivery first).
        return Ok(false);
    }
    let outputs = checkpoint_outputs(kafka, state)?;
    if outputs.is_empty() {
        return Ok(false);
    }
    let mut pending = Vec::with_capacity(outputs.len());
    for output in &outputs {
        loop {
            match producer.send_result(record(output)) {
                Ok(delivery) => {
                    pending.push(delivery);
                    break;
                }
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), _)) => {
                    // The local queue is full: let some deliveries finish.
                    std::thread::sleep(Duration::from_millis(5));
                }
                Err((e, _)) => return Err(e).context("failed to produce a checkpoint"),
            }
        }
    }
    for delivery in futures::executor::block_on(futures::future::join_all(pending)) {
        match delivery {
            Ok(Ok(_)) => {}
            Ok(Err((e, _))) => return Err(e).context("the broker refused a checkpoint"),
            Err(_) => bail!("the producer closed before the checkpoint was confirmed"),
        }
    }
    Ok(true)
}

pub(super) fn record(output: &Output) -> FutureRecord<'_, [u8], [u8]> {
    let mut record = FutureRecord::to(&output.topic).payload(output.payload.as_slice());
    if let Some(key) = &output.key {
        record = record.key(key.as_slice());
    }
    if !output.headers.is_empty() {
        let mut headers = OwnedHeaders::new_with_capacity(output.headers.len());
        for (key, value) in &output.headers {
            headers = headers.insert(Header {
                key,
                value: Some(value.as_bytes()),
            });
        }
        record = record.headers(headers);
    }
    record
}
