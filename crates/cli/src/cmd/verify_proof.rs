//! `mailtrail verify-proof`: check an inclusion proof bundle offline.

use std::process::ExitCode;

/// Arguments of `mailtrail verify-proof`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {}

pub(crate) fn run(_args: Args) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`mailtrail verify-proof` is not available in this build yet")
}
