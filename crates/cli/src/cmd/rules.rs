//! `mailtrail rules`: check Sigma rule directories.

use std::process::ExitCode;

/// `mailtrail rules …` subcommands.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum Command {
    /// List loaded, skipped (with the reason) and not-applicable rules.
    Check(CheckArgs),
}

/// Arguments of `mailtrail rules check`.
#[derive(Debug, clap::Args)]
pub(crate) struct CheckArgs {}

pub(crate) fn run(_command: Command) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`mailtrail rules` is not available in this build yet")
}
