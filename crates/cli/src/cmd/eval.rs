//! `mailtrail eval`: score a hunt report against the labels `mailtrail simulate` wrote.
//!
//! An attack counts as detected when a finding of at least medium severity — one that can open an
//! incident on its own, not context that merely joined one — names any of its records. Evidence
//! precision is the share of those incidents' evidence records that belong to the attack; recall
//! the share of the attack's records the evidence names. Incidents whose evidence touches no
//! attack are false positives, reported per 1,000 user-days of data.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use mailtrail_detect::Report;
use serde::{Deserialize, Serialize};

/// Arguments of `mailtrail eval`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The hunt report, as written by `mailtrail hunt --format json`.
    #[arg(value_name = "REPORT")]
    report: PathBuf,
    /// The labels written by `mailtrail simulate` (labels.jsonl).
    #[arg(long, value_name = "FILE")]
    truth: PathBuf,
    /// User-days of the data, for the false-positive rate [default: from tenant.json beside the
    /// labels: users × days].
    #[arg(long, value_name = "N")]
    user_days: Option<f64>,
    /// Output format.
    #[arg(long, default_value = "table", value_parser = ["table", "json"])]
    format: String,
    /// The most false-positive incidents per 1,000 user-days that still passes.
    #[arg(long, default_value_t = 1.0)]
    max_fp_rate: f64,
}

/// One labelled attack instance.
#[derive(Debug, Deserialize)]
pub(crate) struct Label {
    scenario: String,
    #[serde(default)]
    instance: Option<String>,
    record_ids: Vec<String>,
}

/// The score of one attack instance.
#[derive(Debug, Serialize)]
pub(crate) struct Scored {
    scenario: String,
    instance: String,
    detected: bool,
    incidents: Vec<String>,
    /// Share of the matched incidents' evidence that belongs to this attack.
    evidence_precision: f64,
    /// Share of this attack's records named as evidence.
    evidence_recall: f64,
    /// Detectors that contributed evidence of this attack.
    detectors: Vec<String>,
}

/// The whole score.
#[derive(Debug, Serialize)]
pub(crate) struct Score {
    attacks: Vec<Scored>,
    detected: usize,
    false_positive_incidents: Vec<String>,
    user_days: Option<f64>,
    false_positives_per_1000_user_days: Option<f64>,
    pass: bool,
}

pub(crate) fn run(args: Args) -> anyhow::Result<ExitCode> {
    let report: Report = serde_json::from_reader(std::io::BufReader::new(
        std::fs::File::open(&args.report)
            .with_context(|| format!("cannot open report {}", args.report.display()))?,
    ))
    .with_context(|| {
        format!(
            "{} is not a hunt report (write one with `mailtrail hunt --format json -o FILE`)",
            args.report.display()
        )
    })?;
    let labels = read_labels(&args.truth)?;
    let user_days = match args.user_days {
        Some(n) => Some(n),
        None => user_days_beside(&args.truth)?,
    };
    let score = score(&report, &labels, user_days, args.max_fp_rate);
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if args.format == "json" {
        serde_json::to_writer_pretty(&mut out, &score)?;
        writeln!(out)?;
    } else {
        render(&score, &mut out)?;
    }
    Ok(if score.pass {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

pub(crate) fn read_labels(path: &Path) -> anyhow::Result<Vec<Label>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read labels {}", path.display()))?;
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            serde_json::from_str(l)
                .with_context(|| format!("{}:{}: not a label line", path.display(), i + 1))
        })
        .collect()
}

/// `users × days` from the `tenant.json` that `simulate` writes beside `labels.jsonl`.
fn user_days_beside(labels: &Path) -> anyhow::Result<Option<f64>> {
    let Some(dir) = labels.parent() else {
        return Ok(None);
    };
    let path = dir.join("tenant.json");
    if !path.exists() {
        return Ok(None);
    }
    let tenant: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path)?)
        .with_context(|| format!("{} is not JSON", path.display()))?;
    let users = tenant["users"].as_array().map(|u| u.len() as f64);
    let days = tenant["period"]["days"].as_f64();
    Ok(users.zip(days).map(|(u, d)| u * d))
}

