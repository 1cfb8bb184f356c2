//! `tickhost replay`: a recording's ticks published to the input topic in
//! event-time order, paced by their event-time gaps divided by `--speed`,
//! with their recorded event times. A progress bar on stderr where it is a
//! terminal, else a line at every tenth of the way; a summary at the end.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, anyhow};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};

use tickhost::config::Config;
use tickhost::input::Format;
use tickhost::produce::clock::SystemClock;
use tickhost::produce::publish::KafkaSink;
use tickhost::produce::replay::{self, Speed};

use super::serve::tokio_runtime;

#[derive(Debug, Args)]
pub struct ReplayArgs {
    /// The recording: JSON lines, CSV, or an answer saved by `tickhost fetch`.
    file: PathBuf,

    /// How many times faster than recorded, or `max` for no pauses.
    #[arg(long, default_value = "1")]
    speed: Speed,

    /// The topic to publish to [default: the config's input topic].
    #[arg(long)]
    topic: Option<String>,

    /// Read the file as this tick format instead of guessing.
    #[arg(long, value_enum)]
    format: Option<Format>,

    /// A configuration with a `[kafka]` section.
    #[arg(long, short)]
    config: Option<PathBuf>,
}

pub fn execute(args: ReplayArgs) -> anyhow::Result<()> {
    let config = match &args.config {
        Some(path) => Config::load(path)?,
        None => Config::parse("", Path::new(".")).map_err(|e| anyhow!("{e}"))?,
    };
    let topic = args
        .topic
        .clone()
        .unwrap_or(config.kafka.topics.input.clone());
    let recording = replay::load(&args.file, args.format)?;
    for rejected in &recording.rejected {
        tracing::warn!(entry = %rejected, "not a tick; not replayed");
    }

    let bar = ProgressBar::new(recording.ticks.len() as u64);
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} ticks, {elapsed} ({eta} left)")
            .context("progress bar template")?,
    );
    let total = recording.ticks.len();
    let tenth = total.div_ceil(10).max(1);
    let progress = |n: usize| {
        if !bar.is_hidden() {
            bar.set_position(n as u64);
        } else if n.is_multiple_of(tenth) || n == total {
            eprintln!("replayed {n}/{total} tick(s)");
        }
    };
    let start = Instant::now();
    tokio_runtime()?.block_on(async {
        let mut sink = KafkaSink::new(&config.kafka, &topic)?;
        let clock = SystemClock::default();
        replay::replay(&recording.ticks, &mut sink, &clock, args.speed, progress).await
    })?;
    bar.finish_and_clear();

    eprintln!(
        "tickhost replay: {} tick(s) from '{}' to '{topic}' in {:.1}s at speed {}; {} entr(ies) not ticks",
        recording.ticks.len(),
        args.file.display(),
        start.elapsed().as_secs_f64(),
        match args.speed {
            Speed::Max => "max".to_string(),
            Speed::Times(factor) => format!("{factor}x"),
        },
        recording.rejected.len()
    );
    Ok(())
}
