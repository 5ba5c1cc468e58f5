//! `mailtrail hunt`: run every detection over exports and report incidents with their blast radius.

use std::io::Write;
use std::ops::ControlFlow;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use mailtrail_detect::{
    BaselineMode, Engine, EngineConfig, IndicatorSet, InputCoverage, Report, Severity,
    SigmaCoverage,
};
use mailtrail_event::Timestamp;
use mailtrail_formats::{Inputs, ReadOptions, Reader, Record, RecordKey};
use mailtrail_report::Format;
use mailtrail_store::{OpenMode, Store};

use crate::cmd::search::TimeWindow;
use crate::output::{SHOWN_ONE_BY_ONE, eprint_more};
use crate::progress::Progress;
use crate::sorted::{Drained, SortedEvents, TimeSorter};
use crate::store_location::StoreArg;

/// Arguments of `mailtrail hunt`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Exports to analyse: files, directories, glob patterns, or - for standard input. Any format
    /// `mailtrail parse` reads; sign-in logs may be mixed in. Without PATH, the evidence store is
    /// hunted (retro-hunt).
    #[arg(value_name = "PATH")]
    paths: Vec<String>,
    /// The evidence store to hunt when no PATH is given.
    #[command(flatten)]
    store: StoreArg,
    /// The period of the store to hunt; the baseline is the --baseline-days before it.
    #[command(flatten)]
    window: TimeWindow,
    /// Entra ID sign-in logs (interactive, non-interactive, service principal). Needed by the
    /// mail-access-without-sign-in check.
    #[arg(long, value_name = "PATH")]
    signins: Vec<String>,
    /// A directory of Sigma rules to run as well as the built-in pack (repeatable).
    #[arg(long, value_name = "DIR")]
    sigma: Vec<PathBuf>,
    /// Do not run the built-in Sigma rule pack.
    #[arg(long)]
    no_builtin_rules: bool,
    /// An indicator list: CSV (`kind,value[,first_seen,last_seen,description]`) or a STIX 2.1
    /// bundle (repeatable). Microsoft's Storm-0558 indicators are always included.
    #[arg(long, value_name = "FILE")]
    ioc: Vec<PathBuf>,
    /// Learn what is normal from these exports instead of from the first days of the data.
    #[arg(long, value_name = "PATH")]
    baseline: Vec<String>,
    /// Days at the start of the data that form the baseline when --baseline is not given.
    #[arg(long, value_name = "DAYS", default_value_t = 14)]
    baseline_days: u32,
    /// Output format.
    #[arg(long, value_name = "FORMAT", default_value = "table",
          value_parser = ["table", "json", "jsonl", "csv", "html"])]
    format: String,
    /// Write the report to FILE instead of standard output.
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Exit with status 1 only for incidents at or above this severity.
    #[arg(long, value_name = "LEVEL", default_value = "medium",
          value_parser = ["informational", "low", "medium", "high", "critical"])]
    min_severity: String,
    /// Stop at the first malformed record (exit status 2).
    #[arg(long)]
    strict: bool,
    /// Memory for ordering records by time before spilling to temporary files, in MiB.
    #[arg(long, value_name = "MIB", default_value_t = 256)]
    sort_memory: usize,
}

/// Where a hunt reads from.
pub(crate) enum Source {
    /// Exports.
    Files(Vec<String>),
    /// The evidence store, within `[from, to)`.
    Store {
        dir: PathBuf,
        from: Option<Timestamp>,
        to: Option<Timestamp>,
    },
}

/// What a hunt reads and how it judges: everything but the output.
pub(crate) struct Plan {
    pub(crate) source: Source,
    pub(crate) baseline: Vec<String>,
    pub(crate) baseline_days: u32,
    pub(crate) sigma_dirs: Vec<PathBuf>,
    pub(crate) builtin_rules: bool,
    pub(crate) ioc: Vec<PathBuf>,
    pub(crate) strict: bool,
    pub(crate) sort_memory: usize,
}

