//! What the binary writes to stderr: logs and the final error.

use std::sync::atomic::{AtomicBool, Ordering};

use tracing_subscriber::EnvFilter;

static QUIET: AtomicBool = AtomicBool::new(false);

/// Rejected records, and records read in part, that a command lists one by one on stderr before
/// it only counts the rest.
pub(crate) const SHOWN_ONE_BY_ONE: u64 = 20;

/// Says how many more `what` there were than were listed, if any.
pub(crate) fn eprint_more(count: u64, listed: u64, what: &str) {
    if count > listed {
        eprintln!("… and {} more {what}.", count - listed);
    }
}

/// Whether `-q` asked for errors only: no progress, no summaries on stderr.
pub(crate) fn quiet() -> bool {
    QUIET.load(Ordering::Relaxed)
}

/// Logs go to stderr so stdout stays clean for data; `RUST_LOG` overrides the verbosity flags.
pub(crate) fn init_logging(verbose: u8, quiet: bool) {
    QUIET.store(quiet, Ordering::Relaxed);
    let default = match (quiet, verbose) {
        (true, _) => "error",
        (false, 0) => "warn",
        (false, 1) => "info",
        (false, 2) => "debug",
        (false, _) => "trace",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .try_init();
}

/// Prints an error with its chain of causes, one per line, the way a user reads it.
pub(crate) fn print_error(err: &anyhow::Error) {
    eprintln!("error: {err}");
    for cause in err.chain().skip(1) {
        eprintln!("  caused by: {cause}");
    }
}
