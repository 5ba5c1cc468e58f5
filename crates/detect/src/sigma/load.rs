//! [`SigmaRules`]: reading rule files, routing and compiling them once.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rsigma_eval::compiler::CompiledDetection;
use rsigma_eval::correlation::compile_correlation;
use rsigma_eval::{
    CompiledRule, CorrelationConfig, CorrelationEngine, CorrelationEventMode, Engine,
};
use rsigma_parser::{
    ConditionOperator, CorrelationCondition, CorrelationRule, CorrelationType, FilterRule,
    SigmaCollection, SigmaRule, parse_sigma_yaml,
};

use super::builtin;
use super::error::SigmaError;
use super::fields::FieldTable;
use super::report::{
    LoadReport, LoadedRule, NotApplicableRule, RuleKind, SkippedRule, severity_of,
};
use super::route::{Route, classify, describe_logsource};
use crate::finding::Severity;

/// How many contributing events a correlation match keeps per group and window. A password spray
/// over ten thousand accounts still names its first thousand attempts; the count is exact.
pub(crate) const CORRELATION_EVIDENCE_CAP: usize = 1_000;

/// Sigma rules loaded, routed and compiled: the built-in pack and any `--sigma` directories.
///
/// Compiled once and shared: every [`SigmaMatcher`](super::SigmaMatcher) made from it reuses the
/// same compiled engines (cloning a `SigmaRules` is cheap).
#[derive(Clone)]
pub struct SigmaRules {
    pub(crate) inner: Arc<Compiled>,
}

impl std::fmt::Debug for SigmaRules {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigmaRules")
            .field("loaded", &self.inner.report.loaded.len())
            .field("skipped", &self.inner.report.skipped.len())
            .field("not_applicable", &self.inner.report.not_applicable.len())
            .finish()
    }
}

/// What a match needs to know about the rule that produced it.
#[derive(Debug)]
pub(crate) struct RuleMeta {
    pub(crate) id: String,
    pub(crate) title: String,
    pub(crate) level: Severity,
    pub(crate) description: Option<String>,
    pub(crate) attack: Vec<String>,
    pub(crate) builtin: bool,
    /// Only referenced by correlations that do not `generate` its matches.
    pub(crate) suppressed: bool,
}

/// The correlation rules and the detection rules they count, for each matcher's own
/// [`CorrelationEngine`].
pub(crate) struct CorrelationSet {
    rules: Vec<SigmaRule>,
    correlations: Vec<CorrelationRule>,
    /// Ids of the detection rules whose matches feed a correlation.
    pub(crate) feeds: HashSet<String>,
}

impl CorrelationSet {
    /// A fresh engine with empty windows. Validated at load, so this does not fail in practice.
    pub(crate) fn engine(&self) -> Result<CorrelationEngine, rsigma_eval::EvalError> {
        let mut engine = CorrelationEngine::new(CorrelationConfig {
            correlation_event_mode: CorrelationEventMode::Refs,
            max_correlation_events: CORRELATION_EVIDENCE_CAP,
            ..CorrelationConfig::default()
        });
        engine.add_collection(&SigmaCollection {
            rules: self.rules.clone(),
            correlations: self.correlations.clone(),
            filters: Vec::new(),
            errors: Vec::new(),
        })?;
        Ok(engine)
    }
}

/// Everything a load produced.
pub(crate) struct Compiled {
    /// One engine per [`Route`], `None` when no rule is routed there.
    pub(crate) engines: Vec<Option<Engine>>,
    pub(crate) fields: FieldTable,
    pub(crate) meta: HashMap<String, Arc<RuleMeta>>,
    pub(crate) correlations: Option<CorrelationSet>,
    pub(crate) report: LoadReport,
}

