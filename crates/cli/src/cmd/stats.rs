//! `mailtrail stats`: count stored events by field values and time.

use std::process::ExitCode;

/// Arguments of `mailtrail stats`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {}

pub(crate) fn run(_args: Args) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`mailtrail stats` is not available in this build yet")
}
