//! [`Engine`]: runs every detector over a time-ordered event stream and builds the [`Report`].

use std::collections::BTreeMap;
use std::sync::Arc;

use mailtrail_event::{AuditEvent, EventKind, Timestamp};
use serde::{Deserialize, Serialize};

use crate::analytics::{
    self, Analytic, Attribution, BulkConfig, Ctx, DetectorStatus, Evidence, IndicatorSet, Signal,
    SprayConfig,
};
use crate::finding::{Entities, Finding, Severity};
use crate::incident::{self, BlastRadiusBuilder, Incident, TimelineEntry};
use crate::{HashMap, HashSet};

/// How the engine runs.
#[derive(Clone, Debug)]
pub struct EngineConfig {
    /// Where first-seen detectors learn what is normal.
    pub baseline: BaselineMode,
    /// Known-bad indicators (the built-in Storm-0558 set plus `--ioc` files).
    pub indicators: Arc<IndicatorSet>,
    /// Bulk-access thresholds.
    pub bulk: BulkConfig,
    /// Password-spray thresholds.
    pub spray: SprayConfig,
    /// Reads within this long after the first sign-in are not judged by the no-sign-in check: their
    /// tokens may have been issued before the sign-in logs start.
    pub sign_in_grace_secs: i64,
    /// Findings whose times come this close and share an entity form one incident.
    pub incident_window_secs: i64,
    /// Groups need a finding at least this severe to become an incident.
    pub incident_min_severity: Severity,
}

impl Default for EngineConfig {
    fn default() -> Self {
        Self {
            baseline: BaselineMode::default(),
            indicators: Arc::new(IndicatorSet::storm_0558()),
            bulk: BulkConfig::default(),
            spray: SprayConfig::default(),
            sign_in_grace_secs: 6 * 3600,
            incident_window_secs: 48 * 3600,
            incident_min_severity: Severity::Medium,
        }
    }
}

/// Where the baseline comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BaselineMode {
    /// The first `days` days of the data itself.
    FirstDays(u32),
    /// Separate data given with [`Engine::learn`] (`--baseline PATH`, or store history); the
    /// analysed data has no learning period.
    Explicit,
}

impl Default for BaselineMode {
    fn default() -> Self {
        Self::FirstDays(14)
    }
}

/// One merged finding under construction.
struct Building {
    finding: Finding,
    evidence: HashSet<String>,
    blast: BlastRadiusBuilder,
    timeline: Vec<TimelineEntry>,
}

/// Evidence ids kept per finding; beyond this a finding counts but does not list more.
const EVIDENCE_LIMIT: usize = 50_000;
/// A signal whose key matched a finding idle this long starts a new finding.
const FINDING_IDLE_SECS: i64 = 7 * 86_400;

/// The detection engine. Feed it events in time order with [`process`](Engine::process) (after
/// any [`learn`](Engine::learn) calls), then call [`finish`](Engine::finish).
pub struct Engine {
    config: EngineConfig,
    analytics: Vec<Box<dyn Analytic>>,
    sigma: Option<crate::sigma::SigmaMatcher>,
    sigma_out: Vec<crate::sigma::SigmaMatch>,
    findings: Vec<Building>,
    by_key: HashMap<(String, String), usize>,
    attribution: HashMap<Attribution, Vec<usize>>,
    signals: Vec<Signal>,
    keys: Vec<Attribution>,
    coverage: CoverageBuilder,
    /// Recent evidence by record id, so Sigma correlations can name their events' entities.
    recent: RecentEvidence,
}

impl Engine {
    /// An engine with every built-in analytic and, if given, Sigma rules.
    pub fn new(config: EngineConfig, sigma: Option<&crate::sigma::SigmaRules>) -> Engine {
        let analytics: Vec<Box<dyn Analytic>> = vec![
            Box::new(analytics::NewAppReadingMail::default()),
            Box::new(analytics::MailAccessWithoutSignIn::new(
                config.sign_in_grace_secs,
            )),
            Box::new(analytics::ForeignTenantToken::default()),
            Box::new(analytics::KnownBadInfrastructure::new(
                config.indicators.clone(),
            )),
            Box::new(analytics::SessionReplay::default()),
            Box::new(analytics::BulkMailAccess::new(config.bulk.clone())),
            Box::new(analytics::DelegationThenAccess::default()),
            Box::new(analytics::GrantThenMailRead::default()),
            Box::new(analytics::EDiscoveryExport::default()),
            Box::new(analytics::SprayThenSuccess::new(config.spray.clone())),
        ];
        let coverage = CoverageBuilder {
            baseline_mode: config.baseline.clone(),
            ..Default::default()
        };
        Engine {
            sigma: sigma.map(crate::sigma::SigmaMatcher::new),
            sigma_out: Vec::new(),
            config,
            analytics,
            findings: Vec::new(),
            by_key: HashMap::default(),
            attribution: HashMap::default(),
            signals: Vec::new(),
            keys: Vec::new(),
            coverage,
            recent: RecentEvidence::default(),
        }
    }

