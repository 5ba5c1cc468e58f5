//! Stateful analytics: detections that need memory across records, which Sigma cannot express.
//!
//! Each analytic sees every event in time order through [`Analytic::observe`] and emits
//! [`Signal`]s. The engine merges signals with the same detector and key into one finding, and
//! keeps attributing later records that match a signal's [`Attribution`] keys to it, so a finding
//! that fires on the first forged-token read also collects the reads that follow.

use std::net::IpAddr;

use mailtrail_event::{AuditEvent, MailAccessType, Timestamp, UserType, microsoft_service};

use crate::finding::{Severity, app_label};

mod bec;
mod bulk;
mod foreign_tenant;
mod infrastructure;
mod new_app;
mod no_sign_in;
mod session_replay;

pub use bec::SprayConfig;
pub use bulk::BulkConfig;
pub use infrastructure::{Indicator, IndicatorKind, IndicatorSet, IocError};

pub(crate) use bec::{DelegationThenAccess, EDiscoveryExport, GrantThenMailRead, SprayThenSuccess};
pub(crate) use bulk::BulkMailAccess;
pub(crate) use foreign_tenant::ForeignTenantToken;
pub(crate) use infrastructure::KnownBadInfrastructure;
pub(crate) use new_app::NewAppReadingMail;
pub(crate) use no_sign_in::MailAccessWithoutSignIn;
pub(crate) use session_replay::SessionReplay;

/// A stateful detector.
pub(crate) trait Analytic: Send {
    /// The detector's stable name, e.g. `mail-access-without-sign-in`.
    fn name(&self) -> &'static str;

    /// Sees one event; events arrive in time order.
    fn observe(&mut self, ev: &AuditEvent, ctx: &mut Ctx<'_>);

    /// The input is complete: flush whatever was held back.
    fn finish(&mut self, _ctx: &mut Ctx<'_>) {}

    /// Whether the detector could do its job on this input, and if not why.
    fn status(&self) -> DetectorStatus {
        DetectorStatus::Ran
    }
}

/// Whether a detector ran.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum DetectorStatus {
    /// It ran over the input.
    Ran,
    /// It ran, with a limitation the report should state.
    Limited(String),
    /// It could not run; the reason says what input it needs.
    NotRun(String),
}

/// What an analytic can see of the engine while observing an event.
pub(crate) struct Ctx<'a> {
    /// Whether the current event is part of the learning baseline: first-seen detectors learn from
    /// it and do not fire.
    pub(crate) learning: bool,
    /// Whether the event comes from separate baseline data, before the hunted period: detectors
    /// learn from it but leave nothing pending that could be reported later.
    pub(crate) baseline_only: bool,
    pub(crate) out: &'a mut Vec<Signal>,
}

impl Ctx<'_> {
    pub(crate) fn emit(&mut self, signal: Signal) {
        self.out.push(signal);
    }
}

/// A finding as an analytic raises it; the engine merges signals with equal `(detector, key)`.
#[derive(Clone, Debug)]
pub(crate) struct Signal {
    pub(crate) detector: &'static str,
    /// Signals with the same detector and key are one finding.
    pub(crate) key: String,
    pub(crate) title: String,
    pub(crate) severity: Severity,
    pub(crate) attack: Vec<String>,
    pub(crate) reason: String,
    pub(crate) tenant: Option<String>,
    pub(crate) evidence: Vec<Evidence>,
    /// Later records matching any of these keys are evidence of this finding too.
    pub(crate) attribution: Vec<Attribution>,
}

/// ATT&CK technique ids as a signal carries them.
pub(crate) fn techniques(ids: &[&str]) -> Vec<String> {
    ids.iter().map(|s| (*s).to_owned()).collect()
}

/// A key that ties later records to a finding. Each is narrow on purpose: attributing by a shared
/// VPN address or a first-party app would sweep in everyone's mail.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Attribution {
    /// Records that used this token.
    Token(String),
    /// Records by this client application (not first-party) in this tenant.
    ClientApp { tenant: String, app: String },
    /// Records by this exact `(AppId, ClientAppId)` pair in this tenant.
    AppPair {
        tenant: String,
        app: String,
        client_app: String,
    },
    /// Records of this user from this address.
    UserIp { user: String, ip: IpAddr },
    /// Records of this user reading this other mailbox.
    Delegate { user: String, mailbox: String },
    /// Records from this address (a known-bad indicator).
    Ip(IpAddr),
}

