//! Attack scenarios, written with the same activities ordinary people and apps use.
//!
//! Each scenario picks its victims, infrastructure and timing from its own random stream, starts
//! after the first fourteen days (the first half of shorter periods) so that detectors have a
//! baseline, and marks its activities with a label number. The label travels with the records
//! inside the generator only; nothing in the output carries it.

use std::collections::BTreeSet;
use std::net::IpAddr;

use rand::Rng;

use crate::activity::{Activity, AdminOp, ComplianceOp, DirOp, MailSession, Planned, modified};
use crate::clock::{DAY, HOUR, MINUTE};
use crate::config::{Scenario, TenantConfig};
use crate::net::{Endpoint, NetKind, providers_of, random_endpoint};
use crate::planner::{
    EXCHANGE, EXCHANGE_NAME, EXO_POWERSHELL, GRAPH, GRAPH_NAME, Slot, credential_added, slot_ua,
    sp_token,
};
use crate::records::{
    AdminCtx, DirTarget, Initiator, IpStyle, MailCtx, SignInSpec, TokenCtx, format_ip,
};
use crate::rng::{self, SimRng, guid, pick, stream, tag};
use crate::tenant::{APP_NAMES, Role, Tenant};

/// What a label says about one attack instance, before its records are known.
#[derive(Clone, Debug, Default)]
pub(crate) struct AttackPlan {
    pub(crate) scenario: Option<Scenario>,
    pub(crate) instance: String,
    pub(crate) description: String,
    pub(crate) users: BTreeSet<String>,
    pub(crate) mailboxes: BTreeSet<String>,
    pub(crate) apps: BTreeSet<String>,
    pub(crate) ips: BTreeSet<String>,
    pub(crate) sessions: BTreeSet<String>,
}

struct Attack<'a> {
    tenant: &'a Tenant,
    rng: SimRng,
    label: u32,
    acts: Vec<Planned>,
    plan: AttackPlan,
}

impl Attack<'_> {
    fn add(&mut self, start: i64, act: Activity) {
        let seed = self.rng.random();
        self.acts.push(Planned {
            start,
            label: self.label,
            seed,
            act,
        });
    }

    /// Adds activities planned by shared helpers, taking them over as part of this attack.
    fn adopt(&mut self, mut acts: Vec<Planned>) {
        for a in &mut acts {
            a.label = self.label;
        }
        self.acts.extend(acts);
    }

    fn ip(&mut self, ip: IpAddr) {
        self.plan.ips.insert(ip.to_string());
    }

    fn user(&mut self, u: u32) {
        self.plan
            .users
            .insert(self.tenant.users[u as usize].upn.clone());
    }

    fn mailbox(&mut self, m: u32) {
        self.plan
            .mailboxes
            .insert(self.tenant.mailboxes[m as usize].upn.clone());
    }
}

/// Infrastructure attackers rent: hosting, VPS and VPN providers — the same ones some staff use.
fn rented(rng: &mut SimRng) -> Endpoint {
    let mut all = providers_of(NetKind::Hosting);
    all.extend(providers_of(NetKind::Vpn));
    let p = *pick(rng, &all);
    random_endpoint(rng, p, 0.15)
}

const BROWSERS: &[&str] = &[
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0",
];

/// Plans every configured scenario. Returns the activities and one plan per attack instance,
/// indexed by label number.
pub(crate) fn plan_all(tenant: &Tenant, config: &TenantConfig) -> (Vec<Planned>, Vec<AttackPlan>) {
    let mut acts = Vec::new();
    let mut plans = Vec::new();
    for (i, &sc) in config.scenarios.iter().enumerate() {
        let label = plans.len() as u32;
        let mut a = Attack {
            tenant,
            rng: stream(config.seed, &[tag::SCENARIO, i as u64, sc as u64]),
            label,
            acts: Vec::new(),
            plan: AttackPlan {
                scenario: Some(sc),
                instance: format!("{}-1", sc.as_str()),
                ..AttackPlan::default()
            },
        };
        // After the 14 days `hunt` learns from by default, or on the last day of a shorter period.
        let earliest = config.start_day + i64::from(config.days.saturating_sub(1).min(14));
        let latest = (config.start_day + i64::from(config.days) - 1).max(earliest);
        let day = a.rng.random_range(earliest..=latest);
        match sc {
            Scenario::Storm0558 => storm(&mut a, day),
            Scenario::ConsentPhishing => consent(&mut a, day),
            Scenario::Aitm => aitm(&mut a, day),
            Scenario::EwsHarvest => harvest(&mut a, day),
            Scenario::FullAccessDelegation => fullaccess(&mut a, day),
            Scenario::EdiscoveryExport => ediscovery(&mut a, day),
            Scenario::PasswordSpray => spray(&mut a, day),
        }
        // Anything past the period is never logged; keep the plan honest.
        let end = config.end_time();
        a.acts.retain(|p| p.start < end);
        acts.extend(a.acts);
        plans.push(a.plan);
    }
    (acts, plans)
}

