//! Bulk mail access: more mail read, from more mailboxes, than the reader's own history explains.
//!
//! Four signals, each measured against the reader's own baseline rather than a global number:
//! * **Throttled**: Exchange stops logging `MailItemsAccessed` for a mailbox after more than 1,000
//!   records in 24 hours and marks the record `IsThrottled` — more was read than the log shows.
//! * **Volume**: the items opened (`OperationCount`) in one hour far above that mailbox's busiest
//!   baseline hour.
//! * **Sync from somewhere new**: many folders synchronised within an hour by a client or from a
//!   network the mailbox, and the tenant, never used — a full copy of the mailbox leaving.
//! * **Breadth**: one reader (a user or an application) reading many *other people's* mailboxes
//!   within an hour, far above what it did in the baseline: harvesting.

use std::collections::VecDeque;
use std::net::IpAddr;

use mailtrail_event::{AuditEvent, MailAccessType, Timestamp, microsoft_service};

use super::{
    Analytic, Attribution, Ctx, Evidence, Signal, app_pair, client_app, network_of, secs_between,
    techniques, user_key,
};
use crate::apps::app_name;
use crate::finding::Severity;
use crate::{HashMap, HashSet};

pub(crate) const NAME: &str = "bulk-mail-access";
const ATTACK: &[&str] = &["T1114.002", "T1530"];
const HOUR: i64 = 3600;

/// Thresholds of the bulk-access detector.
#[derive(Clone, Debug)]
pub struct BulkConfig {
    /// Items opened in one hour must exceed this many times the mailbox's busiest baseline hour…
    pub volume_factor: u64,
    /// …and at least this many items.
    pub volume_min_items: u64,
    /// Folders synchronised within an hour from a new client or network.
    pub sync_min_folders: usize,
    /// Distinct other mailboxes read within an hour by one reader, at least…
    pub breadth_min_mailboxes: usize,
    /// …and more than this many times the reader's baseline maximum.
    pub breadth_factor: usize,
}

impl Default for BulkConfig {
    fn default() -> Self {
        Self {
            volume_factor: 4,
            volume_min_items: 100,
            sync_min_folders: 15,
            breadth_min_mailboxes: 10,
            breadth_factor: 2,
        }
    }
}

/// One mailbox's items-per-hour accounting.
#[derive(Default)]
struct Volume {
    hour: i64,
    items: u64,
    baseline_max: u64,
    fired_day: Option<i64>,
}

/// One reader's recent reads of other mailboxes.
#[derive(Default)]
struct Breadth {
    recent: VecDeque<(Timestamp, String, Evidence)>,
    counts: HashMap<String, usize>,
    baseline_max: usize,
    fired_until: Option<Timestamp>,
}

/// A burst of Sync records from one client/network into one mailbox.
#[derive(Default)]
struct SyncBurst {
    start: Option<Timestamp>,
    new_client: bool,
    new_network: bool,
    folders: HashSet<String>,
    evidence: Vec<Evidence>,
    fired: bool,
}

/// See the module documentation.
#[derive(Default)]
pub(crate) struct BulkMailAccess {
    config: BulkConfig,
    volume: HashMap<String, Volume>,
    breadth: HashMap<String, Breadth>,
    /// Networks and clients each mailbox has been read from, and networks the tenant uses.
    mailbox_networks: HashSet<(String, IpAddr)>,
    mailbox_clients: HashSet<(String, (String, String))>,
    tenant_networks: HashSet<IpAddr>,
    sync: HashMap<(String, IpAddr, (String, String)), SyncBurst>,
    throttled: HashSet<(String, i64)>,
}

impl BulkMailAccess {
    pub(crate) fn new(config: BulkConfig) -> Self {
        Self {
            config,
            ..Default::default()
        }
    }