impl Attribution {
    /// The keys an event can be looked up by.
    pub(crate) fn keys_of(ev: &AuditEvent, out: &mut Vec<Attribution>) {
        out.clear();
        if let Some(t) = &ev.unique_token_id {
            out.push(Attribution::Token(t.clone()));
        }
        if let Some(tenant) = &ev.tenant_id {
            let tenant = tenant.to_ascii_lowercase();
            if let Some((app, client_app)) = app_pair(ev) {
                out.push(Attribution::AppPair {
                    tenant: tenant.clone(),
                    app,
                    client_app,
                });
            }
            if let Some(app) = client_app(ev) {
                out.push(Attribution::ClientApp { tenant, app });
            }
        }
        // Microsoft's service addresses carry everyone's traffic: never a key.
        if let Some(ip) = ev.client_ip.filter(|ip| microsoft_service(*ip).is_none()) {
            if let Some(user) = user_key(ev) {
                out.push(Attribution::UserIp {
                    user: user.clone(),
                    ip,
                });
                if let Some(mailbox) = ev.mailbox().map(str::to_ascii_lowercase)
                    && mailbox != user
                {
                    out.push(Attribution::Delegate { user, mailbox });
                }
            }
            out.push(Attribution::Ip(ip));
        } else if let Some(user) = user_key(ev)
            && let Some(mailbox) = ev.mailbox().map(str::to_ascii_lowercase)
            && mailbox != user
        {
            out.push(Attribution::Delegate { user, mailbox });
        }
    }
}

/// What a finding keeps of an evidence record: enough for entities, the timeline and the blast
/// radius, without the raw bytes.
#[derive(Clone, Debug, Default)]
pub(crate) struct Evidence {
    pub(crate) record_id: String,
    pub(crate) time: Timestamp,
    pub(crate) operation: String,
    pub(crate) user: Option<String>,
    pub(crate) mailbox: Option<String>,
    pub(crate) app: Option<String>,
    pub(crate) ip: Option<IpAddr>,
    pub(crate) sessions: Vec<String>,
    pub(crate) token: Option<String>,
    pub(crate) mail: Option<MailRead>,
}

/// The mail-reading part of an evidence record.
#[derive(Clone, Debug, Default)]
pub(crate) struct MailRead {
    pub(crate) access_type: Option<MailAccessType>,
    pub(crate) throttled: bool,
    pub(crate) operation_count: Option<u64>,
    /// `(folder path, InternetMessageIds)`.
    pub(crate) folders: Vec<(String, Vec<String>)>,
}

impl Evidence {
    pub(crate) fn of(ev: &AuditEvent) -> Evidence {
        let mail = ev.reads_mail().then(|| {
            let m = ev.mail_access.as_ref();
            MailRead {
                access_type: m.and_then(|m| m.access_type.clone()),
                throttled: m.and_then(|m| m.is_throttled).unwrap_or(false),
                operation_count: m.and_then(|m| m.operation_count),
                folders: m
                    .map(|m| {
                        m.folders
                            .iter()
                            .map(|f| {
                                let path = f
                                    .path
                                    .clone()
                                    .or_else(|| f.id.clone())
                                    .unwrap_or_else(|| "(unknown folder)".to_owned());
                                (path, f.message_ids.clone())
                            })
                            .collect()
                    })
                    .unwrap_or_default(),
            }
        });
        Evidence {
            record_id: ev.record_id.clone(),
            time: ev.time,
            operation: ev.operation.clone(),
            user: user_key(ev),
            mailbox: ev.mailbox().map(str::to_ascii_lowercase),
            app: app_label(ev),
            ip: ev.client_ip,
            sessions: [&ev.session_id, &ev.aad_session_id]
                .into_iter()
                .flatten()
                .cloned()
                .collect(),
            token: ev.unique_token_id.clone(),
            mail,
        }
    }
}

/// The acting user, lower-cased.
pub(crate) fn user_key(ev: &AuditEvent) -> Option<String> {
    ev.user_id
        .as_deref()
        .map(str::trim)
        .filter(|u| !u.is_empty())
        .map(str::to_ascii_lowercase)
}