/// A working-hours instant for a user on `day`.
fn office_time(a: &mut Attack<'_>, user: u32, day: i64) -> i64 {
    let zone = a.tenant.users[user as usize].zone(a.tenant);
    let secs = a.rng.random_range(9 * HOUR..17 * HOUR);
    zone.utc(day, secs)
}

fn staff(a: &mut Attack<'_>) -> u32 {
    loop {
        let u = a.rng.random_range(0..a.tenant.users.len() as u32);
        if a.tenant.users[u as usize].role != Role::Admin {
            return u;
        }
    }
}

fn forged_token(
    a: &mut Attack<'_>,
    victim: u32,
    at: i64,
    consumer: bool,
    client: &str,
    name: &str,
) -> TokenCtx {
    let v = &a.tenant.users[victim as usize];
    let session = a.rng.random_bool(0.5).then(|| guid(&mut a.rng));
    if let Some(s) = &session {
        a.plan.sessions.insert(s.clone());
    }
    TokenCtx {
        unique_token_id: rng::token_id(&mut a.rng),
        aad_session: session,
        issued_at: at - a.rng.random_range(60..900),
        object_id: v.object_id.clone(),
        tenant_id: if consumer {
            mailtrail_event::MSA_CONSUMER_TENANT_ID.to_owned()
        } else {
            a.tenant.id.clone()
        },
        client_app_id: Some(client.to_owned()),
        client_app_name: Some(name.to_owned()),
    }
}

fn storm(a: &mut Attack<'_>, day: i64) {
    let tenant = a.tenant;
    let n = a
        .rng
        .random_range(1..=3usize)
        .min(tenant.executives.len().max(1));
    let mut victims: Vec<u32> = Vec::new();
    while victims.len() < n {
        let v = if !tenant.executives.is_empty() && a.rng.random_bool(0.7) {
            *pick(&mut a.rng, &tenant.executives)
        } else {
            staff(a)
        };
        if !victims.contains(&v) {
            victims.push(v);
        }
    }
    // Client ids every tenant sees reading mail through Exchange, here paired with Graph: a
    // combination this tenant's mail log has never contained.
    let clients: &[(&str, &str)] = &[
        ("d3590ed6-52b3-4102-aeff-aad2292ab01c", "Microsoft Office"),
        ("27922004-5251-4030-b22d-91ecd9a37ea4", "Outlook Mobile"),
        ("9199bf20-a13f-4107-85dc-02114787ef48", "One Outlook Web"),
        ("1fec8e78-bce4-4aaf-ab1b-5451cc387264", "Microsoft Teams"),
    ];
    let (client, client_name) = *pick(&mut a.rng, clients);
    let consumer = a.rng.random_bool(0.4);
    let owa = a.rng.random_bool(0.5);
    a.plan.apps.insert(client.to_owned());
    a.plan.description = format!(
        "Forged tokens{} read {} mailbox(es) through {} from rented servers, with no matching sign-in.",
        if consumer {
            " issued in the consumer (MSA) tenant"
        } else {
            ""
        },
        victims.len(),
        if owa {
            "Outlook on the web"
        } else {
            "the REST API"
        }
    );
    let visits = a.rng.random_range(2..=4);
    let mut t = day * DAY + a.rng.random_range(0..20 * HOUR);
    let mut vps = rented(&mut a.rng);
    for _ in 0..visits {
        if a.rng.random_bool(0.5) {
            vps = rented(&mut a.rng);
        }
        a.ip(vps.ip);
        for &v in &victims {
            a.user(v);
            a.mailbox(v);
            let start = t + a.rng.random_range(0..10 * MINUTE);
            let token = forged_token(a, v, start, consumer, client, client_name);
            let user = &tenant.users[v as usize];
            let session = guid(&mut a.rng);
            a.plan.sessions.insert(session.clone());
            let ctx = MailCtx {
                user_id: user.upn.clone(),
                user_key: user.puid.clone(),
                user_type: 0,
                logon_type: 0,
                logon_sid: user.sid.clone(),
                mailbox: v,
                client_ip: vps.ip.to_string(),
                client_info: if owa {
                    "Client=OWA;Action=ViaProxy".to_owned()
                } else {
                    "Client=REST;;".to_owned()
                },
                app_id: Some(GRAPH.to_owned()),
                client_app_id: client.to_owned(),
                session_id: session,
                token: Some(token),
                external: false,
            };
            let mut m = MailSession::new(ctx, start + a.rng.random_range(20..90) * MINUTE);
            m.binds = a.rng.random_range(40..250);
            m.bind_days = 30;
            m.login = owa;
            a.add(start, Activity::Mail(Box::new(m)));
        }
        t += a.rng.random_range(6 * HOUR..30 * HOUR);
    }
}

