//! `mailtrail parse`, run as the built binary on the `formats` fixtures: output, stderr and exit codes.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Test code: a failed unwrap is a failed test.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../formats/tests/data")
        .join(name)
}

fn otrf() -> PathBuf {
    Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/data/otrf-golden-saml"
    ))
    .to_path_buf()
}

fn mailtrail(args: &[&std::ffi::OsStr]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mailtrail"))
        .arg("parse")
        .args(args)
        .output()
        .unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn jsonl_prints_one_normalised_event_per_line() {
    let out = mailtrail(&[data("ual-management-api.json").as_os_str()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let lines: Vec<serde_json::Value> = text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 4);
    assert_eq!(lines[0]["operation"], "MailItemsAccessed");
    assert_eq!(lines[0]["source"], "management-api");
    assert_eq!(
        lines[0]["client_app_id"],
        "7c0f5e2a-9b1d-4c3e-8f6a-2d4b6e8a0c13"
    );
    assert_eq!(lines[0]["mail_access"]["folders"][0]["path"], "\\Inbox");
    assert_eq!(
        text(&out.stderr).trim(),
        "read 4 records from 1 inputs, 0 rejected"
    );
}

#[test]
fn table_aligns_the_columns_an_investigator_reads() {
    let out = mailtrail(&[
        data("ual.ndjson").as_os_str(),
        "--format".as_ref(),
        "table".as_ref(),
    ]);
    assert_eq!(out.status.code(), Some(0));
    let stdout = text(&out.stdout);
    let mut lines = stdout.lines();
    let header = lines.next().unwrap();
    assert!(header.starts_with("time "), "{header}");
    for col in ["op", "user", "ip", "app", "client_app", "mailbox"] {
        assert!(header.split_whitespace().any(|h| h == col), "{header}");
    }
    let fwd = lines.next().unwrap();
    assert!(fwd.starts_with("2023-06-16 09:20:31  Set-Mailbox"), "{fwd}");
    assert!(fwd.contains("admin@contoso.example"));
    assert!(fwd.contains("2001:db8:4::1c"));
    // Columns line up: every row has its user where the header has `user`.
    let at = header.find("user").unwrap();
    assert_eq!(&fwd[at..at + 21], "admin@contoso.example");
}

#[test]
fn stats_count_sources_workloads_and_operations_of_every_input() {
    let otrf_json = otrf().join("*.json");
    let out = mailtrail(&[
        data("").as_os_str(),
        otrf_json.as_os_str(),
        "--stats".as_ref(),
    ]);
    let stdout = text(&out.stdout);
    let stderr = text(&out.stderr);
    // The fixture folder's README is not a log: reported, and the rest is read.
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("README.md: unknown format"), "{stderr}");
    for line in [
        "sentinel-officeactivity",
        "defender-advanced-hunting",
        "graph-signin",
        "azure-monitor-audit",
        "search-unifiedauditlog-csv",
    ] {
        assert!(stdout.contains(line), "{line} missing:\n{stdout}");
    }
    let mia = stdout
        .lines()
        .find(|l| l.starts_with("MailItemsAccessed "))
        .unwrap();
    let cols: Vec<&str> = mia.split_whitespace().collect();
    assert_eq!(cols[1], "10", "{mia}");
    assert_eq!(
        &cols[2..],
        ["2021-08-02", "13:32:07", "2023-06-16", "10:00:00"],
        "{mia}"
    );
    assert!(stdout.contains("rejected records: 0"));
    assert!(stdout.contains("inputs not read: 1"));
    assert!(
        stderr
            .trim_end()
            .ends_with("0 rejected, 1 inputs not read (or not completely)"),
        "{stderr}"
    );
}

#[test]
fn rejects_go_to_stderr_with_their_location_and_exit_code_is_1() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.json");
    let good = std::fs::read_to_string(data("ual.ndjson")).unwrap();
    let mut lines: Vec<&str> = good.lines().collect();
    lines.insert(2, "{\"Id\":\"broken\",");
    std::fs::write(&path, lines.join("\n")).unwrap();

    let out = mailtrail(&[path.as_os_str()]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(text(&out.stdout).lines().count(), 5);
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(&format!("rejected: {}:3: invalid JSON", path.display())),
        "{stderr}"
    );
    assert!(
        stderr
            .trim_end()
            .ends_with("read 5 records from 1 inputs, 1 rejected"),
        "{stderr}"
    );

    let out = mailtrail(&[path.as_os_str(), "--strict".as_ref()]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        text(&out.stdout).lines().count(),
        2,
        "stops at the bad record"
    );
    assert!(text(&out.stderr).contains("stopped at the first problem"));
}

#[test]
fn records_read_in_part_are_printed_with_a_warning_and_counted() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.json");
    let good = std::fs::read_to_string(data("ual.ndjson")).unwrap();
    let mut lines: Vec<String> = good.lines().map(str::to_owned).collect();
    lines[1] = lines[1].replacen('{', r#"{"Item":[true],"#, 1);
    std::fs::write(&path, lines.join("\n")).unwrap();

    let out = mailtrail(&[path.as_os_str()]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(text(&out.stdout).lines().count(), lines.len());
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(&format!("warning: {}:2: record ", path.display())),
        "{stderr}"
    );
    assert!(
        stderr.contains("field Item: entries that are not messages (1)"),
        "{stderr}"
    );
    assert!(
        stderr.trim_end().ends_with(", 0 rejected, 1 read in part"),
        "{stderr}"
    );
    // The event says what was left unread.
    let second = text(&out.stdout).lines().nth(1).unwrap_or("").to_owned();
    assert!(second.contains(r#""unread":["field Item: "#), "{second}");
}

#[test]
fn stdin_globs_and_compressed_inputs_are_read() {
    let csv = std::fs::read(data("purview-current.csv")).unwrap();
    let zst = zstd::encode_all(&csv[..], 3).unwrap();

    let mut child = Command::new(env!("CARGO_BIN_EXE_mailtrail"))
        .args(["parse", "-", "--stats"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(&zst).unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("purview-csv "),
        "{}",
        text(&out.stdout)
    );
    assert!(text(&out.stderr).contains("read 3 records from 1 inputs"));

    let pattern = data("sentinel-*.json");
    let out = mailtrail(&[pattern.as_os_str()]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(text(&out.stdout).lines().count(), 2 + 3);
}

#[test]
fn a_missing_path_is_an_error_and_the_others_are_still_read() {
    let out = mailtrail(&[
        "/nonexistent/audit.json".as_ref(),
        data("ual.ndjson").as_os_str(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(text(&out.stdout).lines().count(), 5);
    assert!(text(&out.stderr).contains("error: /nonexistent/audit.json: no such file"));
}

#[test]
fn a_closed_pipe_ends_the_output_without_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("many.ndjson");
    let line = std::fs::read_to_string(data("ual.ndjson")).unwrap();
    let many: String = (0..4000)
        .map(|i| line.replace("\"Id\":\"", &format!("\"Id\":\"{i}-")))
        .collect();
    std::fs::write(&path, many).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_mailtrail"))
        .arg("parse")
        .arg(&path)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = [0u8; 100];
    child
        .stdout
        .as_mut()
        .unwrap()
        .read_exact(&mut first)
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let stderr = text(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(out.status.code(), Some(0), "{stderr}");
}
