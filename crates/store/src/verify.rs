//! `verify`: re-hash every record, recompute every tree, check every checkpoint, and name what
//! was altered, removed, reordered or truncated.
//!
//! Three passes, the first two in parallel:
//!
//! 1. **Records**: every committed block is read, checked and decompressed, every body re-hashed
//!    and compared with its leaf hash in the tenant's `.leaves`; seqs and leaf indexes must come
//!    in order without gaps.
//! 2. **Trees**: every tenant's `.hashes` is recomputed from its `.leaves`, and the root at each
//!    checkpointed size taken.
//!
//! A record that does not hash to its leaf hash is then judged against the tree above the leaf
//! (the stored hash of its 256-leaf subtree, or the newest checkpoint's root for the leaves after
//! the last complete subtree): if the record's hash fits there, the leaf hash was altered, not
//! the record, and the tree is recomputed with the record's hash in its place.
//!
//! 3. **Checkpoints**: each signature is checked with the trusted key, each root compared with
//!    the recomputed one, and each checkpoint proven consistent with the one before it by an
//!    RFC 6962 consistency proof from the tree as the leaf hashes define it (stored hashes found
//!    wrong in pass 2 are already named; consistency is transitive, so consecutive pairs cover
//!    every earlier/later pair).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::fs::File;
use std::io::Read as _;
use std::os::unix::fs::FileExt as _;
use std::path::{Path, PathBuf};

use bytes::Bytes;
use redb::ReadableTable as _;

use crate::checkpoint::{Checkpoint, CheckpointProblem, VerifierKey};
use crate::error::StoreError;
use crate::merkle::{self, Hash, HashSource, UPPER_LEVEL};
use crate::segment::{self, BlockHeader, RecordIter};
use crate::state::*;
use crate::store::{Store, TreeFiles};