#[allow(clippy::too_many_arguments)]
fn user_signin(
    a: &mut Attack<'_>,
    user: u32,
    at: i64,
    slot: Slot,
    ep: &Endpoint,
    ua: &str,
    interactive: bool,
    session: &str,
    error: u32,
) -> String {
    let info = slot.info();
    let token = rng::token_id(&mut a.rng);
    let mfa = a.tenant.users[user as usize].mfa && error == 0;
    a.add(
        at,
        Activity::SignIn(Box::new(SignInSpec {
            t: at,
            user: Some(user),
            sp: None,
            unknown_upn: None,
            app_id: info.app_id.to_owned(),
            app_name: info.app_name.to_owned(),
            resource_id: info.resource_id.to_owned(),
            resource_name: info.resource_name.to_owned(),
            endpoint: ep.clone(),
            user_agent: ua.to_owned(),
            client_app_used: info.client_app_used,
            interactive,
            error,
            token_id: token.clone(),
            session_id: (error == 0).then(|| session.to_owned()),
            incoming: if interactive { "none" } else { "refreshToken" },
            mfa,
            device: None,
            ual: interactive || error != 0,
            protocol: if interactive { "none" } else { "oAuth2" },
        })),
    );
    token
}

fn consent(a: &mut Attack<'_>, day: i64) {
    let tenant = a.tenant;
    let victim = staff(a);
    let user = &tenant.users[victim as usize];
    let app_id = guid(&mut a.rng);
    let sp_id = guid(&mut a.rng);
    let name = (*pick(&mut a.rng, APP_NAMES)).to_owned();
    a.user(victim);
    a.mailbox(victim);
    a.plan.apps.insert(app_id.clone());
    a.plan.description = format!(
        "{} consented to the multi-tenant app \"{name}\" with mail scopes after a phishing mail; the app then read the mailbox through Microsoft Graph from hosting addresses.",
        user.upn
    );
    // The victim clicks at work, from where they usually are.
    let at = office_time(a, victim, day);
    let office = &tenant.offices[user.office];
    let ep = pick(&mut a.rng, &office.egress).clone();
    a.ip(ep.ip);
    let session = guid(&mut a.rng);
    a.plan.sessions.insert(session.clone());
    let ua = slot_ua(Slot::Owa, user).to_owned();
    let token = rng::token_id(&mut a.rng);
    a.add(
        at,
        Activity::SignIn(Box::new(SignInSpec {
            t: at,
            user: Some(victim),
            sp: None,
            unknown_upn: None,
            app_id: app_id.clone(),
            app_name: name.clone(),
            resource_id: GRAPH.to_owned(),
            resource_name: GRAPH_NAME.to_owned(),
            endpoint: ep.clone(),
            user_agent: ua.clone(),
            client_app_used: "Browser",
            interactive: true,
            error: 0,
            token_id: token,
            session_id: Some(session.clone()),
            incoming: "none",
            mfa: user.mfa,
            device: None,
            ual: true,
            protocol: "none",
        })),
    );
    let scope = "Mail.Read Mail.ReadBasic User.Read offline_access openid profile";
    let by = Initiator::User {
        user: victim,
        ip: ep.ip,
    };
    a.add(
        at + 8,
        Activity::Directory(Box::new(add_service_principal(
            &app_id,
            &sp_id,
            &name,
            &tenant.graph_sp,
        ))),
    );
    a.add(
        at + 9,
        Activity::Directory(Box::new(consent_op(
            by.clone(),
            &sp_id,
            &name,
            &app_id,
            &user.object_id,
            &tenant.graph_sp,
            scope,
            false,
        ))),
    );
    a.add(
        at + 9,
        Activity::Directory(Box::new(delegated_grant(
            by,
            &sp_id,
            &name,
            &tenant.graph_sp,
            scope,
        ))),
    );
    // The app's back end redeems the refresh token from its own servers and reads mail daily.
    let backend = rented(&mut a.rng);
    a.ip(backend.ip);
    let mut t = at + a.rng.random_range(5 * MINUTE..4 * HOUR);
    for k in 0..a.rng.random_range(2..=5) {
        let tok_id = rng::token_id(&mut a.rng);
        let issued = t - a.rng.random_range(1..20);
        a.add(
            issued,
            Activity::SignIn(Box::new(SignInSpec {
                t: issued,
                user: Some(victim),
                sp: None,
                unknown_upn: None,
                app_id: app_id.clone(),
                app_name: name.clone(),
                resource_id: GRAPH.to_owned(),
                resource_name: GRAPH_NAME.to_owned(),
                endpoint: backend.clone(),
                user_agent: String::new(),
                client_app_used: "Mobile Apps and Desktop clients",
                interactive: false,
                error: 0,
                token_id: tok_id.clone(),
                session_id: Some(session.clone()),
                incoming: "refreshToken",
                mfa: false,
                device: None,
                ual: false,
                protocol: "oAuth2",
            })),
        );
        let ctx = MailCtx {
            user_id: user.upn.clone(),
            user_key: user.puid.clone(),
            user_type: 0,
            logon_type: 0,
            logon_sid: user.sid.clone(),
            mailbox: victim,
            client_ip: backend.ip.to_string(),
            client_info: "Client=REST;;".to_owned(),
            app_id: Some(GRAPH.to_owned()),
            client_app_id: app_id.clone(),
            session_id: guid(&mut a.rng),
            token: Some(TokenCtx {
                unique_token_id: tok_id,
                aad_session: Some(session.clone()),
                issued_at: issued,
                object_id: user.object_id.clone(),
                tenant_id: tenant.id.clone(),
                client_app_id: Some(app_id.clone()),
                client_app_name: Some(name.clone()),
            }),
            external: false,
        };
        let mut m = MailSession::new(ctx, t + HOUR);
        if k == 0 {
            m.read_all_days = 21;
        } else {
            m.read_all_days = 1;
            m.read_yesterday_only = true;
        }
        m.read_rate = 3.0;
        a.add(t, Activity::Mail(Box::new(m)));
        t += a.rng.random_range(20 * HOUR..28 * HOUR);
    }
}

