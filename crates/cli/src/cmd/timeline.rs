//! `mailtrail timeline`: everything that touched one mailbox, in order.

use std::process::ExitCode;

/// Arguments of `mailtrail timeline`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {}

pub(crate) fn run(_args: Args) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`mailtrail timeline` is not available in this build yet")
}