    fn throttled(&mut self, ev: &AuditEvent, mailbox: &str, ctx: &mut Ctx<'_>) {
        let day = ev.time.as_second().div_euclid(86_400);
        if !self.throttled.insert((mailbox.to_owned(), day)) || ctx.learning {
            return;
        }
        ctx.emit(Signal {
            detector: NAME,
            key: format!("throttled|{mailbox}|{day}"),
            title: "Mailbox audit throttled: more mail read than the log shows".into(),
            severity: Severity::Low,
            attack: techniques(ATTACK),
            reason: format!(
                "Exchange marked a MailItemsAccessed record of {mailbox} IsThrottled: over 1,000 \
                 records in 24 hours, after which it stops logging reads of this mailbox for 24 \
                 hours."
            ),
            tenant: ev.tenant_id.clone(),
            evidence: vec![Evidence::of(ev)],
            attribution: Vec::new(),
        });
    }

    fn volume(&mut self, ev: &AuditEvent, mailbox: &str, ctx: &mut Ctx<'_>) {
        let Some(items) = ev.mail_access.as_ref().and_then(|m| m.operation_count) else {
            return;
        };
        let hour = ev.time.as_second().div_euclid(HOUR);
        let v = self.volume.entry(mailbox.to_owned()).or_default();
        if v.hour != hour {
            v.hour = hour;
            v.items = 0;
        }
        v.items += items;
        if ctx.learning {
            v.baseline_max = v.baseline_max.max(v.items);
            return;
        }
        let threshold =
            (v.baseline_max * self.config.volume_factor).max(self.config.volume_min_items);
        let day = hour.div_euclid(24);
        if v.items <= threshold || v.fired_day == Some(day) {
            return;
        }
        v.fired_day = Some(day);
        let owner_reading = user_key(ev).as_deref() == Some(mailbox);
        ctx.emit(Signal {
            detector: NAME,
            key: format!("volume|{mailbox}|{day}"),
            title: "Unusual volume of mail opened in one mailbox".into(),
            severity: if owner_reading {
                Severity::Low
            } else {
                Severity::Medium
            },
            attack: techniques(ATTACK),
            reason: format!(
                "{} items of {mailbox} were opened within one hour; its busiest hour in the \
                 baseline had {}.",
                v.items, v.baseline_max
            ),
            tenant: ev.tenant_id.clone(),
            evidence: vec![Evidence::of(ev)],
            attribution: Vec::new(),
        });
    }

    fn sync(&mut self, ev: &AuditEvent, mailbox: &str, ctx: &mut Ctx<'_>) {
        let (Some(ip), Some(pair)) = (ev.client_ip, app_pair(ev)) else {
            return;
        };
        if ctx.learning {
            return;
        }
        let network = network_of(ip);
        let key = (mailbox.to_owned(), network, pair.clone());
        let active = self
            .sync
            .get(&key)
            .and_then(|b| b.start)
            .is_some_and(|s| secs_between(s, ev.time) <= HOUR);
        if !active {
            // A burst starts only where the client or the network is new; it then runs its hour.
            let new_network = !self
                .mailbox_networks
                .contains(&(mailbox.to_owned(), network))
                && !self.tenant_networks.contains(&network)
                && microsoft_service(ip).is_none();
            let new_client = !self.mailbox_clients.contains(&(mailbox.to_owned(), pair));
            if !(new_network || new_client) {
                self.sync.remove(&key);
                return;
            }
            self.sync.insert(
                key.clone(),
                SyncBurst {
                    start: Some(ev.time),
                    new_client,
                    new_network,
                    ..Default::default()
                },
            );
        }
        let Some(burst) = self.sync.get_mut(&key) else {
            return;
        };
        if burst.fired {
            return;
        }
        let (new_client, new_network) = (burst.new_client, burst.new_network);
        let folders = ev
            .mail_access
            .as_ref()
            .map(|m| {
                m.folders
                    .iter()
                    .filter_map(|f| f.path.clone().or(f.id.clone()))
            })
            .into_iter()
            .flatten();
        burst.folders.extend(folders);
        burst.evidence.push(Evidence::of(ev));
        if burst.folders.len() < self.config.sync_min_folders {
            return;
        }
        burst.fired = true;
        let what = match (new_client, new_network) {
            (true, true) => "a new client from a new network",
            (true, false) => "a client that never read this mailbox",
            _ => "a network neither this mailbox nor the tenant used before",
        };
        let mut attribution = vec![];
        if let Some(user) = user_key(ev) {
            attribution.push(Attribution::UserIp { user, ip });
        }
        ctx.emit(Signal {
            detector: NAME,
            key: format!("sync|{mailbox}|{network}"),
            title: "Mailbox synchronised by a new client or from a new network".into(),
            severity: Severity::High,
            attack: techniques(ATTACK),
            reason: format!(
                "{} folders of {mailbox} were synchronised within an hour by {what} ({ip}); a \
                 Sync means everything in those folders must be assumed read.",
                burst.folders.len()
            ),
            tenant: ev.tenant_id.clone(),
            evidence: std::mem::take(&mut burst.evidence),
            attribution,
        });
    }

