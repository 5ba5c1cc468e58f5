//! Business email compromise and persistence: sequences of an enabling change and the mail access
//! it enables.
//!
//! Single suspicious changes (an inbox rule that hides replies, mailbox forwarding, a consent) are
//! Sigma rules in the built-in pack. What Sigma cannot say is *then*: a FullAccess grant **then**
//! the grantee reading that mailbox; a mail permission or new credential on an application **then**
//! that application reading mail; an eDiscovery search **then** its export by someone who never ran
//! one; a password spray **then** a successful sign-in from the spraying address. These are here.

use std::collections::VecDeque;
use std::net::IpAddr;

use mailtrail_event::{AuditEvent, EventKind, Timestamp, microsoft_service};

use super::{
    Analytic, Attribution, Ctx, Evidence, Places, Signal, client_app, network_of, place_of,
    secs_between, techniques, user_key,
};
use crate::apps::app_name;
use crate::finding::Severity;
use crate::{HashMap, HashSet};

const DAY: i64 = 86_400;

/// The operation name without the trailing period UAL copies of Entra audit events carry.
fn op(ev: &AuditEvent) -> &str {
    ev.operation.trim().trim_end_matches('.')
}

/// The local part of an address, or the whole value: grants name people by alias, UPN or name.
fn identity_forms(s: &str) -> Vec<String> {
    let s = s.trim().trim_matches('"').to_ascii_lowercase();
    let mut forms = vec![s.clone()];
    if let Some((local, _)) = s.split_once('@') {
        forms.push(local.to_owned());
    }
    forms
}

fn same_identity(a: &str, b: &str) -> bool {
    let (a, b) = (identity_forms(a), identity_forms(b));
    a.iter().any(|x| b.contains(x))
}

// ---------------------------------------------------------------------------------------------

pub(crate) const DELEGATION: &str = "delegation-then-access";

struct Grant {
    grantee: String,
    mailbox: String,
    rights: String,
    time: Timestamp,
    evidence: Evidence,
    tenant: Option<String>,
}

/// A FullAccess (or SendAs) grant followed by the grantee using it on that mailbox.
#[derive(Default)]
pub(crate) struct DelegationThenAccess {
    grants: Vec<Grant>,
}

impl DelegationThenAccess {
    const WINDOW_SECS: i64 = 14 * DAY;
}

impl Analytic for DelegationThenAccess {
    fn name(&self) -> &'static str {
        DELEGATION
    }

    fn observe(&mut self, ev: &AuditEvent, ctx: &mut Ctx<'_>) {
        let operation = op(ev);
        if operation.eq_ignore_ascii_case("Add-MailboxPermission")
            || operation.eq_ignore_ascii_case("Add-RecipientPermission")
        {
            let rights = ev
                .property("AccessRights")
                .unwrap_or(if operation.ends_with("RecipientPermission") {
                    "SendAs"
                } else {
                    ""
                })
                .to_owned();
            let grantee = ev.property("User").or(ev.property("Trustee"));
            let mailbox = ev.property("Identity").or(ev.object_id.as_deref());
            if let (Some(grantee), Some(mailbox)) = (grantee, mailbox)
                && (rights.contains("FullAccess") || rights.contains("SendAs"))
                && !ctx.learning
            {
                self.grants
                    .retain(|g| secs_between(g.time, ev.time) <= Self::WINDOW_SECS);
                self.grants.push(Grant {
                    grantee: grantee.to_owned(),
                    mailbox: mailbox.to_owned(),
                    rights,
                    time: ev.time,
                    evidence: Evidence::of(ev),
                    tenant: ev.tenant_id.clone(),
                });
            }
            return;
        }
        if self.grants.is_empty() {
            return;
        }
        let sending = matches!(operation, "SendAs" | "SendOnBehalf");
        if !(ev.reads_mail() || sending) {
            return;
        }
        let (Some(user), Some(mailbox)) = (user_key(ev), ev.mailbox().map(str::to_ascii_lowercase))
        else {
            return;
        };
        if same_identity(&user, &mailbox) {
            return;
        }
        let Some(g) = self.grants.iter().find(|g| {
            secs_between(g.time, ev.time) >= 0
                && secs_between(g.time, ev.time) <= Self::WINDOW_SECS
                && same_identity(&g.grantee, &user)
                && same_identity(&g.mailbox, &mailbox)
        }) else {
            return;
        };
        let hours = secs_between(g.time, ev.time) / 3600;
        ctx.emit(Signal {
            detector: DELEGATION,
            key: format!("{user}|{mailbox}"),
            title: "Mailbox used by a newly granted delegate".into(),
            severity: Severity::High,
            attack: techniques(&["T1098.002", "T1114.002"]),
            reason: format!(
                "{} was granted {} on {} by {}, and {hours} hours later {} {mailbox}.",
                g.grantee,
                g.rights,
                g.mailbox,
                g.evidence.user.as_deref().unwrap_or("(unknown)"),
                if sending { "sent as" } else { "read" },
            ),
            tenant: g.tenant.clone().or(ev.tenant_id.clone()),
            evidence: vec![g.evidence.clone(), Evidence::of(ev)],
            attribution: vec![Attribution::Delegate { user, mailbox }],
        });
    }
}

// ---------------------------------------------------------------------------------------------

pub(crate) const GRANT: &str = "grant-then-mail-read";

