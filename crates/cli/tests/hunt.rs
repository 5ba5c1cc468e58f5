//! `mailtrail hunt` run as a user runs it, on real third-party data and on generated tenants.

// Helpers outside #[test] functions unwrap too: a failure there is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::path::PathBuf;

use support::{mailtrail, simulate, succeed};

fn shared(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared")
        .join(rel)
}

/// OTRF's Golden SAML dataset: a forged SAML token registers an application, grants it Microsoft
/// Graph mail permissions and a credential, and reads a mailbox through Graph. Nothing in the data
/// says "attack"; the incident must tie the application to the mail it read.
#[test]
fn golden_saml_incident_ties_the_application_to_the_mail_it_read() {
    let dir = shared("data/otrf-golden-saml");
    let out = mailtrail()
        .args(["hunt", "--format", "json"])
        .arg(dir.join("AADAuditEvents.json"))
        .arg(dir.join("OfficeActivityEvents.json"))
        .arg(dir.join("Microsoft365DefenderEvents.json"))
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let incidents = report["incidents"].as_array().unwrap();
    assert_eq!(incidents.len(), 1, "{report:#}");
    let incident = &incidents[0];
    assert_eq!(incident["severity"], "high");
    let apps = incident["entities"]["apps"].to_string();
    assert!(
        apps.contains("5a95e683-08ad-424e-a441-1d1aec52c02c"),
        "{apps}"
    );

    // The blast radius: pgustavo's inbox, with the messages the application opened.
    let mailboxes = incident["blast_radius"]["mailboxes"].as_array().unwrap();
    assert_eq!(mailboxes.len(), 1);
    assert_eq!(mailboxes[0]["mailbox"], "pgustavo@simulandlabs.com");
    assert_eq!(mailboxes[0]["folders_bound"][0][0], "\\Inbox");
    let ids = mailboxes[0]["message_ids"].as_array().unwrap();
    assert_eq!(ids.len(), 6, "seven reads, six distinct messages");
    assert!(ids.iter().any(|i| {
        i.as_str()
            .unwrap()
            .contains("@AB1CD23EF4567.abcdef12.prod.outlook.com")
    }));

    // The evidence names the grant, the credential and the read.
    let findings = report["findings"].as_array().unwrap();
    let chain = findings
        .iter()
        .find(|f| f["detector"] == "grant-then-mail-read")
        .expect("the grant-then-read sequence is a finding");
    let evidence: Vec<&str> = chain["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(
        evidence.contains(&"699e0b10-1c53-403e-976f-ce0847a92b44"),
        "{evidence:?}"
    );
    assert!(
        evidence.iter().any(|e| e.starts_with("Directory_630d7f0c")),
        "{evidence:?}"
    );

    // Coverage is honest about what could not run.
    let coverage = &report["coverage"];
    assert_eq!(coverage["baseline"]["covers_all_data"], true);
    let no_sign_in = coverage["detectors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["name"] == "mail-access-without-sign-in")
        .unwrap();
    assert_eq!(no_sign_in["status"], "not-run");
}

#[test]
fn every_output_format_renders_the_same_incident() {
    let file = shared("data/otrf-golden-saml/OfficeActivityEvents.json");
    let aad = shared("data/otrf-golden-saml/AADAuditEvents.json");
    let tmp = tempfile::tempdir().unwrap();
    for format in ["table", "json", "jsonl", "csv", "html"] {
        let path = tmp.path().join(format!("report.{format}"));
        let status = mailtrail()
            .args(["hunt", "--format", format, "-o"])
            .arg(&path)
            .arg(&file)
            .arg(&aad)
            .status()
            .unwrap();
        assert_eq!(status.code(), Some(1), "{format}");
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            text.contains("5a95e683-08ad-424e-a441-1d1aec52c02c"),
            "{format}: {text}"
        );
        match format {
            "jsonl" => {
                for line in text.lines() {
                    let v: serde_json::Value = serde_json::from_str(line).unwrap();
                    assert!(
                        ["incident", "finding", "coverage"].contains(&v["type"].as_str().unwrap())
                    );
                }
            }
            "csv" => assert!(text.starts_with("finding_id,incident_id,severity")),
            "html" => {
                assert!(text.contains("<svg"));
                assert!(!text.contains("<script"));
            }
            _ => {}
        }
    }
}

