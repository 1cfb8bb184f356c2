//! Tick files: JSON lines or CSV with a header, read one line at a time.
//!
//! Every line becomes an [`Entry`]: a validated tick, or the reason it is
//! not one, with its line number and text, so that a bad line is reported
//! and the rest of the file still runs. Only an unreadable file (or a CSV
//! file without the columns a tick needs) stops a run.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;

use crate::tick::{RawTick, Tick, TickError};

/// The format of a tick file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// One JSON object per line: `{"symbol","ts","price","volume"}`.
    Jsonl,
    /// A header line naming `symbol,ts,price,volume`, then one tick a line.
    Csv,
}

impl Format {
    /// The format a file's name suggests: CSV for `.csv`, else JSON lines.
    pub fn of_path(path: &Path) -> Format {
        match path.extension().and_then(|e| e.to_str()) {
            Some(ext) if ext.eq_ignore_ascii_case("csv") => Format::Csv,
            _ => Format::Jsonl,
        }
    }
}

/// One line of a tick file.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// The line number, counting from 1.
    pub line: u64,
    pub tick: Result<Tick, Invalid>,
}

/// A line that is not a valid tick.
#[derive(Debug, Clone, PartialEq)]
pub struct Invalid {
    pub reason: String,
    /// The line as it was read (without its line ending).
    pub text: String,
}

/// Reads the entries of a tick file, in file order.
pub struct TickReader {
    inner: Inner,
}

enum Inner {
    Jsonl {
        lines: io::Lines<BufReader<Box<dyn Read>>>,
        line: u64,
    },
    Csv {
        records: csv::StringRecordsIntoIter<Box<dyn Read>>,
        headers: csv::StringRecord,
    },
}

impl TickReader {
    /// Opens `path` in the given format.
    pub fn open(path: &Path, format: Format) -> io::Result<TickReader> {
        let file = File::open(path)?;
        TickReader::new(Box::new(file), format)
    }

    /// Reads ticks from any reader.
    pub fn new(reader: Box<dyn Read>, format: Format) -> io::Result<TickReader> {
        let inner = match format {
            Format::Jsonl => Inner::Jsonl {
                lines: BufReader::new(reader).lines(),
                line: 0,
            },
            Format::Csv => {
                let mut csv = csv::ReaderBuilder::new()
                    .flexible(true)
                    .trim(csv::Trim::All)
                    .from_reader(reader);
                let headers = csv.headers().map_err(io::Error::other)?.clone();
                for column in ["symbol", "ts", "price", "volume"] {
                    if !headers.iter().any(|h| h == column) {
                        return Err(io::Error::new(
                            io::ErrorKind::InvalidData,
                            format!("the CSV header has no column '{column}'"),
                        ));
                    }
                }
                Inner::Csv {
                    records: csv.into_records(),
                    headers,
                }
            }
        };
        Ok(TickReader { inner })
    }
}

impl Iterator for TickReader {
    type Item = io::Result<Entry>;

    fn next(&mut self) -> Option<io::Result<Entry>> {
        match &mut self.inner {
            Inner::Jsonl { lines, line } => loop {
                let text = match lines.next()? {
                    Ok(text) => text,
                    Err(e) => return Some(Err(e)),
                };
                *line += 1;
                // Blank lines separate nothing in JSON lines; skip them.
                if text.trim().is_empty() {
                    continue;
                }
                let tick = Tick::parse_json(text.as_bytes()).map_err(|e| Invalid {
                    reason: e.to_string(),
                    text,
                });
                return Some(Ok(Entry { line: *line, tick }));
            },
            Inner::Csv { records, headers } => {
                let record = match records.next()? {
                    Ok(record) => record,
                    Err(e) => return Some(Err(io::Error::other(e))),
                };
                let line = record.position().map_or(0, |p| p.line());
                let tick = record
                    .deserialize::<RawTick>(Some(headers))
                    .map_err(|e| TickError::Malformed(e.to_string()))
                    .and_then(RawTick::validate)
                    .map_err(|e| Invalid {
                        reason: e.to_string(),
                        text: record.iter().collect::<Vec<_>>().join(","),
                    });
                Some(Ok(Entry { line, tick }))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &'static str, format: Format) -> Vec<Entry> {
        TickReader::new(Box::new(text.as_bytes()), format)
            .unwrap()
            .collect::<io::Result<_>>()
            .unwrap()
    }

    #[test]
    fn json_lines_keep_their_line_numbers_and_skip_blanks() {
        let text = "{\"symbol\":\"GOOG\",\"ts\":1,\"price\":2.5,\"volume\":3}\n\nnot json\n";

        let entries = read(text, Format::Jsonl);

        assert_eq!(entries.len(), 2);
        assert_eq!(entries[0].line, 1);
        assert_eq!(entries[0].tick.as_ref().unwrap().price, 2.5);
        assert_eq!(entries[1].line, 3);
        let invalid = entries[1].tick.as_ref().unwrap_err();
        assert_eq!(invalid.text, "not json");
        assert!(
            invalid.reason.starts_with("not a tick"),
            "{}",
            invalid.reason
        );
    }

    #[test]
    fn csv_rows_are_validated_like_json() {
        let text = "symbol,ts,price,volume\nGOOG,1,2.5,3\nGOOG,2,-1,3\nGOOG,x,1,1\nGOOG,3\n";

        let entries = read(text, Format::Csv);

        assert_eq!(entries.len(), 4);
        assert_eq!(entries[0].line, 2);
        assert_eq!(entries[0].tick.as_ref().unwrap().volume, 3);
        let reasons: Vec<&str> = entries[1..]
            .iter()
            .map(|e| e.tick.as_ref().unwrap_err().reason.as_str())
            .collect();
        assert_eq!(reasons[0], "price -1 is not above zero");
        assert!(reasons[1].starts_with("not a tick"), "{}", reasons[1]);
        assert!(reasons[2].starts_with("not a tick"), "{}", reasons[2]);
        assert_eq!(entries[3].tick.as_ref().unwrap_err().text, "GOOG,3");
    }

    #[test]
    fn csv_without_a_tick_header_is_refused() {
        let err = TickReader::new(Box::new(&b"a,b\n1,2\n"[..]), Format::Csv)
            .err()
            .unwrap();

        assert_eq!(err.to_string(), "the CSV header has no column 'symbol'");
    }

    #[test]
    fn the_format_follows_the_extension() {
        assert_eq!(Format::of_path(Path::new("x/ticks.CSV")), Format::Csv);
        assert_eq!(Format::of_path(Path::new("ticks.jsonl")), Format::Jsonl);
        assert_eq!(Format::of_path(Path::new("ticks")), Format::Jsonl);
    }
}
