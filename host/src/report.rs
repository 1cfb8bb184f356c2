//! The end-of-run report, in the spirit of the prototype's console output:
//! per filter what it ignored and why, the moving average and the last
//! processed price and volume per symbol, and counts that add up to the
//! input.

use std::collections::BTreeMap;
use std::fmt;

use crate::chain::Slot;
use crate::tick::Tick;
use crate::verdict::{Annotated, Verdict};

/// How many dropped ticks each slot lists by name; the rest are counted.
pub const EXAMPLES_PER_SLOT: usize = 5;

/// What a run did, gathered tick by tick.
#[derive(Debug, Default)]
pub struct Report {
    read: u64,
    kept: u64,
    invalid: Vec<(u64, String)>,
    slots: Vec<SlotReport>,
    symbols: BTreeMap<String, SymbolReport>,
}

#[derive(Debug, Default)]
struct SlotReport {
    title: String,
    dropped: u64,
    /// Drop counts by the kind of reason (its text up to the first number).
    kinds: BTreeMap<String, u64>,
    examples: Vec<String>,
}

#[derive(Debug, Default)]
struct SymbolReport {
    kept: u64,
    volume: u128,
    last: Option<(i64, f64, u64)>,
    /// The last value of each annotation, by name.
    annotations: BTreeMap<String, f64>,
}

impl Report {
    /// A report for a chain of these slots.
    pub fn new(slots: &[Slot]) -> Report {
        let slots = slots
            .iter()
            .map(|slot| SlotReport {
                title: format!(
                    "{} {} (slot '{}')",
                    slot.plugin().name(),
                    slot.plugin().info().version,
                    slot.name()
                ),
                ..SlotReport::default()
            })
            .collect();
        Report {
            slots,
            ..Report::default()
        }
    }

    /// Counts a line that was not a valid tick.
    pub fn invalid(&mut self, line: u64, reason: &str) {
        self.read += 1;
        self.invalid.push((line, reason.to_string()));
    }

    /// Counts a tick the chain judged.
    pub fn judged(
        &mut self,
        tick: &Tick,
        verdict: &Verdict,
        annotations: &[Annotated],
        slots: &[Slot],
    ) {
        self.read += 1;
        match verdict {
            Verdict::Kept => {
                self.kept += 1;
                let symbol = match self.symbols.get_mut(&tick.symbol) {
                    Some(symbol) => symbol,
                    None => self.symbols.entry(tick.symbol.clone()).or_default(),
                };
                symbol.kept += 1;
                symbol.volume += u128::from(tick.volume);
                symbol.last = Some((tick.ts, tick.price, tick.volume));
                for annotation in annotations {
                    let names = slots[annotation.slot].plugin().annotations();
                    let name = &names[annotation.key as usize];
                    match symbol.annotations.get_mut(name) {
                        Some(value) => *value = annotation.value,
                        None => {
                            symbol.annotations.insert(name.clone(), annotation.value);
                        }
                    }
                }
            }
            Verdict::Dropped { slot, reason } => {
                let report = &mut self.slots[*slot];
                report.dropped += 1;
                *report.kinds.entry(reason_kind(reason)).or_default() += 1;
                if report.examples.len() < EXAMPLES_PER_SLOT {
                    report.examples.push(format!(
                        "{} {} price {} volume {}: {reason}",
                        Time(tick.ts),
                        tick.symbol,
                        tick.price,
                        tick.volume
                    ));
                }
            }
        }
    }

    /// The number of slots the report was made for.
    pub fn slots_len(&self) -> usize {
        self.slots.len()
    }

    /// Ticks (valid or not) read.
    pub fn read(&self) -> u64 {
        self.read
    }

    /// Ticks every slot kept.
    pub fn kept(&self) -> u64 {
        self.kept
    }

    /// Ticks some slot dropped.
    pub fn dropped(&self) -> u64 {
        self.slots.iter().map(|s| s.dropped).sum()
    }

    /// Lines that were not valid ticks.
    pub fn invalid_count(&self) -> u64 {
        self.invalid.len() as u64
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "invalid input: {} line(s)", self.invalid.len())?;
        for (line, reason) in self.invalid.iter().take(EXAMPLES_PER_SLOT) {
            writeln!(f, "    line {line}: {reason}")?;
        }
        more(f, self.invalid.len())?;

        for slot in &self.slots {
            writeln!(f, "{}: ignored {}", slot.title, slot.dropped)?;
            for (kind, count) in &slot.kinds {
                writeln!(f, "  {count:>6} x {kind}...")?;
            }
            for example in &slot.examples {
                writeln!(f, "    {example}")?;
            }
            more(f, slot.dropped as usize)?;
        }

        writeln!(f, "processed ticks per symbol:")?;
        for (symbol, report) in &self.symbols {
            write!(
                f,
                "  {symbol}: kept {}, volume {}",
                report.kept, report.volume
            )?;
            if let Some((ts, price, volume)) = report.last {
                write!(f, "; last at {}: price {price} volume {volume}", Time(ts))?;
            }
            for (name, value) in &report.annotations {
                write!(f, "; {name} {value:.4}")?;
            }
            writeln!(f)?;
        }

        writeln!(
            f,
            "counts: {} read = {} kept + {} dropped + {} invalid",
            self.read,
            self.kept,
            self.dropped(),
            self.invalid.len()
        )
    }
}

fn more(f: &mut fmt::Formatter<'_>, total: usize) -> fmt::Result {
    if total > EXAMPLES_PER_SLOT {
        writeln!(f, "    ... and {} more", total - EXAMPLES_PER_SLOT)?;
    }
    Ok(())
}

/// The kind of a drop reason: its text up to the first digit or sign, so
/// that "volume 950,000 below 1,000,000" and "volume 12 below 1,000,000"
/// count together.
fn reason_kind(reason: &str) -> String {
    let end = reason
        .find(|c: char| c.is_ascii_digit() || c == '+' || c == '-')
        .unwrap_or(reason.len());
    reason[..end].trim_end().to_string()
}

/// An event time shown as RFC 3339 in UTC.
struct Time(i64);

impl fmt::Display for Time {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match jiff::Timestamp::from_millisecond(self.0) {
            Ok(time) => write!(f, "{time}"),
            Err(_) => write!(f, "{}ms", self.0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_of_one_kind_count_together() {
        assert_eq!(reason_kind("volume 950,000 below 1,000,000"), "volume");
        assert_eq!(
            reason_kind("price change of +3.05% over the last 10m exceeds 2%"),
            "price change of"
        );
        assert_eq!(reason_kind("out of order by 2m"), "out of order by");
        assert_eq!(reason_kind("no digits"), "no digits");
    }

    #[test]
    fn times_are_shown_in_utc() {
        assert_eq!(Time(1_709_735_400_000).to_string(), "2024-03-06T14:30:00Z");
    }
}
