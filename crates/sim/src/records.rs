//! Writing records in Microsoft's documented shapes.
//!
//! One function per record family: Exchange mailbox audit (`MailItemsAccessed`, item and folder
//! operations), Exchange admin cmdlets, Entra ID STS logons in the UAL, SharePoint, Teams,
//! Security & Compliance cmdlets and eDiscovery, Microsoft Graph `signIn` and `directoryAudit`.
//! Field names, order and value types follow the Office 365 Management Activity API schema and
//! the Graph resource types; benign activity and attacks are written by the same functions, so no
//! detail of formatting can tell them apart.

use std::net::IpAddr;

use rand::Rng;

use crate::clock::{graph_time, write_ual_time};
use crate::json::{Obj, write_str};
use crate::net::Endpoint;
use crate::rng::{SimRng, guid};
use crate::tenant::Tenant;

/// Which output a record belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum RecordKind {
    /// A Unified Audit Log record (`ual/YYYY-MM-DD.ndjson`).
    UnifiedAudit,
    /// A Microsoft Graph `signIn` (`signins.ndjson`).
    SignIn,
    /// A Microsoft Graph `directoryAudit` (`directory_audit.ndjson`).
    DirectoryAudit,
}

impl RecordKind {
    /// A short stable name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::UnifiedAudit => "unified_audit",
            Self::SignIn => "sign_in",
            Self::DirectoryAudit => "directory_audit",
        }
    }
}

/// What the throttling stage needs to know about a `MailItemsAccessed` record.
#[derive(Clone, Copy, Debug)]
pub(crate) struct MiaInfo {
    pub(crate) mailbox: u32,
    pub(crate) sync: bool,
    /// Byte offset of `False` in the `IsThrottled` property, patched to `True` when this record
    /// is the one that trips the limit.
    pub(crate) throttle_at: u32,
}

/// One generated record, serialised, with what ordering and post-processing need.
#[derive(Debug)]
pub(crate) struct Rec {
    pub(crate) t: i64,
    pub(crate) seq: u64,
    pub(crate) kind: RecordKind,
    pub(crate) json: Vec<u8>,
    pub(crate) id: (u32, u32),
    pub(crate) mia: Option<MiaInfo>,
    pub(crate) label: u32,
}

impl Rec {
    pub(crate) fn id(&self) -> &str {
        std::str::from_utf8(&self.json[self.id.0 as usize..self.id.1 as usize]).unwrap_or("")
    }
}

/// Marker for "not part of any attack".
pub(crate) const NO_LABEL: u32 = u32::MAX;

/// Where an activity writes its records.
pub(crate) struct Out<'a> {
    pub(crate) recs: &'a mut Vec<Rec>,
    pub(crate) tenant: &'a Tenant,
    pub(crate) rng: &'a mut SimRng,
    pub(crate) seq: u64,
    pub(crate) label: u32,
}

impl Out<'_> {
    fn push(
        &mut self,
        t: i64,
        kind: RecordKind,
        json: Vec<u8>,
        id: (usize, usize),
        mia: Option<MiaInfo>,
    ) {
        let seq = self.seq;
        self.seq += 1;
        self.recs.push(Rec {
            t,
            seq,
            kind,
            json,
            id: (id.0 as u32, id.1 as u32),
            mia,
            label: self.label,
        });
    }

    /// A fresh record id.
    pub(crate) fn new_id(&mut self) -> String {
        guid(self.rng)
    }
}

/// Writes the Common schema head every UAL record starts with; returns the byte range of `Id`.
#[allow(clippy::too_many_arguments)]
fn ual_head(
    o: &mut Obj<'_>,
    t: i64,
    id: &str,
    operation: &str,
    tenant: &str,
    record_type: i64,
    result: &str,
    user_key: &str,
    user_type: i64,
    workload: &str,
) -> (usize, usize) {
    o.with("CreationTime", |b| {
        b.push(b'"');
        write_ual_time(b, t);
        b.push(b'"');
    });
    let start = o.len() + "\"Id\":\"".len() + 1;
    o.str("Id", id);
    let range = (start, start + id.len());
    o.str("Operation", operation)
        .str("OrganizationId", tenant)
        .int("RecordType", record_type)
        .str("ResultStatus", result)
        .str("UserKey", user_key)
        .int("UserType", user_type)
        .int("Version", 1)
        .str("Workload", workload);
    range
}

/// The `"Id":"` prefix means the id starts `len("\"Id\":\"")` bytes after the comma; `ual_head`
/// computes it from the buffer length before writing, which includes the separating comma.
fn fix_range(buf: &[u8], guess: (usize, usize), id: &str) -> (usize, usize) {
    // The guess assumes one separator byte; verify and fall back to a search so a layout change
    // cannot silently produce a wrong id.
    if buf.get(guess.0..guess.1) == Some(id.as_bytes()) {
        return guess;
    }
    let needle = id.as_bytes();
    buf.windows(needle.len())
        .position(|w| w == needle)
        .map_or((0, 0), |p| (p, p + needle.len()))
}

