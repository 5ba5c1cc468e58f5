//! `mailtrail ingest`: append records to the evidence store.
//!
//! Inputs are read by `mailtrail-formats`, appended to the store (which drops record ids it already
//! holds) and added to the search index under their seq. What needs neither the store nor the
//! order of records (hashing a record, building its index document) is done on the reader's worker
//! threads, in parallel; this thread appends and indexes in input order.
//!
//! Every `--commit-every` records, every 30 seconds and at the end, the store commits first
//! (records durable, checkpoints signed) and the index second, so a search never sees records the
//! store could still lose; after a crash the index catches up from the store.

use std::ffi::OsString;
use std::ops::ControlFlow;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use mailtrail_event::AuditEvent;
use mailtrail_formats::{Inputs, RawBytes, ReadOptions, Reader};
use mailtrail_index::{DocumentBuilder, Index, IndexDocument};
use mailtrail_store::{Appended, OpenMode, PreparedRecord, Store, StoreError};

use crate::output::{SHOWN_ONE_BY_ONE, eprint_more};
use crate::store_location::StoreArg;
/// Longest stretch without a commit (and so without a signed checkpoint) in a long run.
const COMMIT_INTERVAL: Duration = Duration::from_secs(30);

/// Arguments of `mailtrail ingest`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Files, directories or glob patterns of any format `parse` reads; `-` for standard input.
    #[arg(required = true, value_name = "PATH")]
    paths: Vec<OsString>,
    #[command(flatten)]
    store: StoreArg,
    /// Commit (sync, sign checkpoints, publish to search) after this many new records.
    #[arg(long, value_name = "N", default_value_t = 500_000)]
    commit_every: u64,
    /// Do not update the search index now; it catches up from the store later (`mailtrail reindex`
    /// or the next ingest).
    #[arg(long)]
    no_index: bool,
}

/// Counts of one run.
#[derive(Debug, Default)]
struct Counts {
    read: u64,
    new: u64,
    duplicates: u64,
    rejected: u64,
}