/// Something in the store that is not what the store wrote: evidence of tampering or damage.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Finding {
    /// A record's bytes no longer hash to the leaf hash its log holds: the record was altered.
    RecordHashMismatch {
        /// Its seq.
        seq: u64,
        /// Its record id.
        record_id: String,
        /// Its tenant.
        tenant: String,
        /// Its leaf index.
        leaf_index: u64,
        /// The segment file holding it.
        segment: PathBuf,
        /// The offset of its block in that file.
        offset: u64,
    },
    /// A record stands where another belongs: its bytes are those of a different leaf, or it comes
    /// before a leaf that precedes it.
    RecordReordered {
        /// Its seq.
        seq: u64,
        /// Its record id.
        record_id: String,
        /// Its tenant.
        tenant: String,
        /// The leaf index it should have.
        expected_leaf: u64,
        /// The leaf whose content or index it actually holds.
        found_leaf: u64,
        /// The segment file.
        segment: PathBuf,
        /// The offset of its block.
        offset: u64,
    },
    /// A record stored after a record with a higher seq: records were moved.
    RecordOutOfOrder {
        /// Its seq.
        seq: u64,
        /// Its record id.
        record_id: String,
        /// The higher seq stored before it.
        after_seq: u64,
        /// The segment file.
        segment: PathBuf,
        /// The offset of its block.
        offset: u64,
    },
    /// Committed seqs that no block holds: records removed.
    RecordsRemoved {
        /// First missing seq.
        first_seq: u64,
        /// Last missing seq.
        last_seq: u64,
        /// Where they were expected.
        location: String,
    },
    /// Leaves of a tenant log whose record is gone (their hashes are still in the tree).
    LeavesWithoutRecord {
        /// The tenant.
        tenant: String,
        /// First leaf.
        first_leaf: u64,
        /// Last leaf.
        last_leaf: u64,
    },
    /// A block cannot be read: bytes changed, cut, or the file shortened.
    BlockDamaged {
        /// The segment file.
        segment: PathBuf,
        /// The block's offset.
        offset: u64,
        /// The seqs it held.
        first_seq: u64,
        /// Number of records it held.
        count: u32,
        /// What is wrong.
        detail: String,
    },
    /// A segment file is shorter than committed: its end was truncated.
    SegmentTruncated {
        /// The file.
        segment: PathBuf,
        /// Bytes committed.
        committed: u64,
        /// Bytes present.
        actual: u64,
    },
    /// A committed segment file is gone.
    SegmentMissing {
        /// The file.
        segment: PathBuf,
    },
    /// A record names a tenant, or a leaf, that no committed log has.
    RecordOutsideAnyLog {
        /// Its seq.
        seq: u64,
        /// Its record id.
        record_id: String,
        /// Its tenant.
        tenant: String,
        /// Its leaf index.
        leaf_index: u64,
    },
    /// A tenant's leaf or tree hash file is shorter than its committed tree needs, or missing.
    HashFileTruncated {
        /// The tenant.
        tenant: String,
        /// The file.
        path: PathBuf,
    },
    /// A leaf hash in a tenant's `.leaves` file differs from the hash of its record, while the
    /// record agrees with the tree above it (the stored subtree hash, or a signed checkpoint): the
    /// leaf hash was altered, not the record.
    LeafHashMismatch {
        /// The tenant.
        tenant: String,
        /// The leaf.
        leaf_index: u64,
        /// The `.leaves` file.
        path: PathBuf,
        /// The seq of its record.
        seq: u64,
        /// Its record id.
        record_id: String,
    },
    /// A hash in a tenant's `.hashes` file differs from the one recomputed from its leaf hashes.
    TreeHashMismatch {
        /// The tenant.
        tenant: String,
        /// The `.hashes` file.
        path: PathBuf,
        /// Position in that file, in hashes (32 bytes each).
        index: u64,
        /// First leaf of the subtree it is the hash of.
        first_leaf: u64,
        /// Last leaf of that subtree.
        last_leaf: u64,
        /// Further mismatches not listed one by one.
        more: u64,
    },
    /// A checkpoint's signature does not check out with the trusted key: replaced or forged.
    CheckpointSignatureMismatch {
        /// The tenant.
        tenant: String,
        /// The size the checkpoint is stored under.
        size: u64,
        /// Why.
        problem: CheckpointProblem,
    },
    /// A validly signed checkpoint for another log or size was put in this one's place.
    CheckpointMisplaced {
        /// The tenant.
        tenant: String,
        /// The size it is stored under.
        size: u64,
        /// What it says instead.
        detail: String,
    },
    /// A checkpoint's root is not the root of the tree at its size: records or hashes changed after
    /// it was signed.
    CheckpointRootMismatch {
        /// The tenant.
        tenant: String,
        /// The checkpoint's size.
        size: u64,
    },
    /// A checkpoint signs more leaves than the log has: the log was truncated.
    CheckpointBeyondLog {
        /// The tenant.
        tenant: String,
        /// The checkpoint's size.
        size: u64,
        /// The log's size.
        log_size: u64,
    },
    /// A later checkpoint does not extend an earlier one: history was rewritten.
    InconsistentCheckpoints {
        /// The tenant.
        tenant: String,
        /// The earlier size.
        older: u64,
        /// The later size.
        newer: u64,
    },
    /// Leaves after the newest checkpoint: committed without a signature (appended behind the
    /// store's back, or a checkpoint deleted).
    UnsignedLeaves {
        /// The tenant.
        tenant: String,
        /// Leaves covered by the newest checkpoint.
        signed: u64,
        /// Leaves in the log.
        size: u64,
    },
    /// Bodies marked pruned that no retention run's cutoff covers.
    PrunedWithoutRetention {
        /// First seq.
        first_seq: u64,
        /// Last seq.
        last_seq: u64,
    },
    /// The record ids (`ids/`) are missing, altered, or do not hold one id per committed record:
    /// de-duplication and lookups by record id can no longer be trusted. The records and their
    /// proofs are not affected.
    RecordIdsDamaged {
        /// The run file, or the `ids` directory when the runs together are wrong.
        file: PathBuf,
        /// What is wrong.
        detail: String,
    },
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use Finding::*;
        match self {
            RecordHashMismatch {
                seq,
                record_id,
                tenant,
                leaf_index,
                segment,
                offset,
            } => write!(
                f,
                "record altered: {record_id} (seq {seq}, tenant {tenant} leaf {leaf_index}) in {} block at offset {offset} no longer matches its leaf hash",
                segment.display()
            ),
            RecordReordered {
                seq,
                record_id,
                tenant,
                expected_leaf,
                found_leaf,
                segment,
                offset,
            } => write!(
                f,
                "records reordered: {record_id} (seq {seq}, tenant {tenant}) in {} block at offset {offset} holds leaf {found_leaf} where leaf {expected_leaf} belongs",
                segment.display()
            ),
            RecordOutOfOrder {
                seq,
                record_id,
                after_seq,
                segment,
                offset,
            } => write!(
                f,
                "records reordered: {record_id} (seq {seq}) is stored after seq {after_seq} in {} block at offset {offset}",
                segment.display()
            ),
            RecordsRemoved {
                first_seq,
                last_seq,
                location,
            } => {
                write!(
                    f,
                    "records removed: {} missing from {location}",
                    range("seq", *first_seq, *last_seq)
                )
            }
            LeavesWithoutRecord {
                tenant,
                first_leaf,
                last_leaf,
            } => write!(
                f,
                "records removed: tenant {tenant} {} have hashes in the tree but no record",
                range("leaf", *first_leaf, *last_leaf)
            ),
            BlockDamaged {
                segment,
                offset,
                first_seq,
                count,
                detail,
            } => write!(
                f,
                "block damaged: {} offset {offset} ({}): {detail}",
                segment.display(),
                range(
                    "seq",
                    *first_seq,
                    first_seq + u64::from(*count).saturating_sub(1)
                )
            ),
            SegmentTruncated {
                segment,
                committed,
                actual,
            } => write!(
                f,
                "segment truncated: {} has {actual} bytes, {committed} were committed",
                segment.display()
            ),
            SegmentMissing { segment } => {
                write!(f, "segment removed: {} is missing", segment.display())
            }
            RecordIdsDamaged { file, detail } => write!(
                f,
                "record ids damaged: {}: {detail}; de-duplication and lookups by record id are \
                 not reliable until the store is rebuilt by ingesting its sources into a new one",
                file.display()
            ),
            RecordOutsideAnyLog {
                seq,
                record_id,
                tenant,
                leaf_index,
            } => write!(
                f,
                "record inserted: {record_id} (seq {seq}) claims tenant {tenant} leaf {leaf_index}, which no committed log has"
            ),
            HashFileTruncated { tenant, path } => {
                write!(
                    f,
                    "hash file truncated: {} (tenant {tenant})",
                    path.display()
                )
            }
            LeafHashMismatch {
                tenant,
                leaf_index,
                path,
                seq,
                record_id,
            } => write!(
                f,
                "leaf hash altered: tenant {tenant} leaf {leaf_index} in {} no longer matches its record {record_id} (seq {seq}), which still matches the tree above it",
                path.display()
            ),
            TreeHashMismatch {
                tenant,
                path,
                index,
                first_leaf,
                last_leaf,
                more,
            } => {
                write!(
                    f,
                    "tree altered: tenant {tenant} hash {index} in {} (of {}) differs from the one recomputed from the leaf hashes",
                    path.display(),
                    range("leaf", *first_leaf, *last_leaf)
                )?;
                if *more > 0 {
                    write!(f, " (and {more} more)")?;
                }
                Ok(())
            }
            CheckpointSignatureMismatch {
                tenant,
                size,
                problem,
            } => {
                write!(
                    f,
                    "checkpoint replaced or forged: tenant {tenant} size {size}: {problem}"
                )
            }
            CheckpointMisplaced {
                tenant,
                size,
                detail,
            } => {
                write!(
                    f,
                    "checkpoint replaced: tenant {tenant} size {size}: {detail}"
                )
            }
            CheckpointRootMismatch { tenant, size } => write!(
                f,
                "checkpoint does not match the log: tenant {tenant} size {size}: its root differs from the tree recomputed from the records"
            ),
            CheckpointBeyondLog {
                tenant,
                size,
                log_size,
            } => write!(
                f,
                "log truncated: tenant {tenant} has {log_size} leaves but a checkpoint signs {size}"
            ),
            InconsistentCheckpoints {
                tenant,
                older,
                newer,
            } => write!(
                f,
                "history rewritten: tenant {tenant} checkpoint at size {newer} is not consistent with the one at size {older}"
            ),
            UnsignedLeaves {
                tenant,
                signed,
                size,
            } => write!(
                f,
                "unsigned records: tenant {tenant} leaves {signed}..{size} are not covered by any signed checkpoint"
            ),
            PrunedWithoutRetention {
                first_seq,
                last_seq,
            } => write!(
                f,
                "bodies deleted outside retention: {} are marked pruned but no retention run covers them",
                range("seq", *first_seq, *last_seq)
            ),
        }
    }
}

