//! [`Store`]: open, append, commit and read.

use std::collections::{BTreeMap, HashMap};
use std::fs::{File, OpenOptions};
use std::io::Write as _;
use std::os::unix::fs::FileExt as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use mailtrail_event::{AuditEvent, SourceFormat, Timestamp};
use redb::{ReadableDatabase as _, ReadableTable as _};

use crate::checkpoint::{self, Checkpoint, VerifierKey};
use crate::compress::{BlockCompressor, Framed};
use crate::error::StoreError;
use crate::id_filter::IdFilter;
use crate::id_runs::{IDS_DIR, IdRuns};
use crate::merkle::{self, Frontier, Hash, HashSource};
use crate::pending_ids::PendingIds;
use crate::segment::{self, BlockHeader, RecordIter, RecordRef, StoredRecord};
use crate::signer::{self, BoxSigner, SignerConfig};
use crate::state::*;

/// Records are gathered into blocks of about this many uncompressed bytes before compression.
const BLOCK_TARGET: usize = 1 << 20;
/// zstd level of segment blocks. On simulated UAL JSON in 1 MiB blocks (`zstd -b1 -e3 -B1MiB`),
/// level 1 compresses 1.2–1.3 times faster than level 2 for 2–7 % more bytes, and level 3 is
/// slower still for no gain; compression is a tenth of ingest's CPU.
pub(crate) const ZSTD_LEVEL: i32 = 1;
/// Table lookups a run makes before it builds its id filter, at the least.
#[cfg(not(test))]
const FILTER_AFTER_LOOKUPS: u64 = 1 << 16;
#[cfg(test)]
const FILTER_AFTER_LOOKUPS: u64 = 100;
/// A new segment file is started once the current one reaches this size.
const SEGMENT_TARGET: u64 = 256 << 20;
/// Longest record id and tenant name the store accepts.
const MAX_NAME_LEN: usize = 1024;
/// redb page cache (its default is 1 GiB): the state holds the block index and the checkpoints,
/// a few MB at 10 M records.
const STATE_CACHE: usize = 64 << 20;
/// The tenant of records that name none.
pub const UNKNOWN_TENANT: &str = "unknown";

/// How to open a store.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OpenMode {
    /// Read committed records; any number of readers, alongside one writer.
    ReadOnly,
    /// Append and commit; takes the writer lock, so one writer at a time.
    ReadWrite,
}

/// An event made ready for [`Store::append_prepared`]: what the store keeps of it, with its
/// record's leaf hash already computed. Hashing needs no store, so ingest prepares records on the
/// reader's worker threads, in parallel, and appends them in order on one.
#[derive(Clone, Debug)]
pub struct PreparedRecord {
    record_id: String,
    tenant_id: Option<String>,
    source: SourceFormat,
    time: Timestamp,
    raw: Bytes,
    leaf: Hash,
}

impl PreparedRecord {
    /// Keeps what the store needs of `event` and hashes its original bytes.
    pub fn new(event: AuditEvent) -> PreparedRecord {
        PreparedRecord {
            leaf: merkle::leaf_hash(&event.raw),
            record_id: event.record_id,
            tenant_id: event.tenant_id,
            source: event.source,
            time: event.time,
            raw: event.raw,
        }
    }
}

/// The parts of an event the store keeps, and its leaf hash if it was computed already.
struct RecordParts<'a> {
    record_id: &'a str,
    tenant_id: Option<&'a str>,
    source: SourceFormat,
    time: Timestamp,
    raw: &'a [u8],
    leaf: Option<&'a Hash>,
}

impl<'a> RecordParts<'a> {
    fn of(event: &'a AuditEvent) -> RecordParts<'a> {
        RecordParts {
            record_id: &event.record_id,
            tenant_id: event.tenant_id.as_deref(),
            source: event.source,
            time: event.time,
            raw: &event.raw,
            leaf: None,
        }
    }

    fn of_prepared(record: &'a PreparedRecord) -> RecordParts<'a> {
        RecordParts {
            record_id: &record.record_id,
            tenant_id: record.tenant_id.as_deref(),
            source: record.source,
            time: record.time,
            raw: &record.raw,
            leaf: Some(&record.leaf),
        }
    }
}

/// What [`Store::append`] did with an event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Appended {
    /// A record not seen before: stored (once committed) under this seq and leaf index.
    New {
        /// Its global sequence number.
        seq: u64,
        /// Its leaf index in its tenant's log.
        leaf_index: u64,
    },
    /// The record id is already stored (or appended earlier in this batch) under `seq`.
    Duplicate {
        /// The seq of the copy already kept.
        seq: u64,
    },
}

impl Appended {
    /// Whether the event was new.
    pub fn is_new(&self) -> bool {
        matches!(self, Appended::New { .. })
    }
}

/// What a [`Store::commit`] made durable.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CommitSummary {
    /// Records committed by this commit.
    pub new_records: u64,
    /// Committed records in the store after it (the next seq).
    pub committed_len: u64,
    /// The checkpoints written, one per tenant log that grew.
    pub checkpoints: Vec<CheckpointInfo>,
}

/// One stored checkpoint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckpointInfo {
    /// The tenant.
    pub tenant: String,
    /// The tree size it signs.
    pub size: u64,
    /// The signed note.
    pub note: String,
}

/// One tenant's log as committed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TenantInfo {
    /// The tenant.
    pub tenant: String,
    /// Its number (names its tree files `tree/<number>.leaves` and `tree/<number>.hashes`).
    pub number: u32,
    /// Leaves in its log.
    pub size: u64,
}

pub(crate) enum Db {
    Rw(redb::Database),
    Ro(redb::ReadOnlyDatabase),
}

impl Db {
    pub(crate) fn begin_read(&self) -> Result<redb::ReadTransaction, redb::TransactionError> {
        match self {
            Db::Rw(d) => d.begin_read(),
            Db::Ro(d) => d.begin_read(),
        }
    }
}

/// The evidence store: a directory of segments, tree files and state.
///
/// Readers share a `&Store` across threads; a writer holds the directory's lock for as long as it
/// is open.
pub struct Store {
    pub(crate) dir: PathBuf,
    pub(crate) meta: StoreMeta,
    pub(crate) vkey: VerifierKey,
    pub(crate) db: Db,
    pub(crate) writer: Option<Box<Writer>>,
    pub(crate) committed: AtomicU64,
    /// A reader's open runs of record ids, for [`Store::get`].
    reader_ids: std::sync::Mutex<Option<IdRuns>>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("dir", &self.dir)
            .field("store_id", &self.meta.store_id)
            .field("writable", &self.writer.is_some())
            .finish()
    }
}

struct TenantLog {
    number: u32,
    frontier: Frontier,
    committed: u64,
    files: TreeFiles,
    /// Leaf hashes appended since the last commit, for `.leaves`.
    pending_leaves: Vec<u8>,
    /// Upper-tree hashes closed since the last commit, for `.hashes`.
    pending_hashes: Vec<u8>,
}

pub(crate) struct OpenSegment {
    pub(crate) id: u64,
    file: File,
    path: PathBuf,
    len: u64,
}

pub(crate) struct Writer {
    _lock: WriterLock,
    signer: BoxSigner,
    compressor: BlockCompressor,
    pub(crate) segment: Option<OpenSegment>,
    /// Segments written since the last commit and not yet synced, with their new lengths.
    unsynced: BTreeMap<u64, (File, u64)>,
    created_segment_file: bool,
    block: Vec<u8>,
    block_first_seq: u64,
    block_count: u32,
    pending_ids: PendingIds,
    pending_blocks: Vec<(u64, BlockLoc)>,
    tenants: HashMap<String, TenantLog>,
    changed_tenants: Vec<String>,
    next_seq: u64,
    pub(crate) next_segment: u64,
    next_tenant: u32,
    /// The committed record ids.
    ids: IdRuns,
    next_id_run: u64,
    /// Every stored and pending record id, so that most new records skip the lookup in the runs.
    /// Built only once this run has looked up a 32nd as many ids as the runs hold: building it
    /// costs about as much as those lookups did, and a small ingest into a large store does not
    /// pay it.
    known_ids: Option<IdFilter>,
    /// Lookups this run made without a filter.
    unfiltered_lookups: u64,
    key_buf: Vec<u8>,
    lookup_buf: Vec<u8>,
    hash_buf: Vec<Hash>,
    /// Set when a commit failed half-way: memory no longer matches disk, so the writer refuses
    /// further work; reopening rolls the disk back to the last commit.
    pub(crate) poisoned: bool,
}