    /// Learns from baseline data: first-seen detectors record what is normal; nothing fires.
    pub fn learn(&mut self, ev: &AuditEvent) {
        self.coverage.learned(ev);
        let mut ctx = Ctx {
            learning: true,
            baseline_only: true,
            out: &mut self.signals,
        };
        for a in &mut self.analytics {
            a.observe(ev, &mut ctx);
        }
        // Learning never reports: whatever a detector raised here is not a finding.
        self.signals.clear();
    }

    /// Runs every detector on one event. Events must come in time order.
    pub fn process(&mut self, ev: &AuditEvent) {
        let learning = self.coverage.observe(ev);
        let mut ctx = Ctx {
            learning,
            baseline_only: false,
            out: &mut self.signals,
        };
        for a in &mut self.analytics {
            a.observe(ev, &mut ctx);
        }
        if let Some(sigma) = &mut self.sigma {
            sigma.process(ev, &mut self.sigma_out);
            if !self.sigma_out.is_empty() {
                self.recent.note(ev);
                let matches = std::mem::take(&mut self.sigma_out);
                for m in &matches {
                    let signal = sigma_signal(m, ev, &self.recent);
                    self.signals.push(signal);
                }
                self.sigma_out = matches;
                self.sigma_out.clear();
            }
        }
        let fresh: HashSet<usize> = self.apply_signals(ev.time);
        self.attribute(ev, &fresh);
    }

    /// Ends the run: flushes held-back judgements and builds the report.
    pub fn finish(mut self) -> Report {
        let mut ctx = Ctx {
            learning: false,
            baseline_only: false,
            out: &mut self.signals,
        };
        for a in &mut self.analytics {
            a.finish(&mut ctx);
        }
        if let Some(sigma) = &mut self.sigma {
            sigma.finish(&mut self.sigma_out);
            let matches = std::mem::take(&mut self.sigma_out);
            for m in &matches {
                let ev = AuditEvent::default();
                self.signals.push(sigma_signal(m, &ev, &self.recent));
            }
        }
        let now = self.coverage.last.unwrap_or_default();
        self.apply_signals(now);

        let detectors = self
            .analytics
            .iter()
            .map(|a| {
                let (status, note) = match a.status() {
                    DetectorStatus::Ran => ("ran", None),
                    DetectorStatus::Limited(n) => ("limited", Some(n)),
                    DetectorStatus::NotRun(n) => ("not-run", Some(n)),
                };
                DetectorCoverage {
                    name: a.name().to_owned(),
                    status: status.to_owned(),
                    note,
                }
            })
            .collect();
        let mut findings = Vec::with_capacity(self.findings.len());
        let mut parts = Vec::with_capacity(self.findings.len());
        for b in self.findings {
            findings.push(b.finding);
            parts.push((b.blast, b.timeline));
        }
        let incidents = incident::group(
            &findings,
            &parts,
            self.config.incident_window_secs,
            self.config.incident_min_severity,
        );
        let mut order: Vec<usize> = (0..findings.len()).collect();
        order.sort_by(|&a, &b| {
            findings[b]
                .severity
                .cmp(&findings[a].severity)
                .then(findings[a].first.cmp(&findings[b].first))
        });
        let findings = order.into_iter().map(|i| findings[i].clone()).collect();
        Report {
            incidents,
            findings,
            coverage: self.coverage.build(detectors),
        }
    }

