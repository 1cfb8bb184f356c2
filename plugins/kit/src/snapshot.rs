//! The envelope around a plugin's snapshot: a format tag and the state, in
//! a compact binary encoding ([postcard]), after a four-byte marker.
//!
//! The format tag names the plugin and the version of its state layout, so
//! that a plugin refuses, with an error that says whose it is, a snapshot
//! of another plugin or of a layout it does not read (the host may hand a
//! snapshot to a different plugin after a swap). A plugin bumps its version
//! whenever its state changes shape; what the state holds is the plugin's
//! own business.
//!
//! Binary, because snapshots are neither small nor rare: the host takes one
//! of every plugin every second (to rebuild a faulted instance, and for the
//! Kafka checkpoints), and a swap restores one while the chains wait. With
//! ten minutes of ticks for a thousand symbols a window state holds hundreds
//! of thousands of prices; as JSON, restoring it took longer than the 100 ms
//! a call may take. postcard writes an `f64` as its eight bytes, so every
//! value comes back bit for bit, as a restored running sum must.
//!
//! Snapshots written as JSON (`{"format":...,"state":...}`, by plugins
//! built before the binary envelope) are still read, so that an upgrade
//! keeps the windows checkpointed by the version before it.
//!
//! [postcard]: https://docs.rs/postcard

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// What a binary snapshot starts with: a NUL, which no JSON text starts
/// with, then `thk` and the envelope's version.
const MARKER: [u8; 4] = [0, b't', b'h', 1];

/// Why a snapshot could not be restored. The `Display` text is what a
/// plugin's `restore` returns to the host.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SnapshotError {
    /// The bytes are not a snapshot envelope at all.
    #[error("not a tickhost snapshot: {0}")]
    NotASnapshot(String),

    /// The snapshot was taken by another plugin.
    #[error("snapshot is from plugin '{plugin}' (format '{found}'), not from '{expected}'")]
    OtherPlugin {
        plugin: String,
        found: String,
        expected: String,
    },

    /// The snapshot is from this plugin, in a layout this version does not
    /// read.
    #[error("snapshot format '{found}' is not supported: this version reads '{expected}'")]
    OtherVersion { found: String, expected: String },

    /// The format is the right one but the state does not fit it.
    #[error("snapshot of format '{format}' is damaged: {reason}")]
    Damaged { format: String, reason: String },
}

#[derive(Serialize)]
struct Envelope<'a, T> {
    format: &'a str,
    state: &'a T,
}

#[derive(Deserialize)]
struct Header {
    format: String,
}

#[derive(Deserialize)]
struct Body<T> {
    state: T,
}

/// Wraps `state` in an envelope tagged with `format`, such as `"spike/1"`.
///
/// # Panics
///
/// If `state` cannot be encoded (a type whose length is not known before
/// it is written): a bug in the plugin's state type, found by its first
/// snapshot test.
pub fn encode<T: Serialize>(format: &str, state: &T) -> Vec<u8> {
    let envelope = postcard::to_allocvec(&Envelope { format, state })
        .unwrap_or_else(|e| panic!("bug: the state of format '{format}' cannot be encoded: {e}"));
    let mut bytes = Vec::with_capacity(MARKER.len() + envelope.len());
    bytes.extend_from_slice(&MARKER);
    bytes.extend_from_slice(&envelope);
    bytes
}

/// Opens an envelope that must be tagged `format`, and reads its state.
pub fn decode<T: DeserializeOwned>(format: &str, bytes: &[u8]) -> Result<T, SnapshotError> {
    match bytes.strip_prefix(&MARKER) {
        Some(envelope) => decode_binary(format, envelope),
        None if bytes.first() == Some(&b'{') => decode_json(format, bytes),
        None => Err(SnapshotError::NotASnapshot(
            "it starts with neither the snapshot marker nor a JSON object".to_string(),
        )),
    }
}