pub(crate) fn add_service_principal(
    app_id: &str,
    sp_id: &str,
    name: &str,
    graph_sp: &str,
) -> DirOp {
    DirOp {
        activity: "Add service principal",
        category: "ApplicationManagement",
        operation_type: "Add",
        by: Initiator::App {
            app_id: "00000003-0000-0000-c000-000000000000".to_owned(),
            name: "Microsoft Graph".to_owned(),
            sp_id: graph_sp.to_owned(),
        },
        targets: vec![DirTarget {
            id: sp_id.to_owned(),
            name: Some(name.to_owned()),
            kind: "ServicePrincipal",
            upn: None,
            modified: vec![
                modified("AccountEnabled", Some("[]"), "[true]"),
                modified("AppPrincipalId", Some("[]"), &format!("[\"{app_id}\"]")),
                modified("DisplayName", Some("[]"), &format!("[\"{name}\"]")),
                modified(
                    "ServicePrincipalName",
                    Some("[]"),
                    &format!("[\"{app_id}\"]"),
                ),
            ],
        }],
        details: vec![("AppId", app_id.to_owned())],
    }
}

#[allow(clippy::too_many_arguments)]
pub(crate) fn consent_op(
    by: Initiator,
    sp_id: &str,
    name: &str,
    app_id: &str,
    principal: &str,
    resource_sp: &str,
    scope: &str,
    admin: bool,
) -> DirOp {
    let perm = format!(
        "[] => [[Id: {}, ClientId: {sp_id}, PrincipalId: {}, ResourceId: {resource_sp}, ConsentType: {}, Scope: {scope}, CreatedDateTime: , LastModifiedDateTime ]]; ",
        &rng::base64_std(sp_id.as_bytes())[..43].replace(['+', '/'], "_"),
        if admin { "" } else { principal },
        if admin { "AllPrincipals" } else { "Principal" },
    );
    let tf = |b: bool| if b { "\"True\"" } else { "\"False\"" };
    DirOp {
        activity: "Consent to application",
        category: "ApplicationManagement",
        operation_type: "Assign",
        by,
        targets: vec![DirTarget {
            id: sp_id.to_owned(),
            name: Some(name.to_owned()),
            kind: "ServicePrincipal",
            upn: None,
            modified: vec![
                modified("ConsentContext.IsAdminConsent", None, tf(admin)),
                modified("ConsentContext.IsAppOnly", None, tf(false)),
                modified("ConsentContext.OnBehalfOfAll", None, tf(admin)),
                modified(
                    "ConsentContext.Tags",
                    None,
                    "\"WindowsAzureActiveDirectoryIntegratedApp\"",
                ),
                modified("ConsentAction.Permissions", None, &format!("\"{perm}\"")),
                modified(
                    "TargetId.ServicePrincipalNames",
                    None,
                    &format!("\"{app_id}\""),
                ),
            ],
        }],
        details: vec![("AppId", app_id.to_owned())],
    }
}

pub(crate) fn delegated_grant(
    by: Initiator,
    sp_id: &str,
    name: &str,
    resource_sp: &str,
    scope: &str,
) -> DirOp {
    DirOp {
        activity: "Add delegated permission grant",
        category: "ApplicationManagement",
        operation_type: "Assign",
        by,
        targets: vec![
            DirTarget {
                id: resource_sp.to_owned(),
                name: Some("Microsoft Graph".to_owned()),
                kind: "ServicePrincipal",
                upn: None,
                modified: vec![
                    modified(
                        "DelegatedPermissionGrant.Scope",
                        Some("\"\""),
                        &format!("\"{scope}\""),
                    ),
                    modified(
                        "DelegatedPermissionGrant.ClientId",
                        Some("\"\""),
                        &format!("\"{sp_id}\""),
                    ),
                ],
            },
            DirTarget {
                id: sp_id.to_owned(),
                name: Some(name.to_owned()),
                kind: "ServicePrincipal",
                upn: None,
                modified: Vec::new(),
            },
        ],
        details: Vec::new(),
    }
}

