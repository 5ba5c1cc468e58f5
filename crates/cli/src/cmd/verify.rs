//! `mailtrail verify`: check every record and checkpoint of the store.

use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context as _;
use mailtrail_store::{OpenMode, Store};

use crate::cmd::verify_proof::parse_key;
use crate::store_location::StoreArg;

/// Arguments of `mailtrail verify`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    store: StoreArg,
    /// Check checkpoint signatures with this verifier key (or a file holding it) instead of the
    /// one recorded in the store — use the copy `init` printed when the store itself may have
    /// been in someone else's hands.
    #[arg(long, value_name = "PUBKEY")]
    key: Option<String>,
}

pub(crate) fn run(args: Args) -> anyhow::Result<ExitCode> {
    let dir = args.store.path()?;
    let key = args.key.as_deref().map(parse_key).transpose()?;
    let store = Store::open(&dir, OpenMode::ReadOnly)
        .with_context(|| format!("opening {}", dir.display()))?;
    let started = Instant::now();
    let report = store
        .verify(key.as_ref())
        .with_context(|| format!("verifying {}", dir.display()))?;
    let secs = started.elapsed().as_secs_f64();
    for t in &report.tenants {
        println!(
            "tenant {}: {} records, {} checkpoints, newest signs {}",
            t.tenant, t.size, t.checkpoints, t.latest_checkpoint
        );
    }
    for p in &report.pruned {
        if p.first_seq == p.last_seq {
            println!(
                "pruned by retention: seq {} (hash kept, body deleted)",
                p.first_seq
            );
        } else {
            println!(
                "pruned by retention: seqs {}..={} (hashes kept, bodies deleted)",
                p.first_seq, p.last_seq
            );
        }
    }
    for n in &report.notes {
        println!("note: {n}");
    }
    for f in &report.findings {
        println!("TAMPERED: {f}");
    }
    eprintln!(
        "Checked {} records ({:.1} MB) and every checkpoint against key {} in {:.2} s ({:.0} MB/s).",
        report.records_checked,
        report.bytes_checked as f64 / 1e6,
        report.key,
        secs,
        report.bytes_checked as f64 / 1e6 / secs.max(1e-9)
    );
    if report.is_ok() {
        println!("OK: {} records verify.", report.committed);
        Ok(ExitCode::SUCCESS)
    } else {
        println!("FAILED: {} problems found.", report.findings.len());
        Ok(ExitCode::from(1))
    }
}