/// Opens an envelope tagged `format` or, converted by `upgrade`, one tagged
/// `older`: an earlier layout of the same plugin's state, so that a new
/// version restores what the version before it snapshotted (and
/// checkpointed). Any other tag is refused as [`decode`] refuses it.
pub fn decode_or_upgrade<T: DeserializeOwned, O: DeserializeOwned>(
    format: &str,
    older: &str,
    bytes: &[u8],
    upgrade: impl FnOnce(O) -> T,
) -> Result<T, SnapshotError> {
    match format_of(bytes) {
        Some(found) if found == older => decode(older, bytes).map(upgrade),
        _ => decode(format, bytes),
    }
}

/// The format tag of an envelope, if it is one.
fn format_of(bytes: &[u8]) -> Option<String> {
    let header: Header = match bytes.strip_prefix(&MARKER) {
        Some(envelope) => postcard::take_from_bytes(envelope).ok()?.0,
        None => serde_json::from_slice(bytes).ok()?,
    };
    Some(header.format)
}

fn decode_binary<T: DeserializeOwned>(format: &str, envelope: &[u8]) -> Result<T, SnapshotError> {
    let (header, state): (Header, &[u8]) = postcard::take_from_bytes(envelope)
        .map_err(|e| SnapshotError::NotASnapshot(e.to_string()))?;
    if header.format != format {
        return Err(mismatch(header.format, format));
    }
    let damaged = |reason: String| SnapshotError::Damaged {
        format: format.to_string(),
        reason,
    };
    let (state, rest): (T, &[u8]) =
        postcard::take_from_bytes(state).map_err(|e| damaged(e.to_string()))?;
    if !rest.is_empty() {
        return Err(damaged(format!("{} bytes after the state", rest.len())));
    }
    Ok(state)
}

/// A snapshot of a plugin built before the binary envelope.
fn decode_json<T: DeserializeOwned>(format: &str, bytes: &[u8]) -> Result<T, SnapshotError> {
    let header: Header =
        serde_json::from_slice(bytes).map_err(|e| SnapshotError::NotASnapshot(e.to_string()))?;
    if header.format != format {
        return Err(mismatch(header.format, format));
    }

    let body: Body<T> = serde_json::from_slice(bytes).map_err(|e| SnapshotError::Damaged {
        format: format.to_string(),
        reason: e.to_string(),
    })?;
    Ok(body.state)
}

/// Tells another plugin's snapshot from another version of this plugin's,
/// by the part of the format tag before the `/`.
fn mismatch(found: String, expected: &str) -> SnapshotError {
    if plugin_of(&found) == plugin_of(expected) {
        SnapshotError::OtherVersion {
            found,
            expected: expected.to_string(),
        }
    } else {
        SnapshotError::OtherPlugin {
            plugin: plugin_of(&found).to_string(),
            found,
            expected: plugin_of(expected).to_string(),
        }
    }
}

