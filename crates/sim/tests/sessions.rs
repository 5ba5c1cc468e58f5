//! Behaviour tests of Entra ID sessions in the benign data: a session (`sessionId` of a sign-in,
//! `AADSessionId` of an Exchange record) belongs to one device, never changes operating system,
//! and moves between networks only as that device can.
//!
//! The tenants are written to disk and read back as a user of `mailtrail simulate` reads them;
//! attack records (every id in `labels.jsonl`) are set aside.

// Test helpers outside #[test] functions unwrap too: a failure there is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::collections::{BTreeSet, HashMap, HashSet};
use std::net::IpAddr;
use std::path::Path;

use mailtrail_event::{microsoft_service, parse_client_ip, parse_time};
use mailtrail_sim::Scenario;
use serde_json::Value;

/// Two uses of a session closer than this are "at once": no laptop moves that fast.
const AT_ONCE_SECS: i64 = 5 * 60;

/// One tenant, read back from the files `simulate` writes.
struct Written {
    signins: Vec<Value>,
    ual: Vec<Value>,
    tenant: Value,
    /// Record ids of every attack, by scenario.
    attacks: HashMap<String, HashSet<String>>,
    /// Session ids of every attack, by scenario.
    attack_sessions: HashMap<String, Vec<String>>,
}

impl Written {
    fn is_attack(&self, id: &str) -> bool {
        self.attacks.values().any(|ids| ids.contains(id))
    }

    /// Successful sign-ins and Exchange records of benign activity that carry a session id, as
    /// `(session, record)`.
    fn benign_session_records(&self) -> Vec<(&str, Record<'_>)> {
        let mut out = Vec::new();
        for v in &self.signins {
            if self.is_attack(v["id"].as_str().unwrap()) || v["status"]["errorCode"] != 0 {
                continue;
            }
            if let Some(session) = v["sessionId"].as_str().filter(|s| !s.is_empty()) {
                out.push((session, Record::SignIn(v)));
            }
        }
        for v in &self.ual {
            if self.is_attack(v["Id"].as_str().unwrap()) {
                continue;
            }
            if let Some(session) = v["AppAccessContext"]["AADSessionId"].as_str() {
                out.push((session, Record::Exchange(v)));
            }
        }
        out
    }
}

#[derive(Clone, Copy)]
enum Record<'a> {
    SignIn(&'a Value),
    Exchange(&'a Value),
}

impl Record<'_> {
    fn user(&self) -> String {
        match self {
            Self::SignIn(v) => v["userPrincipalName"]
                .as_str()
                .unwrap()
                .to_ascii_lowercase(),
            Self::Exchange(v) => v["UserId"].as_str().unwrap().to_ascii_lowercase(),
        }
    }

    fn time(&self) -> i64 {
        let s = match self {
            Self::SignIn(v) => v["createdDateTime"].as_str().unwrap(),
            Self::Exchange(v) => v["CreationTime"].as_str().unwrap(),
        };
        parse_time(s).unwrap().as_second()
    }

    fn ip(&self) -> IpAddr {
        let s = match self {
            Self::SignIn(v) => v["ipAddress"].as_str().unwrap(),
            Self::Exchange(v) => v["ClientIP"].as_str().unwrap(),
        };
        parse_client_ip(s).unwrap_or_else(|| panic!("not an address: {s}"))
    }

    /// What the record says about the client: the sign-in's user agent, Exchange's
    /// `ClientInfoString`.
    fn agent(&self) -> &str {
        match self {
            Self::SignIn(v) => v["userAgent"].as_str().unwrap(),
            // Admin cmdlets carry no ClientInfoString.
            Self::Exchange(v) => v["ClientInfoString"].as_str().unwrap_or(""),
        }
    }

    /// Every operating system the record names: in its agent string, and in a sign-in's
    /// `deviceDetail.operatingSystem`.
    fn systems(&self) -> Vec<&'static str> {
        let mut out: Vec<&'static str> = os_named(self.agent()).into_iter().collect();
        if let Self::SignIn(v) = self {
            let os = match v["deviceDetail"]["operatingSystem"].as_str().unwrap() {
                "Windows10" | "Windows" => Some("Windows"),
                "MacOs" => Some("macOS"),
                "Ios" => Some("iOS"),
                "Android" => Some("Android"),
                "" => None,
                other => panic!("unexpected operatingSystem {other}"),
            };
            out.extend(os);
        }
        out
    }

    /// The device a sign-in names: its id, name, trust and management, when it names any.
    fn device(&self) -> Option<String> {
        let Self::SignIn(v) = self else { return None };
        let d = &v["deviceDetail"];
        let key = format!(
            "{}|{}|{}|{}",
            d["deviceId"].as_str().unwrap(),
            d["displayName"].as_str().unwrap(),
            d["trustType"].as_str().unwrap(),
            d["isManaged"]
        );
        (key != "|||false").then_some(key)
    }
}