#[test]
fn min_severity_above_every_incident_exits_zero() {
    let status = mailtrail()
        .args([
            "hunt",
            "--min-severity",
            "critical",
            "--format",
            "json",
            "-o",
            "/dev/null",
        ])
        .arg(shared("data/otrf-golden-saml/OfficeActivityEvents.json"))
        .arg(shared("data/otrf-golden-saml/AADAuditEvents.json"))
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(0));
}

#[test]
fn a_missing_input_is_an_error_with_exit_status_two() {
    let out = mailtrail()
        .args(["hunt", "/nonexistent/export.json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/export.json"));
}

/// An Exchange UAL record with id `id` (its time in seconds is the id's length), plus `extra`
/// fields.
fn exchange_record(id: &str, record_type: u32, op: &str, user: &str, extra: &str) -> String {
    format!(
        r#"{{"Id":"{id}","CreationTime":"2026-01-05T10:00:0{}","RecordType":{record_type},"Operation":"{op}","UserId":"{user}","Workload":"Exchange"{extra}}}"#,
        id.len() % 10
    )
}

/// Records are put in time order after reading only their time and id; one whose body is broken
/// is still reported at its line, counted against its file, and the rest is hunted.
#[test]
fn a_record_with_a_broken_body_is_reported_at_its_line_and_counted() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.ndjson");
    let record = |id: &str, extra: &str| {
        exchange_record(id, 1, "Set-Mailbox", "admin@contoso.example", extra)
    };
    let text = [
        record("first", ""),
        record("broken", r#","Parameters":"oops""#),
        record("third", ""),
    ]
    .join("\n");
    std::fs::write(&path, text).unwrap();
    let out = mailtrail()
        .args(["hunt", "--format", "json"])
        .arg(&path)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!("{}:2: ", path.display())) && stderr.contains("Parameters"),
        "{stderr}"
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let input = &report["coverage"]["inputs"][0];
    assert_eq!(
        (input["records"].as_u64(), input["rejected"].as_u64()),
        (Some(2), Some(1))
    );
    assert_eq!(report["coverage"]["rejected"].as_u64(), Some(1));
    // Rejected records make the exit status 1, as a finding would.
    assert_eq!(out.status.code(), Some(1));

    // With --strict the broken body stops the hunt, as a record that fails when read does.
    let strict = mailtrail()
        .args(["hunt", "--strict", "--format", "json"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(strict.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&strict.stderr).contains("--strict"));
}

/// A record whose messages come in a shape no export writes is hunted for the rest, and named
/// and counted as read in part, by a hunt over the file and by one over the store alike.
#[test]
fn a_record_read_in_part_is_named_and_counted_by_both_hunts() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.ndjson");
    let record = |id: &str, extra: &str| {
        exchange_record(id, 2, "MoveToDeletedItems", "alice@contoso.example", extra)
    };
    let text = [
        record("first", ""),
        record("odd-shape", r#","AffectedItems":42"#),
        record("third", ""),
    ]
    .join("\n");
    std::fs::write(&path, text).unwrap();
    let hunt = |args: &[&std::ffi::OsStr], format: &str| {
        let out = mailtrail()
            .args(["hunt", "--format", format])
            .args(args)
            .output()
            .unwrap();
        // Reading a record in part is not an error: the exit status is that of the findings.
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        (
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };

    let (json, stderr) = hunt(&[path.as_os_str()], "json");
    let warning = format!(
        "warning: {}:2: record odd-shape read in part: field AffectedItems",
        path.display()
    );
    assert!(stderr.contains(&warning), "{stderr}");
    let report: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(report["coverage"]["partial"].as_u64(), Some(1));
    assert_eq!(report["coverage"]["records"].as_u64(), Some(3));
    let (table, _) = hunt(&[path.as_os_str()], "table");
    assert!(table.contains("1 records read in part"), "{table}");

    let store = dir.path().join("store");
    succeed(mailtrail().args(["init", "--store"]).arg(&store));
    succeed(
        mailtrail()
            .args(["ingest", "--store"])
            .arg(&store)
            .arg(&path),
    );
    let (json, stderr) = hunt(&["--store".as_ref(), store.as_os_str()], "json");
    assert!(
        stderr.contains("warning: record odd-shape read in part: field AffectedItems"),
        "{stderr}"
    );
    let report: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(report["coverage"]["partial"].as_u64(), Some(1));
}

/// Every finding of a report as `(detector, sorted evidence)`, to compare two hunts.
fn findings(report: &serde_json::Value) -> Vec<(String, Vec<String>)> {
    let mut out: Vec<(String, Vec<String>)> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let mut evidence: Vec<String> = f["evidence"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e.as_str().unwrap().to_owned())
                .collect();
            evidence.sort();
            (f["detector"].as_str().unwrap().to_owned(), evidence)
        })
        .collect();
    out.sort();
    out
}

