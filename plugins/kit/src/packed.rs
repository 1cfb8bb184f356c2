//! A window of `(timestamp, price)` pairs written into a snapshot as one run
//! of bytes, sixteen a pair, instead of pair by pair.
//!
//! Window states are most of what a snapshot holds, and a swap waits for
//! one to be taken and restored. Pair by pair, every timestamp is a varint
//! to encode and decode and every pair a call through serde; as one run of
//! bytes, the encoding writes them in one pass and postcard hands the run
//! back without a copy, so restoring is a loop over fixed-width fields.
//! Both numbers are little-endian, the price as its IEEE-754 bits, so it
//! comes back bit for bit.
//!
//! Use it on a field: `#[serde(with = "tickhost_plugin_kit::packed")]`.

use std::collections::VecDeque;
use std::fmt;

use serde::de::{Error, Visitor};
use serde::{Deserializer, Serializer};

/// The bytes of one pair.
const PAIR: usize = 16;

/// Writes `window` as one run of bytes.
pub fn serialize<S: Serializer>(
    window: &VecDeque<(i64, f64)>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    let mut bytes = Vec::with_capacity(window.len() * PAIR);
    for &(ts, price) in window {
        bytes.extend_from_slice(&ts.to_le_bytes());
        bytes.extend_from_slice(&price.to_bits().to_le_bytes());
    }
    serializer.serialize_bytes(&bytes)
}

/// Reads a window written by [`serialize`].
pub fn deserialize<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<VecDeque<(i64, f64)>, D::Error> {
    deserializer.deserialize_bytes(PairsVisitor)
}

struct PairsVisitor;

impl<'de> Visitor<'de> for PairsVisitor {
    type Value = VecDeque<(i64, f64)>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a run of {PAIR}-byte (timestamp, price) pairs")
    }

    fn visit_bytes<E: Error>(self, bytes: &[u8]) -> Result<Self::Value, E> {
        if !bytes.len().is_multiple_of(PAIR) {
            return Err(E::invalid_length(bytes.len(), &self));
        }
        let field = |bytes: &[u8]| u64::from_le_bytes(bytes.try_into().expect("eight bytes"));
        Ok(bytes
            .chunks_exact(PAIR)
            .map(|pair| (field(&pair[..8]) as i64, f64::from_bits(field(&pair[8..]))))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use serde::{Deserialize, Serialize};

    use super::*;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Window {
        #[serde(with = "super")]
        pairs: VecDeque<(i64, f64)>,
    }

    #[test]
    fn a_window_comes_back_bit_for_bit_in_sixteen_bytes_a_pair() {
        let pairs: VecDeque<(i64, f64)> = [
            (1_709_735_400_000, 0.1 + 0.2),
            (-1, f64::MIN_POSITIVE / 2.0),
            (i64::MAX, -0.0),
            (i64::MIN, f64::MAX),
        ]
        .into();
        let window = Window { pairs };

        let bytes = postcard::to_allocvec(&window).unwrap();
        let back: Window = postcard::from_bytes(&bytes).unwrap();

        assert_eq!(bytes.len(), 1 + 4 * PAIR);
        assert_eq!(back.pairs.len(), window.pairs.len());
        for (a, b) in back.pairs.iter().zip(&window.pairs) {
            assert_eq!((a.0, a.1.to_bits()), (b.0, b.1.to_bits()));
        }
    }

    #[test]
    fn a_run_cut_inside_a_pair_is_refused() {
        let mut bytes = postcard::to_allocvec(&Window {
            pairs: [(1, 1.0)].into(),
        })
        .unwrap();
        // The length says 15 bytes, and 15 follow.
        bytes[0] = 15;
        bytes.pop();

        let err = postcard::from_bytes::<Window>(&bytes).unwrap_err();

        assert!(matches!(err, postcard::Error::SerdeDeCustom), "{err}");
    }
}