fn aitm(a: &mut Attack<'_>, day: i64) {
    let tenant = a.tenant;
    let victim = staff(a);
    let user = &tenant.users[victim as usize];
    a.user(victim);
    a.mailbox(victim);
    let proxy = rented(&mut a.rng);
    let mut replay = rented(&mut a.rng);
    while replay.provider == proxy.provider {
        replay = rented(&mut a.rng);
    }
    a.ip(proxy.ip);
    a.ip(replay.ip);
    let session = guid(&mut a.rng);
    a.plan.sessions.insert(session.clone());
    let external = format!(
        "{}.{}{}@{}",
        pick(&mut a.rng, &["accounts", "billing", "finance", "payments"]),
        user.display
            .split(' ')
            .next_back()
            .unwrap_or("x")
            .to_ascii_lowercase(),
        a.rng.random_range(10..99),
        pick(
            &mut a.rng,
            &["outlook.com", "gmail.com", "proton.me", "yahoo.com"]
        )
    );
    a.plan.description = format!(
        "{} signed in through an adversary-in-the-middle proxy; the stolen session was replayed from another network to read mail, hide replies with an inbox rule, forward mail to {external} and send a fraudulent payment request.",
        user.upn
    );
    let t0 = office_time(a, victim, day);
    // The victim's own browser, proxied: the proxy's address, the victim's user agent.
    let vua = slot_ua(Slot::Owa, user).to_owned();
    user_signin(a, victim, t0, Slot::Office, &proxy, &vua, true, &session, 0);
    let ua = (*pick(&mut a.rng, BROWSERS)).to_owned();
    let t1 = t0 + a.rng.random_range(10 * MINUTE..3 * HOUR);
    let tok = user_signin(a, victim, t1, Slot::Owa, &replay, &ua, false, &session, 0);
    let token = TokenCtx {
        unique_token_id: tok,
        aad_session: Some(session.clone()),
        issued_at: t1,
        object_id: user.object_id.clone(),
        tenant_id: tenant.id.clone(),
        client_app_id: Some(Slot::Owa.info().app_id.to_owned()),
        client_app_name: Some("One Outlook Web".to_owned()),
    };
    let xsession = guid(&mut a.rng);
    a.plan.sessions.insert(xsession.clone());
    let ctx = MailCtx {
        user_id: user.upn.clone(),
        user_key: user.puid.clone(),
        user_type: 0,
        logon_type: 0,
        logon_sid: user.sid.clone(),
        mailbox: victim,
        client_ip: replay.ip.to_string(),
        client_info: "Client=OWA;Action=ViaProxy".to_owned(),
        app_id: Some(EXCHANGE.to_owned()),
        client_app_id: Slot::Owa.info().app_id.to_owned(),
        session_id: xsession.clone(),
        token: Some(token.clone()),
        external: false,
    };
    let mut m = MailSession::new(ctx.clone(), t1 + a.rng.random_range(20..50) * MINUTE);
    m.login = true;
    m.binds = a.rng.random_range(15..60);
    m.bind_days = 14;
    a.add(t1 + 20, Activity::Mail(Box::new(m)));
    let admin = AdminCtx {
        user_id: user.upn.clone(),
        user_key: user.puid.clone(),
        user_type: 2,
        client_ip: format_ip(
            replay.ip,
            IpStyle::WithPort(a.rng.random_range(1025..65000)),
        ),
        app_id: EXCHANGE.to_owned(),
        session_id: xsession,
        token: Some(token),
        server: tenant.mailboxes[victim as usize].server.clone(),
    };
    let rule = (*pick(
        &mut a.rng,
        &[".", "..", "Receipts", "Archive", "RSS", "Mark alerts read"],
    ))
    .to_owned();
    let words = format!(
        "invoice;payment;wire;{}",
        pick(&mut a.rng, &["bank", "remittance", "transfer", "IBAN"])
    );
    let folder = (*pick(
        &mut a.rng,
        &["RSS Feeds", "Conversation History", "Archive"],
    ))
    .to_owned();
    let t2 = t1 + a.rng.random_range(5..40) * MINUTE;
    a.add(
        t2,
        Activity::Admin(Box::new(AdminOp {
            ctx: admin.clone(),
            cmdlet: "New-InboxRule",
            object: format!("{}\\{rule}", user.upn),
            params: vec![
                ("AlwaysDeleteOutlookRulesBlob", "False".to_owned()),
                ("Force", "False".to_owned()),
                ("Name", rule.clone()),
                ("SubjectOrBodyContainsWords", words),
                ("MoveToFolder", folder),
                ("MarkAsRead", "True".to_owned()),
                ("StopProcessingRules", "True".to_owned()),
            ],
        })),
    );
    let t3 = t2 + a.rng.random_range(2..30) * MINUTE;
    a.add(
        t3,
        Activity::Admin(Box::new(AdminOp {
            ctx: admin,
            cmdlet: "Set-Mailbox",
            object: user.upn.clone(),
            params: vec![
                ("Identity", user.upn.clone()),
                ("ForwardingSmtpAddress", format!("smtp:{external}")),
                ("DeliverToMailboxAndForward", "True".to_owned()),
            ],
        })),
    );
    let t4 = t3 + a.rng.random_range(10..120) * MINUTE;
    let mut send = MailSession::new(ctx, t4 + 10 * MINUTE);
    send.sends = a.rng.random_range(1..=3);
    send.send_subjects = vec![
        "RE: Updated bank details for outstanding invoice".to_owned(),
        "RE: Payment confirmation".to_owned(),
        "Invoice".to_owned(),
    ];
    a.add(t4, Activity::Mail(Box::new(send)));
}

