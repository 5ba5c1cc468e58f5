//! Activities: units of behaviour that expand into records.
//!
//! The planner (benign people and apps) and the scenarios (attackers) both describe what happens as
//! [`Activity`] values; expansion turns each into records with Exchange's semantics —
//! `MailItemsAccessed` Bind aggregated per two-minute window and context, Sync one record per
//! folder and at most once an hour per context, duplicate Binds of the same message within an hour
//! filtered out. Attacks are not written by special code, so they look exactly like what they are:
//! the same kinds of activity with different actors, networks and timing.

use std::collections::HashMap;
use std::net::IpAddr;

use rand::Rng;

use crate::clock::{DAY, HOUR, MINUTE};
use crate::records::{
    self, AdminCtx, DirTarget, FolderRead, Initiator, ItemInfo, MailCtx, Out, SignInSpec,
};
use crate::rng::{pick, poisson};
use crate::tenant::{ARCHIVE, CALENDAR, DELETED, DRAFTS, INBOX, SENT};

/// A planned activity: when it starts, which attack (if any) it belongs to, and what it is.
#[derive(Debug)]
pub(crate) struct Planned {
    pub(crate) start: i64,
    pub(crate) label: u32,
    pub(crate) seed: u64,
    pub(crate) act: Activity,
}

/// What happens.
#[derive(Debug)]
pub(crate) enum Activity {
    SignIn(Box<SignInSpec>),
    Mail(Box<MailSession>),
    Admin(Box<AdminOp>),
    Directory(Box<DirOp>),
    Files(Box<FileBurst>),
    Teams(Box<TeamsBurst>),
    Compliance(Box<ComplianceOp>),
}

/// A client (or app) working on one mailbox for a while.
#[derive(Debug, Clone)]
pub(crate) struct MailSession {
    pub(crate) ctx: MailCtx,
    pub(crate) end: i64,
    /// Messages opened one by one (Bind), spread over the session.
    pub(crate) binds: u32,
    /// How many days back opened messages come from.
    pub(crate) bind_days: u32,
    /// Read every message received in the last `n` days, as fast as the client can (backups,
    /// harvesting). Zero for interactive use.
    pub(crate) read_all_days: u32,
    /// Only messages of the day before (incremental backup).
    pub(crate) read_yesterday_only: bool,
    /// Parallel connections used by `read_all_days`, each its own Exchange session.
    pub(crate) parallel: u32,
    /// Messages per second per connection when reading everything.
    pub(crate) read_rate: f64,
    /// Folders synchronised at the start (Outlook desktop).
    pub(crate) syncs: Vec<usize>,
    /// Re-synchronise the inbox at this interval (Outlook desktop keeps it current).
    pub(crate) inbox_resync: Option<i64>,
    pub(crate) sends: u32,
    pub(crate) creates: u32,
    pub(crate) updates: u32,
    pub(crate) deletes: u32,
    pub(crate) soft_deletes: u32,
    pub(crate) hard_deletes: u32,
    pub(crate) login: bool,
    /// Subjects of sends, when the planner wants particular ones (otherwise drawn at random).
    pub(crate) send_subjects: Vec<String>,
}

impl MailSession {
    pub(crate) fn new(ctx: MailCtx, end: i64) -> Self {
        Self {
            ctx,
            end,
            binds: 0,
            bind_days: 2,
            read_all_days: 0,
            read_yesterday_only: false,
            parallel: 1,
            read_rate: 2.0,
            syncs: Vec::new(),
            inbox_resync: None,
            sends: 0,
            creates: 0,
            updates: 0,
            deletes: 0,
            soft_deletes: 0,
            hard_deletes: 0,
            login: false,
            send_subjects: Vec::new(),
        }
    }
}

