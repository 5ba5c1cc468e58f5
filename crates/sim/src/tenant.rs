//! The synthetic organisation: its people, mailboxes, offices, networks and applications.
//!
//! Everything here is drawn once from the tenant seed and then stays fixed for the period; what
//! changes day to day (who works, from where, with which token) is the planner's business.

use rand::Rng;
use serde::Serialize;

use crate::clock::Zone;
use crate::config::TenantConfig;
use crate::net::{
    self, Endpoint, NetKind, OFFICE_REGIONS, ProviderId, Region, TRAVEL_REGIONS, providers,
    providers_of, random_endpoint,
};
use crate::rng::{self, SimRng, guid, hex_upper, normal, pick, stream, tag};

const GIVEN: &[&str] = &[
    "Alex", "Maria", "James", "Priya", "Chen", "Fatima", "Lukas", "Sofia", "Daniel", "Aisha",
    "Oliver", "Mei", "Noah", "Elena", "Samuel", "Hannah", "Ravi", "Laura", "Tomas", "Grace",
    "Ethan", "Zara", "Jonas", "Chloe", "Marcus", "Ingrid", "Kenji", "Amara", "Felix", "Nadia",
    "Lucas", "Yuki", "Omar", "Clara", "Henry", "Leila", "Mateo", "Anna", "Victor", "Julia",
    "Arjun", "Emma", "Ben", "Sara", "Diego", "Freya", "Ivan", "Ruth", "Hugo", "Alice", "Kwame",
    "Lena", "Pavel", "Nora", "Isaac", "Maya", "Theo", "Ines", "Adrian", "Wei",
];
const FAMILY: &[&str] = &[
    "Smith",
    "Garcia",
    "Muller",
    "Tan",
    "Okafor",
    "Novak",
    "Schmidt",
    "Patel",
    "Johansson",
    "Rossi",
    "Nguyen",
    "Kowalski",
    "Brown",
    "Fischer",
    "Lim",
    "Silva",
    "Weber",
    "Khan",
    "Murphy",
    "Becker",
    "Wong",
    "Dubois",
    "Larsen",
    "Haddad",
    "Clarke",
    "Hoffmann",
    "Ong",
    "Moreau",
    "Jensen",
    "Adeyemi",
    "Wagner",
    "Chua",
    "Costa",
    "Evans",
    "Meyer",
    "Lee",
    "Fernandez",
    "Koch",
    "Ahmed",
    "Walker",
    "Richter",
    "Goh",
    "Lopez",
    "Taylor",
    "Schulz",
    "Teo",
    "Martin",
    "Wood",
];
const ORG_WORDS: &[&str] = &[
    "Northwind",
    "Fabrikam",
    "Contoso",
    "Tailspin",
    "Adatum",
    "Litware",
    "Proseware",
    "Woodgrove",
    "Lamna",
    "Relecloud",
    "Fourth Coffee",
    "Alpine Ski",
    "Margie's",
    "Wingtip",
    "Trey",
];
const ORG_SUFFIX: &[&str] = &[
    "Traders",
    "Holdings",
    "Partners",
    "Industries",
    "Logistics",
    "Group",
];

const SHARED_NAMES: &[&str] = &[
    "info",
    "accounts-payable",
    "support",
    "hr",
    "sales",
    "invoices",
    "reception",
    "legal",
    "recruiting",
    "it-helpdesk",
    "press",
    "facilities",
    "procurement",
    "customer-success",
];
const CUSTOM_FOLDERS: &[&str] = &[
    "\\Inbox\\Projects",
    "\\Inbox\\Clients",
    "\\Newsletters",
    "\\Receipts",
    "\\Inbox\\Team",
    "\\Travel",
    "\\Archive\\2025",
    "\\Inbox\\Vendors",
    "\\Reports",
    "\\Inbox\\Board",
];