/// Directory changes that give an application mail access or a way to use it.
const GRANT_OPERATIONS: &[&str] = &[
    "Consent to application",
    "Add delegated permission grant",
    "Add app role assignment to service principal",
    "Add app role assignment grant to user",
    "Add service principal credentials",
    "Update application – Certificates and secrets management",
    "Update application - Certificates and secrets management",
    "Add application",
    "Update application",
    "Add service principal",
    "Add owner to application",
    "Add owner to service principal",
];

/// Permission names (and Microsoft Graph / Exchange permission ids) that reach mail.
const MAIL_SCOPES: &[&str] = &[
    "mail.read",
    "mail.readwrite",
    "mail.readbasic",
    "mail.send",
    "mailboxsettings.readwrite",
    "full_access_as_app",
    "ews.accessasuser.all",
    "eas.accessasuser.all",
    "imap.accessasuser.all",
    "pop.accessasuser.all",
    "exchange.manageasapp",
    // Microsoft Graph delegated: Mail.Read, Mail.ReadWrite, Mail.Send.
    "570282fd-fa5c-430d-a7fd-fc8dc98a9dca",
    "024d486e-b451-40bb-833d-3e66d98c5c73",
    "e383f46e-2787-4529-855e-0e479a3ffac0",
    // Microsoft Graph application: Mail.Read, Mail.ReadWrite, Mail.Send.
    "810c84a8-4a9e-49e6-bf7d-12d183f40d01",
    "e2a3a72e-5f79-4c64-b1b1-878b674786c9",
    "b633e1c5-b582-4048-a93e-9f11b44c7e96",
    // Office 365 Exchange Online application: full_access_as_app.
    "dc890d15-9560-4a4c-9b7f-a736ec74ec40",
];

struct AppChange {
    tenant: String,
    time: Timestamp,
    /// Every GUID the change names: application ids, object ids, service principal ids.
    ids: HashSet<String>,
    names: HashSet<String>,
    mail_scope: bool,
    credential: bool,
    evidence: Evidence,
}

/// A mail permission or a new credential on an application, then mail read by that application.
pub(crate) struct GrantThenMailRead {
    changes: VecDeque<AppChange>,
    /// `(tenant, client app)` pairs seen reading mail, and since when.
    readers: HashMap<(String, String), Timestamp>,
    /// Where each of them read from.
    reader_places: Places<(String, String)>,
    /// Apps already reported, so later reads are attributed rather than re-judged.
    reported: HashSet<(String, String)>,
}

impl Default for GrantThenMailRead {
    fn default() -> Self {
        Self {
            changes: VecDeque::new(),
            readers: HashMap::default(),
            reader_places: Places::new(Self::MAX_PLACES),
            reported: HashSet::default(),
        }
    }
}

impl GrantThenMailRead {
    const WINDOW_SECS: i64 = 30 * DAY;
    const MAX_PLACES: usize = 256;
    /// Without an id linking the change to the reader, only a first read this soon after counts.
    const TEMPORAL_SECS: i64 = DAY;

    fn is_change(ev: &AuditEvent) -> bool {
        let operation = op(ev);
        matches!(ev.kind, EventKind::DirectoryAudit | EventKind::UnifiedAudit)
            && GRANT_OPERATIONS
                .iter()
                .any(|g| g.eq_ignore_ascii_case(operation))
            && ev
                .result_status
                .as_deref()
                .is_none_or(|r| !r.to_ascii_lowercase().starts_with("fail"))
    }

    fn record_change(&mut self, ev: &AuditEvent) {
        let text = String::from_utf8_lossy(&ev.raw).to_ascii_lowercase();
        let tenant = ev
            .tenant_id
            .as_deref()
            .unwrap_or_default()
            .to_ascii_lowercase();
        let mut ids: HashSet<String> = guids(&text).collect();
        ids.remove(&tenant);
        let mut names = HashSet::default();
        if let Some(d) = &ev.directory {
            for t in &d.targets {
                if let Some(id) = &t.id {
                    ids.insert(id.to_ascii_lowercase());
                }
                if let Some(n) = &t.display_name {
                    names.insert(n.trim().to_ascii_lowercase());
                }
                for m in &t.modified_properties {
                    for v in [&m.new_value, &m.old_value].into_iter().flatten() {
                        ids.extend(guids(&v.to_ascii_lowercase()));
                    }
                }
            }
        }
        let operation = op(ev).to_ascii_lowercase();
        let credential = operation.contains("credential") || operation.contains("certificates");
        let mail_scope = MAIL_SCOPES.iter().any(|s| text.contains(s));
        if !(credential || mail_scope) {
            return;
        }
        self.changes.push_back(AppChange {
            tenant,
            time: ev.time,
            ids,
            names,
            mail_scope,
            credential,
            evidence: Evidence::of(ev),
        });
    }
}

/// Every GUID in a text, lower-cased.
fn guids(text: &str) -> impl Iterator<Item = String> + '_ {
    let b = text.as_bytes();
    let shape = [8usize, 4, 4, 4, 12];
    (0..b.len().saturating_sub(35)).filter_map(move |start| {
        if start > 0 && b[start - 1].is_ascii_hexdigit() {
            return None;
        }
        let mut i = start;
        for (n, len) in shape.iter().enumerate() {
            if !b.get(i..i + len)?.iter().all(u8::is_ascii_hexdigit) {
                return None;
            }
            i += len;
            if n < 4 {
                if b.get(i) != Some(&b'-') {
                    return None;
                }
                i += 1;
            }
        }
        if b.get(i).is_some_and(u8::is_ascii_hexdigit) {
            return None;
        }
        Some(text[start..i].to_owned())
    })
}