impl SigmaRules {
    /// Loads the built-in pack (when `builtin`) and every `*.yml` / `*.yaml` file under each of
    /// `dirs` (recursively, in name order, skipping hidden files and directories; a path may also
    /// name a single rule file).
    ///
    /// A file or rule that cannot be read, parsed or compiled is reported in the [`LoadReport`] as
    /// skipped, with the reason, and the rest load. Errors only when a location in `dirs` cannot be
    /// used at all.
    pub fn load(builtin: bool, dirs: &[PathBuf]) -> Result<(SigmaRules, LoadReport), SigmaError> {
        let mut sources = Vec::new();
        if builtin {
            for (name, text) in builtin::PACK {
                sources.push(Source {
                    file: format!("builtin/{name}"),
                    builtin: true,
                    text: Ok((*text).to_owned()),
                });
            }
        }
        for dir in dirs {
            collect(dir, &mut sources)?;
        }
        let rules = build(sources);
        let report = rules.report().clone();
        Ok((rules, report))
    }

    /// What the load did with every rule.
    pub fn report(&self) -> &LoadReport {
        &self.inner.report
    }

    /// Rules from YAML text, as if read from a file named `file`. For tests and tools.
    #[cfg(test)]
    pub(crate) fn from_yaml(file: &str, yaml: &str) -> SigmaRules {
        build(vec![Source {
            file: file.to_owned(),
            builtin: false,
            text: Ok(yaml.to_owned()),
        }])
    }
}

/// One rule file, read (or the reason it could not be).
struct Source {
    file: String,
    builtin: bool,
    text: Result<String, String>,
}

fn is_yaml(path: &Path) -> bool {
    matches!(
        path.extension().and_then(|e| e.to_str()),
        Some(e) if e.eq_ignore_ascii_case("yml") || e.eq_ignore_ascii_case("yaml")
    )
}

fn collect(path: &Path, sources: &mut Vec<Source>) -> Result<(), SigmaError> {
    let meta = std::fs::metadata(path).map_err(|source| SigmaError::Read {
        path: path.to_owned(),
        source,
    })?;
    if meta.is_file() {
        if !is_yaml(path) {
            return Err(SigmaError::NotRules {
                path: path.to_owned(),
            });
        }
        sources.push(read(path));
        return Ok(());
    }
    let walk = walkdir::WalkDir::new(path)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| e.depth() == 0 || !e.file_name().to_string_lossy().starts_with('.'));
    for entry in walk {
        match entry {
            Ok(e) if e.file_type().is_file() && is_yaml(e.path()) => sources.push(read(e.path())),
            Ok(_) => {}
            Err(err) => sources.push(Source {
                file: err.path().unwrap_or(path).display().to_string(),
                builtin: false,
                text: Err(format!("cannot read: {err}")),
            }),
        }
    }
    Ok(())
}

fn read(path: &Path) -> Source {
    Source {
        file: path.display().to_string(),
        builtin: false,
        text: std::fs::read_to_string(path).map_err(|e| format!("cannot read: {e}")),
    }
}

/// Where a rule id or name ended up, for resolving correlation references.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Fate {
    Loaded,
    NotApplicable,
    Skipped,
}

/// The state of a load in progress.
#[derive(Default)]
struct Builder {
    report: LoadReport,
    /// Rule ids and names seen, with the file that first used them.
    ids: HashMap<String, String>,
    fates: HashMap<String, Fate>,
    by_route: Vec<Vec<CompiledRule>>,
    /// Applicable detection rules by id, for correlations to pick up.
    parsed: HashMap<String, SigmaRule>,
    fields: FieldTable,
    meta: HashMap<String, RuleMeta>,
    /// What each loaded rule (by id and by name) applies to, for the correlations over it.
    applies: HashMap<String, String>,
}

