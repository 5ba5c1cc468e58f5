//! One self-contained HTML page: no scripts, no fonts, no network. It can be mailed, archived with
//! the case file, and opened on an air-gapped machine years later.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{self, Write};

use mailtrail_detect::{Finding, Incident, Report};

use crate::table::thousands;
use crate::time;

const STYLE: &str = r#"
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:#1d2330;background:#f6f7f9}
header{background:#1d2330;color:#fff;padding:18px 28px}header h1{margin:0;font-size:20px}
header p{margin:4px 0 0;color:#c9d0dc}main{padding:20px 28px;max-width:1200px}
section.incident{background:#fff;border:1px solid #dde1e7;border-radius:6px;margin:0 0 22px;padding:16px 20px}
h2{font-size:17px;margin:0 0 6px}h3{font-size:14px;margin:16px 0 6px;color:#3b4556}
.sev{display:inline-block;padding:1px 8px;border-radius:10px;font-size:12px;font-weight:600;color:#fff;margin-right:8px}
.critical{background:#8b0000}.high{background:#c0392b}.medium{background:#d68910}.low{background:#2e86c1}.informational{background:#7f8c8d}
table{border-collapse:collapse;width:100%;font-size:13px}th,td{border-bottom:1px solid #eceff3;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f0f2f5;font-weight:600}code{font-size:12px;word-break:break-all}.muted{color:#6b7585}
details summary{cursor:pointer;color:#2e5e9e}svg text{font-size:11px;fill:#3b4556}
ul.ids{columns:2;font-size:12px;margin:6px 0}dl{display:grid;grid-template-columns:110px 1fr;gap:2px 12px;margin:6px 0}dt{color:#6b7585}dd{margin:0}
"#;

pub(crate) fn render(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let mut h = String::with_capacity(64 * 1024);
    let c = &report.coverage;
    h.push_str("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">");
    h.push_str("<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">");
    h.push_str("<title>mailtrail hunt report</title><style>");
    h.push_str(STYLE);
    h.push_str("</style></head><body><header><h1>mailtrail hunt report</h1><p>");
    let _ = write!(
        h,
        "{} incidents, {} findings, {} records",
        report.incidents.len(),
        report.findings.len(),
        thousands(c.records)
    );
    if let (Some(a), Some(b)) = (c.first, c.last) {
        let _ = write!(h, " from {} to {}", esc(&time(a)), esc(&time(b)));
    }
    h.push_str("</p></header><main>");
    if report.incidents.is_empty() {
        h.push_str("<p>No incidents. See the coverage section for what was analysed.</p>");
    }
    for incident in &report.incidents {
        render_incident(&mut h, report, incident);
    }
    render_coverage(&mut h, report);
    h.push_str("</main></body></html>\n");
    out.write_all(h.as_bytes())
}

fn render_incident(h: &mut String, report: &Report, i: &Incident) {
    let findings: Vec<&Finding> = i
        .findings
        .iter()
        .filter_map(|id| report.findings.iter().find(|f| &f.id == id))
        .collect();
    let _ = write!(
        h,
        "<section class=\"incident\" id=\"{id}\"><h2><span class=\"sev {sev}\">{sev}</span>{title}</h2>\
         <p class=\"muted\">{id} · {first} → {last}</p>",
        id = esc(&i.id),
        sev = i.severity.as_str(),
        title = esc(&i.title),
        first = esc(&time(i.first)),
        last = esc(&time(i.last)),
    );
    if let Some(lead) = findings.first() {
        let _ = write!(h, "<p>{}</p>", esc(&lead.reason));
    }
    let e = &i.entities;
    h.push_str("<dl>");
    let row = |h: &mut String, name: &str, items: Vec<String>| {
        if !items.is_empty() {
            let _ = write!(h, "<dt>{name}</dt><dd>{}</dd>", esc(&items.join(", ")));
        }
    };
    row(h, "users", e.users.iter().cloned().collect());
    row(h, "mailboxes", e.mailboxes.iter().cloned().collect());
    row(h, "applications", e.apps.iter().cloned().collect());
    row(
        h,
        "addresses",
        e.ips.iter().map(|i| i.to_string()).collect(),
    );
    row(h, "ATT&CK", i.attack.clone());
    h.push_str("</dl>");

    h.push_str("<h3>Timeline</h3>");
    timeline_svg(h, i, &findings);

    let b = &i.blast_radius;
    let _ = write!(
        h,
        "<h3>Blast radius</h3><p>{} mailboxes, {} messages opened, {} folders synchronised \
         (a synchronised folder must be assumed read in full), {} MailItemsAccessed records.</p>",
        b.mailboxes.len(),
        thousands(b.messages),
        b.folders_synced,
        thousands(b.records)
    );
    if !b.mailboxes.is_empty() {
        h.push_str(
            "<table><tr><th>Mailbox</th><th>Records</th><th>Messages</th><th>Folders (messages)</th>\
             <th>Synchronised</th><th>First – last read</th></tr>",
        );
        for m in &b.mailboxes {
            let folders: Vec<String> = m
                .folders_bound
                .iter()
                .map(|(f, n)| format!("{f} ({n})"))
                .collect();
            let _ = write!(
                h,
                "<tr><td>{}{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{} – {}</td></tr>",
                esc(&m.mailbox),
                if m.throttled {
                    " <strong>throttled: more read than logged</strong>"
                } else {
                    ""
                },
                m.records,
                m.messages,
                esc(&folders.join(", ")),
                esc(&m.folders_synced.join(", ")),
                m.first.map(time).unwrap_or_default(),
                m.last.map(time).unwrap_or_default(),
            );
            if !m.message_ids.is_empty() {
                let _ = write!(
                    h,
                    "<tr><td colspan=\"6\"><details><summary>{} InternetMessageIds</summary><ul class=\"ids\">",
                    m.message_ids.len()
                );
                for id in &m.message_ids {
                    let _ = write!(h, "<li><code>{}</code></li>", esc(id));
                }
                h.push_str("</ul></details></td></tr>");
            }
        }
        h.push_str("</table>");
    }

    h.push_str("<h3>Findings</h3><table><tr><th>Severity</th><th>Detector</th><th>Finding</th><th>Records</th></tr>");
    for f in &findings {
        let _ = write!(
            h,
            "<tr><td><span class=\"sev {s}\">{s}</span></td><td><code>{}</code></td><td><strong>{}</strong><br>{}\
             <details><summary>evidence record ids</summary><code>{}</code></details></td><td>{}</td></tr>",
            esc(&f.detector),
            esc(&f.title),
            esc(&f.reason),
            esc(&f.evidence.join(" ")),
            f.evidence.len(),
            s = f.severity.as_str(),
        );
    }
    h.push_str("</table>");
    if !i.timeline.is_empty() {
        h.push_str("<details><summary>Evidence records in time order</summary><table><tr><th>Time</th><th>Operation</th><th>User</th><th>Mailbox</th><th>Address</th><th>Application</th><th>Record</th></tr>");
        for t in &i.timeline {
            let _ = write!(
                h,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td><code>{}</code></td><td><code>{}</code></td></tr>",
                esc(&time(t.time)),
                esc(&t.operation),
                esc(t.user.as_deref().unwrap_or("")),
                esc(t.mailbox.as_deref().unwrap_or("")),
                t.ip.map(|i| i.to_string()).unwrap_or_default(),
                esc(t.app.as_deref().unwrap_or("")),
                esc(&t.record_id),
            );
        }
        if i.timeline_omitted > 0 {
            let _ = write!(
                h,
                "<tr><td colspan=\"7\">… {} more records (see the findings' evidence lists)</td></tr>",
                i.timeline_omitted
            );
        }
        h.push_str("</table></details>");
    }
    h.push_str("</section>");
}

/// One lane per finding, one mark per evidence record, mail reads filled.
fn timeline_svg(h: &mut String, i: &Incident, findings: &[&Finding]) {
    const LEFT: f64 = 230.0;
    const WIDTH: f64 = 900.0;
    const LANE: f64 = 22.0;
    let lanes: BTreeMap<&str, usize> = findings
        .iter()
        .enumerate()
        .map(|(n, f)| (f.id.as_str(), n))
        .collect();
    let height = LANE * findings.len().max(1) as f64 + 30.0;
    let (t0, t1) = (i.first.as_millisecond(), i.last.as_millisecond());
    let span = (t1 - t0).max(1) as f64;
    let _ = write!(
        h,
        "<svg role=\"img\" aria-label=\"timeline\" viewBox=\"0 0 {w} {height}\" width=\"100%\" \
         preserveAspectRatio=\"xMinYMin meet\">",
        w = LEFT + WIDTH + 20.0
    );
    for (n, f) in findings.iter().enumerate() {
        let y = LANE * n as f64 + 14.0;
        let mut label = f.title.clone();
        if label.chars().count() > 36 {
            label = label.chars().take(35).collect::<String>() + "…";
        }
        let _ = write!(
            h,
            "<text x=\"4\" y=\"{}\">{}</text><line x1=\"{LEFT}\" x2=\"{}\" y1=\"{y}\" y2=\"{y}\" stroke=\"#e3e7ed\"/>",
            y + 4.0,
            esc(&label),
            LEFT + WIDTH
        );
    }
    for t in &i.timeline {
        let Some(&lane) = lanes.get(t.finding.as_str()) else {
            continue;
        };
        let x = LEFT + (t.time.as_millisecond() - t0) as f64 / span * WIDTH;
        let y = LANE * lane as f64 + 14.0;
        let read = t.operation == "MailItemsAccessed";
        let _ = write!(
            h,
            "<circle cx=\"{x:.1}\" cy=\"{y}\" r=\"4\" fill=\"{}\" stroke=\"#c0392b\"><title>{} {} {}</title></circle>",
            if read { "#c0392b" } else { "#fff" },
            esc(&time(t.time)),
            esc(&t.operation),
            esc(t.mailbox.as_deref().unwrap_or(""))
        );
    }
    let axis_y = height - 8.0;
    let _ = write!(
        h,
        "<text x=\"{LEFT}\" y=\"{axis_y}\">{}</text><text x=\"{}\" y=\"{axis_y}\" text-anchor=\"end\">{}</text></svg>\
         <p class=\"muted\">Filled marks are MailItemsAccessed records; open marks are other activity.</p>",
        esc(&time(i.first)),
        LEFT + WIDTH,
        esc(&time(i.last))
    );
}

fn render_coverage(h: &mut String, report: &Report) {
    let c = &report.coverage;
    h.push_str(
        "<section class=\"incident\"><h2>Coverage</h2><table><tr><th>What</th><th>Value</th></tr>",
    );
    let row = |h: &mut String, k: &str, v: String| {
        let _ = write!(h, "<tr><td>{}</td><td>{}</td></tr>", esc(k), esc(&v));
    };
    for input in &c.inputs {
        row(
            h,
            &format!("input {}", input.path),
            match &input.error {
                Some(e) => format!("not read: {e}"),
                None => format!("{} records, {} rejected", input.records, input.rejected),
            },
        );
    }
    for (k, n) in &c.per_source {
        row(h, &format!("source format {k}"), thousands(*n));
    }
    for (k, n) in &c.per_kind {
        row(h, &format!("records: {k}"), thousands(*n));
    }
    if c.partial > 0 {
        row(
            h,
            "records read in part",
            format!(
                "{}: what they left unread was not analysed",
                thousands(c.partial)
            ),
        );
    }
    let b = &c.baseline;
    row(
        h,
        "baseline",
        match (b.start, b.end) {
            (Some(s), Some(e)) => format!(
                "{} ({} → {}), {} records{}",
                b.mode,
                time(s),
                time(e),
                b.records,
                if b.covers_all_data {
                    "; covers all the data: first-seen detectors could not fire"
                } else {
                    ""
                }
            ),
            _ => b.mode.clone(),
        },
    );
    for d in &c.detectors {
        row(
            h,
            &format!("detector {}", d.name),
            match &d.note {
                Some(n) => format!("{}: {n}", d.status),
                None => d.status.clone(),
            },
        );
    }
    if let Some(s) = &c.sigma {
        row(
            h,
            "sigma rules",
            format!(
                "{} applied, {} not applicable, {} skipped",
                s.loaded,
                s.not_applicable,
                s.skipped.len()
            ),
        );
    }
    h.push_str("</table><details><summary>Records per operation</summary><table>");
    for (op, n) in &c.per_operation {
        let _ = write!(h, "<tr><td>{}</td><td>{}</td></tr>", esc(op), thousands(*n));
    }
    h.push_str("</table></details></section>");
}

/// Escapes text for HTML element content and double-quoted attributes.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_from_logs_cannot_inject_markup() {
        assert_eq!(
            esc("<script>\"x\"&'y'"),
            "&lt;script&gt;&quot;x&quot;&amp;&#39;y&#39;"
        );
    }

    #[test]
    fn the_page_loads_nothing_from_the_network() {
        let mut out = Vec::new();
        render(&Report::default(), &mut out).unwrap();
        let page = String::from_utf8(out).unwrap();
        assert!(page.starts_with("<!DOCTYPE html>"));
        for forbidden in ["<script", "http://", "https://", "<link", "@import", "url("] {
            assert!(!page.contains(forbidden), "{forbidden}");
        }
    }
}
