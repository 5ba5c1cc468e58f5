//! [`SigmaMatcher`]: evaluating events, one at a time, in time order.

use std::cell::Cell;
use std::sync::Arc;

use mailtrail_event::{AuditEvent, Timestamp};
use rsigma_eval::{CorrelationEngine, EvaluationResult};
use serde::Serialize;

use super::event::SigmaEvent;
use super::load::{Compiled, SigmaRules};
use super::route::routes_of;
use crate::finding::Severity;
use crate::{HashMap, HashSet};

/// A rule matched: one event for a detection rule, a group of events for a correlation.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SigmaMatch {
    /// The rule id.
    pub rule_id: String,
    /// The rule title.
    pub title: String,
    /// The rule's severity.
    pub level: Severity,
    /// The rule's description.
    pub description: Option<String>,
    /// ATT&CK technique ids from the rule's tags (`T1114.003`).
    pub attack: Vec<String>,
    /// Whether a correlation rule produced it.
    pub is_correlation: bool,
    /// The record ids of the evidence: the event itself, or every event that contributed to the
    /// correlation (up to 1,000 per group and window), oldest first.
    pub record_ids: Vec<String>,
    /// The first event's time. For correlations, to the second (the window arithmetic's unit).
    pub first: Timestamp,
    /// The last event's time.
    pub last: Timestamp,
    /// The correlation's `group-by` values (`[("ipAddress", "203.0.113.9")]`); empty for detections.
    pub group_key: Vec<(String, String)>,
    /// Whether the rule is part of the built-in pack.
    pub builtin: bool,
}

/// Counters of one matcher's work, for coverage reports and benchmarks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct SigmaStats {
    /// Events given to [`SigmaMatcher::process`].
    pub events: u64,
    /// Events that at least one loaded rule was written for.
    pub routed: u64,
    /// Original records parsed because a rule read a field the mapping table does not have.
    pub record_parses: u64,
    /// Matches emitted.
    pub matches: u64,
}

/// The per-run state of Sigma evaluation: correlation windows and the correlation matches still
/// open. One per stream of events; feed events in time order (by [`AuditEvent::time`]) and call
/// [`finish`](Self::finish) at the end.
///
/// A correlation fires on every event that keeps its condition true; the matcher folds those
/// firings into one [`SigmaMatch`] per burst (firings of the same rule and group no further apart
/// than the rule's timespan) and emits it once the burst is over: when a later event is more than a
/// timespan past it, or at [`finish`](Self::finish).
pub struct SigmaMatcher {
    rules: Arc<Compiled>,
    correlation: Option<CorrelationEngine>,
    open: HashMap<(String, Vec<(String, String)>), OpenMatch>,
    /// The earliest time (seconds) at which some open match is over.
    next_close: i64,
    /// Bursts that ended because a new one of the same rule and group began.
    closed: Vec<SigmaMatch>,
    parses: Cell<u64>,
    stats: SigmaStats,
}

impl std::fmt::Debug for SigmaMatcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigmaMatcher")
            .field("open_correlations", &self.open.len())
            .field("stats", &self.stats())
            .finish()
    }
}

/// A correlation match whose burst may still grow.
struct OpenMatch {
    m: SigmaMatch,
    seen: HashSet<String>,
    last_secs: i64,
    timespan: i64,
}

impl SigmaMatcher {
    /// A matcher with empty windows over `rules`.
    pub fn new(rules: &SigmaRules) -> SigmaMatcher {
        let correlation = rules
            .inner
            .correlations
            .as_ref()
            .and_then(|set| set.engine().ok());
        SigmaMatcher {
            rules: Arc::clone(&rules.inner),
            correlation,
            open: HashMap::default(),
            next_close: i64::MAX,
            closed: Vec::new(),
            parses: Cell::new(0),
            stats: SigmaStats::default(),
        }
    }

