//! `mailtrail parse`: read exports and print normalised events or a summary.
//!
//! Events go to stdout (one JSON object per line, or a table); rejected records and unreadable
//! inputs go to stderr as they are met, with their location; the last stderr line counts both.
//! Exit status: 0 when everything was read, 1 when records were rejected, 2 when an input could
//! not be read (or, with `--strict`, at the first problem).

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::io::{self, BufWriter, Write};
use std::ops::ControlFlow;
use std::process::ExitCode;

use mailtrail_event::{AuditEvent, Field, Timestamp};
use mailtrail_formats::{InputSummary, Inputs, ReadOptions, Reader, Record, Sink, Summary};

/// Arguments of `mailtrail parse`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Files, directories (read recursively), glob patterns, or `-` for standard input. Formats and
    /// compression (gzip, zstd, zip) are recognised from the content.
    #[arg(required = true, value_name = "PATH")]
    paths: Vec<OsString>,
    /// How to print events.
    #[arg(long, value_enum, default_value_t = Format::Jsonl)]
    format: Format,
    /// Print counts per source format, workload and operation, with first and last times, and the
    /// rejected records, instead of the events.
    #[arg(long)]
    stats: bool,
    /// Stop at the first rejected record or unreadable input, with exit status 2.
    #[arg(long)]
    strict: bool,
    /// Reject records larger than this; accepts K, M and G suffixes (powers of 1024).
    #[arg(long, value_name = "BYTES", default_value = "16MiB", value_parser = parse_size)]
    max_record_size: usize,
}

/// How `parse` prints events.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum Format {
    /// One normalised event per line, as JSON.
    Jsonl,
    /// An aligned table: time, operation, user, IP, app, client app, mailbox.
    Table,
}

/// `1048576`, `64K`, `16MiB`, `1G`.
fn parse_size(s: &str) -> Result<usize, String> {
    let t = s.trim();
    let digits = t.bytes().take_while(u8::is_ascii_digit).count();
    let (num, unit) = t.split_at(digits);
    let n: usize = num
        .parse()
        .map_err(|_| format!("{s:?} is not a size in bytes"))?;
    let shift = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 0,
        "k" | "kb" | "kib" => 10,
        "m" | "mb" | "mib" => 20,
        "g" | "gb" | "gib" => 30,
        other => return Err(format!("unknown size unit {other:?} (use K, M or G)")),
    };
    n.checked_mul(1 << shift)
        .filter(|n| *n > 0)
        .ok_or_else(|| format!("{s:?} is not a usable size"))
}

pub(crate) fn run(args: Args) -> anyhow::Result<ExitCode> {
    let expanded = Inputs::expand(&args.paths);
    for e in &expanded.errors {
        eprint_line(&format!("error: {e}"));
    }
    if args.strict && !expanded.errors.is_empty() {
        return Ok(ExitCode::from(2));
    }
    let reader = Reader::new(ReadOptions {
        max_record_size: args.max_record_size,
        strict: args.strict,
        ..ReadOptions::default()
    });
    let mut sink = ParseSink {
        out: BufWriter::with_capacity(1 << 16, io::stdout().lock()),
        format: args.format,
        stats: args.stats.then(Stats::default),
        table_header: false,
        closed: false,
        failed: None,
    };
    let summary = reader.read_all(&expanded.inputs, &mut sink);
    if let Some(stats) = sink.stats.take()
        && let Err(e) = stats.print(&mut sink.out, &summary)
    {
        sink.write_failed(e);
    }
    if let Err(e) = sink.out.flush() {
        sink.write_failed(e);
    }
    if let Some(e) = sink.failed {
        return Err(anyhow::Error::new(e).context("cannot write to standard output"));
    }

    let failed_inputs = summary
        .inputs()
        .iter()
        .filter(|i| !i.errors().is_empty())
        .count()
        + expanded.errors.len();
    let mut last = format!(
        "read {} records from {} inputs, {} rejected",
        summary.records(),
        summary.inputs().len(),
        summary.rejected()
    );
    if summary.partial() > 0 {
        last.push_str(&format!(", {} read in part", summary.partial()));
    }
    if failed_inputs > 0 {
        last.push_str(&format!(
            ", {failed_inputs} inputs not read (or not completely)"
        ));
    }
    if summary.stopped() && !sink.closed {
        last.push_str("; stopped at the first problem (--strict)");
    }
    eprint_line(&last);

    let code = if failed_inputs > 0 || (args.strict && summary.rejected() > 0) {
        2
    } else if summary.rejected() > 0 {
        1
    } else {
        0
    };
    Ok(ExitCode::from(code))
}

/// Writes a line to stderr; a closed stderr is not worth a panic.
fn eprint_line(line: &str) {
    let _ = writeln!(io::stderr().lock(), "{line}");
}

struct ParseSink<W: Write> {
    out: W,
    format: Format,
    stats: Option<Stats>,
    table_header: bool,
    /// Standard output was closed by its reader (`| head`): stop quietly.
    closed: bool,
    failed: Option<io::Error>,
}

impl<W: Write> ParseSink<W> {
    fn write_failed(&mut self, e: io::Error) {
        if e.kind() == io::ErrorKind::BrokenPipe {
            self.closed = true;
        } else if self.failed.is_none() {
            self.failed = Some(e);
        }
    }

    fn write_event(&mut self, ev: &AuditEvent) -> io::Result<()> {
        match self.format {
            Format::Jsonl => {
                serde_json::to_writer(&mut self.out, ev)?;
                self.out.write_all(b"\n")
            }
            Format::Table => {
                if !self.table_header {
                    self.table_header = true;
                    let names: Vec<&str> = TABLE.iter().map(|(f, _)| f.name()).collect();
                    write_row(&mut self.out, &names)?;
                }
                let cells: Vec<String> = TABLE.iter().map(|(field, _)| cell(*field, ev)).collect();
                let cells: Vec<&str> = cells.iter().map(String::as_str).collect();
                write_row(&mut self.out, &cells)
            }
        }
    }
}