/// How Exchange writes a client address in `ClientIPAddress` / `ClientIP` of mailbox records.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum IpStyle {
    /// `203.0.113.5` or `2001:db8::5`.
    Bare,
    /// `::ffff:203.0.113.5`, which Exchange writes for some IPv4 clients.
    Mapped,
    /// `203.0.113.5:52311` or `[2001:db8::5]:52311`, as admin cmdlet records carry it.
    WithPort(u16),
}

pub(crate) fn format_ip(ip: IpAddr, style: IpStyle) -> String {
    match (style, ip) {
        (IpStyle::Mapped, IpAddr::V4(v4)) => format!("::ffff:{v4}"),
        (IpStyle::WithPort(p), IpAddr::V4(v4)) => format!("{v4}:{p}"),
        (IpStyle::WithPort(p), IpAddr::V6(v6)) => format!("[{v6}]:{p}"),
        (_, ip) => ip.to_string(),
    }
}

/// The token that authorised a mailbox access, as Exchange records it.
#[derive(Clone, Debug)]
pub(crate) struct TokenCtx {
    pub(crate) unique_token_id: String,
    pub(crate) aad_session: Option<String>,
    pub(crate) issued_at: i64,
    pub(crate) object_id: String,
    pub(crate) tenant_id: String,
    pub(crate) client_app_id: Option<String>,
    pub(crate) client_app_name: Option<String>,
}

/// Who accessed which mailbox, how and from where: the fields every mailbox record repeats.
#[derive(Clone, Debug)]
pub(crate) struct MailCtx {
    pub(crate) user_id: String,
    pub(crate) user_key: String,
    pub(crate) user_type: i64,
    pub(crate) logon_type: i64,
    pub(crate) logon_sid: String,
    pub(crate) mailbox: u32,
    pub(crate) client_ip: String,
    pub(crate) client_info: String,
    pub(crate) app_id: Option<String>,
    pub(crate) client_app_id: String,
    pub(crate) session_id: String,
    pub(crate) token: Option<TokenCtx>,
    pub(crate) external: bool,
}

fn originating_server(t: &Tenant, server: &str, when: i64, crlf: bool) -> String {
    // Exchange Online moves to a new build every couple of weeks; the build follows the date.
    let build = 7_800 + (when / 86_400 - 20_000).clamp(0, 5_000) / 14 * 3;
    let minor = (crate::rng::hash(t.seed, &[9, (when / 86_400 / 14) as u64]) % 40) as i64;
    format!(
        "{server} (15.20.{build}.{minor:03}){}",
        if crlf { "\r\n" } else { "" }
    )
}

fn mailbox_common(o: &mut Obj<'_>, tenant: &Tenant, c: &MailCtx, t: i64, with_client_ip: bool) {
    let mb = &tenant.mailboxes[c.mailbox as usize];
    if with_client_ip {
        o.str("ClientIP", &c.client_ip);
    }
    o.str("UserId", &c.user_id);
    if let Some(app) = &c.app_id {
        o.str("AppId", app);
    }
    o.str("ClientAppId", &c.client_app_id)
        .str("ClientIPAddress", &c.client_ip)
        .str("ClientInfoString", &c.client_info)
        .bool("ExternalAccess", c.external)
        .int("InternalLogonType", 0)
        .int("LogonType", c.logon_type)
        .str("LogonUserSid", &c.logon_sid)
        .str("MailboxGuid", &mb.guid)
        .str("MailboxOwnerSid", &mb.sid)
        .str("MailboxOwnerUPN", &mb.upn);
    let _ = t;
}

fn mailbox_tail(o: &mut Obj<'_>, tenant: &Tenant, c: &MailCtx, t: i64) {
    let mb = &tenant.mailboxes[c.mailbox as usize];
    o.str("OrganizationName", &tenant.org_name)
        .str(
            "OriginatingServer",
            &originating_server(tenant, &mb.server, t, true),
        )
        .str("SessionId", &c.session_id);
    if let Some(tok) = &c.token {
        o.str("TokenObjectId", &tok.object_id)
            .str("TokenTenantId", &tok.tenant_id);
        let mut a = o.obj("AppAccessContext");
        if let Some(s) = &tok.aad_session {
            a.str("AADSessionId", s);
        }
        if let Some(id) = &tok.client_app_id {
            a.str("ClientAppId", id);
        }
        if let Some(name) = &tok.client_app_name {
            a.str("ClientAppName", name);
        }
        a.with("IssuedAtTime", |b| {
            b.push(b'"');
            write_ual_time(b, tok.issued_at);
            b.push(b'"');
        })
        .str("UniqueTokenId", &tok.unique_token_id);
    }
}

/// One folder of a `MailItemsAccessed` record: the folder index and the messages read in it.
pub(crate) type FolderRead = (usize, Vec<(String, u32)>);