impl Analytic for GrantThenMailRead {
    fn name(&self) -> &'static str {
        GRANT
    }

    fn observe(&mut self, ev: &AuditEvent, ctx: &mut Ctx<'_>) {
        if Self::is_change(ev) {
            self.record_change(ev);
            return;
        }
        if !ev.reads_mail() {
            return;
        }
        let Some(app) = client_app(ev) else { return };
        // Grants name Microsoft's own applications as the resources they open (Microsoft Graph,
        // Exchange Online): those ids say nothing about which client was given access.
        if app_name(&app).is_some() {
            return;
        }
        let tenant = ev
            .tenant_id
            .as_deref()
            .unwrap_or_default()
            .to_ascii_lowercase();
        let reader = (tenant.clone(), app.clone());
        while self
            .changes
            .front()
            .is_some_and(|c| secs_between(c.time, ev.time) > Self::WINDOW_SECS)
        {
            self.changes.pop_front();
        }
        if self.reported.contains(&reader) {
            return;
        }
        let place = ev.client_ip.map(place_of);
        let since = self.readers.get(&reader).copied();
        let first_read = since.is_none();
        if first_read {
            self.readers.insert(reader.clone(), ev.time);
        }
        let new_place =
            first_read || place.is_some_and(|p| self.reader_places.since(&reader, p).is_none());
        if let Some(p) = place {
            self.reader_places.note(&reader, p, ev.time);
        }
        // A change to an application that was reading mail before it (a backup service's
        // yearly secret rotation) explains its reads only when they now come from elsewhere.
        let explains = |c: &&AppChange| since.is_none_or(|first| c.time <= first) || new_place;
        let object = ev.token_object_id.as_deref().map(str::to_ascii_lowercase);
        // An id link is proof; a first read by an unknown app right after changes is strong
        // circumstantial evidence when nothing else in the tenant explains it.
        // Graph directory audits carry no tenant id: a change without one is the tenant's own.
        let in_tenant = |c: &&AppChange| {
            (c.tenant.is_empty() || tenant.is_empty() || c.tenant == tenant)
                && secs_between(c.time, ev.time) >= 0
        };
        let by_id: Vec<&AppChange> = self
            .changes
            .iter()
            .filter(in_tenant)
            .filter(|c| c.ids.contains(&app) || object.as_ref().is_some_and(|o| c.ids.contains(o)))
            .filter(explains)
            .collect();
        let (linked, how) = if !by_id.is_empty() {
            (by_id, "names this application")
        } else if first_read {
            let recent: Vec<&AppChange> = self
                .changes
                .iter()
                .filter(in_tenant)
                .filter(|c| secs_between(c.time, ev.time) <= Self::TEMPORAL_SECS)
                .collect();
            (recent, "came just before its first mail read")
        } else {
            (Vec::new(), "")
        };
        if linked.is_empty() {
            return;
        }
        self.reported.insert(reader);
        let described: Vec<String> = linked
            .iter()
            .map(|c| {
                let what = match (c.mail_scope, c.credential) {
                    (true, true) => "mail permission, new credential",
                    (true, false) => "mail permission",
                    _ => "new credential",
                };
                let mut names: Vec<_> = c.names.iter().cloned().collect();
                names.sort();
                let target = if names.is_empty() {
                    String::new()
                } else {
                    format!(" on {}", names.join(", "))
                };
                format!(
                    "'{}' by {} ({what}{target})",
                    c.evidence.operation,
                    c.evidence.user.as_deref().unwrap_or("(unknown)")
                )
            })
            .collect();
        let minutes = linked
            .last()
            .map_or(0, |c| secs_between(c.time, ev.time) / 60);
        let mut evidence: Vec<Evidence> = linked.iter().map(|c| c.evidence.clone()).collect();
        evidence.push(Evidence::of(ev));
        ctx.emit(Signal {
            detector: GRANT,
            key: format!("{tenant}|{app}"),
            title: "Application given mail access, then read mail".into(),
            severity: Severity::High,
            attack: techniques(&["T1098.003", "T1528", "T1114.002"]),
            reason: format!(
                "{} gave an application access; {minutes} minutes after the last of them \
                 application {} read mailbox {} (the change{} {how}).",
                described.join(", then "),
                app_name(&app).unwrap_or(&app),
                ev.mailbox().unwrap_or("(unknown)"),
                if linked.len() == 1 { "" } else { "s" },
            ),
            tenant: ev.tenant_id.clone(),
            evidence,
            attribution: vec![Attribution::ClientApp { tenant, app }],
        });
    }
}

// ---------------------------------------------------------------------------------------------

pub(crate) const EDISCOVERY: &str = "ediscovery-export";

const SEARCH_OPERATIONS: &[&str] = &[
    "New-ComplianceSearch",
    "Start-ComplianceSearch",
    "Set-ComplianceSearch",
    "SearchCreated",
    "SearchStarted",
    "SearchUpdated",
    "SearchPreviewed",
    "New-ComplianceCase",
    "CaseAdded",
];
const EXPORT_OPERATIONS: &[&str] = &[
    "SearchExported",
    "SearchExportDownloaded",
    "ViewedSearchExported",
    "SearchResultsSentToZoom",
];