    /// Merges pending signals into findings; returns the findings touched.
    fn apply_signals(&mut self, now: Timestamp) -> HashSet<usize> {
        let mut touched = HashSet::default();
        for signal in self.signals.drain(..) {
            let key = (signal.detector.to_owned(), signal.key.clone());
            let existing = self.by_key.get(&key).copied().filter(|&i| {
                now.as_second() - self.findings[i].finding.last.as_second() <= FINDING_IDLE_SECS
            });
            let idx = match existing {
                Some(i) => {
                    let f = &mut self.findings[i].finding;
                    for t in &signal.attack {
                        if !f.attack.contains(t) {
                            f.attack.push(t.clone());
                        }
                    }
                    if signal.severity > f.severity {
                        f.severity = signal.severity;
                        f.title = signal.title.clone();
                        f.reason = signal.reason.clone();
                    }
                    i
                }
                None => {
                    let first = signal.evidence.first().map_or(now, |e| e.time);
                    let first_id = signal
                        .evidence
                        .first()
                        .map_or(String::new(), |e| e.record_id.clone());
                    let id = format!(
                        "F-{}",
                        &crate::stable_hash(&format!("{}\0{}\0{first_id}", key.0, key.1))[..12]
                    );
                    self.findings.push(Building {
                        finding: Finding {
                            id,
                            detector: signal.detector.to_owned(),
                            title: signal.title.clone(),
                            severity: signal.severity,
                            attack: signal.attack.clone(),
                            tenant: signal.tenant.clone(),
                            first,
                            last: first,
                            entities: Entities::default(),
                            evidence: Vec::new(),
                            reason: signal.reason.clone(),
                        },
                        evidence: HashSet::default(),
                        blast: BlastRadiusBuilder::default(),
                        timeline: Vec::new(),
                    });
                    let i = self.findings.len() - 1;
                    self.by_key.insert(key, i);
                    i
                }
            };
            for a in &signal.attribution {
                let list = self.attribution.entry(a.clone()).or_default();
                if !list.contains(&idx) {
                    list.push(idx);
                }
            }
            for e in &signal.evidence {
                add_evidence(&mut self.findings[idx], e);
            }
            touched.insert(idx);
        }
        touched
    }

    /// Adds the event to every finding whose attribution keys it matches.
    fn attribute(&mut self, ev: &AuditEvent, fresh: &HashSet<usize>) {
        if self.attribution.is_empty() {
            return;
        }
        Attribution::keys_of(ev, &mut self.keys);
        let mut targets: Vec<usize> = Vec::new();
        for k in &self.keys {
            if let Some(list) = self.attribution.get(k) {
                targets.extend(list.iter().filter(|i| !fresh.contains(i)));
            }
        }
        if targets.is_empty() {
            return;
        }
        targets.sort_unstable();
        targets.dedup();
        let evidence = Evidence::of(ev);
        for i in targets {
            add_evidence(&mut self.findings[i], &evidence);
        }
    }
}

fn add_evidence(b: &mut Building, e: &Evidence) {
    if b.evidence.contains(&e.record_id) {
        return;
    }
    let f = &mut b.finding;
    f.first = f.first.min(e.time);
    f.last = f.last.max(e.time);
    add_entities(&mut f.entities, e);
    b.blast.add(e);
    if f.evidence.len() < EVIDENCE_LIMIT {
        b.evidence.insert(e.record_id.clone());
        f.evidence.push(e.record_id.clone());
        b.timeline.push(TimelineEntry {
            time: e.time,
            record_id: e.record_id.clone(),
            operation: e.operation.clone(),
            user: e.user.clone(),
            mailbox: e.mailbox.clone(),
            ip: e.ip,
            app: e.app.clone(),
            finding: f.id.clone(),
        });
    }
}

fn add_entities(ent: &mut Entities, e: &Evidence) {
    if let Some(u) = &e.user {
        ent.users.insert(u.clone());
    }
    if let Some(m) = &e.mailbox {
        ent.mailboxes.insert(m.clone());
    }
    if let Some(a) = &e.app {
        ent.apps.insert(a.clone());
    }
    if let Some(ip) = e.ip {
        ent.ips.insert(ip);
    }
    ent.sessions.extend(e.sessions.iter().cloned());
    if let Some(t) = &e.token {
        ent.tokens.insert(t.clone());
    }
}