/// The application that actually made the request: `ClientAppId`, else `AppId`.
pub(crate) fn client_app(ev: &AuditEvent) -> Option<String> {
    ev.client_app_id
        .as_deref()
        .or(ev.app_id.as_deref())
        .map(str::trim)
        .filter(|a| !a.is_empty())
        .map(str::to_ascii_lowercase)
}

/// `(AppId, ClientAppId)` lower-cased, with an empty string for a missing half.
pub(crate) fn app_pair(ev: &AuditEvent) -> Option<(String, String)> {
    let lower = |s: &Option<String>| {
        s.as_deref()
            .map(str::trim)
            .unwrap_or_default()
            .to_ascii_lowercase()
    };
    let pair = (lower(&ev.app_id), lower(&ev.client_app_id));
    (!pair.0.is_empty() || !pair.1.is_empty()).then_some(pair)
}

/// Whether a mail access used an app-only token (client credentials): such tokens have no user
/// sign-in, only a service principal sign-in.
pub(crate) fn is_app_only(ev: &AuditEvent) -> bool {
    matches!(
        ev.user_type,
        Some(UserType::Application | UserType::ServicePrincipal)
    ) || ev.user_id.as_deref().is_some_and(|u| !u.contains('@'))
}

/// A coarse network: the /24 of an IPv4 address or the /48 of an IPv6 one. Two addresses in one
/// network are one place for "from where" questions (DHCP churn, carrier-grade NAT pools).
pub(crate) fn network_of(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            IpAddr::from([o[0], o[1], o[2], 0])
        }
        IpAddr::V6(v6) => {
            let s = v6.segments();
            IpAddr::from([s[0], s[1], s[2], 0, 0, 0, 0, 0])
        }
    }
}

/// A place, for "is this the same place?" questions: the /16 of an IPv4 address or the /32 of an
/// IPv6 one. Coarser than [`network_of`] because phones on a carrier hop between addresses of a
/// large pool (carrier-grade NAT) within minutes; an attacker's hosting provider is in another
/// place all the same.
pub(crate) fn place_of(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            IpAddr::from([o[0], o[1], 0, 0])
        }
        IpAddr::V6(v6) => {
            let s = v6.segments();
            IpAddr::from([s[0], s[1], 0, 0, 0, 0, 0, 0])
        }
    }
}

/// Where each key (an account, an application) has been seen, by [`place_of`], and since when:
/// at most `cap` places per key, so a key seen from everywhere cannot grow without bound.
pub(crate) struct Places<K> {
    seen: crate::HashMap<K, crate::HashMap<IpAddr, Timestamp>>,
    cap: usize,
}

impl<K: std::hash::Hash + Eq> Places<K> {
    pub(crate) fn new(cap: usize) -> Self {
        Self {
            seen: crate::HashMap::default(),
            cap,
        }
    }

    /// Notes `key` at `place` at `time` (the first time counts).
    pub(crate) fn note<Q>(&mut self, key: &Q, place: IpAddr, time: Timestamp)
    where
        K: std::borrow::Borrow<Q>,
        Q: std::hash::Hash + Eq + ToOwned<Owned = K> + ?Sized,
    {
        let places = match self.seen.get_mut(key) {
            Some(p) => p,
            None => self.seen.entry(key.to_owned()).or_default(),
        };
        if places.len() < self.cap {
            places.entry(place).or_insert(time);
        }
    }

    /// When `key` was first seen at `place`.
    pub(crate) fn since<Q>(&self, key: &Q, place: IpAddr) -> Option<Timestamp>
    where
        K: std::borrow::Borrow<Q>,
        Q: std::hash::Hash + Eq + ?Sized,
    {
        self.seen.get(key)?.get(&place).copied()
    }

    /// Whether `key` has been seen anywhere.
    pub(crate) fn knows<Q>(&self, key: &Q) -> bool
    where
        K: std::borrow::Borrow<Q>,
        Q: std::hash::Hash + Eq + ?Sized,
    {
        self.seen.get(key).is_some_and(|p| !p.is_empty())
    }
}

/// Seconds between two times (negative when `b` is before `a`).
pub(crate) fn secs_between(a: Timestamp, b: Timestamp) -> i64 {
    b.as_second() - a.as_second()
}

