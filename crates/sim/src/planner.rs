//! The behaviour model of ordinary people and the organisation's own applications.
//!
//! Each person has a laptop (Outlook desktop, Teams, a browser) and usually a phone. Each device
//! holds an Entra ID session (the `sessionId` / `AADSessionId` that survives for weeks) and, per
//! client app, an access token that lives 60–90 minutes. Whenever an activity needs a token that
//! has expired the device refreshes it — a non-interactive sign-in with a new
//! `uniqueTokenIdentifier` — and when the session itself has expired the person signs in
//! interactively. Every mail access then carries the token it used, so mail access and sign-ins
//! link exactly as they do in real logs.
//!
//! Days follow the person's local clock: office hours with some spread, lunch, evenings on the
//! phone, weekends mostly quiet, trips abroad (with a flight's gap), new phones, home routers that
//! get new addresses, a corporate VPN whose egress everyone on it shares.

use std::net::IpAddr;

use rand::Rng;

use crate::activity::{
    Activity, AdminOp, ComplianceOp, DirOp, FileBurst, MailSession, Planned, TeamsBurst, modified,
};
use crate::clock::{DAY, HOUR, MINUTE, weekday};
use crate::config::TenantConfig;
use crate::net::{Endpoint, NetKind, providers, random_endpoint};
use crate::records::{
    AdminCtx, DeviceInfo, DirTarget, Initiator, IpStyle, MailCtx, NO_LABEL, SignInSpec, SpSignIn,
    TokenCtx, format_ip,
};
use crate::rng::{self, SimRng, guid, normal, pick, poisson, stream, tag};
use crate::tenant::{
    AppPurpose, Browser, Computer, Desktop, INBOX, Os, Phone, Remote, Role, Tenant, User,
};

pub(crate) const EXCHANGE: &str = "00000002-0000-0ff1-ce00-000000000000";
pub(crate) const EXCHANGE_NAME: &str = "Office 365 Exchange Online";
pub(crate) const GRAPH: &str = "00000003-0000-0000-c000-000000000000";
pub(crate) const GRAPH_NAME: &str = "Microsoft Graph";
pub(crate) const SHAREPOINT: &str = "00000003-0000-0ff1-ce00-000000000000";
pub(crate) const SHAREPOINT_NAME: &str = "Office 365 SharePoint Online";
pub(crate) const EXO_POWERSHELL: &str = "fb78d390-0c51-40cd-8e17-fdbfab77341b";

/// A client application on a device, and how it appears in logs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Slot {
    OutlookWin,
    OutlookMac,
    Teams,
    Owa,
    Office,
    OutlookMobile,
    ActiveSync,
    ExoPowerShell,
}

/// How a client shows up: sign-in app and resource, and what Exchange writes for its accesses.
pub(crate) struct SlotInfo {
    pub(crate) app_id: &'static str,
    pub(crate) app_name: &'static str,
    pub(crate) resource_id: &'static str,
    pub(crate) resource_name: &'static str,
    pub(crate) client_app_used: &'static str,
    pub(crate) client_info: &'static str,
}

impl Slot {
    pub(crate) fn info(self) -> SlotInfo {
        let (app_id, app_name, resource_id, resource_name, client_app_used, client_info) =
            match self {
                Self::OutlookWin => (
                    "d3590ed6-52b3-4102-aeff-aad2292ab01c",
                    "Microsoft Office",
                    EXCHANGE,
                    EXCHANGE_NAME,
                    "Mobile Apps and Desktop clients",
                    "Client=MSExchangeRPC",
                ),
                Self::OutlookMac => (
                    "5d661950-3475-41cd-a2c3-d671a3162bc1",
                    "Microsoft Outlook",
                    EXCHANGE,
                    EXCHANGE_NAME,
                    "Mobile Apps and Desktop clients",
                    "Client=WebServices;Microsoft Office/16.0 (Macintosh; Mac OS X 14.6; Microsoft Outlook 16.89);",
                ),
                Self::Teams => (
                    "1fec8e78-bce4-4aaf-ab1b-5451cc387264",
                    "Microsoft Teams",
                    EXCHANGE,
                    EXCHANGE_NAME,
                    "Mobile Apps and Desktop clients",
                    "Client=REST;Client=RESTSystem;;",
                ),
                Self::Owa => (
                    "9199bf20-a13f-4107-85dc-02114787ef48",
                    "One Outlook Web",
                    EXCHANGE,
                    EXCHANGE_NAME,
                    "Browser",
                    "Client=OWA;Action=ViaProxy",
                ),
                Self::Office => (
                    "4765445b-32c6-49b0-83e6-1d93765276ca",
                    "OfficeHome",
                    SHAREPOINT,
                    SHAREPOINT_NAME,
                    "Browser",
                    "",
                ),
                Self::OutlookMobile => (
                    "27922004-5251-4030-b22d-91ecd9a37ea4",
                    "Outlook Mobile",
                    EXCHANGE,
                    EXCHANGE_NAME,
                    "Mobile Apps and Desktop clients",
                    "Client=OutlookService;Outlook-iOS/2.0;",
                ),
                Self::ActiveSync => (
                    "f8d98a96-0999-43f5-8af3-69971c7bb423",
                    "iOS Accounts",
                    EXCHANGE,
                    EXCHANGE_NAME,
                    "Exchange ActiveSync",
                    "Client=ActiveSync;UserAgent=Apple-iPhone15C2/2201.200;Action=/Microsoft-Server-ActiveSync/default.eas?Cmd=Sync",
                ),
                Self::ExoPowerShell => (
                    EXO_POWERSHELL,
                    "Microsoft Exchange REST API Based Powershell",
                    EXCHANGE,
                    EXCHANGE_NAME,
                    "Mobile Apps and Desktop clients",
                    "",
                ),
            };
        SlotInfo {
            app_id,
            app_name,
            resource_id,
            resource_name,
            client_app_used,
            client_info,
        }
    }
}

/// A token a device holds for one client app.
#[derive(Clone, Debug)]
struct Token {
    slot: Slot,
    id: String,
    issued: i64,
    expires: i64,
}

/// What a device is, which decides how its sign-ins look and how long its sessions last.
#[derive(Clone, Copy, Debug)]
enum Kind {
    /// The work computer, joined to (Windows) or registered with (Mac) Entra ID. Its Primary
    /// Refresh Token carries one session that Outlook, Teams and browser single sign-on share.
    Work(Computer),
    /// A phone, registered through its mail or authenticator app.
    Phone(Phone),
    /// A personal computer at home: a browser on a device Entra ID does not know.
    Home(Computer),
}

/// An Entra ID session: the `sessionId` every token issued from one interactive sign-in carries.
#[derive(Clone, Debug)]
struct Session {
    id: String,
    /// When the device next signs in interactively (a restart, a new password, an expired
    /// cookie): the session does not outlive it.
    expires: i64,
}

/// One device: its Entra ID session and the tokens its apps hold. A session never leaves the
/// device it started on.
#[derive(Clone, Debug)]
pub(crate) struct Device {
    id: String,
    name: String,
    kind: Kind,
    session: Option<Session>,
    tokens: Vec<Token>,
    /// The end of its last use and the network it used: a device does not change network within
    /// minutes (a phone flapping between home Wi-Fi and cellular aside).
    last: Option<(i64, Endpoint)>,
}