fn build(sources: Vec<Source>) -> SigmaRules {
    let mut b = Builder {
        by_route: vec![Vec::new(); Route::ALL.len()],
        ..Builder::default()
    };
    let mut correlations = Vec::new();
    let mut filters = Vec::new();
    for source in sources {
        b.report.files += 1;
        let text = match source.text {
            Ok(text) => text,
            Err(reason) => {
                b.skip(None, None, &source.file, source.builtin, reason);
                continue;
            }
        };
        let collection = match parse_sigma_yaml(&text) {
            Ok(c) => c,
            Err(e) => {
                b.skip(
                    None,
                    None,
                    &source.file,
                    source.builtin,
                    format!("cannot parse: {e}"),
                );
                continue;
            }
        };
        let documents = collection.rules.len()
            + collection.correlations.len()
            + collection.filters.len()
            + collection.errors.len();
        if documents == 0 {
            b.skip(
                None,
                None,
                &source.file,
                source.builtin,
                "holds no Sigma rule".into(),
            );
        }
        for error in collection.errors {
            b.skip(
                None,
                None,
                &source.file,
                source.builtin,
                format!("cannot parse: {error}"),
            );
        }
        let mut n = 0;
        let mut next_id = |id: &Option<String>| {
            n += 1;
            id.clone().unwrap_or_else(|| format!("{}#{n}", source.file))
        };
        for mut rule in collection.rules {
            rule.id = Some(next_id(&rule.id));
            b.detection(rule, &source.file, source.builtin);
        }
        for mut corr in collection.correlations {
            corr.id = Some(next_id(&corr.id));
            correlations.push((corr, source.file.clone(), source.builtin));
        }
        for mut filter in collection.filters {
            filter.id = Some(next_id(&filter.id));
            filters.push((filter, source.file.clone(), source.builtin));
        }
    }
    let correlations = b.correlations(correlations);
    let filters = b.filters(filters);

    let mut engines = Vec::with_capacity(Route::ALL.len());
    for rules in std::mem::take(&mut b.by_route) {
        if rules.is_empty() {
            engines.push(None);
            continue;
        }
        let mut engine = Engine::new();
        engine.extend_compiled_rules(rules);
        for filter in &filters {
            // Validated in `filters`; a filter that now fails leaves the rules unfiltered, which
            // only ever adds matches.
            let _ = engine.apply_filter(filter);
        }
        engines.push(Some(engine));
    }
    let meta = b
        .meta
        .into_iter()
        .map(|(id, m)| (id, Arc::new(m)))
        .collect();
    SigmaRules {
        inner: Arc::new(Compiled {
            engines,
            fields: b.fields,
            meta,
            correlations,
            report: b.report,
        }),
    }
}

impl Builder {
    fn skip(
        &mut self,
        id: Option<String>,
        title: Option<String>,
        file: &str,
        builtin: bool,
        reason: String,
    ) {
        if let Some(id) = &id {
            self.fates.entry(id.clone()).or_insert(Fate::Skipped);
        }
        self.report.skipped.push(SkippedRule {
            id,
            title,
            file: file.to_owned(),
            builtin,
            reason,
        });
    }

    /// Claims a rule id (and name); false when an earlier rule has it.
    fn claim(&mut self, id: &str, title: &str, file: &str, builtin: bool) -> bool {
        if let Some(first) = self.ids.get(id) {
            let reason = format!("duplicate rule id {id}, first defined in {first}");
            self.report.skipped.push(SkippedRule {
                id: Some(id.to_owned()),
                title: Some(title.to_owned()),
                file: file.to_owned(),
                builtin,
                reason,
            });
            return false;
        }
        self.ids.insert(id.to_owned(), file.to_owned());
        true
    }

    fn detection(&mut self, rule: SigmaRule, file: &str, builtin: bool) {
        let id = rule.id.clone().unwrap_or_default();
        if !self.claim(&id, &rule.title, file, builtin) {
            return;
        }
        let route = match classify(&rule.logsource) {
            Ok(route) => route,
            Err(reason) => {
                self.set_fate(&rule, Fate::NotApplicable);
                self.report.not_applicable.push(NotApplicableRule {
                    id: Some(id),
                    title: rule.title,
                    kind: RuleKind::Detection,
                    logsource: describe_logsource(&rule.logsource),
                    reason,
                    file: file.to_owned(),
                });
                return;
            }
        };
        let compiled = match rsigma_eval::compile_rule(&rule) {
            Ok(c) => c,
            Err(e) => {
                self.set_fate(&rule, Fate::Skipped);
                self.skip(
                    Some(id),
                    Some(rule.title),
                    file,
                    builtin,
                    format!("cannot compile: {e}"),
                );
                return;
            }
        };
        let mut fields = Vec::new();
        let mut keywords = false;
        for detection in compiled.detections.values() {
            detection_fields(detection, &mut fields, &mut keywords);
        }
        let mut record_fields: Vec<String> = fields
            .iter()
            .filter(|f| self.fields.insert(f).reads_record())
            .cloned()
            .collect();
        record_fields.sort();
        record_fields.dedup();
        let level = severity_of(rule.level);
        self.meta.insert(
            id.clone(),
            RuleMeta {
                id: id.clone(),
                title: rule.title.clone(),
                level,
                description: rule.description.clone(),
                attack: attack_ids(&rule.tags),
                builtin,
                suppressed: false,
            },
        );
        self.report.loaded.push(LoadedRule {
            id: id.clone(),
            title: rule.title.clone(),
            kind: RuleKind::Detection,
            level,
            applies_to: route.describe().to_owned(),
            file: file.to_owned(),
            builtin,
            record_fields,
            keywords,
        });
        self.by_route[route.index()].push(compiled);
        for key in [&rule.id, &rule.name].into_iter().flatten() {
            self.applies
                .insert(key.clone(), route.describe().to_owned());
        }
        self.set_fate(&rule, Fate::Loaded);
        self.parsed.insert(id, rule);
    }

