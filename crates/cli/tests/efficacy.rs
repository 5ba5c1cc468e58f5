//! Proof of efficacy, as a user would measure it: simulate tenants with hidden attacks, hunt their
//! exports, score the report against the labels with `mailtrail eval`. Every attack must be found
//! by a finding strong enough to open an incident, and benign activity must open none.

// Helpers outside #[test] functions unwrap too: a failure there is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::path::Path;

use support::{mailtrail, simulate};

/// Simulates a tenant into `dir`, hunts it and scores the hunt; returns `eval`'s JSON.
fn simulate_hunt_score(
    dir: &Path,
    users: u32,
    days: u32,
    seed: u64,
    scenarios: &str,
) -> serde_json::Value {
    let sim = dir.join(format!("sim-{seed}"));
    simulate(
        &sim,
        &[
            "--users",
            &users.to_string(),
            "--days",
            &days.to_string(),
            "--seed",
            &seed.to_string(),
            "--scenarios",
            scenarios,
        ],
    );
    let report = dir.join(format!("hunt-{seed}.json"));
    let out = mailtrail()
        .args(["hunt", "--format", "json", "-o"])
        .arg(&report)
        .arg(sim.join("ual"))
        .arg("--signins")
        .arg(sim.join("signins.ndjson"))
        .arg(sim.join("directory_audit.ndjson"))
        .output()
        .unwrap();
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = mailtrail()
        .args(["eval", "--format", "json", "--truth"])
        .arg(sim.join("labels.jsonl"))
        .arg(&report)
        .output()
        .unwrap();
    let score: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    // eval's exit status agrees with its verdict.
    assert_eq!(out.status.success(), score["pass"] == true, "{score:#}");
    score
}

#[test]
fn every_attack_is_detected_in_small_tenants_with_no_false_positive_incident() {
    let tmp = tempfile::tempdir().unwrap();
    for seed in [9, 10] {
        let score = simulate_hunt_score(tmp.path(), 40, 21, seed, "all");
        let attacks = score["attacks"].as_array().unwrap();
        assert_eq!(attacks.len(), 7, "{score:#}");
        for a in attacks {
            assert_eq!(a["detected"], true, "seed {seed}: {a:#}");
            assert!(
                a["evidence_recall"].as_f64().unwrap() > 0.5,
                "seed {seed}: {a:#}"
            );
        }
        assert_eq!(
            score["false_positive_incidents"].as_array().unwrap().len(),
            0,
            "seed {seed}: {score:#}"
        );
        assert_eq!(score["pass"], true);
    }
}

#[test]
fn a_benign_tenant_opens_no_incident() {
    let tmp = tempfile::tempdir().unwrap();
    let score = simulate_hunt_score(tmp.path(), 60, 21, 31, "none");
    assert!(score["attacks"].as_array().unwrap().is_empty());
    assert_eq!(
        score["false_positive_incidents"],
        serde_json::json!([]),
        "{score:#}"
    );
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(tmp.path().join("hunt-31.json")).unwrap()).unwrap();
    assert_eq!(report["incidents"], serde_json::json!([]), "{report:#}");
}