fn harvest(a: &mut Attack<'_>, day: i64) {
    let tenant = a.tenant;
    let admin = *pick(&mut a.rng, &tenant.admins);
    let admin_user = &tenant.users[admin as usize];
    let existing = a.rng.random_bool(0.5);
    let vps = rented(&mut a.rng);
    a.ip(vps.ip);
    let key = guid(&mut a.rng);
    let t0 = office_time(a, admin, day);
    let (app_id, sp_id, name) = if existing {
        let app = &tenant.apps[a.rng.random_range(0..tenant.apps.len())];
        (app.app_id.clone(), app.sp_id.clone(), app.name.clone())
    } else {
        (
            guid(&mut a.rng),
            guid(&mut a.rng),
            (*pick(&mut a.rng, APP_NAMES)).to_owned(),
        )
    };
    a.plan.apps.insert(app_id.clone());
    a.user(admin);
    // A compromised administrator's session sets the app up from the attacker's server.
    let admin_ep = rented(&mut a.rng);
    a.ip(admin_ep.ip);
    let by = Initiator::User {
        user: admin,
        ip: admin_ep.ip,
    };
    if !existing {
        a.add(
            t0,
            Activity::Directory(Box::new(DirOp {
                activity: "Add application",
                category: "ApplicationManagement",
                operation_type: "Add",
                by: by.clone(),
                targets: vec![DirTarget {
                    id: app_id.clone(),
                    name: Some(name.clone()),
                    kind: "Application",
                    upn: None,
                    modified: vec![
                        modified("AppId", Some("[]"), &format!("[\"{app_id}\"]")),
                        modified("AvailableToOtherTenants", Some("[]"), "[false]"),
                        modified("DisplayName", Some("[]"), &format!("[\"{name}\"]")),
                    ],
                }],
                details: vec![("AppId", app_id.clone())],
            })),
        );
        a.add(
            t0 + 2,
            Activity::Directory(Box::new(add_service_principal(
                &app_id,
                &sp_id,
                &name,
                &tenant.graph_sp,
            ))),
        );
        a.add(
            t0 + 90,
            Activity::Directory(Box::new(DirOp {
                activity: "Add app role assignment to service principal",
                category: "ApplicationManagement",
                operation_type: "Assign",
                by: by.clone(),
                targets: vec![
                    DirTarget {
                        id: tenant.exchange_sp.clone(),
                        name: Some(EXCHANGE_NAME.to_owned()),
                        kind: "ServicePrincipal",
                        upn: None,
                        modified: vec![
                            modified("AppRole.Value", None, "\"full_access_as_app\""),
                            modified("ServicePrincipal.DisplayName", None, &format!("\"{name}\"")),
                            modified("ServicePrincipal.AppId", None, &format!("\"{app_id}\"")),
                        ],
                    },
                    DirTarget {
                        id: sp_id.clone(),
                        name: Some(name.clone()),
                        kind: "ServicePrincipal",
                        upn: None,
                        modified: Vec::new(),
                    },
                ],
                details: Vec::new(),
            })),
        );
    }
    let key_name = format!("key{}", a.rng.random_range(1..9));
    a.add(
        t0 + 180,
        Activity::Directory(Box::new(credential_added(
            admin,
            admin_ep.ip,
            &app_id,
            &name,
            &key,
            &key_name,
        ))),
    );
    let n = tenant.mailboxes.len();
    let targets = a.rng.random_range(n.min(15)..=n.min(120));
    a.plan.description = format!(
        "{} application \"{name}\" was given a new client secret by {}'s account from a rented server, then read {targets} mailboxes through EWS with app-only access.",
        if existing {
            "The existing"
        } else {
            "A newly registered"
        },
        admin_user.upn
    );
    let mut t = t0 + a.rng.random_range(30 * MINUTE..6 * HOUR);
    let mut token: Option<TokenCtx> = None;
    let mut pending = Vec::new();
    let ua = *pick(
        &mut a.rng,
        &[
            "Client=WebServices;ExchangeServicesClient/15.0.913.15;",
            "Client=WebServices;ExchangeServicesClient/15.0.1497.5;",
        ],
    );
    // The biggest mailboxes are pulled first, with many parallel connections, which is what
    // makes Exchange throttle them.
    let mut by_size: Vec<u32> = (0..n as u32).collect();
    by_size.sort_by(|x, y| {
        let size = |m: &u32| tenant.mailboxes[*m as usize].daily_mail;
        size(y).total_cmp(&size(x))
    });
    for k in 0..targets {
        let mb = if let Some(&big) = by_size.get(k).filter(|_| k < 2) {
            big
        } else {
            a.rng.random_range(0..n as u32)
        };
        if token
            .as_ref()
            .is_none_or(|tok| t - tok.issued_at > 50 * MINUTE)
        {
            token = Some(sp_token(
                &mut a.rng,
                tenant,
                &app_id,
                &name,
                &sp_id,
                &key,
                EXCHANGE,
                EXCHANGE_NAME,
                &vps,
                t,
                &mut pending,
            ));
        }
        let Some(tok) = token.clone() else { continue };
        a.mailbox(mb);
        let mbx = &tenant.mailboxes[mb as usize];
        let session = guid(&mut a.rng);
        let ctx = MailCtx {
            user_id: mbx.upn.clone(),
            user_key: mbx.puid.clone(),
            user_type: 0,
            logon_type: 0,
            logon_sid: mbx.sid.clone(),
            mailbox: mb,
            client_ip: vps.ip.to_string(),
            client_info: ua.to_owned(),
            app_id: Some(EXCHANGE.to_owned()),
            client_app_id: app_id.clone(),
            session_id: session,
            token: Some(tok),
            external: false,
        };
        let mut m = MailSession::new(ctx, t + 30 * MINUTE);
        m.read_all_days = 30;
        m.parallel = if k < 2 { 48 } else { 1 };
        m.read_rate = if k < 2 { 1.0 / 150.0 } else { 6.0 };
        a.add(t, Activity::Mail(Box::new(m)));
        t += a.rng.random_range(20..240);
    }
    a.adopt(pending);
}

