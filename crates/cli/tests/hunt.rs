//! `mailtrail hunt` run as a user runs it, on real third-party data and on generated tenants.

use std::path::PathBuf;
use std::process::Command;

fn mailtrail() -> Command {
    Command::new(env!("CARGO_BIN_EXE_mailtrail"))
}

fn shared(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared").join(rel)
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
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let incidents = report["incidents"].as_array().unwrap();
    assert_eq!(incidents.len(), 1, "{report:#}");
    let incident = &incidents[0];
    assert_eq!(incident["severity"], "high");
    let apps = incident["entities"]["apps"].to_string();
    assert!(apps.contains("5a95e683-08ad-424e-a441-1d1aec52c02c"), "{apps}");

    // The blast radius: pgustavo's inbox, with the messages the application opened.
    let mailboxes = incident["blast_radius"]["mailboxes"].as_array().unwrap();
    assert_eq!(mailboxes.len(), 1);
    assert_eq!(mailboxes[0]["mailbox"], "pgustavo@simulandlabs.com");
    assert_eq!(mailboxes[0]["folders_bound"][0][0], "\\Inbox");
    let ids = mailboxes[0]["message_ids"].as_array().unwrap();
    assert_eq!(ids.len(), 6, "seven reads, six distinct messages");
    assert!(ids.iter().any(|i| i.as_str().unwrap().contains("@AB1CD23EF4567.abcdef12.prod.outlook.com")));

    // The evidence names the grant, the credential and the read.
    let findings = report["findings"].as_array().unwrap();
    let chain = findings
        .iter()
        .find(|f| f["detector"] == "grant-then-mail-read")
        .expect("the grant-then-read sequence is a finding");
    let evidence: Vec<&str> = chain["evidence"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    assert!(evidence.contains(&"699e0b10-1c53-403e-976f-ce0847a92b44"), "{evidence:?}");
    assert!(evidence.iter().any(|e| e.starts_with("Directory_630d7f0c")), "{evidence:?}");

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
        assert!(text.contains("5a95e683-08ad-424e-a441-1d1aec52c02c"), "{format}: {text}");
        match format {
            "jsonl" => {
                for line in text.lines() {
                    let v: serde_json::Value = serde_json::from_str(line).unwrap();
                    assert!(["incident", "finding", "coverage"].contains(&v["type"].as_str().unwrap()));
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
        .args(["hunt", "--min-severity", "critical", "--format", "json", "-o", "/dev/null"])
        .arg(shared("data/otrf-golden-saml/OfficeActivityEvents.json"))
        .arg(shared("data/otrf-golden-saml/AADAuditEvents.json"))
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(0));
}

#[test]
fn a_missing_input_is_an_error_with_exit_status_two() {
    let out = mailtrail().args(["hunt", "/nonexistent/export.json"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/export.json"));
}
