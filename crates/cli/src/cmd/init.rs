//! `mailtrail init`: create an evidence store and its signing key.

use std::process::ExitCode;

/// Arguments of `mailtrail init`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {}

pub(crate) fn run(_args: Args) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`mailtrail init` is not available in this build yet")
}