impl Device {
    fn new(rng: &mut SimRng, name: String, kind: Kind) -> Self {
        Self {
            id: guid(rng),
            name,
            kind,
            session: None,
            tokens: Vec::new(),
            last: None,
        }
    }

    /// How long a session started now lasts on this device.
    fn session_life(&self, rng: &mut SimRng) -> i64 {
        let days = match self.kind {
            // A Primary Refresh Token renews itself while the machine is used; a restart or a
            // sign-in with credentials now and then starts a new session.
            Kind::Work(_) => rng.random_range(2..14),
            // The mail app's refresh token lives for months; a reinstall or a password change
            // ends it.
            Kind::Phone(_) => rng.random_range(20..60),
            // "Stay signed in" in a personal browser, until the cookie is cleared or lapses.
            Kind::Home(_) => rng.random_range(7..30),
        };
        days * DAY
    }
}

/// A person's state carried from day to day.
#[derive(Clone, Debug)]
pub(crate) struct UserState {
    pub(crate) user: u32,
    work: Device,
    phone: Device,
    home_pc: Option<Device>,
    home: Endpoint,
    /// Mailboxes this person reads as a delegate.
    delegate_of: Vec<u32>,
    /// Roughly when any of this person's devices was last used: after a flight nothing happens
    /// before the plane lands.
    last_active: i64,
}

/// Where someone is on a given day.
#[derive(Clone, Debug)]
enum Place {
    Office(Endpoint),
    Home,
    Abroad(Endpoint),
}

/// Plans benign activity.
pub(crate) struct Planner<'a> {
    pub(crate) tenant: &'a Tenant,
    pub(crate) config: &'a TenantConfig,
    /// The day the backup app's secret is rotated, and the new key id.
    pub(crate) rotation: (u32, String),
    /// Multi-tenant SaaS apps people consent to on their own.
    pub(crate) saas: Vec<SaasApp>,
    /// (day, user, app, first consent in the tenant) of every benign consent, in day order.
    pub(crate) consents: Vec<(u32, u32, usize, bool)>,
}

/// A legitimate multi-tenant app people consent to.
#[derive(Clone, Debug)]
pub(crate) struct SaasApp {
    pub(crate) app_id: String,
    pub(crate) sp_id: String,
    pub(crate) name: String,
    pub(crate) scope: &'static str,
}

/// Scopes legitimate apps ask for; one in three wants to read mail (CRM and scheduling tools do).
const SAAS_SCOPES: &[&str] = &[
    "Calendars.ReadWrite User.Read offline_access openid profile",
    "Files.Read User.Read offline_access openid profile",
    "Mail.Read User.Read offline_access openid profile",
];

/// No device changes network within this long of its last use, a phone at home aside.
const SETTLE: i64 = 10 * MINUTE;
/// The shortest flight, from the last use before it to the first use after it.
const FLIGHT: i64 = 6 * HOUR;

fn browser_ua(c: Computer) -> &'static str {
    match (c.os, c.browser) {
        (Os::Mac, Browser::Safari) => {
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15"
        }
        (Os::Mac, Browser::Chrome) => {
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
        }
        (Os::Mac, Browser::Edge) => {
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0"
        }
        (Os::Mac, Browser::Firefox) => {
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:133.0) Gecko/20100101 Firefox/133.0"
        }
        // Safari does not run on Windows; the tenant never draws that pair.
        (Os::Windows, Browser::Edge | Browser::Safari) => {
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0"
        }
        (Os::Windows, Browser::Chrome) => {
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
        }
        (Os::Windows, Browser::Firefox) => {
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0"
        }
    }
}

/// The user agent a client app on a device sends when it signs in.
fn agent(slot: Slot, kind: Kind) -> &'static str {
    let os = match kind {
        Kind::Work(c) | Kind::Home(c) => c.os,
        Kind::Phone(_) => Os::Windows,
    };
    match (slot, kind) {
        (Slot::OutlookWin, _) => {
            "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.18129; Pro)"
        }
        (Slot::OutlookMac, _) => {
            "Microsoft Office/16.0 (Macintosh; Mac OS X 14.6; Microsoft Outlook 16.89)"
        }
        (Slot::OutlookMobile, Kind::Phone(Phone::OutlookAndroid)) => {
            "Mozilla/5.0 (Linux; Android 14; Pixel 8) Outlook-Android/2.0"
        }
        (Slot::OutlookMobile, _) => {
            "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) Outlook-iOS/2.0"
        }
        (Slot::ActiveSync, _) => "iOS/18.1 (22B83) dataaccessd/1.0",
        (Slot::Owa | Slot::Office, Kind::Work(c) | Kind::Home(c)) => browser_ua(c),
        (Slot::Owa | Slot::Office, Kind::Phone(_)) => {
            "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1"
        }
        (Slot::Teams, _) if os == Os::Mac => {
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Teams/24295.605.3225.8804"
        }
        (Slot::Teams, _) => {
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36 Edg/130.0.0.0 Teams/24295.605.3225.8804"
        }
        (Slot::ExoPowerShell, _) if os == Os::Mac => {
            "Mozilla/5.0 (Macintosh; Darwin 23.6.0 Darwin Kernel Version 23.6.0; en-US) PowerShell/7.4.6"
        }
        (Slot::ExoPowerShell, _) => {
            "Mozilla/5.0 (Windows NT; Windows NT 10.0; en-US) WindowsPowerShell/5.1.22621.4391"
        }
    }
}

/// The user agent a client app on the person's work computer (or, for a phone app, their phone)
/// sends when it signs in.
pub(crate) fn slot_ua(slot: Slot, user: &User) -> &'static str {
    let kind = match slot {
        Slot::OutlookMobile | Slot::ActiveSync => {
            Kind::Phone(user.phone.unwrap_or(Phone::OutlookIos))
        }
        _ => Kind::Work(user.computer),
    };
    agent(slot, kind)
}

fn device_info(dev: &Device, slot: Slot) -> DeviceInfo {
    let os_name = |os| match os {
        Os::Windows => "Windows10",
        Os::Mac => "MacOs",
    };
    let browser = |c: Computer| match slot {
        Slot::Owa | Slot::Office => match c.browser {
            Browser::Edge => "Edge 131.0.0",
            Browser::Chrome => "Chrome 131.0.0",
            Browser::Safari => "Safari 18.1",
            Browser::Firefox => "Firefox 133.0",
        },
        _ => "Rich Client 16.0.18129",
    };
    match dev.kind {
        Kind::Phone(p) => DeviceInfo {
            // Exchange ActiveSync clients sign in without the device's registration.
            device_id: if p.is_activesync() {
                String::new()
            } else {
                dev.id.clone()
            },
            name: dev.name.clone(),
            os: if p == Phone::OutlookAndroid {
                "Android"
            } else {
                "Ios"
            },
            browser: if slot == Slot::ActiveSync {
                "Rich Client 1.0"
            } else {
                "Mobile App"
            }
            .to_owned(),
            managed: false,
            trust: "Workplace",
        },
        Kind::Work(c) => DeviceInfo {
            device_id: dev.id.clone(),
            name: dev.name.clone(),
            os: os_name(c.os),
            browser: browser(c).to_owned(),
            managed: true,
            // Macs register (Platform SSO); only Windows joins.
            trust: match c.os {
                Os::Windows => "Azure AD joined",
                Os::Mac => "Workplace",
            },
        },
        // Entra ID knows the system and browser from the request, nothing else.
        Kind::Home(c) => DeviceInfo {
            device_id: String::new(),
            name: String::new(),
            os: os_name(c.os),
            browser: browser(c).to_owned(),
            managed: false,
            trust: "",
        },
    }
}

