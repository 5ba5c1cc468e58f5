//! `mailtrail demo`: simulate a small tenant with an intrusion and hunt it.

use std::process::ExitCode;

/// Arguments of `mailtrail demo`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {}

pub(crate) fn run(_args: Args) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`mailtrail demo` is not available in this build yet")
}
