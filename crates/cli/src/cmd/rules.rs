//! `mailtrail rules`: check Sigma rule directories.
//!
//! `rules check` loads rules exactly as `hunt --sigma` does and says what became of each: loaded
//! (and which events it applies to), skipped (with the file and the reason) or not applicable (with
//! its logsource). Exit status: 0 when every applicable rule loaded, 1 when some were skipped, 2
//! when the rules could not be read at all.

use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use mailtrail_detect::sigma::{LoadReport, SigmaRules};

/// `mailtrail rules …` subcommands.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum Command {
    /// List loaded, skipped (with the reason) and not-applicable rules.
    Check(CheckArgs),
}

/// Arguments of `mailtrail rules check`.
#[derive(Debug, clap::Args)]
pub(crate) struct CheckArgs {
    /// Sigma rule directories (searched recursively for *.yml and *.yaml) or rule files. With
    /// none, the built-in pack is checked.
    #[arg(value_name = "DIR")]
    dirs: Vec<PathBuf>,
    /// Check the built-in pack too when directories are given.
    #[arg(long)]
    builtin: bool,
    /// List every not-applicable rule, not just the count per logsource.
    #[arg(long)]
    all: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
}

/// How `rules check` prints its report.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum Format {
    /// For people.
    Text,
    /// One JSON document with every rule.
    Json,
}

pub(crate) fn run(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Check(args) => check(args),
    }
}

fn check(args: CheckArgs) -> anyhow::Result<ExitCode> {
    let builtin = args.builtin || args.dirs.is_empty();
    let (_rules, report) =
        SigmaRules::load(builtin, &args.dirs).context("could not load Sigma rules")?;
    let code = if report.all_loaded() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    };
    let mut out = io::stdout().lock();
    let written = match args.format {
        Format::Json => writeln!(out, "{}", report.to_json()),
        Format::Text => write_text(&mut out, &report, args.all),
    };
    match written.and_then(|()| out.flush()) {
        // A closed pipe (`| head`) is the reader's choice, not a failure.
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(code),
        other => other.map(|()| code).context("could not write the report"),
    }
}

fn write_text(out: &mut impl Write, report: &LoadReport, all: bool) -> io::Result<()> {
    if !report.loaded().is_empty() {
        writeln!(out, "Loaded ({}):", report.loaded().len())?;
        for r in report.loaded() {
            writeln!(
                out,
                "  {:<13} {:<11} {:<36} {}",
                r.level.as_str(),
                r.kind.as_str(),
                r.applies_to,
                r.title
            )?;
            writeln!(out, "  {:<13} {}  {}", "", r.id, r.file)?;
            if !r.record_fields.is_empty() {
                writeln!(
                    out,
                    "  {:<13} reads from the original record: {}",
                    "",
                    r.record_fields.join(", ")
                )?;
            }
            if r.keywords {
                writeln!(
                    out,
                    "  {:<13} searches every string of the original record (keywords)",
                    ""
                )?;
            }
        }
        writeln!(out)?;
    }
    if !report.skipped().is_empty() {
        writeln!(out, "Skipped ({}):", report.skipped().len())?;
        for r in report.skipped() {
            let title = r.title.as_deref().unwrap_or("(untitled)");
            let id =
                r.id.as_deref()
                    .map(|id| format!(" [{id}]"))
                    .unwrap_or_default();
            writeln!(out, "  {}: {title}{id}", r.file)?;
            writeln!(out, "    {}", r.reason)?;
        }
        writeln!(out)?;
    }
    if !report.not_applicable().is_empty() {
        writeln!(out, "Not applicable ({}):", report.not_applicable().len())?;
        if all {
            for r in report.not_applicable() {
                writeln!(out, "  {}: {} ({})", r.file, r.title, r.logsource)?;
                writeln!(out, "    {}", r.reason)?;
            }
        } else {
            for (logsource, count) in report.not_applicable_by_logsource() {
                writeln!(out, "  {count:>6}  {logsource}")?;
            }
            writeln!(out, "  (--all lists each rule)")?;
        }
        writeln!(out)?;
    }
    let builtin = report.loaded().iter().filter(|r| r.builtin).count();
    writeln!(
        out,
        "{} files, {} rules: {} loaded ({} built-in), {} skipped, {} not applicable.",
        report.files(),
        report.documents(),
        report.loaded().len(),
        builtin,
        report.skipped().len(),
        report.not_applicable().len()
    )
}
