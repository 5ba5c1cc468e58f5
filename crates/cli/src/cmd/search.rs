//! `mailtrail search`: search the store.

use std::process::ExitCode;

/// Arguments of `mailtrail search`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {}

pub(crate) fn run(_args: Args) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`mailtrail search` is not available in this build yet")
}
