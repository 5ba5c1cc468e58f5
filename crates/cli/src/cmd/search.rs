//! `mailtrail search`: search the store.
//!
//! Also home of what `stats` and `timeline` share with it: the time window options, opening the
//! store with its index caught up, and plain-text tables.

use std::io::Write;
use std::process::ExitCode;

use anyhow::{Context, bail};
use mailtrail_event::{AuditEvent, Timestamp};
use mailtrail_index::{Cursor, Index, IndexError, Interval, Query, SearchOptions, catch_up_report};
use mailtrail_store::{OpenMode, Store, StoredRecord};
use serde::Serialize;

use crate::store_location::StoreArg;

/// Arguments of `mailtrail search`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  \
    mailtrail search 'op:MailItemsAccessed client_app:d3590ed6-52b3-4102-aeff-aad2292ab01c' --since 7d\n  \
    mailtrail search 'user:*@contoso.com -ip:10.0.0.0/8 NOT op:Send'\n  \
    mailtrail search '\"python-requests\" op_count:>100' --format jsonl | jq .record\n\n\
    The query language is described in docs/search.md.")]
pub(crate) struct Args {
    /// The query, e.g. `user:alice@contoso.com op:MailItemsAccessed ip:203.0.113.0/24`. Several
    /// arguments are joined with spaces; quote the query so the shell leaves `*`, `(` and `"`
    /// alone. Empty: every event.
    #[arg(value_name = "QUERY")]
    query: Vec<String>,
    #[command(flatten)]
    window: TimeWindow,
    /// Only events of this tenant (OrganizationId).
    #[arg(long, value_name = "TENANT")]
    tenant: Option<String>,
    /// Events per page.
    #[arg(long, default_value_t = 50, value_name = "N")]
    limit: usize,
    /// Page number, from 1. For stable paging while events arrive, use --after.
    #[arg(long, value_name = "N", conflicts_with = "after")]
    page: Option<usize>,
    /// Continue after this cursor (printed at the end of the previous page).
    #[arg(long, value_name = "CURSOR")]
    after: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
    #[command(flatten)]
    store: StoreArg,
}

/// How results are printed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Format {
    /// Aligned columns for reading.
    Table,
    /// One JSON object per line: the normalised event and the original record.
    Jsonl,
    /// Comma-separated values with a header row.
    Csv,
}

/// `--since`, `--from`, `--to`.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct TimeWindow {
    /// Only the last DURATION: 30m, 12h, 7d, 4w.
    #[arg(long, value_name = "DURATION", conflicts_with = "from")]
    since: Option<String>,
    /// Only events at or after this time: 2026-01-31 or 2026-01-31T08:00:00Z (UTC).
    #[arg(long, value_name = "TIME")]
    from: Option<String>,
    /// Only events before this time: 2026-02-01 or 2026-01-31T20:00:00Z (UTC).
    #[arg(long, value_name = "TIME")]
    to: Option<String>,
}

impl TimeWindow {
    /// The window as `[from, to)`.
    pub(crate) fn bounds(&self) -> anyhow::Result<(Option<Timestamp>, Option<Timestamp>)> {
        let from = match (&self.since, &self.from) {
            (Some(d), _) => {
                let width: Interval = d
                    .parse()
                    .with_context(|| format!("--since {d}: expected a duration such as 7d"))?;
                let since = Timestamp::now()
                    .as_nanosecond()
                    .saturating_sub(i128::from(width.nanos()));
                Some(Timestamp::from_nanosecond(since).unwrap_or(Timestamp::MIN))
            }
            (None, Some(t)) => Some(instant(t).with_context(|| format!("--from {t}"))?),
            (None, None) => None,
        };
        let to = match &self.to {
            Some(t) => Some(instant(t).with_context(|| format!("--to {t}"))?),
            None => None,
        };
        Ok((from, to))
    }
}

/// A time or a date (its midnight, UTC).
fn instant(s: &str) -> anyhow::Result<Timestamp> {
    if let Some(t) = mailtrail_event::parse_time(s) {
        return Ok(t);
    }
    let date: jiff::civil::Date = s.parse().map_err(|_| {
        anyhow::anyhow!("expected a date (2026-01-31) or a time (2026-01-31T08:00:00Z)")
    })?;
    Ok(date.to_zoned(jiff::tz::TimeZone::UTC)?.timestamp())
}

