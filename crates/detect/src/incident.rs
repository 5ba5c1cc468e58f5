//! Incidents: related findings grouped, with the blast radius of the mail access they involve.

use std::collections::{BTreeMap, BTreeSet};

use mailtrail_event::Timestamp;
use serde::{Deserialize, Serialize};

use crate::HashMap;
use crate::analytics::{Evidence, MailRead};
use crate::apps::app_name;
use crate::finding::{Entities, Finding, Severity};

/// Related findings: one intrusion, as far as the logs tell.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Incident {
    /// Stable id derived from the member findings.
    pub id: String,
    /// The most severe finding's title, and how many others belong.
    pub title: String,
    /// The highest severity among the findings.
    pub severity: Severity,
    /// First evidence time.
    pub first: Timestamp,
    /// Last evidence time.
    pub last: Timestamp,
    /// Member finding ids, most severe first.
    pub findings: Vec<String>,
    /// Everyone and everything involved.
    pub entities: Entities,
    /// ATT&CK techniques of all findings.
    pub attack: Vec<String>,
    /// Which mailboxes and messages were read.
    pub blast_radius: BlastRadius,
    /// The evidence records in time order (at most 2,000).
    pub timeline: Vec<TimelineEntry>,
    /// Evidence records left out of `timeline`.
    pub timeline_omitted: usize,
}

/// At most this many timeline entries per incident; the evidence lists of the findings are complete.
pub(crate) const TIMELINE_LIMIT: usize = 2_000;
/// At most this many InternetMessageIds listed per mailbox; the counts are complete.
pub(crate) const MESSAGE_ID_LIMIT: usize = 10_000;

/// One evidence record in an incident's timeline.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TimelineEntry {
    /// When.
    pub time: Timestamp,
    /// The record id.
    pub record_id: String,
    /// The operation.
    pub operation: String,
    /// Who.
    pub user: Option<String>,
    /// Which mailbox.
    pub mailbox: Option<String>,
    /// From where.
    pub ip: Option<std::net::IpAddr>,
    /// Through which application.
    pub app: Option<String>,
    /// The finding that holds this record.
    pub finding: String,
}

/// What mail the incident's evidence read.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct BlastRadius {
    /// One entry per mailbox read, most-read first.
    pub mailboxes: Vec<MailboxRead>,
    /// `MailItemsAccessed` records in the evidence.
    pub records: u64,
    /// Distinct messages known to be read (Bind), over all mailboxes.
    pub messages: u64,
    /// Folders synchronised (Sync), over all mailboxes: their whole content must be assumed read.
    pub folders_synced: u64,
}

/// What was read in one mailbox.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct MailboxRead {
    /// The mailbox.
    pub mailbox: String,
    /// `MailItemsAccessed` records.
    pub records: u64,
    /// First read.
    pub first: Option<Timestamp>,
    /// Last read.
    pub last: Option<Timestamp>,
    /// Distinct InternetMessageIds opened (Bind).
    pub messages: u64,
    /// Sum of `OperationCount` over Bind records (items opened, including repeats).
    pub items_opened: u64,
    /// Messages opened per folder (Bind): `(folder, distinct messages)`.
    pub folders_bound: Vec<(String, u64)>,
    /// Folders synchronised (Sync).
    pub folders_synced: Vec<String>,
    /// Whether Exchange throttled auditing of this mailbox: more was read than logged.
    pub throttled: bool,
    /// InternetMessageIds opened (at most 10,000).
    pub message_ids: Vec<String>,
}

/// Builds a [`MailboxRead`] per mailbox from evidence records.
#[derive(Clone, Debug, Default)]
pub(crate) struct BlastRadiusBuilder {
    mailboxes: HashMap<String, MailboxAcc>,
}

#[derive(Clone, Debug, Default)]
struct MailboxAcc {
    records: u64,
    first: Option<Timestamp>,
    last: Option<Timestamp>,
    items: u64,
    throttled: bool,
    /// folder → message ids.
    bound: BTreeMap<String, BTreeSet<String>>,
    synced: BTreeSet<String>,
}

impl BlastRadiusBuilder {
    pub(crate) fn add(&mut self, ev: &Evidence) {
        let Some(mail) = &ev.mail else { return };
        let mailbox = ev.mailbox.clone().unwrap_or_else(|| "(unknown)".into());
        let acc = self.mailboxes.entry(mailbox).or_default();
        acc.add(ev.time, mail);
    }

