//! Replay: recorded ticks published again in event-time order, paced by
//! the gaps between their event times divided by a speed, with their
//! recorded event times kept.
//!
//! A recording is a tick file ([`crate::input`]: JSON lines or CSV) or an
//! Alpha Vantage answer saved by `tickhost fetch`. Lines that are not ticks
//! are counted and reported, not replayed. The [`Pacer`] works on a
//! [`Clock`], so pacing is tested in event time without waiting.

use std::path::Path;
use std::time::Duration;

use super::clean::{self, CleanError};
use super::clock::Clock;
use super::publish::{PublishError, Sink};
use super::response::{self, ApiError, Response, Unexpected};
use crate::input::{Format, TickReader};
use crate::tick::Tick;

/// The slowest speed accepted: a thousand times slower than recorded.
/// Slower speeds stretch a gap past any useful wait (a day's gap at 1e-9
/// is thirty million years, more than a `Duration` holds).
pub const MIN_SPEED: f64 = 0.001;

/// How fast to replay.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Speed {
    /// Event-time gaps divided by this factor: 1 is as recorded, 60 turns
    /// a minute into a second.
    Times(f64),
    /// No waiting at all.
    Max,
}

impl std::str::FromStr for Speed {
    type Err = String;

    fn from_str(text: &str) -> Result<Speed, String> {
        if text.eq_ignore_ascii_case("max") {
            return Ok(Speed::Max);
        }
        match text.parse::<f64>() {
            Ok(factor) if factor.is_finite() && factor >= MIN_SPEED => Ok(Speed::Times(factor)),
            Ok(factor) if factor.is_finite() && factor > 0.0 => Err(format!(
                "speed {text:?} is below the minimum of {MIN_SPEED} (a thousand times slower \
                 than recorded)"
            )),
            _ => Err(format!(
                "speed {text:?} is neither a number above zero nor 'max'"
            )),
        }
    }
}

/// Why a recording cannot be replayed.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    #[error("failed to read '{path}': {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("'{path}' is a saved error answer, not data: {source}")]
    ApiError { path: String, source: ApiError },
    #[error("'{path}': {source}")]
    Unexpected { path: String, source: Unexpected },
    #[error("'{path}': {source}")]
    Clean { path: String, source: CleanError },
    #[error(transparent)]
    Publish(#[from] PublishError),
}

/// A recording's ticks in event-time order, and what was not a tick.
#[derive(Debug, Default)]
pub struct Recording {
    pub ticks: Vec<Tick>,
    /// `line N: reason` or `SYMBOL TIME: reason`, for each refused entry.
    pub rejected: Vec<String>,
}

/// Reads a recording: an Alpha Vantage answer when the file is one JSON
/// object with `Meta Data` or `Global Quote`, otherwise a tick file in
/// `format` (or the one its name suggests). A saved quote's tick is
/// stamped with the file's modification time.
pub fn load(path: &Path, format: Option<Format>) -> Result<Recording, ReplayError> {
    let name = path.display().to_string();
    let read = |source| ReplayError::Read {
        path: name.clone(),
        source,
    };
    let text = std::fs::read_to_string(path).map_err(read)?;

    let mut recording = Recording::default();
    if format.is_none() && looks_like_answer(&text) {
        let answer = response::parse(&text).map_err(|source| ReplayError::ApiError {
            path: name.clone(),
            source,
        })?;
        let answer = answer.map_err(|source| ReplayError::Unexpected {
            path: name.clone(),
            source,
        })?;
        let cleaned = match answer {
            Response::Intraday(series) => {
                clean::intraday(&series).map_err(|source| ReplayError::Clean {
                    path: name.clone(),
                    source,
                })?
            }
            Response::Quote(quote) => {
                let modified = std::fs::metadata(path)
                    .and_then(|m| m.modified())
                    .map_err(read)?;
                let ms = jiff::Timestamp::try_from(modified)
                    .map(|t| t.as_millisecond())
                    .unwrap_or(0);
                clean::quote(&quote, ms)
            }
        };
        recording.ticks = cleaned.ticks;
        recording.rejected = cleaned
            .rejected
            .into_iter()
            .map(|r| format!("{}: {}", r.row, r.reason))
            .collect();
    } else {
        let format = format.unwrap_or_else(|| Format::of_path(path));
        let reader = TickReader::open(path, format).map_err(read)?;
        for entry in reader {
            let entry = entry.map_err(read)?;
            match entry.tick {
                Ok(tick) => recording.ticks.push(tick),
                Err(invalid) => recording
                    .rejected
                    .push(format!("line {}: {}", entry.line, invalid.reason)),
            }
        }
    }

    // Stable: ticks with equal event times keep their recorded order.
    recording.ticks.sort_by_key(|t| t.ts);
    Ok(recording)
}

