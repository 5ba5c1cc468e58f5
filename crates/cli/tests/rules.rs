//! `mailtrail rules check`, run as a user runs it: on the built-in pack, on a directory holding
//! good, broken and foreign rules, and on the whole SigmaHQ corpus.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Test code: a failed unwrap is a failed test.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn check(args: &[&str], dirs: &[&Path]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mailtrail"))
        .args(["rules", "check"])
        .args(args)
        .args(dirs)
        .output()
        .unwrap()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A directory with one rule of each fate.
fn mixed_rules() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| {
        let path = dir.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    };
    write(
        "m365/forwarding.yml",
        "title: Forwarding set\nid: 5d0c0000-0000-4000-8000-000000000001\nlogsource: {product: m365, service: exchange}\ndetection: {sel: {Operation: Set-Mailbox, Parameters.ForwardingSmtpAddress|contains: '@'}, condition: sel}\nlevel: high\n",
    );
    write(
        "m365/broken.yml",
        "title: Broken\nlogsource: {product: m365\ndetection: [\n",
    );
    write(
        "azure/undefined.yml",
        "title: Undefined selection\nid: 5d0c0000-0000-4000-8000-000000000003\nlogsource: {product: azure, service: signinlogs}\ndetection: {sel: {ResultType: 50126}, condition: sel and nothere}\n",
    );
    write(
        "windows/whoami.yml",
        "title: Whoami\nid: 5d0c0000-0000-4000-8000-000000000004\nlogsource: {product: windows, category: process_creation}\ndetection: {sel: {CommandLine|contains: whoami}, condition: sel}\n",
    );
    // Not rules: ignored.
    write("README.md", "# rules\n");
    write(".github/workflows/ci.yml", "on: push\n");
    dir
}

#[test]
fn checking_the_built_in_pack_lists_every_rule_and_exits_0() {
    let out = check(&[], &[]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = stdout(&out);
    assert!(
        text.contains("Inbox rule forwards or redirects mail"),
        "{text}"
    );
    assert!(text.contains("builtin/entra_password_spray.yml"), "{text}");
    assert!(text.contains("Password spray from one address"), "{text}");
    let summary = text.lines().last().unwrap();
    assert!(summary.contains("0 skipped, 0 not applicable"), "{summary}");
    assert!(summary.contains("(20 built-in)"), "{summary}");
}

#[test]
fn skipped_rules_are_listed_with_their_file_and_reason_and_the_exit_status_is_1() {
    let dir = mixed_rules();
    let out = check(&[], &[dir.path()]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = stdout(&out);
    assert!(text.contains("Forwarding set"), "{text}");
    assert!(text.contains("UAL Exchange records"), "{text}");
    // Skipped: the file, then the reason.
    let skipped = text.split("Skipped (2):").nth(1).unwrap();
    assert!(skipped.contains("broken.yml"), "{text}");
    assert!(skipped.contains("cannot parse"), "{text}");
    assert!(
        skipped.contains("undefined.yml: Undefined selection"),
        "{text}"
    );
    assert!(skipped.contains("cannot compile"), "{text}");
    // Not applicable: counted by logsource.
    assert!(
        text.contains("1  product: windows, category: process_creation"),
        "{text}"
    );
    assert!(
        !text.contains("ci.yml"),
        "hidden directories are not read: {text}"
    );
    assert!(
        text.trim_end()
            .ends_with("4 files, 4 rules: 1 loaded (0 built-in), 2 skipped, 1 not applicable."),
        "{text}"
    );
}

#[test]
fn all_lists_each_not_applicable_rule() {
    let dir = mixed_rules();
    let text = stdout(&check(&["--all"], &[dir.path()]));
    assert!(
        text.contains("whoami.yml: Whoami (product: windows, category: process_creation)"),
        "{text}"
    );
    assert!(
        text.contains("product `windows` is not Microsoft 365 or Entra ID"),
        "{text}"
    );
}

#[test]
fn json_output_holds_every_rule_with_its_fate() {
    let dir = mixed_rules();
    let out = check(&["--format", "json", "--builtin"], &[dir.path()]);
    assert_eq!(out.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let loaded = report["loaded"].as_array().unwrap();
    let skipped = report["skipped"].as_array().unwrap();
    let foreign = report["not_applicable"].as_array().unwrap();
    assert_eq!(report["files"], 4 + 19);
    assert_eq!(loaded.iter().filter(|r| r["builtin"] == false).count(), 1);
    assert_eq!(loaded.iter().filter(|r| r["builtin"] == true).count(), 20);
    assert_eq!(skipped.len(), 2);
    for s in skipped {
        assert!(s["file"].as_str().unwrap().ends_with(".yml"), "{s}");
        assert!(!s["reason"].as_str().unwrap().is_empty(), "{s}");
    }
    assert_eq!(foreign.len(), 1);
    assert_eq!(
        foreign[0]["logsource"],
        "product: windows, category: process_creation"
    );
    let own = loaded
        .iter()
        .find(|r| r["title"] == "Forwarding set")
        .unwrap();
    assert_eq!(own["level"], "high");
    assert_eq!(own["kind"], "detection");
    assert_eq!(own["applies_to"], "UAL Exchange records");
}

#[test]
fn a_missing_directory_is_an_error_with_exit_status_2() {
    let missing = PathBuf::from("/nonexistent/sigma-rules");
    let out = check(&[], &[&missing]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("/nonexistent/sigma-rules"), "{err}");
    assert!(out.stdout.is_empty());
}

#[test]
fn the_sigmahq_corpus_loads_without_a_skipped_rule() {
    let corpus = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/sigma");
    if !corpus.is_dir() {
        let msg = format!("SigmaHQ corpus not found at {}", corpus.display());
        assert!(std::env::var("CI").as_deref() != Ok("true"), "{msg}");
        eprintln!("skipping: {msg}");
        return;
    }
    let out = check(&[], &[&corpus]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let text = stdout(&out);
    let summary = text.lines().last().unwrap();
    assert!(
        summary.starts_with("3777 files, 3777 rules: 91 loaded"),
        "{summary}"
    );
    assert!(text.contains("product: windows, category: process_creation"));
}
