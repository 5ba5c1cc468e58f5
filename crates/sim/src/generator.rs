//! Running the simulation: plan, expand in parallel, merge in time order, throttle, label, write.
//!
//! Planning happens one day at a time (people in parallel, each with their own random stream and
//! state), expansion of activities into records in parallel batches, and a single sequential merge
//! emits records in time order. A record can be emitted once every activity that could still
//! produce an earlier record has been expanded: activities never write records before their
//! start, and a day's plans never start more than 14 hours before that UTC day. Memory therefore
//! holds about a day of plans and a batch of records, whatever the length of the period.

use std::collections::{HashMap, VecDeque};
use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use rand::SeedableRng;
use rayon::prelude::*;
use serde::Serialize;

use crate::activity::Planned;
use crate::clock::{self, DAY, HOUR};
use crate::config::{Scenario, TenantConfig};
use crate::planner::Planner;
use crate::records::{NO_LABEL, Out, Rec, RecordKind};
use crate::rng::SimRng;
use crate::scenarios::{self, AttackPlan};
use crate::tenant::Tenant;

/// Exchange's documented limit: more than this many `MailItemsAccessed` records for one mailbox
/// within 24 hours, and Bind records stop being written for the next 24 hours.
pub const THROTTLE_LIMIT: usize = 1_000;

/// A generated record, handed to [`Generator::run`]'s callback in time order.
#[derive(Debug)]
pub struct Record<'a> {
    kind: RecordKind,
    time: i64,
    id: &'a str,
    json: &'a [u8],
    label: Option<u32>,
}

impl Record<'_> {
    /// Which output it belongs to.
    pub fn kind(&self) -> RecordKind {
        self.kind
    }

    /// When it happened.
    pub fn time(&self) -> mailtrail_event::Timestamp {
        mailtrail_event::Timestamp::from_second(self.time).unwrap_or_default()
    }

    /// When it happened, in Unix seconds.
    pub fn unix_seconds(&self) -> i64 {
        self.time
    }

    /// Its id (`Id` of a UAL record, `id` of a sign-in or directory audit).
    pub fn id(&self) -> &str {
        self.id
    }

    /// The record, one line of JSON without the newline.
    pub fn json(&self) -> &[u8] {
        self.json
    }

    /// The index into [`Summary::labels`] of the attack this record belongs to, if any. This is
    /// ground truth for tests; it is never written into the record.
    pub fn attack(&self) -> Option<u32> {
        self.label
    }
}

/// Ground truth for one attack instance: a line of `labels.jsonl`.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Label {
    /// The scenario name (`storm-0558`, …).
    pub scenario: String,
    /// An id for this instance.
    pub instance: String,
    /// Ids of every record of the attack, in every output file.
    pub record_ids: Vec<String>,
    /// Time of the first record, `YYYY-MM-DDTHH:MM:SSZ`.
    pub start: String,
    /// Time of the last record.
    pub end: String,
    /// Who and what was involved.
    pub entities: LabelEntities,
    /// One sentence saying what happened.
    pub description: String,
}

/// The entities of an attack.
#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
pub struct LabelEntities {
    /// User principal names of accounts used or attacked.
    pub users: Vec<String>,
    /// Mailboxes read or changed.
    pub mailboxes: Vec<String>,
    /// Application ids involved.
    pub apps: Vec<String>,
    /// Addresses the attacker used.
    pub ips: Vec<String>,
    /// Entra ID session ids and Exchange session ids.
    pub sessions: Vec<String>,
}

/// What a run produced.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Summary {
    /// Unified Audit Log records written.
    pub unified_audit: u64,
    /// Sign-ins written.
    pub sign_ins: u64,
    /// Directory audits written.
    pub directory_audits: u64,
    /// `MailItemsAccessed` records written with `IsThrottled` true.
    pub throttled: u64,
    /// Bind records Exchange would not have written because the mailbox was throttled.
    pub suppressed_by_throttling: u64,
    /// Attack instances, with their records.
    pub labels: Vec<Label>,
}

impl Summary {
    /// Records written in all.
    pub fn records(&self) -> u64 {
        self.unified_audit + self.sign_ins + self.directory_audits
    }
}

/// A failure writing output.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SimError {
    /// A file or directory could not be created or written.
    #[error("cannot write {path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> SimError + '_ {
    move |source| SimError::Io {
        path: path.to_owned(),
        source,
    }
}