    fn set_fate(&mut self, rule: &SigmaRule, fate: Fate) {
        for key in [&rule.id, &rule.name].into_iter().flatten() {
            self.fates.insert(key.clone(), fate);
        }
    }

    /// Resolves correlation references (which may name other correlations) and validates the lot.
    fn correlations(
        &mut self,
        pending: Vec<(CorrelationRule, String, bool)>,
    ) -> Option<CorrelationSet> {
        let mut pending: Vec<_> = pending
            .into_iter()
            .map(|(c, file, builtin)| (temporal_means_all(c), file, builtin))
            .filter(|(c, file, builtin)| {
                let id = c.id.clone().unwrap_or_default();
                self.claim(&id, &c.title, file, *builtin)
            })
            .collect();
        let mut accepted: Vec<(CorrelationRule, String, bool)> = Vec::new();
        // Each pass settles the correlations whose references are all settled; what is left when a
        // pass settles nothing refers to itself or to nothing that exists.
        loop {
            let before = pending.len();
            let mut waiting = Vec::new();
            for (corr, file, builtin) in pending {
                let fates: Vec<(String, Option<Fate>)> = corr
                    .rules
                    .iter()
                    .map(|r| (r.clone(), self.fates.get(r).copied()))
                    .collect();
                if fates.iter().any(|(_, f)| f.is_none()) {
                    waiting.push((corr, file, builtin));
                    continue;
                }
                let id = corr.id.clone().unwrap_or_default();
                let keys: Vec<String> = [&corr.id, &corr.name]
                    .into_iter()
                    .flatten()
                    .cloned()
                    .collect();
                if let Some((r, _)) = fates.iter().find(|(_, f)| *f == Some(Fate::Skipped)) {
                    keys.iter()
                        .for_each(|k| _ = self.fates.insert(k.clone(), Fate::Skipped));
                    self.skip(
                        Some(id),
                        Some(corr.title),
                        &file,
                        builtin,
                        format!("refers to rule {r}, which did not load"),
                    );
                } else if let Some((r, _)) =
                    fates.iter().find(|(_, f)| *f == Some(Fate::NotApplicable))
                {
                    keys.iter()
                        .for_each(|k| _ = self.fates.insert(k.clone(), Fate::NotApplicable));
                    self.report.not_applicable.push(NotApplicableRule {
                        id: Some(id),
                        title: corr.title,
                        kind: RuleKind::Correlation,
                        logsource: "(correlation)".into(),
                        reason: format!("refers to rule {r}, which is not applicable"),
                        file,
                    });
                } else if let Err(e) = compile_correlation(&corr) {
                    keys.iter()
                        .for_each(|k| _ = self.fates.insert(k.clone(), Fate::Skipped));
                    self.skip(
                        Some(id),
                        Some(corr.title),
                        &file,
                        builtin,
                        format!("cannot compile: {e}"),
                    );
                } else {
                    keys.iter()
                        .for_each(|k| _ = self.fates.insert(k.clone(), Fate::Loaded));
                    accepted.push((corr, file, builtin));
                }
            }
            pending = waiting;
            if pending.is_empty() || pending.len() == before {
                break;
            }
        }
        for (corr, file, builtin) in pending {
            let id = corr.id.clone().unwrap_or_default();
            let missing: Vec<&str> = corr
                .rules
                .iter()
                .filter(|r| !self.fates.contains_key(*r))
                .map(String::as_str)
                .collect();
            self.skip(
                Some(id),
                Some(corr.title),
                &file,
                builtin,
                format!(
                    "refers to {}, which no loaded file defines (or a correlation cycle)",
                    missing.join(", ")
                ),
            );
        }
        if accepted.is_empty() {
            return None;
        }

        // The detection rules every correlation counts, directly or through other correlations.
        let correlation_ids: HashSet<&str> = accepted
            .iter()
            .flat_map(|(c, _, _)| [&c.id, &c.name].into_iter().flatten())
            .map(String::as_str)
            .collect();
        let mut rules: Vec<SigmaRule> = Vec::new();
        let mut feeds = HashSet::new();
        let mut generated = HashSet::new();
        for (corr, _, _) in &accepted {
            for r in &corr.rules {
                if correlation_ids.contains(r.as_str()) {
                    continue;
                }
                let Some(rule) = self.parsed.values().find(|p| {
                    p.id.as_deref() == Some(r.as_str()) || p.name.as_deref() == Some(r.as_str())
                }) else {
                    continue;
                };
                let id = rule.id.clone().unwrap_or_default();
                if corr.generate {
                    generated.insert(id.clone());
                }
                if feeds.insert(id) {
                    rules.push(rule.clone());
                }
            }
        }
        let set = CorrelationSet {
            rules,
            correlations: accepted.iter().map(|(c, _, _)| c.clone()).collect(),
            feeds,
        };
        if let Err(e) = set.engine() {
            for (corr, file, builtin) in accepted {
                self.skip(
                    corr.id,
                    Some(corr.title),
                    &file,
                    builtin,
                    format!("cannot compile the correlations: {e}"),
                );
            }
            return None;
        }
        for id in &set.feeds {
            if !generated.contains(id)
                && let Some(meta) = self.meta.get_mut(id)
            {
                meta.suppressed = true;
            }
        }
        for (corr, file, builtin) in accepted {
            let id = corr.id.clone().unwrap_or_default();
            for field in corr_fields(&corr) {
                self.fields.insert(&field);
            }
            let level = severity_of(corr.level);
            let mut over: Vec<&str> = corr
                .rules
                .iter()
                .filter_map(|r| self.applies.get(r).map(String::as_str))
                .collect();
            over.sort_unstable();
            over.dedup();
            let applies_to = if over.is_empty() {
                "other correlations".to_owned()
            } else {
                format!("matches over {}", over.join(", "))
            };
            self.meta.insert(
                id.clone(),
                RuleMeta {
                    id: id.clone(),
                    title: corr.title.clone(),
                    level,
                    description: corr.description.clone(),
                    attack: attack_ids(&corr.tags),
                    builtin,
                    suppressed: false,
                },
            );
            self.report.loaded.push(LoadedRule {
                id,
                title: corr.title,
                kind: RuleKind::Correlation,
                level,
                applies_to,
                file,
                builtin,
                record_fields: Vec::new(),
                keywords: false,
            });
        }
        Some(set)
    }