/// The plugin a format tag belongs to: `spike` for `spike/1`.
fn plugin_of(format: &str) -> &str {
    format.split_once('/').map_or(format, |(plugin, _)| plugin)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct State {
        count: u32,
        sum: f64,
    }

    #[test]
    fn a_state_comes_back_from_its_envelope() {
        let state = State { count: 3, sum: 0.5 };

        let bytes = encode("demo/1", &state);

        assert!(bytes.starts_with(&MARKER));
        assert_eq!(decode::<State>("demo/1", &bytes), Ok(state));
    }

    #[test]
    fn a_json_snapshot_of_an_older_build_is_still_read() {
        let bytes = br#"{"format":"demo/1","state":{"count":3,"sum":0.5}}"#;

        assert_eq!(
            decode::<State>("demo/1", bytes),
            Ok(State { count: 3, sum: 0.5 })
        );
        let err = decode::<State>("spike/1", bytes).unwrap_err();
        assert!(matches!(err, SnapshotError::OtherPlugin { .. }), "{err}");
    }

    #[test]
    fn a_large_state_is_compact() {
        // A window of 1,000 ticks: eight bytes a price, at most eight for
        // a timestamp (a varint of 41 bits).
        let window: Vec<(i64, f64)> = (0..1000)
            .map(|i| (1_700_000_000_000 + i * 1000, 100.0 + i as f64 / 7.0))
            .collect();

        let bytes = encode("demo/1", &window);

        assert!(bytes.len() < 1000 * 16 + 32, "{} bytes", bytes.len());
        assert_eq!(decode::<Vec<(i64, f64)>>("demo/1", &bytes), Ok(window));
    }

    #[test]
    fn floats_come_back_bit_for_bit() {
        // Values whose shortest decimal form needs all 17 digits, and a
        // subnormal: what a decimal encoding would be most likely to round.
        let sums = [
            0.1 + 0.2,
            1.0 / 3.0,
            100.123_456_789_012_34,
            2.225_073_858_507_201e-308,
            f64::MAX,
            123_456.789_012_345_68 * 7.0,
        ];
        for sum in sums {
            let bytes = encode("demo/1", &State { count: 0, sum });
            let back: State = decode("demo/1", &bytes).unwrap();
            assert_eq!(back.sum.to_bits(), sum.to_bits(), "{sum:e}");
        }
    }

    #[test]
    fn another_plugins_snapshot_is_refused_by_name() {
        let bytes = encode("threshold/1", &());

        let err = decode::<State>("spike/1", &bytes).unwrap_err();

        assert_eq!(
            err.to_string(),
            "snapshot is from plugin 'threshold' (format 'threshold/1'), not from 'spike'"
        );
    }

    #[test]
    fn another_version_of_the_same_plugin_is_refused() {
        let bytes = encode("spike/2", &());

        let err = decode::<State>("spike/1", &bytes).unwrap_err();

        assert_eq!(
            err.to_string(),
            "snapshot format 'spike/2' is not supported: this version reads 'spike/1'"
        );
    }

    #[test]
    fn an_older_layout_is_upgraded_and_the_current_one_read_as_it_is() {
        let older = encode("demo/1", &3_u32);
        let current = encode("demo/2", &State { count: 4, sum: 0.5 });
        let upgrade = |count: u32| State { count, sum: 0.0 };

        assert_eq!(
            decode_or_upgrade("demo/2", "demo/1", &older, upgrade),
            Ok(State { count: 3, sum: 0.0 })
        );
        assert_eq!(
            decode_or_upgrade("demo/2", "demo/1", &current, upgrade),
            Ok(State { count: 4, sum: 0.5 })
        );
        let err = decode_or_upgrade("demo/2", "demo/1", &encode("demo/3", &()), upgrade);
        assert!(
            matches!(err, Err(SnapshotError::OtherVersion { .. })),
            "{err:?}"
        );
    }

    #[test]
    fn bytes_that_are_no_envelope_are_refused() {
        for bytes in [
            &b""[..],
            b"\x00\x01",
            b"[1,2]",
            br#"{"state":{}}"#,
            b"\0th\x01",
            b"\0th\x01\xff\xff\xff",
        ] {
            let err = decode::<State>("spike/1", bytes).unwrap_err();
            assert!(
                matches!(err, SnapshotError::NotASnapshot(_)),
                "{bytes:?}: {err}"
            );
        }
    }

    #[test]
    fn a_state_of_the_wrong_shape_is_damaged() {
        let json = br#"{"format":"demo/1","state":{"count":"three"}}"#.to_vec();
        let short = encode("demo/1", &3_u32);
        let mut long = encode("demo/1", &State { count: 3, sum: 0.5 });
        long.push(0);

        for bytes in [json, short, long] {
            let err = decode::<State>("demo/1", &bytes).unwrap_err();
            assert!(
                matches!(&err, SnapshotError::Damaged { format, .. } if format == "demo/1"),
                "{err}"
            );
        }
    }
}
