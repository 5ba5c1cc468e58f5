//! `mailtrail retention`: delete old record bodies, keeping the tree verifiable.

use std::process::ExitCode;

use anyhow::Context as _;
use mailtrail_store::{OpenMode, Store};

use crate::store_location::StoreArg;

/// Arguments of `mailtrail retention`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Keep bodies of records newer than this: a number and a unit, `h` (hours), `d` (days) or
    /// `w` (weeks), e.g. `400d`. Older bodies are deleted; their hashes stay in the tree.
    #[arg(long, value_name = "AGE", value_parser = parse_age)]
    keep: jiff::SignedDuration,
    #[command(flatten)]
    store: StoreArg,
}

/// Parses `400d`, `36h`, `52w`.
fn parse_age(s: &str) -> Result<jiff::SignedDuration, String> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: i64 = num
        .parse()
        .map_err(|_| format!("{s:?}: expected a number and a unit, e.g. 400d"))?;
    let hours = match unit {
        "h" => 1,
        "d" => 24,
        "w" => 24 * 7,
        _ => return Err(format!("{s:?}: the unit must be h, d or w")),
    };
    n.checked_mul(hours * 3600)
        .map(jiff::SignedDuration::from_secs)
        .ok_or_else(|| format!("{s:?} is too long"))
}

pub(crate) fn run(args: Args) -> anyhow::Result<ExitCode> {
    let dir = args.store.path()?;
    let cutoff = jiff::Timestamp::now()
        .checked_sub(args.keep)
        .context("--keep reaches before the start of time")?;
    let mut store = Store::open(&dir, OpenMode::ReadWrite)
        .with_context(|| format!("opening {}", dir.display()))?;
    let report = store.prune_before(cutoff)?;
    for r in &report.ranges {
        println!("pruned seqs {}..={}", r.first_seq, r.last_seq);
    }
    println!(
        "Deleted {} record bodies ({:.1} MB) older than {cutoff} from {} segments; their hashes stay, so `mailtrail verify` still passes.",
        report.records_pruned,
        report.bytes_pruned as f64 / 1e6,
        report.segments_rewritten
    );
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_take_hours_days_and_weeks() {
        assert_eq!(
            parse_age("400d"),
            Ok(jiff::SignedDuration::from_hours(400 * 24))
        );
        assert_eq!(
            parse_age("2w"),
            Ok(jiff::SignedDuration::from_hours(14 * 24))
        );
        assert!(parse_age("400").is_err());
        assert!(parse_age("d").is_err());
        assert!(parse_age("1y").is_err());
    }
}
