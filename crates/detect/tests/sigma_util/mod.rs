//! Shared helpers of the Sigma behaviour tests: real records read by `mailtrail-formats`, rules
//! loaded from real files.

#![allow(dead_code)] // Each test file uses its own subset.
#![allow(clippy::unwrap_used, clippy::expect_used)] // Test code: a failed unwrap is a failed test.

use std::ops::ControlFlow;
use std::path::{Path, PathBuf};

use mailtrail_detect::sigma::{SigmaMatch, SigmaMatcher, SigmaRules};
use mailtrail_event::AuditEvent;
use mailtrail_formats::{Input, ReadOptions, Reader, Record};

/// Reads records the way `hunt` does: `name` decides nothing, the bytes decide the format.
pub(crate) fn read(name: &str, text: &str) -> Vec<AuditEvent> {
    read_input(&Input::bytes(name, text.as_bytes().to_vec()))
}

/// Reads a file the way `hunt` does.
pub(crate) fn read_file(path: &Path) -> Vec<AuditEvent> {
    read_input(&Input::path(path))
}

fn read_input(input: &Input) -> Vec<AuditEvent> {
    let mut events = Vec::new();
    let summary = Reader::new(ReadOptions::default()).read(input, &mut |r: Record| {
        match r {
            Ok(ev) => events.push(ev),
            Err(e) => panic!("test record rejected: {e}"),
        }
        ControlFlow::Continue(())
    });
    assert!(summary.errors().is_empty(), "{:?}", summary.errors());
    events
}

/// One record as an event.
pub(crate) fn event(json: &str) -> AuditEvent {
    let mut events = read("event.json", json);
    assert_eq!(events.len(), 1, "expected one record in {json}");
    events.remove(0)
}

/// The built-in pack, which must load completely.
pub(crate) fn builtin() -> SigmaRules {
    let (rules, report) = SigmaRules::load(true, &[]).expect("built-in pack loads");
    assert!(report.skipped().is_empty(), "{:?}", report.skipped());
    rules
}

/// Rules from YAML, written to a file in a fresh directory and loaded from there.
pub(crate) fn rules(yaml: &str) -> SigmaRules {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("rules.yml"), yaml).expect("write rule");
    let (rules, report) = SigmaRules::load(false, &[dir.path().to_path_buf()]).expect("rules load");
    assert!(report.skipped().is_empty(), "{:?}", report.skipped());
    rules
}

/// Every match of `rules` over `events`, in order, correlations flushed at the end.
pub(crate) fn run(rules: &SigmaRules, events: &[AuditEvent]) -> Vec<SigmaMatch> {
    let mut matcher = SigmaMatcher::new(rules);
    let mut out = Vec::new();
    for ev in events {
        matcher.process(ev, &mut out);
    }
    matcher.finish(&mut out);
    out
}

/// Titles of the matches.
pub(crate) fn titles(matches: &[SigmaMatch]) -> Vec<&str> {
    matches.iter().map(|m| m.title.as_str()).collect()
}

/// A file of the SigmaHQ corpus, or `None` (with a message) when the corpus is not there.
pub(crate) fn sigmahq(relative: &str) -> Option<PathBuf> {
    let path = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/sigma"
    ))
    .join(relative);
    if path.exists() {
        return Some(path);
    }
    let msg = format!(
        "{} not found; put a SigmaHQ checkout at ../shared/sigma",
        path.display()
    );
    assert!(std::env::var("CI").as_deref() != Ok("true"), "{msg}");
    eprintln!("skipping: {msg}");
    None
}

/// The Golden SAML dataset of the Open Threat Research Forge, or `None` when absent.
pub(crate) fn golden_saml(file: &str) -> Option<PathBuf> {
    let path = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/data/otrf-golden-saml"
    ))
    .join(file);
    if path.exists() {
        return Some(path);
    }
    let msg = format!("{} not found", path.display());
    assert!(std::env::var("CI").as_deref() != Ok("true"), "{msg}");
    eprintln!("skipping: {msg}");
    None
}