/// A `MailItemsAccessed` record (RecordType 50, ExchangeItemAggregated).
pub(crate) fn mail_items_accessed(
    out: &mut Out<'_>,
    t: i64,
    c: &MailCtx,
    sync: bool,
    count: u32,
    folders: &[FolderRead],
) {
    let tenant = out.tenant;
    let id = out.new_id();
    let mut buf = Vec::with_capacity(1400);
    let throttle_at;
    let range;
    {
        let mut o = Obj::new(&mut buf);
        range = ual_head(
            &mut o,
            t,
            &id,
            "MailItemsAccessed",
            &tenant.id,
            50,
            "Succeeded",
            &c.user_key,
            c.user_type,
            "Exchange",
        );
        mailbox_common(&mut o, tenant, c, t, true);
        {
            let mut p = o.arr("OperationProperties");
            p.name_value("MailAccessType", if sync { "Sync" } else { "Bind" });
            throttle_at = p.name_value_at("IsThrottled", "False");
        }
        o.int("OperationCount", i64::from(count));
        mailbox_tail(&mut o, tenant, c, t);
        let mut fa = o.arr("Folders");
        for (folder, items) in folders {
            let (fid, path) = &tenant.mailboxes[c.mailbox as usize].folders[*folder];
            let mut f = fa.obj();
            f.str("Id", fid).str("Path", path);
            if !sync {
                let mut ia = f.arr("FolderItems");
                for (mid, size) in items {
                    ia.obj()
                        .str("InternetMessageId", mid)
                        .int("SizeInBytes", i64::from(*size));
                }
            }
        }
    }
    let range = fix_range(&buf, range, &id);
    out.push(
        t,
        RecordKind::UnifiedAudit,
        buf,
        range,
        Some(MiaInfo {
            mailbox: c.mailbox,
            sync,
            throttle_at: throttle_at as u32,
        }),
    );
}

/// Item details for item-level mailbox operations.
#[derive(Clone, Debug)]
pub(crate) struct ItemInfo {
    pub(crate) message_id: Option<String>,
    pub(crate) folder: usize,
    pub(crate) subject: String,
    pub(crate) size: u32,
    pub(crate) attachments: Option<String>,
}

fn item_id(rng: &mut SimRng) -> String {
    let mut b = [0u8; 70];
    rng.fill(&mut b[..]);
    b[0] = 0x46;
    b[1..5].fill(0);
    format!("Rg{}", &crate::rng::base64_std(&b)[2..94])
}

/// An ExchangeItem record (RecordType 2): Send, SendAs, Create, Update, MailboxLogin, UpdateInboxRules.
pub(crate) fn mailbox_item(
    out: &mut Out<'_>,
    t: i64,
    c: &MailCtx,
    operation: &str,
    item: Option<&ItemInfo>,
    props: &[(&str, String)],
) {
    let tenant = out.tenant;
    let id = out.new_id();
    let item_store_id = item.map(|_| item_id(out.rng));
    let mut buf = Vec::with_capacity(1200);
    let range;
    {
        let mut o = Obj::new(&mut buf);
        range = ual_head(
            &mut o,
            t,
            &id,
            operation,
            &tenant.id,
            2,
            "Succeeded",
            &c.user_key,
            c.user_type,
            "Exchange",
        );
        mailbox_common(&mut o, tenant, c, t, true);
        if !props.is_empty() {
            let mut p = o.arr("OperationProperties");
            for (k, v) in props {
                p.name_value(k, v);
            }
        }
        mailbox_tail(&mut o, tenant, c, t);
        if let (Some(item), Some(store_id)) = (item, item_store_id) {
            let (fid, path) = &tenant.mailboxes[c.mailbox as usize].folders[item.folder];
            let mut i = o.obj("Item");
            i.str("Id", &store_id);
            if let Some(mid) = &item.message_id {
                i.str("InternetMessageId", mid);
            }
            i.obj("ParentFolder").str("Id", fid).str("Path", path);
            i.int("SizeInBytes", i64::from(item.size))
                .str("Subject", &item.subject);
            if let Some(a) = &item.attachments {
                i.str("Attachments", a);
            }
        }
    }
    let range = fix_range(&buf, range, &id);
    out.push(t, RecordKind::UnifiedAudit, buf, range, None);
}

/// An ExchangeItemGroup record (RecordType 3): MoveToDeletedItems, SoftDelete, HardDelete, Move.
pub(crate) fn mailbox_group(
    out: &mut Out<'_>,
    t: i64,
    c: &MailCtx,
    operation: &str,
    from: usize,
    to: Option<usize>,
    items: &[ItemInfo],
) {
    let tenant = out.tenant;
    let id = out.new_id();
    let store_ids: Vec<String> = items.iter().map(|_| item_id(out.rng)).collect();
    let mut buf = Vec::with_capacity(1200);
    let range;
    {
        let mut o = Obj::new(&mut buf);
        range = ual_head(
            &mut o,
            t,
            &id,
            operation,
            &tenant.id,
            3,
            "Succeeded",
            &c.user_key,
            c.user_type,
            "Exchange",
        );
        mailbox_common(&mut o, tenant, c, t, true);
        mailbox_tail(&mut o, tenant, c, t);
        let folders = &tenant.mailboxes[c.mailbox as usize].folders;
        {
            let mut a = o.arr("AffectedItems");
            for (item, sid) in items.iter().zip(&store_ids) {
                let mut i = a.obj();
                i.str("Id", sid);
                if let Some(mid) = &item.message_id {
                    i.str("InternetMessageId", mid);
                }
                i.obj("ParentFolder")
                    .str("Id", &folders[item.folder].0)
                    .str("Path", &folders[item.folder].1);
                i.str("Subject", &item.subject);
            }
        }
        o.bool("CrossMailboxOperation", false);
        if let Some(to) = to {
            o.obj("DestFolder")
                .str("Id", &folders[to].0)
                .str("Path", &folders[to].1);
        }
        o.obj("Folder")
            .str("Id", &folders[from].0)
            .str("Path", &folders[from].1);
    }
    let range = fix_range(&buf, range, &id);
    out.push(t, RecordKind::UnifiedAudit, buf, range, None);
}

