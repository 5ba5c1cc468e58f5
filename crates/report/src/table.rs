//! The terminal summary: incidents first, with what was read; then what the hunt covered.

use std::collections::HashSet;
use std::io::{self, Write};

use mailtrail_detect::{Incident, Report, Severity};

use crate::time;

pub(crate) fn render(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let c = &report.coverage;
    let span = match (c.first, c.last) {
        (Some(a), Some(b)) => format!(" from {} to {}", time(a), time(b)),
        _ => String::new(),
    };
    writeln!(
        out,
        "{} incident{}{}, {} finding{}, {} records{span}",
        report.incidents.len(),
        plural(report.incidents.len()),
        severity_counts(report.incidents.iter().map(|i| i.severity)),
        report.findings.len(),
        plural(report.findings.len()),
        thousands(c.records),
    )?;
    for incident in &report.incidents {
        writeln!(out)?;
        render_incident(report, incident, out)?;
    }
    let in_incidents: HashSet<&str> = report
        .incidents
        .iter()
        .flat_map(|i| i.findings.iter().map(String::as_str))
        .collect();
    let loose: Vec<_> = report
        .findings
        .iter()
        .filter(|f| !in_incidents.contains(f.id.as_str()))
        .collect();
    if !loose.is_empty() {
        writeln!(out)?;
        writeln!(
            out,
            "{} finding{} outside incidents (too weak alone):",
            loose.len(),
            plural(loose.len())
        )?;
        for f in loose.iter().take(10) {
            writeln!(
                out,
                "  {:<13} {:<30} {} ({} record{})",
                f.severity.as_str(),
                f.detector,
                f.title,
                f.evidence.len(),
                plural(f.evidence.len())
            )?;
        }
        if loose.len() > 10 {
            writeln!(
                out,
                "  … and {} more (--format json lists all)",
                loose.len() - 10
            )?;
        }
    }
    writeln!(out)?;
    render_coverage(report, out)
}

fn render_incident(report: &Report, i: &Incident, out: &mut dyn Write) -> io::Result<()> {
    writeln!(
        out,
        "[{}] {}  {}",
        i.severity.as_str().to_uppercase(),
        i.id,
        i.title
    )?;
    writeln!(out, "  when      {} → {}", time(i.first), time(i.last))?;
    let e = &i.entities;
    let mut who = Vec::new();
    if !e.users.is_empty() {
        who.push(format!("users {}", list(e.users.iter(), 4)));
    }
    if !e.ips.is_empty() {
        who.push(format!("from {}", list(e.ips.iter(), 4)));
    }
    if !e.apps.is_empty() {
        who.push(format!("apps {}", list(e.apps.iter(), 3)));
    }
    if !who.is_empty() {
        writeln!(out, "  who       {}", who.join("; "))?;
    }
    let b = &i.blast_radius;
    if b.records > 0 {
        writeln!(
            out,
            "  read      {} mailbox{}, {} message{} opened, {} folder{} synchronised ({} MailItemsAccessed records)",
            b.mailboxes.len(),
            if b.mailboxes.len() == 1 { "" } else { "es" },
            thousands(b.messages),
            plural(b.messages as usize),
            b.folders_synced,
            plural(b.folders_synced as usize),
            thousands(b.records),
        )?;
        for m in b.mailboxes.iter().take(8) {
            let mut parts = Vec::new();
            if m.messages > 0 {
                let folders: Vec<String> = m
                    .folders_bound
                    .iter()
                    .take(4)
                    .map(|(f, n)| format!("{f} ({n})"))
                    .collect();
                parts.push(format!("{} messages in {}", m.messages, folders.join(", ")));
            }
            if !m.folders_synced.is_empty() {
                parts.push(format!("synced {}", list(m.folders_synced.iter(), 4)));
            }
            if m.throttled {
                parts.push("THROTTLED: more was read than logged".into());
            }
            writeln!(out, "            {:<32} {}", m.mailbox, parts.join("; "))?;
        }
        if b.mailboxes.len() > 8 {
            writeln!(
                out,
                "            … and {} more mailboxes",
                b.mailboxes.len() - 8
            )?;
        }
    }
    // Findings that could open an incident one by one; the context below medium folded by kind,
    // so forty "unusual volume" notes of one harvest take one line.
    let members: Vec<_> = i
        .findings
        .iter()
        .filter_map(|id| report.findings.iter().find(|f| &f.id == id))
        .collect();
    let mut context: Vec<(&mailtrail_detect::Finding, usize, usize)> = Vec::new();
    let mut label = "findings ";
    for f in &members {
        if f.severity < Severity::Medium {
            match context
                .iter_mut()
                .find(|(c, _, _)| c.detector == f.detector && c.title == f.title)
            {
                Some((_, n, records)) => {
                    *n += 1;
                    *records += f.evidence.len();
                }
                None => context.push((f, 1, f.evidence.len())),
            }
            continue;
        }
        writeln!(
            out,
            "  {label} {} {:<9} {:<30} {} ({} record{})",
            f.id,
            f.severity.as_str(),
            f.detector,
            f.title,
            f.evidence.len(),
            plural(f.evidence.len())
        )?;
        label = "         ";
    }
    for (f, n, records) in context {
        let id = if n == 1 {
            f.id.clone()
        } else {
            format!("{:<14}", format!("{n} findings"))
        };
        writeln!(
            out,
            "  {label} {id} {:<9} {:<30} {} ({records} record{})",
            f.severity.as_str(),
            f.detector,
            f.title,
            plural(records)
        )?;
        label = "         ";
    }
    if let Some(lead) = i
        .findings
        .first()
        .and_then(|id| report.findings.iter().find(|f| &f.id == id))
    {
        writeln!(out, "  why       {}", lead.reason)?;
    }
    if !i.attack.is_empty() {
        writeln!(out, "  att&ck    {}", i.attack.join(", "))?;
    }
    Ok(())
}

