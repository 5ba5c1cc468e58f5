//! `mailtrail hunt`: run detections over exports or the store and report incidents.

use std::process::ExitCode;

/// Arguments of `mailtrail hunt`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {}

pub(crate) fn run(_args: Args) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`mailtrail hunt` is not available in this build yet")
}