/// Who ran an admin cmdlet and how.
#[derive(Clone, Debug)]
pub(crate) struct AdminCtx {
    pub(crate) user_id: String,
    pub(crate) user_key: String,
    pub(crate) user_type: i64,
    pub(crate) client_ip: String,
    pub(crate) app_id: String,
    pub(crate) session_id: String,
    pub(crate) token: Option<TokenCtx>,
    pub(crate) server: String,
}

/// An ExchangeAdmin record (RecordType 1): New-InboxRule, Set-Mailbox, Add-MailboxPermission, …
pub(crate) fn exchange_admin(
    out: &mut Out<'_>,
    t: i64,
    c: &AdminCtx,
    cmdlet: &str,
    object_id: &str,
    params: &[(&str, String)],
    modified: &[(&str, String)],
) {
    let tenant = out.tenant;
    let id = out.new_id();
    let mut buf = Vec::with_capacity(1000);
    let range;
    {
        let mut o = Obj::new(&mut buf);
        range = ual_head(
            &mut o,
            t,
            &id,
            cmdlet,
            &tenant.id,
            1,
            "True",
            &c.user_key,
            c.user_type,
            "Exchange",
        );
        o.str("ClientIP", &c.client_ip)
            .str("ObjectId", object_id)
            .str("UserId", &c.user_id)
            .str("AppId", &c.app_id)
            .str("ClientAppId", "")
            .bool("ExternalAccess", false)
            .str("OrganizationName", &tenant.org_name)
            .str(
                "OriginatingServer",
                &originating_server(tenant, &c.server, t, false),
            );
        {
            let mut p = o.arr("Parameters");
            for (k, v) in params {
                p.name_value(k, v);
            }
        }
        if !modified.is_empty() {
            let mut m = o.arr("ModifiedProperties");
            for (k, v) in modified {
                m.obj()
                    .str("Name", k)
                    .str("NewValue", v)
                    .str("OldValue", "");
            }
        }
        o.str("SessionId", &c.session_id);
        if let Some(tok) = &c.token {
            let mut a = o.obj("AppAccessContext");
            if let Some(s) = &tok.aad_session {
                a.str("AADSessionId", s);
            }
            a.with("IssuedAtTime", |b| {
                b.push(b'"');
                write_ual_time(b, tok.issued_at);
                b.push(b'"');
            })
            .str("UniqueTokenId", &tok.unique_token_id);
        }
    }
    let range = fix_range(&buf, range, &id);
    out.push(t, RecordKind::UnifiedAudit, buf, range, None);
}

/// A sign-in, as both the Graph `signIn` resource and (for some) the UAL's STS logon record.
#[derive(Clone, Debug)]
pub(crate) struct SignInSpec {
    pub(crate) t: i64,
    pub(crate) user: Option<u32>,
    /// For service principal sign-ins.
    pub(crate) sp: Option<SpSignIn>,
    /// For sign-ins to user names that do not exist in the tenant (password spray).
    pub(crate) unknown_upn: Option<String>,
    pub(crate) app_id: String,
    pub(crate) app_name: String,
    pub(crate) resource_id: String,
    pub(crate) resource_name: String,
    pub(crate) endpoint: Endpoint,
    pub(crate) user_agent: String,
    pub(crate) client_app_used: &'static str,
    pub(crate) interactive: bool,
    pub(crate) error: u32,
    pub(crate) token_id: String,
    pub(crate) session_id: Option<String>,
    pub(crate) incoming: &'static str,
    pub(crate) mfa: bool,
    pub(crate) device: Option<DeviceInfo>,
    /// Also write the UAL `UserLoggedIn` / `UserLoginFailed` record.
    pub(crate) ual: bool,
    pub(crate) protocol: &'static str,
}

/// Service principal details of an app-only sign-in.
#[derive(Clone, Debug)]
pub(crate) struct SpSignIn {
    pub(crate) sp_id: String,
    pub(crate) key_id: String,
    pub(crate) credential: &'static str,
}

/// The device a user signed in from.
#[derive(Clone, Debug)]
pub(crate) struct DeviceInfo {
    pub(crate) device_id: String,
    pub(crate) name: String,
    pub(crate) os: &'static str,
    pub(crate) browser: String,
    pub(crate) managed: bool,
    pub(crate) trust: &'static str,
}

