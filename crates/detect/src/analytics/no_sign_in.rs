//! Mail access without a sign-in: the forged-token signal.
//!
//! Every access token Entra ID issues is logged as a sign-in (interactive, or non-interactive when
//! a refresh token is redeemed; a service principal sign-in for app-only tokens) with its
//! `uniqueTokenIdentifier`, and Exchange writes the same id as `UniqueTokenId` (with the Entra
//! session as `AADSessionId`) on every `MailItemsAccessed` record. A token that reads mail but was
//! never issued by a sign-in was minted elsewhere: forged with a stolen key, as Storm-0558 did.
//!
//! The check needs sign-in logs covering the same period. Without them it does not run and says
//! so. Records it cannot judge — no token id, app-only access when no service principal sign-ins
//! were given, time outside the sign-in coverage — are counted and reported, not flagged.

use std::collections::VecDeque;

use mailtrail_event::{AuditEvent, EventKind, Timestamp};

use super::{
    Analytic, Attribution, Ctx, DetectorStatus, Evidence, Signal, app_pair, is_app_only,
    network_of, secs_between, techniques,
};
use crate::HashMap;
use crate::finding::Severity;

pub(crate) const NAME: &str = "mail-access-without-sign-in";
const ATTACK: &[&str] = &["T1550.001", "T1606"];

/// How long a sign-in keeps vouching for its token and session: access tokens live up to 28 hours
/// under continuous access evaluation.
const HORIZON_SECS: i64 = 30 * 3600;
/// Sign-ins and audit records are written by different services; a sign-in logged up to this long
/// after the first use of its token still counts.
const SKEW_SECS: i64 = 15 * 60;
/// Reads with at least this many unmatched records under one key are critical.
const CRITICAL_COUNT: usize = 3;
/// Candidates held while waiting for sign-in coverage; beyond this they are counted as unjudged.
const MAX_PENDING: usize = 1_000_000;

/// See the module documentation.
pub(crate) struct MailAccessWithoutSignIn {
    /// Token id → time of the sign-in that issued it.
    tokens: HashMap<String, Timestamp>,
    /// Entra session id → last sign-in in it.
    sessions: HashMap<String, Timestamp>,
    /// When to drop expired tokens and sessions next.
    next_eviction: Option<Timestamp>,
    first_sign_in: Option<Timestamp>,
    last_sign_in: Option<Timestamp>,
    service_principal_sign_ins: u64,
    /// Token-bearing reads not matched yet, oldest first.
    pending: VecDeque<Pending>,
    /// Unmatched reads per finding key, to raise severity as they accumulate.
    flagged: HashMap<String, usize>,
    /// Reads judged, matched, and not judged by reason.
    counts: Counts,
    /// How long after the first sign-in before judging: tokens issued before the sign-in logs
    /// start cannot be matched.
    grace_secs: i64,
}

#[derive(Default, Debug)]
struct Counts {
    judged: u64,
    matched: u64,
    no_token_id: u64,
    app_only_without_sp_sign_ins: u64,
    before_coverage: u64,
    after_coverage: u64,
}

struct Pending {
    evidence: Evidence,
    tenant: Option<String>,
    token: Option<String>,
    session: Option<String>,
    pair: Option<(String, String)>,
}

impl MailAccessWithoutSignIn {
    pub(crate) fn new(grace_secs: i64) -> Self {
        Self {
            tokens: HashMap::default(),
            sessions: HashMap::default(),
            next_eviction: None,
            first_sign_in: None,
            last_sign_in: None,
            service_principal_sign_ins: 0,
            pending: VecDeque::new(),
            flagged: HashMap::default(),
            counts: Counts::default(),
            grace_secs,
        }
    }

    fn learn_sign_in(&mut self, ev: &AuditEvent) {
        self.first_sign_in.get_or_insert(ev.time);
        self.last_sign_in = Some(self.last_sign_in.map_or(ev.time, |t| t.max(ev.time)));
        if ev.sign_in.as_ref().is_some_and(|s| {
            s.service_principal_id.is_some()
                || s.event_types
                    .iter()
                    .any(|t| t.eq_ignore_ascii_case("servicePrincipal"))
        }) {
            self.service_principal_sign_ins += 1;
        }
        // A failed sign-in issues no token.
        if ev.sign_in.as_ref().and_then(|s| s.error_code).unwrap_or(0) != 0 {
            return;
        }
        if let Some(t) = &ev.unique_token_id {
            self.tokens.insert(t.clone(), ev.time);
        }
        if let Some(s) = &ev.aad_session_id {
            self.sessions.insert(s.clone(), ev.time);
        }
    }

