//! `mailtrail prove`: write an inclusion proof bundle for one record.

use std::process::ExitCode;

/// Arguments of `mailtrail prove`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {}

pub(crate) fn run(_args: Args) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`mailtrail prove` is not available in this build yet")
}
