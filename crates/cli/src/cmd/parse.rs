//! `mailtrail parse`: read exports and print normalised events or a summary.

use std::process::ExitCode;

/// Arguments of `mailtrail parse`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {}

pub(crate) fn run(_args: Args) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`mailtrail parse` is not available in this build yet")
}
