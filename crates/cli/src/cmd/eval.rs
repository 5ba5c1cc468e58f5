//! `mailtrail eval`: score hunt output against simulate labels.

use std::process::ExitCode;

/// Arguments of `mailtrail eval`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {}

pub(crate) fn run(_args: Args) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`mailtrail eval` is not available in this build yet")
}