fn random_store_id() -> Result<String, StoreError> {
    let mut b = [0u8; 8];
    getrandom::fill(&mut b)
        .map_err(|e| StoreError::BadSigner(format!("no system randomness: {e}")))?;
    Ok(b.iter().map(|x| format!("{x:02x}")).collect())
}

impl Store {
    /// Creates a store in `dir` (created if missing; must be empty) and its signing key, and opens
    /// it for writing.
    pub fn init(dir: &Path, signer: SignerConfig) -> Result<Store, StoreError> {
        std::fs::create_dir_all(dir).map_err(|e| StoreError::io(dir, e))?;
        let nonempty = std::fs::read_dir(dir)
            .map_err(|e| StoreError::io(dir, e))?
            .next()
            .is_some();
        if nonempty {
            return Err(StoreError::AlreadyExists {
                dir: dir.to_owned(),
            });
        }
        let store_id = random_store_id()?;
        let key_name = format!("mailtrail/{store_id}");
        let (vkey, signer_meta) = match &signer {
            SignerConfig::KeyFile(path) => {
                let rel = path
                    .clone()
                    .unwrap_or_else(|| PathBuf::from(DEFAULT_KEY_FILE));
                let full = if rel.is_relative() && path.is_none() {
                    dir.join(&rel)
                } else {
                    rel.clone()
                };
                let vkey = signer::create_key_file(&full, &key_name)?;
                let stored = if path.is_none() {
                    rel
                } else {
                    std::path::absolute(&full).map_err(|e| StoreError::io(&full, e))?
                };
                (vkey, SignerMeta::KeyFile { path: stored })
            }
            SignerConfig::Pkcs11(uri) => {
                let (_, vkey) = signer::open_pkcs11(uri, &key_name, true)?;
                (
                    vkey,
                    SignerMeta::Pkcs11 {
                        uri: uri.to_string(),
                    },
                )
            }
        };
        for sub in [SEGMENTS_DIR, TREE_DIR, IDS_DIR] {
            let p = dir.join(sub);
            std::fs::create_dir(&p).map_err(|e| StoreError::io(&p, e))?;
        }
        let state = dir.join(STATE_FILE);
        let db = redb::Builder::new()
            .set_concurrency_mode(redb::ConcurrencyMode::SingleWriter)
            .create(&state)
            .map_err(|e| StoreError::state(&state, e))?;
        {
            let st = |e: redb::Error| StoreError::state(&state, e);
            let tx = db.begin_write().map_err(|e| st(e.into()))?;
            {
                let mut meta = tx.open_table(META).map_err(|e| st(e.into()))?;
                for k in [
                    COMMITTED_LEN,
                    NEXT_SEGMENT,
                    NEXT_TENANT,
                    NEXT_RETENTION_RUN,
                    NEXT_ID_RUN,
                ] {
                    meta.insert(k, 0).map_err(|e| st(e.into()))?;
                }
                tx.open_table(ID_RUNS).map_err(|e| st(e.into()))?;
                tx.open_table(BLOCKS).map_err(|e| st(e.into()))?;
                tx.open_table(SEGMENTS).map_err(|e| st(e.into()))?;
                tx.open_table(TENANTS).map_err(|e| st(e.into()))?;
                tx.open_table(CHECKPOINTS).map_err(|e| st(e.into()))?;
                tx.open_table(RETENTION).map_err(|e| st(e.into()))?;
            }
            tx.commit().map_err(|e| st(e.into()))?;
        }
        drop(db);
        let meta = StoreMeta {
            format: FORMAT,
            store_id,
            verifier_key: vkey.as_str().to_owned(),
            signer: signer_meta,
            created: jiff::Timestamp::now().to_string(),
        };
        // store.json last: a directory without it is not a store, so an interrupted init can be
        // removed and retried.
        meta.write_new(dir)?;
        sync_dir(dir)?;
        Store::open(dir, OpenMode::ReadWrite)
    }

    /// Opens an existing store. `ReadWrite` takes the writer lock and rolls back anything an
    /// interrupted writer left after its last commit.
    pub fn open(dir: &Path, mode: OpenMode) -> Result<Store, StoreError> {
        let meta = StoreMeta::read(dir)?;
        let vkey = VerifierKey::parse(&meta.verifier_key).ok_or_else(|| StoreError::Damaged {
            location: dir.join(META_FILE).display().to_string(),
            detail: "the verifier key is malformed".into(),
        })?;
        let state = dir.join(STATE_FILE);
        let mut store = match mode {
            OpenMode::ReadWrite => {
                let lock = WriterLock::acquire(dir)?;
                let db = open_rw(&state)?;
                let signer = load_signer(dir, &meta, &vkey)?;
                let mut store = Store {
                    dir: dir.to_owned(),
                    meta,
                    vkey,
                    db: Db::Rw(db),
                    writer: None,
                    committed: AtomicU64::new(0),
                    reader_ids: Default::default(),
                };
                let writer = store.recover(lock, signer)?;
                store.writer = Some(Box::new(writer));
                store
            }
            OpenMode::ReadOnly => Store {
                dir: dir.to_owned(),
                meta,
                vkey,
                db: Db::Ro(open_ro(dir, &state)?),
                writer: None,
                committed: AtomicU64::new(0),
                reader_ids: Default::default(),
            },
        };
        let len = store.read_committed_len()?;
        store.committed = AtomicU64::new(len);
        Ok(store)
    }

    /// The store directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The store's random id, part of every checkpoint origin.
    pub fn store_id(&self) -> &str {
        &self.meta.store_id
    }

    /// The checkpoint verifier key recorded at `init`, in C2SP vkey form.
    pub fn verifier_key(&self) -> &VerifierKey {
        &self.vkey
    }

    /// The origin line of a tenant's checkpoints.
    pub fn origin(&self, tenant: &str) -> String {
        checkpoint::origin(&self.meta.store_id, tenant)
    }

    pub(crate) fn state_path(&self) -> PathBuf {
        self.dir.join(STATE_FILE)
    }

    pub(crate) fn st(&self, e: impl std::fmt::Display) -> StoreError {
        StoreError::state(self.state_path(), e)
    }

    pub(crate) fn segment_path(&self, id: u64) -> PathBuf {
        segment_path(&self.dir, id)
    }

    pub(crate) fn leaves_path(&self, number: u32) -> PathBuf {
        leaves_path(&self.dir, number)
    }

    pub(crate) fn hash_path(&self, number: u32) -> PathBuf {
        hash_path(&self.dir, number)
    }

    fn read_committed_len(&self) -> Result<u64, StoreError> {
        let tx = self.db.begin_read().map_err(|e| self.st(e))?;
        let meta = tx.open_table(META).map_err(|e| self.st(e))?;
        Ok(meta
            .get(COMMITTED_LEN)
            .map_err(|e| self.st(e))?
            .map(|v| v.value())
            .unwrap_or(0))
    }

    /// Number of committed records, which is also the next seq.
    pub fn committed_len(&self) -> u64 {
        if self.writer.is_none()
            && let Ok(n) = self.read_committed_len()
        {
            self.committed.store(n, Ordering::Relaxed);
        }
        self.committed.load(Ordering::Relaxed)
    }