fn range(what: &str, a: u64, b: u64) -> String {
    let plural = if what == "leaf" { "leaves" } else { "seqs" };
    if a == b {
        format!("{what} {a}")
    } else {
        format!("{plural} {a}..={b}")
    }
}

/// Bodies deleted by retention: their hashes stay, so the tree still verifies.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PrunedRange {
    /// First seq.
    pub first_seq: u64,
    /// Last seq.
    pub last_seq: u64,
}

/// One tenant log as verified.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TenantSummary {
    /// The tenant.
    pub tenant: String,
    /// Leaves in the log.
    pub size: u64,
    /// Checkpoints stored for it.
    pub checkpoints: u64,
    /// The newest checkpoint's size.
    pub latest_checkpoint: u64,
}

/// What `verify` found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct VerifyReport {
    /// Committed records.
    pub committed: u64,
    /// Records whose bodies were re-hashed.
    pub records_checked: u64,
    /// Bytes of record bodies re-hashed.
    pub bytes_checked: u64,
    /// The key signatures were checked with, `name+id`.
    pub key: String,
    /// Per tenant log.
    pub tenants: Vec<TenantSummary>,
    /// Pruned ranges.
    pub pruned: Vec<PrunedRange>,
    /// Everything not as written. Empty means the store verifies.
    pub findings: Vec<Finding>,
    /// Harmless observations, e.g. an interrupted write that the next writer rolls back.
    pub notes: Vec<String>,
}

impl VerifyReport {
    /// Whether nothing was found.
    pub fn is_ok(&self) -> bool {
        self.findings.is_empty()
    }
}

impl Store {
    /// Reads every run of record ids whole (each checks its CRC) and checks that together they
    /// hold one id per committed record, each naming a committed seq.
    fn check_id_runs(&self, runs: &[(u64, u64)], committed: u64, report: &mut VerifyReport) {
        let mut total = 0u64;
        for &(id, count) in runs {
            let path = crate::id_runs::run_path(&self.dir, id);
            let mut damaged = |detail: String| {
                report.findings.push(Finding::RecordIdsDamaged {
                    file: path.clone(),
                    detail,
                });
            };
            let run = match crate::id_runs::Run::open(&self.dir, id, count) {
                Ok(run) => run,
                Err(StoreError::Io { source, .. })
                    if source.kind() == std::io::ErrorKind::NotFound =>
                {
                    damaged("the run is missing".into());
                    continue;
                }
                Err(e) => {
                    damaged(damage_detail(e, &path));
                    continue;
                }
            };
            let checked = run.reader().and_then(|mut r| {
                while let Some((_, seq)) = r.next_entry()? {
                    if seq >= committed {
                        return Ok(Some(seq));
                    }
                }
                Ok(None)
            });
            match checked {
                Ok(None) => total += count,
                Ok(Some(seq)) => damaged(format!(
                    "an id names seq {seq}, but {committed} records are committed"
                )),
                Err(e) => damaged(damage_detail(e, &path)),
            }
        }
        let all_read = report
            .findings
            .iter()
            .all(|f| !matches!(f, Finding::RecordIdsDamaged { .. }));
        if all_read && total != committed {
            report.findings.push(Finding::RecordIdsDamaged {
                file: self.dir.join(crate::id_runs::IDS_DIR),
                detail: format!("the runs hold {total} ids for {committed} committed records"),
            });
        }
    }
}

/// What is wrong, without the location a finding already names.
fn damage_detail(e: StoreError, file: &Path) -> String {
    match e {
        StoreError::Damaged { location, detail } if location == file.display().to_string() => {
            detail
        }
        StoreError::Damaged { location, detail } => format!("{detail} (at {location})"),
        e => e.to_string(),
    }
}

/// Per-tenant state of the record pass.
struct TenantCheck {
    size: u64,
    /// The `.leaves` file, unless it is missing or too short.
    leaves: Option<File>,
    expected: u64,
    early: BTreeSet<u64>,
    cache: (u64, Vec<u8>),
}

/// Leaf hashes per cache chunk.
const CHUNK: u64 = 8192;
/// Out-of-order leaves remembered before the missing ones are declared removed.
const MAX_EARLY: usize = 10_000;
/// Wrong `.hashes` entries remembered with their recomputed value, for the checkpoint checks.
const MAX_CORRECTED: usize = 1 << 16;
/// Suspect leaves of one subtree tried one by one when trying them together failed.
const MAX_ONE_BY_ONE: usize = 8;

impl TenantCheck {
    fn leaf(&mut self, leaf: u64) -> Option<Hash> {
        if leaf >= self.size {
            return None;
        }
        let chunk = leaf / CHUNK;
        if self.cache.1.is_empty() || self.cache.0 != chunk {
            let file = self.leaves.as_ref()?;
            let mut buf = vec![0u8; (CHUNK * 32) as usize];
            let mut n = 0;
            while n < buf.len() {
                match file.read_at(&mut buf[n..], chunk * CHUNK * 32 + n as u64) {
                    Ok(0) => break,
                    Ok(k) => n += k,
                    Err(_) => return None,
                }
            }
            buf.truncate(n);
            self.cache = (chunk, buf);
        }
        let at = ((leaf % CHUNK) * 32) as usize;
        self.cache
            .1
            .get(at..at + 32)
            .and_then(|s| s.try_into().ok())
    }
}

/// A stored checkpoint: the size it is stored under, and what its signature check gave.
type Opened = (u64, Result<Checkpoint, CheckpointProblem>);

/// Per tenant, records that hash to no stored leaf hash: leaf → the record's hash.
type Suspects = BTreeMap<String, BTreeMap<u64, Hash>>;

