//! Cleaning: the API's strings become ticks, strictly.
//!
//! A bar's close price and volume are parsed from their strings; its time,
//! written in the zone named by the answer's `6. Time Zone` (US/Eastern),
//! becomes UTC epoch milliseconds, daylight-saving changes included. The
//! tick then passes [`RawTick::validate`] like every other tick, so the
//! reasons a price or volume is refused are those of [`crate::tick`]. A row
//! that is not a tick is returned with its reason for the caller to count
//! and log; nothing is guessed or repaired.
//!
//! Times in the hour that a fall-back change repeats are ambiguous; they
//! are read as the earlier of the two (jiff's "compatible" rule). The
//! market is closed then, so no bar has such a time.

use jiff::civil::DateTime;
use jiff::tz::TimeZone;

use super::response::{Intraday, Quote};
use crate::tick::{RawTick, Tick};

/// The format of a bar's time in an intraday answer.
const BAR_TIME_FORMAT: &str = "%Y-%m-%d %H:%M:%S";

/// Why an answer as a whole cannot be cleaned.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CleanError {
    #[error("unknown time zone '{0}' in the answer's meta data")]
    TimeZone(String),
}

/// A row that is not a tick, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Rejected {
    /// The symbol and the row's time as the API wrote it.
    pub row: String,
    pub reason: String,
}

/// The ticks of an answer, in event-time order, and the rows refused.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Cleaned {
    pub ticks: Vec<Tick>,
    pub rejected: Vec<Rejected>,
}

/// The ticks of an intraday series: one per bar, its close and volume.
pub fn intraday(series: &Intraday) -> Result<Cleaned, CleanError> {
    let zone = TimeZone::get(&series.time_zone)
        .map_err(|_| CleanError::TimeZone(series.time_zone.clone()))?;

    let mut cleaned = Cleaned::default();
    for (time, fields) in &series.bars {
        let tick = to_utc_millis(time, &zone).and_then(|ts| {
            let price = number(fields.get("4. close"), "close price")?;
            let volume = integer(fields.get("5. volume"), "volume")?;
            validate(&series.symbol, ts, price, volume)
        });
        match tick {
            Ok(tick) => cleaned.ticks.push(tick),
            Err(reason) => cleaned.rejected.push(Rejected {
                row: format!("{} {time}", series.symbol),
                reason,
            }),
        }
    }
    cleaned.ticks.sort_by_key(|t| t.ts);
    Ok(cleaned)
}

/// The tick of a quote: its price and the day's volume, at `received_ms`.
/// A quote carries only its trading day, not a time, so the time it was
/// received is the best event time there is.
pub fn quote(quote: &Quote, received_ms: i64) -> Cleaned {
    let symbol = quote.fields.get("01. symbol").cloned().unwrap_or_default();
    let tick = number(quote.fields.get("05. price"), "price").and_then(|price| {
        let volume = integer(quote.fields.get("06. volume"), "volume")?;
        validate(&symbol, received_ms, price, volume)
    });
    match tick {
        Ok(tick) => Cleaned {
            ticks: vec![tick],
            rejected: Vec::new(),
        },
        Err(reason) => Cleaned {
            ticks: Vec::new(),
            rejected: vec![Rejected {
                row: format!("{symbol} quote"),
                reason,
            }],
        },
    }
}

/// A civil time in `zone` as UTC epoch milliseconds.
pub fn to_utc_millis(time: &str, zone: &TimeZone) -> Result<i64, String> {
    let civil = DateTime::strptime(BAR_TIME_FORMAT, time)
        .map_err(|_| format!("time {time:?} is not YYYY-MM-DD HH:MM:SS"))?;
    let zoned = civil
        .to_zoned_datetime(zone.clone())
        .map_err(|e| format!("time {time:?} is out of range: {e}"))?;
    Ok(zoned.timestamp().as_millisecond())
}

fn number(field: Option<&String>, name: &str) -> Result<f64, String> {
    let text = field.ok_or_else(|| format!("{name} is missing"))?;
    text.trim()
        .parse()
        .map_err(|_| format!("{name} {text:?} is not a number"))
}

fn integer(field: Option<&String>, name: &str) -> Result<i64, String> {
    let text = field.ok_or_else(|| format!("{name} is missing"))?;
    text.trim()
        .parse()
        .map_err(|_| format!("{name} {text:?} is not a whole number"))
}