/// Evidence of recent events that matched a Sigma rule, so correlation matches, which report
/// record ids only, can carry their events' entities.
#[derive(Default)]
struct RecentEvidence {
    by_id: HashMap<String, Evidence>,
    order: std::collections::VecDeque<String>,
}

impl RecentEvidence {
    const CAPACITY: usize = 100_000;

    fn note(&mut self, ev: &AuditEvent) {
        if self.by_id.contains_key(&ev.record_id) {
            return;
        }
        self.by_id.insert(ev.record_id.clone(), Evidence::of(ev));
        self.order.push_back(ev.record_id.clone());
        while self.order.len() > Self::CAPACITY {
            if let Some(old) = self.order.pop_front() {
                self.by_id.remove(&old);
            }
        }
    }
}

fn sigma_signal(m: &crate::sigma::SigmaMatch, ev: &AuditEvent, recent: &RecentEvidence) -> Signal {
    // A correlation's earlier events did not match a rule of their own, so only their ids are
    // at hand; the values it grouped by (an address, an account) name what they shared.
    let (mut group_ip, mut group_user) = (None, None);
    for (_, value) in &m.group_key {
        if let Ok(ip) = value.parse::<std::net::IpAddr>() {
            group_ip = Some(ip);
        } else if value.contains('@') {
            group_user = Some(value.to_ascii_lowercase());
        }
    }
    let evidence: Vec<Evidence> = m
        .record_ids
        .iter()
        .map(|id| {
            recent.by_id.get(id).cloned().unwrap_or_else(|| Evidence {
                record_id: id.clone(),
                time: m.last,
                ip: group_ip,
                user: group_user.clone(),
                ..Default::default()
            })
        })
        .collect();
    let who = if m.is_correlation {
        m.group_key
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(",")
    } else {
        analytics::user_key(ev).unwrap_or_default()
    };
    let day = m.first.as_second().div_euclid(86_400);
    Signal {
        detector: "sigma",
        key: format!("{}|{who}|{day}", m.rule_id),
        title: m.title.clone(),
        severity: m.level,
        attack: m.attack.clone(),
        reason: match m.description.as_deref().map(first_sentence) {
            Some(d) if !d.is_empty() => format!("Sigma rule '{}' matched: {d}", m.title),
            _ => format!("Sigma rule '{}' matched.", m.title),
        },
        tenant: ev.tenant_id.clone(),
        evidence,
        attribution: Vec::new(),
    }
}

/// The first sentence of a rule description, on one line.
fn first_sentence(text: &str) -> String {
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match flat.find(". ") {
        Some(i) => flat[..=i].to_owned(),
        None => flat,
    }
}

/// The result of a hunt: incidents, all findings, and what the hunt covered.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// Incidents, most severe first.
    pub incidents: Vec<Incident>,
    /// Every finding, most severe first.
    pub findings: Vec<Finding>,
    /// What was analysed and what could not be.
    pub coverage: Coverage,
}

/// What the hunt covered: inputs, records, time, baseline, detectors.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Coverage {
    /// Inputs read (filled in by the caller that read them).
    pub inputs: Vec<InputCoverage>,
    /// Records analysed.
    pub records: u64,
    /// Records per source format.
    pub per_source: BTreeMap<String, u64>,
    /// Records per schema (`unified_audit`, `sign_in`, `directory_audit`, `other`).
    pub per_kind: BTreeMap<String, u64>,
    /// Records per operation.
    pub per_operation: BTreeMap<String, u64>,
    /// First record time.
    pub first: Option<Timestamp>,
    /// Last record time.
    pub last: Option<Timestamp>,
    /// The learning baseline.
    pub baseline: BaselineCoverage,
    /// Each detector, and whether it could run.
    pub detectors: Vec<DetectorCoverage>,
    /// Sigma rules: loaded, skipped, not applicable (filled in by the caller that loaded them).
    pub sigma: Option<SigmaCoverage>,
    /// Records read but rejected as malformed (filled in by the caller).
    pub rejected: u64,
    /// Records analysed though parts of them could not be read, such as the messages of a
    /// `MoveToDeletedItems` in a shape no format lists: a detection may have missed what those
    /// parts held. Each event names its parts in `unread` (filled in by the caller).
    #[serde(default)]
    pub partial: u64,
}