    /// Brings the files back to the last commit and builds the writer's memory of it.
    fn recover(&self, lock: WriterLock, signer: BoxSigner) -> Result<Writer, StoreError> {
        let tx = self.db.begin_read().map_err(|e| self.st(e))?;
        let meta = tx.open_table(META).map_err(|e| self.st(e))?;
        let get = |k: &str| -> Result<u64, StoreError> {
            Ok(meta
                .get(k)
                .map_err(|e| self.st(e))?
                .map(|v| v.value())
                .unwrap_or(0))
        };
        let committed_len = get(COMMITTED_LEN)?;
        let next_segment = get(NEXT_SEGMENT)?;
        let next_tenant = u32::try_from(get(NEXT_TENANT)?).map_err(|e| self.st(e))?;
        let next_id_run = get(NEXT_ID_RUN)?;

        // Segments: cut interrupted writes, drop files no commit refers to.
        let segments = tx.open_table(SEGMENTS).map_err(|e| self.st(e))?;
        let mut known = BTreeMap::new();
        for row in segments.iter().map_err(|e| self.st(e))? {
            let (id, len) = row.map_err(|e| self.st(e))?;
            known.insert(id.value(), len.value());
        }
        for (&id, &len) in &known {
            let path = self.segment_path(id);
            truncate_to_commit(&path, len)?;
        }
        remove_orphans(&self.dir.join(SEGMENTS_DIR), |name| {
            parse_numbered(name, ".seg").is_some_and(|id| known.contains_key(&id))
        })?;

        // Tenant logs: cut both tree files back to the committed size, reload each frontier.
        let tenants_t = tx.open_table(TENANTS).map_err(|e| self.st(e))?;
        let mut tenants = HashMap::new();
        let mut numbers = std::collections::HashSet::new();
        for row in tenants_t.iter().map_err(|e| self.st(e))? {
            let (name, v) = row.map_err(|e| self.st(e))?;
            let (number, size) = v.value();
            let (leaves_path, hashes_path) = (self.leaves_path(number), self.hash_path(number));
            truncate_to_commit(&leaves_path, size * 32)?;
            truncate_to_commit(&hashes_path, merkle::upper_hash_count(size) * 32)?;
            let files = TreeFiles::open(&self.dir, number, Access::Write)?;
            let frontier = Frontier::load(size, &files)?;
            numbers.insert(number);
            tenants.insert(
                name.value().to_owned(),
                TenantLog {
                    number,
                    frontier,
                    committed: size,
                    files,
                    pending_leaves: Vec::new(),
                    pending_hashes: Vec::new(),
                },
            );
        }
        remove_orphans(&self.dir.join(TREE_DIR), |name| {
            [".leaves", ".hashes"].iter().any(|suffix| {
                parse_numbered(name, suffix).is_some_and(|n| numbers.contains(&(n as u32)))
            })
        })?;

        // Keep filling the newest segment while it has room.
        let segment = match known.iter().next_back() {
            Some((&id, &len)) if len < SEGMENT_TARGET => {
                let path = self.segment_path(id);
                let file = OpenOptions::new()
                    .read(true)
                    .write(true)
                    .open(&path)
                    .map_err(|e| StoreError::io(&path, e))?;
                Some(OpenSegment {
                    id,
                    file,
                    path,
                    len,
                })
            }
            _ => None,
        };
        // Record ids: drop runs that a commit never listed or that a merge replaced.
        let runs = read_id_runs(&tx).map_err(|e| self.st(e))?;
        remove_orphans(&self.dir.join(IDS_DIR), |name| {
            parse_numbered(name, ".run").is_some_and(|id| runs.iter().any(|(r, _)| *r == id))
        })?;
        let ids = IdRuns::open(&self.dir, runs)?;
        Ok(Writer {
            _lock: lock,
            signer,
            compressor: BlockCompressor::new(ZSTD_LEVEL)
                .map_err(|e| StoreError::io(&self.dir, e))?,
            segment,
            unsynced: BTreeMap::new(),
            created_segment_file: false,
            block: Vec::with_capacity(BLOCK_TARGET + (64 << 10)),
            block_first_seq: committed_len,
            block_count: 0,
            pending_ids: PendingIds::default(),
            pending_blocks: Vec::new(),
            tenants,
            changed_tenants: Vec::new(),
            next_seq: committed_len,
            next_segment,
            next_tenant,
            ids,
            next_id_run,
            known_ids: None,
            unfiltered_lookups: 0,
            key_buf: Vec::with_capacity(64),
            lookup_buf: Vec::new(),
            hash_buf: Vec::with_capacity(64),
            poisoned: false,
        })
    }

    /// Appends an event unless its record id is already stored. Nothing is visible to readers or
    /// durable until [`commit`](Self::commit).
    ///
    /// An [`StoreError::InvalidEvent`] refuses only this event; other errors mean the writer must
    /// be reopened.
    pub fn append(&mut self, event: &AuditEvent) -> Result<Appended, StoreError> {
        self.append_parts(RecordParts::of(event))
    }

    /// Appends a [`PreparedRecord`], as [`append`](Self::append) appends its event.
    pub fn append_prepared(&mut self, record: &PreparedRecord) -> Result<Appended, StoreError> {
        self.append_parts(RecordParts::of_prepared(record))
    }

    fn append_parts(&mut self, event: RecordParts<'_>) -> Result<Appended, StoreError> {
        let Store { dir, writer, .. } = self;
        let dir = dir.as_path();
        let w = writer.as_deref_mut().ok_or(StoreError::ReadOnly)?;
        if w.poisoned {
            return Err(poisoned());
        }
        let invalid = |reason| StoreError::InvalidEvent {
            record_id: event.record_id.to_owned(),
            reason,
        };
        if event.record_id.is_empty() {
            return Err(invalid("it has no record id"));
        }
        if event.record_id.len() > MAX_NAME_LEN {
            return Err(invalid("its record id is longer than 1024 bytes"));
        }
        if event.raw.is_empty() {
            return Err(invalid("it has no original record bytes"));
        }
        if event.raw.len() > segment::MAX_RECORD_LEN {
            return Err(invalid("it is larger than 64 MiB"));
        }
        let tenant = event
            .tenant_id
            .filter(|t| !t.is_empty())
            .unwrap_or(UNKNOWN_TENANT);
        if tenant.len() > MAX_NAME_LEN {
            return Err(invalid("its tenant id is longer than 1024 bytes"));
        }
        let source = segment::source_code(event.source).ok_or(invalid(
            "its source format is unknown to this store version",
        ))?;

        pack_record_id(event.record_id, &mut w.key_buf);
        if let Some(seq) = w.pending_ids.get(&w.key_buf) {
            return Ok(Appended::Duplicate { seq });
        }
        let maybe_stored = match &w.known_ids {
            Some(filter) => filter.may_contain(&w.key_buf),
            None => {
                w.unfiltered_lookups += 1;
                let stored = w.ids.len();
                if w.unfiltered_lookups >= FILTER_AFTER_LOOKUPS
                    && w.unfiltered_lookups >= stored / 32
                {
                    // Room for as many again: an ingest that doubles the store (its second
                    // ingest, say) does not stop half-way to rebuild it.
                    let mut filter = id_filter_of(&w.ids, stored.saturating_mul(2))?;
                    w.pending_ids.for_each_key(|key| filter.insert(key));
                    w.known_ids = Some(filter);
                }
                true
            }
        };
        if maybe_stored && let Some(seq) = w.ids.get(&w.key_buf, &mut w.lookup_buf)? {
            return Ok(Appended::Duplicate { seq });
        }

        let seq = w.next_seq;
        let log = match w.tenants.get_mut(tenant) {
            Some(l) => l,
            None => {
                let number = w.next_tenant;
                w.next_tenant = w
                    .next_tenant
                    .checked_add(1)
                    .ok_or(invalid("too many tenants"))?;
                let files = TreeFiles::open(dir, number, Access::Create)?;
                w.tenants.entry(tenant.to_owned()).or_insert(TenantLog {
                    number,
                    frontier: Frontier::new(),
                    committed: 0,
                    files,
                    pending_leaves: Vec::new(),
                    pending_hashes: Vec::new(),
                })
            }
        };
        let leaf_index = log.frontier.size();
        if log.pending_leaves.is_empty() && log.committed == leaf_index {
            w.changed_tenants.push(tenant.to_owned());
        }
        let leaf = event
            .leaf
            .copied()
            .unwrap_or_else(|| merkle::leaf_hash(event.raw));
        w.hash_buf.clear();
        log.frontier.push(leaf, &mut w.hash_buf);
        log.pending_leaves.extend_from_slice(&leaf);
        for h in &w.hash_buf {
            log.pending_hashes.extend_from_slice(h);
        }
        if w.block_count == 0 {
            w.block_first_seq = seq;
        }
        segment::encode_record(
            &mut w.block,
            &RecordRef {
                seq,
                pruned: false,
                source,
                time: event.time,
                leaf_index,
                tenant,
                record_id: event.record_id,
                body: event.raw,
            },
        );
        w.block_count += 1;
        if let Some(filter) = &mut w.known_ids {
            filter.insert(&w.key_buf);
        }
        w.pending_ids.insert(&w.key_buf, seq);
        w.next_seq += 1;
        if w.block.len() >= BLOCK_TARGET {
            w.flush_block(dir)?;
        }
        Ok(Appended::New { seq, leaf_index })
    }

