//! `mailtrail reindex`: rebuild the search index from the segments.

use std::process::ExitCode;

/// Arguments of `mailtrail reindex`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {}

pub(crate) fn run(_args: Args) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`mailtrail reindex` is not available in this build yet")
}