/// An Exchange admin cmdlet.
#[derive(Debug)]
pub(crate) struct AdminOp {
    pub(crate) ctx: AdminCtx,
    pub(crate) cmdlet: &'static str,
    pub(crate) object: String,
    pub(crate) params: Vec<(&'static str, String)>,
}

/// An Entra ID directory change.
#[derive(Debug)]
pub(crate) struct DirOp {
    pub(crate) activity: &'static str,
    pub(crate) category: &'static str,
    pub(crate) operation_type: &'static str,
    pub(crate) by: Initiator,
    pub(crate) targets: Vec<DirTarget>,
    pub(crate) details: Vec<(&'static str, String)>,
}

/// Someone working with SharePoint / OneDrive files for a while.
#[derive(Debug)]
pub(crate) struct FileBurst {
    pub(crate) user: u32,
    pub(crate) ip: IpAddr,
    pub(crate) user_agent: String,
    pub(crate) files: u32,
    pub(crate) end: i64,
}

/// Someone using Teams for a while.
#[derive(Debug)]
pub(crate) struct TeamsBurst {
    pub(crate) user: u32,
    pub(crate) ip: IpAddr,
    pub(crate) user_agent: String,
    pub(crate) messages: u32,
    pub(crate) end: i64,
    pub(crate) session_start: bool,
}

/// A content search: created, started, optionally previewed or exported, and downloaded.
#[derive(Debug)]
pub(crate) struct ComplianceOp {
    pub(crate) user: u32,
    pub(crate) ip: IpAddr,
    pub(crate) name: String,
    pub(crate) query: String,
    pub(crate) locations: String,
    pub(crate) export: bool,
}

const SUBJECT_A: &[&str] = &[
    "Re:",
    "RE:",
    "Fwd:",
    "",
    "",
    "",
    "Re: Re:",
    "FW:",
    "Accepted:",
    "",
];
const SUBJECT_B: &[&str] = &[
    "Q3 forecast",
    "Project update",
    "Invoice",
    "Meeting notes",
    "Contract draft",
    "Budget review",
    "Weekly sync",
    "Travel plans",
    "Customer escalation",
    "Hiring plan",
    "Board deck",
    "Quarterly report",
    "Supplier onboarding",
    "Release schedule",
    "Team offsite",
    "Expense report",
    "Proposal",
    "Purchase order",
    "Training",
    "Follow-up",
    "Office move",
    "Roadmap",
];

fn subject(rng: &mut impl Rng) -> String {
    let a = pick(rng, SUBJECT_A);
    let b = pick(rng, SUBJECT_B);
    if a.is_empty() {
        (*b).to_owned()
    } else {
        format!("{a} {b}")
    }
}

impl Planned {
    /// Writes this activity's records.
    pub(crate) fn expand(&self, out: &mut Out<'_>) {
        match &self.act {
            Activity::SignIn(s) => records::sign_in(out, s),
            Activity::Mail(m) => expand_mail(out, self.start, m),
            Activity::Admin(a) => {
                records::exchange_admin(
                    out,
                    self.start,
                    &a.ctx,
                    a.cmdlet,
                    &a.object,
                    &a.params,
                    &[],
                );
            }
            Activity::Directory(d) => records::directory_audit(
                out,
                self.start,
                d.activity,
                d.category,
                d.operation_type,
                &d.by,
                &d.targets,
                &d.details,
            ),
            Activity::Files(f) => expand_files(out, self.start, f),
            Activity::Teams(t) => expand_teams(out, self.start, t),
            Activity::Compliance(c) => expand_compliance(out, self.start, c),
        }
    }
}

/// Groups individual message opens into `MailItemsAccessed` Bind records: one per context per
/// two-minute window, listing each folder's messages.
struct BindAggregator {
    window_start: i64,
    folders: Vec<FolderRead>,
    count: u32,
}

impl BindAggregator {
    fn new() -> Self {
        Self {
            window_start: i64::MIN,
            folders: Vec::new(),
            count: 0,
        }
    }

    fn add(
        &mut self,
        out: &mut Out<'_>,
        ctx: &MailCtx,
        t: i64,
        folder: usize,
        id: String,
        size: u32,
    ) {
        if t >= self.window_start + 2 * MINUTE {
            self.flush(out, ctx);
            self.window_start = t;
        }
        match self.folders.iter_mut().find(|(f, _)| *f == folder) {
            Some((_, items)) => items.push((id, size)),
            None => self.folders.push((folder, vec![(id, size)])),
        }
        self.count += 1;
    }

