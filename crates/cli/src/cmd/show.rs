//! `mailtrail show`: print a stored record byte-exact.

use std::process::ExitCode;

/// Arguments of `mailtrail show`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {}

pub(crate) fn run(_args: Args) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`mailtrail show` is not available in this build yet")
}