/// Generates a tenant's logs.
#[derive(Debug)]
pub struct Generator {
    config: TenantConfig,
    tenant: Tenant,
}

/// What throttling decides about a `MailItemsAccessed` record.
#[derive(Debug, PartialEq, Eq)]
enum Throttle {
    Keep,
    /// Keep, and mark it `IsThrottled: True`: it is the record that tripped the limit.
    Trip,
    Drop,
}

#[derive(Default)]
struct MailboxWindow {
    times: VecDeque<i64>,
    until: i64,
}

/// Exchange's `MailItemsAccessed` throttling, applied to records in time order.
#[derive(Default)]
pub(crate) struct Throttler {
    mailboxes: HashMap<u32, MailboxWindow>,
}

impl Throttler {
    fn check(&mut self, mailbox: u32, t: i64, sync: bool) -> Throttle {
        let w = self.mailboxes.entry(mailbox).or_default();
        if t < w.until {
            // Throttled: Bind records are not written; Sync records still are.
            return if sync { Throttle::Keep } else { Throttle::Drop };
        }
        while w.times.front().is_some_and(|&f| f <= t - DAY) {
            w.times.pop_front();
        }
        if !sync && w.times.len() >= THROTTLE_LIMIT {
            w.until = t + DAY;
            w.times.clear();
            return Throttle::Trip;
        }
        w.times.push_back(t);
        Throttle::Keep
    }
}

struct LabelAcc {
    ids: Vec<String>,
    first: i64,
    last: i64,
}

/// How many activities are expanded per parallel batch.
const BATCH: usize = 16_384;
/// Activities of a planned day start at most this long before that UTC day begins.
const LOOKBACK: i64 = 14 * HOUR;

impl Generator {
    /// Builds the tenant for a configuration. Nothing is generated until [`run`](Self::run).
    pub fn new(config: TenantConfig) -> Self {
        let tenant = Tenant::build(&config);
        Self { config, tenant }
    }

    /// The configuration.
    pub fn config(&self) -> &TenantConfig {
        &self.config
    }

    /// The tenant id (`OrganizationId`).
    pub fn tenant_id(&self) -> &str {
        &self.tenant.id
    }

    /// Ground truth about the tenant: what `tenant.json` holds (without the counts).
    pub fn tenant_json(&self) -> serde_json::Value {
        crate::truth::tenant_json(&self.tenant, &self.config)
    }