pub(crate) fn run(args: Args) -> anyhow::Result<ExitCode> {
    let format: Format = args.format.parse().map_err(anyhow::Error::msg)?;
    let min_severity = Severity::parse(&args.min_severity).unwrap_or(Severity::Medium);
    let (from, to) = args.window.bounds()?;
    let source = if args.paths.is_empty() {
        if !args.signins.is_empty() || !args.baseline.is_empty() {
            anyhow::bail!(
                "--signins and --baseline go with exports (PATH); a store hunt takes both from the store"
            );
        }
        Source::Store {
            dir: args.store.path()?,
            from,
            to,
        }
    } else {
        if from.is_some() || to.is_some() {
            anyhow::bail!(
                "--since, --from and --to select the period of a store hunt; exports are hunted whole"
            );
        }
        let mut paths = args.paths;
        paths.extend(args.signins);
        Source::Files(paths)
    };
    let report = execute(&Plan {
        source,
        baseline: args.baseline,
        baseline_days: args.baseline_days,
        sigma_dirs: args.sigma,
        builtin_rules: !args.no_builtin_rules,
        ioc: args.ioc,
        strict: args.strict,
        sort_memory: args.sort_memory,
    })?;
    write_report(&report, format, args.output.as_deref())?;
    let hit = report.incidents.iter().any(|i| i.severity >= min_severity);
    Ok(if hit || report.coverage.rejected > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// Runs a hunt: reads, orders, detects; the report's coverage says what was read.
pub(crate) fn execute(plan: &Plan) -> anyhow::Result<Report> {
    let mut indicators = IndicatorSet::storm_0558();
    for path in &plan.ioc {
        let n = indicators.load(path)?;
        tracing::info!(path = %path.display(), indicators = n, "Loaded indicators.");
    }
    if indicators.unsupported() > 0 {
        eprintln!(
            "warning: {} STIX indicators use patterns mailtrail does not evaluate (only address \
             values and HTTP user agents); they were skipped",
            indicators.unsupported()
        );
    }

    let sigma = if !plan.builtin_rules && plan.sigma_dirs.is_empty() {
        None
    } else {
        let (rules, load) =
            mailtrail_detect::sigma::SigmaRules::load(plan.builtin_rules, &plan.sigma_dirs)
                .context("loading Sigma rules")?;
        for skipped in load.skipped() {
            tracing::warn!(rule = %skipped, "Sigma rule skipped.");
        }
        Some(rules)
    };

    let store_baseline = matches!(plan.source, Source::Store { from: Some(_), .. });
    let config = EngineConfig {
        baseline: if plan.baseline.is_empty() && !store_baseline {
            BaselineMode::FirstDays(plan.baseline_days)
        } else {
            BaselineMode::Explicit
        },
        indicators: Arc::new(indicators),
        ..EngineConfig::default()
    };
    let mut engine = Engine::new(config, sigma.as_ref());
    let options = ReadOptions {
        strict: plan.strict,
        ..ReadOptions::default()
    };
    let budget = plan.sort_memory.max(16) << 20;
    let progress = Progress::new();

    let mut inputs_coverage = Vec::new();
    let mut rejected = 0;
    let mut partial = Partial::default();
    if !plan.baseline.is_empty() {
        let read = read_sorted(&plan.baseline, &options, budget, &progress, "baseline")?;
        rejected += read.rejected;
        inputs_coverage.extend(read.inputs);
        let drained = learn(&mut engine, read.events, plan.strict, &progress)?;
        rejected += account(&drained, &mut inputs_coverage);
        partial.add(&drained);
    }
    let read = match &plan.source {
        Source::Files(paths) => read_sorted(paths, &options, budget, &progress, "reading")?,
        Source::Store { dir, from, to } => {
            let (baseline, read) = read_store(
                dir,
                *from,
                *to,
                plan.baseline_days,
                budget,
                options.threads,
                &progress,
            )?;
            if let Some(events) = baseline {
                let drained = learn(&mut engine, events, plan.strict, &progress)?;
                rejected += drained.unreadable;
                partial.add(&drained);
            }
            read
        }
    };
    rejected += read.rejected;
    inputs_coverage.extend(read.inputs);
    if read.strict_stop {
        progress.finish();
        anyhow::bail!("stopped at the first malformed record (--strict)");
    }
    let mut events = read.events;
    while let Some(ev) = events.next_event()? {
        strict_stop(plan.strict, &events)?;
        engine.process(&ev);
        progress.tick("hunting");
    }
    strict_stop(plan.strict, &events)?;
    let drained = events.finish();
    progress.finish();
    rejected += account(&drained, &mut inputs_coverage);
    partial.add(&drained);
    eprint_more(partial.count, partial.shown, "records read in part");
    if drained.duplicates > 0 {
        tracing::info!(
            duplicates = drained.duplicates,
            "Records read more than once were analysed once."
        );
    }

    let mut report = engine.finish();
    report.coverage.inputs = inputs_coverage;
    report.coverage.rejected = rejected;
    report.coverage.partial = partial.count;
    if let Some(rules) = &sigma {
        let r = rules.report();
        report.coverage.sigma = Some(SigmaCoverage {
            loaded: r.loaded().len() as u64,
            skipped: r.skipped().iter().map(|s| s.to_string()).collect(),
            not_applicable: r.not_applicable().len() as u64,
        });
    }
    Ok(report)
}

/// Feeds a baseline to the engine; returns what its stream left out.
fn learn(
    engine: &mut Engine,
    mut events: SortedEvents,
    strict: bool,
    progress: &Progress,
) -> anyhow::Result<Drained> {
    while let Some(ev) = events.next_event()? {
        strict_stop(strict, &events)?;
        engine.learn(&ev);
        progress.tick("learning");
    }
    strict_stop(strict, &events)?;
    Ok(events.finish())
}

/// Records read in part over a hunt's streams, and how many of them were reported one by one.
#[derive(Default)]
struct Partial {
    count: u64,
    shown: u64,
}

impl Partial {
    fn add(&mut self, drained: &Drained) {
        self.count += drained.partial;
        self.shown += drained.partial.min(SHOWN_ONE_BY_ONE);
    }
}

/// With `--strict`, a record that only fails when it is normalised, after the sort, stops the hunt
/// as one that fails when it is read does.
fn strict_stop(strict: bool, events: &SortedEvents) -> anyhow::Result<()> {
    if strict && events.unreadable() > 0 {
        anyhow::bail!("stopped at the first malformed record (--strict)");
    }
    Ok(())
}

/// Moves the records that were read by key but did not normalise from their inputs' read count to
/// their rejected count; returns how many there were.
fn account(drained: &Drained, inputs: &mut [InputCoverage]) -> u64 {
    for (name, n) in &drained.unreadable_by_input {
        // A zip member's records are counted under the archive.
        let input = inputs.iter_mut().find(|i| {
            name == &i.path
                || name
                    .strip_prefix(i.path.as_str())
                    .is_some_and(|rest| rest.starts_with("!/"))
        });
        if let Some(input) = input {
            input.records = input.records.saturating_sub(*n);
            input.rejected += n;
        }
    }
    drained.unreadable
}

/// Inputs read into a time-ordered stream.
struct SortedRead {
    events: SortedEvents,
    inputs: Vec<InputCoverage>,
    rejected: u64,
    strict_stop: bool,
}

/// Reads the store's records in `[from, to)` into a time-ordered stream, and the
/// `baseline_days` before `from` into a second one for learning.
fn read_store(
    dir: &std::path::Path,
    from: Option<Timestamp>,
    to: Option<Timestamp>,
    baseline_days: u32,
    budget: usize,
    threads: usize,
    progress: &Progress,
) -> anyhow::Result<(Option<SortedEvents>, SortedRead)> {
    let store = Store::open(dir, OpenMode::ReadOnly)
        .with_context(|| format!("opening the evidence store {}", dir.display()))?;
    let learn_from = from.and_then(|f| {
        f.checked_sub(jiff::SignedDuration::from_hours(
            24 * i64::from(baseline_days),
        ))
        .ok()
    });
    let mut baseline = from.map(|_| TimeSorter::new(budget / 2, threads));
    let main_budget = if from.is_some() { budget / 2 } else { budget };
    let mut main = TimeSorter::new(main_budget, threads);
    let (mut records, mut pruned) = (0u64, 0u64);
    for record in store.scan(0) {
        let r = record.with_context(|| format!("reading the evidence store {}", dir.display()))?;
        if r.pruned {
            pruned += 1;
            continue;
        }
        if to.is_some_and(|t| r.time >= t) {
            continue;
        }
        match from {
            Some(f) if r.time < f => {
                if learn_from.is_some_and(|l| r.time >= l)
                    && let Some(b) = &mut baseline
                {
                    b.push_raw(r.time, &r.record_id, r.source, r.raw)?;
                }
            }
            _ => {
                main.push_raw(r.time, &r.record_id, r.source, r.raw)?;
                records += 1;
                progress.tick("reading");
            }
        }
    }
    if pruned > 0 {
        eprintln!(
            "note: {pruned} records in the store were pruned by retention and could not be hunted"
        );
    }
    let baseline = baseline.map(TimeSorter::finish).transpose()?;
    Ok((
        baseline,
        SortedRead {
            events: main.finish()?,
            inputs: vec![InputCoverage {
                path: format!("store {}", dir.display()),
                records,
                rejected: 0,
                error: None,
            }],
            rejected: 0,
            strict_stop: false,
        },
    ))
}

fn read_sorted(
    paths: &[String],
    options: &ReadOptions,
    budget: usize,
    progress: &Progress,
    phase: &'static str,
) -> anyhow::Result<SortedRead> {
    let expanded = Inputs::expand(paths);
    let mut inputs = Vec::new();
    for e in &expanded.errors {
        eprintln!("error: {e}");
        inputs.push(InputCoverage {
            path: e.input().to_owned(),
            error: Some(e.to_string()),
            ..Default::default()
        });
    }
    if expanded.inputs.is_empty() {
        anyhow::bail!("no input could be read from {}", paths.join(", "));
    }
    let reader = Reader::new(options.clone());
    let mut sorter = TimeSorter::reading(&expanded.inputs, budget, options.threads);
    let mut failed = None;
    let summary = reader.read_keys(&expanded.inputs, &mut |record: Record<RecordKey>| {
        match record {
            Ok(key) => {
                if let Err(e) = sorter.push(key) {
                    failed = Some(e);
                    return ControlFlow::Break(());
                }
                progress.tick(phase);
            }
            Err(e) => eprintln!("rejected: {e}"),
        }
        ControlFlow::Continue(())
    });
    if let Some(e) = failed {
        return Err(e);
    }
    for input in summary.inputs() {
        for e in input.errors() {
            eprintln!("error: {e}");
        }
        inputs.push(InputCoverage {
            path: input.name().to_owned(),
            records: input.records(),
            rejected: input.rejected(),
            error: input.errors().first().map(|e| e.to_string()),
        });
    }
    if sorter.spilled() > 0 {
        tracing::info!(
            records = sorter.spilled(),
            "Sorted by time through temporary files."
        );
    }
    Ok(SortedRead {
        events: sorter.finish()?,
        inputs,
        rejected: summary.rejected(),
        strict_stop: options.strict && summary.stopped(),
    })
}

pub(crate) fn write_report(
    report: &Report,
    format: Format,
    path: Option<&std::path::Path>,
) -> anyhow::Result<()> {
    match path {
        Some(p) => {
            let file = std::fs::File::create(p)
                .with_context(|| format!("cannot create report file {}", p.display()))?;
            let mut w = std::io::BufWriter::new(file);
            mailtrail_report::render(report, format, &mut w)
                .with_context(|| format!("writing {}", p.display()))?;
            w.flush()?;
        }
        None => {
            let stdout = std::io::stdout();
            let mut w = std::io::BufWriter::new(stdout.lock());
            match mailtrail_report::render(report, format, &mut w).and_then(|()| w.flush()) {
                Ok(()) => {}
                // `| head` closed the pipe: what was wanted was written.
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
                Err(e) => return Err(e).context("writing the report"),
            }
        }
    }
    Ok(())
}