/// What recomputing a tenant's tree from its leaf hashes found.
struct TreeCheck {
    findings: Vec<Finding>,
    /// The root at each checkpointed size.
    roots: HashMap<u64, Hash>,
    /// `.hashes` entries that differ from the recomputed ones, with the recomputed value.
    corrected: HashMap<u64, Hash>,
}

/// A tenant's tree as its leaf hashes define it: `.hashes` entries found wrong read as recomputed,
/// and leaf hashes found altered read as their records' hashes. The checkpoint checks use it, so
/// that damage already named is not reported again as rewritten history.
struct Corrected<'a> {
    files: &'a TreeFiles,
    leaves: &'a BTreeMap<u64, Hash>,
    upper: &'a HashMap<u64, Hash>,
}

impl HashSource for Corrected<'_> {
    type Error = StoreError;

    fn leaves(&self, first: u64, out: &mut [Hash]) -> Result<(), StoreError> {
        self.files.leaves(first, out)?;
        for (&i, h) in self.leaves.range(first..first + out.len() as u64) {
            out[(i - first) as usize] = *h;
        }
        Ok(())
    }

    fn upper(&self, index: u64) -> Result<Hash, StoreError> {
        match self.upper.get(&index) {
            Some(h) => Ok(*h),
            None => self.files.upper(index),
        }
    }

    fn node(&self, level: u32, index: u64) -> Result<Hash, StoreError> {
        let span = index << level..(index + 1) << level;
        if level >= UPPER_LEVEL && self.leaves.range(span).next().is_some() {
            // The stored hash covers a corrected leaf: recompute it from below.
            let left = self.node(level - 1, 2 * index)?;
            return Ok(merkle::node_hash(
                &left,
                &self.node(level - 1, 2 * index + 1)?,
            ));
        }
        merkle::stored_node(self, level, index)
    }
}

impl Store {
    /// Verifies the whole store. `trusted` overrides the key recorded in `store.json` — pass the key
    /// printed at `init` when the store directory itself may be in an attacker's hands.
    ///
    /// Returns `Err` only when verification could not run (I/O, unreadable state); tampering is
    /// reported in [`VerifyReport::findings`].
    pub fn verify(&self, trusted: Option<&VerifierKey>) -> Result<VerifyReport, StoreError> {
        let key = trusted.unwrap_or(&self.vkey).clone();
        let tx = self.db.begin_read().map_err(|e| self.st(e))?;
        let st = |e: redb::Error| self.st(e);
        let committed = tx
            .open_table(META)
            .map_err(|e| st(e.into()))?
            .get(COMMITTED_LEN)
            .map_err(|e| st(e.into()))?
            .map(|v| v.value())
            .unwrap_or(0);
        let mut blocks = Vec::new();
        for row in tx
            .open_table(BLOCKS)
            .map_err(|e| st(e.into()))?
            .iter()
            .map_err(|e| st(e.into()))?
        {
            let (k, v) = row.map_err(|e| st(e.into()))?;
            blocks.push((k.value(), v.value()));
        }
        let mut segments = BTreeMap::new();
        for row in tx
            .open_table(SEGMENTS)
            .map_err(|e| st(e.into()))?
            .iter()
            .map_err(|e| st(e.into()))?
        {
            let (k, v) = row.map_err(|e| st(e.into()))?;
            segments.insert(k.value(), v.value());
        }
        let mut tenants = BTreeMap::new();
        for row in tx
            .open_table(TENANTS)
            .map_err(|e| st(e.into()))?
            .iter()
            .map_err(|e| st(e.into()))?
        {
            let (k, v) = row.map_err(|e| st(e.into()))?;
            tenants.insert(k.value().to_owned(), v.value());
        }
        let mut checkpoints: HashMap<u32, Vec<(u64, Vec<u8>)>> = HashMap::new();
        for row in tx
            .open_table(CHECKPOINTS)
            .map_err(|e| st(e.into()))?
            .iter()
            .map_err(|e| st(e.into()))?
        {
            let (k, v) = row.map_err(|e| st(e.into()))?;
            let (number, size) = k.value();
            checkpoints
                .entry(number)
                .or_default()
                .push((size, v.value().to_vec()));
        }
        let mut max_cutoff: Option<jiff::Timestamp> = None;
        for row in tx
            .open_table(RETENTION)
            .map_err(|e| st(e.into()))?
            .iter()
            .map_err(|e| st(e.into()))?
        {
            let (_, v) = row.map_err(|e| st(e.into()))?;
            let cutoff = serde_json::from_str::<serde_json::Value>(v.value())
                .ok()
                .and_then(|j| {
                    j.get("cutoff")
                        .and_then(|c| c.as_str())
                        .and_then(|c| c.parse().ok())
                });
            if let Some(c) = cutoff {
                max_cutoff = Some(max_cutoff.map_or(c, |m: jiff::Timestamp| m.max(c)));
            }
        }
        let id_runs = crate::store::read_id_runs(&tx).map_err(st)?;
        drop(tx);

        let mut report = VerifyReport {
            committed,
            key: key.short(),
            ..Default::default()
        };
        self.check_id_runs(&id_runs, committed, &mut report);

        // Segment files against their committed lengths.
        let mut short_segments = HashMap::new();
        for (&id, &len) in &segments {
            let path = self.segment_path(id);
            match std::fs::metadata(&path) {
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    report.findings.push(Finding::SegmentMissing { segment: path });
                    short_segments.insert(id, 0);
                }
                Err(e) => return Err(StoreError::io(&path, e)),
                Ok(m) if m.len() < len => {
                    report.findings.push(Finding::SegmentTruncated {
                        segment: path,
                        committed: len,
                        actual: m.len(),
                    });
                    short_segments.insert(id, m.len());
                }
                Ok(m) if m.len() > len => report.notes.push(format!(
                    "{} has {} bytes after its last commit (a write in progress, or an interrupted one the next writer removes)",
                    path.display(),
                    m.len() - len
                )),
                Ok(_) => {}
            }
        }

