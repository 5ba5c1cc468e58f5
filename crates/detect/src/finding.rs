//! [`Finding`]: one detection, with its evidence and the entities it involves.

use std::collections::BTreeSet;
use std::fmt;
use std::net::IpAddr;

use mailtrail_event::{AuditEvent, Timestamp};
use serde::{Deserialize, Serialize};

/// How urgent a finding is, in Sigma's levels.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Context for an analyst; never an incident on its own.
    #[default]
    Informational,
    /// Worth a look when something else points here.
    Low,
    /// Suspicious; review within a day.
    Medium,
    /// Likely malicious; review now.
    High,
    /// Mail is being stolen or a token forged; act now.
    Critical,
}

impl Severity {
    /// Every level, lowest first.
    pub const ALL: [Severity; 5] = [
        Self::Informational,
        Self::Low,
        Self::Medium,
        Self::High,
        Self::Critical,
    ];

    /// The lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Informational => "informational",
            Self::Low => "low",
            Self::Medium => "medium",
            Self::High => "high",
            Self::Critical => "critical",
        }
    }

    /// Parses a level name (`info` is accepted for `informational`).
    pub fn parse(s: &str) -> Option<Severity> {
        let s = s.trim();
        if s.eq_ignore_ascii_case("info") {
            return Some(Self::Informational);
        }
        Self::ALL
            .into_iter()
            .find(|l| l.as_str().eq_ignore_ascii_case(s))
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The users, mailboxes, applications, addresses, sessions and tokens a finding involves.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entities {
    /// Acting users (UPN or object id).
    pub users: BTreeSet<String>,
    /// Mailboxes acted on.
    pub mailboxes: BTreeSet<String>,
    /// Applications, as `AppId` or `AppId/ClientAppId`.
    pub apps: BTreeSet<String>,
    /// Client addresses.
    pub ips: BTreeSet<IpAddr>,
    /// Exchange and Entra session ids.
    pub sessions: BTreeSet<String>,
    /// Unique token ids.
    pub tokens: BTreeSet<String>,
}

impl Entities {
    /// Adds what an event says about who did what to what.
    pub fn add_event(&mut self, ev: &AuditEvent) {
        if let Some(u) = ev.user_id.as_deref().filter(|u| !u.is_empty()) {
            self.users.insert(u.to_ascii_lowercase());
        }
        if let Some(m) = ev.mailbox() {
            self.mailboxes.insert(m.to_ascii_lowercase());
        }
        if let Some(app) = app_label(ev) {
            self.apps.insert(app);
        }
        if let Some(ip) = ev.client_ip {
            self.ips.insert(ip);
        }
        for s in [&ev.session_id, &ev.aad_session_id].into_iter().flatten() {
            self.sessions.insert(s.clone());
        }
        if let Some(t) = &ev.unique_token_id {
            self.tokens.insert(t.clone());
        }
    }

    /// Adds everything in `other`.
    pub fn merge(&mut self, other: &Entities) {
        self.users.extend(other.users.iter().cloned());
        self.mailboxes.extend(other.mailboxes.iter().cloned());
        self.apps.extend(other.apps.iter().cloned());
        self.ips.extend(other.ips.iter().copied());
        self.sessions.extend(other.sessions.iter().cloned());
        self.tokens.extend(other.tokens.iter().cloned());
    }
}

/// `AppId/ClientAppId`, or whichever of the two the event has.
pub(crate) fn app_label(ev: &AuditEvent) -> Option<String> {
    match (ev.app_id.as_deref(), ev.client_app_id.as_deref()) {
        (Some(a), Some(c)) if !a.eq_ignore_ascii_case(c) => Some(format!(
            "{}/{}",
            a.to_ascii_lowercase(),
            c.to_ascii_lowercase()
        )),
        (Some(a), _) | (None, Some(a)) => Some(a.to_ascii_lowercase()),
        (None, None) => None,
    }
}

/// One detection: what fired, why, on which records.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// Stable id: the same detector firing on the same thing in the same data gets the same id.
    pub id: String,
    /// The detector: an analytic's name (`mail-access-without-sign-in`) or `sigma:<rule id>`.
    pub detector: String,
    /// A one-line title.
    pub title: String,
    /// How urgent it is.
    pub severity: Severity,
    /// MITRE ATT&CK technique ids (`T1114.002`).
    pub attack: Vec<String>,
    /// The tenant.
    pub tenant: Option<String>,
    /// Time of the first evidence record.
    pub first: Timestamp,
    /// Time of the last evidence record.
    pub last: Timestamp,
    /// Who and what is involved.
    pub entities: Entities,
    /// The source record ids this finding rests on, in time order.
    pub evidence: Vec<String>,
    /// Why it fired, in one sentence an analyst can check against the evidence.
    pub reason: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn severity_orders_and_parses() {
        assert!(Severity::Critical > Severity::High);
        assert!(Severity::Low > Severity::Informational);
        assert_eq!(Severity::parse("HIGH"), Some(Severity::High));
        assert_eq!(Severity::parse("info"), Some(Severity::Informational));
        assert_eq!(Severity::parse("severe"), None);
    }

    #[test]
    fn app_label_joins_resource_and_client() {
        let mut ev = AuditEvent {
            app_id: Some("00000003-0000-0000-C000-000000000000".into()),
            client_app_id: Some("5a95e683-08ad-424e-a441-1d1aec52c02c".into()),
            ..Default::default()
        };
        assert_eq!(
            app_label(&ev).as_deref(),
            Some("00000003-0000-0000-c000-000000000000/5a95e683-08ad-424e-a441-1d1aec52c02c")
        );
        ev.client_app_id = None;
        assert_eq!(
            app_label(&ev).as_deref(),
            Some("00000003-0000-0000-c000-000000000000")
        );
    }
}
