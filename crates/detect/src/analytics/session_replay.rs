//! Session replay: one session or token used from two places at once.
//!
//! A session cookie or token stolen by an adversary-in-the-middle proxy or from a device is replayed
//! from the attacker's network while the victim keeps using it from theirs. Entra ID and Exchange log
//! the same `AADSessionId` / `SessionId` / `UniqueTokenId` on both. People move too — a laptop goes
//! from office to home — but not between networks within minutes, and when they do switch (Wi-Fi to
//! mobile) the device and its user agent stay the same and the networks are ones they use. So the
//! detector fires when a session appears on a second network within a short window *and* either
//! the client differs or the network is new for that user.

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;

use mailtrail_event::{AuditEvent, Timestamp};

use super::{techniques, Analytic, Attribution, Ctx, Evidence, Signal, network_of, secs_between, user_key};
use crate::finding::Severity;

pub(crate) const NAME: &str = "session-replay";
/// Two networks within this many seconds cannot be one person moving.
const WINDOW_SECS: i64 = 30 * 60;
/// Sessions idle this long are forgotten.
const IDLE_SECS: i64 = 24 * 3600;

#[derive(Clone, Debug)]
struct Use {
    network: IpAddr,
    ip: IpAddr,
    agent: Option<String>,
    last: Timestamp,
}

/// See the module documentation.
#[derive(Default)]
pub(crate) struct SessionReplay {
    /// Session or token id → where it was used recently.
    sessions: HashMap<String, Vec<Use>>,
    /// Networks each user has used.
    known_networks: HashMap<String, HashSet<IpAddr>>,
    /// Sessions already reported, so one replay is one signal stream.
    reported: HashSet<(String, IpAddr)>,
    last_sweep: Option<Timestamp>,
}

impl SessionReplay {
    fn sweep(&mut self, now: Timestamp) {
        if self
            .last_sweep
            .is_some_and(|t| secs_between(t, now) < 3600)
        {
            return;
        }
        self.sessions.retain(|_, uses| {
            uses.retain(|u| secs_between(u.last, now) <= IDLE_SECS);
            !uses.is_empty()
        });
        self.last_sweep = Some(now);
    }
}

impl Analytic for SessionReplay {
    fn name(&self) -> &'static str {
        NAME
    }

    fn observe(&mut self, ev: &AuditEvent, ctx: &mut Ctx<'_>) {
        let Some(ip) = ev.client_ip else { return };
        // Failed sign-ins issue nothing: a session id on them proves no possession.
        if ev
            .sign_in
            .as_ref()
            .is_some_and(|s| s.error_code.unwrap_or(0) != 0)
        {
            return;
        }
        self.sweep(ev.time);
        let network = network_of(ip);
        let user = user_key(ev);
        let agent = ev.user_agent.as_deref().map(|a| a.trim().to_ascii_lowercase());
        let new_for_user = user.as_ref().is_some_and(|u| {
            !self
                .known_networks
                .get(u)
                .is_some_and(|nets| nets.contains(&network))
        });

        let ids = [&ev.aad_session_id, &ev.unique_token_id, &ev.session_id];
        for id in ids.into_iter().flatten() {
            let uses = self.sessions.entry(id.clone()).or_default();
            let other = uses
                .iter()
                .filter(|u| u.network != network && secs_between(u.last, ev.time) <= WINDOW_SECS)
                .max_by_key(|u| u.last)
                .cloned();
            match uses.iter_mut().find(|u| u.network == network) {
                Some(u) => {
                    u.last = ev.time;
                    u.ip = ip;
                }
                None => uses.push(Use {
                    network,
                    ip,
                    agent: agent.clone(),
                    last: ev.time,
                }),
            }
            let Some(other) = other else { continue };
            if ctx.learning {
                continue;
            }
            let other_client = agent.is_some() && other.agent.is_some() && agent != other.agent;
            if !(other_client || new_for_user) {
                continue;
            }
            if !self.reported.insert((id.clone(), network)) {
                continue;
            }
            let user_s = user.clone().unwrap_or_else(|| "(unknown user)".into());
            let minutes = secs_between(other.last, ev.time) / 60;
            ctx.emit(Signal {
                detector: NAME,
                key: format!("{user_s}|{network}"),
                title: "Session used from two networks at once".into(),
                severity: Severity::High,
                attack: techniques(&["T1550.004", "T1539", "T1557"]),
                reason: format!(
                    "Session {id} of {user_s} was used from {ip} {minutes} minutes after being used \
                     from {}{}{}.",
                    other.ip,
                    if other_client { ", by a different client" } else { "" },
                    if new_for_user {
                        ", from a network this user had not used before"
                    } else {
                        ""
                    },
                ),
                tenant: ev.tenant_id.clone(),
                evidence: vec![Evidence::of(ev)],
                attribution: user
                    .iter()
                    .map(|u| Attribution::UserIp {
                        user: u.clone(),
                        ip,
                    })
                    .collect(),
            });
        }
        if let Some(u) = user {
            self.known_networks.entry(u).or_default().insert(network);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::*;

    fn used(id: &str, time: &str, ip: &str, agent: &str) -> AuditEvent {
        let mut ev = bind(id, time, "ann@c.example", "a", "b");
        ev.aad_session_id = Some("sess-1".into());
        ev.client_ip = ip.parse().ok();
        ev.user_agent = Some(agent.into());
        ev
    }

    #[test]
    fn a_session_on_a_new_network_within_minutes_is_replay() {
        let events = vec![
            used("r1", "2026-01-20T09:00:00Z", "198.51.100.7", "Outlook/16"),
            used("r2", "2026-01-20T09:10:00Z", "203.0.113.50", "Outlook/16"),
            used("r3", "2026-01-20T09:12:00Z", "203.0.113.50", "Outlook/16"),
        ];
        let out = run(&mut SessionReplay::default(), &events, None);
        assert_eq!(out.len(), 1, "{out:#?}");
        assert_eq!(out[0].evidence[0].record_id, "r2");
        assert!(out[0].reason.contains("198.51.100.7"));
    }

    #[test]
    fn moving_between_known_networks_with_the_same_client_is_not() {
        let events = vec![
            // Baseline: the user works from both networks.
            used("b1", "2026-01-02T09:00:00Z", "198.51.100.7", "Outlook/16"),
            used("b2", "2026-01-02T18:00:00Z", "203.0.113.50", "Outlook/16"),
            used("r1", "2026-01-20T09:00:00Z", "198.51.100.7", "Outlook/16"),
            used("r2", "2026-01-20T09:10:00Z", "203.0.113.50", "Outlook/16"),
        ];
        let out = run(
            &mut SessionReplay::default(),
            &events,
            Some(at("2026-01-15T00:00:00Z")),
        );
        assert!(out.is_empty(), "{out:#?}");
    }

    #[test]
    fn hours_apart_is_travel_not_replay() {
        let events = vec![
            used("r1", "2026-01-20T09:00:00Z", "198.51.100.7", "Outlook/16"),
            used("r2", "2026-01-20T13:00:00Z", "203.0.113.50", "Chrome/120"),
        ];
        assert!(run(&mut SessionReplay::default(), &events, None).is_empty());
    }
}