    /// Makes everything appended so far durable and visible, and writes a signed checkpoint for
    /// every tenant log that grew. A crash before this returns loses the uncommitted records and
    /// nothing else.
    pub fn commit(&mut self) -> Result<CommitSummary, StoreError> {
        let dir = self.dir.clone();
        let store_id = self.meta.store_id.clone();
        let state_path = self.state_path();
        let Store {
            db,
            writer,
            committed,
            ..
        } = self;
        let w = writer.as_deref_mut().ok_or(StoreError::ReadOnly)?;
        if w.poisoned {
            return Err(poisoned());
        }
        let Db::Rw(db) = &*db else {
            return Err(StoreError::ReadOnly);
        };
        let before = committed.load(Ordering::Relaxed);
        if w.next_seq == before {
            return Ok(CommitSummary {
                new_records: 0,
                committed_len: before,
                checkpoints: Vec::new(),
            });
        }
        // From here on a failure leaves memory ahead of the disk.
        w.poisoned = true;
        w.flush_block(&dir)?;
        w.write_compressed_blocks(&dir)?;
        // 1. Segment bytes, then hashes, reach the disk before the state that refers to them.
        for (path_id, (file, _)) in &w.unsynced {
            file.sync_data()
                .map_err(|e| StoreError::io(segment_path(&dir, *path_id), e))?;
        }
        if w.created_segment_file {
            sync_dir(&dir.join(SEGMENTS_DIR))?;
        }
        let mut new_tenant_files = false;
        let mut notes = Vec::new();
        for name in &w.changed_tenants {
            let Some(log) = w.tenants.get_mut(name) else {
                continue;
            };
            let f = &log.files;
            write_synced(
                &f.leaves,
                &log.pending_leaves,
                log.committed * 32,
                &f.leaves_path,
            )?;
            // Fewer than 256 new leaves may close no upper-tree hash.
            if !log.pending_hashes.is_empty() {
                let at = merkle::upper_hash_count(log.committed) * 32;
                write_synced(&f.hashes, &log.pending_hashes, at, &f.hashes_path)?;
            }
            new_tenant_files |= log.committed == 0;
            // 2. A checkpoint per grown log, signed before the commit that records it.
            let cp = Checkpoint {
                origin: checkpoint::origin(&store_id, name),
                size: log.frontier.size(),
                root: log.frontier.root(),
            };
            let note = checkpoint::sign(&cp, w.signer.as_ref())
                .map_err(|e| StoreError::SigningFailed(e.to_string()))?;
            notes.push((name.clone(), log.number, cp.size, note));
        }
        if new_tenant_files {
            sync_dir(&dir.join(TREE_DIR))?;
        }
        // 3. The new record ids as a run, merged with the runs it outgrows.
        let sorted = w.pending_ids.sorted();
        let run = w.ids.write_commit(w.next_id_run, &sorted.as_pairs())?;
        drop(sorted);
        sync_dir(&dir.join(IDS_DIR))?;
        // 4. One transaction makes it all part of the store.
        let st = |e: redb::Error| StoreError::state(&state_path, e);
        let tx = db.begin_write().map_err(|e| st(e.into()))?;
        {
            let mut runs = tx.open_table(ID_RUNS).map_err(|e| st(e.into()))?;
            for old in w.ids.replaced_by(&run) {
                runs.remove(old).map_err(|e| st(e.into()))?;
            }
            runs.insert(run.id(), run.count())
                .map_err(|e| st(e.into()))?;
            let mut blocks = tx.open_table(BLOCKS).map_err(|e| st(e.into()))?;
            for (first, loc) in &w.pending_blocks {
                blocks.insert(*first, *loc).map_err(|e| st(e.into()))?;
            }
            let mut segs = tx.open_table(SEGMENTS).map_err(|e| st(e.into()))?;
            for (id, (_, len)) in &w.unsynced {
                segs.insert(*id, *len).map_err(|e| st(e.into()))?;
            }
            let mut tenants = tx.open_table(TENANTS).map_err(|e| st(e.into()))?;
            let mut cps = tx.open_table(CHECKPOINTS).map_err(|e| st(e.into()))?;
            for (name, number, size, note) in &notes {
                tenants
                    .insert(name.as_str(), (*number, *size))
                    .map_err(|e| st(e.into()))?;
                cps.insert((*number, *size), note.as_slice())
                    .map_err(|e| st(e.into()))?;
            }
            let mut meta = tx.open_table(META).map_err(|e| st(e.into()))?;
            meta.insert(COMMITTED_LEN, w.next_seq)
                .map_err(|e| st(e.into()))?;
            meta.insert(NEXT_SEGMENT, w.next_segment)
                .map_err(|e| st(e.into()))?;
            meta.insert(NEXT_TENANT, u64::from(w.next_tenant))
                .map_err(|e| st(e.into()))?;
            meta.insert(NEXT_ID_RUN, w.next_id_run + 1)
                .map_err(|e| st(e.into()))?;
        }
        tx.commit().map_err(|e| st(e.into()))?;

        // 5. Memory follows, and the runs merged into the new one go.
        w.next_id_run += 1;
        for path in w.ids.install(run) {
            if let Err(e) = std::fs::remove_file(&path) {
                // The next writer removes it: no commit lists it any more.
                tracing::warn!(file = %path.display(), error = %e, "Could not remove a merged run of record ids.");
            }
        }
        for name in w.changed_tenants.drain(..) {
            if let Some(log) = w.tenants.get_mut(&name) {
                log.committed = log.frontier.size();
                log.pending_leaves.clear();
                log.pending_hashes.clear();
            }
        }
        w.pending_ids.clear();
        w.pending_blocks.clear();
        w.unsynced.clear();
        w.created_segment_file = false;
        committed.store(w.next_seq, Ordering::Relaxed);
        if let Some(filter) = &w.known_ids
            && filter.wants_to_grow()
        {
            // Every id is in the runs now: rebuild at twice the size.
            w.known_ids = Some(id_filter_of(&w.ids, filter.len().saturating_mul(2))?);
        }
        w.poisoned = false;
        Ok(CommitSummary {
            new_records: w.next_seq - before,
            committed_len: w.next_seq,
            checkpoints: notes
                .into_iter()
                .map(|(tenant, _, size, note)| CheckpointInfo {
                    tenant,
                    size,
                    note: String::from_utf8_lossy(&note).into_owned(),
                })
                .collect(),
        })
    }

    /// Number of records appended but not yet committed.
    pub fn pending_len(&self) -> u64 {
        self.writer
            .as_deref()
            .map_or(0, |w| w.next_seq - self.committed.load(Ordering::Relaxed))
    }