fn failure_reason(code: u32) -> &'static str {
    match code {
        0 => "Other.",
        50126 => "Error validating credentials due to invalid username or password.",
        50053 => {
            "The account is locked, you've tried to sign in too many times with an incorrect user ID or password."
        }
        50074 => "Strong Authentication is required.",
        50140 => {
            "This error occurred due to 'Keep me signed in' interrupt when the user was signing in."
        }
        50034 => "The user account does not exist in the directory.",
        _ => "Other.",
    }
}

/// Writes a Graph `signIn` and, when asked, the UAL STS logon record for it.
pub(crate) fn sign_in(out: &mut Out<'_>, s: &SignInSpec) {
    let tenant = out.tenant;
    let id = out.new_id();
    let correlation = out.new_id();
    let user = s.user.map(|u| &tenant.users[u as usize]);
    let upn = user.map(|u| u.upn.as_str()).or(s.unknown_upn.as_deref());
    let mut buf = Vec::with_capacity(2200);
    let range;
    {
        let mut o = Obj::new(&mut buf);
        let start = 1 + "\"id\":\"".len();
        o.str("id", &id);
        range = (start, start + id.len());
        o.str("createdDateTime", &graph_time(s.t));
        match (&s.sp, user) {
            (Some(_), _) => {
                o.null("userDisplayName")
                    .str("userPrincipalName", "")
                    .str("userId", "");
            }
            (None, Some(u)) => {
                o.str("userDisplayName", &u.display)
                    .str("userPrincipalName", &u.upn.to_ascii_lowercase())
                    .str("userId", &u.object_id);
            }
            (None, None) => {
                o.null("userDisplayName")
                    .opt_str("userPrincipalName", upn)
                    .str("userId", "");
            }
        }
        o.str("appId", &s.app_id)
            .str("appDisplayName", &s.app_name)
            .str("ipAddress", &s.endpoint.ip.to_string())
            .str("clientAppUsed", s.client_app_used)
            .str("userAgent", &s.user_agent)
            .str("correlationId", &correlation)
            .str(
                "conditionalAccessStatus",
                if s.error == 0 && s.user.is_some() {
                    "success"
                } else {
                    "notApplied"
                },
            )
            .str("originalRequestId", &id)
            .bool("isInteractive", s.interactive)
            .str("tokenIssuerName", "")
            .str("tokenIssuerType", "AzureAD")
            .int(
                "processingTimeInMilliseconds",
                40 + (out.rng.random::<u32>() % 400) as i64,
            )
            .str("riskDetail", "none")
            .str("riskLevelAggregated", "none")
            .str("riskLevelDuringSignIn", "none")
            .str("riskState", "none")
            .with("riskEventTypes_v2", |b| b.extend_from_slice(b"[]"))
            .str("resourceDisplayName", &s.resource_name)
            .str("resourceId", &s.resource_id)
            .str("resourceTenantId", &tenant.id)
            .opt_str("homeTenantId", s.sp.is_none().then_some(tenant.id.as_str()))
            .opt_str("homeTenantName", None)
            .str(
                "authenticationRequirement",
                if s.mfa {
                    "multiFactorAuthentication"
                } else {
                    "singleFactorAuthentication"
                },
            )
            .str(
                "signInIdentifier",
                if s.sp.is_some() {
                    ""
                } else {
                    upn.unwrap_or("")
                },
            )
            .str(
                "signInIdentifierType",
                if s.sp.is_some() {
                    ""
                } else {
                    "userPrincipalName"
                },
            )
            .str(
                "servicePrincipalName",
                if s.sp.is_some() { &s.app_name } else { "" },
            )
            .with("signInEventTypes", |b| {
                b.push(b'[');
                write_str(
                    b,
                    match (&s.sp, s.interactive) {
                        (Some(_), _) => "servicePrincipal",
                        (None, true) => "interactiveUser",
                        (None, false) => "nonInteractiveUser",
                    },
                );
                b.push(b']');
            })
            .str(
                "servicePrincipalId",
                s.sp.as_ref().map_or("", |sp| sp.sp_id.as_str()),
            )
            .str("userType", if s.sp.is_some() { "" } else { "member" })
            .bool("flaggedForReview", false)
            .bool("isTenantRestricted", false)
            .int("autonomousSystemNumber", i64::from(s.endpoint.asn()))
            .str("crossTenantAccessType", "none")
            .str(
                "servicePrincipalCredentialKeyId",
                s.sp.as_ref().map_or("", |sp| sp.key_id.as_str()),
            )
            .str("servicePrincipalCredentialThumbprint", "")
            .str(
                "clientCredentialType",
                s.sp.as_ref().map_or("none", |sp| sp.credential),
            )
            .str("uniqueTokenIdentifier", &s.token_id)
            .opt_str("sessionId", s.session_id.as_deref())
            .str("incomingTokenType", s.incoming)
            .str("authenticationProtocol", s.protocol);
        {
            let mut st = o.obj("status");
            st.int("errorCode", i64::from(s.error));
            st.opt_str(
                "failureReason",
                (s.error != 0).then(|| failure_reason(s.error)),
            );
            st.opt_str(
                "additionalDetails",
                (s.error == 0 && s.mfa && s.interactive)
                    .then_some("MFA requirement satisfied by claim in the token"),
            );
        }
        {
            let mut d = o.obj("deviceDetail");
            match &s.device {
                Some(dev) => {
                    d.str("deviceId", &dev.device_id)
                        .str("displayName", &dev.name)
                        .str("operatingSystem", dev.os)
                        .str("browser", &dev.browser)
                        .bool("isCompliant", dev.managed)
                        .bool("isManaged", dev.managed)
                        .str("trustType", dev.trust);
                }
                None => {
                    d.str("deviceId", "")
                        .str("displayName", "")
                        .str("operatingSystem", "")
                        .str("browser", "")
                        .bool("isCompliant", false)
                        .bool("isManaged", false)
                        .str("trustType", "");
                }
            }
        }
        {
            let city = s.endpoint.city();
            let mut l = o.obj("location");
            l.str("city", city.name)
                .str("state", city.state)
                .str("countryOrRegion", city.country);
            let mut g = l.obj("geoCoordinates");
            g.null("altitude")
                .with("latitude", |b| {
                    b.extend_from_slice(format!("{:.4}", city.lat).as_bytes())
                })
                .with("longitude", |b| {
                    b.extend_from_slice(format!("{:.4}", city.lon).as_bytes())
                });
        }
        o.with("appliedConditionalAccessPolicies", |b| {
            b.extend_from_slice(b"[]")
        });
    }
    let range = fix_range(&buf, range, &id);
    out.push(s.t, RecordKind::SignIn, buf, range, None);

    if s.ual && s.sp.is_none() {
        sts_logon(out, s, &id, &correlation);
    }
}