/// The standard folders every mailbox has, in this order in [`Mailbox::folders`].
pub(crate) const INBOX: usize = 0;
pub(crate) const SENT: usize = 1;
pub(crate) const DRAFTS: usize = 2;
pub(crate) const DELETED: usize = 3;
pub(crate) const ARCHIVE: usize = 4;
pub(crate) const CALENDAR: usize = 5;
const STANDARD_FOLDERS: &[&str] = &[
    "\\Inbox",
    "\\Sent Items",
    "\\Drafts",
    "\\Deleted Items",
    "\\Archive",
    "\\Calendar",
];

/// An Outlook desktop flavour.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Desktop {
    Windows,
    Mac,
}

/// The operating system of a computer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Os {
    Windows,
    Mac,
}

impl Desktop {
    /// The system Outlook desktop runs on.
    pub(crate) fn os(self) -> Os {
        match self {
            Self::Windows => Os::Windows,
            Self::Mac => Os::Mac,
        }
    }
}

/// A computer and the browser people use on it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub(crate) struct Computer {
    pub(crate) os: Os,
    pub(crate) browser: Browser,
}

impl Computer {
    /// A browser that runs on `os`, in proportion to how common it is there.
    fn draw(rng: &mut SimRng, os: Os) -> Self {
        let browser = match os {
            Os::Windows => *pick(
                rng,
                &[
                    Browser::Edge,
                    Browser::Edge,
                    Browser::Chrome,
                    Browser::Chrome,
                    Browser::Firefox,
                ],
            ),
            Os::Mac => *pick(
                rng,
                &[
                    Browser::Safari,
                    Browser::Safari,
                    Browser::Chrome,
                    Browser::Edge,
                    Browser::Firefox,
                ],
            ),
        };
        Self { os, browser }
    }
}

/// How someone reads mail on their phone.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Phone {
    OutlookIos,
    OutlookAndroid,
    /// The native iOS Mail app over Exchange ActiveSync.
    IosMail,
    /// A native Android mail app over Exchange ActiveSync.
    AndroidMail,
}

impl Phone {
    pub(crate) fn is_activesync(self) -> bool {
        matches!(self, Self::IosMail | Self::AndroidMail)
    }
}

/// Which browser someone uses for Outlook on the web and SharePoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Browser {
    Edge,
    Chrome,
    Safari,
    Firefox,
}

/// How someone connects when not in the office.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Remote {
    /// Straight from home broadband.
    Home,
    /// Through the company VPN, whose egress all VPN users share.
    CorporateVpn,
    /// Through a commercial VPN service (a hosting/VPN ASN).
    CommercialVpn,
    /// From a cloud desktop (Windows 365) in Microsoft's network.
    CloudDesktop,
}

/// What else someone does besides reading mail.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Role {
    Staff,
    Executive,
    /// Runs Exchange and Entra administration.
    Admin,
    /// Runs eDiscovery searches for legal holds.
    Compliance,
}

/// A trip: from `day` (index into the period) for `days` days.
#[derive(Clone, Copy, Debug, Serialize)]
pub(crate) struct Trip {
    pub(crate) day: u32,
    pub(crate) days: u32,
    #[serde(skip)]
    pub(crate) region: &'static Region,
    #[serde(rename = "country")]
    pub(crate) country: &'static str,
}

/// One person.
#[derive(Clone, Debug)]
pub(crate) struct User {
    pub(crate) upn: String,
    pub(crate) display: String,
    pub(crate) object_id: String,
    pub(crate) puid: String,
    pub(crate) sid: String,
    pub(crate) office: usize,
    pub(crate) role: Role,
    /// Local minute of the day work usually starts.
    pub(crate) start_min: i64,
    /// Usual length of the working day, minutes.
    pub(crate) day_len_min: i64,
    /// How busy: 1.0 is typical, heavy users 3–6.
    pub(crate) intensity: f64,
    pub(crate) wfh: f64,
    pub(crate) weekend: f64,
    pub(crate) remote: Remote,
    pub(crate) home: Endpoint,
    pub(crate) home_v6: Option<u64>,
    pub(crate) carrier: ProviderId,
    /// Outlook desktop on the work computer, if installed.
    pub(crate) desktop: Option<Desktop>,
    /// The work computer (a laptop joined to, or registered with, Entra ID): Outlook desktop,
    /// Teams and the browser all run on it.
    pub(crate) computer: Computer,
    /// A personal computer at home, used now and then in the evening for Outlook on the web.
    pub(crate) home_computer: Option<Computer>,
    pub(crate) owa_share: f64,
    pub(crate) phone: Option<Phone>,
    /// Whether the phone joins the office Wi-Fi (otherwise it stays on the carrier there).
    pub(crate) phone_office_wifi: bool,
    pub(crate) new_phone_day: Option<u32>,
    pub(crate) mfa: bool,
    pub(crate) trips: Vec<Trip>,
    pub(crate) remote_endpoint: Option<Endpoint>,
}