    /// The committed record with this seq.
    pub fn get_seq(&self, seq: u64) -> Result<Option<StoredRecord>, StoreError> {
        if seq >= self.committed_len() {
            return Ok(None);
        }
        let tx = self.db.begin_read().map_err(|e| self.st(e))?;
        let blocks = tx.open_table(BLOCKS).map_err(|e| self.st(e))?;
        let Some(row) = blocks.range(..=seq).map_err(|e| self.st(e))?.next_back() else {
            return Err(self.missing_block(seq));
        };
        let (first, loc) = row.map_err(|e| self.st(e))?;
        let (first, loc) = (first.value(), loc.value());
        let records = self.read_block(first, loc)?;
        records
            .into_iter()
            .find(|r| r.seq == seq)
            .map(Some)
            .ok_or_else(|| self.missing_block(seq))
    }

    fn missing_block(&self, seq: u64) -> StoreError {
        StoreError::Damaged {
            location: format!("seq {seq}"),
            detail: "no stored block holds this committed record".into(),
        }
    }

    /// The committed record with this record id.
    pub fn get(&self, record_id: &str) -> Result<Option<StoredRecord>, StoreError> {
        let mut key = Vec::new();
        pack_record_id(record_id, &mut key);
        let mut buf = Vec::new();
        let found = match self.writer.as_deref() {
            Some(w) => w.ids.get(&key, &mut buf)?,
            None => self.look_up_committed(&key, &mut buf)?,
        };
        let Some(seq) = found else {
            return Ok(None);
        };
        let rec = self.get_seq(seq)?.ok_or_else(|| self.missing_block(seq))?;
        if rec.record_id != record_id {
            return Err(StoreError::Damaged {
                location: format!("seq {seq}"),
                detail: format!(
                    "holds record {:?}, the id table says {record_id:?}",
                    rec.record_id
                ),
            });
        }
        Ok(Some(rec))
    }

    /// A reader's lookup in the runs the state lists now, kept open while the list stays the same.
    fn look_up_committed(&self, key: &[u8], buf: &mut Vec<u8>) -> Result<Option<u64>, StoreError> {
        let mut open = self
            .reader_ids
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut retries = 0;
        loop {
            let tx = self.db.begin_read().map_err(|e| self.st(e))?;
            let list = read_id_runs(&tx).map_err(|e| self.st(e))?;
            if open
                .as_ref()
                .is_some_and(|runs| runs.list().eq(list.iter().copied()))
            {
                break;
            }
            match IdRuns::open(&self.dir, list) {
                Ok(runs) => {
                    *open = Some(runs);
                    break;
                }
                // A writer merged these runs and removed them since the list was read.
                Err(StoreError::Io { source, .. })
                    if source.kind() == std::io::ErrorKind::NotFound && retries < 3 =>
                {
                    retries += 1;
                }
                Err(e) => return Err(e),
            }
        }
        open.as_ref().map_or(Ok(None), |runs| runs.get(key, buf))
    }

    /// Committed records in seq order, from `from_seq` on, as of the moment of the call.
    pub fn scan(
        &self,
        from_seq: u64,
    ) -> impl Iterator<Item = Result<StoredRecord, StoreError>> + '_ {
        Scan::new(self, from_seq)
    }

    /// Reads and decodes one committed block.
    pub(crate) fn read_block(
        &self,
        first: u64,
        (segment, offset, count, len): BlockLoc,
    ) -> Result<Vec<StoredRecord>, StoreError> {
        let path = self.segment_path(segment);
        if len > segment::MAX_BLOCK_LEN {
            return Err(StoreError::Damaged {
                location: format!("block index entry for seq {first}"),
                detail: format!("a block of {len} bytes is larger than any block the store writes"),
            });
        }
        let file = File::open(&path).map_err(|e| StoreError::io(&path, e))?;
        let mut buf = vec![0u8; len as usize];
        file.read_exact_at(&mut buf, offset)
            .map_err(|e| StoreError::io(&path, e))?;
        let damaged = |detail: String| StoreError::Damaged {
            location: format!("{} offset {offset}", path.display()),
            detail,
        };
        let header = BlockHeader::decode(&buf).map_err(|e| damaged(e.to_string()))?;
        if header.first_seq != first
            || header.count != count
            || header.block_len() != u64::from(len)
        {
            return Err(damaged(
                "block header disagrees with the block index".into(),
            ));
        }
        let mut dec = zstd::bulk::Decompressor::new().map_err(|e| StoreError::io(&path, e))?;
        let raw = segment::decompress_payload(&header, &buf[segment::BLOCK_HEADER_LEN..], &mut dec)
            .map_err(|e| damaged(e.to_string()))?;
        RecordIter::new(Bytes::from(raw), count)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| damaged(e.to_string()))
    }

    /// Every tenant log as committed.
    pub fn tenants(&self) -> Result<Vec<TenantInfo>, StoreError> {
        let tx = self.db.begin_read().map_err(|e| self.st(e))?;
        let t = tx.open_table(TENANTS).map_err(|e| self.st(e))?;
        let mut out = Vec::new();
        for row in t.iter().map_err(|e| self.st(e))? {
            let (k, v) = row.map_err(|e| self.st(e))?;
            let (number, size) = v.value();
            out.push(TenantInfo {
                tenant: k.value().to_owned(),
                number,
                size,
            });
        }
        Ok(out)
    }

    /// The newest checkpoint of a tenant's log, as signed note text.
    pub fn latest_checkpoint(&self, tenant: &str) -> Result<Option<CheckpointInfo>, StoreError> {
        let Some(t) = self.tenants()?.into_iter().find(|t| t.tenant == tenant) else {
            return Ok(None);
        };
        let tx = self.db.begin_read().map_err(|e| self.st(e))?;
        let cps = tx.open_table(CHECKPOINTS).map_err(|e| self.st(e))?;
        let row = cps
            .range((t.number, 0)..=(t.number, u64::MAX))
            .map_err(|e| self.st(e))?
            .next_back();
        let Some(row) = row else { return Ok(None) };
        let (k, v) = row.map_err(|e| self.st(e))?;
        Ok(Some(CheckpointInfo {
            tenant: tenant.to_owned(),
            size: k.value().1,
            note: String::from_utf8_lossy(v.value()).into_owned(),
        }))
    }

    /// The tree files of a tenant number, for proofs.
    pub(crate) fn open_tree(&self, number: u32) -> Result<TreeFiles, StoreError> {
        TreeFiles::open(&self.dir, number, Access::Read)
    }

    /// Gives back the space copy-on-write leaves free in the state database. Takes time
    /// proportional to the state's size (the block index and checkpoints: a few MB at 10 M
    /// records), so call it once, after the last commit of a run. Like every change to the state,
    /// it is atomic: a crash during it leaves the state as it was.
    pub fn compact(&mut self) -> Result<(), StoreError> {
        let pending = self.pending_len();
        if pending > 0 {
            return Err(StoreError::Uncommitted { pending });
        }
        let Db::Rw(db) = &mut self.db else {
            return Err(StoreError::ReadOnly);
        };
        let compacted = db.compact().map(drop);
        compacted.map_err(|e| self.st(e))
    }

    /// Number of stored record ids (committed).
    pub fn record_id_count(&self) -> Result<u64, StoreError> {
        let tx = self.db.begin_read().map_err(|e| self.st(e))?;
        let runs = read_id_runs(&tx).map_err(|e| self.st(e))?;
        Ok(runs.iter().map(|(_, count)| count).sum())
    }
}

/// A filter of every stored id, sized for `capacity` ids.
fn id_filter_of(ids: &IdRuns, capacity: u64) -> Result<IdFilter, StoreError> {
    let mut filter = IdFilter::with_capacity(capacity);
    ids.for_each_key(|key| filter.insert(key))?;
    Ok(filter)
}