/// The UAL's Entra ID STS logon record (RecordType 15) for a user sign-in.
fn sts_logon(out: &mut Out<'_>, s: &SignInSpec, request_id: &str, correlation: &str) {
    let tenant = out.tenant;
    let id = out.new_id();
    let user = s.user.map(|u| &tenant.users[u as usize]);
    let upn = user
        .map(|u| u.upn.clone())
        .or_else(|| s.unknown_upn.clone())
        .unwrap_or_default();
    let key = user.map_or_else(|| "Not Available".to_owned(), |u| u.object_id.clone());
    let ok = s.error == 0;
    let mut buf = Vec::with_capacity(1500);
    let range;
    // The STS writes its record a moment after the token is issued.
    let t = s.t + 1;
    {
        let mut o = Obj::new(&mut buf);
        range = ual_head(
            &mut o,
            t,
            &id,
            if ok {
                "UserLoggedIn"
            } else {
                "UserLoginFailed"
            },
            &tenant.id,
            15,
            if ok { "Success" } else { "Failed" },
            &key,
            0,
            "AzureActiveDirectory",
        );
        o.str("ClientIP", &s.endpoint.ip.to_string())
            .str("ObjectId", &s.resource_id)
            .str("UserId", &upn)
            .int("AzureActiveDirectoryEventType", 1);
        {
            let mut e = o.arr("ExtendedProperties");
            e.name_value(
                "ResultStatusDetail",
                if ok {
                    if s.interactive { "Redirect" } else { "Success" }
                } else {
                    "Success"
                },
            )
            .name_value("UserAgent", &s.user_agent)
            .name_value(
                "UserAuthenticationMethod",
                if s.interactive { "1" } else { "3" },
            )
            .name_value(
                "RequestType",
                if s.interactive {
                    "OAuth2:Authorize"
                } else {
                    "OAuth2:Token"
                },
            );
            if s.interactive && s.mfa && ok {
                e.name_value("KeepMeSignedIn", "true");
            }
        }
        o.with("ModifiedProperties", |b| b.extend_from_slice(b"[]"));
        {
            let mut a = o.arr("Actor");
            a.obj().str("ID", &key).int("Type", 0);
            a.obj().str("ID", &upn).int("Type", 5);
        }
        o.str("ActorContextId", &tenant.id)
            .str("ActorIpAddress", &s.endpoint.ip.to_string())
            .str("InterSystemsId", correlation)
            .str("IntraSystemId", request_id)
            .str("SupportTicketId", "");
        {
            let mut a = o.arr("Target");
            a.obj().str("ID", &s.resource_id).int("Type", 0);
        }
        o.str("TargetContextId", &tenant.id)
            .str("ApplicationId", &s.app_id);
        {
            let mut d = o.arr("DeviceProperties");
            if let Some(dev) = &s.device {
                d.name_value("OS", dev.os)
                    .name_value("BrowserType", &dev.browser);
                if dev.managed {
                    d.name_value("Id", &dev.device_id)
                        .name_value("IsCompliant", "True")
                        .name_value("IsCompliantAndManaged", "True");
                }
            }
            if let Some(sid) = &s.session_id {
                d.name_value("SessionId", sid);
            }
        }
        o.str("ErrorNumber", &s.error.to_string());
        if !ok {
            o.str(
                "LogonError",
                match s.error {
                    50126 => "InvalidUserNameOrPassword",
                    50053 => "IdsLocked",
                    50034 => "UserAccountNotFound",
                    _ => "Other",
                },
            );
        }
    }
    let range = fix_range(&buf, range, &id);
    out.push(t, RecordKind::UnifiedAudit, buf, range, None);
}