impl User {
    pub(crate) fn zone(&self, tenant: &Tenant) -> Zone {
        tenant.offices[self.office].region.zone
    }
}

/// A mailbox (a person's or a shared one).
#[derive(Clone, Debug)]
pub(crate) struct Mailbox {
    pub(crate) upn: String,
    pub(crate) guid: String,
    pub(crate) sid: String,
    pub(crate) puid: String,
    pub(crate) shared: bool,
    pub(crate) server: String,
    pub(crate) folders: Vec<(String, String)>,
    /// Messages received on a typical working day.
    pub(crate) daily_mail: f64,
    /// People with FullAccess from the start (shared mailboxes, executives' assistants).
    pub(crate) delegates: Vec<u32>,
}

/// An office and its internet egress.
#[derive(Clone, Debug)]
pub(crate) struct Office {
    pub(crate) region: &'static Region,
    pub(crate) egress: Vec<Endpoint>,
}

/// A third-party application the organisation has used since before the period.
#[derive(Clone, Debug)]
pub(crate) struct App {
    pub(crate) app_id: String,
    pub(crate) sp_id: String,
    pub(crate) name: String,
    pub(crate) purpose: AppPurpose,
    pub(crate) egress: Vec<Endpoint>,
    pub(crate) key_id: String,
    /// Mailboxes it reads (indexes into [`Tenant::mailboxes`]).
    pub(crate) scope: Vec<u32>,
    /// Local hour (HQ time) its job starts.
    pub(crate) run_hour: i64,
}

/// What a pre-existing app does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum AppPurpose {
    /// Nightly backup of every mailbox through Microsoft Graph, app-only.
    Backup,
    /// Archiving of regulated mailboxes through EWS, app-only, several times a day.
    Archive,
}

/// Names applications are given. Benign SaaS apps and attackers' apps draw from the same pool, so a
/// name says nothing about intent.
pub(crate) const APP_NAMES: &[&str] = &[
    "DocuFlow Sign",
    "MeetingNotes AI",
    "Inbox Zero Assistant",
    "CloudScan PDF",
    "Calendar Sync Pro",
    "TaskBridge",
    "Expense Capture",
    "Secure File Viewer",
    "MailMerge Studio",
    "CRM Connector",
    "Survey Builder",
    "Contract Review",
    "Travel Desk",
    "Smart Scheduler",
    "Invoice Reader",
    "Team Pulse",
    "Quick Translate",
    "Lead Tracker",
    "Read Receipts Plus",
    "Email Insights",
];
const BACKUP_NAMES: &[&str] = &[
    "Keepit Backup",
    "Datto SaaS Protection",
    "AvePoint Cloud Backup",
    "Veeam Backup for Microsoft 365",
    "Barracuda Cloud-to-Cloud Backup",
    "Acronis Cyber Protect",
];
const ARCHIVE_NAMES: &[&str] = &[
    "Mimecast Archive",
    "Smarsh Capture",
    "Global Relay Archive",
    "Proofpoint Archive",
    "MailStore Server",
    "Jatheon Archive",
];

/// The whole organisation.
#[derive(Debug)]
pub(crate) struct Tenant {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) domain: String,
    pub(crate) org_name: String,
    pub(crate) offices: Vec<Office>,
    pub(crate) users: Vec<User>,
    /// Users first (mailbox `i` belongs to user `i`), then shared mailboxes.
    pub(crate) mailboxes: Vec<Mailbox>,
    pub(crate) apps: Vec<App>,
    pub(crate) vpn_egress: Vec<Endpoint>,
    /// Object ids of Microsoft's service principals in this tenant (Graph, Exchange).
    pub(crate) graph_sp: String,
    pub(crate) exchange_sp: String,
    pub(crate) hq: usize,
    pub(crate) admins: Vec<u32>,
    pub(crate) compliance: Vec<u32>,
    pub(crate) executives: Vec<u32>,
    pub(crate) seed: u64,
}