#[cfg(test)]
pub(crate) mod testing {
    //! Event builders for analytic tests.

    use mailtrail_event::{AuditEvent, EventKind, Folder, MailAccess, MailAccessType, SignIn};

    use super::*;

    pub(crate) const TENANT: &str = "6b2f1c2e-0000-4000-8000-00000000c0de";

    pub(crate) fn at(s: &str) -> Timestamp {
        mailtrail_event::parse_time(s).unwrap()
    }

    /// A Bind `MailItemsAccessed` by `user` on their own mailbox.
    pub(crate) fn bind(
        id: &str,
        time: &str,
        user: &str,
        app: &str,
        client_app: &str,
    ) -> AuditEvent {
        AuditEvent {
            kind: EventKind::UnifiedAudit,
            record_id: id.into(),
            time: at(time),
            tenant_id: Some(TENANT.into()),
            workload: Some("Exchange".into()),
            operation: "MailItemsAccessed".into(),
            user_id: Some(user.into()),
            user_type: Some(UserType::Regular),
            mailbox_owner_upn: Some(user.into()),
            app_id: Some(app.into()),
            client_app_id: Some(client_app.into()),
            client_ip: "198.51.100.7".parse().ok(),
            mail_access: Some(MailAccess {
                access_type: Some(MailAccessType::Bind),
                is_throttled: Some(false),
                operation_count: Some(1),
                folders: vec![Folder {
                    id: None,
                    path: Some("\\Inbox".into()),
                    message_ids: vec![format!("<{id}@mail.example>")],
                }],
            }),
            ..Default::default()
        }
    }

    /// A successful interactive sign-in.
    pub(crate) fn sign_in(id: &str, time: &str, user: &str, ip: &str, token: &str) -> AuditEvent {
        AuditEvent {
            kind: EventKind::SignIn,
            record_id: id.into(),
            time: at(time),
            tenant_id: Some(TENANT.into()),
            workload: Some("AzureActiveDirectory".into()),
            operation: "SignIn".into(),
            user_id: Some(user.into()),
            client_ip: ip.parse().ok(),
            unique_token_id: Some(token.into()),
            sign_in: Some(Box::new(SignIn {
                error_code: Some(0),
                ..Default::default()
            })),
            ..Default::default()
        }
    }

    /// Runs an analytic over events, treating those before `learn_until` as baseline.
    pub(crate) fn run(
        analytic: &mut dyn Analytic,
        events: &[AuditEvent],
        learn_until: Option<Timestamp>,
    ) -> Vec<Signal> {
        let mut out = Vec::new();
        for ev in events {
            let learning = learn_until.is_some_and(|t| ev.time < t);
            analytic.observe(
                ev,
                &mut Ctx {
                    learning,
                    baseline_only: false,
                    out: &mut out,
                },
            );
        }
        analytic.finish(&mut Ctx {
            learning: false,
            baseline_only: false,
            out: &mut out,
        });
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn networks_group_neighbours() {
        let a: IpAddr = "203.0.113.9".parse().unwrap();
        let b: IpAddr = "203.0.113.200".parse().unwrap();
        let c: IpAddr = "203.0.114.9".parse().unwrap();
        assert_eq!(network_of(a), network_of(b));
        assert_ne!(network_of(a), network_of(c));
        let v6a: IpAddr = "2001:db8:1:2::1".parse().unwrap();
        let v6b: IpAddr = "2001:db8:1:ffff::1".parse().unwrap();
        assert_eq!(network_of(v6a), network_of(v6b));
    }

    #[test]
    fn attribution_keys_include_delegate_access() {
        let mut ev = testing::bind(
            "r1",
            "2026-01-20T10:00:00Z",
            "bob@contoso.example",
            "a",
            "b",
        );
        ev.mailbox_owner_upn = Some("Alice@contoso.example".into());
        let mut keys = Vec::new();
        Attribution::keys_of(&ev, &mut keys);
        assert!(keys.contains(&Attribution::Delegate {
            user: "bob@contoso.example".into(),
            mailbox: "alice@contoso.example".into()
        }));
        assert!(keys.contains(&Attribution::ClientApp {
            tenant: testing::TENANT.into(),
            app: "b".into()
        }));
    }
}
