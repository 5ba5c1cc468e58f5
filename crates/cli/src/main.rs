//! The `mailtrail` binary: argument parsing and wiring, little logic.
//!
//! Exit status: 0 when the command succeeded and found nothing, 1 when it found something (findings
//! at or above the threshold, a rejected token, a failed verification, rejected records), 2 on error.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

// Parsing allocates a few short strings per record; mimalloc handles that churn much faster than
// the system allocator (a fifth of hunt's time went to malloc and free).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod cmd;
mod output;
mod progress;
mod sorted;
mod store_location;

/// Collect, keep, search and hunt Microsoft 365 audit logs for mail theft.
#[derive(Debug, Parser)]
#[command(name = "mailtrail", version, about, long_about = None, propagate_version = true)]
struct Cli {
    /// More log output on stderr (-v info, -vv debug, -vvv trace). `RUST_LOG` overrides it.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    verbose: u8,
    /// Only errors on stderr: no progress bars, no warnings.
    #[arg(short, long, global = true)]
    quiet: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Simulate a small tenant with an intrusion and hunt it.
    Demo(cmd::demo::Args),
    /// Read exports and print normalised events or a summary.
    Parse(cmd::parse::Args),
    /// Generate a synthetic tenant with labelled attacks.
    Simulate(cmd::simulate::Args),
    /// Run detections over exports or the store and report incidents.
    Hunt(cmd::hunt::Args),
    /// Score hunt output against simulate labels.
    Eval(cmd::eval::Args),
    /// Check Sigma rule directories.
    #[command(subcommand)]
    Rules(cmd::rules::Command),
    /// Create an evidence store and its signing key.
    Init(cmd::init::Args),
    /// Append records to the evidence store.
    Ingest(cmd::ingest::Args),
    /// Check every record and checkpoint of the store.
    Verify(cmd::verify::Args),
    /// Write an inclusion proof bundle for one record.
    Prove(cmd::prove::Args),
    /// Check an inclusion proof bundle offline.
    #[command(name = "verify-proof")]
    VerifyProof(cmd::verify_proof::Args),
    /// Delete old record bodies, keeping the tree verifiable.
    Retention(cmd::retention::Args),
    /// Search the store.
    Search(cmd::search::Args),
    /// Count stored events by field values and time.
    Stats(cmd::stats::Args),
    /// Everything that touched one mailbox, in order.
    Timeline(cmd::timeline::Args),
    /// Print a stored record byte-exact.
    Show(cmd::show::Args),
    /// Rebuild the search index from the segments.
    Reindex(cmd::reindex::Args),
    /// Inspect and strictly verify JWT access tokens.
    #[command(subcommand)]
    Token(cmd::token::Command),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    output::init_logging(cli.verbose, cli.quiet);
    let result = match cli.command {
        Command::Demo(a) => cmd::demo::run(a),
        Command::Parse(a) => cmd::parse::run(a),
        Command::Simulate(a) => cmd::simulate::run(a),
        Command::Hunt(a) => cmd::hunt::run(a),
        Command::Eval(a) => cmd::eval::run(a),
        Command::Rules(c) => cmd::rules::run(c),
        Command::Init(a) => cmd::init::run(a),
        Command::Ingest(a) => cmd::ingest::run(a),
        Command::Verify(a) => cmd::verify::run(a),
        Command::Prove(a) => cmd::prove::run(a),
        Command::VerifyProof(a) => cmd::verify_proof::run(a),
        Command::Retention(a) => cmd::retention::run(a),
        Command::Search(a) => cmd::search::run(a),
        Command::Stats(a) => cmd::stats::run(a),
        Command::Timeline(a) => cmd::timeline::run(a),
        Command::Show(a) => cmd::show::run(a),
        Command::Reindex(a) => cmd::reindex::run(a),
        Command::Token(c) => cmd::token::run(c),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            output::print_error(&err);
            ExitCode::from(2)
        }
    }
}