/// Content searches and their export by someone who did not run any in the baseline, or from a
/// place the account was never used from.
pub(crate) struct EDiscoveryExport {
    known: HashSet<String>,
    recent: HashMap<String, VecDeque<Evidence>>,
    /// Where each account was used from.
    places: Places<String>,
}

impl Default for EDiscoveryExport {
    fn default() -> Self {
        Self {
            known: HashSet::default(),
            recent: HashMap::default(),
            places: Places::new(Self::MAX_PLACES),
        }
    }
}

impl EDiscoveryExport {
    const MAX_PLACES: usize = 64;

    fn classify(ev: &AuditEvent) -> Option<bool> {
        let operation = op(ev);
        if operation.eq_ignore_ascii_case("New-ComplianceSearchAction") {
            let export = ev.property("Export").is_some()
                || ev.parameters.iter().any(|p| {
                    p.name.eq_ignore_ascii_case("ActionName") && p.value.contains("Export")
                });
            return Some(export);
        }
        if EXPORT_OPERATIONS
            .iter()
            .any(|o| o.eq_ignore_ascii_case(operation))
        {
            return Some(true);
        }
        SEARCH_OPERATIONS
            .iter()
            .any(|o| o.eq_ignore_ascii_case(operation))
            .then_some(false)
    }
}

impl Analytic for EDiscoveryExport {
    fn name(&self) -> &'static str {
        EDISCOVERY
    }

    fn observe(&mut self, ev: &AuditEvent, ctx: &mut Ctx<'_>) {
        let place = ev
            .client_ip
            .filter(|ip| microsoft_service(*ip).is_none())
            .map(place_of);
        let Some(export) = Self::classify(ev) else {
            // Where each account works from, so a search from somewhere else stands out.
            let user = ev
                .user_id
                .as_deref()
                .map(str::trim)
                .filter(|u| !u.is_empty());
            if let (Some(place), Some(user)) = (place, user)
                && ev
                    .sign_in
                    .as_ref()
                    .is_none_or(|s| s.error_code.unwrap_or(0) == 0)
            {
                self.places.note(user, place, ev.time);
            }
            return;
        };
        let Some(actor) = user_key(ev) else { return };
        if ctx.learning {
            self.known.insert(actor);
            return;
        }
        let known = self.known.contains(&actor);
        // Without an address, only the account's history can speak.
        // A place first used within the day is new: the intruder signs in before searching.
        let new_place = place.map_or(!known, |p| {
            self.places
                .since(actor.as_str(), p)
                .is_none_or(|since| secs_between(since, ev.time) <= DAY)
        });
        let recent = self.recent.entry(actor.clone()).or_default();
        while recent
            .front()
            .is_some_and(|e| secs_between(e.time, ev.time) > DAY)
        {
            recent.pop_front();
        }
        recent.push_back(Evidence::of(ev));
        // Compliance staff search now and then, a fortnight's baseline may not show it; from
        // where they always work it is context. Searching from a new place is what a stolen
        // administrator account does.
        let severity = match (export, known, new_place) {
            (true, false, true) => Severity::High,
            (false, false, true) => Severity::Medium,
            (true, true, true) => Severity::Medium,
            (_, false, false) | (true, true, false) => Severity::Low,
            (false, true, _) => return,
        };
        let day = ev.time.as_second().div_euclid(DAY);
        ctx.emit(Signal {
            detector: EDISCOVERY,
            key: format!("{actor}|{day}"),
            title: if export {
                "eDiscovery search results exported".into()
            } else {
                "eDiscovery search by an account that never ran one".into()
            },
            severity,
            attack: techniques(&["T1114.002", "T1119"]),
            reason: format!(
                "{actor} ran '{}'{}{}; content searches reach every mailbox in the tenant.",
                ev.operation,
                if known {
                    " (this account ran eDiscovery during the baseline)"
                } else {
                    ", and did not run eDiscovery during the baseline"
                },
                match (new_place, ev.client_ip) {
                    (true, Some(ip)) => format!(", from {ip}, a network this account had not used"),
                    _ => String::new(),
                }
            ),
            tenant: ev.tenant_id.clone(),
            evidence: recent.drain(..).collect(),
            attribution: Vec::new(),
        });
    }
}

// ---------------------------------------------------------------------------------------------

pub(crate) const SPRAY: &str = "password-spray-then-success";

/// Sign-in error codes that mean "wrong password or no such account", what a spray produces.
const SPRAY_ERRORS: &[i64] = &[50126, 50034, 50053, 50055, 50056, 50057, 50064, 50144];

/// Thresholds of the password-spray detector.
#[derive(Clone, Debug)]
pub struct SprayConfig {
    /// Distinct users failing from one network within the window that make a spray.
    pub min_users: usize,
    /// The window, in seconds.
    pub window_secs: i64,
    /// How long after a spray a success from the same network counts.
    pub follow_secs: i64,
}

impl Default for SprayConfig {
    fn default() -> Self {
        Self {
            min_users: 10,
            window_secs: 3600,
            follow_secs: 3 * DAY,
        }
    }
}