fn server_name(rng: &mut SimRng, country: &str) -> String {
    let (prefixes, region): (&[&str], &str) = match country {
        "GB" => (&["LO2P", "CWLP", "LO4P"], "GBR"),
        "DE" | "FR" | "ES" => (&["AM0PR", "DB9PR", "VI1PR", "PA4PR", "FR6P"], "EUR"),
        "SG" | "JP" | "AU" => (&["SG2PR", "SI2PR", "TYZPR"], "APC"),
        _ => (
            &["BN6PR", "CH2PR", "DM6PR", "SA1PR", "PH0PR", "MN2PR"],
            "NAM",
        ),
    };
    let p = pick(rng, prefixes);
    let num = rng.random_range(1..20u32);
    let mb = rng.random_range(1000..9999u32);
    let _ = region;
    format!("{p}{num:02}MB{mb}")
}

fn folder_id(rng: &mut SimRng) -> String {
    // Exchange store ids are base64 of a binary entry id; 48 bytes give the usual 64 characters.
    let mut b = [0u8; 48];
    rng.fill(&mut b[..]);
    b[0] = 0x2e;
    b[1..5].fill(0);
    format!("Lg{}", &rng::base64_std(&b)[2..])
}

fn sid_prefix(rng: &mut SimRng) -> String {
    format!(
        "S-1-5-21-{}-{}-{}",
        rng.random_range(1_000_000_000u64..4_294_967_295),
        rng.random_range(1_000_000_000u64..4_294_967_295),
        rng.random_range(1_000_000_000u64..4_294_967_295)
    )
}