fn render_coverage(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let c = &report.coverage;
    let kinds: Vec<String> = c
        .per_kind
        .iter()
        .map(|(k, n)| format!("{} {}", thousands(*n), k.replace('_', " ")))
        .collect();
    writeln!(
        out,
        "coverage  {} records: {}",
        thousands(c.records),
        kinds.join(", ")
    )?;
    if c.rejected > 0 {
        writeln!(
            out,
            "          {} malformed records rejected (see stderr)",
            thousands(c.rejected)
        )?;
    }
    if c.partial > 0 {
        writeln!(
            out,
            "          {} records read in part: what they left unread was not analysed (see stderr)",
            thousands(c.partial)
        )?;
    }
    let b = &c.baseline;
    match (b.mode.as_str(), b.start, b.end) {
        ("explicit", Some(s), Some(e)) => writeln!(
            out,
            "baseline  learned from {} records before the hunted data ({} → {})",
            thousands(b.records),
            time(s),
            time(e)
        )?,
        ("explicit", _, _) => writeln!(
            out,
            "baseline  learned from {} records before the hunted data",
            thousands(b.records)
        )?,
        (_, Some(s), Some(e)) => writeln!(
            out,
            "baseline  first {} days of the data ({} → {}){}",
            b.days.unwrap_or(0),
            time(s),
            time(e),
            if b.covers_all_data {
                ": it covers ALL the data, so first-seen detectors could not fire \
                 (use --baseline PATH or --baseline-days N)"
            } else {
                ""
            }
        )?,
        _ => writeln!(out, "baseline  none (no data)")?,
    }
    for d in &c.detectors {
        if d.status == "ran" {
            continue;
        }
        writeln!(
            out,
            "detector  {} {}: {}",
            d.name,
            if d.status == "not-run" {
                "DID NOT RUN"
            } else {
                "limited"
            },
            d.note.as_deref().unwrap_or("")
        )?;
    }
    if let Some(s) = &c.sigma {
        writeln!(
            out,
            "sigma     {} rules applied, {} not applicable to these logs, {} skipped",
            s.loaded,
            s.not_applicable,
            s.skipped.len()
        )?;
    }
    Ok(())
}

fn severity_counts(levels: impl Iterator<Item = Severity>) -> String {
    let mut counts = [0usize; 5];
    for l in levels {
        counts[l as usize] += 1;
    }
    let parts: Vec<String> = Severity::ALL
        .iter()
        .rev()
        .filter(|l| counts[**l as usize] > 0)
        .map(|l| format!("{} {}", counts[*l as usize], l.as_str()))
        .collect();
    if parts.is_empty() {
        String::new()
    } else {
        format!(" ({})", parts.join(", "))
    }
}

fn list<T: std::fmt::Display>(items: impl ExactSizeIterator<Item = T>, max: usize) -> String {
    let n = items.len();
    let mut shown: Vec<String> = items.take(max).map(|i| i.to_string()).collect();
    if n > max {
        shown.push(format!("+{} more", n - max));
    }
    shown.join(", ")
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

pub(crate) fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_are_grouped() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(1234567), "1,234,567");
    }
}
