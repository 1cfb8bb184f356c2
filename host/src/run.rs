//! `tickhost run`: a tick file through the chain, one output record per
//! input line, in input order.
//!
//! Lines are gathered into batches of valid ticks; a line that is not a
//! valid tick waits in its place and is written as an `invalid` record when
//! its batch is, so that the output follows the input line for line. The
//! chain is locked for one batch at a time, so that a swap (through the
//! admin API or the watcher, when `tickhost run` has them) happens between
//! two batches.

use std::io::{self, Write};
use std::sync::{Mutex, PoisonError};

use crate::chain::{Chain, ChainError};
use crate::input::{Entry, Invalid, TickReader};
use crate::record::Record;
use crate::report::Report;
use crate::tick::Tick;

/// Why a run stopped before the end of its input.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("failed to read the input: {0}")]
    Read(io::Error),
    #[error("failed to write the output: {0}")]
    Write(io::Error),
    #[error("{source} (input lines {first}-{last})")]
    Chain {
        source: ChainError,
        first: u64,
        last: u64,
    },
}

/// A line waiting for its batch to be judged.
enum Pending {
    Tick { line: u64 },
    Invalid { line: u64, invalid: Invalid },
}

/// Runs every entry of `reader` through `chain` in batches of `batch_size`
/// valid ticks, writes one record per line to `out`, and reports.
pub fn run(
    chain: &Mutex<Chain>,
    reader: TickReader,
    out: &mut dyn Write,
    batch_size: usize,
) -> Result<Report, RunError> {
    let mut report = Report::new(lock(chain).slots());
    let mut ticks: Vec<Tick> = Vec::with_capacity(batch_size);
    let mut pending: Vec<Pending> = Vec::with_capacity(batch_size);

    for entry in reader {
        let Entry { line, tick } = entry.map_err(RunError::Read)?;
        match tick {
            Ok(tick) => {
                ticks.push(tick);
                pending.push(Pending::Tick { line });
            }
            Err(invalid) => pending.push(Pending::Invalid { line, invalid }),
        }
        if ticks.len() == batch_size {
            flush(chain, &mut ticks, &mut pending, out, &mut report)?;
        }
    }
    flush(chain, &mut ticks, &mut pending, out, &mut report)?;
    out.flush().map_err(RunError::Write)?;
    Ok(report)
}

/// Judges the gathered ticks and writes every pending line's record.
fn flush(
    chain: &Mutex<Chain>,
    ticks: &mut Vec<Tick>,
    pending: &mut Vec<Pending>,
    out: &mut dyn Write,
    report: &mut Report,
) -> Result<(), RunError> {
    if pending.is_empty() {
        return Ok(());
    }
    let mut chain = lock(chain);
    if !ticks.is_empty() {
        let lines = || {
            pending.iter().map(|p| match p {
                Pending::Tick { line } | Pending::Invalid { line, .. } => *line,
            })
        };
        chain.process(ticks).map_err(|source| RunError::Chain {
            source,
            first: lines().next().unwrap_or_default(),
            last: lines().next_back().unwrap_or_default(),
        })?;
    }

    let slots = chain.slots();
    let judgement = chain.judgement();
    let mut next = 0usize;
    for item in pending.iter() {
        let record = match item {
            Pending::Tick { .. } => {
                let tick = &ticks[next];
                let verdict = &judgement.verdicts()[next];
                let annotations = judgement.annotations_of(next as u32);
                next += 1;
                report.judged(tick, verdict, annotations, slots);
                Record::judged(tick, verdict, annotations, slots)
            }
            Pending::Invalid { line, invalid } => {
                report.invalid(*line, &invalid.reason);
                Record::Invalid {
                    line: *line,
                    reason: &invalid.reason,
                    input: &invalid.text,
                }
            }
        };
        serde_json::to_writer(&mut *out, &record).map_err(|e| RunError::Write(e.into()))?;
        out.write_all(b"\n").map_err(RunError::Write)?;
    }
    ticks.clear();
    pending.clear();
    Ok(())
}

/// The chain, even if a thread panicked while holding it: a chain is left
/// consistent between batches.
fn lock(chain: &Mutex<Chain>) -> std::sync::MutexGuard<'_, Chain> {
    chain.lock().unwrap_or_else(PoisonError::into_inner)
}
