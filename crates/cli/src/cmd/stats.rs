//! `mailtrail stats`: count stored events by field values and time.

use std::collections::HashMap;
use std::io::Write;
use std::process::ExitCode;

use anyhow::bail;
use mailtrail_index::{Interval, Query, SearchField, SearchOptions, StatsRequest, StatsRow};

use super::search::{Format, Table, TimeWindow, open};
use crate::store_location::StoreArg;

/// Arguments of `mailtrail stats`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  \
    mailtrail stats --by client_app --interval 1d op:MailItemsAccessed   (which apps read mail, per day)\n  \
    mailtrail stats --by user,ip --since 7d 'op:MailItemsAccessed access_type:Bind'\n  \
    mailtrail stats --interval 1h --since 2d                             (events per hour)")]
pub(crate) struct Args {
    /// Fields to count by, comma-separated (up to four): user, op, client_app, app, ip,
    /// mailbox, workload, record_type, result, user_agent, country, …
    #[arg(long, value_name = "FIELD[,FIELD]", value_delimiter = ',')]
    by: Vec<String>,
    /// Also count per time bucket of this width (15m, 1h, 1d, 1w), aligned on UTC midnight.
    #[arg(long, value_name = "WIDTH")]
    interval: Option<String>,
    /// Only events matching this query (same language as `search`). Empty: every event.
    #[arg(value_name = "QUERY")]
    query: Vec<String>,
    #[command(flatten)]
    window: TimeWindow,
    /// Only events of this tenant (OrganizationId).
    #[arg(long, value_name = "TENANT")]
    tenant: Option<String>,
    /// Show only the N largest groups (per time bucket with --interval).
    #[arg(long, value_name = "N")]
    top: Option<usize>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
    #[command(flatten)]
    store: StoreArg,
}

pub(crate) fn run(args: Args) -> anyhow::Result<ExitCode> {
    let text = args.query.join(" ");
    let query = Query::parse(&text).map_err(|e| {
        anyhow::anyhow!("bad query: {e}\n  {text}\n  {:>col$}", "^", col = e.column)
    })?;
    let mut by = Vec::new();
    for name in args.by.iter().map(|s| s.trim()).filter(|s| !s.is_empty()) {
        match SearchField::from_name(name) {
            Some(f) => by.push(f),
            None => bail!(
                "--by {name}: no such field (see `mailtrail search --help` and docs/search.md)"
            ),
        }
    }
    let interval = match &args.interval {
        Some(i) => Some(i.parse::<Interval>()?),
        None => None,
    };
    if by.is_empty() && interval.is_none() {
        bail!("say what to count by: --by FIELD[,FIELD] and/or --interval WIDTH");
    }
    let (from, to) = args.window.bounds()?;
    let opts = SearchOptions {
        from,
        to,
        tenant: args.tenant.clone(),
        ..SearchOptions::default()
    };
    let (_store, index) = open(&args.store)?;
    let stats = index.stats(
        &query,
        &opts,
        &StatsRequest {
            by: by.clone(),
            interval,
        },
    )?;
    let rows = top_rows(&stats.rows, args.top);

    let mut header: Vec<String> = Vec::new();
    if interval.is_some() {
        header.push("bucket".into());
    }
    header.extend(by.iter().map(|f| f.name().to_owned()));
    header.push("count".into());
    let cells = |r: &StatsRow| -> Vec<String> {
        let mut c = Vec::new();
        if let Some(b) = r.bucket {
            c.push(b.to_string());
        }
        c.extend(
            r.values
                .iter()
                .map(|v| v.clone().unwrap_or_else(|| "-".into())),
        );
        c.push(r.count.to_string());
        c
    };
    let mut out = std::io::stdout().lock();
    match args.format {
        Format::Table => {
            let upper: Vec<String> = header.iter().map(|h| h.to_uppercase()).collect();
            let mut table = Table::new(&upper.iter().map(String::as_str).collect::<Vec<_>>());
            for r in &rows {
                table.row(cells(r));
            }
            table.print(&mut out)?;
        }
        Format::Csv => {
            let mut w = csv::Writer::from_writer(&mut out);
            w.write_record(&header)?;
            for r in &rows {
                w.write_record(cells(r))?;
            }
            w.flush()?;
        }
        Format::Jsonl => {
            for r in &rows {
                let mut obj = serde_json::Map::new();
                if let Some(b) = r.bucket {
                    obj.insert("bucket".into(), b.to_string().into());
                }
                for (f, v) in by.iter().zip(&r.values) {
                    obj.insert(
                        f.name().into(),
                        v.clone().map_or(serde_json::Value::Null, Into::into),
                    );
                }
                obj.insert("count".into(), r.count.into());
                serde_json::to_writer(&mut out, &obj)?;
                out.write_all(b"\n")?;
            }
        }
    }
    out.flush()?;
    eprintln!(
        "{} events in {} groups{}.",
        stats.total,
        stats.rows.len(),
        if rows.len() < stats.rows.len() {
            format!(", {} shown", rows.len())
        } else {
            String::new()
        }
    );
    Ok(ExitCode::SUCCESS)
}

/// The `top` largest rows of each bucket, keeping the rows' order.
fn top_rows(rows: &[StatsRow], top: Option<usize>) -> Vec<StatsRow> {
    let Some(top) = top else { return rows.to_vec() };
    let mut seen: HashMap<Option<mailtrail_event::Timestamp>, usize> = HashMap::new();
    rows.iter()
        .filter(|r| {
            let n = seen.entry(r.bucket).or_default();
            *n += 1;
            *n <= top
        })
        .cloned()
        .collect()
}