        // Tree files against their committed trees.
        let mut checks: HashMap<String, TenantCheck> = HashMap::new();
        let mut trees: HashMap<String, TreeFiles> = HashMap::new();
        for (name, &(number, size)) in &tenants {
            let leaves_path = self.leaves_path(number);
            let hashes_path = self.hash_path(number);
            let leaves = open_committed(&leaves_path, size * 32, name, &mut report)?;
            let hashes = open_committed(
                &hashes_path,
                merkle::upper_hash_count(size) * 32,
                name,
                &mut report,
            )?;
            let for_records = match &leaves {
                Some(f) => Some(f.try_clone().map_err(|e| StoreError::io(&leaves_path, e))?),
                None => None,
            };
            checks.insert(
                name.clone(),
                TenantCheck {
                    size,
                    leaves: for_records,
                    expected: 0,
                    early: BTreeSet::new(),
                    cache: (0, Vec::new()),
                },
            );
            if let (Some(leaves), Some(hashes)) = (leaves, hashes) {
                trees.insert(
                    name.clone(),
                    TreeFiles {
                        leaves,
                        leaves_path,
                        hashes,
                        hashes_path,
                    },
                );
            }
        }

        // Passes 1 and 2 run side by side.
        let checkpointed: HashMap<&String, Vec<u64>> = tenants
            .iter()
            .map(|(n, &(number, size))| {
                let sizes = checkpoints
                    .get(&number)
                    .map(|v| v.iter().map(|(s, _)| *s).filter(|s| *s <= size).collect())
                    .unwrap_or_default();
                (n, sizes)
            })
            .collect();
        let no_leaves = BTreeMap::new();
        let (record_result, tree_result) = std::thread::scope(|scope| {
            let trees = scope.spawn(|| {
                tenants
                    .iter()
                    .filter(|(n, _)| trees.contains_key(*n))
                    .map(|(name, &(number, size))| {
                        let sizes = &checkpointed[name];
                        self.check_tree(name, number, size, sizes, &no_leaves)
                            .map(|r| (name.clone(), r))
                    })
                    .collect::<Result<HashMap<_, _>, StoreError>>()
            });
            let records = self.check_records(
                &blocks,
                committed,
                &short_segments,
                &mut checks,
                max_cutoff,
                &mut report,
            );
            (records, trees.join())
        });
        let suspects = record_result?;
        // Leaves of unreadable blocks are missing too; saying so once per block is enough.
        let damaged = report.findings.iter().any(|f| {
            matches!(
                f,
                Finding::BlockDamaged { .. } | Finding::SegmentMissing { .. }
            )
        });
        if damaged {
            report.findings.retain(|f| {
                let Finding::LeavesWithoutRecord { tenant, first_leaf, last_leaf } = f else {
                    return true;
                };
                report.notes.push(format!(
                    "tenant {tenant} {} have no readable record (in the damaged blocks above, or removed)",
                    range("leaf", *first_leaf, *last_leaf)
                ));
                false
            });
        }
        let mut tree_checks = tree_result.map_err(|_| StoreError::Damaged {
            location: "verify".into(),
            detail: "the tree check stopped unexpectedly".into(),
        })??;

        // Every checkpoint's signature, checked once.
        let mut opened: HashMap<u32, Vec<Opened>> = HashMap::new();
        for (number, mut list) in checkpoints {
            list.sort_by_key(|(s, _)| *s);
            let list = list.into_iter().map(|(s, note)| (s, key.open(&note)));
            opened.insert(number, list.collect());
        }

        // A record that does not hash to its leaf hash is altered, unless it agrees with the tree
        // above the leaf: then the leaf hash is.
        let mut altered_leaves: HashMap<String, BTreeMap<u64, Hash>> = HashMap::new();
        for (name, suspects) in suspects {
            let (Some(files), Some(&(number, size))) = (trees.get(&name), tenants.get(&name))
            else {
                continue;
            };
            let origin = self.origin(&name);
            // The newest checkpoint signed by the key for this log.
            let witness = opened.get(&number).and_then(|list| {
                list.iter().rev().find_map(|(s, cp)| match cp {
                    Ok(cp) if cp.origin == origin && cp.size == *s && cp.size <= size => {
                        Some((cp.size, cp.root))
                    }
                    _ => None,
                })
            });
            let corrected = tree_checks.get(&name).map(|t| &t.corrected);
            let no_upper = HashMap::new();
            let found = altered_leaves_among(
                files,
                size,
                &suspects,
                witness,
                corrected.unwrap_or(&no_upper),
            )?;
            if !found.is_empty() {
                // Recompute with the records' hashes in their place: what is still wrong in the
                // tree is wrong in its own right.
                let check = self.check_tree(&name, number, size, &checkpointed[&name], &found)?;
                tree_checks.insert(name.clone(), check);
                altered_leaves.insert(name, found);
            }
        }
        for f in &mut report.findings {
            if let Finding::RecordHashMismatch {
                seq,
                record_id,
                tenant,
                leaf_index,
                ..
            } = f
                && altered_leaves
                    .get(tenant.as_str())
                    .is_some_and(|m| m.contains_key(leaf_index))
            {
                let path = trees[tenant.as_str()].leaves_path.clone();
                *f = Finding::LeafHashMismatch {
                    tenant: std::mem::take(tenant),
                    leaf_index: *leaf_index,
                    path,
                    seq: *seq,
                    record_id: std::mem::take(record_id),
                };
            }
        }
        for name in tenants.keys() {
            if let Some(t) = tree_checks.get_mut(name) {
                report.findings.append(&mut t.findings);
            }
        }