#[derive(Default)]
struct SpraySource {
    /// `(time, user, network, evidence)` of failures within the window.
    failures: VecDeque<(Timestamp, String, IpAddr, Evidence)>,
    users: HashMap<String, usize>,
    /// When a spray from here was last seen.
    sprayed: Option<Timestamp>,
    targets: HashSet<String>,
    /// Networks the spray came from.
    networks: HashSet<IpAddr>,
}

impl SpraySource {
    /// Adds a failure and forgets those older than the window; returns whether enough distinct
    /// users failed within it.
    fn fail(
        &mut self,
        ev: &AuditEvent,
        user: String,
        network: IpAddr,
        config: &SprayConfig,
    ) -> bool {
        while let Some((t, u, _, _)) = self.failures.front() {
            if secs_between(*t, ev.time) <= config.window_secs {
                break;
            }
            if let Some(c) = self.users.get_mut(u) {
                *c -= 1;
                if *c == 0 {
                    self.users.remove(u);
                }
            }
            self.failures.pop_front();
        }
        *self.users.entry(user.clone()).or_default() += 1;
        self.failures
            .push_back((ev.time, user, network, Evidence::of(ev)));
        self.users.len() >= config.min_users
    }

    /// Marks a spray seen now; returns its evidence: every failure the first time, then the new
    /// one.
    fn spray(&mut self, ev: &AuditEvent, window: i64) -> Vec<Evidence> {
        let first = self
            .sprayed
            .is_none_or(|t| secs_between(t, ev.time) > window);
        self.sprayed = Some(ev.time);
        self.targets.extend(self.users.keys().cloned());
        self.networks
            .extend(self.failures.iter().map(|(_, _, n, _)| *n));
        if first {
            self.failures.iter().map(|(_, _, _, e)| e.clone()).collect()
        } else {
            vec![Evidence::of(ev)]
        }
    }

    fn followed_by(&self, user: &str, network: IpAddr, now: Timestamp, follow: i64) -> bool {
        self.sprayed.is_some_and(|t| secs_between(t, now) <= follow)
            && self.targets.contains(user)
            && self.networks.contains(&network)
    }
}

/// Failed sign-ins across many users from one network — or, spread over several, each from a
/// place the account never signed in from — then a successful one from a network of the spray.
pub(crate) struct SprayThenSuccess {
    config: SprayConfig,
    sources: HashMap<IpAddr, SpraySource>,
    /// Per tenant: failures from places new to their accounts, whatever the network.
    distributed: HashMap<String, SpraySource>,
    /// Where each account signed in successfully.
    places: Places<String>,
}

impl Default for SprayThenSuccess {
    fn default() -> Self {
        Self::new(SprayConfig::default())
    }
}

impl SprayThenSuccess {
    const MAX_PLACES: usize = 64;

    pub(crate) fn new(config: SprayConfig) -> Self {
        Self {
            config,
            sources: HashMap::default(),
            distributed: HashMap::default(),
            places: Places::new(Self::MAX_PLACES),
        }
    }

    fn outcome(ev: &AuditEvent) -> Option<bool> {
        match ev.kind {
            EventKind::SignIn => {
                let code = ev.sign_in.as_ref().and_then(|s| s.error_code).unwrap_or(0);
                if code == 0 {
                    Some(true)
                } else {
                    SPRAY_ERRORS.contains(&code).then_some(false)
                }
            }
            EventKind::UnifiedAudit => match op(ev) {
                "UserLoggedIn" => Some(true),
                "UserLoginFailed" => Some(false),
                _ => None,
            },
            _ => None,
        }
    }
}

