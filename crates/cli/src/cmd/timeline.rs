//! `mailtrail timeline`: everything that touched one mailbox, in order.

use std::io::Write;
use std::process::ExitCode;

use anyhow::bail;
use mailtrail_index::{SearchOptions, TimelineEntry};
use serde::Serialize;

use super::search::{Format, Table, TimeWindow, open, resolve};
use crate::store_location::StoreArg;

/// Arguments of `mailtrail timeline`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Lists, oldest first, every event on the mailbox: reads (MailItemsAccessed, \
    with folders and message ids), sends, inbox rules and permission or forwarding changes made \
    on it by anyone — who, with which application, from which address, in which session.\n\n\
    Example:\n  mailtrail timeline --mailbox ceo@contoso.com --since 30d"
)]
pub(crate) struct Args {
    /// The mailbox, by its owner's user principal name.
    #[arg(long, value_name = "UPN")]
    mailbox: String,
    #[command(flatten)]
    window: TimeWindow,
    /// At most this many events (the earliest ones); narrow with --since/--from/--to.
    #[arg(long, default_value_t = 10_000, value_name = "N")]
    limit: usize,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
    #[command(flatten)]
    store: StoreArg,
}

/// One JSON line of `--format jsonl`.
#[derive(Serialize)]
struct JsonEntry {
    seq: u64,
    #[serde(flatten)]
    entry: TimelineEntry,
}

pub(crate) fn run(args: Args) -> anyhow::Result<ExitCode> {
    if args.mailbox.trim().is_empty() {
        bail!("--mailbox needs a user principal name, e.g. --mailbox ceo@contoso.com");
    }
    let (from, to) = args.window.bounds()?;
    let opts = SearchOptions {
        from,
        to,
        limit: args.limit,
        ..SearchOptions::default()
    };
    let (store, index) = open(&args.store)?;
    let timeline = index.timeline(args.mailbox.trim(), &opts)?;
    let mut out = std::io::stdout().lock();
    let mut table = Table::new(&[
        "TIME",
        "OPERATION",
        "ACTOR",
        "APP",
        "IP",
        "SESSION",
        "DETAIL",
    ]);
    let mut csv = (args.format == Format::Csv).then(|| csv::Writer::from_writer(Vec::new()));
    if let Some(w) = csv.as_mut() {
        w.write_record([
            "seq",
            "time",
            "operation",
            "actor",
            "app",
            "ip",
            "session",
            "token",
            "detail",
            "record_id",
        ])?;
    }
    for hit in &timeline.hits {
        let Some(r) = resolve(&store, hit.seq)? else {
            continue;
        };
        let Some(ev) = &r.event else {
            let why = if r.record.pruned {
                "(body deleted by retention)"
            } else {
                "(unreadable record)"
            };
            table.row(vec![r.record.time.to_string(), why.into()]);
            continue;
        };
        let entry = TimelineEntry::describe(ev);
        let opt = |s: &Option<String>| s.clone().unwrap_or_default();
        match args.format {
            Format::Jsonl => {
                serde_json::to_writer(
                    &mut out,
                    &JsonEntry {
                        seq: hit.seq,
                        entry,
                    },
                )?;
                out.write_all(b"\n")?;
            }
            Format::Csv => {
                if let Some(w) = csv.as_mut() {
                    w.write_record([
                        hit.seq.to_string(),
                        entry.time.clone(),
                        entry.operation.clone(),
                        opt(&entry.actor),
                        opt(&entry.app),
                        opt(&entry.ip),
                        opt(&entry.session),
                        opt(&entry.token),
                        entry.detail.clone(),
                        entry.record_id.clone(),
                    ])?;
                }
            }
            Format::Table => table.row(vec![
                entry.time.clone(),
                entry.operation.clone(),
                opt(&entry.actor),
                opt(&entry.app),
                opt(&entry.ip),
                opt(&entry.session),
                entry.detail.clone(),
            ]),
        }
    }
    match (args.format, csv) {
        (Format::Table, _) => table.print(&mut out)?,
        (Format::Csv, Some(w)) => {
            out.write_all(&w.into_inner().map_err(|e| anyhow::anyhow!("{e}"))?)?
        }
        _ => {}
    }
    out.flush()?;
    if timeline.total == 0 {
        eprintln!(
            "Nothing touched {} (of {} indexed store records).",
            args.mailbox, timeline.watermark
        );
    } else if timeline.total > timeline.hits.len() as u64 {
        eprintln!(
            "{} of {} events shown (the earliest); narrow with --since, --from or --to, or raise --limit.",
            timeline.hits.len(),
            timeline.total
        );
    } else {
        eprintln!("{} events.", timeline.total);
    }
    Ok(ExitCode::SUCCESS)
}