impl<'a> Planner<'a> {
    pub(crate) fn new(tenant: &'a Tenant, config: &'a TenantConfig) -> Self {
        let mut rng = stream(config.seed, &[tag::TENANT, 7]);
        let rotation = (rng.random_range(0..config.days.max(1)), guid(&mut rng));
        let saas: Vec<SaasApp> = (0..3)
            .map(|i| SaasApp {
                app_id: guid(&mut rng),
                sp_id: guid(&mut rng),
                name: (*pick(&mut rng, crate::tenant::APP_NAMES)).to_owned(),
                scope: SAAS_SCOPES[i],
            })
            .collect();
        // About one consent per 150 person-days; the first per app creates its service principal.
        let mut consents = Vec::new();
        let mut seen = [false; 3];
        for d in 0..config.days {
            for _ in 0..poisson(&mut rng, f64::from(config.users) / 150.0) {
                let user = rng.random_range(0..config.users);
                let app = rng.random_range(0..saas.len());
                consents.push((d, user, app, !seen[app]));
                seen[app] = true;
            }
        }
        Self {
            tenant,
            config,
            rotation,
            saas,
            consents,
        }
    }

    /// Fresh day-to-day state for every person.
    pub(crate) fn initial_states(&self) -> Vec<UserState> {
        let t = self.tenant;
        let mut delegate_of: Vec<Vec<u32>> = vec![Vec::new(); t.users.len()];
        for (m, mb) in t.mailboxes.iter().enumerate() {
            for &d in &mb.delegates {
                delegate_of[d as usize].push(m as u32);
            }
        }
        t.users
            .iter()
            .enumerate()
            .map(|(i, u)| {
                let mut rng = stream(self.config.seed, &[tag::TENANT, 8, i as u64]);
                let short = u.upn.split('@').next().unwrap_or("user").replace('.', "");
                let n: u32 = rng.random_range(10..99);
                let name = match u.computer.os {
                    Os::Windows => format!(
                        "{}-LT{n}",
                        short
                            .chars()
                            .take(8)
                            .collect::<String>()
                            .to_ascii_uppercase()
                    ),
                    Os::Mac => format!(
                        "{}'s MacBook Pro",
                        u.display.split(' ').next().unwrap_or("User")
                    ),
                };
                let work = Device::new(&mut rng, name, Kind::Work(u.computer));
                let phone = Device::new(
                    &mut rng,
                    String::new(),
                    Kind::Phone(u.phone.unwrap_or(Phone::OutlookIos)),
                );
                let home_pc = u
                    .home_computer
                    .map(|c| Device::new(&mut rng, String::new(), Kind::Home(c)));
                UserState {
                    user: i as u32,
                    work,
                    phone,
                    home_pc,
                    home: u.home.clone(),
                    delegate_of: std::mem::take(&mut delegate_of[i]),
                    last_active: i64::MIN / 2,
                }
            })
            .collect()
    }