/// A retro-hunt over the evidence store finds what a hunt over the same exports finds, and
/// `--from` hunts only a later period, learning what is normal from the days before it.
#[test]
fn a_store_hunt_finds_what_the_exports_hunt_finds() {
    let tmp = tempfile::tempdir().unwrap();
    let sim = tmp.path().join("sim");
    simulate(
        &sim,
        &[
            "--users",
            "20",
            "--days",
            "21",
            "--seed",
            "11",
            "--scenarios",
            "storm-0558",
        ],
    );
    let exports = [
        sim.join("ual"),
        sim.join("signins.ndjson"),
        sim.join("directory_audit.ndjson"),
    ];
    let label: serde_json::Value = serde_json::from_str(
        std::fs::read_to_string(sim.join("labels.jsonl"))
            .unwrap()
            .lines()
            .next()
            .unwrap(),
    )
    .unwrap();
    let attack: Vec<&str> = label["record_ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();

    let hunt = |args: &[&std::ffi::OsStr]| {
        let out = mailtrail()
            .args(["hunt", "--format", "json"])
            .args(args)
            .output()
            .unwrap();
        assert_eq!(
            out.status.code().map(|c| c <= 1),
            Some(true),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()
    };
    let of_files = hunt(&exports.iter().map(|p| p.as_os_str()).collect::<Vec<_>>());

    let store = tmp.path().join("store");
    for args in [vec!["init"], vec!["ingest"]] {
        let mut c = mailtrail();
        c.args(&args).arg("--store").arg(&store);
        if args[0] == "ingest" {
            c.args(&exports);
        }
        succeed(&mut c);
    }
    let of_store = hunt(&["--store".as_ref(), store.as_os_str()]);

    let expected = findings(&of_files);
    assert!(
        expected
            .iter()
            .any(|(_, evidence)| evidence.iter().any(|e| attack.contains(&e.as_str()))),
        "the exports hunt finds the forged-token reads: {expected:#?}"
    );
    assert_eq!(findings(&of_store), expected);
    assert_eq!(
        of_store["incidents"].as_array().unwrap().len(),
        of_files["incidents"].as_array().unwrap().len()
    );

    // Hunting only the days after the intrusion: it is not reported again, and the baseline is
    // the two weeks before the period rather than its own first days.
    let end: jiff::Timestamp = label["end"].as_str().unwrap().parse().unwrap();
    let after = (end + jiff::SignedDuration::from_secs(1)).to_string();
    let later = hunt(&[
        "--store".as_ref(),
        store.as_os_str(),
        "--from".as_ref(),
        after.as_ref(),
    ]);
    for (detector, evidence) in findings(&later) {
        assert!(
            !evidence.iter().any(|e| attack.contains(&e.as_str())),
            "{detector} reported the earlier intrusion"
        );
    }
    let baseline = &later["coverage"]["baseline"];
    assert_eq!(baseline["mode"], "explicit", "{baseline}");
    assert!(baseline["records"].as_u64().unwrap() > 0, "{baseline}");
    assert_eq!(
        later["coverage"]["inputs"][0]["records"]
            .as_u64()
            .map(|n| n > 0),
        Some(true)
    );
}