/// The live runs of record ids as the state lists them, oldest first.
pub(crate) fn read_id_runs(tx: &redb::ReadTransaction) -> Result<Vec<(u64, u64)>, redb::Error> {
    let table = tx.open_table(ID_RUNS)?;
    let mut runs = Vec::new();
    for row in table.iter()? {
        let (id, count) = row?;
        runs.push((id.value(), count.value()));
    }
    Ok(runs)
}

pub(crate) fn poisoned() -> StoreError {
    StoreError::Damaged {
        location: "writer".into(),
        detail: "an earlier commit failed; reopen the store to roll back to the last commit".into(),
    }
}

impl Writer {
    /// Hands the open block to the compression thread, and writes the oldest block it gave back,
    /// if any.
    fn flush_block(&mut self, dir: &Path) -> Result<(), StoreError> {
        if self.block_count == 0 {
            return Ok(());
        }
        let io = |e| StoreError::io(dir.join(SEGMENTS_DIR), e);
        let oldest = self
            .compressor
            .submit(self.block_first_seq, self.block_count, &mut self.block)
            .map_err(io)?;
        self.block_count = 0;
        if let Some(framed) = oldest {
            self.write_block(dir, framed)?;
        }
        Ok(())
    }

    /// Writes every block still with the compression thread.
    fn write_compressed_blocks(&mut self, dir: &Path) -> Result<(), StoreError> {
        while let Some(framed) = self
            .compressor
            .take()
            .map_err(|e| StoreError::io(dir.join(SEGMENTS_DIR), e))?
        {
            self.write_block(dir, framed)?;
        }
        Ok(())
    }

    /// Writes a compressed block to the current segment (not yet synced).
    fn write_block(&mut self, dir: &Path, framed: Framed) -> Result<(), StoreError> {
        let block = &framed.bytes;
        let needs_new = match &self.segment {
            None => true,
            Some(s) => s.len >= SEGMENT_TARGET,
        };
        if needs_new {
            let id = self.next_segment;
            self.next_segment += 1;
            let path = segment_path(dir, id);
            let mut file = OpenOptions::new()
                .read(true)
                .write(true)
                .create_new(true)
                .open(&path)
                .map_err(|e| StoreError::io(&path, e))?;
            file.write_all(&segment::file_header(id))
                .map_err(|e| StoreError::io(&path, e))?;
            self.created_segment_file = true;
            self.segment = Some(OpenSegment {
                id,
                file,
                path,
                len: segment::FILE_HEADER_LEN,
            });
        }
        let Some(seg) = self.segment.as_mut() else {
            return Err(poisoned());
        };
        seg.file
            .write_all_at(block, seg.len)
            .map_err(|e| StoreError::io(&seg.path, e))?;
        let loc = (seg.id, seg.len, framed.count, block.len() as u32);
        seg.len += block.len() as u64;
        let handle = seg
            .file
            .try_clone()
            .map_err(|e| StoreError::io(&seg.path, e))?;
        self.unsynced.insert(seg.id, (handle, seg.len));
        self.pending_blocks.push((framed.first_seq, loc));
        self.compressor.recycle(framed);
        Ok(())
    }
}

/// Iterates committed records block by block.
struct Scan<'a> {
    store: &'a Store,
    blocks: Option<redb::ReadOnlyTable<u64, BlockLoc>>,
    next_seq: u64,
    end: u64,
    buffer: std::vec::IntoIter<StoredRecord>,
    failed: bool,
}

impl<'a> Scan<'a> {
    fn new(store: &'a Store, from_seq: u64) -> Scan<'a> {
        let mut scan = Scan {
            store,
            blocks: None,
            next_seq: from_seq,
            end: 0,
            buffer: Vec::new().into_iter(),
            failed: false,
        };
        // One snapshot for the whole scan: a concurrent commit is either wholly in it or not.
        match store.db.begin_read() {
            Ok(tx) => {
                let end = tx
                    .open_table(META)
                    .ok()
                    .and_then(|m| m.get(COMMITTED_LEN).ok().flatten().map(|v| v.value()));
                scan.end = end.unwrap_or(0);
                scan.blocks = tx.open_table(BLOCKS).ok();
            }
            Err(_) => scan.failed = true,
        }
        scan
    }

    fn next_block(&mut self) -> Result<Option<Vec<StoredRecord>>, StoreError> {
        let Some(blocks) = &self.blocks else {
            return Err(self.store.st("cannot read the block index"));
        };
        let row = blocks
            .range(..=self.next_seq)
            .map_err(|e| self.store.st(e))?
            .next_back();
        let Some(row) = row else {
            return Err(self.store.missing_block(self.next_seq));
        };
        let (first, loc) = row.map_err(|e| self.store.st(e))?;
        let records = self.store.read_block(first.value(), loc.value())?;
        Ok(Some(records))
    }
}

impl Iterator for Scan<'_> {
    type Item = Result<StoredRecord, StoreError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        loop {
            for r in self.buffer.by_ref() {
                if r.seq == self.next_seq {
                    self.next_seq += 1;
                    return Some(Ok(r));
                }
            }
            if self.next_seq >= self.end {
                return None;
            }
            match self.next_block() {
                Ok(Some(records)) => {
                    if !records.iter().any(|r| r.seq == self.next_seq) {
                        self.failed = true;
                        return Some(Err(self.store.missing_block(self.next_seq)));
                    }
                    self.buffer = records.into_iter();
                }
                Ok(None) => return None,
                Err(e) => {
                    self.failed = true;
                    return Some(Err(e));
                }
            }
        }
    }
}

/// A tenant's two tree files (see [`merkle`]): `.leaves` and `.hashes`.
pub(crate) struct TreeFiles {
    pub(crate) leaves: File,
    pub(crate) leaves_path: PathBuf,
    pub(crate) hashes: File,
    pub(crate) hashes_path: PathBuf,
}

/// How [`TreeFiles::open`] opens the files.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Access {
    Read,
    Write,
    /// Make both, empty: a new tenant.
    Create,
}

impl TreeFiles {
    /// Opens the tree files of tenant `number`.
    pub(crate) fn open(dir: &Path, number: u32, access: Access) -> Result<TreeFiles, StoreError> {
        let open = |path: PathBuf| {
            OpenOptions::new()
                .read(true)
                .write(access != Access::Read)
                .create(access == Access::Create)
                .truncate(access == Access::Create)
                .open(&path)
                .map(|f| (f, path.clone()))
                .map_err(|e| StoreError::io(&path, e))
        };
        let (leaves, leaves_path) = open(leaves_path(dir, number))?;
        let (hashes, hashes_path) = open(hash_path(dir, number))?;
        Ok(TreeFiles {
            leaves,
            leaves_path,
            hashes,
            hashes_path,
        })
    }
}

impl HashSource for TreeFiles {
    type Error = StoreError;

    fn leaves(&self, first: u64, out: &mut [Hash]) -> Result<(), StoreError> {
        self.leaves
            .read_exact_at(out.as_flattened_mut(), first * 32)
            .map_err(|e| StoreError::io(&self.leaves_path, e))
    }

    fn upper(&self, index: u64) -> Result<Hash, StoreError> {
        let mut h = [0u8; 32];
        self.hashes
            .read_exact_at(&mut h, index * 32)
            .map_err(|e| StoreError::io(&self.hashes_path, e))?;
        Ok(h)
    }
}

/// Writes `bytes` at `offset` and syncs them.
fn write_synced(file: &File, bytes: &[u8], offset: u64, path: &Path) -> Result<(), StoreError> {
    file.write_all_at(bytes, offset)
        .and_then(|()| file.sync_data())
        .map_err(|e| StoreError::io(path, e))
}

pub(crate) fn segment_path(dir: &Path, id: u64) -> PathBuf {
    dir.join(SEGMENTS_DIR).join(format!("{id:08}.seg"))
}

pub(crate) fn leaves_path(dir: &Path, number: u32) -> PathBuf {
    dir.join(TREE_DIR).join(format!("{number:06}.leaves"))
}