    fn filters(&mut self, filters: Vec<(FilterRule, String, bool)>) -> Vec<FilterRule> {
        let mut out = Vec::new();
        for (filter, file, builtin) in filters {
            let id = filter.id.clone().unwrap_or_default();
            if !self.claim(&id, &filter.title, &file, builtin) {
                continue;
            }
            let applies_to = match filter.logsource.as_ref().map(classify) {
                None => "every loaded rule".to_owned(),
                Some(Ok(route)) => route.describe().to_owned(),
                Some(Err(reason)) => {
                    self.report.not_applicable.push(NotApplicableRule {
                        id: Some(id),
                        title: filter.title,
                        kind: RuleKind::Filter,
                        logsource: filter
                            .logsource
                            .as_ref()
                            .map(describe_logsource)
                            .unwrap_or_default(),
                        reason,
                        file,
                    });
                    continue;
                }
            };
            if let Err(e) = Engine::new().apply_filter(&filter) {
                self.skip(
                    Some(id),
                    Some(filter.title),
                    &file,
                    builtin,
                    format!("cannot compile: {e}"),
                );
                continue;
            }
            self.report.loaded.push(LoadedRule {
                id,
                title: filter.title.clone(),
                kind: RuleKind::Filter,
                level: severity_of(filter.level),
                applies_to,
                file,
                builtin,
                record_fields: Vec::new(),
                keywords: false,
            });
            out.push(filter);
        }
        out
    }
}