    pub(crate) fn merge(&mut self, other: &BlastRadiusBuilder) {
        for (mailbox, acc) in &other.mailboxes {
            let mine = self.mailboxes.entry(mailbox.clone()).or_default();
            mine.records += acc.records;
            mine.items += acc.items;
            mine.throttled |= acc.throttled;
            mine.first = min_time(mine.first, acc.first);
            mine.last = max_time(mine.last, acc.last);
            for (folder, ids) in &acc.bound {
                mine.bound
                    .entry(folder.clone())
                    .or_default()
                    .extend(ids.iter().cloned());
            }
            mine.synced.extend(acc.synced.iter().cloned());
        }
    }

    pub(crate) fn build(&self) -> BlastRadius {
        let mut out = BlastRadius::default();
        for (mailbox, acc) in &self.mailboxes {
            let mut ids: BTreeSet<&String> = BTreeSet::new();
            for set in acc.bound.values() {
                ids.extend(set);
            }
            let read = MailboxRead {
                mailbox: mailbox.clone(),
                records: acc.records,
                first: acc.first,
                last: acc.last,
                messages: ids.len() as u64,
                items_opened: acc.items,
                folders_bound: acc
                    .bound
                    .iter()
                    .map(|(f, ids)| (f.clone(), ids.len() as u64))
                    .collect(),
                folders_synced: acc.synced.iter().cloned().collect(),
                throttled: acc.throttled,
                message_ids: ids.into_iter().take(MESSAGE_ID_LIMIT).cloned().collect(),
            };
            out.records += read.records;
            out.messages += read.messages;
            out.folders_synced += read.folders_synced.len() as u64;
            out.mailboxes.push(read);
        }
        out.mailboxes.sort_by(|a, b| {
            (b.messages + b.folders_synced.len() as u64, b.records)
                .cmp(&(a.messages + a.folders_synced.len() as u64, a.records))
                .then_with(|| a.mailbox.cmp(&b.mailbox))
        });
        out
    }
}

impl MailboxAcc {
    fn add(&mut self, time: Timestamp, mail: &MailRead) {
        use mailtrail_event::MailAccessType;
        self.records += 1;
        self.first = min_time(self.first, Some(time));
        self.last = max_time(self.last, Some(time));
        self.throttled |= mail.throttled;
        match mail.access_type {
            Some(MailAccessType::Sync) => {
                self.synced
                    .extend(mail.folders.iter().map(|(f, _)| f.clone()));
            }
            _ => {
                self.items += mail.operation_count.unwrap_or(0);
                for (folder, ids) in &mail.folders {
                    self.bound
                        .entry(folder.clone())
                        .or_default()
                        .extend(ids.iter().cloned());
                }
            }
        }
    }
}

fn min_time(a: Option<Timestamp>, b: Option<Timestamp>) -> Option<Timestamp> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

fn max_time(a: Option<Timestamp>, b: Option<Timestamp>) -> Option<Timestamp> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    }
}

/// Groups findings into incidents.
///
/// Findings of at least `min_severity` anchor incidents: two anchors belong together when they share
/// a user, a mailbox, a session, a token, an address or a non-Microsoft application, and their time
/// ranges come within `window_secs` of each other. Weaker findings then join the incident they
/// share the most with, as context; they never join two incidents into one, and alone they stay
/// findings. Microsoft first-party application ids and service addresses are not links: every
/// tenant uses them.
pub(crate) fn group(
    findings: &[Finding],
    parts: &[(BlastRadiusBuilder, Vec<TimelineEntry>)],
    window_secs: i64,
    min_severity: Severity,
) -> Vec<Incident> {
    let n = findings.len();
    let mut parent: Vec<usize> = (0..n).collect();
    fn find(parent: &mut [usize], mut i: usize) -> usize {
        while parent[i] != i {
            parent[i] = parent[parent[i]];
            i = parent[i];
        }
        i
    }
    let near = |a: &Finding, b: &Finding| {
        let gap = if a.last < b.first {
            b.first.as_second() - a.last.as_second()
        } else if b.last < a.first {
            a.first.as_second() - b.last.as_second()
        } else {
            0
        };
        gap <= window_secs
    };
    let anchor = |i: usize| findings[i].severity >= min_severity;
    let mut by_link: HashMap<String, Vec<usize>> = HashMap::default();
    for (i, f) in findings.iter().enumerate() {
        for link in links(&f.entities) {
            by_link.entry(link).or_default().push(i);
        }
    }
    for members in by_link.values() {
        let anchors: Vec<usize> = members.iter().copied().filter(|&i| anchor(i)).collect();
        for (k, &a) in anchors.iter().enumerate() {
            for &b in &anchors[k + 1..] {
                if near(&findings[a], &findings[b]) {
                    let (ra, rb) = (find(&mut parent, a), find(&mut parent, b));
                    if ra != rb {
                        parent[ra] = rb;
                    }
                }
            }
        }
    }
    // Context findings join the anchored group they share the most links with.
    let mut joined: Vec<Option<usize>> = vec![None; n];
    for i in (0..n).filter(|&i| !anchor(i)) {
        let mut votes: HashMap<usize, usize> = HashMap::default();
        for link in links(&findings[i].entities) {
            for &j in by_link.get(&link).into_iter().flatten() {
                if anchor(j) && near(&findings[i], &findings[j]) {
                    *votes.entry(find(&mut parent, j)).or_default() += 1;
                }
            }
        }
        joined[i] = votes
            .into_iter()
            .max_by_key(|(root, count)| (*count, std::cmp::Reverse(*root)))
            .map(|(root, _)| root);
    }
    let mut groups: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for (i, joined) in joined.iter().enumerate() {
        let root = if anchor(i) {
            Some(find(&mut parent, i))
        } else {
            *joined
        };
        if let Some(root) = root {
            groups.entry(root).or_default().push(i);
        }
    }
    let mut incidents: Vec<Incident> = groups
        .into_values()
        .map(|members| build(findings, parts, members))
        .collect();
    incidents.sort_by(|a, b| b.severity.cmp(&a.severity).then(a.first.cmp(&b.first)));
    incidents
}