/// Opens the store read-only and its index, and brings the index level with the store when it
/// lags (after a crash, or when it was deleted). When another process is writing the index, the
/// answers cover what it has published, and a warning says by how much they lag.
pub(crate) fn open(store: &StoreArg) -> anyhow::Result<(Store, Index)> {
    let dir = store.path()?;
    let store = Store::open(&dir, OpenMode::ReadOnly)
        .with_context(|| format!("cannot open the evidence store at {}", dir.display()))?;
    let mut index = Index::open(&dir)?;
    let behind = store.committed_len().saturating_sub(index.watermark());
    if behind > 0 {
        tracing::info!(records = behind, "Indexing records the index lacks.");
        match catch_up_report(&mut index, &store, |_| {}) {
            Ok(report) if report.unreadable > 0 => tracing::warn!(
                unreadable = report.unreadable,
                "Some stored records could not be read as events and are not searchable."
            ),
            Ok(_) => {}
            Err(IndexError::Locked { .. }) => {
                let behind = store.committed_len().saturating_sub(index.watermark());
                tracing::warn!(
                    "The index lags the store by {behind} records while another process writes it; \
                     these results cover store records 0 to {}.",
                    index.watermark()
                );
            }
            Err(e) => return Err(e).context("cannot bring the index up to date"),
        }
    }
    Ok((store, index))
}

/// A stored record and the event read from it, for printing.
pub(crate) struct Resolved {
    pub(crate) record: StoredRecord,
    /// `None` when retention deleted the body or it cannot be read as an event.
    pub(crate) event: Option<AuditEvent>,
}

/// Fetches the record behind a hit.
pub(crate) fn resolve(store: &Store, seq: u64) -> anyhow::Result<Option<Resolved>> {
    let Some(record) = store.get_seq(seq)? else {
        tracing::warn!(
            seq,
            "The index names a record the store does not have; run `mailtrail reindex`."
        );
        return Ok(None);
    };
    let event = if record.pruned {
        None
    } else {
        mailtrail_formats::normalize(record.source, record.raw.clone()).ok()
    };
    Ok(Some(Resolved { record, event }))
}

pub(crate) fn run(args: Args) -> anyhow::Result<ExitCode> {
    let text = args.query.join(" ");
    let query = Query::parse(&text).map_err(|e| {
        anyhow::anyhow!("bad query: {e}\n  {text}\n  {:>col$}", "^", col = e.column)
    })?;
    if args.limit == 0 {
        bail!("--limit must be at least 1");
    }
    let (from, to) = args.window.bounds()?;
    let after = match &args.after {
        Some(c) => Some(c.parse::<Cursor>()?),
        None => None,
    };
    let offset = match args.page {
        Some(0) => bail!("--page counts from 1"),
        Some(p) => (p - 1).saturating_mul(args.limit),
        None => 0,
    };
    let opts = SearchOptions {
        from,
        to,
        tenant: args.tenant.clone(),
        limit: args.limit,
        offset,
        after,
    };
    let (store, index) = open(&args.store)?;
    let page = index.search(&query, &opts)?;

    let mut out = std::io::stdout().lock();
    let mut table = Table::new(&[
        "TIME",
        "OPERATION",
        "USER",
        "IP",
        "APP",
        "MAILBOX",
        "RECORD ID",
    ]);
    let mut csv = (args.format == Format::Csv).then(|| csv::Writer::from_writer(Vec::new()));
    if let Some(w) = csv.as_mut() {
        w.write_record([
            "seq",
            "time",
            "operation",
            "user",
            "ip",
            "app",
            "mailbox",
            "record_id",
        ])?;
    }
    for hit in &page.hits {
        let Some(r) = resolve(&store, hit.seq)? else {
            continue;
        };
        match args.format {
            Format::Jsonl => {
                serde_json::to_writer(&mut out, &JsonHit::new(&r))?;
                out.write_all(b"\n")?;
            }
            Format::Table | Format::Csv => {
                let row = summary(&r);
                if let Some(w) = csv.as_mut() {
                    let mut rec = vec![hit.seq.to_string()];
                    rec.extend(row);
                    w.write_record(&rec)?;
                } else {
                    table.row(row);
                }
            }
        }
    }
    match args.format {
        Format::Table => table.print(&mut out)?,
        Format::Csv => {
            if let Some(w) = csv {
                out.write_all(&w.into_inner().map_err(|e| anyhow::anyhow!("{e}"))?)?;
            }
        }
        Format::Jsonl => {}
    }
    out.flush()?;

    let first = if after.is_some() { 0 } else { offset };
    if page.hits.is_empty() {
        eprintln!(
            "No events match (of {} indexed store records).",
            page.watermark
        );
    } else {
        eprintln!(
            "{} of {} matching events{}.",
            page.hits.len(),
            page.total,
            if after.is_none() && first > 0 {
                format!(", from number {}", first + 1)
            } else {
                String::new()
            }
        );
    }
    if let Some(next) = page.next {
        eprintln!("Next page: --after {next}");
    }
    Ok(ExitCode::SUCCESS)
}