    fn breadth(&mut self, ev: &AuditEvent, mailbox: &str, ctx: &mut Ctx<'_>) {
        let Some(reader) = user_key(ev) else { return };
        if reader == mailbox {
            return;
        }
        let app = client_app(ev).unwrap_or_default();
        let key = format!(
            "{}|{reader}|{app}",
            ev.tenant_id.as_deref().unwrap_or_default()
        );
        let b = self.breadth.entry(key.clone()).or_default();
        while let Some((t, m, _)) = b.recent.front() {
            if secs_between(*t, ev.time) <= HOUR {
                break;
            }
            if let Some(c) = b.counts.get_mut(m) {
                *c -= 1;
                if *c == 0 {
                    b.counts.remove(m);
                }
            }
            b.recent.pop_front();
        }
        *b.counts.entry(mailbox.to_owned()).or_default() += 1;
        // Keep evidence only while it could matter; the window is what fires.
        b.recent
            .push_back((ev.time, mailbox.to_owned(), Evidence::of(ev)));
        let distinct = b.counts.len();
        if ctx.learning {
            b.baseline_max = b.baseline_max.max(distinct);
            return;
        }
        let threshold =
            (b.baseline_max * self.config.breadth_factor).max(self.config.breadth_min_mailboxes);
        if distinct < threshold || b.fired_until.is_some_and(|u| ev.time <= u) {
            return;
        }
        b.fired_until = ev
            .time
            .checked_add(jiff::SignedDuration::from_hours(1))
            .ok();
        let evidence = b.recent.iter().map(|(_, _, e)| e.clone()).collect();
        let mut attribution = Vec::new();
        if let (Some(tenant), false) = (
            ev.tenant_id.as_deref(),
            app.is_empty() || app_name(&app).is_some(),
        ) {
            attribution.push(Attribution::ClientApp {
                tenant: tenant.to_ascii_lowercase(),
                app: app.clone(),
            });
        }
        if let Some(ip) = ev.client_ip {
            attribution.push(Attribution::UserIp {
                user: reader.clone(),
                ip,
            });
        }
        let baseline = b.baseline_max;
        ctx.emit(Signal {
            detector: NAME,
            key: format!("breadth|{key}"),
            title: "One reader opened many other people's mailboxes".into(),
            severity: Severity::High,
            attack: techniques(ATTACK),
            reason: format!(
                "{reader}{} read {distinct} other mailboxes within one hour; its baseline maximum \
                 was {baseline}.",
                if app.is_empty() {
                    String::new()
                } else {
                    format!(" through {}", app_name(&app).unwrap_or(&app))
                },
            ),
            tenant: ev.tenant_id.clone(),
            evidence,
            attribution,
        });
    }
}