impl Analytic for SprayThenSuccess {
    fn name(&self) -> &'static str {
        SPRAY
    }

    fn observe(&mut self, ev: &AuditEvent, ctx: &mut Ctx<'_>) {
        let (Some(success), Some(ip), Some(user)) = (Self::outcome(ev), ev.client_ip, user_key(ev))
        else {
            return;
        };
        let network = network_of(ip);
        let tenant = ev
            .tenant_id
            .as_deref()
            .unwrap_or_default()
            .to_ascii_lowercase();
        // Microsoft's own services relay sign-ins (Exchange ActiveSync, legacy protocols):
        // their addresses are everybody's.
        if microsoft_service(ip).is_some() {
            return;
        }
        let key = format!("{tenant}|{network}");
        let follow = self.config.follow_secs;
        let place = place_of(ip);
        // `None` for an account never seen signing in: nothing to compare with.
        let new_place = self
            .places
            .knows(user.as_str())
            .then(|| self.places.since(user.as_str(), place).is_none());
        if success {
            self.places.note(user.as_str(), place, ev.time);
            let (src, how) = match self.sources.get(&network) {
                Some(src) if src.followed_by(&user, network, ev.time, follow) => {
                    (src, "a network that had just failed")
                }
                _ => match self.distributed.get(&tenant) {
                    Some(src)
                        if new_place == Some(true)
                            && src.followed_by(&user, network, ev.time, follow) =>
                    {
                        (
                            src,
                            "one of the networks of a spread-out spray that had just failed",
                        )
                    }
                    _ => return,
                },
            };
            ctx.emit(Signal {
                detector: SPRAY,
                key,
                title: "Successful sign-in from a password-spray source".into(),
                severity: Severity::High,
                attack: techniques(&["T1110.003", "T1078.004"]),
                reason: format!(
                    "{user} signed in successfully from {ip}, {how} sign-ins for {} accounts.",
                    src.targets.len()
                ),
                tenant: ev.tenant_id.clone(),
                evidence: vec![Evidence::of(ev)],
                attribution: vec![Attribution::UserIp { user, ip }],
            });
            return;
        }
        let window = self.config.window_secs;
        let src = self.sources.entry(network).or_default();
        if src.fail(ev, user.clone(), network, &self.config) {
            let evidence = src.spray(ev, window);
            ctx.emit(Signal {
                detector: SPRAY,
                key,
                title: "Password spray".into(),
                severity: Severity::Medium,
                attack: techniques(&["T1110.003"]),
                reason: format!(
                    "Sign-ins for {} different accounts failed from network {network} within {} \
                     minutes.",
                    src.users.len(),
                    window / 60
                ),
                tenant: ev.tenant_id.clone(),
                evidence,
                attribution: Vec::new(),
            });
            return;
        }
        // A spray spread over many addresses stays under any per-network count; what gives it
        // away is accounts failing where they never signed in, many at once.
        if new_place != Some(true) {
            return;
        }
        let wide = self.distributed.entry(tenant.clone()).or_default();
        if !wide.fail(ev, user, network, &self.config) {
            return;
        }
        let networks: HashSet<IpAddr> = wide.failures.iter().map(|f| f.2).collect();
        if networks.len() < 2 {
            return;
        }
        let evidence = wide.spray(ev, window);
        ctx.emit(Signal {
            detector: SPRAY,
            key: format!("{tenant}|spread"),
            title: "Password spray from several networks".into(),
            severity: Severity::Medium,
            attack: techniques(&["T1110.003"]),
            reason: format!(
                "Sign-ins for {} different accounts failed within {} minutes from {} networks, \
                 each where that account had never signed in.",
                wide.users.len(),
                window / 60,
                networks.len()
            ),
            tenant: ev.tenant_id.clone(),
            evidence,
            attribution: Vec::new(),
        });
    }
}

#[cfg(test)]
mod tests {
    use mailtrail_event::{DirectoryAudit, NameValue, SignIn, Target};

    use super::super::testing::*;
    use super::*;

    fn admin_op(id: &str, time: &str, operation: &str, params: &[(&str, &str)]) -> AuditEvent {
        AuditEvent {
            record_id: id.into(),
            time: at(time),
            tenant_id: Some(TENANT.into()),
            workload: Some("Exchange".into()),
            operation: operation.into(),
            user_id: Some("admin@c.example".into()),
            parameters: params
                .iter()
                .map(|(n, v)| NameValue {
                    name: (*n).into(),
                    value: (*v).into(),
                })
                .collect(),
            ..Default::default()
        }
    }

    #[test]
    fn a_fullaccess_grant_then_the_grantee_reading_fires() {
        let mut read = bind("r1", "2026-01-20T11:00:00Z", "mallory@c.example", "a", "b");
        read.mailbox_owner_upn = Some("ceo@c.example".into());
        let events = vec![
            admin_op(
                "g1",
                "2026-01-20T10:00:00Z",
                "Add-MailboxPermission",
                &[
                    ("Identity", "ceo"),
                    ("User", "mallory@c.example"),
                    ("AccessRights", "FullAccess"),
                ],
            ),
            read,
        ];
        let out = run(&mut DelegationThenAccess::default(), &events, None);
        assert_eq!(out.len(), 1);
        let ids: Vec<_> = out[0]
            .evidence
            .iter()
            .map(|e| e.record_id.as_str())
            .collect();
        assert_eq!(ids, ["g1", "r1"]);
    }

    #[test]
    fn a_grant_in_the_baseline_is_not_a_sequence() {
        let mut read = bind("r1", "2026-01-20T11:00:00Z", "mallory@c.example", "a", "b");
        read.mailbox_owner_upn = Some("ceo@c.example".into());
        let events = vec![
            admin_op(
                "g1",
                "2026-01-02T10:00:00Z",
                "Add-MailboxPermission",
                &[
                    ("Identity", "ceo@c.example"),
                    ("User", "mallory"),
                    ("AccessRights", "FullAccess"),
                ],
            ),
            read,
        ];
        let out = run(
            &mut DelegationThenAccess::default(),
            &events,
            Some(at("2026-01-15T00:00:00Z")),
        );
        assert!(out.is_empty());
    }

    #[test]
    fn guids_are_found_in_text() {
        let found: Vec<_> = guids(
            "x 5a95e683-08ad-424e-a441-1d1aec52c02c y 5a95e683-08ad-424e-a441-1d1aec52c02c0 \
             00000003-0000-0000-c000-000000000000",
        )
        .collect();
        assert_eq!(
            found,
            [
                "5a95e683-08ad-424e-a441-1d1aec52c02c",
                "00000003-0000-0000-c000-000000000000"
            ]
        );
    }