fn looks_like_answer(text: &str) -> bool {
    text.trim_start().starts_with('{')
        && serde_json::from_str::<serde_json::Value>(text).is_ok_and(|v| {
            v.get("Meta Data").is_some()
                || v.get("Global Quote").is_some()
                || v.get("Note").is_some()
                || v.get("Information").is_some()
                || v.get("Error Message").is_some()
        })
}

/// Holds each tick back until its event time, scaled by the speed, has
/// come on the clock, counted from the first tick.
pub struct Pacer<'c> {
    clock: &'c dyn Clock,
    speed: Speed,
    /// The first tick's event time and the clock's time when it went out.
    origin: Option<(i64, Duration)>,
}

impl<'c> Pacer<'c> {
    pub fn new(clock: &'c dyn Clock, speed: Speed) -> Pacer<'c> {
        Pacer {
            clock,
            speed,
            origin: None,
        }
    }

    /// Waits until the tick at event time `ts` is due.
    pub async fn until(&mut self, ts: i64) {
        let Speed::Times(factor) = self.speed else {
            return;
        };
        let (first, start) = *self.origin.get_or_insert((ts, self.clock.now()));
        let gap_ms = (ts - first).max(0) as f64 / factor;
        // A `Speed` is at least MIN_SPEED, which keeps any gap of i64
        // milliseconds within a `Duration`; saturating guards the rest.
        let gap = Duration::try_from_secs_f64(gap_ms / 1e3).unwrap_or(Duration::MAX);
        let due = start.saturating_add(gap);
        let now = self.clock.now();
        if due > now {
            self.clock.sleep(due - now).await;
        }
    }
}

/// Publishes `ticks` (in event-time order) to `sink`, paced, calling
/// `progress` after each with the count so far.
pub async fn replay(
    ticks: &[Tick],
    sink: &mut dyn Sink,
    clock: &dyn Clock,
    speed: Speed,
    mut progress: impl FnMut(usize),
) -> Result<(), ReplayError> {
    let mut pacer = Pacer::new(clock, speed);
    for (n, tick) in ticks.iter().enumerate() {
        pacer.until(tick.ts).await;
        sink.send(tick).await?;
        progress(n + 1);
    }
    sink.flush().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::produce::clock::FakeClock;
    use crate::produce::publish::MemorySink;

    fn tick(symbol: &str, ts: i64) -> Tick {
        Tick {
            symbol: symbol.into(),
            ts,
            price: 1.0,
            volume: 1,
        }
    }

    #[tokio::test]
    async fn ticks_go_out_at_their_event_time_gaps_divided_by_the_speed() {
        let ticks = [
            tick("A", 0),
            tick("B", 60_000),
            tick("A", 60_000),
            tick("A", 180_000),
        ];
        let clock = FakeClock::default();
        let mut sink = MemorySink::default();

        replay(&ticks, &mut sink, &clock, Speed::Times(60.0), |_| {})
            .await
            .unwrap();

        assert_eq!(
            clock.sleeps(),
            [Duration::from_secs(1), Duration::from_secs(2)]
        );
        assert_eq!(sink.ticks, ticks, "event times and order kept");
    }

    #[tokio::test]
    async fn time_spent_publishing_counts_towards_the_next_gap() {
        let clock = FakeClock::default();
        let mut pacer = Pacer::new(&clock, Speed::Times(1.0));

        pacer.until(1_000).await;
        clock.advance(Duration::from_millis(300));
        pacer.until(2_000).await;
        clock.advance(Duration::from_millis(1_500));
        pacer.until(3_000).await;

        assert_eq!(clock.sleeps(), [Duration::from_millis(700)]);
    }

    #[tokio::test]
    async fn max_speed_never_waits() {
        let ticks = [tick("A", 0), tick("A", 86_400_000)];
        let clock = FakeClock::default();
        let mut sink = MemorySink::default();

        replay(&ticks, &mut sink, &clock, Speed::Max, |_| {})
            .await
            .unwrap();

        assert!(clock.sleeps().is_empty());
        assert_eq!(sink.ticks.len(), 2);
        assert_eq!(sink.flushes, 1);
    }

    #[test]
    fn speeds_are_read() {
        assert_eq!("max".parse(), Ok(Speed::Max));
        assert_eq!("60".parse(), Ok(Speed::Times(60.0)));
        assert!("0".parse::<Speed>().is_err());
        assert!("fast".parse::<Speed>().is_err());
        assert_eq!("0.001".parse(), Ok(Speed::Times(0.001)));
        let err = "1e-300".parse::<Speed>().unwrap_err();
        assert!(err.contains("below the minimum of 0.001"), "{err}");
        assert!("0.0009".parse::<Speed>().is_err());
    }

    #[tokio::test]
    async fn the_slowest_speed_and_the_widest_gap_wait_without_panicking() {
        let clock = FakeClock::default();
        let mut pacer = Pacer::new(&clock, Speed::Times(MIN_SPEED));

        pacer.until(0).await;
        pacer.until(i64::MAX).await;

        let sleeps = clock.sleeps();
        assert_eq!(sleeps.len(), 1);
        // i64::MAX ms / 0.001 = about 9.2e18 s, within a Duration.
        assert!(sleeps[0].as_secs() > 9_000_000_000_000_000, "{sleeps:?}");

        // A speed built past the parser's check saturates instead.
        let clock = FakeClock::default();
        let mut pacer = Pacer::new(&clock, Speed::Times(1e-300));
        pacer.until(0).await;
        pacer.until(86_400_000).await;
        assert_eq!(clock.sleeps(), [Duration::MAX]);
    }

    #[test]
    fn files_of_every_kind_load_in_event_time_order() {
        let dir = std::env::temp_dir().join(format!("tickhost-replay-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let jsonl = dir.join("t.jsonl");
        std::fs::write(
            &jsonl,
            "{\"symbol\":\"A\",\"ts\":20,\"price\":1,\"volume\":1}\nbad\n\
             {\"symbol\":\"B\",\"ts\":10,\"price\":1,\"volume\":1}\n",
        )
        .unwrap();
        let csv = dir.join("t.csv");
        std::fs::write(&csv, "symbol,ts,price,volume\nA,5,1.5,2\nA,3,1.5,2\n").unwrap();

        let loaded = load(&jsonl, None).unwrap();
        assert_eq!(
            loaded.ticks.iter().map(|t| t.ts).collect::<Vec<_>>(),
            [10, 20]
        );
        assert_eq!(loaded.rejected.len(), 1);
        assert!(loaded.rejected[0].starts_with("line 2:"));
        let loaded = load(&csv, None).unwrap();
        assert_eq!(
            loaded.ticks.iter().map(|t| t.ts).collect::<Vec<_>>(),
            [3, 5]
        );

        let answer =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("data/alphavantage/intraday-goog-1min.json");
        let loaded = load(&answer, None).unwrap();
        assert_eq!(loaded.ticks.len(), 10);
        assert!(loaded.ticks.windows(2).all(|w| w[1].ts - w[0].ts == 60_000));
        // 2024-03-08 15:50 EST is 20:50 UTC.
        assert_eq!(loaded.ticks[0].ts, 1_709_931_000_000);

        let error =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("data/alphavantage/error-invalid-key.json");
        assert!(matches!(
            load(&error, None),
            Err(ReplayError::ApiError { .. })
        ));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