/// Who started a directory change.
#[derive(Clone, Debug)]
pub(crate) enum Initiator {
    User {
        user: u32,
        ip: IpAddr,
    },
    App {
        app_id: String,
        name: String,
        sp_id: String,
    },
}

/// A target of a directory change.
#[derive(Clone, Debug)]
pub(crate) struct DirTarget {
    pub(crate) id: String,
    pub(crate) name: Option<String>,
    pub(crate) kind: &'static str,
    pub(crate) upn: Option<String>,
    pub(crate) modified: Vec<(String, Option<String>, String)>,
}

/// A Graph `directoryAudit`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn directory_audit(
    out: &mut Out<'_>,
    t: i64,
    activity: &str,
    category: &str,
    operation_type: &str,
    by: &Initiator,
    targets: &[DirTarget],
    details: &[(&str, String)],
) {
    let tenant = out.tenant;
    let correlation = out.new_id();
    let suffix: String = (0..5)
        .map(|_| (b'A' + out.rng.random_range(0..26u8)) as char)
        .collect();
    let id = format!(
        "Directory_{correlation}_{suffix}_{}",
        out.rng.random_range(100_000_000u64..999_999_999)
    );
    let mut buf = Vec::with_capacity(1500);
    let range;
    {
        let mut o = Obj::new(&mut buf);
        let start = 1 + "\"id\":\"".len();
        o.str("id", &id);
        range = (start, start + id.len());
        o.str("category", category)
            .str("correlationId", &correlation)
            .str("result", "success")
            .str("resultReason", "")
            .str("activityDisplayName", activity)
            .with("activityDateTime", |b| {
                b.push(b'"');
                write_ual_time(b, t);
                b.extend_from_slice(
                    format!(".{:07}Z\"", (crate::rng::mix(t as u64 ^ 77) % 10_000_000)).as_bytes(),
                );
            })
            .str("loggedByService", "Core Directory")
            .str("operationType", operation_type);
        {
            let mut i = o.obj("initiatedBy");
            match by {
                Initiator::User { user, ip } => {
                    let u = &tenant.users[*user as usize];
                    i.null("app");
                    i.obj("user")
                        .str("id", &u.object_id)
                        .null("displayName")
                        .str("userPrincipalName", &u.upn)
                        .str("ipAddress", &ip.to_string())
                        .str("userType", "Member")
                        .null("homeTenantId")
                        .null("homeTenantName");
                }
                Initiator::App {
                    app_id,
                    name,
                    sp_id,
                } => {
                    i.obj("app")
                        .str("appId", app_id)
                        .str("displayName", name)
                        .str("servicePrincipalId", sp_id)
                        .null("servicePrincipalName");
                    i.null("user");
                }
            }
        }
        {
            let mut ta = o.arr("targetResources");
            for tr in targets {
                let mut x = ta.obj();
                x.str("id", &tr.id)
                    .opt_str("displayName", tr.name.as_deref())
                    .str("type", tr.kind)
                    .opt_str("userPrincipalName", tr.upn.as_deref())
                    .null("groupType");
                {
                    let mut m = x.arr("modifiedProperties");
                    for (name, old, new) in &tr.modified {
                        m.obj()
                            .str("displayName", name)
                            .opt_str("oldValue", old.as_deref())
                            .str("newValue", new);
                    }
                }
                x.with("administrativeUnits", |b| b.extend_from_slice(b"[]"));
            }
        }
        {
            let mut a = o.arr("additionalDetails");
            for (k, v) in details {
                a.obj().str("key", k).str("value", v);
            }
        }
    }
    let range = fix_range(&buf, range, &id);
    out.push(t, RecordKind::DirectoryAudit, buf, range, None);
}

