//! `mailtrail simulate`: generate a synthetic tenant with labelled attacks.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use mailtrail_sim::{DEFAULT_START, Generator, Scenario, TenantConfig};

/// Arguments of `mailtrail simulate`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Directory to write into (created if missing): ual/YYYY-MM-DD.ndjson, signins.ndjson,
    /// directory_audit.ndjson, labels.jsonl, tenant.json.
    #[arg(long)]
    out: PathBuf,
    /// Number of people in the tenant (at least 10).
    #[arg(long, default_value_t = 100)]
    users: u32,
    /// Number of days to generate.
    #[arg(long, default_value_t = 30)]
    days: u32,
    /// Seed: the same seed and options give byte-identical output.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Attack scenarios: a comma-separated list, `all` or `none`. Known: storm-0558,
    /// consent-phishing, aitm, ews-harvest, fullaccess-delegation, ediscovery-export, password-spray.
    #[arg(long, default_value = "all")]
    scenarios: String,
    /// First day, YYYY-MM-DD (UTC).
    #[arg(long, default_value = DEFAULT_START)]
    start: String,
}

pub(crate) fn run(args: Args) -> anyhow::Result<ExitCode> {
    let scenarios = Scenario::parse_list(&args.scenarios)?;
    let config = TenantConfig::builder()
        .users(args.users)
        .days(args.days)
        .seed(args.seed)
        .start(&args.start)
        .scenarios(&scenarios)
        .build()?;
    let began = Instant::now();
    let generator = Generator::new(config);
    let summary = generator
        .write_to(&args.out)
        .with_context(|| format!("simulating into {}", args.out.display()))?;
    let secs = began.elapsed().as_secs_f64();
    if !crate::output::quiet() {
        eprintln!(
            "Wrote {} records ({} audit, {} sign-ins, {} directory audits; {} throttled) and {} labelled attacks to {} in {:.1} s ({:.0} records/s).",
            summary.records(),
            summary.unified_audit,
            summary.sign_ins,
            summary.directory_audits,
            summary.throttled,
            summary.labels.len(),
            args.out.display(),
            secs,
            summary.records() as f64 / secs.max(1e-9),
        );
    }
    Ok(ExitCode::SUCCESS)
}
