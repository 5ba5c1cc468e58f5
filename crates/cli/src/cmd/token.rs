//! `mailtrail token`: inspect and strictly verify JWT access tokens.

use std::process::ExitCode;

/// `mailtrail token …` subcommands.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum Command {
    /// Decode a token without trusting it and flag what forgeries look like.
    Inspect(InspectArgs),
    /// Validate a token strictly, binding every signing key to its issuer.
    Verify(VerifyArgs),
}

/// Arguments of `mailtrail token inspect`.
#[derive(Debug, clap::Args)]
pub(crate) struct InspectArgs {}

/// Arguments of `mailtrail token verify`.
#[derive(Debug, clap::Args)]
pub(crate) struct VerifyArgs {}

pub(crate) fn run(_command: Command) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`mailtrail token` is not available in this build yet")
}
