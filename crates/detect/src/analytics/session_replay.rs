//! Session replay: one session or token used from two places at once.
//!
//! A session cookie or token stolen by an adversary-in-the-middle proxy or from a device is replayed
//! from the attacker's network while the victim keeps using it from theirs. Entra ID and Exchange log
//! the same `AADSessionId` / `SessionId` / `UniqueTokenId` on both. People move too — a laptop goes
//! from office to home — but not between networks within minutes, and when they do switch (Wi-Fi to
//! mobile) the device and its user agent stay the same and the networks are ones they use. So the
//! detector fires when a session appears on a second network within a short window *and* either
//! the client differs or the network is new for that user — or, at any time in the session's life,
//! from a second network on another operating system: a session cookie does not move from a
//! Windows laptop to a Mac.

use std::net::IpAddr;

use mailtrail_event::{AuditEvent, EventKind, Timestamp, microsoft_service};

use super::{
    Analytic, Attribution, Ctx, Evidence, Signal, place_of, secs_between, techniques, user_key,
};
use crate::finding::Severity;
use crate::{HashMap, HashSet};

pub(crate) const NAME: &str = "session-replay";
/// Two networks within this many seconds cannot be one person moving.
const WINDOW_SECS: i64 = 30 * 60;
/// A place used by this many users of the tenant is a common one.
const COMMON_PLACE_USERS: usize = 3;
/// A session born at a place new to the user and seen within this long at a second new place is
/// replayed: one trip does not pass through two unknown networks with one session that fast.
const HOP_SECS: i64 = 6 * 3600;
/// Sessions idle this long are forgotten.
const IDLE_SECS: i64 = 24 * 3600;
/// A network a user, or the tenant, has not used for this long is forgotten: memory stays
/// proportional to the places in use, and a place left half a year ago is new again.
const PLACE_MEMORY_SECS: i64 = 180 * 24 * 3600;

#[derive(Clone, Debug)]
struct Use {
    network: IpAddr,
    ip: IpAddr,
    /// The client, per record kind: a sign-in's user agent and Exchange's `ClientInfoString` name
    /// one device differently, so only agents of the same kind are compared.
    agent: Option<(EventKind, String)>,
    os: Option<&'static str>,
    /// The browser, with the record kind that named it.
    browser: Option<(EventKind, &'static str)>,
    /// Whether the user had never been at this place when the session first came here.
    unfamiliar: bool,
    last: Timestamp,
}

/// The browser a user agent names, when it is a browser's. Apps that embed one (Teams, Outlook)
/// name none.
fn browser_family(agent: &str) -> Option<&'static str> {
    if !agent.starts_with("Mozilla/") || agent.contains("Teams/") || agent.contains("Outlook") {
        return None;
    }
    [
        ("Edg/", "Edge"),
        ("Firefox/", "Firefox"),
        ("Chrome/", "Chrome"),
        ("Safari/", "Safari"),
    ]
    .into_iter()
    .find(|(marker, _)| agent.contains(marker))
    .map(|(_, name)| name)
}

/// The operating system a user agent names, when it names one.
fn os_family(agent: &str) -> Option<&'static str> {
    // Lower-cased on the stack: this runs for every record. Agents name their platform early.
    let mut buf = [0u8; 256];
    let n = agent.len().min(buf.len());
    buf[..n].copy_from_slice(&agent.as_bytes()[..n]);
    buf[..n].make_ascii_lowercase();
    let a = &buf[..n];
    let contains = |needle: &str| memchr::memmem::find(a, needle.as_bytes()).is_some();
    if contains("iphone") || contains("ipad") || contains("ios/") || contains("ios ") {
        Some("iOS")
    } else if contains("android") {
        Some("Android")
    } else if contains("windows") {
        Some("Windows")
    } else if contains("macintosh") || contains("mac os") {
        Some("macOS")
    } else if contains("linux") || contains("x11") {
        Some("Linux")
    } else {
        None
    }
}

/// Whether two agents name different clients; agents of different record kinds are not compared.
fn other_client(a: Option<(EventKind, &str)>, b: &Option<(EventKind, String)>) -> bool {
    matches!((a, b), (Some((k1, a1)), Some((k2, a2))) if k1 == *k2 && !a1.eq_ignore_ascii_case(a2))
}

/// Whether both uses are on one phone's operating system: a phone moving between networks.
fn same_phone(os: Option<&'static str>, other: Option<&'static str>) -> bool {
    matches!(os, Some("iOS" | "Android")) && other == os
}