impl Tenant {
    /// Draws the organisation from the configuration.
    pub(crate) fn build(config: &TenantConfig) -> Tenant {
        let seed = config.seed;
        let mut rng = stream(seed, &[tag::TENANT]);
        let org = format!(
            "{} {}",
            pick(&mut rng, ORG_WORDS),
            pick(&mut rng, ORG_SUFFIX)
        );
        let slug: String = org
            .chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .collect::<String>()
            .to_ascii_lowercase();
        let domain = format!("{slug}.example");
        let org_name = format!("{slug}.onmicrosoft.com");
        let id = guid(&mut rng);
        let sid_base = sid_prefix(&mut rng);

        // Offices: headquarters plus one to three more, in different time zones.
        let n_offices = (1 + (config.users / 60).min(3) as usize).min(OFFICE_REGIONS.len());
        let mut regions: Vec<&'static Region> = OFFICE_REGIONS.iter().collect();
        let first = rng.random_range(0..regions.len());
        regions.rotate_left(first);
        let offices: Vec<Office> = regions[..n_offices]
            .iter()
            .map(|region| {
                let business = providers(NetKind::Business, Some(region.country));
                let p = *pick(&mut rng, &business);
                let n = rng.random_range(2..=3);
                Office {
                    region,
                    egress: (0..n).map(|_| random_endpoint(&mut rng, p, 0.0)).collect(),
                }
            })
            .collect();
        let hq = 0;
        // The corporate VPN concentrator sits at headquarters' provider; its few addresses are
        // shared by everyone on the VPN.
        let hq_business = offices[hq].egress[0].provider;
        let vpn_egress = (0..2)
            .map(|_| random_endpoint(&mut rng, hq_business, 0.0))
            .collect();

        let n = config.users as usize;
        let mut users = Vec::with_capacity(n);
        let mut taken = std::collections::HashSet::new();
        for i in 0..n {
            let mut urng = stream(seed, &[tag::TENANT, 1, i as u64]);
            let given = *pick(&mut urng, GIVEN);
            let family = *pick(&mut urng, FAMILY);
            let mut local = format!(
                "{}.{}",
                given.to_ascii_lowercase(),
                family.to_ascii_lowercase()
            );
            let mut k = 2;
            while !taken.insert(local.clone()) {
                local = format!(
                    "{}.{}{k}",
                    given.to_ascii_lowercase(),
                    family.to_ascii_lowercase()
                );
                k += 1;
            }
            // Offices are weighted towards headquarters.
            let office = if offices.len() == 1 || urng.random_bool(0.5) {
                hq
            } else {
                urng.random_range(0..offices.len())
            };
            let region = offices[office].region;
            let isps = providers(NetKind::Isp, Some(region.country));
            let isp = *pick(&mut urng, &isps);
            let carriers = providers(NetKind::Mobile, Some(region.country));
            let carrier = *pick(&mut urng, &carriers);
            let home = random_endpoint(&mut urng, isp, 0.0);
            let home_v6 = if urng.random_bool(0.45) {
                net::random_v6_prefix(&mut urng, isp)
            } else {
                None
            };
            let heavy = urng.random_bool(0.05);
            let intensity = if heavy {
                urng.random_range(3.0..6.0)
            } else {
                normal(&mut urng, 0.0, 0.45).exp()
            };
            let remote = match urng.random_range(0..100) {
                0..=69 => Remote::Home,
                70..=87 => Remote::CorporateVpn,
                88..=94 => Remote::CommercialVpn,
                _ => Remote::CloudDesktop,
            };
            let remote_endpoint = match remote {
                Remote::CommercialVpn => {
                    let vpns = providers_of(NetKind::Vpn);
                    {
                        let p = *pick(&mut urng, &vpns);
                        Some(random_endpoint(&mut urng, p, 0.0))
                    }
                }
                Remote::CloudDesktop => {
                    let ms = providers_of(NetKind::Microsoft);
                    Some(random_endpoint(&mut urng, ms[0], 0.0))
                }
                _ => None,
            };
            let desktop = match urng.random_range(0..100) {
                0..=79 => Some(Desktop::Windows),
                80..=91 => Some(Desktop::Mac),
                _ => None,
            };
            let phone = match urng.random_range(0..100) {
                0..=44 => Some(Phone::OutlookIos),
                45..=69 => Some(Phone::OutlookAndroid),
                70..=81 => Some(Phone::IosMail),
                82..=85 => Some(Phone::AndroidMail),
                _ => None,
            };
            // People without Outlook desktop still have a work computer; a Mac for some.
            let os = desktop.map_or_else(
                || {
                    if urng.random_bool(0.3) {
                        Os::Mac
                    } else {
                        Os::Windows
                    }
                },
                Desktop::os,
            );
            let computer = Computer::draw(&mut urng, os);
            let owa_share = if desktop.is_none() {
                1.0
            } else {
                urng.random_range(0.0..0.35)
            };
            let new_phone_day = (phone.is_some() && config.days > 3 && urng.random_bool(0.06))
                .then(|| urng.random_range(1..config.days));
            // Roughly one person in twenty travels in a given month.
            let mut trips = Vec::new();
            let trip_chance = (f64::from(config.days) / 30.0 * 0.05).min(0.9);
            if config.days >= 4 && urng.random_bool(trip_chance) {
                let dest = loop {
                    let r = pick(&mut urng, TRAVEL_REGIONS);
                    if r.country != region.country {
                        break r;
                    }
                };
                let len = urng.random_range(2..=5).min(config.days - 1);
                let day = urng.random_range(1..=(config.days - len));
                trips.push(Trip {
                    day,
                    days: len,
                    region: dest,
                    country: dest.country,
                });
            }
            let home_computer = urng.random_bool(0.1).then(|| {
                let os = if urng.random_bool(0.4) {
                    Os::Mac
                } else {
                    Os::Windows
                };
                Computer::draw(&mut urng, os)
            });
            let phone_office_wifi = urng.random_bool(0.6);
            let display = format!("{given} {family}");
            let upn = format!("{local}@{domain}");
            users.push(User {
                upn,
                display,
                object_id: guid(&mut urng),
                puid: format!("1003{}", hex_upper(&mut urng, 12)),
                sid: format!(
                    "{sid_base}-{}",
                    urng.random_range(10_000_000u64..99_999_999)
                ),
                office,
                role: Role::Staff,
                start_min: (normal(&mut urng, 8.5, 0.6).clamp(6.5, 11.0) * 60.0) as i64,
                day_len_min: (normal(&mut urng, 8.8, 0.7).clamp(6.5, 11.5) * 60.0) as i64,
                intensity,
                wfh: urng.random_range(0.1..0.7),
                weekend: if urng.random_bool(0.15) {
                    urng.random_range(0.2..0.6)
                } else {
                    0.04
                },
                remote,
                home,
                home_v6,
                carrier,
                desktop,
                computer,
                home_computer,
                owa_share,
                phone,
                phone_office_wifi,
                new_phone_day,
                mfa: urng.random_bool(0.93),
                trips,
                remote_endpoint,
            });
        }

        // Roles: a few administrators, one or two compliance officers, some executives.
        let n_admin = (n / 40).clamp(1, 25);
        let n_compliance = (n / 200).clamp(1, 5);
        let n_exec = (n / 30).clamp(1, 60);
        let mut order: Vec<u32> = (0..n as u32).collect();
        for i in (1..order.len()).rev() {
            let j = rng.random_range(0..=i);
            order.swap(i, j);
        }
        let admins: Vec<u32> = order[..n_admin].to_vec();
        let compliance: Vec<u32> = order[n_admin..n_admin + n_compliance].to_vec();
        let executives: Vec<u32> =
            order[n_admin + n_compliance..n_admin + n_compliance + n_exec].to_vec();
        for &a in &admins {
            users[a as usize].role = Role::Admin;
            users[a as usize].mfa = true;
        }
        for &c in &compliance {
            users[c as usize].role = Role::Compliance;
        }
        for &e in &executives {
            users[e as usize].role = Role::Executive;
        }

        let mut mailboxes: Vec<Mailbox> = users
            .iter()
            .enumerate()
            .map(|(i, u)| {
                let mut mrng = stream(seed, &[tag::TENANT, 2, i as u64]);
                let country = offices[u.office].region.country;
                Mailbox {
                    upn: u.upn.clone(),
                    guid: guid(&mut mrng),
                    sid: u.sid.clone(),
                    puid: u.puid.clone(),
                    shared: false,
                    server: server_name(&mut mrng, country),
                    folders: make_folders(&mut mrng),
                    daily_mail: 25.0 * u.intensity * mrng.random_range(0.6..1.6),
                    delegates: Vec::new(),
                }
            })
            .collect();

        // Executives' assistants have FullAccess from the start.
        for &e in &executives {
            if rng.random_bool(0.6) {
                let a = rng.random_range(0..n as u32);
                if a != e {
                    mailboxes[e as usize].delegates.push(a);
                }
            }
        }
        // Shared mailboxes, each read by a few delegates from day one.
        let n_shared = (n / 25).clamp(1, SHARED_NAMES.len() * 4);
        for s in 0..n_shared {
            let mut mrng = stream(seed, &[tag::TENANT, 3, s as u64]);
            let base = SHARED_NAMES[s % SHARED_NAMES.len()];
            let local = if s < SHARED_NAMES.len() {
                base.to_owned()
            } else {
                format!("{base}{}", s / SHARED_NAMES.len() + 1)
            };
            let k = mrng.random_range(2..=6usize).min(n);
            let mut delegates: Vec<u32> = Vec::with_capacity(k);
            while delegates.len() < k {
                let d = mrng.random_range(0..n as u32);
                if !delegates.contains(&d) {
                    delegates.push(d);
                }
            }
            let country = offices[hq].region.country;
            mailboxes.push(Mailbox {
                upn: format!("{local}@{domain}"),
                guid: guid(&mut mrng),
                sid: format!(
                    "{sid_base}-{}",
                    mrng.random_range(10_000_000u64..99_999_999)
                ),
                puid: format!("1003{}", hex_upper(&mut mrng, 12)),
                shared: true,
                server: server_name(&mut mrng, country),
                folders: make_folders(&mut mrng),
                daily_mail: mrng.random_range(15.0..80.0),
                delegates,
            });
        }

        // Two legitimate third-party apps with tenant-wide app-only access since before the period.
        let hosting = providers_of(NetKind::Hosting);
        let mut apps = Vec::new();
        for (purpose, names) in [
            (AppPurpose::Backup, BACKUP_NAMES),
            (AppPurpose::Archive, ARCHIVE_NAMES),
        ] {
            let mut arng = stream(seed, &[tag::TENANT, 4, apps.len() as u64]);
            let p = *pick(&mut arng, &hosting);
            let egress = (0..arng.random_range(2..=4))
                .map(|_| random_endpoint(&mut arng, p, 0.0))
                .collect();
            let scope: Vec<u32> = match purpose {
                AppPurpose::Backup => (0..mailboxes.len() as u32).collect(),
                AppPurpose::Archive => (0..mailboxes.len() as u32)
                    .filter(|m| mailboxes[*m as usize].shared || arng.random_bool(0.12))
                    .collect(),
            };
            apps.push(App {
                app_id: guid(&mut arng),
                sp_id: guid(&mut arng),
                name: (*pick(&mut arng, names)).to_owned(),
                purpose,
                egress,
                key_id: guid(&mut arng),
                scope,
                run_hour: match purpose {
                    AppPurpose::Backup => arng.random_range(0..4),
                    AppPurpose::Archive => 7,
                },
            });
        }

        Tenant {
            id,
            name: org,
            domain,
            org_name,
            offices,
            users,
            mailboxes,
            apps,
            vpn_egress,
            graph_sp: guid(&mut rng),
            exchange_sp: guid(&mut rng),
            hq,
            admins,
            compliance,
            executives,
            seed,
        }
    }