/// The field names a compiled detection reads (array-member fields excepted: they are relative to
/// a member, not to the event).
fn detection_fields(d: &CompiledDetection, out: &mut Vec<String>, keywords: &mut bool) {
    match d {
        CompiledDetection::AllOf(items) => {
            for item in items {
                match &item.field {
                    Some(f) => out.push(f.clone()),
                    None => *keywords = true,
                }
            }
        }
        CompiledDetection::AnyOf(ds) | CompiledDetection::And(ds) => {
            ds.iter().for_each(|d| detection_fields(d, out, keywords));
        }
        CompiledDetection::Keywords(_) => *keywords = true,
        CompiledDetection::ArrayMatch { field, .. } => out.push(field.clone()),
        CompiledDetection::Conditional { .. } => {}
    }
}

/// A `temporal` correlation without a condition means that every referenced rule matched in the
/// window (Sigma specification); rsigma 0.23 reads it as "at least one". Restore the
/// specification's meaning. An explicit `gte: 1` over several rules parses the same and is read
/// the same way: "any one of these rules" is an event count, not a temporal correlation.
fn temporal_means_all(mut c: CorrelationRule) -> CorrelationRule {
    if c.correlation_type == CorrelationType::Temporal
        && c.rules.len() > 1
        && let CorrelationCondition::Threshold {
            predicates,
            field: None,
            ..
        } = &mut c.condition
        && predicates.as_slice() == [(ConditionOperator::Gte, 1)]
    {
        *predicates = vec![(ConditionOperator::Gte, c.rules.len() as u64)];
    }
    c
}

/// The fields a correlation reads: group-by, value fields, alias targets.
fn corr_fields(c: &CorrelationRule) -> Vec<String> {
    let mut out: Vec<String> = c.group_by.clone();
    if let CorrelationCondition::Threshold {
        field: Some(fields),
        ..
    } = &c.condition
    {
        out.extend(fields.iter().cloned());
    }
    for alias in &c.aliases {
        out.extend(alias.mapping.values().cloned());
    }
    out
}