    fn flush(&mut self, out: &mut Out<'_>, ctx: &MailCtx) {
        if self.count > 0 {
            records::mail_items_accessed(
                out,
                self.window_start,
                ctx,
                false,
                self.count,
                &self.folders,
            );
        }
        self.folders.clear();
        self.count = 0;
    }
}

fn expand_mail(out: &mut Out<'_>, start: i64, m: &MailSession) {
    let tenant = out.tenant;
    let ctx = &m.ctx;
    let mbx = ctx.mailbox;
    let n_folders = tenant.mailboxes[mbx as usize].folders.len();
    let mut t = start;
    if m.login {
        records::mailbox_item(out, t, ctx, "MailboxLogin", None, &[]);
    }
    // Sync: one record per folder; the same folder is not logged again within the hour.
    let mut last_sync: HashMap<usize, i64> = HashMap::new();
    for &f in &m.syncs {
        if f >= n_folders {
            continue;
        }
        t += out.rng.random_range(0..4);
        records::mail_items_accessed(out, t, ctx, true, 1, &[(f, Vec::new())]);
        last_sync.insert(f, t);
    }
    if let Some(every) = m.inbox_resync {
        let mut r = start + every + out.rng.random_range(0..10 * MINUTE);
        while r < m.end {
            if last_sync.get(&INBOX).is_none_or(|&l| r - l >= HOUR) {
                records::mail_items_accessed(out, r, ctx, true, 1, &[(INBOX, Vec::new())]);
                last_sync.insert(INBOX, r);
            }
            r += every + out.rng.random_range(0..10 * MINUTE);
        }
    }

    let day = start.div_euclid(DAY);
    // Binds: individual opens at random moments, duplicates within an hour filtered out.
    if m.binds > 0 {
        let span = (m.end - start).max(60);
        let mut times: Vec<i64> = (0..m.binds)
            .map(|_| start + out.rng.random_range(0..span))
            .collect();
        times.sort_unstable();
        let mut seen: HashMap<String, i64> = HashMap::new();
        let mut agg = BindAggregator::new();
        for bt in times {
            let back = if m.bind_days == 0 {
                0
            } else {
                out.rng.random_range(0..=m.bind_days) as i64
            };
            // Most reads are of today's mail.
            let d = if out.rng.random_bool(0.65) {
                day
            } else {
                day - back
            };
            let count = tenant.mail_count(mbx, d);
            if count == 0 {
                continue;
            }
            let n = out.rng.random_range(0..count);
            let msg = tenant.message(mbx, d, n);
            if seen.get(&msg.id).is_some_and(|&last| bt - last < HOUR) {
                continue;
            }
            seen.insert(msg.id.clone(), bt);
            agg.add(out, ctx, bt, msg.folder, msg.id, msg.size);
        }
        agg.flush(out, ctx);
    }

    // Reading everything: backups, archivers, harvesting tools.
    if m.read_all_days > 0 {
        let parallel = m.parallel.max(1);
        let mut ctxs: Vec<MailCtx> = Vec::with_capacity(parallel as usize);
        for i in 0..parallel {
            let mut c = ctx.clone();
            if i > 0 {
                c.session_id = out.new_id();
            }
            ctxs.push(c);
        }
        let mut aggs: Vec<BindAggregator> = (0..parallel).map(|_| BindAggregator::new()).collect();
        let mut clocks: Vec<f64> = (0..parallel)
            .map(|i| (start + i64::from(i) * 3) as f64)
            .collect();
        let first_day = if m.read_yesterday_only {
            day - 1
        } else {
            day - i64::from(m.read_all_days) + 1
        };
        let last_day = if m.read_yesterday_only { day - 1 } else { day };
        let mut k = 0usize;
        for d in first_day..=last_day {
            let count = tenant.mail_count(mbx, d);
            for n in 0..count {
                let lane = k % parallel as usize;
                k += 1;
                clocks[lane] += 1.0 / m.read_rate * out.rng.random_range(0.5..1.5);
                let bt = clocks[lane] as i64;
                let msg = tenant.message(mbx, d, n);
                aggs[lane].add(out, &ctxs[lane], bt, msg.folder, msg.id, msg.size);
            }
        }
        for (agg, c) in aggs.iter_mut().zip(&ctxs) {
            agg.flush(out, c);
        }
    }

    // Other mailbox operations at random moments in the session.
    let span = (m.end - start).max(60);
    for i in 0..m.sends {
        let st = start + out.rng.random_range(0..span);
        let msg = tenant.sent_message(mbx, day, i + (st as u32 % 997) * 50);
        let subj = m
            .send_subjects
            .get(i as usize)
            .cloned()
            .unwrap_or_else(|| subject(out.rng));
        let attach = out.rng.random_bool(0.2).then(|| {
            format!(
                "{} ({} b)",
                pick(
                    out.rng,
                    &[
                        "report.pdf",
                        "notes.docx",
                        "figures.xlsx",
                        "scan.pdf",
                        "slides.pptx"
                    ]
                ),
                msg.size / 2
            )
        });
        let item = ItemInfo {
            message_id: Some(msg.id),
            folder: SENT,
            subject: subj,
            size: msg.size,
            attachments: attach,
        };
        records::mailbox_item(out, st, ctx, "Send", Some(&item), &[]);
    }
    for _ in 0..m.creates {
        let st = start + out.rng.random_range(0..span);
        let folder = if out.rng.random_bool(0.5) {
            DRAFTS
        } else {
            CALENDAR
        };
        let item = ItemInfo {
            message_id: None,
            folder,
            subject: subject(out.rng),
            size: out.rng.random_range(2_000..40_000),
            attachments: None,
        };
        records::mailbox_item(out, st, ctx, "Create", Some(&item), &[]);
    }
    for _ in 0..m.updates {
        let st = start + out.rng.random_range(0..span);
        let folder = if out.rng.random_bool(0.6) {
            CALENDAR
        } else {
            DRAFTS
        };
        let item = ItemInfo {
            message_id: None,
            folder,
            subject: subject(out.rng),
            size: out.rng.random_range(2_000..40_000),
            attachments: None,
        };
        records::mailbox_item(out, st, ctx, "Update", Some(&item), &[]);
    }
    let group = |out: &mut Out<'_>, n: u32, op: &str, from: usize, to: Option<usize>| {
        for _ in 0..n {
            let st = start + out.rng.random_range(0..span);
            let k = 1 + poisson(out.rng, 0.6);
            let items: Vec<ItemInfo> = (0..k)
                .filter_map(|_| {
                    let d = day - out.rng.random_range(0..3i64);
                    let count = tenant.mail_count(mbx, d);
                    (count > 0).then(|| {
                        let msg = tenant.message(mbx, d, out.rng.random_range(0..count));
                        ItemInfo {
                            message_id: Some(msg.id),
                            folder: from,
                            subject: subject(out.rng),
                            size: msg.size,
                            attachments: None,
                        }
                    })
                })
                .collect();
            if !items.is_empty() {
                records::mailbox_group(out, st, ctx, op, from, to, &items);
            }
        }
    };
    group(out, m.deletes, "MoveToDeletedItems", INBOX, Some(DELETED));
    group(out, m.soft_deletes, "SoftDelete", DELETED, None);
    group(
        out,
        m.hard_deletes,
        "HardDelete",
        if m.hard_deletes.is_multiple_of(2) {
            DELETED
        } else {
            ARCHIVE
        },
        None,
    );
}

const SITES: &[&str] = &[
    "Finance",
    "Marketing",
    "Engineering",
    "HR",
    "Sales",
    "Legal",
    "Operations",
    "Projects",
];
const DOCS: &[&str] = &[
    "Budget 2026.xlsx",
    "Roadmap.pptx",
    "Policy.docx",
    "Onboarding.docx",
    "Pipeline.xlsx",
    "Minutes.docx",
    "Design spec.docx",
    "Pricing.xlsx",
    "Contract template.docx",
    "Report.pdf",
];

fn expand_files(out: &mut Out<'_>, start: i64, f: &FileBurst) {
    let tenant = out.tenant;
    let host = tenant.domain.split('.').next().unwrap_or("tenant");
    let span = (f.end - start).max(60);
    for _ in 0..f.files {
        let t = start + out.rng.random_range(0..span);
        let onedrive = out.rng.random_bool(0.35);
        let (site, path) = if onedrive {
            let u = &tenant.users[f.user as usize];
            let personal = u.upn.replace(['@', '.'], "_");
            (
                format!("https://{host}-my.sharepoint.com/personal/{personal}"),
                format!("Documents/{}", pick(out.rng, DOCS)),
            )
        } else {
            (
                format!(
                    "https://{host}.sharepoint.com/sites/{}",
                    pick(out.rng, SITES)
                ),
                format!("Shared Documents/{}", pick(out.rng, DOCS)),
            )
        };
        let op = match out.rng.random_range(0..10) {
            0..=6 => "FileAccessed",
            7..=8 => "FileModified",
            _ => "FileDownloaded",
        };
        records::file_operation(
            out,
            t,
            f.user,
            f.ip,
            &f.user_agent,
            op,
            &site,
            &path,
            onedrive,
        );
    }
}

fn expand_teams(out: &mut Out<'_>, start: i64, b: &TeamsBurst) {
    if b.session_start {
        records::teams(
            out,
            start,
            b.user,
            b.ip,
            &b.user_agent,
            "TeamsSessionStarted",
        );
    }
    let span = (b.end - start).max(60);
    for _ in 0..b.messages {
        let t = start + out.rng.random_range(0..span);
        records::teams(out, t, b.user, b.ip, &b.user_agent, "MessageSent");
    }
}

fn expand_compliance(out: &mut Out<'_>, start: i64, c: &ComplianceOp) {
    let mut t = start;
    let params = format!(
        "-Name \"{}\" -ExchangeLocation \"{}\" -ContentMatchQuery \"{}\"",
        c.name,
        c.locations,
        c.query.replace('"', "'")
    );
    records::compliance_cmdlet(
        out,
        t,
        c.user,
        c.ip,
        "New-ComplianceSearch",
        &c.name,
        &params,
    );
    records::discovery(out, t + 1, c.user, c.ip, "SearchCreated", &c.name, &c.query);
    t += out.rng.random_range(20..240);
    records::compliance_cmdlet(
        out,
        t,
        c.user,
        c.ip,
        "Start-ComplianceSearch",
        &c.name,
        &format!("-Identity \"{}\"", c.name),
    );
    records::discovery(out, t + 1, c.user, c.ip, "SearchStarted", &c.name, &c.query);
    t += out.rng.random_range(300..1800);
    if c.export {
        let action = format!("{}_Export", c.name);
        let p = format!(
            "-SearchName \"{}\" -Export -Format \"FxStream\" -ExchangeArchiveFormat \"PerUserPst\" -Scope \"IndexedItemsOnly\"",
            c.name
        );
        records::compliance_cmdlet(
            out,
            t,
            c.user,
            c.ip,
            "New-ComplianceSearchAction",
            &action,
            &p,
        );
        records::discovery(
            out,
            t + 1,
            c.user,
            c.ip,
            "SearchExported",
            &c.name,
            &c.query,
        );
        t += out.rng.random_range(600..3600);
        records::discovery(
            out,
            t,
            c.user,
            c.ip,
            "SearchExportDownloaded",
            &c.name,
            &c.query,
        );
    } else {
        let action = format!("{}_Preview", c.name);
        let p = format!("-SearchName \"{}\" -Preview", c.name);
        records::compliance_cmdlet(
            out,
            t,
            c.user,
            c.ip,
            "New-ComplianceSearchAction",
            &action,
            &p,
        );
        records::discovery(
            out,
            t + 1,
            c.user,
            c.ip,
            "SearchPreviewed",
            &c.name,
            &c.query,
        );
    }
}

/// Directory change helpers shared by the planner and the scenarios.
pub(crate) fn modified(
    name: &str,
    old: Option<&str>,
    new: &str,
) -> (String, Option<String>, String) {
    (name.to_owned(), old.map(str::to_owned), new.to_owned())
}
