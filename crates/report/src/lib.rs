//! Renders a hunt [`Report`] for people and for machines.
//!
//! # Brief overview
//!
//! [`render`] writes a [`Report`] in one of the [`Format`]s: a terminal summary an investigator
//! reads first, JSON (`{"incidents":[…],"findings":[…],"coverage":{…}}`), JSON lines (one incident,
//! finding or coverage object per line, tagged by `type`), CSV (one finding per row) and one
//! self-contained HTML page — no network, no scripts — with the incident list, a timeline chart and
//! the blast radius of each incident.
//!
//! # Example
//!
//! ```
//! use mailtrail_detect::Report;
//! use mailtrail_report::{Format, render};
//!
//! let mut out = Vec::new();
//! render(&Report::default(), Format::Json, &mut out).unwrap();
//! let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
//! assert!(v["incidents"].as_array().unwrap().is_empty());
//! ```

#![forbid(unsafe_code)]

use std::io::{self, Write};
use std::str::FromStr;

use mailtrail_detect::Report;

mod csv_out;
mod html;
mod table;

/// An output format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// A readable summary for a terminal.
    Table,
    /// One JSON document.
    Json,
    /// One JSON object per line: incidents, findings, then coverage.
    Jsonl,
    /// One finding per row.
    Csv,
    /// A self-contained HTML page.
    Html,
}

impl FromStr for Format {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "table" | "text" => Ok(Self::Table),
            "json" => Ok(Self::Json),
            "jsonl" | "ndjson" => Ok(Self::Jsonl),
            "csv" => Ok(Self::Csv),
            "html" => Ok(Self::Html),
            other => Err(format!(
                "unknown format {other:?}: use table, json, jsonl, csv or html"
            )),
        }
    }
}

/// Writes `report` in `format`.
pub fn render(report: &Report, format: Format, out: &mut dyn Write) -> io::Result<()> {
    match format {
        Format::Table => table::render(report, out),
        Format::Json => {
            serde_json::to_writer_pretty(&mut *out, report)?;
            writeln!(out)
        }
        Format::Jsonl => {
            for incident in &report.incidents {
                write_tagged(out, "incident", incident)?;
            }
            for finding in &report.findings {
                write_tagged(out, "finding", finding)?;
            }
            write_tagged(out, "coverage", &report.coverage)
        }
        Format::Csv => csv_out::render(report, out),
        Format::Html => html::render(report, out),
    }
}

fn write_tagged(out: &mut dyn Write, kind: &str, value: &impl serde::Serialize) -> io::Result<()> {
    let mut v = serde_json::to_value(value)?;
    if let Some(obj) = v.as_object_mut() {
        obj.insert("type".into(), kind.into());
    }
    serde_json::to_writer(&mut *out, &v)?;
    writeln!(out)
}

/// A time as investigators read it: UTC, to the second.
pub(crate) fn time(t: mailtrail_event::Timestamp) -> String {
    t.strftime("%Y-%m-%d %H:%M:%SZ").to_string()
}

/// The finding ids of each incident, for rendering findings next to their incident.
pub(crate) fn incident_of(report: &Report, finding_id: &str) -> Option<String> {
    report
        .incidents
        .iter()
        .find(|i| i.findings.iter().any(|f| f == finding_id))
        .map(|i| i.id.clone())
}
