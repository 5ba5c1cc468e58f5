//! `mailtrail prove`: write an inclusion proof bundle for one record.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use mailtrail_store::{OpenMode, Store};

use crate::store_location::StoreArg;

/// Arguments of `mailtrail prove`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The record id.
    record_id: String,
    /// Where to write the bundle (JSON); `-` or omitted: standard output.
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
    #[command(flatten)]
    store: StoreArg,
}

pub(crate) fn run(args: Args) -> anyhow::Result<ExitCode> {
    let dir = args.store.path()?;
    let store = Store::open(&dir, OpenMode::ReadOnly)
        .with_context(|| format!("opening {}", dir.display()))?;
    let Some(bundle) = store.prove(&args.record_id)? else {
        anyhow::bail!(
            "no record with id {:?} in {}",
            args.record_id,
            dir.display()
        );
    };
    let mut json = serde_json::to_string_pretty(&bundle)?;
    json.push('\n');
    match args.output.as_deref().filter(|p| p.as_os_str() != "-") {
        Some(path) => {
            std::fs::write(path, json).with_context(|| format!("writing {}", path.display()))?;
            eprintln!(
                "Wrote the proof that {} is leaf {} of {} leaves in tenant {}'s log to {}.",
                bundle.record_id,
                bundle.leaf_index,
                bundle.tree_size,
                bundle.tenant,
                path.display()
            );
        }
        None => std::io::stdout().lock().write_all(json.as_bytes())?,
    }
    if bundle.pruned {
        eprintln!("The record's body was pruned by retention: the bundle proves its hash only.");
    }
    Ok(ExitCode::SUCCESS)
}
