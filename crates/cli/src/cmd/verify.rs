//! `mailtrail verify`: check every record and checkpoint of the store.

use std::process::ExitCode;

/// Arguments of `mailtrail verify`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {}

pub(crate) fn run(_args: Args) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`mailtrail verify` is not available in this build yet")
}