    /// A token for `slot` on device `dev` of person `who` at `t`, signing in as needed: a
    /// non-interactive sign-in refreshes an expired token under the device's session, an
    /// interactive one starts a new session when the old one has lapsed or `new_session` asks.
    #[allow(clippy::too_many_arguments)]
    fn token(
        &self,
        rng: &mut SimRng,
        who: u32,
        dev: &mut Device,
        slot: Slot,
        t: i64,
        from: &Endpoint,
        new_session: bool,
        out: &mut Vec<Planned>,
    ) -> TokenCtx {
        let tenant = self.tenant;
        let user = &tenant.users[who as usize];
        let info = slot.info();
        let period_start = self.config.start_time();
        let session_ok = !new_session && dev.session.as_ref().is_some_and(|s| s.expires > t);
        if session_ok
            && let Some(tok) = dev
                .tokens
                .iter()
                .find(|k| k.slot == slot && k.issued <= t && k.expires > t + 2 * MINUTE)
        {
            return TokenCtx {
                unique_token_id: tok.id.clone(),
                aad_session: dev.session.as_ref().map(|s| s.id.clone()),
                issued_at: tok.issued,
                object_id: user.object_id.clone(),
                tenant_id: tenant.id.clone(),
                client_app_id: Some(info.app_id.to_owned()),
                client_app_name: Some(info.app_name.to_owned()),
            };
        }
        let interactive = !session_ok;
        if interactive {
            let expires = t + dev.session_life(rng);
            dev.session = Some(Session {
                id: guid(rng),
                expires,
            });
            dev.tokens.clear();
        }
        let issued = (t - rng.random_range(1..25)).max(period_start);
        let id = rng::token_id(rng);
        let expires = issued + rng.random_range(60..90) * MINUTE;
        dev.tokens.retain(|k| k.slot != slot);
        dev.tokens.push(Token {
            slot,
            id: id.clone(),
            issued,
            expires,
        });
        let session = dev.session.as_ref().map(|s| s.id.clone());
        let device = device_info(dev, slot);
        let ua = agent(slot, dev.kind).to_owned();
        if interactive && rng.random_bool(0.025) {
            // A mistyped password first.
            out.push(signin_planned(
                rng.random(),
                SignInSpec {
                    t: (issued - rng.random_range(20..90)).max(period_start),
                    user: Some(who),
                    sp: None,
                    unknown_upn: None,
                    app_id: info.app_id.to_owned(),
                    app_name: info.app_name.to_owned(),
                    resource_id: info.resource_id.to_owned(),
                    resource_name: info.resource_name.to_owned(),
                    endpoint: from.clone(),
                    user_agent: ua.clone(),
                    client_app_used: info.client_app_used,
                    interactive: true,
                    error: if rng.random_bool(0.04) { 50053 } else { 50126 },
                    token_id: rng::token_id(rng),
                    session_id: None,
                    incoming: "none",
                    mfa: false,
                    device: Some(device.clone()),
                    ual: true,
                    protocol: "none",
                },
            ));
        }
        let incoming = match dev.kind {
            _ if interactive => "none",
            Kind::Work(_) => "primaryRefreshToken",
            Kind::Phone(_) | Kind::Home(_) => "refreshToken",
        };
        out.push(signin_planned(
            rng.random(),
            SignInSpec {
                t: issued,
                user: Some(who),
                sp: None,
                unknown_upn: None,
                app_id: info.app_id.to_owned(),
                app_name: info.app_name.to_owned(),
                resource_id: info.resource_id.to_owned(),
                resource_name: info.resource_name.to_owned(),
                endpoint: from.clone(),
                user_agent: ua,
                client_app_used: info.client_app_used,
                interactive,
                error: 0,
                token_id: id.clone(),
                session_id: session.clone(),
                incoming,
                mfa: user.mfa && (interactive || rng.random_bool(0.7)),
                device: Some(device),
                ual: interactive || rng.random_bool(0.12),
                protocol: if interactive { "none" } else { "oAuth2" },
            },
        ));
        TokenCtx {
            unique_token_id: id,
            aad_session: session,
            issued_at: issued,
            object_id: user.object_id.clone(),
            tenant_id: tenant.id.clone(),
            client_app_id: Some(info.app_id.to_owned()),
            client_app_name: Some(info.app_name.to_owned()),
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn mail_ctx(
        &self,
        st: &UserState,
        mailbox: u32,
        slot: Slot,
        ip: IpAddr,
        session: String,
        token: TokenCtx,
        rng: &mut SimRng,
    ) -> MailCtx {
        let user = &self.tenant.users[st.user as usize];
        let info = slot.info();
        let style = match ip {
            IpAddr::V4(_) if rng.random_bool(0.03) => IpStyle::Mapped,
            _ => IpStyle::Bare,
        };
        MailCtx {
            user_id: user.upn.clone(),
            user_key: user.puid.clone(),
            user_type: 0,
            logon_type: if mailbox == st.user { 0 } else { 2 },
            logon_sid: user.sid.clone(),
            mailbox,
            client_ip: format_ip(ip, style),
            client_info: info.client_info.to_owned(),
            app_id: Some(EXCHANGE.to_owned()),
            client_app_id: info.app_id.to_owned(),
            session_id: session,
            token: Some(token),
            external: false,
        }
    }

    /// Plans one person's day `d` (index into the period).
    pub(crate) fn plan_user_day(&self, st: &mut UserState, d: u32, out: &mut Vec<Planned>) {
        let tenant = self.tenant;
        let user = &tenant.users[st.user as usize];
        let mut rng = stream(
            self.config.seed,
            &[tag::USER_DAY, u64::from(st.user), u64::from(d)],
        );
        let day = self.config.start_day + i64::from(d);
        let period_start = self.config.start_time();
        let first_new = out.len();

        // Life events: a new home address now and then, a new phone (a new device, so a new
        // session).
        if rng.random_bool(1.0 / 21.0) {
            st.home = random_endpoint(&mut rng, st.home.provider, 0.0);
        }
        if let Some(phone) = user.phone
            && user.new_phone_day == Some(d)
        {
            st.phone = Device::new(&mut rng, String::new(), Kind::Phone(phone));
        }

        let trip = user
            .trips
            .iter()
            .find(|tr| d >= tr.day && d < tr.day + tr.days);
        // The day after a trip is the flight home.
        let returning = user.trips.iter().any(|tr| d == tr.day + tr.days);
        let zone = trip.map_or_else(|| user.zone(tenant), |tr| tr.region.zone);
        let wd = weekday(day);
        let weekend = wd >= 5;
        let office = &tenant.offices[user.office];
        let place = if let Some(tr) = trip {
            let isps = providers(NetKind::Isp, Some(tr.region.country));
            let isp = *pick(&mut rng, &isps);
            let hotel = random_endpoint(&mut rng, isp, 0.2);
            Place::Abroad(hotel)
        } else if !weekend && !returning && rng.random_bool(1.0 - user.wfh) {
            Place::Office(pick(&mut rng, &office.egress).clone())
        } else {
            Place::Home
        };
        // Today's home connection: its IPv4 address, or an IPv6 one for some households.
        let mut broadband = st.home.clone();
        if let Some(p) = user.home_v6
            && rng.random_bool(0.6)
        {
            broadband.ip = IpAddr::V6(crate::net::v6_in(&mut rng, p));
        }
        let laptop_ep = match &place {
            Place::Office(e) => e.clone(),
            Place::Abroad(hotel) => match user.remote {
                Remote::CorporateVpn => pick(&mut rng, &tenant.vpn_egress).clone(),
                _ => hotel.clone(),
            },
            Place::Home => match (user.remote, &user.remote_endpoint) {
                (Remote::CorporateVpn, _) => pick(&mut rng, &tenant.vpn_egress).clone(),
                (Remote::CommercialVpn | Remote::CloudDesktop, Some(e)) => e.clone(),
                _ => broadband.clone(),
            },
        };

        let working = if weekend {
            rng.random_bool(user.weekend)
        } else {
            rng.random_bool(0.96)
        };
        let first_trip_day = trip.is_some_and(|tr| tr.day == d);
        let flying = first_trip_day || returning;
        let local = |secs: i64| zone.utc(day, secs);
        let intensity = user.intensity * normal(&mut rng, 0.0, 0.3).exp();

        // The working day, in local seconds.
        let mut w_start = user.start_min * MINUTE + (normal(&mut rng, 0.0, 20.0) as i64) * MINUTE;
        let mut w_end =
            w_start + user.day_len_min * MINUTE + (normal(&mut rng, 0.0, 40.0) as i64) * MINUTE;
        if weekend {
            w_start = 10 * HOUR + rng.random_range(0..6 * HOUR);
            w_end = w_start + rng.random_range(20 * MINUTE..2 * HOUR);
        }
        if flying {
            // Travelling: the day starts after the flight, in the evening at the destination.
            w_start = 17 * HOUR + rng.random_range(0..3 * HOUR);
            w_end = w_start + rng.random_range(HOUR..2 * HOUR);
        }
        let ws = local(w_start);
        let we = local(w_end).max(ws + 30 * MINUTE);
        let force_abroad = first_trip_day && rng.random_bool(0.5);
        // Nothing happens before the devices' last use, nor during a flight.
        let floor = st.last_active + if flying { FLIGHT } else { 0 };

        let at_work = working && ws >= period_start && ws >= floor;
        if at_work {
            self.plan_laptop(
                &mut rng,
                st,
                ws,
                we,
                &laptop_ep,
                intensity,
                weekend,
                force_abroad,
                out,
            );
            if !weekend {
                self.plan_role_work(&mut rng, st, ws, we, &laptop_ep, d, out);
            }
        }

        // The phone: a morning glance, checks through the day, evenings.
        if let Some(phone) = user.phone {
            let checks = if weekend {
                poisson(&mut rng, 3.0 * intensity.min(2.0))
            } else if working {
                poisson(&mut rng, 6.0 * intensity.min(3.0))
            } else {
                poisson(&mut rng, 2.0)
            };
            // On a flight day the phone comes on when the plane lands.
            let wake = if flying { w_start - HOUR } else { 7 * HOUR };
            let mut times: Vec<i64> = (0..checks)
                .map(|_| local(rng.random_range(wake..23 * HOUR)))
                .collect();
            times.sort_unstable();
            // The carrier's address for the day (roaming data leaves through the home carrier).
            let cell = random_endpoint(&mut rng, user.carrier, 0.5);
            for at in times {
                if at < period_start || at < floor {
                    continue;
                }
                let in_office = working && at > ws && at < we;
                let ep = match &place {
                    Place::Office(e) if in_office && user.phone_office_wifi => e.clone(),
                    Place::Office(_) if in_office => cell.clone(),
                    Place::Abroad(hotel) if rng.random_bool(0.4) => hotel.clone(),
                    Place::Abroad(_) => cell.clone(),
                    // At home, before and after an office day too: the home Wi-Fi or the carrier.
                    _ if rng.random_bool(0.55) => st.home.clone(),
                    _ => cell.clone(),
                };
                let ep = settle(&st.phone, at, ep, &st.home, &cell);
                let end = self.plan_phone_check(&mut rng, st, phone, at, &ep, out);
                st.phone.last = Some((end, ep));
            }
        }

        // A personal computer at home: Outlook on the web or OfficeHome, some evenings.
        if let Some(pc) = user.home_computer
            && !flying
            && !matches!(place, Place::Abroad(_))
            && rng.random_bool(if weekend { 0.3 } else { 0.25 })
        {
            let at = local(if weekend {
                rng.random_range(10 * HOUR..22 * HOUR)
            } else {
                rng.random_range(19 * HOUR..22 * HOUR + 30 * MINUTE)
            });
            // Home, not still at the office.
            let home_by = if matches!(place, Place::Office(_)) && at_work {
                we + 30 * MINUTE
            } else {
                floor
            };
            if at >= period_start && at >= home_by {
                self.plan_home_visit(&mut rng, st, pc, at, &broadband, intensity, out);
            }
        }

        out[first_new..].sort_by_key(|p| p.start);
        let last = out[first_new..].iter().map(|p| p.start).max();
        let worked = at_work.then_some(we);
        if let Some(t) = last.max(worked) {
            // Mail sessions run on a few minutes after they start.
            st.last_active = st.last_active.max(t + SETTLE);
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn plan_laptop(
        &self,
        rng: &mut SimRng,
        st: &mut UserState,
        ws: i64,
        we: i64,
        ep: &Endpoint,
        intensity: f64,
        weekend: bool,
        force: bool,
        out: &mut Vec<Planned>,
    ) {
        let tenant = self.tenant;
        let user = &tenant.users[st.user as usize];
        let ip = ep.ip;
        let outlook = user
            .desktop
            .filter(|_| !weekend || rng.random_bool(0.3))
            .map(|desk| match desk {
                Desktop::Mac => Slot::OutlookMac,
                Desktop::Windows => Slot::OutlookWin,
            });
        // The day starts with the computer's first sign-in: Outlook, or Teams, which starts with
        // the machine. If the computer's session would lapse during the day, a new one starts
        // here, so that every use of a session comes after the sign-in that began it.
        let lapses = st.work.session.as_ref().is_none_or(|s| s.expires <= we);
        let first = outlook.unwrap_or(Slot::Teams);
        self.token(
            rng,
            st.user,
            &mut st.work,
            first,
            ws,
            ep,
            force || lapses,
            out,
        );
        // Outlook desktop, in roughly hourly stretches so that tokens refresh as they do.
        if let Some(slot) = outlook {
            let session = guid(rng);
            let mut t = ws;
            let mut first = true;
            let n_folders = tenant.mailboxes[st.user as usize].folders.len();
            while t < we {
                let chunk_end = (t + rng.random_range(50..75) * MINUTE).min(we);
                let tok = self.token(rng, st.user, &mut st.work, slot, t, ep, false, out);
                let ctx = self.mail_ctx(st, st.user, slot, ip, session.clone(), tok.clone(), rng);
                let mut m = MailSession::new(ctx, chunk_end);
                let hours = (chunk_end - t) as f64 / 3600.0;
                m.syncs = if first {
                    (0..n_folders).collect()
                } else {
                    vec![INBOX]
                };
                m.login = first;
                m.binds = poisson(rng, 0.4 * hours);
                m.sends = poisson(rng, 0.8 * intensity * hours);
                m.creates = poisson(rng, 0.25 * hours);
                m.updates = poisson(rng, 0.35 * hours);
                m.deletes = poisson(rng, 0.5 * intensity * hours);
                m.soft_deletes = poisson(rng, 0.1 * hours);
                m.hard_deletes = u32::from(rng.random_bool(0.01));
                out.push(planned(rng.random(), t, Activity::Mail(Box::new(m))));
                // Shared mailboxes this person is a delegate of are synchronised alongside.
                for &mb in &st.delegate_of.clone() {
                    let ctx = self.mail_ctx(st, mb, slot, ip, session.clone(), tok.clone(), rng);
                    let mut m = MailSession::new(ctx, chunk_end);
                    m.syncs = vec![INBOX];
                    m.binds = poisson(rng, 0.5 * hours);
                    if tenant.mailboxes[mb as usize].shared {
                        m.sends = poisson(rng, 0.2 * hours);
                    }
                    out.push(planned(
                        rng.random(),
                        t + rng.random_range(5..60),
                        Activity::Mail(Box::new(m)),
                    ));
                }
                first = false;
                t = chunk_end + rng.random_range(0..15) * MINUTE;
            }
        }
        // Outlook on the web, in the computer's browser (single sign-on through the session).
        let owa_sessions = if user.desktop.is_none() {
            1 + poisson(rng, 1.5)
        } else if rng.random_bool(user.owa_share) {
            1
        } else {
            0
        };
        for _ in 0..owa_sessions {
            let at = rng.random_range(ws..we);
            let end = at + rng.random_range(5..60) * MINUTE;
            let tok = self.token(rng, st.user, &mut st.work, Slot::Owa, at, ep, false, out);
            let ctx = self.mail_ctx(st, st.user, Slot::Owa, ip, guid(rng), tok, rng);
            let mut m = MailSession::new(ctx, end);
            let mins = (end - at) as f64 / 60.0;
            m.login = true;
            m.binds = poisson(rng, (0.6 * mins * intensity.min(3.0)).max(1.0));
            m.sends = poisson(rng, 0.05 * mins * intensity.min(3.0));
            m.deletes = poisson(rng, 0.04 * mins);
            out.push(planned(rng.random(), at, Activity::Mail(Box::new(m))));
        }
        // Teams, which also reads the mailbox through Substrate from Microsoft's network.
        let tok = self.token(rng, st.user, &mut st.work, Slot::Teams, ws, ep, false, out);
        let ua = slot_ua(Slot::Teams, user).to_owned();
        out.push(planned(
            rng.random(),
            ws + 40,
            Activity::Teams(Box::new(TeamsBurst {
                user: st.user,
                ip,
                user_agent: ua,
                messages: poisson(rng, 4.0 * intensity.min(3.0)),
                end: we,
                session_start: true,
            })),
        ));
        let ms = providers(NetKind::Microsoft, None);
        for _ in 0..poisson(rng, 2.0) {
            let at = rng.random_range(ws..we);
            let tok = if at > tok.issued_at + 60 * MINUTE {
                self.token(rng, st.user, &mut st.work, Slot::Teams, at, ep, false, out)
            } else {
                tok.clone()
            };
            let svc = random_endpoint(rng, ms[0], 0.5);
            let ctx = self.mail_ctx(st, st.user, Slot::Teams, svc.ip, guid(rng), tok, rng);
            let mut m = MailSession::new(ctx, at + 60);
            m.binds = 1 + poisson(rng, 1.0);
            m.bind_days = 1;
            out.push(planned(rng.random(), at, Activity::Mail(Box::new(m))));
        }
        // SharePoint and OneDrive.
        for _ in 0..poisson(rng, 2.0 * intensity.min(3.0)) {
            let at = rng.random_range(ws..we);
            self.token(rng, st.user, &mut st.work, Slot::Office, at, ep, false, out);
            let ua = slot_ua(Slot::Office, user).to_owned();
            out.push(planned(
                rng.random(),
                at,
                Activity::Files(Box::new(FileBurst {
                    user: st.user,
                    ip,
                    user_agent: ua,
                    files: 1 + poisson(rng, 3.0),
                    end: at + rng.random_range(2..40) * MINUTE,
                })),
            ));
        }
    }

    /// One look at the phone's mail at `at` from `ep`; returns when it ends.
    fn plan_phone_check(
        &self,
        rng: &mut SimRng,
        st: &mut UserState,
        phone: Phone,
        at: i64,
        ep: &Endpoint,
        out: &mut Vec<Planned>,
    ) -> i64 {
        let slot = if phone.is_activesync() {
            Slot::ActiveSync
        } else {
            Slot::OutlookMobile
        };
        let tok = self.token(rng, st.user, &mut st.phone, slot, at, ep, false, out);
        // Outlook Mobile reads through its cloud service, in Microsoft's network; ActiveSync
        // connects from the phone itself.
        let ip = if slot == Slot::OutlookMobile {
            let ms = providers(NetKind::Microsoft, None);
            random_endpoint(rng, ms[0], 0.6).ip
        } else {
            ep.ip
        };
        let mut ctx = self.mail_ctx(st, st.user, slot, ip, guid(rng), tok, rng);
        if slot == Slot::OutlookMobile && phone == Phone::OutlookAndroid {
            ctx.client_info = "Client=OutlookService;Outlook-Android/2.0;".to_owned();
        }
        let end = at + rng.random_range(1..6) * MINUTE;
        let mut m = MailSession::new(ctx, end);
        m.binds = 1 + poisson(rng, 2.5);
        m.bind_days = 1;
        m.sends = u32::from(rng.random_bool(0.15));
        m.deletes = u32::from(rng.random_bool(0.2));
        out.push(planned(rng.random(), at, Activity::Mail(Box::new(m))));
        end
    }

    /// An evening on the personal computer at home: Outlook on the web, or files in OfficeHome.
    #[allow(clippy::too_many_arguments)]
    fn plan_home_visit(
        &self,
        rng: &mut SimRng,
        st: &mut UserState,
        pc: Computer,
        at: i64,
        ep: &Endpoint,
        intensity: f64,
        out: &mut Vec<Planned>,
    ) {
        let Some(dev) = st.home_pc.as_mut() else {
            return;
        };
        let end = at + rng.random_range(5..30) * MINUTE;
        if rng.random_bool(0.7) {
            let tok = self.token(rng, st.user, dev, Slot::Owa, at, ep, false, out);
            let ctx = self.mail_ctx(st, st.user, Slot::Owa, ep.ip, guid(rng), tok, rng);
            let mut m = MailSession::new(ctx, end);
            let mins = (end - at) as f64 / 60.0;
            m.login = true;
            m.binds = poisson(rng, (0.4 * mins * intensity.min(3.0)).max(1.0));
            m.sends = poisson(rng, 0.03 * mins);
            out.push(planned(rng.random(), at, Activity::Mail(Box::new(m))));
        } else {
            self.token(rng, st.user, dev, Slot::Office, at, ep, false, out);
            out.push(planned(
                rng.random(),
                at,
                Activity::Files(Box::new(FileBurst {
                    user: st.user,
                    ip: ep.ip,
                    user_agent: agent(Slot::Office, Kind::Home(pc)).to_owned(),
                    files: 1 + poisson(rng, 2.0),
                    end,
                })),
            ));
        }
    }

    /// Admin and compliance work, and the odd inbox rule or app consent anyone makes.
    #[allow(clippy::too_many_arguments)]
    fn plan_role_work(
        &self,
        rng: &mut SimRng,
        st: &mut UserState,
        ws: i64,
        we: i64,
        ep: &Endpoint,
        d: u32,
        out: &mut Vec<Planned>,
    ) {
        let tenant = self.tenant;
        let user = &tenant.users[st.user as usize];
        let n_users = tenant.users.len() as u32;
        // Consenting to a SaaS app: an interactive sign-in to it, then the directory's records.
        // Consents are in day order: look at this day's only.
        let lo = self.consents.partition_point(|c| c.0 < d);
        let hi = self.consents.partition_point(|c| c.0 <= d);
        for &(_, _, app, first) in self.consents[lo..hi].iter().filter(|c| c.1 == st.user) {
            let saas = &self.saas[app];
            let at = rng.random_range(ws..we);
            let ua = slot_ua(Slot::Owa, user).to_owned();
            let (seed, token, session) = (rng.random(), rng::token_id(rng), guid(rng));
            out.push(signin_planned(
                seed,
                SignInSpec {
                    t: at,
                    user: Some(st.user),
                    sp: None,
                    unknown_upn: None,
                    app_id: saas.app_id.clone(),
                    app_name: saas.name.clone(),
                    resource_id: GRAPH.to_owned(),
                    resource_name: GRAPH_NAME.to_owned(),
                    endpoint: ep.clone(),
                    user_agent: ua,
                    client_app_used: "Browser",
                    interactive: true,
                    error: 0,
                    token_id: token,
                    session_id: Some(session),
                    incoming: "none",
                    mfa: user.mfa,
                    device: None,
                    ual: true,
                    protocol: "none",
                },
            ));
            let by = Initiator::User {
                user: st.user,
                ip: ep.ip,
            };
            if first {
                let op = crate::scenarios::add_service_principal(
                    &saas.app_id,
                    &saas.sp_id,
                    &saas.name,
                    &tenant.graph_sp,
                );
                out.push(planned(
                    rng.random(),
                    at + 8,
                    Activity::Directory(Box::new(op)),
                ));
            }
            let op = crate::scenarios::consent_op(
                by.clone(),
                &saas.sp_id,
                &saas.name,
                &saas.app_id,
                &user.object_id,
                &tenant.graph_sp,
                saas.scope,
                false,
            );
            out.push(planned(
                rng.random(),
                at + 9,
                Activity::Directory(Box::new(op)),
            ));
            let op = crate::scenarios::delegated_grant(
                by,
                &saas.sp_id,
                &saas.name,
                &tenant.graph_sp,
                saas.scope,
            );
            out.push(planned(
                rng.random(),
                at + 9,
                Activity::Directory(Box::new(op)),
            ));
        }
        // Inbox rules: people tidy their mail now and then.
        if rng.random_bool(0.012) {
            let at = rng.random_range(ws..we);
            let tok = self.token(rng, st.user, &mut st.work, Slot::Owa, at, ep, false, out);
            let ctx = self.admin_ctx(st, ep.ip, EXCHANGE, tok, rng);
            let (name, params) = benign_rule(rng, &tenant.domain);
            let mut p = vec![
                ("AlwaysDeleteOutlookRulesBlob", "False".to_owned()),
                ("Force", "False".to_owned()),
                ("Name", name.clone()),
            ];
            p.extend(params);
            out.push(planned(
                rng.random(),
                at,
                Activity::Admin(Box::new(AdminOp {
                    ctx,
                    cmdlet: "New-InboxRule",
                    object: format!("{}\\{name}", user.upn),
                    params: p,
                })),
            ));
        }
        match user.role {
            Role::Admin if rng.random_bool(0.35) => {
                let at = rng.random_range(ws..we);
                let tok = self.token(
                    rng,
                    st.user,
                    &mut st.work,
                    Slot::ExoPowerShell,
                    at,
                    ep,
                    false,
                    out,
                );
                let ctx = self.admin_ctx(st, ep.ip, EXO_POWERSHELL, tok, rng);
                for k in 0..1 + poisson(rng, 2.0) {
                    let target = &tenant.mailboxes[rng.random_range(0..tenant.mailboxes.len())].upn;
                    let (cmdlet, params): (&'static str, Vec<(&'static str, String)>) = match rng
                        .random_range(0..10)
                    {
                        0..=3 => (
                            "Set-Mailbox",
                            vec![
                                ("Identity", target.clone()),
                                (
                                    *pick(
                                        rng,
                                        &[
                                            "RetainDeletedItemsFor",
                                            "ProhibitSendQuota",
                                            "AuditEnabled",
                                            "LitigationHoldEnabled",
                                        ],
                                    ),
                                    pick(
                                        rng,
                                        &["30.00:00:00", "49.5 GB (53,150,220,288 bytes)", "True"],
                                    )
                                    .to_string(),
                                ),
                            ],
                        ),
                        4..=5 => (
                            "Set-CASMailbox",
                            vec![
                                ("Identity", target.clone()),
                                ("PopEnabled", "False".to_owned()),
                                ("ImapEnabled", "False".to_owned()),
                            ],
                        ),
                        6 => {
                            // A new assistant or team member gets FullAccess to a mailbox.
                            let grantee = &tenant.users[rng.random_range(0..n_users) as usize].upn;
                            (
                                "Add-MailboxPermission",
                                vec![
                                    ("Identity", target.clone()),
                                    ("User", grantee.clone()),
                                    ("AccessRights", "FullAccess".to_owned()),
                                    ("InheritanceType", "All".to_owned()),
                                ],
                            )
                        }
                        7 => (
                            "Add-DistributionGroupMember",
                            vec![
                                (
                                    "Identity",
                                    format!("team-{}@{}", rng.random_range(1..20), tenant.domain),
                                ),
                                ("Member", target.clone()),
                            ],
                        ),
                        _ => (
                            "Set-MailboxAutoReplyConfiguration",
                            vec![
                                ("Identity", target.clone()),
                                ("AutoReplyState", "Scheduled".to_owned()),
                            ],
                        ),
                    };
                    let object = params[0].1.clone();
                    out.push(planned(
                        rng.random(),
                        at + i64::from(k) * rng.random_range(30..600),
                        Activity::Admin(Box::new(AdminOp {
                            ctx: ctx.clone(),
                            cmdlet,
                            object,
                            params,
                        })),
                    ));
                }
                // Directory work in the Entra admin center.
                if rng.random_bool(0.4) {
                    let at2 = rng.random_range(ws..we);
                    self.token(
                        rng,
                        st.user,
                        &mut st.work,
                        Slot::Office,
                        at2,
                        ep,
                        false,
                        out,
                    );
                    let target = &tenant.users[rng.random_range(0..n_users) as usize];
                    let (activity, props) = *pick(
                        rng,
                        &[
                            ("Update user", &[("Department", "\"Sales\"")][..]),
                            ("Reset user password", &[][..]),
                            ("Update user", &[("JobTitle", "\"Senior Analyst\"")][..]),
                            (
                                "Add member to group",
                                &[("Group.DisplayName", "\"All Staff\"")][..],
                            ),
                        ],
                    );
                    out.push(planned(
                        rng.random(),
                        at2,
                        Activity::Directory(Box::new(DirOp {
                            activity,
                            category: if activity.contains("group") {
                                "GroupManagement"
                            } else {
                                "UserManagement"
                            },
                            operation_type: if activity.starts_with("Add") {
                                "Assign"
                            } else {
                                "Update"
                            },
                            by: Initiator::User {
                                user: st.user,
                                ip: ep.ip,
                            },
                            targets: vec![DirTarget {
                                id: target.object_id.clone(),
                                name: None,
                                kind: "User",
                                upn: Some(target.upn.clone()),
                                modified: props
                                    .iter()
                                    .map(|(k, v)| modified(k, Some("[]"), &format!("[{v}]")))
                                    .collect(),
                            }],
                            details: vec![("User-Agent", slot_ua(Slot::Office, user).to_owned())],
                        })),
                    ));
                }
                // Rotating the backup application's secret, once.
                if d == self.rotation.0 && st.user == tenant.admins[0] {
                    let app = &tenant.apps[0];
                    let at3 = rng.random_range(ws..we);
                    let key = &self.rotation.1;
                    out.push(planned(
                        rng.random(),
                        at3,
                        Activity::Directory(Box::new(credential_added(
                            st.user,
                            ep.ip,
                            &app.app_id,
                            &app.name,
                            key,
                            "Rotation",
                        ))),
                    ));
                }
            }
            Role::Compliance if rng.random_bool(0.25) => {
                let at = rng.random_range(ws..we);
                self.token(rng, st.user, &mut st.work, Slot::Office, at, ep, false, out);
                let custodian = &tenant.users[rng.random_range(0..n_users) as usize].upn;
                let name = format!("Hold review {}", rng.random_range(100..999));
                out.push(planned(
                    rng.random(),
                    at,
                    Activity::Compliance(Box::new(ComplianceOp {
                        user: st.user,
                        ip: ep.ip,
                        name,
                        query: format!(
                            "(c:c)(subject:\"{}\")",
                            pick(rng, &["contract", "invoice", "settlement", "audit"])
                        ),
                        locations: custodian.clone(),
                        export: rng.random_bool(0.5),
                    })),
                ));
            }
            _ => {}
        }
    }

    fn admin_ctx(
        &self,
        st: &UserState,
        ip: IpAddr,
        app: &str,
        tok: TokenCtx,
        rng: &mut SimRng,
    ) -> AdminCtx {
        let user = &self.tenant.users[st.user as usize];
        AdminCtx {
            user_id: user.upn.clone(),
            user_key: user.puid.clone(),
            user_type: 2,
            client_ip: format_ip(ip, IpStyle::WithPort(rng.random_range(1025..65000))),
            app_id: app.to_owned(),
            session_id: guid(rng),
            token: Some(tok),
            server: self.tenant.mailboxes[st.user as usize].server.clone(),
        }
    }

    /// The organisation's own applications for day `d`: backups, archiving.
    pub(crate) fn plan_tenant_day(&self, d: u32, out: &mut Vec<Planned>) {
        let tenant = self.tenant;
        let day = self.config.start_day + i64::from(d);
        let hq = tenant.hq_zone();
        let mut rng = stream(self.config.seed, &[tag::TENANT_DAY, u64::from(d)]);
        let period_start = self.config.start_time();
        for (ai, app) in tenant.apps.iter().enumerate() {
            let runs: Vec<(i64, i64)> = match app.purpose {
                // Nightly incremental backup of everything, spread over a few hours.
                AppPurpose::Backup => vec![(
                    hq.utc(day, app.run_hour * HOUR + rng.random_range(0..20) * MINUTE),
                    3 * HOUR,
                )],
                // Archiving every two hours through the working day, weekdays.
                AppPurpose::Archive if weekday(day) < 5 => (0..6)
                    .map(|k| {
                        (
                            hq.utc(
                                day,
                                (app.run_hour + 2 * k) * HOUR + rng.random_range(0..10) * MINUTE,
                            ),
                            40 * MINUTE,
                        )
                    })
                    .collect(),
                AppPurpose::Archive => Vec::new(),
            };
            let key = if ai == 0 && d > self.rotation.0 {
                self.rotation.1.clone()
            } else {
                app.key_id.clone()
            };
            for (start, span) in runs {
                if start < period_start {
                    continue;
                }
                let egress = pick(&mut rng, &app.egress).clone();
                let (resource, resource_name, api_app, client_info) = match app.purpose {
                    AppPurpose::Backup => (GRAPH, GRAPH_NAME, GRAPH, "Client=REST;;"),
                    AppPurpose::Archive => (
                        EXCHANGE,
                        EXCHANGE_NAME,
                        EXCHANGE,
                        "Client=WebServices;ExchangeServicesClient/15.0.913.15;",
                    ),
                };
                let n = app.scope.len().max(1) as i64;
                let step = (span / n).max(1);
                let mut tok: Option<TokenCtx> = None;
                for (k, &mb) in app.scope.iter().enumerate() {
                    let at = start + k as i64 * step + rng.random_range(0..step.max(2));
                    if tok.as_ref().is_none_or(|t| at - t.issued_at > 55 * MINUTE) {
                        tok = Some(sp_token(
                            &mut rng,
                            tenant,
                            &app.app_id,
                            &app.name,
                            &app.sp_id,
                            &key,
                            resource,
                            resource_name,
                            &egress,
                            at,
                            out,
                        ));
                    }
                    let Some(token) = tok.clone() else { continue };
                    let mbx = &tenant.mailboxes[mb as usize];
                    let ctx = MailCtx {
                        user_id: mbx.upn.clone(),
                        user_key: mbx.puid.clone(),
                        user_type: 0,
                        logon_type: 0,
                        logon_sid: mbx.sid.clone(),
                        mailbox: mb,
                        client_ip: egress.ip.to_string(),
                        client_info: client_info.to_owned(),
                        app_id: Some(api_app.to_owned()),
                        client_app_id: app.app_id.clone(),
                        session_id: guid(&mut rng),
                        token: Some(token),
                        external: false,
                    };
                    let mut m = MailSession::new(ctx, at + 5 * MINUTE);
                    match app.purpose {
                        AppPurpose::Backup => {
                            m.read_all_days = 1;
                            m.read_yesterday_only = true;
                            m.read_rate = 8.0;
                        }
                        AppPurpose::Archive => {
                            m.binds = (tenant.mail_count(mb, day) / 6)
                                .max(u32::from(rng.random_bool(0.5)));
                            m.bind_days = 0;
                        }
                    }
                    out.push(planned(rng.random(), at, Activity::Mail(Box::new(m))));
                }
            }
        }
    }
}

/// A service principal token: the `servicePrincipal` sign-in that issues it, and its context.
#[allow(clippy::too_many_arguments)]
pub(crate) fn sp_token(
    rng: &mut SimRng,
    tenant: &Tenant,
    app_id: &str,
    app_name: &str,
    sp_id: &str,
    key_id: &str,
    resource: &str,
    resource_name: &str,
    from: &Endpoint,
    at: i64,
    out: &mut Vec<Planned>,
) -> TokenCtx {
    let id = rng::token_id(rng);
    let issued = at - rng.random_range(1..20);
    out.push(signin_planned(
        rng.random(),
        SignInSpec {
            t: issued,
            user: None,
            sp: Some(SpSignIn {
                sp_id: sp_id.to_owned(),
                key_id: key_id.to_owned(),
                credential: "clientSecret",
            }),
            unknown_upn: None,
            app_id: app_id.to_owned(),
            app_name: app_name.to_owned(),
            resource_id: resource.to_owned(),
            resource_name: resource_name.to_owned(),
            endpoint: from.clone(),
            user_agent: String::new(),
            client_app_used: "",
            interactive: false,
            error: 0,
            token_id: id.clone(),
            session_id: None,
            incoming: "none",
            mfa: false,
            device: None,
            ual: false,
            protocol: "none",
        },
    ));
    TokenCtx {
        unique_token_id: id,
        aad_session: None,
        issued_at: issued,
        object_id: sp_id.to_owned(),
        tenant_id: tenant.id.clone(),
        client_app_id: Some(app_id.to_owned()),
        client_app_name: Some(app_name.to_owned()),
    }
}

/// "Update application – Certificates and secrets management" for a new client secret.
pub(crate) fn credential_added(
    by: u32,
    ip: IpAddr,
    app_id: &str,
    app_name: &str,
    key_id: &str,
    display: &str,
) -> DirOp {
    let new = format!(
        "[\"[KeyIdentifier={key_id},KeyType=Password,KeyUsage=Verify,DisplayName={display}]\"]"
    );
    DirOp {
        // Microsoft writes this activity name with an en dash and a trailing space.
        activity: "Update application \u{2013} Certificates and secrets management ",
        category: "ApplicationManagement",
        operation_type: "Update",
        by: Initiator::User { user: by, ip },
        targets: vec![DirTarget {
            id: app_id.to_owned(),
            name: Some(app_name.to_owned()),
            kind: "Application",
            upn: None,
            modified: vec![modified("KeyDescription", Some("[]"), &new), modified("Included Updated Properties", None, "\"KeyDescription\"")],
        }],
        details: vec![("User-Agent", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0".to_owned()), ("AppId", app_id.to_owned())],
    }
}

fn benign_rule(rng: &mut SimRng, domain: &str) -> (String, Vec<(&'static str, String)>) {
    match rng.random_range(0..5) {
        0 => (
            "Newsletters".to_owned(),
            vec![
                (
                    "From",
                    format!(
                        "news@{}",
                        pick(
                            rng,
                            &[
                                "vendor-news.example",
                                "industry-digest.example",
                                "events.example"
                            ]
                        )
                    ),
                ),
                ("MoveToFolder", "Newsletters".to_owned()),
                ("StopProcessingRules", "False".to_owned()),
            ],
        ),
        1 => (
            "Receipts".to_owned(),
            vec![
                ("SubjectContainsWords", "receipt".to_owned()),
                ("MoveToFolder", "Receipts".to_owned()),
            ],
        ),
        2 => (
            "Project mail".to_owned(),
            vec![
                ("SubjectOrBodyContainsWords", "Project".to_owned()),
                ("MoveToFolder", "Projects".to_owned()),
                ("MarkAsRead", "False".to_owned()),
            ],
        ),
        3 => (
            "Team".to_owned(),
            vec![
                ("FromAddressContainsWords", domain.to_owned()),
                ("MoveToFolder", "Team".to_owned()),
            ],
        ),
        _ => (
            "Mark alerts read".to_owned(),
            vec![
                ("From", format!("alerts@{domain}")),
                ("MarkAsRead", "True".to_owned()),
                ("MoveToFolder", "Reports".to_owned()),
            ],
        ),
    }
}

/// Where a device connects from at `at`: where it would (`ep`), unless it was used within minutes
/// on another network. Nobody carries a laptop, or walks out of an office, that fast; only a phone
/// at home flaps between the home Wi-Fi and the carrier.
fn settle(dev: &Device, at: i64, ep: Endpoint, home: &Endpoint, cell: &Endpoint) -> Endpoint {
    match &dev.last {
        Some((end, last)) if at < end + SETTLE && last.ip != ep.ip => {
            let flap = (last.ip == home.ip && ep.ip == cell.ip)
                || (last.ip == cell.ip && ep.ip == home.ip);
            if flap { ep } else { last.clone() }
        }
        _ => ep,
    }
}

/// Wraps an activity with a fresh expansion seed.
pub(crate) fn planned(seed: u64, start: i64, act: Activity) -> Planned {
    Planned {
        start,
        label: NO_LABEL,
        seed,
        act,
    }
}

/// A sign-in activity.
pub(crate) fn signin_planned(seed: u64, s: SignInSpec) -> Planned {
    let start = s.t;
    planned(seed, start, Activity::SignIn(Box::new(s)))
}