        // Pass 3: checkpoints.
        for (name, &(number, size)) in &tenants {
            let list = opened.remove(&number).unwrap_or_default();
            let expected_origin = self.origin(name);
            let mut previous: Option<(u64, Hash)> = None;
            let mut latest = 0;
            let tree = tree_checks.get(name);
            let no_upper = HashMap::new();
            let src = trees.get(name).map(|files| Corrected {
                files,
                leaves: altered_leaves.get(name).unwrap_or(&no_leaves),
                upper: tree.map_or(&no_upper, |t| &t.corrected),
            });
            for (cp_size, cp) in &list {
                let cp = match cp {
                    Ok(cp) => cp,
                    Err(problem) => {
                        report.findings.push(Finding::CheckpointSignatureMismatch {
                            tenant: name.clone(),
                            size: *cp_size,
                            problem: problem.clone(),
                        });
                        continue;
                    }
                };
                if cp.origin != expected_origin || cp.size != *cp_size {
                    report.findings.push(Finding::CheckpointMisplaced {
                        tenant: name.clone(),
                        size: *cp_size,
                        detail: format!("it signs {} at size {}", cp.origin, cp.size),
                    });
                    continue;
                }
                if cp.size > size {
                    report.findings.push(Finding::CheckpointBeyondLog {
                        tenant: name.clone(),
                        size: cp.size,
                        log_size: size,
                    });
                    continue;
                }
                latest = latest.max(cp.size);
                if let Some(root) = tree.and_then(|t| t.roots.get(&cp.size))
                    && *root != cp.root
                {
                    report.findings.push(Finding::CheckpointRootMismatch {
                        tenant: name.clone(),
                        size: cp.size,
                    });
                }
                if let (Some((old_size, old_root)), Some(src)) = (previous, &src) {
                    let proof =
                        merkle::consistency_proof(src, old_size, cp.size)?.unwrap_or_default();
                    if !merkle::verify_consistency(old_size, cp.size, &old_root, &cp.root, &proof) {
                        report.findings.push(Finding::InconsistentCheckpoints {
                            tenant: name.clone(),
                            older: old_size,
                            newer: cp.size,
                        });
                    }
                }
                previous = Some((cp.size, cp.root));
            }
            if latest < size {
                report.findings.push(Finding::UnsignedLeaves {
                    tenant: name.clone(),
                    signed: latest,
                    size,
                });
            }
            report.tenants.push(TenantSummary {
                tenant: name.clone(),
                size,
                checkpoints: list.len() as u64,
                latest_checkpoint: latest,
            });
        }
        Ok(report)
    }

    /// Pass 1: every record against its leaf hash, in seq and leaf order. Returns the records
    /// that match no stored leaf hash.
    fn check_records(
        &self,
        blocks: &[(u64, BlockLoc)],
        committed: u64,
        short_segments: &HashMap<u64, u64>,
        checks: &mut HashMap<String, TenantCheck>,
        max_cutoff: Option<jiff::Timestamp>,
        report: &mut VerifyReport,
    ) -> Result<Suspects, StoreError> {
        let mut suspects = Suspects::new();
        let mut seqs = SeqCheck::default();
        let mut dec = zstd::bulk::Decompressor::new().map_err(|e| StoreError::io(&self.dir, e))?;
        let mut open: Option<(u64, File)> = None;
        let mut pruned_open: Option<(u64, u64)> = None;
        let mut unretained_open: Option<(u64, u64)> = None;
        let mut buf = Vec::new();
        for &(first, (seg, offset, count, len)) in blocks {
            let path = self.segment_path(seg);
            let location = format!("{} offset {offset}", path.display());
            let damaged = |detail: String| Finding::BlockDamaged {
                segment: path.clone(),
                offset,
                first_seq: first,
                count,
                detail,
            };
            if len > segment::MAX_BLOCK_LEN {
                report
                    .findings
                    .push(damaged("the block index gives an impossible length".into()));
                seqs.skip_block(first, count);
                continue;
            }
            if let Some(&actual) = short_segments.get(&seg)
                && offset + u64::from(len) > actual
            {
                report
                    .findings
                    .push(damaged("cut off: the segment was truncated".into()));
                seqs.skip_block(first, count);
                continue;
            }
            if open.as_ref().is_none_or(|(id, _)| *id != seg) {
                let f = File::open(&path).map_err(|e| StoreError::io(&path, e))?;
                open = Some((seg, f));
            }
            let Some((_, file)) = &open else { continue };
            buf.resize(len as usize, 0);
            file.read_exact_at(&mut buf, offset)
                .map_err(|e| StoreError::io(&path, e))?;
            let header = match BlockHeader::decode(&buf) {
                Ok(h)
                    if h.first_seq == first
                        && h.count == count
                        && h.block_len() == u64::from(len) =>
                {
                    h
                }
                Ok(_) => {
                    report
                        .findings
                        .push(damaged("the block header was changed".into()));
                    seqs.skip_block(first, count);
                    continue;
                }
                Err(e) => {
                    report.findings.push(damaged(e.to_string()));
                    seqs.skip_block(first, count);
                    continue;
                }
            };
            let raw = match segment::decompress_payload(
                &header,
                &buf[segment::BLOCK_HEADER_LEN..],
                &mut dec,
            ) {
                Ok(r) => r,
                Err(e) => {
                    report.findings.push(damaged(e.to_string()));
                    seqs.skip_block(first, count);
                    continue;
                }
            };
            for rec in RecordIter::new(Bytes::from(raw), count) {
                let rec = match rec {
                    Ok(r) => r,
                    Err(e) => {
                        report.findings.push(damaged(e.to_string()));
                        break;
                    }
                };
                let seq_moved = match seqs.see(rec.seq, &location) {
                    SeqOrder::InOrder => false,
                    SeqOrder::After(after_seq) => {
                        report.findings.push(Finding::RecordOutOfOrder {
                            seq: rec.seq,
                            record_id: rec.record_id.clone(),
                            after_seq,
                            segment: path.clone(),
                            offset,
                        });
                        true
                    }
                };
                let Some(check) = checks.get_mut(&rec.tenant) else {
                    report.findings.push(Finding::RecordOutsideAnyLog {
                        seq: rec.seq,
                        record_id: rec.record_id.clone(),
                        tenant: rec.tenant.clone(),
                        leaf_index: rec.leaf_index,
                    });
                    continue;
                };
                if rec.leaf_index >= check.size {
                    report.findings.push(Finding::RecordOutsideAnyLog {
                        seq: rec.seq,
                        record_id: rec.record_id.clone(),
                        tenant: rec.tenant.clone(),
                        leaf_index: rec.leaf_index,
                    });
                    continue;
                }
                // Leaf order: a leaf arriving after a later one is out of place.
                let leaf = rec.leaf_index;
                let reordered = |found: u64, expected: u64| Finding::RecordReordered {
                    seq: rec.seq,
                    record_id: rec.record_id.clone(),
                    tenant: rec.tenant.clone(),
                    expected_leaf: expected,
                    found_leaf: found,
                    segment: path.clone(),
                    offset,
                };
                if leaf == check.expected {
                    if let Some(&later) = check.early.iter().next()
                        && !seq_moved
                    {
                        report.findings.push(reordered(leaf, later));
                    }
                    check.expected += 1;
                    while check.early.remove(&check.expected) {
                        check.expected += 1;
                    }
                } else if leaf > check.expected {
                    check.early.insert(leaf);
                    if check.early.len() > MAX_EARLY {
                        // The leaves in between are not coming back: they were removed.
                        let first_early = check.early.iter().next().copied().unwrap_or(leaf);
                        report.findings.push(Finding::LeavesWithoutRecord {
                            tenant: rec.tenant.clone(),
                            first_leaf: check.expected,
                            last_leaf: first_early - 1,
                        });
                        check.expected = first_early;
                        while check.early.remove(&check.expected) {
                            check.expected += 1;
                        }
                    }
                } else if !seq_moved {
                    report.findings.push(reordered(leaf, check.expected));
                }
                if rec.pruned {
                    extend(&mut pruned_open, rec.seq, &mut report.pruned);
                    if max_cutoff.is_none_or(|c| rec.time >= c) {
                        let mut ranges = Vec::new();
                        extend(&mut unretained_open, rec.seq, &mut ranges);
                        for r in ranges {
                            report.findings.push(Finding::PrunedWithoutRetention {
                                first_seq: r.first_seq,
                                last_seq: r.last_seq,
                            });
                        }
                    }
                    continue;
                }
                report.records_checked += 1;
                report.bytes_checked += rec.raw.len() as u64;
                let h = merkle::leaf_hash(&rec.raw);
                if check.leaf(leaf) == Some(h) || check.leaves.is_none() {
                    continue;
                }
                // Not its own hash: is it a neighbour's (moved), or nobody's (altered)?
                let lo = leaf.saturating_sub(64);
                let hi = (leaf + 64).min(check.size);
                let found = (lo..hi).find(|&j| j != leaf && check.leaf(j) == Some(h));
                if found.is_none() {
                    suspects
                        .entry(rec.tenant.clone())
                        .or_default()
                        .insert(leaf, h);
                }
                report.findings.push(match found {
                    Some(j) => reordered(j, leaf),
                    None => Finding::RecordHashMismatch {
                        seq: rec.seq,
                        record_id: rec.record_id.clone(),
                        tenant: rec.tenant.clone(),
                        leaf_index: leaf,
                        segment: path.clone(),
                        offset,
                    },
                });
            }
        }
        report.findings.extend(seqs.finish(committed));
        if let Some((a, b)) = pruned_open {
            report.pruned.push(PrunedRange {
                first_seq: a,
                last_seq: b,
            });
        }
        if let Some((a, b)) = unretained_open {
            report.findings.push(Finding::PrunedWithoutRetention {
                first_seq: a,
                last_seq: b,
            });
        }
        let mut names: Vec<&String> = checks.keys().collect();
        names.sort();
        for name in names {
            let c = &checks[name];
            // Leaves never seen, below the size: between `expected` and the early ones, and after.
            let mut at = c.expected;
            for &e in c.early.iter().chain(std::iter::once(&c.size)) {
                if e > at {
                    report.findings.push(Finding::LeavesWithoutRecord {
                        tenant: name.clone(),
                        first_leaf: at,
                        last_leaf: e - 1,
                    });
                }
                at = e + 1;
            }
        }
        Ok(suspects)
    }

    /// Pass 2: recompute a tenant's tree from its leaf hashes (those in `replaced` taken instead of
    /// the stored ones) and compare it with the stored upper-tree hashes; also take the root at
    /// each requested size.
    fn check_tree(
        &self,
        tenant: &str,
        number: u32,
        size: u64,
        sizes: &[u64],
        replaced: &BTreeMap<u64, Hash>,
    ) -> Result<TreeCheck, StoreError> {
        let leaves_path = self.leaves_path(number);
        let hashes_path = self.hash_path(number);
        let open = |path: &Path, len: u64| {
            File::open(path)
                .map(|f| std::io::BufReader::with_capacity(1 << 20, f.take(len)))
                .map_err(|e| StoreError::io(path, e))
        };
        let mut leaves = open(&leaves_path, size * 32)?;
        let mut hashes = open(&hashes_path, merkle::upper_hash_count(size) * 32)?;
        let wanted: BTreeSet<u64> = sizes.iter().copied().collect();
        let mut roots = HashMap::new();
        let mut corrected = HashMap::new();
        let mut frontier = merkle::Frontier::new();
        let mut closed = Vec::with_capacity(64);
        let mut first_bad: Option<(u64, u32, u64)> = None;
        let mut more = 0u64;
        let mut index = 0u64;
        let mut h = [0u8; 32];
        for leaf in 0..size {
            leaves
                .read_exact(&mut h)
                .map_err(|e| StoreError::io(&leaves_path, e))?;
            if let Some(r) = replaced.get(&leaf) {
                h = *r;
            }
            closed.clear();
            frontier.push(h, &mut closed);
            for (level, computed) in (UPPER_LEVEL..).zip(&closed) {
                hashes
                    .read_exact(&mut h)
                    .map_err(|e| StoreError::io(&hashes_path, e))?;
                if h != *computed {
                    if first_bad.is_none() {
                        first_bad = Some((index, level, leaf >> level));
                    } else {
                        more += 1;
                    }
                    if corrected.len() < MAX_CORRECTED {
                        corrected.insert(index, *computed);
                    }
                }
                index += 1;
            }
            if wanted.contains(&frontier.size()) {
                roots.insert(frontier.size(), frontier.root());
            }
        }
        let findings = first_bad
            .map(|(index, level, node)| Finding::TreeHashMismatch {
                tenant: tenant.to_owned(),
                path: hashes_path.clone(),
                index,
                first_leaf: node << level,
                last_leaf: ((node + 1) << level) - 1,
                more,
            })
            .into_iter()
            .collect();
        Ok(TreeCheck {
            findings,
            roots,
            corrected,
        })
    }
}