pub(crate) fn hash_path(dir: &Path, number: u32) -> PathBuf {
    dir.join(TREE_DIR).join(format!("{number:06}.hashes"))
}

pub(crate) fn parse_numbered(name: &str, suffix: &str) -> Option<u64> {
    name.strip_suffix(suffix)?.parse().ok()
}

/// Cuts a file back to its committed length; a shorter file means committed data is gone.
fn truncate_to_commit(path: &Path, len: u64) -> Result<(), StoreError> {
    let file = OpenOptions::new()
        .write(true)
        .open(path)
        .map_err(|e| StoreError::io(path, e))?;
    let actual = file.metadata().map_err(|e| StoreError::io(path, e))?.len();
    if actual < len {
        return Err(StoreError::Damaged {
            location: path.display().to_string(),
            detail: format!("{actual} bytes, but {len} were committed: committed data was removed"),
        });
    }
    if actual > len {
        tracing::warn!(
            file = %path.display(),
            bytes = actual - len,
            "Rolled back an interrupted write to the last commit."
        );
        file.set_len(len).map_err(|e| StoreError::io(path, e))?;
        file.sync_all().map_err(|e| StoreError::io(path, e))?;
    }
    Ok(())
}

/// Removes files a crashed writer or retention run created but never committed.
fn remove_orphans(dir: &Path, keep: impl Fn(&str) -> bool) -> Result<(), StoreError> {
    let mut removed = false;
    for entry in std::fs::read_dir(dir).map_err(|e| StoreError::io(dir, e))? {
        let entry = entry.map_err(|e| StoreError::io(dir, e))?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if !keep(&name) {
            tracing::warn!(file = %entry.path().display(), "Removed a file no commit refers to.");
            std::fs::remove_file(entry.path()).map_err(|e| StoreError::io(entry.path(), e))?;
            removed = true;
        }
    }
    if removed {
        sync_dir(dir)?;
    }
    Ok(())
}

fn open_rw(state: &Path) -> Result<redb::Database, StoreError> {
    redb::Builder::new()
        .set_concurrency_mode(redb::ConcurrencyMode::SingleWriter)
        .set_cache_size(STATE_CACHE)
        .open(state)
        .map_err(|e| StoreError::state(state, e))
}

fn open_ro(dir: &Path, state: &Path) -> Result<redb::ReadOnlyDatabase, StoreError> {
    let try_open = || {
        redb::Builder::new()
            .set_concurrency_mode(redb::ConcurrencyMode::SingleWriter)
            .set_cache_size(STATE_CACHE)
            .open_read_only(state)
    };
    match try_open() {
        Ok(db) => Ok(db),
        Err(redb::DatabaseError::RepairAborted) => {
            // A writer died without closing the state file. redb must replay its recovery, which
            // only a writable open does; it changes no committed data. Only if no writer is alive.
            let lock = WriterLock::acquire(dir)?;
            drop(open_rw(state)?);
            drop(lock);
            try_open().map_err(|e| StoreError::state(state, e))
        }
        Err(e) => Err(StoreError::state(state, e)),
    }
}

fn load_signer(dir: &Path, meta: &StoreMeta, vkey: &VerifierKey) -> Result<BoxSigner, StoreError> {
    let name = vkey.name().to_owned();
    let signer = match &meta.signer {
        SignerMeta::KeyFile { .. } => {
            let path = meta
                .key_file(dir)
                .ok_or_else(|| StoreError::BadSigner("no key file".into()))?;
            signer::load_key_file(&path)?
        }
        SignerMeta::Pkcs11 { uri } => {
            let uri = uri.parse()?;
            signer::open_pkcs11(&uri, &name, false)?.0
        }
    };
    if signer.name() != vkey.name()
        || format!("{}+{:08x}", signer.name(), signer.key_id()) != vkey.short()
    {
        return Err(StoreError::BadSigner(format!(
            "the signing key ({}+{:08x}) is not the store's key ({})",
            signer.name(),
            signer.key_id(),
            vkey.short()
        )));
    }
    Ok(signer)
}

#[allow(dead_code)]
fn assert_send_sync() {
    fn is<T: Send + Sync>() {}
    is::<Store>();
}

#[cfg(test)]
mod tests {
    use super::*;
    use mailtrail_event::SourceFormat;

    pub(crate) fn event(id: &str, tenant: &str, body: &str) -> AuditEvent {
        AuditEvent {
            record_id: id.into(),
            tenant_id: Some(tenant.into()),
            source: SourceFormat::UalNdjson,
            time: jiff::Timestamp::new(1_700_000_000, 0).unwrap(),
            raw: Bytes::from(body.to_owned()),
            ..Default::default()
        }
    }

