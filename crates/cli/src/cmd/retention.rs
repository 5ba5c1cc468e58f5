//! `mailtrail retention`: delete old record bodies, keeping the tree verifiable.

use std::process::ExitCode;

/// Arguments of `mailtrail retention`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {}

pub(crate) fn run(_args: Args) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`mailtrail retention` is not available in this build yet")
}