    /// The zone of headquarters.
    pub(crate) fn hq_zone(&self) -> Zone {
        self.offices[self.hq].region.zone
    }

    /// How many messages mailbox `m` received on day `day` (absolute day number).
    pub(crate) fn mail_count(&self, m: u32, day: i64) -> u32 {
        let mb = &self.mailboxes[m as usize];
        let wd = crate::clock::weekday(day);
        let base = if wd >= 5 {
            mb.daily_mail * 0.15
        } else {
            mb.daily_mail
        };
        let h = rng::hash(self.seed, &[tag::MESSAGE, u64::from(m), day as u64]);
        // ±40 % around the mailbox's usual volume.
        let f = 0.6 + (h % 1000) as f64 / 1250.0;
        (base * f).round() as u32
    }

    /// A message in mailbox `m`: its InternetMessageId, folder index and size, recomputable from
    /// (mailbox, day, n) without storing anything.
    pub(crate) fn message(&self, m: u32, day: i64, n: u32) -> Message {
        let h = rng::hash(
            self.seed,
            &[tag::MESSAGE, u64::from(m), day as u64, u64::from(n) + 1],
        );
        let mb = &self.mailboxes[m as usize];
        let folder = match h % 100 {
            0..=71 => INBOX,
            72..=79 => ARCHIVE,
            _ => 6 + (h >> 8) as usize % (mb.folders.len() - 6).max(1),
        }
        .min(mb.folders.len() - 1);
        let size = 4_000 + (rng::mix(h) % 400_000) as u32 / (1 + (h >> 20) as u32 % 8);
        Message {
            id: message_id(h, &mb.server, n),
            folder,
            size,
        }
    }