    fn evict(&mut self, now: Timestamp) {
        if self.next_eviction.is_some_and(|t| now < t) {
            return;
        }
        self.tokens
            .retain(|_, t| secs_between(*t, now) <= HORIZON_SECS);
        self.sessions
            .retain(|_, t| secs_between(*t, now) <= HORIZON_SECS);
        self.next_eviction = now.checked_add(jiff::SignedDuration::from_hours(1)).ok();
    }

    fn matched(&self, p: &Pending) -> bool {
        p.token
            .as_ref()
            .is_some_and(|t| self.tokens.contains_key(t))
            || p.session
                .as_ref()
                .is_some_and(|s| self.sessions.contains_key(s))
    }

    /// Judges pending reads whose sign-in would have been logged by `now`.
    fn resolve(&mut self, now: Timestamp, finishing: bool, ctx: &mut Ctx<'_>) {
        while let Some(p) = self.pending.front() {
            let due = secs_between(p.evidence.time, now) >= SKEW_SECS;
            let covered = self
                .last_sign_in
                .is_some_and(|last| secs_between(p.evidence.time, last) >= 0);
            if !(finishing || due && covered) {
                // Without sign-ins after this read yet, wait: they may still come.
                if self.pending.len() < MAX_PENDING {
                    break;
                }
            }
            let Some(p) = self.pending.pop_front() else {
                break;
            };
            if self.matched(&p) {
                self.counts.matched += 1;
                self.counts.judged += 1;
            } else if !covered
                && self
                    .last_sign_in
                    .is_none_or(|last| secs_between(last, p.evidence.time) > SKEW_SECS)
            {
                self.counts.after_coverage += 1;
            } else {
                self.counts.judged += 1;
                self.flag(p, ctx);
            }
        }
    }

    fn flag(&mut self, p: Pending, ctx: &mut Ctx<'_>) {
        let tenant = p.tenant.clone().unwrap_or_default().to_ascii_lowercase();
        let (app, client_app) = p.pair.clone().unwrap_or_default();
        let place = p
            .evidence
            .ip
            .map(|ip| network_of(ip).to_string())
            .unwrap_or_else(|| "unknown".into());
        let key = format!("{tenant}|{app}|{client_app}|{place}");
        let count = self.flagged.entry(key.clone()).or_default();
        *count += 1;
        let severity = if *count >= CRITICAL_COUNT {
            Severity::Critical
        } else {
            Severity::High
        };
        let which = match (&p.token, &p.session) {
            (Some(t), Some(s)) => format!("token {t} (session {s})"),
            (Some(t), None) => format!("token {t}"),
            (None, Some(s)) => format!("session {s}"),
            (None, None) => "an unknown token".into(),
        };
        let mut attribution = Vec::new();
        if let Some(t) = &p.token {
            attribution.push(Attribution::Token(t.clone()));
        }
        ctx.emit(Signal {
            detector: NAME,
            key,
            title: "Mail read with a token no sign-in issued".into(),
            severity,
            attack: techniques(ATTACK),
            reason: format!(
                "{} read mailbox {} with {which}, but no sign-in in the given sign-in logs issued \
                 that token or session: the token was minted outside Entra ID (forged) or the \
                 sign-in logs are incomplete.",
                p.evidence.app.as_deref().unwrap_or("an application"),
                p.evidence.mailbox.as_deref().unwrap_or("(unknown)"),
            ),
            tenant: p.tenant,
            evidence: vec![p.evidence],
            attribution,
        });
    }
}