/// The operating system a user agent or `ClientInfoString` names, when it names one.
fn os_named(agent: &str) -> Option<&'static str> {
    let a = agent.to_ascii_lowercase();
    // iPhone agents also say "like Mac OS X": look for them first.
    if a.contains("iphone") || a.contains("ipad") || a.contains("ios/") || a.contains("-ios") {
        Some("iOS")
    } else if a.contains("android") {
        Some("Android")
    } else if a.contains("windows nt") || a.contains("windowspowershell") {
        Some("Windows")
    } else if a.contains("macintosh") || a.contains("mac os x") {
        Some("macOS")
    } else {
        None
    }
}

fn read_lines(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn write(seed: u64, users: u32, days: u32, scenarios: &[Scenario]) -> Written {
    let dir = tempfile::tempdir().unwrap();
    support::generator(seed, users, days, scenarios)
        .write_to(dir.path())
        .unwrap();
    let mut ual = Vec::new();
    let mut days: Vec<_> = std::fs::read_dir(dir.path().join("ual"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    days.sort();
    for day in days {
        ual.extend(read_lines(&day));
    }
    let mut attacks: HashMap<String, HashSet<String>> = HashMap::new();
    let mut attack_sessions: HashMap<String, Vec<String>> = HashMap::new();
    for label in read_lines(&dir.path().join("labels.jsonl")) {
        let scenario = label["scenario"].as_str().unwrap().to_owned();
        let ids = label["record_ids"].as_array().unwrap();
        attacks
            .entry(scenario.clone())
            .or_default()
            .extend(ids.iter().map(|id| id.as_str().unwrap().to_owned()));
        attack_sessions.entry(scenario).or_default().extend(
            label["entities"]["sessions"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s.as_str().unwrap().to_owned()),
        );
    }
    Written {
        signins: read_lines(&dir.path().join("signins.ndjson")),
        ual,
        tenant: serde_json::from_slice(&std::fs::read(dir.path().join("tenant.json")).unwrap())
            .unwrap(),
        attacks,
        attack_sessions,
    }
}

/// The tenants every test here looks at, generated once: two benign organisations and one with
/// every attack.
fn tenants() -> &'static [Written] {
    static TENANTS: std::sync::OnceLock<Vec<Written>> = std::sync::OnceLock::new();
    TENANTS.get_or_init(|| {
        vec![
            write(7, 60, 30, &[]),
            write(8, 40, 30, &[]),
            write(9, 40, 21, &Scenario::ALL),
        ]
    })
}

#[test]
fn a_benign_session_stays_on_one_device_and_one_operating_system() {
    for w in tenants() {
        #[derive(Default)]
        struct Seen {
            systems: BTreeSet<&'static str>,
            devices: BTreeSet<String>,
            apps: BTreeSet<String>,
            users: BTreeSet<String>,
            evidence: Vec<String>,
        }
        let mut sessions: HashMap<&str, Seen> = HashMap::new();
        for (session, r) in w.benign_session_records() {
            let seen = sessions.entry(session).or_default();
            let systems = r.systems();
            seen.systems.extend(&systems);
            seen.devices.extend(r.device());
            seen.users.insert(r.user());
            if let Record::SignIn(v) = r {
                seen.apps.insert(v["appId"].as_str().unwrap().to_owned());
            }
            if seen.evidence.len() < 12 {
                seen.evidence.push(format!("{systems:?} {}", r.agent()));
            }
        }
        let mut named = 0;
        let mut shared_by_apps = 0;
        let mut systems_per_user: HashMap<&str, BTreeSet<&str>> = HashMap::new();
        let mut sessions_per_device: HashMap<&str, usize> = HashMap::new();
        for (session, seen) in &sessions {
            assert!(
                seen.systems.len() <= 1,
                "session {session} is used on {:?}: {:#?}",
                seen.systems,
                seen.evidence
            );
            assert!(
                seen.devices.len() <= 1,
                "session {session} is used by {} devices: {:#?}",
                seen.devices.len(),
                seen.devices
            );
            assert_eq!(seen.users.len(), 1, "session {session} of several people");
            if let Some(os) = seen.systems.first() {
                named += 1;
                let user = seen.users.first().unwrap();
                systems_per_user.entry(user).or_default().insert(os);
            }
            if seen.apps.len() >= 2 {
                shared_by_apps += 1;
            }
            if let Some(device) = seen.devices.first() {
                *sessions_per_device.entry(device).or_default() += 1;
            }
        }
        // The checks above had something to look at: many sessions, nearly all naming their
        // system; apps of one machine sharing its session; people with a computer and a phone;
        // devices that started a new session during the month.
        assert!(sessions.len() > 100, "{} sessions", sessions.len());
        assert!(
            named * 10 > sessions.len() * 9,
            "{named} of {} sessions name their system",
            sessions.len()
        );
        assert!(
            shared_by_apps * 2 > sessions.len() / 4,
            "{shared_by_apps} sessions used by several apps"
        );
        assert!(
            systems_per_user.values().filter(|s| s.len() >= 2).count() * 2 > systems_per_user.len(),
            "most people use a computer and a phone"
        );
        assert!(
            sessions_per_device.values().any(|&n| n >= 3),
            "no device signed in afresh during the month"
        );
    }
}

/// `(network, prefix length, ASN)` of every network in `tenant.json`.
fn networks(tenant: &Value) -> Vec<(IpAddr, u8, u64)> {
    let mut out = Vec::new();
    for n in tenant["networks"].as_array().unwrap() {
        let asn = n["asn"].as_u64().unwrap();
        for block in n["blocks"].as_array().unwrap() {
            let (net, len) = block.as_str().unwrap().split_once('/').unwrap();
            out.push((net.parse().unwrap(), len.parse().unwrap(), asn));
        }
    }
    out
}

fn asn_of(networks: &[(IpAddr, u8, u64)], ip: IpAddr) -> u64 {
    let inside = |net: IpAddr, len: u8| match (net, ip) {
        (IpAddr::V4(n), IpAddr::V4(a)) => {
            let shift = 32 - u32::from(len);
            u32::from(n).checked_shr(shift) == u32::from(a).checked_shr(shift)
        }
        (IpAddr::V6(n), IpAddr::V6(a)) => {
            let shift = 128 - u32::from(len);
            u128::from(n).checked_shr(shift) == u128::from(a).checked_shr(shift)
        }
        _ => false,
    };
    let asns: BTreeSet<u64> = networks
        .iter()
        .filter(|(net, len, _)| inside(*net, *len))
        .map(|n| n.2)
        .collect();
    assert_eq!(asns.len(), 1, "{ip} is in the networks of {asns:?}");
    *asns.first().unwrap()
}

#[test]
fn a_benign_session_is_never_on_two_networks_at_once_except_a_phone_on_home_wifi_and_cellular() {
    for w in tenants() {
        let networks = networks(&w.tenant);
        // Each person's home broadband and phone carrier.
        let homes: HashMap<String, (u64, Option<u64>)> = w.tenant["users"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| {
                (
                    u["upn"].as_str().unwrap().to_ascii_lowercase(),
                    (
                        u["home_asn"].as_u64().unwrap(),
                        u["phone_carrier_asn"].as_u64(),
                    ),
                )
            })
            .collect();
        let mut uses: HashMap<&str, Vec<(i64, IpAddr, Record<'_>)>> = HashMap::new();
        for (session, r) in w.benign_session_records() {
            let ip = r.ip();
            // Outlook Mobile's and Teams' services read under the user's session from Microsoft's
            // network: that says nothing about where the device is.
            if microsoft_service(ip).is_some() {
                continue;
            }
            uses.entry(session).or_default().push((r.time(), ip, r));
        }
        let mut asns: HashMap<IpAddr, u64> = HashMap::new();
        let mut asn = |ip: IpAddr| *asns.entry(ip).or_insert_with(|| asn_of(&networks, ip));
        // A session that jumps network within minutes does so between two consecutive uses, so
        // comparing each use with the next is enough (and linear, where all pairs are not).
        let (mut pairs, mut flaps) = (0, 0);
        for (session, list) in &mut uses {
            list.sort_by_key(|u| u.0);
            for w2 in list.windows(2) {
                let ((t, ip, r), (t2, ip2, r2)) = (&w2[0], &w2[1]);
                if t2 - t > AT_ONCE_SECS {
                    continue;
                }
                pairs += 1;
                if ip == ip2 {
                    continue;
                }
                let (home, carrier) = homes[&r.user()];
                let pair = BTreeSet::from([asn(*ip), asn(*ip2)]);
                let flap = carrier.is_some_and(|c| c != home && pair == BTreeSet::from([home, c]));
                assert!(
                    flap,
                    "session {session} of {} on {ip} and {ip2} within {} s (ASNs {pair:?}; home {home}, carrier {carrier:?}): {} / {}",
                    r.user(),
                    t2 - t,
                    r.agent(),
                    r2.agent()
                );
                flaps += 1;
            }
        }
        assert!(pairs > 1000, "only {pairs} consecutive uses close in time");
        assert!(
            flaps < pairs / 10,
            "{flaps} of {pairs} close uses change network"
        );
    }
}

#[test]
fn the_aitm_session_is_still_replayed_from_another_network_by_another_client() {
    let w = write(9, 40, 21, &[Scenario::Aitm]);
    let sessions = &w.attack_sessions["aitm"];
    let networks = networks(&w.tenant);
    let stolen: Vec<&Value> = w
        .signins
        .iter()
        .filter(|v| {
            v["sessionId"]
                .as_str()
                .is_some_and(|s| sessions.iter().any(|x| x == s))
        })
        .collect();
    let asns: BTreeSet<u64> = stolen
        .iter()
        .map(|v| asn_of(&networks, v["ipAddress"].as_str().unwrap().parse().unwrap()))
        .collect();
    let agents: BTreeSet<&str> = stolen
        .iter()
        .map(|v| v["userAgent"].as_str().unwrap())
        .collect();
    assert!(asns.len() >= 2 && agents.len() >= 2, "{asns:?} {agents:?}");
}
