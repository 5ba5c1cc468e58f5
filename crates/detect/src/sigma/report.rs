//! [`LoadReport`]: what loading rules did with every rule it found.

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;

use crate::finding::Severity;

/// The severity of a Sigma `level`; a rule that states none is medium.
pub(crate) fn severity_of(level: Option<rsigma_parser::Level>) -> Severity {
    match level {
        Some(rsigma_parser::Level::Informational) => Severity::Informational,
        Some(rsigma_parser::Level::Low) => Severity::Low,
        Some(rsigma_parser::Level::High) => Severity::High,
        Some(rsigma_parser::Level::Critical) => Severity::Critical,
        Some(rsigma_parser::Level::Medium) | None => Severity::Medium,
    }
}

/// What kind of Sigma document a rule is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RuleKind {
    /// A detection rule: matches single events.
    Detection,
    /// A correlation rule: counts or orders detections over a time window.
    Correlation,
    /// A filter: adds exclusions to other rules.
    Filter,
}

impl RuleKind {
    /// `detection`, `correlation` or `filter`.
    pub fn as_str(self) -> &'static str {
        match self {
            RuleKind::Detection => "detection",
            RuleKind::Correlation => "correlation",
            RuleKind::Filter => "filter",
        }
    }
}

/// A rule that loaded and will be evaluated.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LoadedRule {
    /// The rule id (a UUID for well-formed rules; `FILE#N` when the rule has none).
    pub id: String,
    /// The title.
    pub title: String,
    /// Detection, correlation or filter.
    pub kind: RuleKind,
    /// The severity.
    pub level: Severity,
    /// The events it is evaluated against (`UAL Exchange records`, `Entra ID sign-ins`, …).
    pub applies_to: String,
    /// The file it came from (`builtin/NAME.yml` for the built-in pack).
    pub file: String,
    /// Whether it is part of the built-in pack.
    pub builtin: bool,
    /// Field names the mapping table does not have, read from the original record (which costs a
    /// parse of each record the rule is evaluated against).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub record_fields: Vec<String>,
    /// Whether the rule has keyword (field-less) detections, which search every string of the
    /// original record.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub keywords: bool,
}

/// A rule that could not be loaded, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SkippedRule {
    /// The rule id, when the document got far enough to have one.
    pub id: Option<String>,
    /// The title, when known.
    pub title: Option<String>,
    /// The file it came from.
    pub file: String,
    /// Whether it is part of the built-in pack.
    pub builtin: bool,
    /// What went wrong, in words.
    pub reason: String,
}

/// `FILE: TITLE [ID]: REASON`, as a log line says it.
impl fmt::Display for SkippedRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {}",
            self.file,
            self.title.as_deref().unwrap_or("(untitled)")
        )?;
        if let Some(id) = &self.id {
            write!(f, " [{id}]")?;
        }
        write!(f, ": {}", self.reason)
    }
}

/// A rule written for logs mailtrail does not read; never evaluated.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct NotApplicableRule {
    /// The rule id, if any.
    pub id: Option<String>,
    /// The title.
    pub title: String,
    /// Detection, correlation or filter.
    pub kind: RuleKind,
    /// The rule's logsource, as one line (`product: windows, category: process_creation`).
    pub logsource: String,
    /// Why it does not apply.
    pub reason: String,
    /// The file it came from.
    pub file: String,
}

/// What loading did with every rule: loaded, skipped (with the reason) or not applicable (with the
/// logsource). Every Sigma document of every file read is in exactly one of the three lists.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct LoadReport {
    pub(crate) files: usize,
    pub(crate) loaded: Vec<LoadedRule>,
    pub(crate) skipped: Vec<SkippedRule>,
    pub(crate) not_applicable: Vec<NotApplicableRule>,
}

impl LoadReport {
    /// Rule files read (built-in pack included).
    pub fn files(&self) -> usize {
        self.files
    }

    /// Rules that will be evaluated, in load order.
    pub fn loaded(&self) -> &[LoadedRule] {
        &self.loaded
    }

    /// Rules that could not be loaded, with the reason.
    pub fn skipped(&self) -> &[SkippedRule] {
        &self.skipped
    }

    /// Rules for logs mailtrail does not read.
    pub fn not_applicable(&self) -> &[NotApplicableRule] {
        &self.not_applicable
    }

    /// Sigma documents seen: loaded + skipped + not applicable.
    pub fn documents(&self) -> usize {
        self.loaded.len() + self.skipped.len() + self.not_applicable.len()
    }

    /// Whether every applicable rule loaded.
    pub fn all_loaded(&self) -> bool {
        self.skipped.is_empty()
    }

    /// Not-applicable rules counted by logsource, most common first.
    pub fn not_applicable_by_logsource(&self) -> Vec<(&str, usize)> {
        let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
        for r in &self.not_applicable {
            *counts.entry(r.logsource.as_str()).or_default() += 1;
        }
        let mut counts: Vec<(&str, usize)> = counts.into_iter().collect();
        counts.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        counts
    }

    /// The report as pretty-printed JSON (what `rules check --format json` prints).
    pub fn to_json(&self) -> String {
        // Plain data with string keys: serialising it cannot fail.
        serde_json::to_string_pretty(self).unwrap_or_default()
    }
}