    /// A message the mailbox owner sent.
    pub(crate) fn sent_message(&self, m: u32, day: i64, n: u32) -> Message {
        let h = rng::hash(
            self.seed,
            &[
                tag::MESSAGE,
                u64::from(m),
                day as u64,
                1_000_000 + u64::from(n),
            ],
        );
        let mb = &self.mailboxes[m as usize];
        Message {
            id: internal_message_id(h, &mb.server),
            folder: SENT,
            size: 3_000 + (rng::mix(h) % 90_000) as u32,
        }
    }
}

/// A message in a mailbox.
#[derive(Clone, Debug)]
pub(crate) struct Message {
    pub(crate) id: String,
    pub(crate) folder: usize,
    pub(crate) size: u32,
}

fn make_folders(rng: &mut SimRng) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = STANDARD_FOLDERS
        .iter()
        .map(|p| (folder_id(rng), (*p).to_owned()))
        .collect();
    let extra = rng.random_range(1..=4);
    let mut used = Vec::new();
    while used.len() < extra {
        let f = *pick(rng, CUSTOM_FOLDERS);
        if !used.contains(&f) {
            used.push(f);
            v.push((folder_id(rng), f.to_owned()));
        }
    }
    v
}

const EXTERNAL_MSG_DOMAINS: &[&str] = &[
    "mail.gmail.com",
    "email.amazonses.com",
    "mx.google.com",
    "smtp.mailgun.org",
    "mail.yahoo.com",
    "sendgrid.net",
    "eu-west-1.amazonses.com",
    "mta.salesforce.com",
];