    /// Generates every record, calling `sink` for each in time order, and returns the summary.
    ///
    /// Stops at the first error `sink` returns.
    pub fn run<E>(&self, mut sink: impl FnMut(&Record<'_>) -> Result<(), E>) -> Result<Summary, E> {
        let config = &self.config;
        let tenant = &self.tenant;
        let planner = Planner::new(tenant, config);
        let mut states = planner.initial_states();
        let (attack_acts, plans) = scenarios::plan_all(tenant, config);
        let mut labels: Vec<LabelAcc> = plans
            .iter()
            .map(|_| LabelAcc {
                ids: Vec::new(),
                first: i64::MAX,
                last: i64::MIN,
            })
            .collect();

        let mut summary = Summary::default();
        let mut throttler = Throttler::default();
        let mut next_seq: u64 = 0;
        let mut acts: Vec<(u64, Planned)> = Vec::new();
        let mut push = |acts: &mut Vec<(u64, Planned)>, p: Planned| {
            acts.push((next_seq, p));
            next_seq += 1;
        };
        for p in attack_acts {
            push(&mut acts, p);
        }
        let mut records: Vec<Rec> = Vec::new();
        let (start, end) = (config.start_time(), config.end_time());

        for d in 0..config.days {
            let day_plans: Vec<Vec<Planned>> = states
                .par_iter_mut()
                .map(|st| {
                    let mut v = Vec::new();
                    planner.plan_user_day(st, d, &mut v);
                    v
                })
                .collect();
            for v in day_plans {
                for p in v {
                    push(&mut acts, p);
                }
            }
            let mut tenant_plans = Vec::new();
            planner.plan_tenant_day(d, &mut tenant_plans);
            for p in tenant_plans {
                push(&mut acts, p);
            }
            // Later days' plans cannot start before this instant.
            let watermark = if d + 1 < config.days {
                (config.start_day + i64::from(d) + 1) * DAY - LOOKBACK
            } else {
                i64::MAX
            };
            acts.sort_unstable_by_key(|(seq, p)| std::cmp::Reverse((p.start, *seq)));
            loop {
                let mut batch: Vec<(u64, Planned)> = Vec::new();
                while batch.len() < BATCH && acts.last().is_some_and(|(_, p)| p.start < watermark) {
                    if let Some(a) = acts.pop() {
                        batch.push(a);
                    }
                }
                if batch.is_empty() {
                    break;
                }
                let expanded: Vec<Vec<Rec>> = batch
                    .par_chunks(64)
                    .map(|chunk| {
                        let mut recs = Vec::new();
                        for (seq, p) in chunk {
                            let mut rng = SimRng::seed_from_u64(p.seed);
                            let mut out = Out {
                                recs: &mut recs,
                                tenant,
                                rng: &mut rng,
                                seq: *seq << 24,
                                label: p.label,
                            };
                            p.expand(&mut out);
                        }
                        recs
                    })
                    .collect();
                records.extend(expanded.into_iter().flatten());
                let ready = acts
                    .last()
                    .map_or(watermark, |(_, p)| p.start.min(watermark));
                emit(
                    &mut records,
                    ready,
                    start,
                    end,
                    &mut throttler,
                    &mut labels,
                    &mut summary,
                    &mut sink,
                )?;
            }
            emit(
                &mut records,
                watermark,
                start,
                end,
                &mut throttler,
                &mut labels,
                &mut summary,
                &mut sink,
            )?;
        }
        emit(
            &mut records,
            i64::MAX,
            start,
            end,
            &mut throttler,
            &mut labels,
            &mut summary,
            &mut sink,
        )?;

        summary.labels = plans
            .into_iter()
            .zip(labels)
            .filter(|(_, acc)| !acc.ids.is_empty())
            .map(|(plan, acc)| make_label(plan, acc))
            .collect();
        Ok(summary)
    }

    /// Generates into a directory: `ual/YYYY-MM-DD.ndjson`, `signins.ndjson`,
    /// `directory_audit.ndjson`, `labels.jsonl` and `tenant.json`.
    pub fn write_to(&self, dir: &Path) -> Result<Summary, SimError> {
        let ual_dir = dir.join("ual");
        fs::create_dir_all(&ual_dir).map_err(io_err(&ual_dir))?;
        let open = |path: PathBuf| -> Result<(BufWriter<File>, PathBuf), SimError> {
            let f = File::create(&path).map_err(io_err(&path))?;
            Ok((BufWriter::with_capacity(1 << 20, f), path))
        };
        let mut signins = open(dir.join("signins.ndjson"))?;
        let mut audits = open(dir.join("directory_audit.ndjson"))?;
        // Every day has a file, even a day with nothing in it, so readers see the whole period.
        let mut ual_files: Vec<(BufWriter<File>, PathBuf)> = Vec::new();
        for d in 0..self.config.days {
            let name = format!(
                "{}.ndjson",
                clock::format_date(self.config.start_day + i64::from(d))
            );
            ual_files.push(open(ual_dir.join(name))?);
        }
        let start_day = self.config.start_day;
        let summary = self.run(|r| {
            let (w, path) = match r.kind {
                RecordKind::UnifiedAudit => {
                    let d =
                        (r.time.div_euclid(DAY) - start_day).clamp(0, ual_files.len() as i64 - 1);
                    &mut ual_files[d as usize]
                }
                RecordKind::SignIn => &mut signins,
                RecordKind::DirectoryAudit => &mut audits,
            };
            w.write_all(r.json)
                .and_then(|()| w.write_all(b"\n"))
                .map_err(io_err(path))
        })?;
        for (mut w, path) in ual_files.into_iter().chain([signins, audits]) {
            w.flush().map_err(io_err(&path))?;
        }

        let labels_path = dir.join("labels.jsonl");
        let mut lw = BufWriter::new(File::create(&labels_path).map_err(io_err(&labels_path))?);
        for label in &summary.labels {
            let line = serde_json::to_string(label).unwrap_or_default();
            writeln!(lw, "{line}").map_err(io_err(&labels_path))?;
        }
        lw.flush().map_err(io_err(&labels_path))?;

        let mut truth = self.tenant_json();
        truth["counts"] = serde_json::json!({
            "unified_audit": summary.unified_audit,
            "sign_ins": summary.sign_ins,
            "directory_audits": summary.directory_audits,
            "throttled": summary.throttled,
            "suppressed_by_throttling": summary.suppressed_by_throttling,
            "attacks": summary.labels.len(),
        });
        let tenant_path = dir.join("tenant.json");
        let text = serde_json::to_string_pretty(&truth).unwrap_or_default();
        fs::write(&tenant_path, text + "\n").map_err(io_err(&tenant_path))?;
        Ok(summary)
    }
}

/// Emits every buffered record earlier than `ready`, in time order.
#[allow(clippy::too_many_arguments)]
fn emit<E>(
    records: &mut Vec<Rec>,
    ready: i64,
    start: i64,
    end: i64,
    throttler: &mut Throttler,
    labels: &mut [LabelAcc],
    summary: &mut Summary,
    sink: &mut impl FnMut(&Record<'_>) -> Result<(), E>,
) -> Result<(), E> {
    if records.is_empty() {
        return Ok(());
    }
    records.par_sort_unstable_by_key(|r| (r.t, r.seq));
    let n = records.partition_point(|r| r.t < ready);
    let rest = records.split_off(n);
    let ready_recs = std::mem::replace(records, rest);
    for mut rec in ready_recs {
        if rec.t < start || rec.t >= end {
            continue;
        }
        if let Some(mia) = rec.mia {
            match throttler.check(mia.mailbox, rec.t, mia.sync) {
                Throttle::Keep => {}
                Throttle::Trip => {
                    let at = mia.throttle_at as usize;
                    if rec.json.get(at..at + 5) == Some(b"False") {
                        rec.json.splice(at..at + 5, *b"True");
                    }
                    summary.throttled += 1;
                }
                Throttle::Drop => {
                    summary.suppressed_by_throttling += 1;
                    continue;
                }
            }
        }
        let label = (rec.label != NO_LABEL).then_some(rec.label);
        if let Some(l) = label.and_then(|l| labels.get_mut(l as usize)) {
            l.ids.push(rec.id().to_owned());
            l.first = l.first.min(rec.t);
            l.last = l.last.max(rec.t);
        }
        match rec.kind {
            RecordKind::UnifiedAudit => summary.unified_audit += 1,
            RecordKind::SignIn => summary.sign_ins += 1,
            RecordKind::DirectoryAudit => summary.directory_audits += 1,
        }
        let r = Record {
            kind: rec.kind,
            time: rec.t,
            id: rec.id(),
            json: &rec.json,
            label,
        };
        sink(&r)?;
    }
    Ok(())
}

fn make_label(plan: AttackPlan, acc: LabelAcc) -> Label {
    let sorted = |s: std::collections::BTreeSet<String>| s.into_iter().collect::<Vec<_>>();
    Label {
        scenario: plan
            .scenario
            .map_or_else(String::new, |s: Scenario| s.as_str().to_owned()),
        instance: plan.instance,
        record_ids: acc.ids,
        start: clock::graph_time(acc.first),
        end: clock::graph_time(acc.last),
        entities: LabelEntities {
            users: sorted(plan.users),
            mailboxes: sorted(plan.mailboxes),
            apps: sorted(plan.apps),
            ips: sorted(plan.ips),
            sessions: sorted(plan.sessions),
        },
        description: plan.description,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn throttling_trips_on_the_1001st_record_and_lasts_a_day() {
        let mut t = Throttler::default();
        for i in 0..1000 {
            assert_eq!(t.check(1, i, false), Throttle::Keep);
        }
        assert_eq!(t.check(1, 1000, false), Throttle::Trip);
        assert_eq!(t.check(1, 1001, false), Throttle::Drop);
        assert_eq!(
            t.check(1, 1002, true),
            Throttle::Keep,
            "Sync records are not throttled"
        );
        assert_eq!(
            t.check(2, 1003, false),
            Throttle::Keep,
            "other mailboxes are unaffected"
        );
        assert_eq!(t.check(1, 1000 + DAY - 1, false), Throttle::Drop);
        assert_eq!(
            t.check(1, 1000 + DAY, false),
            Throttle::Keep,
            "logging resumes after 24 hours"
        );
    }

    #[test]
    fn records_older_than_a_day_leave_the_window() {
        let mut t = Throttler::default();
        for i in 0..1000 {
            assert_eq!(t.check(7, i * 60, false), Throttle::Keep);
        }
        // The first record is now more than 24 hours old.
        assert_eq!(t.check(7, DAY + 1, false), Throttle::Keep);
    }
}
