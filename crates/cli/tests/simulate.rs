//! `mailtrail simulate`, run as a user runs it: the built binary, a temporary directory.

// Test helpers outside #[test] functions unwrap too: a failure there is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use support::{mailtrail, simulate};

#[test]
fn simulate_writes_every_output_file_with_labels_for_the_chosen_scenarios() {
    let dir = tempfile::tempdir().unwrap();
    let out = simulate(
        dir.path(),
        &[
            "--users",
            "15",
            "--days",
            "16",
            "--seed",
            "3",
            "--scenarios",
            "storm-0558,aitm",
            "--start",
            "2026-03-02",
        ],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("labelled attacks"), "{stderr}");

    let ual: Vec<_> = std::fs::read_dir(dir.path().join("ual"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(ual.len(), 16);
    assert!(
        ual.contains(&"2026-03-02.ndjson".to_owned())
            && ual.contains(&"2026-03-17.ndjson".to_owned())
    );

    let first = std::fs::read_to_string(dir.path().join("ual/2026-03-03.ndjson")).unwrap();
    let line: serde_json::Value = serde_json::from_str(first.lines().next().unwrap()).unwrap();
    assert!(
        line["CreationTime"]
            .as_str()
            .unwrap()
            .starts_with("2026-03-03T")
    );

    let signins = std::fs::read_to_string(dir.path().join("signins.ndjson")).unwrap();
    assert!(signins.lines().count() > 100);
    assert!(dir.path().join("directory_audit.ndjson").exists());

    let labels: Vec<serde_json::Value> = std::fs::read_to_string(dir.path().join("labels.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let scenarios: Vec<&str> = labels
        .iter()
        .map(|l| l["scenario"].as_str().unwrap())
        .collect();
    assert_eq!(scenarios, ["storm-0558", "aitm"]);

    let tenant: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("tenant.json")).unwrap()).unwrap();
    assert_eq!(tenant["users"].as_array().unwrap().len(), 15);
    assert_eq!(tenant["period"]["days"], 16);
    assert_eq!(tenant["seed"], 3);
    let total = tenant["counts"]["unified_audit"].as_u64().unwrap();
    let lines: usize = ual
        .iter()
        .map(|f| {
            std::fs::read_to_string(dir.path().join("ual").join(f))
                .unwrap()
                .lines()
                .count()
        })
        .sum();
    assert_eq!(total as usize, lines);
}

#[test]
fn simulate_rejects_an_unknown_scenario_with_the_known_names() {
    let dir = tempfile::tempdir().unwrap();
    let out = mailtrail()
        .args(["simulate", "--scenarios", "storm-0558,nope", "--out"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("unknown scenario \"nope\"") && stderr.contains("password-spray"),
        "{stderr}"
    );
}