fn fullaccess(a: &mut Attack<'_>, day: i64) {
    let tenant = a.tenant;
    let admin = *pick(&mut a.rng, &tenant.admins);
    let grantee = staff(a);
    // An executive's mailbox when there is one other than the grantee's.
    let executives: Vec<u32> = tenant
        .executives
        .iter()
        .copied()
        .filter(|&e| e != grantee)
        .collect();
    let target = if executives.is_empty() {
        loop {
            let t = staff(a);
            if t != grantee {
                break t;
            }
        }
    } else {
        *pick(&mut a.rng, &executives)
    };
    let admin_user = &tenant.users[admin as usize];
    let g = &tenant.users[grantee as usize];
    let tu = &tenant.users[target as usize];
    a.user(admin);
    a.user(grantee);
    a.mailbox(target);
    a.plan.description = format!(
        "{}'s account granted {} FullAccess to {}'s mailbox, which {} then read through Outlook on the web.",
        admin_user.upn, g.upn, tu.upn, g.upn
    );
    let t0 = office_time(a, admin, day);
    let office = &tenant.offices[admin_user.office];
    let ep = pick(&mut a.rng, &office.egress).clone();
    a.ip(ep.ip);
    let session = guid(&mut a.rng);
    let tok = user_signin(
        a,
        admin,
        t0 - 30,
        Slot::ExoPowerShell,
        &ep,
        slot_ua(Slot::ExoPowerShell, admin_user),
        false,
        &session,
        0,
    );
    let ctx = AdminCtx {
        user_id: admin_user.upn.clone(),
        user_key: admin_user.puid.clone(),
        user_type: 2,
        client_ip: format_ip(ep.ip, IpStyle::WithPort(a.rng.random_range(1025..65000))),
        app_id: EXO_POWERSHELL.to_owned(),
        session_id: guid(&mut a.rng),
        token: Some(TokenCtx {
            unique_token_id: tok,
            aad_session: Some(session.clone()),
            issued_at: t0 - 30,
            object_id: admin_user.object_id.clone(),
            tenant_id: tenant.id.clone(),
            client_app_id: None,
            client_app_name: None,
        }),
        server: tenant.mailboxes[admin as usize].server.clone(),
    };
    a.plan.sessions.insert(session);
    a.add(
        t0,
        Activity::Admin(Box::new(AdminOp {
            ctx,
            cmdlet: "Add-MailboxPermission",
            object: tu.upn.clone(),
            params: vec![
                ("Identity", tu.upn.clone()),
                ("User", g.upn.clone()),
                ("AccessRights", "FullAccess".to_owned()),
                ("InheritanceType", "All".to_owned()),
                ("AutoMapping", "False".to_owned()),
            ],
        })),
    );
    // The grantee reads the mailbox over the next days, from their usual places.
    let mut t = t0 + a.rng.random_range(30 * MINUTE..20 * HOUR);
    let gep = tenant.offices[g.office].egress[0].clone();
    a.ip(gep.ip);
    let gsession = guid(&mut a.rng);
    a.plan.sessions.insert(gsession.clone());
    let ua = slot_ua(Slot::Owa, g).to_owned();
    for _ in 0..a.rng.random_range(2..=4) {
        let tok = user_signin(
            a,
            grantee,
            t - 10,
            Slot::Owa,
            &gep,
            &ua,
            false,
            &gsession,
            0,
        );
        let ctx = MailCtx {
            user_id: g.upn.clone(),
            user_key: g.puid.clone(),
            user_type: 0,
            logon_type: 2,
            logon_sid: g.sid.clone(),
            mailbox: target,
            client_ip: gep.ip.to_string(),
            client_info: "Client=OWA;Action=ViaProxy".to_owned(),
            app_id: Some(EXCHANGE.to_owned()),
            client_app_id: Slot::Owa.info().app_id.to_owned(),
            session_id: guid(&mut a.rng),
            token: Some(TokenCtx {
                unique_token_id: tok,
                aad_session: Some(gsession.clone()),
                issued_at: t - 10,
                object_id: g.object_id.clone(),
                tenant_id: tenant.id.clone(),
                client_app_id: Some(Slot::Owa.info().app_id.to_owned()),
                client_app_name: Some("One Outlook Web".to_owned()),
            }),
            external: false,
        };
        let mut m = MailSession::new(ctx, t + a.rng.random_range(10..45) * MINUTE);
        m.binds = a.rng.random_range(20..80);
        m.bind_days = 20;
        a.add(t, Activity::Mail(Box::new(m)));
        t += a.rng.random_range(3 * HOUR..30 * HOUR);
    }
}