/// ATT&CK technique ids from Sigma tags: `attack.t1114.003` → `T1114.003`. Tactic tags
/// (`attack.collection`) and other namespaces are left out.
pub(crate) fn attack_ids(tags: &[String]) -> Vec<String> {
    tags.iter()
        .filter_map(|t| {
            let t = t.strip_prefix("attack.")?;
            let digits = t.strip_prefix('t').or_else(|| t.strip_prefix('T'))?;
            let (main, sub) = match digits.split_once('.') {
                Some((m, s)) => (m, Some(s)),
                None => (digits, None),
            };
            let numeric = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
            if !numeric(main, 4) || sub.is_some_and(|s| !numeric(s, 3)) {
                return None;
            }
            Some(format!("T{digits}"))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const RULE: &str = r#"
title: Inbox rule deletes mail
id: 0b1c0000-0000-4000-8000-000000000001
logsource: { product: m365, service: exchange }
tags: [attack.collection, attack.t1114.003, attack.t1564.008, cve.2023-1234]
detection:
    selection:
        Operation: New-InboxRule
        Parameters|contains: DeleteMessage
        DeliveryAction: Delivered
    condition: selection
level: high
"#;

    #[test]
    fn attack_ids_keep_only_technique_ids() {
        let tags: Vec<String> = [
            "attack.collection",
            "attack.t1114.003",
            "attack.t1078",
            "attack.t12",
            "car.2016-04-005",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        assert_eq!(attack_ids(&tags), vec!["T1114.003", "T1078"]);
    }

    #[test]
    fn a_routed_rule_loads_and_names_the_fields_it_reads_from_the_record() {
        let rules = SigmaRules::from_yaml("r.yml", RULE);
        let report = rules.report();
        assert_eq!(report.loaded.len(), 1, "{report:?}");
        let loaded = &report.loaded[0];
        assert_eq!(loaded.applies_to, "UAL Exchange records");
        assert_eq!(loaded.level, Severity::High);
        assert_eq!(loaded.record_fields, vec!["DeliveryAction"]);
        assert!(rules.inner.engines[Route::Exchange.index()].is_some());
        assert!(rules.inner.engines[Route::Ual.index()].is_none());
    }

    #[test]
    fn every_document_lands_in_exactly_one_list() {
        let yaml = format!(
            "{RULE}\n---\ntitle: Windows\nlogsource: {{product: windows}}\ndetection: {{sel: {{a: b}}, condition: sel}}\n---\ntitle: Broken\nlogsource: {{product: m365}}\ndetection: {{sel: {{a: b}}, condition: sel and nosuch}}\n"
        );
        let rules = SigmaRules::from_yaml("multi.yml", &yaml);
        let r = rules.report();
        assert_eq!(r.files, 1);
        assert_eq!(
            (r.loaded.len(), r.not_applicable.len(), r.skipped.len()),
            (1, 1, 1),
            "{r:?}"
        );
        assert_eq!(r.not_applicable[0].logsource, "product: windows");
        assert!(
            r.skipped[0].reason.contains("compile") || r.skipped[0].reason.contains("parse"),
            "{:?}",
            r.skipped[0]
        );
    }

    #[test]
    fn a_duplicate_id_is_skipped_with_where_it_was_first_seen() {
        let yaml = format!("{RULE}\n---\n{RULE}");
        let rules = SigmaRules::from_yaml("dup.yml", &yaml);
        let r = rules.report();
        assert_eq!(r.loaded.len(), 1);
        assert_eq!(r.skipped.len(), 1);
        assert!(
            r.skipped[0].reason.contains("first defined in dup.yml"),
            "{}",
            r.skipped[0].reason
        );
    }

    #[test]
    fn a_correlation_of_a_missing_rule_is_skipped_and_of_a_foreign_rule_not_applicable() {
        let yaml = r#"
title: Windows logon
name: win_logon
logsource: { product: windows, service: security }
detection: { sel: { EventID: 4625 }, condition: sel }
---
title: Many Windows logons
correlation: { type: event_count, rules: [win_logon], group-by: [User], timespan: 1h, condition: { gte: 5 } }
---
title: Orphan
correlation: { type: event_count, rules: [nothing_here], group-by: [User], timespan: 1h, condition: { gte: 5 } }
"#;
        let rules = SigmaRules::from_yaml("c.yml", yaml);
        let r = rules.report();
        assert_eq!(r.not_applicable.len(), 2, "{r:?}");
        assert_eq!(r.skipped.len(), 1, "{r:?}");
        assert!(r.skipped[0].reason.contains("nothing_here"));
        assert!(rules.inner.correlations.is_none());
    }

    #[test]
    fn a_temporal_correlation_without_condition_needs_every_rule() {
        let yaml = r#"
title: A
name: a
logsource: { product: m365 }
detection: { sel: { Operation: A }, condition: sel }
---
title: B
name: b
logsource: { product: m365 }
detection: { sel: { Operation: B }, condition: sel }
---
title: A and B
correlation: { type: temporal, rules: [a, b], group-by: [UserId], timespan: 5m }
"#;
        let rules = SigmaRules::from_yaml("t.yml", yaml);
        let set = rules.inner.correlations.as_ref().unwrap();
        assert_eq!(
            set.correlations[0].condition,
            CorrelationCondition::Threshold {
                predicates: vec![(ConditionOperator::Gte, 2)],
                field: None,
                percentile: None,
            }
        );
        let corr = rules
            .report()
            .loaded()
            .iter()
            .find(|r| r.kind == RuleKind::Correlation);
        assert_eq!(
            corr.map(|r| r.applies_to.as_str()),
            Some("matches over UAL records")
        );
    }

    #[test]
    fn a_missing_directory_is_an_error_that_names_it() {
        let err = SigmaRules::load(false, &[PathBuf::from("/nonexistent/rules")]).err();
        let msg = err.map(|e| e.to_string()).unwrap_or_default();
        assert!(msg.contains("/nonexistent/rules"), "{msg}");
    }
}