/// See the module documentation.
#[derive(Default)]
pub(crate) struct SessionReplay {
    /// Session or token id → where it was used recently.
    sessions: HashMap<String, Vec<Use>>,
    /// Networks each user has used in the last [`PLACE_MEMORY_SECS`], and when last.
    known_networks: HashMap<String, HashMap<IpAddr, Timestamp>>,
    /// Up to [`COMMON_PLACE_USERS`] users seen at each place, and when it was last used: a place
    /// many colleagues use (an office, a carrier, the company VPN) is not where an attacker
    /// replays a session from.
    place_users: HashMap<IpAddr, (Vec<String>, Timestamp)>,
    /// Sessions already reported, so one replay is one signal stream; forgotten with the session.
    reported: HashSet<(String, IpAddr)>,
    last_sweep: Option<Timestamp>,
}

impl SessionReplay {
    fn sweep(&mut self, now: Timestamp) {
        if self.last_sweep.is_some_and(|t| secs_between(t, now) < 3600) {
            return;
        }
        self.sessions.retain(|_, uses| {
            uses.retain(|u| secs_between(u.last, now) <= IDLE_SECS);
            !uses.is_empty()
        });
        let sessions = &self.sessions;
        self.reported.retain(|(id, _)| sessions.contains_key(id));
        self.known_networks.retain(|_, networks| {
            networks.retain(|_, last| secs_between(*last, now) <= PLACE_MEMORY_SECS);
            !networks.is_empty()
        });
        self.place_users
            .retain(|_, (_, last)| secs_between(*last, now) <= PLACE_MEMORY_SECS);
        self.last_sweep = Some(now);
    }
}

