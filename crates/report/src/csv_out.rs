//! CSV: one finding per row, with its incident.

use std::io::{self, Write};

use mailtrail_detect::Report;

pub(crate) fn render(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    let to_io = |e: csv::Error| io::Error::other(e.to_string());
    w.write_record([
        "finding_id",
        "incident_id",
        "severity",
        "detector",
        "title",
        "first",
        "last",
        "tenant",
        "users",
        "mailboxes",
        "apps",
        "ips",
        "attack",
        "evidence_count",
        "evidence",
        "reason",
    ])
    .map_err(to_io)?;
    for f in &report.findings {
        let join = |items: Vec<String>| items.join(";");
        w.write_record([
            f.id.clone(),
            crate::incident_of(report, &f.id).unwrap_or_default(),
            f.severity.to_string(),
            f.detector.clone(),
            f.title.clone(),
            f.first.to_string(),
            f.last.to_string(),
            f.tenant.clone().unwrap_or_default(),
            join(f.entities.users.iter().cloned().collect()),
            join(f.entities.mailboxes.iter().cloned().collect()),
            join(f.entities.apps.iter().cloned().collect()),
            join(f.entities.ips.iter().map(|i| i.to_string()).collect()),
            join(f.attack.clone()),
            f.evidence.len().to_string(),
            join(f.evidence.clone()),
            f.reason.clone(),
        ])
        .map_err(to_io)?;
    }
    w.flush()
}