fn internal_message_id(h: u64, server: &str) -> String {
    let region = match server.as_bytes().first() {
        Some(b'A' | b'D' | b'V' | b'P' | b'F')
            if !server.starts_with("DM") && !server.starts_with("PH") =>
        {
            "eurprd0"
        }
        Some(b'L' | b'C') if !server.starts_with("CH") => "gbrprd0",
        Some(b'S' | b'T') if !server.starts_with("SA") => "apcprd0",
        _ => "namprd",
    };
    format!(
        "<{server}{:016X}{:06X}@{server}.{region}{}.prod.outlook.com>",
        rng::mix(h),
        rng::mix(h ^ 7) & 0xff_ffff,
        1 + h % 9
    )
}

/// InternetMessageIds look like the sending system wrote them: Exchange Online for colleagues'
/// mail, other mail services for the outside world.
fn message_id(h: u64, server: &str, n: u32) -> String {
    if h.is_multiple_of(3) {
        internal_message_id(h, server)
    } else {
        let d = EXTERNAL_MSG_DOMAINS[(h >> 12) as usize % EXTERNAL_MSG_DOMAINS.len()];
        format!(
            "<{:016x}{:04x}.{n}@{d}>",
            rng::mix(h ^ 3),
            rng::mix(h ^ 5) & 0xffff
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tenant(users: u32, seed: u64) -> Tenant {
        let c = TenantConfig::builder()
            .users(users)
            .seed(seed)
            .days(30)
            .build()
            .unwrap();
        Tenant::build(&c)
    }

    #[test]
    fn the_same_seed_builds_the_same_organisation() {
        let a = tenant(50, 3);
        let b = tenant(50, 3);
        assert_eq!(a.id, b.id);
        assert_eq!(a.users.len(), 50);
        assert!(
            a.users
                .iter()
                .zip(&b.users)
                .all(|(x, y)| x.upn == y.upn && x.home == y.home)
        );
        assert_ne!(a.id, tenant(50, 4).id);
    }

    #[test]
    fn upns_are_unique_and_shared_mailboxes_have_delegates() {
        let t = tenant(200, 1);
        let mut upns: Vec<&str> = t.mailboxes.iter().map(|m| m.upn.as_str()).collect();
        upns.sort_unstable();
        let before = upns.len();
        upns.dedup();
        assert_eq!(before, upns.len());
        let shared: Vec<_> = t.mailboxes.iter().filter(|m| m.shared).collect();
        assert!(!shared.is_empty());
        assert!(shared.iter().all(|m| m.delegates.len() >= 2));
        assert!(!t.admins.is_empty() && !t.compliance.is_empty());
        assert_eq!(t.apps.len(), 2);
    }

    #[test]
    fn messages_are_recomputable_and_look_like_internet_message_ids() {
        let t = tenant(20, 1);
        let a = t.message(3, 20_000, 5);
        let b = t.message(3, 20_000, 5);
        assert_eq!(a.id, b.id);
        assert!(a.id.starts_with('<') && a.id.ends_with('>') && a.id.contains('@'));
        assert_ne!(a.id, t.message(3, 20_000, 6).id);
        assert!(a.folder < t.mailboxes[3].folders.len());
    }
}