/// One input of a hunt.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct InputCoverage {
    /// Path (or `-`, or the store).
    pub path: String,
    /// Records read from it.
    pub records: u64,
    /// Records rejected as malformed.
    pub rejected: u64,
    /// Why it could not be read at all, if so.
    pub error: Option<String>,
}

/// The learning period.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct BaselineCoverage {
    /// `first-days` (the start of the data) or `explicit` (separate baseline data).
    pub mode: String,
    /// Days, for `first-days`.
    pub days: Option<u32>,
    /// First baseline record.
    pub start: Option<Timestamp>,
    /// End of the baseline (exclusive).
    pub end: Option<Timestamp>,
    /// Records learned from.
    pub records: u64,
    /// Whether the baseline covered all the data, so first-seen detectors could not fire.
    pub covers_all_data: bool,
}

/// Whether one detector ran.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct DetectorCoverage {
    /// Detector name.
    pub name: String,
    /// `ran`, `limited` or `not-run`.
    pub status: String,
    /// What limited it or why it did not run.
    pub note: Option<String>,
}

/// Sigma rules of a hunt.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SigmaCoverage {
    /// Rules loaded and applied.
    pub loaded: u64,
    /// Rules that could not be loaded, with reasons.
    pub skipped: Vec<String>,
    /// Rules written for logs mailtrail does not read.
    pub not_applicable: u64,
}

#[derive(Default)]
struct CoverageBuilder {
    baseline_mode: BaselineMode,
    records: u64,
    per_source: BTreeMap<String, u64>,
    per_kind: BTreeMap<String, u64>,
    per_operation: BTreeMap<String, u64>,
    first: Option<Timestamp>,
    last: Option<Timestamp>,
    baseline_start: Option<Timestamp>,
    baseline_end: Option<Timestamp>,
    baseline_records: u64,
}

impl CoverageBuilder {
    fn learned(&mut self, ev: &AuditEvent) {
        self.baseline_records += 1;
        self.baseline_start = Some(self.baseline_start.map_or(ev.time, |t| t.min(ev.time)));
        self.baseline_end = Some(self.baseline_end.map_or(ev.time, |t| t.max(ev.time)));
    }

    /// Counts the event; returns whether it falls in the learning period.
    fn observe(&mut self, ev: &AuditEvent) -> bool {
        self.records += 1;
        *self
            .per_source
            .entry(ev.source.as_str().to_owned())
            .or_default() += 1;
        *self
            .per_kind
            .entry(ev.kind.as_str().to_owned())
            .or_default() += 1;
        if let Some(c) = self.per_operation.get_mut(ev.operation.as_str()) {
            *c += 1;
        } else {
            self.per_operation.insert(ev.operation.clone(), 1);
        }
        let first = *self.first.get_or_insert(ev.time);
        self.last = Some(self.last.map_or(ev.time, |t| t.max(ev.time)));
        match self.baseline_mode {
            BaselineMode::Explicit => false,
            BaselineMode::FirstDays(days) => {
                let end = *self.baseline_end.get_or_insert_with(|| {
                    first
                        .checked_add(jiff::SignedDuration::from_hours(24 * i64::from(days)))
                        .unwrap_or(first)
                });
                self.baseline_start.get_or_insert(first);
                let learning = ev.time < end && ev.kind != EventKind::Other;
                if learning {
                    self.baseline_records += 1;
                }
                learning
            }
        }
    }

    fn build(self, detectors: Vec<DetectorCoverage>) -> Coverage {
        let (mode, days) = match self.baseline_mode {
            BaselineMode::FirstDays(d) => ("first-days", Some(d)),
            BaselineMode::Explicit => ("explicit", None),
        };
        let covers_all_data = matches!(self.baseline_mode, BaselineMode::FirstDays(_))
            && self
                .baseline_end
                .zip(self.last)
                .is_some_and(|(end, last)| last < end);
        Coverage {
            inputs: Vec::new(),
            records: self.records,
            per_source: self.per_source,
            per_kind: self.per_kind,
            per_operation: self.per_operation,
            first: self.first,
            last: self.last,
            baseline: BaselineCoverage {
                mode: mode.to_owned(),
                days,
                start: self.baseline_start,
                end: self.baseline_end,
                records: self.baseline_records,
                covers_all_data,
            },
            detectors,
            sigma: None,
            rejected: 0,
            partial: 0,
        }
    }
}