impl Analytic for BulkMailAccess {
    fn name(&self) -> &'static str {
        NAME
    }

    fn observe(&mut self, ev: &AuditEvent, ctx: &mut Ctx<'_>) {
        if !ev.reads_mail() {
            return;
        }
        let Some(mailbox) = ev.mailbox().map(str::to_ascii_lowercase) else {
            return;
        };
        let access = ev.mail_access.as_ref();
        if access.and_then(|m| m.is_throttled) == Some(true) {
            self.throttled(ev, &mailbox, ctx);
        }
        match access.and_then(|m| m.access_type.as_ref()) {
            Some(MailAccessType::Sync) => self.sync(ev, &mailbox, ctx),
            _ => self.volume(ev, &mailbox, ctx),
        }
        self.breadth(ev, &mailbox, ctx);
        // Learn where each mailbox is read from after judging, so the first use is new.
        if let Some(ip) = ev.client_ip {
            let network = network_of(ip);
            self.mailbox_networks.insert((mailbox.clone(), network));
            self.tenant_networks.insert(network);
        }
        if let Some(pair) = app_pair(ev) {
            self.mailbox_clients.insert((mailbox, pair));
        }
    }
}

#[cfg(test)]
mod tests {
    use mailtrail_event::{Folder, MailAccess};

    use super::super::testing::*;
    use super::*;

    fn read_other(id: &str, time: &str, reader: &str, mailbox: &str) -> AuditEvent {
        let mut ev = bind(
            id,
            time,
            reader,
            "00000002-0000-0ff1-ce00-000000000000",
            "app-x",
        );
        ev.mailbox_owner_upn = Some(mailbox.into());
        ev
    }

    #[test]
    fn a_reader_harvesting_many_mailboxes_fires_once() {
        let mut events = Vec::new();
        for i in 0..12 {
            events.push(read_other(
                &format!("h{i}"),
                &format!("2026-01-20T10:{:02}:00Z", i * 2),
                "harvest-app",
                &format!("user{i}@c.example"),
            ));
        }
        let out = run(&mut BulkMailAccess::default(), &events, None);
        assert_eq!(out.len(), 1, "{out:#?}");
        assert_eq!(out[0].evidence.len(), 10);
        assert!(
            out[0]
                .attribution
                .iter()
                .any(|a| matches!(a, Attribution::ClientApp { app, .. } if app == "app-x"))
        );
    }

    #[test]
    fn a_backup_app_at_its_usual_breadth_does_not() {
        let mut events = Vec::new();
        for i in 0..30 {
            events.push(read_other(
                &format!("b{i}"),
                &format!("2026-01-02T02:{:02}:00Z", i),
                "backup-app",
                &format!("user{i}@c.example"),
            ));
        }
        for i in 0..30 {
            events.push(read_other(
                &format!("n{i}"),
                &format!("2026-01-20T02:{:02}:00Z", i),
                "backup-app",
                &format!("user{i}@c.example"),
            ));
        }
        let out = run(
            &mut BulkMailAccess::default(),
            &events,
            Some(at("2026-01-15T00:00:00Z")),
        );
        assert!(out.is_empty(), "{out:#?}");
    }

    #[test]
    fn syncing_many_folders_from_a_new_network_fires() {
        let mut events = Vec::new();
        for i in 0..20 {
            let mut ev = bind(
                &format!("s{i}"),
                &format!("2026-01-20T10:{:02}:00Z", i),
                "ann@c.example",
                "a",
                "b",
            );
            ev.client_ip = "203.0.113.99".parse().ok();
            ev.mail_access = Some(MailAccess {
                access_type: Some(MailAccessType::Sync),
                folders: vec![Folder {
                    path: Some(format!("\\Folder{i}")),
                    ..Default::default()
                }],
                ..Default::default()
            });
            events.push(ev);
        }
        let out = run(&mut BulkMailAccess::default(), &events, None);
        assert_eq!(out.len(), 1, "{out:#?}");
        assert_eq!(out[0].evidence.len(), 15);
    }
}