fn ediscovery(a: &mut Attack<'_>, day: i64) {
    let tenant = a.tenant;
    // An administrator who has never run a search.
    let actor = *pick(&mut a.rng, &tenant.admins);
    let u = &tenant.users[actor as usize];
    a.user(actor);
    let ep = rented(&mut a.rng);
    a.ip(ep.ip);
    let t0 = day * DAY + a.rng.random_range(0..24 * HOUR);
    let session = guid(&mut a.rng);
    a.plan.sessions.insert(session.clone());
    let ua = (*pick(&mut a.rng, BROWSERS)).to_owned();
    user_signin(a, actor, t0 - 60, Slot::Office, &ep, &ua, true, &session, 0);
    let name = format!(
        "{} {}",
        pick(&mut a.rng, &["Hold review", "Audit", "Review", "Search"]),
        a.rng.random_range(100..999)
    );
    let all = a.rng.random_bool(0.6);
    let locations = if all {
        "All".to_owned()
    } else {
        tenant.users[*pick(&mut a.rng, &tenant.executives) as usize]
            .upn
            .clone()
    };
    if !all {
        a.plan.mailboxes.insert(locations.clone());
    }
    a.plan.description = format!(
        "{} created, started and exported a compliance search over {} and downloaded the export, from a rented server; the account had never run a search.",
        u.upn,
        if all {
            "every mailbox".to_owned()
        } else {
            locations.clone()
        }
    );
    let query = (*pick(
        &mut a.rng,
        &[
            "password OR credentials",
            "wire transfer",
            "merger OR acquisition",
            "confidential",
        ],
    ))
    .to_owned();
    a.add(
        t0,
        Activity::Compliance(Box::new(ComplianceOp {
            user: actor,
            ip: ep.ip,
            name,
            query,
            locations,
            export: true,
        })),
    );
}

fn spray(a: &mut Attack<'_>, day: i64) {
    let tenant = a.tenant;
    let n_ips = a.rng.random_range(1..=3);
    let ips: Vec<Endpoint> = (0..n_ips).map(|_| rented(&mut a.rng)).collect();
    for e in &ips {
        a.ip(e.ip);
    }
    let n = tenant.users.len() as u32;
    let targets = a.rng.random_range(n.min(10)..=n.min(200));
    // The success lands on someone without MFA.
    let victim = (0..n)
        .find(|&u| !tenant.users[u as usize].mfa && tenant.users[u as usize].role != Role::Admin)
        .unwrap_or_else(|| staff(a));
    let mut t = day * DAY + a.rng.random_range(0..18 * HOUR);
    let ua = (*pick(&mut a.rng, BROWSERS)).to_owned();
    let mut victim_done = false;
    for k in 0..targets {
        let u = if k == targets / 2 {
            victim
        } else {
            a.rng.random_range(0..n)
        };
        let ep = ips[k as usize % ips.len()].clone();
        let ok = u == victim && !victim_done;
        a.user(u);
        let code = if ok {
            0
        } else if a.rng.random_bool(0.03) {
            50053
        } else {
            50126
        };
        let session = guid(&mut a.rng);
        user_signin(a, u, t, Slot::Office, &ep, &ua, true, &session, code);
        if ok {
            victim_done = true;
            a.plan.sessions.insert(session.clone());
            let vu = &tenant.users[u as usize];
            let t1 = t + a.rng.random_range(2..30) * MINUTE;
            let tok = user_signin(a, u, t1, Slot::Owa, &ep, &ua, true, &session, 0);
            a.mailbox(u);
            let ctx = MailCtx {
                user_id: vu.upn.clone(),
                user_key: vu.puid.clone(),
                user_type: 0,
                logon_type: 0,
                logon_sid: vu.sid.clone(),
                mailbox: u,
                client_ip: ep.ip.to_string(),
                client_info: "Client=OWA;Action=ViaProxy".to_owned(),
                app_id: Some(EXCHANGE.to_owned()),
                client_app_id: Slot::Owa.info().app_id.to_owned(),
                session_id: guid(&mut a.rng),
                token: Some(TokenCtx {
                    unique_token_id: tok,
                    aad_session: Some(session),
                    issued_at: t1,
                    object_id: vu.object_id.clone(),
                    tenant_id: tenant.id.clone(),
                    client_app_id: Some(Slot::Owa.info().app_id.to_owned()),
                    client_app_name: Some("One Outlook Web".to_owned()),
                }),
                external: false,
            };
            let mut m = MailSession::new(ctx, t1 + a.rng.random_range(15..60) * MINUTE);
            m.login = true;
            m.binds = a.rng.random_range(20..100);
            m.bind_days = 30;
            a.add(t1 + 15, Activity::Mail(Box::new(m)));
            a.plan.description = format!(
                "A password spray from {n_ips} address(es) tried {targets} accounts; {} had no MFA, its password worked and the mailbox was read.",
                vu.upn
            );
        }
        t += a.rng.random_range(5..90);
    }
}