/// The table and CSV columns of one record.
fn summary(r: &Resolved) -> Vec<String> {
    let time = r.record.time.to_string();
    let Some(ev) = &r.event else {
        let why = if r.record.pruned {
            "(body deleted by retention)"
        } else {
            "(unreadable record)"
        };
        return vec![
            time,
            why.into(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            r.record.record_id.clone(),
        ];
    };
    let opt = |s: &Option<String>| s.clone().unwrap_or_default();
    vec![
        time,
        ev.operation.clone(),
        opt(&ev.user_id),
        ev.client_ip.map(|i| i.to_string()).unwrap_or_default(),
        ev.client_app_id
            .clone()
            .or_else(|| ev.app_id.clone())
            .unwrap_or_default(),
        ev.mailbox().unwrap_or_default().to_owned(),
        ev.record_id.clone(),
    ]
}

/// One JSON line of `--format jsonl`.
#[derive(Serialize)]
struct JsonHit<'a> {
    seq: u64,
    time: String,
    tenant: &'a str,
    source: &'a str,
    record_id: &'a str,
    /// The normalised event (absent when the body was pruned or cannot be read).
    event: Option<&'a AuditEvent>,
    /// The original record, byte for byte, when it is JSON (it is for every JSON-based source).
    record: Option<&'a serde_json::value::RawValue>,
    /// Set when retention deleted the record's body.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pruned: bool,
}

impl<'a> JsonHit<'a> {
    fn new(r: &'a Resolved) -> JsonHit<'a> {
        let record = std::str::from_utf8(&r.record.raw)
            .ok()
            .and_then(|s| serde_json::from_str::<&serde_json::value::RawValue>(s.trim()).ok());
        JsonHit {
            seq: r.record.seq,
            time: r.record.time.to_string(),
            tenant: &r.record.tenant,
            source: r.record.source.as_str(),
            record_id: &r.record.record_id,
            event: r.event.as_ref(),
            record,
            pruned: r.record.pruned,
        }
    }
}

/// Aligned columns, each as wide as its widest cell (cells longer than a screen's worth are cut).
pub(crate) struct Table {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

/// Longest cell shown in a table; `--format jsonl` shows everything.
const MAX_CELL: usize = 60;

impl Table {
    pub(crate) fn new(header: &[&str]) -> Table {
        Table {
            header: header.iter().map(|h| (*h).to_owned()).collect(),
            rows: Vec::new(),
        }
    }

    pub(crate) fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    pub(crate) fn print(&self, out: &mut impl Write) -> std::io::Result<()> {
        let cut = |s: &str| -> String {
            let s = s.replace(['\n', '\r', '\t'], " ");
            if s.chars().count() > MAX_CELL {
                let mut c: String = s.chars().take(MAX_CELL - 1).collect();
                c.push('…');
                c
            } else {
                s
            }
        };
        let rows: Vec<Vec<String>> = std::iter::once(&self.header)
            .chain(&self.rows)
            .map(|r| r.iter().map(|c| cut(c)).collect())
            .collect();
        let mut widths = vec![0; self.header.len()];
        for r in &rows {
            for (w, c) in widths.iter_mut().zip(r) {
                *w = (*w).max(c.chars().count());
            }
        }
        for r in &rows {
            let mut line = String::new();
            for (i, (c, w)) in r.iter().zip(&widths).enumerate() {
                if i + 1 == r.len() {
                    line.push_str(c);
                } else {
                    line.push_str(c);
                    line.extend(std::iter::repeat_n(' ', w - c.chars().count() + 2));
                }
            }
            writeln!(out, "{}", line.trim_end())?;
        }
        Ok(())
    }
}
