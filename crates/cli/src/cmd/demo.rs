//! `mailtrail demo`: simulate a tenant with hidden intrusions, hunt it, and score the result.
//!
//! The quickest way to see what mailtrail does: no exports needed, a minute on a laptop.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use mailtrail_report::Format;
use mailtrail_sim::{Generator, Scenario, TenantConfig};

use super::{eval, hunt};

/// Arguments of `mailtrail demo`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// People in the simulated tenant.
    #[arg(long, default_value_t = 60)]
    users: u32,
    /// Days of activity (the first 14 are the baseline).
    #[arg(long, default_value_t = 30)]
    days: u32,
    /// Seed of the simulation.
    #[arg(long, default_value_t = 2023)]
    seed: u64,
    /// Keep the generated exports in DIR (default: a temporary directory, removed afterwards).
    #[arg(long, value_name = "DIR")]
    keep: Option<PathBuf>,
    /// Also write the self-contained HTML report to FILE.
    #[arg(long, value_name = "FILE")]
    html: Option<PathBuf>,
}

pub(crate) fn run(args: Args) -> anyhow::Result<ExitCode> {
    let temp;
    let dir = match &args.keep {
        Some(d) => d.clone(),
        None => {
            temp = tempfile::tempdir().context("creating a temporary directory")?;
            temp.path().to_owned()
        }
    };
    let config = TenantConfig::builder()
        .users(args.users)
        .days(args.days)
        .seed(args.seed)
        .scenarios(&Scenario::ALL)
        .build()?;
    let summary = Generator::new(config)
        .write_to(&dir)
        .with_context(|| format!("simulating into {}", dir.display()))?;
    eprintln!(
        "Simulated a tenant of {} people over {} days: {} records with {} attacks hidden among them.\n\
         Hunting them as an investigator would: mailtrail hunt {}/ual --signins {}/signins.ndjson {}/directory_audit.ndjson\n",
        args.users,
        args.days,
        summary.records(),
        summary.labels.len(),
        dir.display(),
        dir.display(),
        dir.display(),
    );
    let report = hunt::execute(&hunt::Plan {
        source: hunt::Source::Files(
            ["ual", "signins.ndjson", "directory_audit.ndjson"]
                .iter()
                .map(|p| dir.join(p).to_string_lossy().into_owned())
                .collect(),
        ),
        baseline: Vec::new(),
        baseline_days: 14,
        sigma_dirs: Vec::new(),
        builtin_rules: true,
        ioc: Vec::new(),
        strict: false,
        sort_memory: 256,
    })?;
    hunt::write_report(&report, Format::Table, None)?;
    if let Some(path) = &args.html {
        hunt::write_report(&report, Format::Html, Some(path))?;
        eprintln!("HTML report written to {}", path.display());
    }

    // The simulator knows where it hid the attacks; say how the hunt did against that truth.
    let labels = eval::read_labels(&dir.join("labels.jsonl"))?;
    let user_days = f64::from(args.users) * f64::from(args.days);
    let score = eval::score(&report, &labels, Some(user_days), 1.0);
    println!("\nAgainst the attacks the simulator hid:");
    eval::render(&score, &mut std::io::stdout().lock())?;
    if args.keep.is_some() {
        eprintln!("\nThe exports are in {}.", dir.display());
    }
    Ok(ExitCode::SUCCESS)
}
