//! `mailtrail show`: print a stored record byte-exact.

use std::io::Write as _;
use std::process::ExitCode;

use anyhow::Context as _;
use mailtrail_store::{OpenMode, Store};

use crate::store_location::StoreArg;

/// Arguments of `mailtrail show`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The record id (`Id` of a UAL record, `id` of a sign-in or directory audit).
    record_id: String,
    #[command(flatten)]
    store: StoreArg,
}

pub(crate) fn run(args: Args) -> anyhow::Result<ExitCode> {
    let dir = args.store.path()?;
    let store = Store::open(&dir, OpenMode::ReadOnly)
        .with_context(|| format!("opening {}", dir.display()))?;
    let Some(rec) = store.get(&args.record_id)? else {
        anyhow::bail!(
            "no record with id {:?} in {}",
            args.record_id,
            dir.display()
        );
    };
    if rec.pruned {
        anyhow::bail!(
            "record {} (seq {}, tenant {} leaf {}) was pruned by retention: its body is deleted, its hash is still in the tree (`mailtrail prove {}` proves it was stored)",
            rec.record_id,
            rec.seq,
            rec.tenant,
            rec.leaf_index,
            rec.record_id
        );
    }
    let mut out = std::io::stdout().lock();
    out.write_all(&rec.raw)?;
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}