impl<W: Write> Sink for ParseSink<W> {
    fn record(&mut self, record: Record) -> ControlFlow<()> {
        match record {
            Ok(ev) => {
                if let Some(stats) = &mut self.stats {
                    stats.add(&ev);
                } else if let Err(e) = self.write_event(&ev) {
                    self.write_failed(e);
                    return ControlFlow::Break(());
                }
            }
            Err(e) => eprint_line(&format!("rejected: {e}")),
        }
        ControlFlow::Continue(())
    }

    fn input_done(&mut self, summary: &InputSummary) -> ControlFlow<()> {
        for w in summary.warnings() {
            eprint_line(&format!("warning: {w}"));
        }
        let more = summary.partial() - summary.warnings().len() as u64;
        if more > 0 {
            eprint_line(&format!(
                "warning: … and {more} more records read in part in {}",
                summary.name()
            ));
        }
        for e in summary.errors() {
            eprint_line(&format!("error: {e}"));
        }
        ControlFlow::Continue(())
    }
}

/// The table's columns and their widths.
const TABLE: [(Field, usize); 7] = [
    (Field::Time, 19),
    (Field::Operation, 26),
    (Field::User, 30),
    (Field::ClientIp, 24),
    (Field::AppId, 36),
    (Field::ClientAppId, 36),
    (Field::Mailbox, 0),
];

fn cell(field: Field, ev: &AuditEvent) -> String {
    match field {
        // Seconds are enough to read a timeline; jsonl has the full precision.
        Field::Time => short_time(ev.time),
        _ => field
            .value(ev)
            .map_or_else(|| "-".to_owned(), |v| v.to_string()),
    }
}

fn short_time(t: Timestamp) -> String {
    t.strftime("%Y-%m-%d %H:%M:%S").to_string()
}

/// Pads every cell to its column width; a longer value is printed whole and shifts the row.
fn write_row(out: &mut impl Write, cells: &[&str]) -> io::Result<()> {
    let mut line = String::new();
    for (i, (text, (_, width))) in cells.iter().zip(TABLE.iter()).enumerate() {
        if i > 0 {
            line.push_str("  ");
        }
        line.push_str(text);
        if i + 1 < cells.len() {
            let pad = width.saturating_sub(text.chars().count());
            line.extend(std::iter::repeat_n(' ', pad));
        }
    }
    writeln!(out, "{}", line.trim_end())
}

/// Counts for `--stats`.
#[derive(Default)]
struct Stats {
    by_source: BTreeMap<String, Count>,
    by_workload: BTreeMap<String, Count>,
    by_operation: BTreeMap<String, Count>,
}

struct Count {
    events: u64,
    first: Timestamp,
    last: Timestamp,
}

impl Count {
    fn add(map: &mut BTreeMap<String, Count>, key: &str, t: Timestamp) {
        match map.get_mut(key) {
            Some(c) => {
                c.events += 1;
                c.first = c.first.min(t);
                c.last = c.last.max(t);
            }
            None => {
                map.insert(
                    key.to_owned(),
                    Count {
                        events: 1,
                        first: t,
                        last: t,
                    },
                );
            }
        }
    }
}

impl Stats {
    fn add(&mut self, ev: &AuditEvent) {
        Count::add(&mut self.by_source, ev.source.as_str(), ev.time);
        Count::add(
            &mut self.by_workload,
            ev.workload.as_deref().unwrap_or("-"),
            ev.time,
        );
        Count::add(&mut self.by_operation, &ev.operation, ev.time);
    }

    fn print(&self, out: &mut impl Write, summary: &Summary) -> io::Result<()> {
        let tables = [
            ("source format", &self.by_source),
            ("workload", &self.by_workload),
            ("operation", &self.by_operation),
        ];
        for (i, (title, map)) in tables.into_iter().enumerate() {
            if i > 0 {
                writeln!(out)?;
            }
            let width = map
                .keys()
                .map(|k| k.chars().count())
                .max()
                .unwrap_or(0)
                .max(title.len());
            writeln!(
                out,
                "{title:<width$}  {:>9}  {:<19}  {:<19}",
                "events", "first", "last"
            )?;
            for (key, c) in map {
                writeln!(
                    out,
                    "{key:<width$}  {:>9}  {:<19}  {:<19}",
                    c.events,
                    short_time(c.first),
                    short_time(c.last)
                )?;
            }
        }
        writeln!(out)?;
        writeln!(out, "rejected records: {}", summary.rejected())?;
        for input in summary.inputs() {
            for e in input.rejects() {
                writeln!(out, "  {e}")?;
            }
            let more = input
                .rejected()
                .saturating_sub(input.rejects().len() as u64);
            if more > 0 {
                writeln!(out, "  … and {more} more in {}", input.name())?;
            }
        }
        let errors: Vec<_> = summary.errors().collect();
        if !errors.is_empty() {
            writeln!(out, "inputs not read: {}", errors.len())?;
            for e in errors {
                writeln!(out, "  {e}")?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_take_binary_suffixes() {
        assert_eq!(parse_size("1048576"), Ok(1 << 20));
        assert_eq!(parse_size("64K"), Ok(64 << 10));
        assert_eq!(parse_size("16MiB"), Ok(16 << 20));
        assert_eq!(parse_size("1g"), Ok(1 << 30));
        assert!(parse_size("0").is_err());
        assert!(parse_size("12parsecs").is_err());
        assert!(parse_size("").is_err());
    }
}