fn build(
    findings: &[Finding],
    parts: &[(BlastRadiusBuilder, Vec<TimelineEntry>)],
    mut members: Vec<usize>,
) -> Incident {
    // The most severe leads; among equals a stateful analytic, which explains a sequence, leads a
    // single-record rule match.
    members.sort_by(|&a, &b| {
        findings[b]
            .severity
            .cmp(&findings[a].severity)
            .then((findings[a].detector == "sigma").cmp(&(findings[b].detector == "sigma")))
            .then(findings[a].first.cmp(&findings[b].first))
    });
    let lead = &findings[members[0]];
    let mut entities = Entities::default();
    let mut attack = BTreeSet::new();
    let mut blast = BlastRadiusBuilder::default();
    let mut timeline = Vec::new();
    let mut seen = crate::HashSet::default();
    for &i in &members {
        entities.merge(&findings[i].entities);
        attack.extend(findings[i].attack.iter().cloned());
        blast.merge(&parts[i].0);
        for entry in &parts[i].1 {
            if seen.insert(entry.record_id.clone()) {
                timeline.push(entry.clone());
            }
        }
    }
    timeline.sort_by(|a, b| {
        a.time
            .cmp(&b.time)
            .then_with(|| a.record_id.cmp(&b.record_id))
    });
    let omitted = timeline.len().saturating_sub(TIMELINE_LIMIT);
    timeline.truncate(TIMELINE_LIMIT);
    let ids: Vec<String> = members.iter().map(|&i| findings[i].id.clone()).collect();
    let mut sorted_ids = ids.clone();
    sorted_ids.sort();
    let title = match members.len() {
        1 => lead.title.clone(),
        n => format!(
            "{} (+{} related finding{})",
            lead.title,
            n - 1,
            if n == 2 { "" } else { "s" }
        ),
    };
    Incident {
        id: format!("INC-{}", &crate::stable_hash(&sorted_ids.join(","))[..12]),
        title,
        severity: lead.severity,
        first: members
            .iter()
            .map(|&i| findings[i].first)
            .min()
            .unwrap_or(lead.first),
        last: members
            .iter()
            .map(|&i| findings[i].last)
            .max()
            .unwrap_or(lead.last),
        findings: ids,
        entities,
        attack: attack.into_iter().collect(),
        blast_radius: blast.build(),
        timeline,
        timeline_omitted: omitted,
    }
}

/// The entity values that link findings.
/// A finding about more people than this (a harvest, a spray) does not link incidents through
/// them: it would join every other incident of the period into its own.
const MAX_PEOPLE_LINKS: usize = 10;

fn links(e: &Entities) -> impl Iterator<Item = String> + '_ {
    let apps = e
        .apps
        .iter()
        .flat_map(|label| label.split('/'))
        .filter(|id| app_name(id).is_none());
    let people = e.users.len() <= MAX_PEOPLE_LINKS && e.mailboxes.len() <= MAX_PEOPLE_LINKS;
    e.users
        .iter()
        .chain(&e.mailboxes)
        .filter(move |_| people)
        .map(|u| format!("u:{u}"))
        .chain(e.sessions.iter().map(|s| format!("s:{s}")))
        .chain(e.tokens.iter().map(|t| format!("t:{t}")))
        .chain(
            e.ips
                .iter()
                .filter(|ip| mailtrail_event::microsoft_service(**ip).is_none())
                .map(|ip| format!("i:{ip}")),
        )
        .chain(apps.map(|a| format!("a:{a}")))
}