pub(crate) fn score(
    report: &Report,
    labels: &[Label],
    user_days: Option<f64>,
    max_fp: f64,
) -> Score {
    let findings: HashMap<&str, &mailtrail_detect::Finding> =
        report.findings.iter().map(|f| (f.id.as_str(), f)).collect();
    // Evidence of each incident, and which detector named each record.
    let incidents: Vec<(&str, HashMap<&str, &str>)> = report
        .incidents
        .iter()
        .map(|i| {
            let mut evidence = HashMap::new();
            for id in &i.findings {
                if let Some(f) = findings.get(id.as_str()) {
                    for r in &f.evidence {
                        evidence.entry(r.as_str()).or_insert(f.detector.as_str());
                    }
                }
            }
            (i.id.as_str(), evidence)
        })
        .collect();
    // Records named by a finding strong enough to open an incident.
    let anchored: HashSet<&str> = report
        .incidents
        .iter()
        .flat_map(|i| &i.findings)
        .filter_map(|id| findings.get(id.as_str()))
        .filter(|f| f.severity >= mailtrail_detect::Severity::Medium)
        .flat_map(|f| f.evidence.iter().map(String::as_str))
        .collect();
    let mut touched: HashSet<&str> = HashSet::new();
    let mut attacks = Vec::new();
    for (n, label) in labels.iter().enumerate() {
        let truth: HashSet<&str> = label.record_ids.iter().map(String::as_str).collect();
        let mut matched = Vec::new();
        let mut evidence: HashSet<&str> = HashSet::new();
        let mut hits: HashSet<&str> = HashSet::new();
        let mut detectors = BTreeMap::new();
        for (id, ev) in &incidents {
            if ev.keys().any(|r| truth.contains(r)) {
                matched.push((*id).to_owned());
                touched.insert(id);
                for (r, d) in ev {
                    evidence.insert(r);
                    if truth.contains(r) {
                        hits.insert(r);
                        detectors.insert(d.to_string(), ());
                    }
                }
            }
        }
        let ratio = |a: usize, b: usize| if b == 0 { 0.0 } else { a as f64 / b as f64 };
        attacks.push(Scored {
            scenario: label.scenario.clone(),
            instance: label
                .instance
                .clone()
                .unwrap_or_else(|| format!("{}-{}", label.scenario, n + 1)),
            detected: truth.iter().any(|r| anchored.contains(r)),
            incidents: matched,
            evidence_precision: ratio(hits.len(), evidence.len()),
            evidence_recall: ratio(hits.len(), truth.len()),
            detectors: detectors.into_keys().collect(),
        });
    }
    let false_positive_incidents: Vec<String> = incidents
        .iter()
        .filter(|(id, _)| !touched.contains(id))
        .map(|(id, _)| (*id).to_owned())
        .collect();
    let rate = user_days
        .filter(|d| *d > 0.0)
        .map(|d| false_positive_incidents.len() as f64 * 1000.0 / d);
    let detected = attacks.iter().filter(|a| a.detected).count();
    let pass = detected == attacks.len() && rate.is_none_or(|r| r <= max_fp);
    Score {
        attacks,
        detected,
        false_positive_incidents,
        user_days,
        false_positives_per_1000_user_days: rate,
        pass,
    }
}

pub(crate) fn render(score: &Score, out: &mut impl Write) -> std::io::Result<()> {
    writeln!(
        out,
        "{:<24} {:<9} {:>9} {:>7}  detectors",
        "attack", "detected", "precision", "recall"
    )?;
    for a in &score.attacks {
        writeln!(
            out,
            "{:<24} {:<9} {:>8.0}% {:>6.0}%  {}",
            a.instance,
            if a.detected { "yes" } else { "MISSED" },
            a.evidence_precision * 100.0,
            a.evidence_recall * 100.0,
            a.detectors.join(", ")
        )?;
    }
    writeln!(
        out,
        "\n{} of {} attacks detected; {} false-positive incident{}{}",
        score.detected,
        score.attacks.len(),
        score.false_positive_incidents.len(),
        if score.false_positive_incidents.len() == 1 {
            ""
        } else {
            "s"
        },
        match (score.false_positives_per_1000_user_days, score.user_days) {
            (Some(r), Some(d)) => format!(" ({r:.2} per 1,000 user-days over {d:.0} user-days)"),
            _ => String::new(),
        }
    )?;
    if !score.false_positive_incidents.is_empty() {
        writeln!(
            out,
            "false positives: {}",
            score.false_positive_incidents.join(", ")
        )?;
    }
    writeln!(out, "{}", if score.pass { "PASS" } else { "FAIL" })
}

#[cfg(test)]
mod tests {
    use mailtrail_detect::{Finding, Incident, Severity};

    use super::*;

    fn finding(id: &str, evidence: &[&str]) -> Finding {
        Finding {
            id: id.into(),
            detector: "d".into(),
            title: String::new(),
            severity: Severity::High,
            attack: vec![],
            tenant: None,
            first: Default::default(),
            last: Default::default(),
            entities: Default::default(),
            evidence: evidence.iter().map(|s| (*s).to_owned()).collect(),
            reason: String::new(),
        }
    }

    fn incident(id: &str, findings: &[&str]) -> Incident {
        Incident {
            id: id.into(),
            title: String::new(),
            severity: Severity::High,
            first: Default::default(),
            last: Default::default(),
            findings: findings.iter().map(|s| (*s).to_owned()).collect(),
            entities: Default::default(),
            attack: vec![],
            blast_radius: Default::default(),
            timeline: vec![],
            timeline_omitted: 0,
        }
    }

    #[test]
    fn detection_precision_recall_and_false_positives_are_counted() {
        let report = Report {
            findings: vec![finding("f1", &["a1", "a2", "x"]), finding("f2", &["y"])],
            incidents: vec![incident("i1", &["f1"]), incident("i2", &["f2"])],
            ..Default::default()
        };
        let labels = vec![
            Label {
                scenario: "s".into(),
                instance: None,
                record_ids: vec!["a1".into(), "a2".into(), "a3".into(), "a4".into()],
            },
            Label {
                scenario: "t".into(),
                instance: None,
                record_ids: vec!["z".into()],
            },
        ];
        let s = score(&report, &labels, Some(1000.0), 1.0);
        assert!(s.attacks[0].detected);
        assert!((s.attacks[0].evidence_precision - 2.0 / 3.0).abs() < 1e-9);
        assert!((s.attacks[0].evidence_recall - 0.5).abs() < 1e-9);
        assert!(!s.attacks[1].detected);
        assert_eq!(s.false_positive_incidents, ["i2"]);
        assert_eq!(s.false_positives_per_1000_user_days, Some(1.0));
        assert!(!s.pass, "a missed attack fails");

        // Named only by context that joined an incident, an attack is not detected.
        let mut weak = finding("f3", &["z"]);
        weak.severity = Severity::Low;
        let report = Report {
            findings: vec![finding("f1", &["a1"]), weak],
            incidents: vec![incident("i1", &["f1", "f3"])],
            ..Default::default()
        };
        let s = score(&report, &labels, Some(1000.0), 1.0);
        assert!(s.attacks[0].detected);
        assert!(!s.attacks[1].detected);
        assert_eq!(s.attacks[1].incidents, ["i1"]);
    }
}