/// Opens a tree file and checks it holds at least the `need` committed bytes; reports it when it
/// is missing or shorter.
fn open_committed(
    path: &Path,
    need: u64,
    tenant: &str,
    report: &mut VerifyReport,
) -> Result<Option<File>, StoreError> {
    let truncated = || Finding::HashFileTruncated {
        tenant: tenant.to_owned(),
        path: path.to_owned(),
    };
    match File::open(path) {
        Ok(f) => {
            let len = f.metadata().map_err(|e| StoreError::io(path, e))?.len();
            if len < need {
                report.findings.push(truncated());
                return Ok(None);
            }
            Ok(Some(f))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            report.findings.push(truncated());
            Ok(None)
        }
        Err(e) => Err(StoreError::io(path, e)),
    }
}

/// Of the `suspects` (leaf → the hash of its record, which its stored leaf hash is not), those
/// whose record agrees with the tree above the leaf, so that the leaf hash was altered: in a
/// complete 256-leaf subtree, its stored hash; in the last, incomplete one, the root `witness`
/// checkpoint signs.
fn altered_leaves_among(
    files: &TreeFiles,
    size: u64,
    suspects: &BTreeMap<u64, Hash>,
    witness: Option<(u64, Hash)>,
    corrected: &HashMap<u64, Hash>,
) -> Result<BTreeMap<u64, Hash>, StoreError> {
    let mut found = BTreeMap::new();
    let complete = (size >> UPPER_LEVEL) << UPPER_LEVEL;
    let mut by_subtree: BTreeMap<u64, Vec<(u64, Hash)>> = BTreeMap::new();
    for (&leaf, &h) in suspects.range(..complete) {
        by_subtree
            .entry(leaf >> UPPER_LEVEL)
            .or_default()
            .push((leaf, h));
    }
    let mut stored = [[0u8; 32]; 1 << UPPER_LEVEL];
    for (subtree, list) in by_subtree {
        files.leaves(subtree << UPPER_LEVEL, &mut stored)?;
        let expected = files.upper(merkle::stored_hash_index(0, subtree))?;
        let root_with = |patch: &[(u64, Hash)]| {
            let mut hashes = stored;
            for &(leaf, h) in patch {
                hashes[(leaf % (1 << UPPER_LEVEL)) as usize] = h;
            }
            merkle::fold(&mut hashes)
        };
        found.extend(fitting(list, |patch| Ok(root_with(patch) == expected))?);
    }
    let Some((signed, root)) = witness.filter(|&(signed, _)| signed > complete) else {
        return Ok(found);
    };
    let tail: Vec<(u64, Hash)> = suspects
        .range(complete..signed)
        .map(|(&l, &h)| (l, h))
        .collect();
    if tail.is_empty() {
        return Ok(found);
    }
    let root_with = |patch: &[(u64, Hash)]| {
        let mut leaves = found.clone();
        leaves.extend(patch.iter().copied());
        let src = Corrected {
            files,
            leaves: &leaves,
            upper: corrected,
        };
        merkle::tree_root(&src, signed)
    };
    let altered = fitting(tail, |patch| Ok(root_with(patch)? == root))?;
    found.extend(altered);
    Ok(found)
}