    #[test]
    fn appended_records_are_invisible_until_commit() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s");
        let mut s = Store::init(&path, SignerConfig::default()).unwrap();
        assert_eq!(
            s.append(&event("a", "t1", "A")).unwrap(),
            Appended::New {
                seq: 0,
                leaf_index: 0
            }
        );
        assert_eq!(
            s.append(&event("b", "t2", "B")).unwrap(),
            Appended::New {
                seq: 1,
                leaf_index: 0
            }
        );
        assert_eq!(
            s.append(&event("a", "t1", "A")).unwrap(),
            Appended::Duplicate { seq: 0 }
        );
        assert_eq!(s.committed_len(), 0);
        assert_eq!(s.get("a").unwrap(), None);
        let summary = s.commit().unwrap();
        assert_eq!(summary.new_records, 2);
        assert_eq!(summary.checkpoints.len(), 2);
        assert_eq!(s.committed_len(), 2);
        let b = s.get("b").unwrap().unwrap();
        assert_eq!((b.seq, b.tenant.as_str(), &b.raw[..]), (1, "t2", &b"B"[..]));
        assert_eq!(
            s.append(&event("b", "t2", "B")).unwrap(),
            Appended::Duplicate { seq: 1 }
        );
    }

    #[test]
    fn duplicates_are_found_while_the_id_filter_grows_and_after_reopening() {
        // In tests the filter starts at 1 KiB (512 ids), so 3,000 ids make it grow twice.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s");
        let mut s = Store::init(&path, SignerConfig::default()).unwrap();
        let id = |i: u64| format!("{:08x}-0000-4000-8000-{:012x}", i * 7919, i);
        for batch in 0..6u64 {
            for i in batch * 500..(batch + 1) * 500 {
                let ev = event(&id(i), "t", &format!("record {i}"));
                assert!(matches!(s.append(&ev).unwrap(), Appended::New { seq, .. } if seq == i));
            }
            s.commit().unwrap();
            // Every id stored so far, in earlier commits and this one, is a duplicate.
            for i in (0..(batch + 1) * 500).step_by(7) {
                let ev = event(&id(i), "t", &format!("record {i}"));
                assert_eq!(s.append(&ev).unwrap(), Appended::Duplicate { seq: i });
            }
        }
        let grown = s
            .writer
            .as_ref()
            .and_then(|w| w.known_ids.as_ref())
            .map(IdFilter::len);
        assert_eq!(grown, Some(3_000));
        drop(s);
        let mut s = Store::open(&path, OpenMode::ReadWrite).unwrap();
        for i in (0..3_000).step_by(3) {
            let ev = event(&id(i), "t", &format!("record {i}"));
            assert_eq!(s.append(&ev).unwrap(), Appended::Duplicate { seq: i });
        }
        let ev = event(&id(3_000), "t", "new");
        assert!(matches!(
            s.append(&ev).unwrap(),
            Appended::New { seq: 3_000, .. }
        ));
    }

    #[test]
    fn compaction_keeps_every_record_and_gives_space_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s");
        let mut s = Store::init(&path, SignerConfig::default()).unwrap();
        // Many commits of random-looking ids leave the dedup tree's pages half full.
        for i in 0..20_000u64 {
            let id = format!("{:016x}", i.wrapping_mul(0x9e37_79b9_7f4a_7c15));
            s.append(&event(&id, "t", &format!("body {i}"))).unwrap();
            if i % 500 == 0 {
                s.commit().unwrap();
            }
        }
        s.append(&event("pending", "t", "p")).unwrap();
        assert!(matches!(
            s.compact(),
            Err(StoreError::Uncommitted { pending: 500 })
        ));
        s.commit().unwrap();
        let state = s.state_path();
        let before = std::fs::metadata(&state).unwrap().len();
        s.compact().unwrap();
        let after = std::fs::metadata(&state).unwrap().len();
        assert!(after < before, "{before} -> {after}");
        assert_eq!(s.record_id_count().unwrap(), 20_001);
        let id = format!("{:016x}", 7u64.wrapping_mul(0x9e37_79b9_7f4a_7c15));
        assert_eq!(&s.get(&id).unwrap().unwrap().raw[..], b"body 7");
        // The writer goes on, its duplicate check included.
        assert!(matches!(
            s.append(&event(&id, "t", "body 7")).unwrap(),
            Appended::Duplicate { .. }
        ));
        drop(s);
        let s = Store::open(&path, OpenMode::ReadOnly).unwrap();
        assert_eq!(s.committed_len(), 20_001);
        assert!(matches!(
            Store::open(&path, OpenMode::ReadOnly).unwrap().compact(),
            Err(StoreError::ReadOnly)
        ));
    }

    #[test]
    fn scan_returns_committed_records_in_seq_order_from_any_start() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Store::init(&dir.path().join("s"), SignerConfig::default()).unwrap();
        for i in 0..50 {
            s.append(&event(
                &format!("r{i}"),
                if i % 3 == 0 { "x" } else { "y" },
                &format!("body {i}"),
            ))
            .unwrap();
            if i % 7 == 0 {
                s.commit().unwrap();
            }
        }
        s.commit().unwrap();
        let seqs: Vec<u64> = s.scan(13).map(|r| r.unwrap().seq).collect();
        assert_eq!(seqs, (13..50).collect::<Vec<_>>());
        assert_eq!(s.get_seq(49).unwrap().unwrap().record_id, "r49");
        assert_eq!(s.get_seq(50).unwrap(), None);
    }

    #[test]
    fn events_without_id_or_body_are_refused_alone() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Store::init(&dir.path().join("s"), SignerConfig::default()).unwrap();
        assert!(matches!(
            s.append(&event("", "t", "x")),
            Err(StoreError::InvalidEvent { .. })
        ));
        assert!(matches!(
            s.append(&event("id", "t", "")),
            Err(StoreError::InvalidEvent { .. })
        ));
        assert!(s.append(&event("id", "t", "x")).unwrap().is_new());
        s.commit().unwrap();
        assert_eq!(s.committed_len(), 1);
    }

    #[test]
    fn init_refuses_an_existing_store() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s");
        drop(Store::init(&path, SignerConfig::default()).unwrap());
        assert!(matches!(
            Store::init(&path, SignerConfig::default()),
            Err(StoreError::AlreadyExists { .. })
        ));
    }

    #[test]
    fn a_reader_sees_a_writers_commits() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s");
        let mut w = Store::init(&path, SignerConfig::default()).unwrap();
        let r = Store::open(&path, OpenMode::ReadOnly).unwrap();
        w.append(&event("a", "t", "A")).unwrap();
        assert_eq!(r.committed_len(), 0);
        w.commit().unwrap();
        assert_eq!(r.committed_len(), 1);
        assert_eq!(&r.get("a").unwrap().unwrap().raw[..], b"A");
        // Later commits merge the runs of record ids and remove the merged files; the reader
        // follows them.
        for i in 0..12 {
            w.append(&event(&format!("b{i}"), "t", "B")).unwrap();
            w.commit().unwrap();
            assert_eq!(r.get("a").unwrap().unwrap().seq, 0);
            assert_eq!(r.get(&format!("b{i}")).unwrap().unwrap().seq, i + 1);
            assert!(r.get(&format!("b{}", i + 1)).unwrap().is_none());
        }
        let runs = std::fs::read_dir(path.join(IDS_DIR)).unwrap().count();
        assert!(runs <= 4, "{runs} runs for 13 commits");
        assert_eq!(r.record_id_count().unwrap(), 13);
    }

    #[test]
    fn tree_files_are_cut_back_to_the_last_commit_and_orphans_removed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s");
        let mut s = Store::init(&path, SignerConfig::default()).unwrap();
        for i in 0..600 {
            s.append(&event(&format!("r{i}"), "t", &format!("body {i}")))
                .unwrap();
        }
        s.commit().unwrap();
        drop(s);
        // What a commit interrupted after writing the tree files, and a tenant created by a batch
        // that never committed, leave behind.
        let (leaves, hashes) = (leaves_path(&path, 0), hash_path(&path, 0));
        for file in [&leaves, &hashes] {
            let mut f = OpenOptions::new().append(true).open(file).unwrap();
            f.write_all(&[0xab; 1000]).unwrap();
        }
        for file in [leaves_path(&path, 7), hash_path(&path, 7)] {
            std::fs::write(file, [1u8; 64]).unwrap();
        }
        // A run of record ids written by a commit that never landed.
        let orphan_run = crate::id_runs::run_path(&path, 9);
        std::fs::write(&orphan_run, [2u8; 64]).unwrap();
        let mut s = Store::open(&path, OpenMode::ReadWrite).unwrap();
        assert!(!orphan_run.exists());
        let len = |p: &Path| std::fs::metadata(p).unwrap().len();
        assert_eq!(len(&leaves), 600 * 32);
        // Two complete 256-leaf subtrees and the one above them.
        assert_eq!(len(&hashes), 3 * 32);
        assert!(!leaves_path(&path, 7).exists() && !hash_path(&path, 7).exists());
        for i in 600..1030 {
            s.append(&event(&format!("r{i}"), "t", &format!("body {i}")))
                .unwrap();
        }
        s.commit().unwrap();
        assert_eq!(len(&leaves), 1030 * 32);
        assert_eq!(len(&hashes), merkle::stored_hash_count(4) * 32);
        let report = s.verify(None).unwrap();
        assert!(report.is_ok(), "{:?}", report.findings);
        let proof = serde_json::to_vec(&s.prove("r1029").unwrap().unwrap()).unwrap();
        crate::verify_proof(&proof, s.verifier_key()).unwrap();
    }

    #[test]
    fn a_store_of_another_format_is_refused_with_what_to_do() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s");
        drop(Store::init(&path, SignerConfig::default()).unwrap());
        let meta = path.join(META_FILE);
        let text = std::fs::read_to_string(&meta).unwrap();
        let current = format!("\"format\": {FORMAT}");
        assert!(text.contains(&current), "{text}");
        for (found, advice) in [(FORMAT - 1, "mailtrail init"), (FORMAT + 1, "upgrade")] {
            std::fs::write(
                &meta,
                text.replace(&current, &format!("\"format\": {found}")),
            )
            .unwrap();
            for mode in [OpenMode::ReadOnly, OpenMode::ReadWrite] {
                let err = Store::open(&path, mode).unwrap_err();
                assert!(
                    matches!(err, StoreError::UnsupportedFormat { found: f, supported: FORMAT } if f == found),
                    "{err}"
                );
                assert!(err.to_string().contains(advice), "{err}");
            }
        }
        // Format 1 kept the whole tree in `.hashes`.
        std::fs::write(&meta, text.replace(&current, "\"format\": 1")).unwrap();
        let msg = Store::open(&path, OpenMode::ReadOnly)
            .unwrap_err()
            .to_string();
        assert!(
            msg.contains("format 1") && msg.contains("mailtrail init") && msg.contains("ingest"),
            "{msg}"
        );
    }

    #[test]
    fn a_second_writer_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s");
        let _w = Store::init(&path, SignerConfig::default()).unwrap();
        assert!(matches!(
            Store::open(&path, OpenMode::ReadWrite),
            Err(StoreError::Locked { .. })
        ));
    }
}
