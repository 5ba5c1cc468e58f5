//! `mailtrail reindex`: rebuild the search index from the segments.

use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use mailtrail_store::{OpenMode, Store};

use crate::store_location::StoreArg;

/// Arguments of `mailtrail reindex`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "The index is derived from the store: this builds a new one from every \
    stored record beside the current one, then swaps it in. Searches keep using the old index \
    until then. Refused while an ingest is writing the index."
)]
pub(crate) struct Args {
    #[command(flatten)]
    store: StoreArg,
}

pub(crate) fn run(args: Args) -> anyhow::Result<ExitCode> {
    let dir = args.store.path()?;
    let store = Store::open(&dir, OpenMode::ReadOnly)
        .with_context(|| format!("cannot open the evidence store at {}", dir.display()))?;
    let started = Instant::now();
    let total = store.committed_len();
    let report = mailtrail_index::reindex(&store, |p| {
        tracing::info!(done = p.watermark, total, "Reindexing.");
    })?;
    let secs = started.elapsed().as_secs_f64();
    eprintln!(
        "Indexed {} records into {} in {secs:.1} s ({:.0} records/s){}{}.",
        report.indexed,
        dir.join(mailtrail_index::INDEX_DIR).display(),
        report.indexed as f64 / secs.max(1e-9),
        if report.unreadable > 0 {
            format!("; {} could not be read as events", report.unreadable)
        } else {
            String::new()
        },
        if report.pruned > 0 {
            format!("; {} had their bodies deleted by retention", report.pruned)
        } else {
            String::new()
        },
    );
    Ok(if report.unreadable > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