fn validate(symbol: &str, ts: i64, price: f64, volume: i64) -> Result<Tick, String> {
    RawTick {
        symbol: symbol.to_string(),
        ts,
        price,
        volume,
    }
    .validate()
    .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn series(bars: &[(&str, &[(&str, &str)])]) -> Intraday {
        Intraday {
            symbol: "GOOG".into(),
            time_zone: "US/Eastern".into(),
            bars: bars
                .iter()
                .map(|(time, fields)| {
                    let fields: BTreeMap<String, String> = fields
                        .iter()
                        .map(|(k, v)| (k.to_string(), v.to_string()))
                        .collect();
                    (time.to_string(), fields)
                })
                .collect(),
        }
    }

    fn eastern(time: &str) -> i64 {
        to_utc_millis(time, &TimeZone::get("US/Eastern").unwrap()).unwrap()
    }

    fn utc(time: &str) -> i64 {
        to_utc_millis(time, &TimeZone::UTC).unwrap()
    }

    #[test]
    fn eastern_times_become_utc_on_both_sides_of_each_dst_change() {
        // Spring forward on 2024-03-10 at 02:00 EST: UTC-5 before, UTC-4 after.
        assert_eq!(eastern("2024-03-09 09:30:00"), utc("2024-03-09 14:30:00"));
        assert_eq!(eastern("2024-03-10 01:59:00"), utc("2024-03-10 06:59:00"));
        assert_eq!(eastern("2024-03-10 03:00:00"), utc("2024-03-10 07:00:00"));
        assert_eq!(eastern("2024-03-11 09:30:00"), utc("2024-03-11 13:30:00"));
        // Fall back on 2024-11-03 at 02:00 EDT: UTC-4 before, UTC-5 after.
        assert_eq!(eastern("2024-11-01 16:00:00"), utc("2024-11-01 20:00:00"));
        assert_eq!(eastern("2024-11-03 00:30:00"), utc("2024-11-03 04:30:00"));
        assert_eq!(eastern("2024-11-03 03:00:00"), utc("2024-11-03 08:00:00"));
        assert_eq!(eastern("2024-11-04 09:30:00"), utc("2024-11-04 14:30:00"));
        // The repeated hour reads as its first pass (EDT).
        assert_eq!(eastern("2024-11-03 01:30:00"), utc("2024-11-03 05:30:00"));
    }

    #[test]
    fn the_bundled_database_knows_us_eastern_for_machines_without_zoneinfo() {
        // jiff falls back to its bundled copy (the `tzdb-bundle-always`
        // feature) when the system has none, as in slim containers.
        let bundled = jiff::tz::TimeZoneDatabase::bundled();
        let zone = bundled.get("US/Eastern").expect("US/Eastern is bundled");
        assert_eq!(
            to_utc_millis("2024-07-01 09:30:00", &zone),
            Ok(utc("2024-07-01 13:30:00"))
        );
    }

    #[test]
    fn bars_become_ticks_in_event_time_order() {
        let a: &[(&str, &str)] = &[("4. close", "135.2500"), ("5. volume", "1200")];
        let b: &[(&str, &str)] = &[("4. close", "135.5"), ("5. volume", "0")];
        let cleaned = intraday(&series(&[
            ("2024-03-08 15:59:00", b),
            ("2024-03-08 15:58:00", a),
        ]))
        .unwrap();

        assert!(cleaned.rejected.is_empty(), "{:?}", cleaned.rejected);
        let ticks: Vec<(i64, f64, u64)> = cleaned
            .ticks
            .iter()
            .map(|t| (t.ts, t.price, t.volume))
            .collect();
        assert_eq!(
            ticks,
            [
                (utc("2024-03-08 20:58:00"), 135.25, 1200),
                (utc("2024-03-08 20:59:00"), 135.5, 0)
            ]
        );
        assert!(cleaned.ticks.iter().all(|t| t.symbol == "GOOG"));
    }

    #[test]
    fn rows_that_are_not_ticks_are_rejected_with_their_reason() {
        let cases: [(&[(&str, &str)], &str); 8] = [
            (&[("5. volume", "1")], "close price is missing"),
            (
                &[("4. close", "abc"), ("5. volume", "1")],
                "close price \"abc\" is not a number",
            ),
            (
                &[("4. close", "NaN"), ("5. volume", "1")],
                "price NaN is not a finite number",
            ),
            (
                &[("4. close", "0.0000"), ("5. volume", "1")],
                "price 0 is not above zero",
            ),
            (
                &[("4. close", "-2.5"), ("5. volume", "1")],
                "price -2.5 is not above zero",
            ),
            (
                &[("4. close", "2.5"), ("5. volume", "-7")],
                "volume -7 is negative",
            ),
            (
                &[("4. close", "2.5"), ("5. volume", "1.5")],
                "volume \"1.5\" is not a whole number",
            ),
            (&[("4. close", "2.5")], "volume is missing"),
        ];
        for (fields, expected) in cases {
            let cleaned = intraday(&series(&[("2024-03-08 15:59:00", fields)])).unwrap();
            assert!(cleaned.ticks.is_empty(), "{expected}");
            assert_eq!(cleaned.rejected[0].reason, expected);
            assert_eq!(cleaned.rejected[0].row, "GOOG 2024-03-08 15:59:00");
        }

        let ok: &[(&str, &str)] = &[("4. close", "2.5"), ("5. volume", "1")];
        let cleaned = intraday(&series(&[("yesterday", ok)])).unwrap();
        assert!(cleaned.rejected[0].reason.contains("is not YYYY-MM-DD"));
    }

    #[test]
    fn an_unknown_time_zone_refuses_the_whole_answer() {
        let mut bad = series(&[]);
        bad.time_zone = "Mars/Olympus".into();
        assert_eq!(
            intraday(&bad),
            Err(CleanError::TimeZone("Mars/Olympus".into()))
        );
    }

    #[test]
    fn a_quote_becomes_one_tick_at_its_receive_time() {
        let fields = [
            ("01. symbol", "GOOG"),
            ("05. price", "134.99"),
            ("06. volume", "26405832"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let cleaned = quote(&Quote { fields }, 42);
        assert_eq!(cleaned.ticks[0].ts, 42);
        assert_eq!(cleaned.ticks[0].price, 134.99);
        assert_eq!(cleaned.ticks[0].volume, 26_405_832);
    }
}