    fn consent(id: &str, time: &str, app_object: &str, scope: &str) -> AuditEvent {
        let raw = format!(
            r#"{{"activityDisplayName":"Consent to application","targetResources":[{{"id":"{app_object}","modifiedProperties":[{{"displayName":"ConsentAction.Permissions","newValue":"Scope: {scope}"}}]}}]}}"#
        );
        AuditEvent {
            kind: EventKind::DirectoryAudit,
            record_id: id.into(),
            time: at(time),
            tenant_id: Some(TENANT.into()),
            operation: "Consent to application".into(),
            user_id: Some("ann@c.example".into()),
            result_status: Some("success".into()),
            directory: Some(Box::new(DirectoryAudit {
                targets: vec![Target {
                    id: Some(app_object.into()),
                    display_name: Some("Invoice Viewer".into()),
                    ..Default::default()
                }],
                ..Default::default()
            })),
            raw: raw.into_bytes().into(),
            ..Default::default()
        }
    }

    const GRAPH: &str = "00000003-0000-0000-c000-000000000000";
    const ROGUE: &str = "7d3c2b1a-0000-4000-8000-00000000beef";

    #[test]
    fn consent_with_mail_scope_then_the_app_reading_fires() {
        let events = vec![
            consent(
                "c1",
                "2026-01-20T10:00:00Z",
                ROGUE,
                "Mail.Read offline_access",
            ),
            bind("r1", "2026-01-20T10:30:00Z", "ann@c.example", GRAPH, ROGUE),
            bind("r2", "2026-01-20T10:40:00Z", "ann@c.example", GRAPH, ROGUE),
        ];
        let out = run(&mut GrantThenMailRead::default(), &events, None);
        assert_eq!(out.len(), 1, "{out:#?}");
        assert!(
            out[0].reason.contains("names this application"),
            "{}",
            out[0].reason
        );
        let ids: Vec<_> = out[0]
            .evidence
            .iter()
            .map(|e| e.record_id.as_str())
            .collect();
        assert_eq!(ids, ["c1", "r1"]);
        assert!(out[0].attribution.contains(&Attribution::ClientApp {
            tenant: TENANT.into(),
            app: ROGUE.into()
        }));
    }

    #[test]
    fn consent_without_mail_scope_is_ignored() {
        let events = vec![
            consent("c1", "2026-01-20T10:00:00Z", ROGUE, "User.Read"),
            bind("r1", "2026-01-20T10:30:00Z", "ann@c.example", GRAPH, ROGUE),
        ];
        assert!(run(&mut GrantThenMailRead::default(), &events, None).is_empty());
    }

    #[test]
    fn a_secret_rotation_on_an_app_already_reading_mail_fires_only_from_a_new_place() {
        let read = |id: &str, time: &str, ip: &str| {
            let mut ev = bind(id, time, "ann@c.example", GRAPH, ROGUE);
            ev.client_ip = ip.parse().ok();
            ev
        };
        let rotation = || {
            let mut c = consent("c1", "2026-01-20T10:00:00Z", ROGUE, "");
            c.operation = "Update application – Certificates and secrets management".into();
            c
        };
        let events = vec![
            read("r0", "2026-01-10T03:00:00Z", "52.28.10.90"),
            rotation(),
            read("r1", "2026-01-20T15:00:00Z", "52.28.77.4"),
        ];
        assert!(
            run(&mut GrantThenMailRead::default(), &events, None).is_empty(),
            "the backup service reads from where it always did"
        );
        let events = vec![
            read("r0", "2026-01-10T03:00:00Z", "52.28.10.90"),
            rotation(),
            read("r1", "2026-01-20T15:00:00Z", "185.156.174.97"),
        ];
        let out = run(&mut GrantThenMailRead::default(), &events, None);
        assert_eq!(out.len(), 1, "{out:#?}");
        assert!(
            out[0].reason.contains("new credential"),
            "{}",
            out[0].reason
        );
    }

    #[test]
    fn an_app_that_read_mail_before_the_change_needs_an_id_link() {
        let events = vec![
            bind(
                "r0",
                "2026-01-19T10:30:00Z",
                "ann@c.example",
                GRAPH,
                "11111111-1111-4111-8111-111111111111",
            ),
            consent("c1", "2026-01-20T10:00:00Z", ROGUE, "Mail.Read"),
            bind(
                "r1",
                "2026-01-20T10:30:00Z",
                "ann@c.example",
                GRAPH,
                "11111111-1111-4111-8111-111111111111",
            ),
        ];
        assert!(run(&mut GrantThenMailRead::default(), &events, None).is_empty());
    }

    fn failed(id: &str, time: &str, user: &str, ip: &str, code: i64) -> AuditEvent {
        let mut ev = sign_in(id, time, user, ip, &format!("t-{id}"));
        ev.sign_in = Some(Box::new(SignIn {
            error_code: Some(code),
            ..Default::default()
        }));
        ev
    }

    #[test]
    fn a_spray_then_a_success_from_the_same_network() {
        let mut events = Vec::new();
        for i in 0..12 {
            events.push(failed(
                &format!("f{i}"),
                &format!("2026-01-20T03:{:02}:00Z", i * 3),
                &format!("user{i}@c.example"),
                "203.0.113.40",
                50126,
            ));
        }
        events.push(sign_in(
            "ok",
            "2026-01-20T05:00:00Z",
            "user3@c.example",
            "203.0.113.41",
            "tok",
        ));
        let out = run(&mut SprayThenSuccess::default(), &events, None);
        assert_eq!(out.first().map(|s| s.severity), Some(Severity::Medium));
        assert_eq!(out.first().map(|s| s.evidence.len()), Some(10));
        let last = out.last().unwrap();
        assert_eq!(last.severity, Severity::High);
        assert_eq!(last.evidence[0].record_id, "ok");
        assert!(out.iter().all(|s| s.key == last.key));
    }

