//! Outputs in flight: handed to the producer without waiting, and known to
//! be acknowledged before any offset that covers them is committed.
//!
//! A round does not wait for its outputs: the next round is gathered and
//! judged while the broker acknowledges them, and waits for them only
//! before sending its own (so that rounds stay as large as the backlog), so
//! that a round's latency is its work rather than its work plus a broker
//! round trip. Whoever commits offsets (the
//! checkpoint, the revocation callback, the shutdown) first settles every
//! delivery enqueued so far, and commits nothing if one failed. Order is
//! the producer's: idempotent, so the outputs of a partition keep the order
//! they were enqueued in.

use std::sync::{Mutex, PoisonError};

use anyhow::bail;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::producer::{DeliveryFuture, FutureProducer};

use super::partition::Output;
use super::serve::record;

/// Deliveries in flight after which a round waits for them: bounds the
/// memory they hold when the broker falls behind.
pub const MAX_IN_FLIGHT: usize = 100_000;

/// The deliveries not yet awaited, and the first failure seen.
#[derive(Default)]
pub struct Deliveries {
    pending: Mutex<Vec<DeliveryFuture>>,
    failed: Mutex<Option<String>>,
}

impl Deliveries {
    /// Enqueues `outputs`. When librdkafka's queue is full, or too many are
    /// in flight, waits for those in flight first.
    pub async fn send(&self, producer: &FutureProducer, outputs: &[Output]) -> anyhow::Result<()> {
        for output in outputs {
            loop {
                match producer.send_result(record(output)) {
                    Ok(delivery) => {
                        self.lock().push(delivery);
                        break;
                    }
                    Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), _)) => {
                        self.settle().await?;
                        // Acknowledged deliveries may still hold queue room
                        // for a moment; give librdkafka that moment.
                        tokio::time::sleep(std::time::Duration::from_millis(1)).await;
                    }
                    Err((e, _)) => bail!("failed to produce to '{}': {e}", output.topic),
                }
            }
        }
        if self.lock().len() >= MAX_IN_FLIGHT {
            self.settle().await?;
        }
        Ok(())
    }

    /// Waits until every delivery enqueued so far is acknowledged. Fails if
    /// one was refused (now or earlier).
    pub async fn settle(&self) -> anyhow::Result<()> {
        let pending = std::mem::take(&mut *self.lock());
        let outcomes = futures::future::join_all(pending).await;
        self.check(outcomes)
    }

    /// [`Deliveries::settle`] for a caller that cannot await: the rebalance
    /// callback. The producer's own thread completes the deliveries.
    pub fn settle_blocking(&self) -> anyhow::Result<()> {
        let pending = std::mem::take(&mut *self.lock());
        let outcomes = futures::executor::block_on(futures::future::join_all(pending));
        self.check(outcomes)
    }

    /// Fails if a delivery settled earlier was refused, so that the serve
    /// loop stops even when the failure was seen by the rebalance callback.
    pub fn failure(&self) -> anyhow::Result<()> {
        match &*self.failed.lock().unwrap_or_else(PoisonError::into_inner) {
            Some(failure) => bail!("{failure}"),
            None => Ok(()),
        }
    }

    fn check(
        &self,
        outcomes: Vec<<DeliveryFuture as std::future::Future>::Output>,
    ) -> anyhow::Result<()> {
        let refused = outcomes.into_iter().find_map(|outcome| match outcome {
            Ok(Ok(_)) => None,
            Ok(Err((e, message))) => Some(format!(
                "the broker refused a message for '{}': {e}",
                rdkafka::Message::topic(&message)
            )),
            Err(_) => Some("the producer closed before a delivery was confirmed".to_string()),
        });
        if let Some(refused) = refused {
            self.failed
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .get_or_insert(refused);
        }
        self.failure()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<DeliveryFuture>> {
        self.pending.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
