//! `mailtrail simulate`: generate a synthetic tenant with labelled attacks.

use std::process::ExitCode;

/// Arguments of `mailtrail simulate`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {}

pub(crate) fn run(_args: Args) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`mailtrail simulate` is not available in this build yet")
}
