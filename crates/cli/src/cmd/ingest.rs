//! `mailtrail ingest`: append records to the evidence store.

use std::process::ExitCode;

/// Arguments of `mailtrail ingest`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {}

pub(crate) fn run(_args: Args) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`mailtrail ingest` is not available in this build yet")
}
