//! The whole SigmaHQ corpus (`../shared/sigma`: rules, emerging threats, threat hunting,
//! placeholders) loads without a crash, every rule is accounted for, and the Microsoft 365 and
//! Entra ID rules mostly load.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Test code: a failed unwrap is a failed test.

use std::path::PathBuf;

use mailtrail_detect::sigma::{LoadReport, SigmaRules};

fn corpus() -> Option<PathBuf> {
    let dir = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/sigma"
    ));
    if dir.is_dir() {
        return Some(dir);
    }
    let msg = format!(
        "SigmaHQ corpus not found at {}; put a SigmaHQ checkout there (git clone https://github.com/SigmaHQ/sigma)",
        dir.display()
    );
    assert!(std::env::var("CI").as_deref() != Ok("true"), "{msg}");
    eprintln!("skipping: {msg}");
    None
}

fn load() -> Option<LoadReport> {
    let dir = corpus()?;
    let (_, report) = SigmaRules::load(false, &[dir]).expect("the corpus directory is readable");
    Some(report)
}

/// Rules of `product` (and `service`, when given) in the report's three lists.
fn count(report: &LoadReport, file_part: &str) -> (usize, usize, usize) {
    (
        report
            .loaded()
            .iter()
            .filter(|r| r.file.contains(file_part))
            .count(),
        report
            .skipped()
            .iter()
            .filter(|r| r.file.contains(file_part))
            .count(),
        report
            .not_applicable()
            .iter()
            .filter(|r| r.file.contains(file_part))
            .count(),
    )
}

#[test]
fn the_whole_corpus_loads_and_every_rule_is_accounted_for() {
    let Some(report) = load() else { return };
    // 3,777 rule files in the pinned corpus (see ../shared/sigma/SOURCE.md).
    assert_eq!(report.files(), 3_777);
    assert!(report.documents() >= report.files());
    assert_eq!(
        report.documents(),
        report.loaded().len() + report.skipped().len() + report.not_applicable().len()
    );
    // Most of the corpus is for other products, and none of those is evaluated.
    assert!(
        report.not_applicable().len() > 3_500,
        "{}",
        report.not_applicable().len()
    );
    for r in report.skipped() {
        eprintln!("skipped: {} — {}", r.file, r.reason);
    }
}

#[test]
fn microsoft_365_and_entra_rules_mostly_load() {
    let Some(report) = load() else { return };
    let sep = std::path::MAIN_SEPARATOR;
    let m365 = count(&report, &format!("cloud{sep}m365"));
    let signin = count(&report, &format!("azure{sep}signin_logs"));
    let audit = count(&report, &format!("azure{sep}audit_logs"));
    for (name, (loaded, skipped, na)) in [("m365", m365), ("signin", signin), ("audit", audit)] {
        eprintln!("{name}: {loaded} loaded, {skipped} skipped, {na} not applicable");
        assert_eq!(na, 0, "{name}: routable rules reported as not applicable");
        assert!(
            loaded * 10 >= (loaded + skipped) * 9,
            "{name}: fewer than 90% loaded ({loaded} of {})",
            loaded + skipped
        );
    }
    // Activity logs, risk detections and PIM are not read by mailtrail: not applicable.
    let (loaded, _, na) = count(&report, &format!("azure{sep}activity_logs"));
    assert_eq!(loaded, 0);
    assert!(na > 0);
}