impl Analytic for SessionReplay {
    fn name(&self) -> &'static str {
        NAME
    }

    fn observe(&mut self, ev: &AuditEvent, ctx: &mut Ctx<'_>) {
        let Some(ip) = ev.client_ip else { return };
        // A Microsoft service acting for the user carries the user's session from Microsoft's
        // network: that is not a second place the session is used from.
        if microsoft_service(ip).is_some() {
            return;
        }
        // Failed sign-ins issue nothing: a session id on them proves no possession.
        if ev
            .sign_in
            .as_ref()
            .is_some_and(|s| s.error_code.unwrap_or(0) != 0)
        {
            return;
        }
        self.sweep(ev.time);
        let network = place_of(ip);
        let user = user_key(ev);
        let agent = ev.user_agent.as_deref().map(|a| (ev.kind, a.trim()));
        let os = ev.user_agent.as_deref().and_then(os_family);
        let browser = ev
            .user_agent
            .as_deref()
            .and_then(browser_family)
            .map(|b| (ev.kind, b));
        let common = self
            .place_users
            .get(&network)
            .is_some_and(|(users, _)| users.len() >= COMMON_PLACE_USERS);
        let user_networks = user.as_ref().and_then(|u| self.known_networks.get(u));
        // Never used by this user, though perhaps by colleagues.
        let unknown_to_user =
            user.is_some() && !user_networks.is_some_and(|nets| nets.contains_key(&network));
        let new_for_user = !common && unknown_to_user;
        // "Unknown to the user" says something only about a user seen elsewhere before.
        let has_history = user_networks.is_some_and(|nets| !nets.is_empty());

        let ids = [&ev.aad_session_id, &ev.unique_token_id, &ev.session_id];
        for id in ids.into_iter().flatten() {
            // Looked up by reference first: nearly every record continues a known session.
            if !self.sessions.contains_key(id.as_str()) {
                self.sessions.insert(id.clone(), Vec::new());
            }
            let Some(uses) = self.sessions.get_mut(id.as_str()) else {
                continue;
            };
            match uses.iter_mut().find(|u| u.network == network) {
                Some(u) => {
                    u.last = ev.time;
                    u.ip = ip;
                    // The latest agent is kept; copied only when it changes.
                    if let Some((kind, a)) = agent
                        && !u
                            .agent
                            .as_ref()
                            .is_some_and(|(k, b)| *k == kind && a.eq_ignore_ascii_case(b))
                    {
                        u.agent = Some((kind, a.to_owned()));
                    }
                    u.os = os.or(u.os);
                    u.browser = browser.or(u.browser);
                }
                None => uses.push(Use {
                    network,
                    ip,
                    agent: agent.map(|(k, a)| (k, a.to_owned())),
                    os,
                    browser,
                    unfamiliar: has_history && unknown_to_user,
                    last: ev.time,
                }),
            }
            if ctx.learning {
                continue;
            }
            // The latest use elsewhere that `test` accepts (this place's own use, just updated,
            // is never one).
            let latest = |test: &dyn Fn(&Use) -> bool| {
                uses.iter()
                    .filter(|u| u.network != network && test(u))
                    .max_by_key(|u| u.last)
                    .cloned()
            };
            let other = latest(&|u| secs_between(u.last, ev.time) <= WINDOW_SECS);
            // A session cookie does not move to another operating system, nor — on a network the
            // user never used, however common among colleagues (a commercial VPN is) — to another
            // browser.
            let other_system = latest(&|u| {
                let other_os = matches!((os, u.os), (Some(a), Some(b)) if a != b);
                let other_browser = unknown_to_user
                    && matches!((browser, u.browser), (Some(a), Some(b)) if a.0 == b.0 && a.1 != b.1);
                other_os || other_browser
            });
            // A session that came to life somewhere the user never was (the phishing proxy)
            // and hours later turns up at a second such place (the attacker's own server).
            let hop = if has_history && new_for_user {
                latest(&|u| {
                    u.unfamiliar
                        && secs_between(u.last, ev.time) <= HOP_SECS
                        && !same_phone(os, u.os)
                })
            } else {
                None
            };
            // A phone leaving Wi-Fi for its carrier lands in whichever of the carrier's address
            // blocks the tower hands out: a new network, the same phone.
            let fast = other.filter(|o| {
                other_client(agent, &o.agent) || (new_for_user && !same_phone(os, o.os))
            });
            let (other, why) = match (fast, other_system) {
                (Some(o), _) => {
                    let why = match (other_client(agent, &o.agent), new_for_user) {
                        (true, true) => {
                            ", by a different client, from a network this user had not used before"
                        }
                        (true, false) => ", by a different client",
                        _ => ", from a network this user had not used before",
                    };
                    (o, why.to_owned())
                }
                (None, Some(o)) => {
                    let why = match (os, o.os) {
                        (Some(a), Some(b)) if a != b => {
                            format!(", on {a} where it had been used on {b}")
                        }
                        _ => format!(
                            ", in {} where it had been used in {}, from a network this user had \
                             not used before",
                            browser.map_or("another browser", |b| b.1),
                            o.browser.map_or("another browser", |b| b.1)
                        ),
                    };
                    (o, why)
                }
                (None, None) => match hop {
                    Some(o) => (
                        o,
                        ", both networks this user had not used before".to_owned(),
                    ),
                    None => continue,
                },
            };
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
                     from {}{why}.",
                    other.ip,
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
            let (seen, last) = self
                .place_users
                .entry(network)
                .or_insert_with(|| (Vec::new(), ev.time));
            *last = ev.time.max(*last);
            if seen.len() < COMMON_PLACE_USERS && !seen.contains(&u) {
                seen.push(u.clone());
            }
            let last = self
                .known_networks
                .entry(u)
                .or_default()
                .entry(network)
                .or_insert(ev.time);
            *last = ev.time.max(*last);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::*;

    /// Runs the detector with everything before 2026-01-15 as the baseline.
    fn after_baseline(events: &[AuditEvent]) -> Vec<Signal> {
        run(
            &mut SessionReplay::default(),
            events,
            Some(at("2026-01-15T00:00:00Z")),
        )
    }

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
            used("r2", "2026-01-20T09:10:00Z", "192.0.2.50", "Outlook/16"),
            used("r3", "2026-01-20T09:12:00Z", "192.0.2.50", "Outlook/16"),
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
            used("b2", "2026-01-02T18:00:00Z", "192.0.2.50", "Outlook/16"),
            used("r1", "2026-01-20T09:00:00Z", "198.51.100.7", "Outlook/16"),
            used("r2", "2026-01-20T09:10:00Z", "192.0.2.50", "Outlook/16"),
        ];
        let out = after_baseline(&events);
        assert!(out.is_empty(), "{out:#?}");
    }

    #[test]
    fn a_network_unused_for_half_a_year_is_new_again() {
        let moving = |day: &str| {
            vec![
                used("b1", "2026-01-02T09:00:00Z", "198.51.100.7", "Outlook/16"),
                used("b2", "2026-01-02T18:00:00Z", "192.0.2.50", "Outlook/16"),
                used(
                    "r1",
                    &format!("{day}T09:00:00Z"),
                    "198.51.100.7",
                    "Outlook/16",
                ),
                used(
                    "r2",
                    &format!("{day}T09:10:00Z"),
                    "192.0.2.50",
                    "Outlook/16",
                ),
            ]
        };
        let mut detector = SessionReplay::default();
        assert!(run(&mut detector, &moving("2026-06-20"), None).is_empty());
        // 200 days on, both networks have been forgotten, and so has everything else of the
        // first run: the memory holds what is in use.
        let mut detector = SessionReplay::default();
        let out = run(&mut detector, &moving("2026-07-21"), None);
        assert_eq!(out.len(), 1, "{out:#?}");
        assert!(
            out[0].reason.contains("not used before"),
            "{}",
            out[0].reason
        );
        let nets = &detector.known_networks["ann@c.example"];
        assert_eq!(nets.len(), 2);
        assert!(nets.values().all(|t| *t >= at("2026-07-21T00:00:00Z")));
        assert!(detector.place_users.len() == 2);
    }

    #[test]
    fn a_microsoft_service_using_the_session_is_not_replay() {
        let events = vec![
            used("r1", "2026-01-20T09:00:00Z", "198.51.100.7", "Outlook/16"),
            used("r2", "2026-01-20T09:01:00Z", "40.97.27.103", "Substrate"),
            used("r3", "2026-01-20T09:02:00Z", "2603:1006:82:4714::1", "REST"),
        ];
        assert!(run(&mut SessionReplay::default(), &events, None).is_empty());
    }

    #[test]
    fn a_phone_hopping_between_carrier_addresses_is_one_place() {
        let events = vec![
            used("r1", "2026-01-20T09:00:00Z", "111.65.38.197", "Phone"),
            used("r2", "2026-01-20T09:05:00Z", "111.65.54.100", "Phone"),
            used("r3", "2026-01-20T09:08:00Z", "111.65.60.5", "Phone"),
        ];
        assert!(run(&mut SessionReplay::default(), &events, None).is_empty());
    }

    #[test]
    fn a_phone_moving_from_home_wifi_to_a_new_carrier_block_is_not_replay() {
        let phone = "Client=ActiveSync;UserAgent=Apple-iPhone15C2/2201.200";
        let events = vec![
            used("r1", "2026-01-20T12:20:00Z", "73.0.76.247", phone),
            used("r2", "2026-01-20T12:44:00Z", "2600:3ee:316d:92ed::1", phone),
        ];
        assert!(run(&mut SessionReplay::default(), &events, None).is_empty());
        // A computer doing the same is replay: its session does not roam onto a carrier.
        let laptop = "Client=REST;Mozilla/5.0 (Windows NT 10.0; Win64; x64)";
        let events = vec![
            used("r1", "2026-01-20T12:20:00Z", "73.0.76.247", laptop),
            used(
                "r2",
                "2026-01-20T12:44:00Z",
                "2600:3ee:316d:92ed::1",
                laptop,
            ),
        ];
        assert_eq!(run(&mut SessionReplay::default(), &events, None).len(), 1);
    }

    #[test]
    fn a_session_in_another_browser_on_a_new_network_hours_later_is_replay() {
        let chrome = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";
        let firefox =
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0";
        let events = vec![
            used("b1", "2026-01-02T09:00:00Z", "198.51.100.7", chrome),
            used("r1", "2026-01-20T05:24:00Z", "198.51.100.7", chrome),
            used(
                "r2",
                "2026-01-20T08:22:00Z",
                "2001:19f0:229b:f20d::1",
                firefox,
            ),
        ];
        let out = after_baseline(&events);
        assert_eq!(out.len(), 1, "{out:#?}");
        assert!(
            out[0]
                .reason
                .contains("in Firefox where it had been used in Chrome")
        );
        // Also from a commercial VPN that colleagues use, but this user never did.
        let mut events = vec![used("b1", "2026-01-02T09:00:00Z", "198.51.100.7", chrome)];
        for (n, who) in ["bob", "cat", "dan"].iter().enumerate() {
            let mut ev = used(
                &format!("v{n}"),
                "2026-01-03T09:00:00Z",
                "89.187.1.1",
                chrome,
            );
            ev.user_id = Some(format!("{who}@c.example"));
            ev.aad_session_id = Some(format!("sess-{who}"));
            events.push(ev);
        }
        events.push(used("r1", "2026-01-20T13:54:00Z", "198.51.100.7", chrome));
        events.push(used(
            "r2",
            "2026-01-20T14:33:00Z",
            "89.187.174.175",
            firefox,
        ));
        let out = after_baseline(&events);
        assert_eq!(out.len(), 1, "{out:#?}");
        // The same browser later from a new network is a person moving, not replay.
        let events = vec![
            used("b1", "2026-01-02T09:00:00Z", "198.51.100.7", chrome),
            used("r1", "2026-01-20T05:24:00Z", "198.51.100.7", chrome),
            used(
                "r2",
                "2026-01-20T08:22:00Z",
                "2001:19f0:229b:f20d::1",
                chrome,
            ),
        ];
        let out = after_baseline(&events);
        assert!(out.is_empty(), "{out:#?}");
    }

    #[test]
    fn a_sign_in_agent_and_an_exchange_client_string_are_not_compared() {
        let mut sign_in = used(
            "s1",
            "2026-01-20T09:00:00Z",
            "198.51.100.7",
            "iOS/18.1 dataaccessd/1.0",
        );
        sign_in.kind = EventKind::SignIn;
        let events = vec![
            used(
                "b1",
                "2026-01-02T09:00:00Z",
                "198.51.100.7",
                "Client=ActiveSync",
            ),
            used(
                "b2",
                "2026-01-02T10:00:00Z",
                "111.65.38.197",
                "Client=ActiveSync",
            ),
            sign_in,
            used(
                "r1",
                "2026-01-20T09:01:00Z",
                "111.65.38.197",
                "Client=ActiveSync",
            ),
        ];
        let out = after_baseline(&events);
        assert!(out.is_empty(), "{out:#?}");
    }

    #[test]
    fn a_session_moving_to_another_operating_system_is_replay_at_any_time() {
        let mut a = used(
            "s1",
            "2026-01-20T01:33:59Z",
            "198.51.100.7",
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64)",
        );
        a.kind = EventKind::SignIn;
        let mut b = used(
            "s2",
            "2026-01-20T02:29:03Z",
            "192.0.2.50",
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7)",
        );
        b.kind = EventKind::SignIn;
        let out = run(&mut SessionReplay::default(), &[a, b], None);
        assert_eq!(out.len(), 1, "{out:#?}");
        assert!(
            out[0]
                .reason
                .contains("on macOS where it had been used on Windows"),
            "{}",
            out[0].reason
        );
    }

    #[test]
    fn a_place_colleagues_use_is_not_new() {
        let colleague = |id: &str, user: &str| {
            let mut ev = used(id, "2026-01-02T09:00:00Z", "192.0.2.9", "Outlook/16");
            ev.user_id = Some(user.into());
            ev.aad_session_id = Some(format!("s-{user}"));
            ev
        };
        let events = vec![
            colleague("c1", "bob@c.example"),
            colleague("c2", "cat@c.example"),
            colleague("c3", "dan@c.example"),
            used("r1", "2026-01-20T09:00:00Z", "198.51.100.7", "Outlook/16"),
            used("r2", "2026-01-20T09:10:00Z", "192.0.2.50", "Outlook/16"),
        ];
        assert!(run(&mut SessionReplay::default(), &events, None).is_empty());
    }

    #[test]
    fn a_session_born_somewhere_new_and_used_hours_later_at_another_new_place_is_replay() {
        let chrome = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/131.0.0.0 Safari/537.36";
        let mut home = used("b1", "2026-01-02T09:00:00Z", "198.51.100.7", chrome);
        home.aad_session_id = Some("sess-0".into());
        let events = vec![
            home.clone(),
            // The sign-in through the phishing proxy, then the attacker's server.
            used("r1", "2026-01-21T01:11:00Z", "167.99.56.71", chrome),
            used(
                "r2",
                "2026-01-21T03:37:00Z",
                "2a01:4f8:273b:9dcf::1",
                chrome,
            ),
        ];
        let out = after_baseline(&events);
        assert_eq!(out.len(), 1, "{out:#?}");
        assert!(out[0].reason.contains("both networks"), "{}", out[0].reason);
        // Born at home, then a hotel hours later: travel.
        let events = vec![
            home,
            used("r1", "2026-01-21T07:00:00Z", "198.51.100.7", chrome),
            used(
                "r2",
                "2026-01-21T12:00:00Z",
                "2a01:4f8:273b:9dcf::1",
                chrome,
            ),
        ];
        let out = after_baseline(&events);
        assert!(out.is_empty(), "{out:#?}");
    }

    #[test]
    fn hours_apart_is_travel_not_replay() {
        let events = vec![
            used("r1", "2026-01-20T09:00:00Z", "198.51.100.7", "Outlook/16"),
            used("r2", "2026-01-20T13:00:00Z", "192.0.2.50", "Chrome/120"),
        ];
        assert!(run(&mut SessionReplay::default(), &events, None).is_empty());
    }
}