/// Of the suspects (leaf, its record's hash), those whose hashes put in place of the stored leaf
/// hashes make `fits` hold: none if it holds already (the leaf hashes agree with the tree, so the
/// records were altered), all of them if it holds with all, else, when they are few, each one that
/// makes it hold alone.
fn fitting(
    suspects: Vec<(u64, Hash)>,
    mut fits: impl FnMut(&[(u64, Hash)]) -> Result<bool, StoreError>,
) -> Result<Vec<(u64, Hash)>, StoreError> {
    if fits(&[])? {
        return Ok(Vec::new());
    }
    if fits(&suspects)? {
        return Ok(suspects);
    }
    let mut alone = Vec::new();
    if suspects.len() <= MAX_ONE_BY_ONE {
        for p in suspects {
            if fits(&[p])? {
                alone.push(p);
            }
        }
    }
    Ok(alone)
}

/// Grows the open range by `seq`, closing it into `out` when `seq` does not follow it.
fn extend(open: &mut Option<(u64, u64)>, seq: u64, out: &mut Vec<PrunedRange>) {
    match open {
        Some((_, last)) if *last + 1 == seq => *last = seq,
        _ => {
            if let Some((a, b)) = open.take() {
                out.push(PrunedRange {
                    first_seq: a,
                    last_seq: b,
                });
            }
            *open = Some((seq, seq));
        }
    }
}

/// How a record's seq relates to those before it.
enum SeqOrder {
    InOrder,
    /// Stored after this higher seq.
    After(u64),
}

/// Tracks seqs in storage order: each must come once, in order, with none missing.
#[derive(Default)]
struct SeqCheck {
    next: u64,
    /// Seqs seen ahead of `next`, with the block they were found in.
    early: BTreeMap<u64, String>,
    removed: Vec<Finding>,
}

impl SeqCheck {
    fn see(&mut self, seq: u64, location: &str) -> SeqOrder {
        if seq == self.next {
            let later = self.early.keys().next().copied();
            self.advance();
            return later.map_or(SeqOrder::InOrder, SeqOrder::After);
        }
        if seq > self.next {
            self.early.insert(seq, location.to_owned());
            if self.early.len() > MAX_EARLY {
                self.give_up_waiting();
            }
            return SeqOrder::InOrder;
        }
        // Already seen or passed: a copy or a move.
        SeqOrder::After(self.next - 1)
    }

    fn advance(&mut self) {
        self.next += 1;
        while self.early.remove(&self.next).is_some() {
            self.next += 1;
        }
    }

    /// The seqs before the first early one are not coming: they were removed.
    fn give_up_waiting(&mut self) {
        if let Some((&first, loc)) = self.early.iter().next() {
            self.removed.push(Finding::RecordsRemoved {
                first_seq: self.next,
                last_seq: first - 1,
                location: loc.clone(),
            });
            self.next = first;
            self.early.remove(&first);
            self.advance();
        }
    }

    /// A block that could not be read: its seqs are accounted for by its own finding.
    fn skip_block(&mut self, first: u64, count: u32) {
        for seq in first..first + u64::from(count) {
            if seq == self.next {
                self.advance();
            } else if seq > self.next {
                self.early.insert(seq, "a damaged block".into());
            }
        }
    }

    fn finish(mut self, committed: u64) -> Vec<Finding> {
        while !self.early.is_empty() {
            self.give_up_waiting();
        }
        if self.next < committed {
            self.removed.push(Finding::RecordsRemoved {
                first_seq: self.next,
                last_seq: committed - 1,
                location: "the end of the store".into(),
            });
        }
        self.removed
    }
}