    /// Twelve accounts that signed in from their office, then failing from three rented
    /// servers, four each: under the per-network count everywhere.
    fn spread_spray(from: [&str; 3]) -> Vec<AuditEvent> {
        let mut events = Vec::new();
        for i in 0..12 {
            events.push(sign_in(
                &format!("s{i}"),
                "2026-01-19T09:00:00Z",
                &format!("user{i}@c.example"),
                "198.51.100.7",
                &format!("t{i}"),
            ));
        }
        for i in 0..12 {
            events.push(failed(
                &format!("f{i}"),
                &format!("2026-01-20T03:{:02}:00Z", i * 3),
                &format!("user{i}@c.example"),
                from[i % 3],
                50126,
            ));
        }
        events
    }

    #[test]
    fn a_spray_spread_over_several_networks_then_a_success_from_one_of_them() {
        let mut events = spread_spray(["203.0.113.40", "192.0.2.77", "100.64.9.1"]);
        events.push(sign_in(
            "ok",
            "2026-01-20T05:00:00Z",
            "user4@c.example",
            "192.0.2.77",
            "tok",
        ));
        let out = run(&mut SprayThenSuccess::default(), &events, None);
        assert_eq!(
            out.first().map(|s| s.title.as_str()),
            Some("Password spray from several networks")
        );
        assert_eq!(out.first().map(|s| s.evidence.len()), Some(10));
        let last = out.last().unwrap();
        assert_eq!(last.severity, Severity::High);
        assert_eq!(last.evidence[0].record_id, "ok");
    }

    #[test]
    fn many_people_mistyping_at_home_on_a_monday_is_not_a_spray() {
        let mut events = Vec::new();
        for i in 0..12 {
            let home = format!("203.{i}.113.9");
            let user = format!("user{i}@c.example");
            events.push(sign_in(
                &format!("s{i}"),
                "2026-01-19T09:00:00Z",
                &user,
                &home,
                "t",
            ));
            events.push(failed(
                &format!("f{i}"),
                &format!("2026-01-20T08:{:02}:00Z", i * 3),
                &user,
                &home,
                50126,
            ));
        }
        events.sort_by_key(|e| e.time);
        assert!(run(&mut SprayThenSuccess::default(), &events, None).is_empty());
    }

    #[test]
    fn a_few_typos_are_not_a_spray() {
        let events: Vec<_> = (0..5)
            .map(|i| {
                failed(
                    &format!("f{i}"),
                    "2026-01-20T03:00:00Z",
                    &format!("u{i}@c.example"),
                    "198.51.100.1",
                    50126,
                )
            })
            .collect();
        assert!(run(&mut SprayThenSuccess::default(), &events, None).is_empty());
    }

    #[test]
    fn an_ediscovery_export_by_a_new_account_is_high() {
        let events = vec![
            admin_op(
                "e1",
                "2026-01-20T10:00:00Z",
                "New-ComplianceSearch",
                &[("Name", "q")],
            ),
            admin_op(
                "e2",
                "2026-01-20T10:05:00Z",
                "Start-ComplianceSearch",
                &[("Identity", "q")],
            ),
            admin_op(
                "e3",
                "2026-01-20T10:30:00Z",
                "New-ComplianceSearchAction",
                &[("SearchName", "q"), ("Export", "True")],
            ),
        ];
        let out = run(&mut EDiscoveryExport::default(), &events, None);
        let last = out.last().unwrap();
        assert_eq!(last.severity, Severity::High);
        assert_eq!(last.evidence.len(), 1);
        let all: Vec<_> = out
            .iter()
            .flat_map(|s| &s.evidence)
            .map(|e| e.record_id.as_str())
            .collect();
        assert_eq!(all, ["e1", "e2", "e3"]);
    }

    #[test]
    fn an_ediscovery_export_from_where_the_account_always_works_is_context() {
        let from = |mut ev: AuditEvent, ip: &str| {
            ev.client_ip = ip.parse().ok();
            ev
        };
        let export = |id: &str, ip: &str| {
            from(
                admin_op(
                    id,
                    "2026-01-20T10:30:00Z",
                    "New-ComplianceSearchAction",
                    &[("SearchName", "q"), ("Export", "True")],
                ),
                ip,
            )
        };
        // The account (admin_op's user) reads mail from its office every day.
        let mut office = bind("b1", "2026-01-19T09:00:00Z", "admin@c.example", "a", "b");
        office.client_ip = "198.51.100.7".parse().ok();
        let events = vec![office.clone(), export("e1", "198.51.100.20")];
        let out = run(&mut EDiscoveryExport::default(), &events, None);
        assert_eq!(out.len(), 1, "{out:#?}");
        assert_eq!(out[0].severity, Severity::Low);
        // Signing in from the rented server minutes before does not make it familiar.
        let mut login = bind("b2", "2026-01-20T10:20:00Z", "admin@c.example", "a", "b");
        login.client_ip = "185.156.174.97".parse().ok();
        let events = vec![office, login, export("e1", "185.156.174.97")];
        let out = run(&mut EDiscoveryExport::default(), &events, None);
        assert_eq!(out[0].severity, Severity::High);
        assert!(
            out[0].reason.contains("185.156.174.97"),
            "{}",
            out[0].reason
        );
    }
}