    /// Evaluates one event, appending what matched to `out`: detection matches at once,
    /// correlation matches when their burst is over.
    pub fn process(&mut self, event: &AuditEvent, out: &mut Vec<SigmaMatch>) {
        self.stats.events += 1;
        let before = out.len();
        let ts = event.time.as_second();
        if ts > self.next_close {
            self.close(Some(ts), out);
        }
        let rules = Arc::clone(&self.rules);
        let sigma_event = SigmaEvent::new(event, &rules.fields, &self.parses);
        let mut detections: Vec<EvaluationResult> = Vec::new();
        let mut routed = false;
        for route in routes_of(event).into_iter().flatten() {
            if let Some(engine) = &rules.engines[route.index()] {
                routed = true;
                detections.extend(engine.evaluate(&sigma_event));
            }
        }
        if routed {
            self.stats.routed += 1;
        }
        if !detections.is_empty() {
            for det in &detections {
                let Some(meta) = det
                    .header
                    .rule_id
                    .as_ref()
                    .and_then(|id| rules.meta.get(id))
                else {
                    continue;
                };
                if meta.suppressed {
                    continue;
                }
                out.push(SigmaMatch {
                    rule_id: meta.id.clone(),
                    title: meta.title.clone(),
                    level: meta.level,
                    description: meta.description.clone(),
                    attack: meta.attack.clone(),
                    is_correlation: false,
                    record_ids: vec![event.record_id.clone()],
                    first: event.time,
                    last: event.time,
                    group_key: Vec::new(),
                    builtin: meta.builtin,
                });
            }
            if let (Some(engine), Some(set)) = (&mut self.correlation, &rules.correlations) {
                detections.retain(|d| {
                    d.header
                        .rule_id
                        .as_ref()
                        .is_some_and(|id| set.feeds.contains(id))
                });
                if !detections.is_empty() {
                    let results = engine.process_with_detections(&sigma_event, detections, ts);
                    for r in results.iter().filter(|r| r.is_correlation()) {
                        self.fold(r, event, ts, &rules);
                    }
                }
            }
        }
        if !self.closed.is_empty() {
            self.close(Some(ts), out);
        }
        self.stats.matches += (out.len() - before) as u64;
    }

    /// Emits the correlation matches still open. Call once, after the last event.
    pub fn finish(&mut self, out: &mut Vec<SigmaMatch>) {
        let before = out.len();
        self.close(None, out);
        self.stats.matches += (out.len() - before) as u64;
    }

    /// What this matcher has done so far.
    pub fn stats(&self) -> SigmaStats {
        SigmaStats {
            record_parses: self.parses.get(),
            ..self.stats
        }
    }

    /// Folds one correlation firing into its open burst, or opens one.
    fn fold(&mut self, r: &EvaluationResult, event: &AuditEvent, ts: i64, rules: &Compiled) {
        let Some(body) = r.as_correlation() else {
            return;
        };
        let Some(meta) = r.header.rule_id.as_ref().and_then(|id| rules.meta.get(id)) else {
            return;
        };
        let key = (meta.id.clone(), body.group_key.clone());
        let timespan = i64::try_from(body.timespan_secs).unwrap_or(i64::MAX / 4);
        let refs = body.event_refs.as_deref().unwrap_or_default();
        if let Some(open) = self.open.get_mut(&key)
            && ts - open.last_secs > open.timespan
        {
            // A new burst of the same rule and group: the old one is over.
            if let Some(done) = self.open.remove(&key) {
                self.closed.push(done.m);
            }
        }
        let open = self.open.entry(key).or_insert_with(|| {
            let first = refs
                .iter()
                .map(|r| r.timestamp)
                .min()
                .and_then(|s| Timestamp::from_second(s).ok())
                .unwrap_or(event.time);
            OpenMatch {
                m: SigmaMatch {
                    rule_id: meta.id.clone(),
                    title: meta.title.clone(),
                    level: meta.level,
                    description: meta.description.clone(),
                    attack: meta.attack.clone(),
                    is_correlation: true,
                    record_ids: Vec::new(),
                    first,
                    last: event.time,
                    group_key: body.group_key.clone(),
                    builtin: meta.builtin,
                },
                seen: HashSet::default(),
                last_secs: ts,
                timespan,
            }
        });
        for id in refs.iter().filter_map(|r| r.id.as_ref()) {
            if open.seen.insert(id.clone()) {
                open.m.record_ids.push(id.clone());
            }
        }
        open.m.last = event.time;
        open.last_secs = ts;
        self.next_close = self.next_close.min(ts.saturating_add(timespan));
    }

    /// Emits the open matches that are over at `now` (all of them when `now` is `None`), oldest
    /// first.
    fn close(&mut self, now: Option<i64>, out: &mut Vec<SigmaMatch>) {
        let over = |m: &OpenMatch| now.is_none_or(|t| t > m.last_secs.saturating_add(m.timespan));
        let keys: Vec<_> = self
            .open
            .iter()
            .filter(|(_, m)| over(m))
            .map(|(k, _)| k.clone())
            .collect();
        let mut done: Vec<SigmaMatch> = std::mem::take(&mut self.closed);
        done.extend(
            keys.into_iter()
                .filter_map(|k| self.open.remove(&k))
                .map(|m| m.m),
        );
        done.sort_by(|a, b| {
            a.first
                .cmp(&b.first)
                .then_with(|| a.rule_id.cmp(&b.rule_id))
        });
        out.extend(done);
        self.next_close = self
            .open
            .values()
            .map(|m| m.last_secs.saturating_add(m.timespan))
            .min()
            .unwrap_or(i64::MAX);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_matcher_can_move_to_another_thread() {
        fn send<T: Send>() {}
        send::<SigmaMatcher>();
        fn send_sync<T: Send + Sync>() {}
        send_sync::<SigmaRules>();
    }
}