/// A SharePoint / OneDrive file operation (RecordType 6).
#[allow(clippy::too_many_arguments)]
pub(crate) fn file_operation(
    out: &mut Out<'_>,
    t: i64,
    user: u32,
    ip: IpAddr,
    user_agent: &str,
    operation: &str,
    site: &str,
    path: &str,
    onedrive: bool,
) {
    let tenant = out.tenant;
    let id = out.new_id();
    let u = &tenant.users[user as usize];
    let file = path.rsplit('/').next().unwrap_or(path);
    let ext = file.rsplit('.').next().unwrap_or("");
    let mut buf = Vec::with_capacity(1200);
    let range;
    {
        let mut o = Obj::new(&mut buf);
        let key = format!("i:0h.f|membership|{}@live.com", u.puid.to_ascii_lowercase());
        range = ual_head(
            &mut o,
            t,
            &id,
            operation,
            &tenant.id,
            6,
            "Succeeded",
            &key,
            0,
            if onedrive { "OneDrive" } else { "SharePoint" },
        );
        let h = crate::rng::hash(tenant.seed, &[11, site.len() as u64, u64::from(user)]);
        o.str("ClientIP", &ip.to_string())
            .str("ObjectId", &format!("{site}/{path}"))
            .str("UserId", &u.upn)
            .str("CorrelationId", &out.new_id())
            .str("EventSource", "SharePoint")
            .str("ItemType", "File")
            .str("ListId", &crate::rng::guid_from_hash(h))
            .str(
                "ListItemUniqueId",
                &crate::rng::guid_from_hash(crate::rng::hash(
                    h,
                    &[path.len() as u64, t as u64 / 86_400],
                )),
            )
            .str("Site", &crate::rng::guid_from_hash(h ^ 1))
            .str("UserAgent", user_agent)
            .str("WebId", &crate::rng::guid_from_hash(h ^ 2))
            .str("SourceFileExtension", ext)
            .str("SiteUrl", &format!("{site}/"))
            .str("SourceFileName", file)
            .str(
                "SourceRelativeUrl",
                path.rsplit_once('/').map_or("", |(d, _)| d),
            );
    }
    let range = fix_range(&buf, range, &id);
    out.push(t, RecordKind::UnifiedAudit, buf, range, None);
}

/// A Microsoft Teams record (RecordType 25).
pub(crate) fn teams(
    out: &mut Out<'_>,
    t: i64,
    user: u32,
    ip: IpAddr,
    user_agent: &str,
    operation: &str,
) {
    let tenant = out.tenant;
    let id = out.new_id();
    let u = &tenant.users[user as usize];
    let mut buf = Vec::with_capacity(700);
    let range;
    {
        let mut o = Obj::new(&mut buf);
        range = ual_head(
            &mut o,
            t,
            &id,
            operation,
            &tenant.id,
            25,
            "Succeeded",
            &u.object_id,
            0,
            "MicrosoftTeams",
        );
        o.str("ClientIP", &ip.to_string()).str("UserId", &u.upn);
        {
            let mut e = o.arr("ExtraProperties");
            e.obj().str("Key", "UserAgent").str("Value", user_agent);
        }
        if operation == "MessageSent" {
            o.str(
                "ChatThreadId",
                &format!(
                    "19:{}@thread.v2",
                    crate::rng::hex_upper(out.rng, 32).to_ascii_lowercase()
                ),
            )
            .str(
                "MessageId",
                &format!("{}", 1_700_000_000_000i64 + t % 100_000_000),
            );
        }
    }
    let range = fix_range(&buf, range, &id);
    out.push(t, RecordKind::UnifiedAudit, buf, range, None);
}

/// A Security & Compliance cmdlet record (RecordType 18).
pub(crate) fn compliance_cmdlet(
    out: &mut Out<'_>,
    t: i64,
    user: u32,
    ip: IpAddr,
    cmdlet: &str,
    object: &str,
    params: &str,
) {
    let tenant = out.tenant;
    let id = out.new_id();
    let u = &tenant.users[user as usize];
    let mut buf = Vec::with_capacity(900);
    let range;
    {
        let mut o = Obj::new(&mut buf);
        range = ual_head(
            &mut o,
            t,
            &id,
            cmdlet,
            &tenant.id,
            18,
            "Succeeded",
            &u.puid,
            2,
            "SecurityComplianceCenter",
        );
        o.str("ClientIP", &ip.to_string())
            .str("ObjectId", object)
            .str("UserId", &u.upn)
            .int("SecurityComplianceCenterEventType", 0)
            .str("ClientApplication", "EMC")
            .str("CmdletVersion", "")
            .str("EffectiveOrganization", &tenant.org_name)
            .str("Parameters", params)
            .with("StartTime", |b| {
                b.push(b'"');
                write_ual_time(b, t);
                b.push(b'"');
            })
            .str("ClientRequestId", &out.new_id())
            .str("UserServicePlan", "EOP_ENTERPRISE");
    }
    let range = fix_range(&buf, range, &id);
    out.push(t, RecordKind::UnifiedAudit, buf, range, None);
}

/// An eDiscovery record (RecordType 24, Discovery).
pub(crate) fn discovery(
    out: &mut Out<'_>,
    t: i64,
    user: u32,
    ip: IpAddr,
    operation: &str,
    search: &str,
    query: &str,
) {
    let tenant = out.tenant;
    let id = out.new_id();
    let u = &tenant.users[user as usize];
    let mut buf = Vec::with_capacity(800);
    let range;
    {
        let mut o = Obj::new(&mut buf);
        range = ual_head(
            &mut o,
            t,
            &id,
            operation,
            &tenant.id,
            24,
            "Succeeded",
            &u.puid,
            0,
            "SecurityComplianceCenter",
        );
        o.str("ClientIP", &ip.to_string())
            .str("ObjectId", search)
            .str("UserId", &u.upn)
            .str("Case", "")
            .str("ObjectType", "Search")
            .str("Query", query);
        {
            let mut e = o.arr("ExtendedProperties");
            e.name_value("SearchName", search);
        }
    }
    let range = fix_range(&buf, range, &id);
    out.push(t, RecordKind::UnifiedAudit, buf, range, None);
}
