//! The output records: one JSON object per tick, saying what the chain
//! decided about it. `tickhost run` writes them as lines, and the Kafka host
//! publishes the same objects.
//!
//! ```text
//! {"verdict":"kept","symbol":"GOOG","ts":1709735400000,"price":135.0,"volume":1925716,"annotations":{"avg":135.0}}
//! {"verdict":"dropped","symbol":"GOOG","ts":1709735460000,"price":141.2,"volume":1699414,"slot":"spike","plugin":"spike","reason":"price change of +4.59% over the last 10m exceeds 2%"}
//! {"verdict":"invalid","line":17,"reason":"price -1 is not above zero","input":"{...}"}
//! ```

use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};

use crate::chain::Slot;
use crate::tick::Tick;
use crate::verdict::{Annotated, Verdict};

/// What the chain decided about one tick, ready to serialize.
#[derive(Debug, Serialize)]
#[serde(tag = "verdict", rename_all = "lowercase")]
pub enum Record<'a> {
    /// Every slot kept the tick; `annotations` maps each annotation's name to
    /// its value (a later slot's value replaces an earlier one of the same
    /// name).
    Kept {
        #[serde(flatten)]
        tick: &'a Tick,
        annotations: Annotations<'a>,
    },
    /// A slot dropped the tick.
    Dropped {
        #[serde(flatten)]
        tick: &'a Tick,
        slot: &'a str,
        plugin: &'a str,
        reason: &'a str,
    },
    /// The input was not a valid tick.
    Invalid {
        line: u64,
        reason: &'a str,
        input: &'a str,
    },
}

impl<'a> Record<'a> {
    /// The record of a tick the chain judged.
    pub fn judged(
        tick: &'a Tick,
        verdict: &'a Verdict,
        annotations: &'a [Annotated],
        slots: &'a [Slot],
    ) -> Record<'a> {
        match verdict {
            Verdict::Kept => Record::Kept {
                tick,
                annotations: Annotations { annotations, slots },
            },
            Verdict::Dropped { slot, reason } => Record::Dropped {
                tick,
                slot: slots[*slot].name(),
                plugin: slots[*slot].plugin().name(),
                reason,
            },
        }
    }

    /// The record as one line of JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a record always serializes")
    }
}

/// A tick's annotations, written as a map from name to value.
#[derive(Debug)]
pub struct Annotations<'a> {
    annotations: &'a [Annotated],
    slots: &'a [Slot],
}

impl Serialize for Annotations<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.annotations.len()))?;
        for annotation in self.annotations {
            let names = self.slots[annotation.slot].plugin().annotations();
            map.serialize_entry(&names[annotation.key as usize], &annotation.value)?;
        }
        map.end()
    }
}

/// The name of an annotation, as records show it.
pub fn annotation_name(slots: &[Slot], annotation: &Annotated) -> String {
    slots[annotation.slot].plugin().annotations()[annotation.key as usize].clone()
}