pub(crate) fn run(args: Args) -> anyhow::Result<ExitCode> {
    let dir = args.store.path()?;
    let mut store = Store::open(&dir, OpenMode::ReadWrite)
        .with_context(|| format!("opening {}", dir.display()))?;
    let mut index = if args.no_index {
        None
    } else {
        open_index(&store)
    };

    let expanded = Inputs::expand(&args.paths);
    let mut counts = Counts::default();
    for e in &expanded.errors {
        eprintln!("error: {e}");
    }
    let input_count = expanded.inputs.len();
    let mut last_commit = Instant::now();
    let mut since_commit = 0u64;
    let mut failed = None;
    // Records come to this thread in input order, prepared by the reader's own threads. A prepared
    // record is dropped once stored and indexed, so it may share its batch's bytes.
    let options = ReadOptions {
        raw: RawBytes::Shared,
        ..ReadOptions::default()
    };
    let builder = document_builder(&mut index);
    let prepare = |event: AuditEvent| Prepared {
        document: builder.as_ref().map(|b| b.build(&event)),
        record: PreparedRecord::new(event),
    };
    let reader = Reader::new(options);
    let summary = reader.read_prepared(&expanded.inputs, &prepare, &mut |record| {
        match record {
            Ok(Prepared { record, document }) => {
                counts.read += 1;
                match store.append_prepared(&record) {
                    Ok(Appended::New { seq, .. }) => {
                        counts.new += 1;
                        since_commit += 1;
                        add_to_index(&mut index, seq, document);
                    }
                    Ok(Appended::Duplicate { .. }) => counts.duplicates += 1,
                    Err(e @ StoreError::InvalidEvent { .. }) => reject(&mut counts, &e),
                    Err(e) => {
                        failed = Some(anyhow::Error::new(e).context("appending to the store"));
                        return ControlFlow::Break(());
                    }
                }
            }
            Err(e) => reject(&mut counts, &e),
        }
        if since_commit >= args.commit_every
            || (since_commit > 0 && last_commit.elapsed() >= COMMIT_INTERVAL)
        {
            if let Err(e) = commit_batch(&mut store, &mut index) {
                failed = Some(e);
                return ControlFlow::Break(());
            }
            since_commit = 0;
            last_commit = Instant::now();
        }
        ControlFlow::Continue(())
    });
    if let Some(e) = failed {
        return Err(e);
    }
    commit_batch(&mut store, &mut index)?;
    if counts.new > 0
        && let Err(e) = store.compact()
    {
        // The state is whole either way; it only keeps its free pages.
        tracing::warn!(error = %e, "Could not compact the store's state.");
    }
    let input_errors = expanded.errors.len() + summary.errors().count();
    for e in summary.errors() {
        eprintln!("error: {e}");
    }
    // Stored whole, but some of what they say is not in their events, and so not searchable.
    for w in summary.warnings().take(SHOWN_ONE_BY_ONE as usize) {
        eprintln!("warning: {w}");
    }
    eprint_more(summary.partial(), SHOWN_ONE_BY_ONE, "records read in part");
    eprint_more(counts.rejected, SHOWN_ONE_BY_ONE, "rejected records");
    let partial = match summary.partial() {
        0 => String::new(),
        n => format!(", {n} read in part"),
    };
    println!(
        "read {} records from {} inputs: {} new, {} duplicates, {} rejected{partial}; the store holds {}",
        counts.read,
        input_count,
        counts.new,
        counts.duplicates,
        counts.rejected,
        store.committed_len()
    );
    if counts.rejected > 0 || input_errors > 0 {
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}

fn reject(counts: &mut Counts, e: &dyn std::fmt::Display) {
    counts.rejected += 1;
    if counts.rejected <= SHOWN_ONE_BY_ONE {
        eprintln!("rejected: {e}");
    }
}

/// Opens the index and brings it level with the store. The index is a derived view: if it cannot
/// be used now, the store is still written and the index catches up later.
fn open_index(store: &Store) -> Option<Index> {
    let mut index = match Index::open(store.dir()) {
        Ok(i) => i,
        Err(e) => {
            tracing::warn!(error = %e, "Search index not updated; run `mailtrail reindex` later.");
            return None;
        }
    };
    match mailtrail_index::catch_up(&mut index, store) {
        Ok(_) => Some(index),
        Err(e) => {
            tracing::warn!(error = %e, "Search index not updated; run `mailtrail reindex` later.");
            None
        }
    }
}

/// A record as the reader's threads prepare it for this one.
struct Prepared {
    record: PreparedRecord,
    /// Its index document, unless ingest runs without the index.
    document: Option<IndexDocument>,
}

fn document_builder(index: &mut Option<Index>) -> Option<DocumentBuilder> {
    let builder = index.as_mut()?.document_builder();
    builder
        .inspect_err(|e| {
            tracing::warn!(error = %e, "Search index not updated; run `mailtrail reindex` later.");
            *index = None;
        })
        .ok()
}

fn add_to_index(index: &mut Option<Index>, seq: u64, document: Option<IndexDocument>) {
    if let Some(i) = index
        && let Some(document) = document
        && let Err(e) = i.add_document(seq, document)
    {
        tracing::warn!(error = %e, "Search index not updated; run `mailtrail reindex` later.");
        *index = None;
    }
}

/// Store first, index second: the index only ever publishes committed records. The index writes
/// its segments while the store syncs and signs, and publishes once the store has committed.
fn commit_batch(store: &mut Store, index: &mut Option<Index>) -> anyhow::Result<()> {
    let mut commit_store = || {
        store.commit().map(|s| {
            let len = s.committed_len;
            (s, len)
        })
    };
    let summary = match index {
        Some(i) => {
            let (summary, published) = i.commit_alongside(commit_store);
            if let Err(e) = published {
                tracing::warn!(error = %e, "Search index not updated; run `mailtrail reindex` later.");
                *index = None;
            }
            summary
        }
        None => commit_store().map(|(s, _)| s),
    }
    .context("committing to the store")?;
    if summary.new_records > 0 {
        eprintln!(
            "Committed {} new records; the store holds {} (checkpoints signed for {} tenant logs).",
            summary.new_records,
            summary.committed_len,
            summary.checkpoints.len()
        );
    }
    Ok(())
}