impl Analytic for MailAccessWithoutSignIn {
    fn name(&self) -> &'static str {
        NAME
    }

    fn observe(&mut self, ev: &AuditEvent, ctx: &mut Ctx<'_>) {
        if ev.kind == EventKind::SignIn {
            self.learn_sign_in(ev);
            self.resolve(ev.time, false, ctx);
            return;
        }
        self.evict(ev.time);
        self.resolve(ev.time, false, ctx);
        if !ev.reads_mail() || ctx.baseline_only {
            return;
        }
        if ev.unique_token_id.is_none() && ev.aad_session_id.is_none() {
            self.counts.no_token_id += 1;
            return;
        }
        let Some(first) = self.first_sign_in else {
            self.counts.before_coverage += 1;
            return;
        };
        if secs_between(first, ev.time) < self.grace_secs {
            self.counts.before_coverage += 1;
            return;
        }
        if is_app_only(ev) && self.service_principal_sign_ins == 0 {
            self.counts.app_only_without_sp_sign_ins += 1;
            return;
        }
        let pending = Pending {
            evidence: Evidence::of(ev),
            tenant: ev.tenant_id.clone(),
            token: ev.unique_token_id.clone(),
            session: ev.aad_session_id.clone(),
            pair: app_pair(ev),
        };
        // Most reads match at once; only the others wait for late sign-ins.
        if self.matched(&pending) {
            self.counts.judged += 1;
            self.counts.matched += 1;
        } else {
            self.pending.push_back(pending);
        }
    }

    fn finish(&mut self, ctx: &mut Ctx<'_>) {
        let now = self.last_sign_in.unwrap_or_default();
        self.resolve(now, true, ctx);
    }

    fn status(&self) -> DetectorStatus {
        if self.first_sign_in.is_none() {
            return DetectorStatus::NotRun(
                "no sign-in logs in the input: give Entra ID sign-in logs (interactive, \
                 non-interactive and service principal) with --signins"
                    .into(),
            );
        }
        let c = &self.counts;
        let unjudged =
            c.no_token_id + c.app_only_without_sp_sign_ins + c.before_coverage + c.after_coverage;
        if unjudged == 0 {
            return DetectorStatus::Ran;
        }
        let mut parts = Vec::new();
        for (n, why) in [
            (c.no_token_id, "carry no token or session id"),
            (
                c.app_only_without_sp_sign_ins,
                "used app-only tokens but no service principal sign-ins were given",
            ),
            (
                c.before_coverage,
                "happened before the sign-in logs could cover their tokens",
            ),
            (c.after_coverage, "happened after the sign-in logs end"),
        ] {
            if n > 0 {
                parts.push(format!("{n} {why}"));
            }
        }
        DetectorStatus::Limited(format!(
            "{} mail reads judged ({} matched a sign-in); not judged: {}",
            c.judged,
            c.matched,
            parts.join("; ")
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::*;

    const GRAPH: &str = "00000003-0000-0000-c000-000000000000";
    const OWA: &str = "9199bf20-a13f-4107-85dc-02114787ef48";

    fn with_token(mut ev: AuditEvent, token: &str) -> AuditEvent {
        ev.unique_token_id = Some(token.into());
        ev
    }

    fn analytic() -> MailAccessWithoutSignIn {
        MailAccessWithoutSignIn::new(0)
    }

    #[test]
    fn a_read_whose_token_was_signed_in_is_not_flagged() {
        let events = vec![
            sign_in(
                "s1",
                "2026-01-20T09:00:00Z",
                "ann@c.example",
                "198.51.100.7",
                "tok-a",
            ),
            with_token(
                bind("m1", "2026-01-20T09:01:00Z", "ann@c.example", GRAPH, OWA),
                "tok-a",
            ),
            sign_in(
                "s2",
                "2026-01-20T12:00:00Z",
                "bob@c.example",
                "198.51.100.8",
                "tok-b",
            ),
        ];
        let mut a = analytic();
        assert!(run(&mut a, &events, None).is_empty());
        assert_eq!(a.counts.matched, 1);
    }

    #[test]
    fn a_read_with_an_unknown_token_is_flagged() {
        let events = vec![
            sign_in(
                "s1",
                "2026-01-20T09:00:00Z",
                "ann@c.example",
                "198.51.100.7",
                "tok-a",
            ),
            with_token(
                bind("m1", "2026-01-20T09:01:00Z", "ann@c.example", GRAPH, OWA),
                "forged",
            ),
            sign_in(
                "s2",
                "2026-01-20T12:00:00Z",
                "bob@c.example",
                "198.51.100.8",
                "tok-b",
            ),
        ];
        let out = run(&mut analytic(), &events, None);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].evidence[0].record_id, "m1");
        assert_eq!(out[0].severity, Severity::High);
        assert!(out[0].reason.contains("forged"));
    }

    #[test]
    fn a_sign_in_logged_slightly_after_the_read_still_counts() {
        let events = vec![
            sign_in(
                "s0",
                "2026-01-20T08:00:00Z",
                "bob@c.example",
                "198.51.100.8",
                "tok-0",
            ),
            with_token(
                bind("m1", "2026-01-20T09:01:00Z", "ann@c.example", GRAPH, OWA),
                "tok-a",
            ),
            sign_in(
                "s1",
                "2026-01-20T09:05:00Z",
                "ann@c.example",
                "198.51.100.7",
                "tok-a",
            ),
            sign_in(
                "s2",
                "2026-01-20T12:00:00Z",
                "bob@c.example",
                "198.51.100.8",
                "tok-b",
            ),
        ];
        assert!(run(&mut analytic(), &events, None).is_empty());
    }

    #[test]
    fn a_token_older_than_the_horizon_no_longer_vouches() {
        let events = vec![
            sign_in(
                "s1",
                "2026-01-20T09:00:00Z",
                "ann@c.example",
                "198.51.100.7",
                "tok-a",
            ),
            sign_in(
                "s2",
                "2026-01-22T08:00:00Z",
                "bob@c.example",
                "198.51.100.8",
                "tok-b",
            ),
            with_token(
                bind("m1", "2026-01-22T09:01:00Z", "ann@c.example", GRAPH, OWA),
                "tok-a",
            ),
            sign_in(
                "s3",
                "2026-01-22T12:00:00Z",
                "bob@c.example",
                "198.51.100.8",
                "tok-c",
            ),
        ];
        assert_eq!(run(&mut analytic(), &events, None).len(), 1);
    }

    #[test]
    fn reads_after_the_sign_in_logs_end_are_not_judged() {
        let events = vec![
            sign_in(
                "s1",
                "2026-01-20T09:00:00Z",
                "ann@c.example",
                "198.51.100.7",
                "tok-a",
            ),
            with_token(
                bind("m1", "2026-01-21T09:01:00Z", "ann@c.example", GRAPH, OWA),
                "x",
            ),
        ];
        let mut a = analytic();
        assert!(run(&mut a, &events, None).is_empty());
        assert_eq!(a.counts.after_coverage, 1);
        assert!(
            matches!(a.status(), DetectorStatus::Limited(s) if s.contains("after the sign-in logs end"))
        );
    }

    #[test]
    fn without_sign_in_logs_the_check_says_it_did_not_run() {
        let events = vec![with_token(
            bind("m1", "2026-01-21T09:01:00Z", "ann@c.example", GRAPH, OWA),
            "x",
        )];
        let mut a = analytic();
        assert!(run(&mut a, &events, None).is_empty());
        assert!(matches!(a.status(), DetectorStatus::NotRun(s) if s.contains("--signins")));
    }

    #[test]
    fn repeated_unmatched_reads_become_critical() {
        let mut events = vec![sign_in(
            "s0",
            "2026-01-20T08:00:00Z",
            "bob@c.example",
            "198.51.100.8",
            "tok-0",
        )];
        for i in 0..3 {
            events.push(with_token(
                bind(
                    &format!("m{i}"),
                    &format!("2026-01-20T09:0{i}:00Z"),
                    "ann@c.example",
                    GRAPH,
                    OWA,
                ),
                &format!("forged-{i}"),
            ));
        }
        events.push(sign_in(
            "s9",
            "2026-01-20T12:00:00Z",
            "bob@c.example",
            "198.51.100.8",
            "t",
        ));
        let out = run(&mut analytic(), &events, None);
        assert_eq!(out.len(), 3);
        assert!(out.iter().all(|s| s.key == out[0].key));
        assert_eq!(out[2].severity, Severity::Critical);
    }
}
