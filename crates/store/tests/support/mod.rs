//! Shared helpers: events, and an attacker's toolkit that edits a store through its documented
//! on-disk layout (segment byte layout, `state.redb` tables).

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::fs::OpenOptions;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use bytes::Bytes;
use mailtrail_event::{AuditEvent, SourceFormat};
use mailtrail_store::{StoredRecord, read_segment_bytes};
use redb::{ReadableDatabase as _, ReadableTable as _, TableDefinition};

pub const BLOCKS: TableDefinition<u64, (u64, u64, u32, u32)> = TableDefinition::new("blocks");
pub const SEGMENTS: TableDefinition<u64, u64> = TableDefinition::new("segments");
pub const CHECKPOINTS: TableDefinition<(u32, u64), &[u8]> = TableDefinition::new("checkpoints");

/// A UAL-like event with a GUID record id derived from `n`.
pub fn event(n: u64, tenant: &str) -> AuditEvent {
    let id = guid(n);
    let raw = format!(
        r#"{{"CreationTime":"2024-03-0{}T10:{:02}:00","Id":"{id}","Operation":"MailItemsAccessed","OrganizationId":"{tenant}","RecordType":50,"UserId":"user{}@contoso.example","Workload":"Exchange"}}"#,
        1 + n % 9,
        n % 60,
        n % 17
    );
    AuditEvent {
        record_id: id,
        tenant_id: Some(tenant.into()),
        source: SourceFormat::UalNdjson,
        time: jiff::Timestamp::new(1_709_000_000 + n as i64 * 60, 0).unwrap(),
        raw: Bytes::from(raw),
        ..Default::default()
    }
}

pub fn guid(n: u64) -> String {
    format!("{:08x}-0000-4000-8000-{:012x}", n as u32, n)
}

pub fn segment_files(store: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(store.join("segments"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    v.sort();
    v
}

/// The block index: (first seq, (segment, offset, count, length)).
pub fn blocks(store: &Path) -> Vec<(u64, (u64, u64, u32, u32))> {
    let db = redb::Database::open(store.join("state.redb")).unwrap();
    let tx = db.begin_read().unwrap();
    let t = tx.open_table(BLOCKS).unwrap();
    t.iter()
        .unwrap()
        .map(|r| {
            let (k, v) = r.unwrap();
            (k.value(), v.value())
        })
        .collect()
}

/// Encodes records as a block, following the documented layout.
pub fn encode_block(records: &[StoredRecord], first_seq: u64) -> Vec<u8> {
    let mut payload = Vec::new();
    for r in records {
        payload.extend_from_slice(&r.seq.to_le_bytes());
        payload.push(u8::from(r.pruned));
        payload.push(1); // ual-ndjson
        payload.extend_from_slice(&r.time.as_second().to_le_bytes());
        payload.extend_from_slice(&r.time.subsec_nanosecond().to_le_bytes());
        payload.extend_from_slice(&r.leaf_index.to_le_bytes());
        payload.extend_from_slice(&(r.tenant.len() as u16).to_le_bytes());
        payload.extend_from_slice(r.tenant.as_bytes());
        payload.extend_from_slice(&(r.record_id.len() as u16).to_le_bytes());
        payload.extend_from_slice(r.record_id.as_bytes());
        payload.extend_from_slice(&(r.raw.len() as u32).to_le_bytes());
        payload.extend_from_slice(&r.raw);
    }
    let compressed = zstd::bulk::compress(&payload, 3).unwrap();
    let mut h = Vec::new();
    h.extend_from_slice(b"MTBK");
    h.extend_from_slice(&first_seq.to_le_bytes());
    h.extend_from_slice(&(records.len() as u32).to_le_bytes());
    h.extend_from_slice(&(compressed.len() as u32).to_le_bytes());
    h.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    h.extend_from_slice(&crc32fast::hash(&compressed).to_le_bytes());
    let crc = crc32fast::hash(&h);
    h.extend_from_slice(&crc.to_le_bytes());
    h.extend_from_slice(&compressed);
    h
}

/// Decodes the block starting at `first_seq`, lets `edit` change its records, writes the result
/// as a new block at the end of the segment and points the state at it — what a careful attacker
/// who read the format documentation would do.
pub fn rewrite_block(
    store: &Path,
    first_seq: u64,
    edit: impl FnOnce(&mut Vec<StoredRecord>),
) -> (PathBuf, u64) {
    let (first, (seg, offset, _, len)) = blocks(store)
        .into_iter()
        .find(|(f, _)| *f == first_seq)
        .expect("a block starting at first_seq");
    let path = store.join("segments").join(format!("{seg:08}.seg"));
    let bytes = std::fs::read(&path).unwrap();
    let mut one = bytes[..16].to_vec();
    one.extend_from_slice(&bytes[offset as usize..(offset + u64::from(len)) as usize]);
    let mut records = read_segment_bytes(&one).unwrap().remove(0).records;
    edit(&mut records);
    let block = encode_block(&records, first);
    let new_offset = bytes.len() as u64;
    let mut f = OpenOptions::new().append(true).open(&path).unwrap();
    f.write_all(&block).unwrap();
    let db = redb::Database::open(store.join("state.redb")).unwrap();
    let tx = db.begin_write().unwrap();
    {
        let mut b = tx.open_table(BLOCKS).unwrap();
        b.insert(
            first,
            (seg, new_offset, records.len() as u32, block.len() as u32),
        )
        .unwrap();
        let mut s = tx.open_table(SEGMENTS).unwrap();
        s.insert(seg, new_offset + block.len() as u64).unwrap();
    }
    tx.commit().unwrap();
    (path, new_offset)
}

/// Replaces the stored checkpoint of tenant number `tenant` at `size`.
pub fn replace_checkpoint(store: &Path, tenant: u32, size: u64, note: &[u8]) {
    let db = redb::Database::open(store.join("state.redb")).unwrap();
    let tx = db.begin_write().unwrap();
    {
        let mut t = tx.open_table(CHECKPOINTS).unwrap();
        assert!(
            t.get((tenant, size)).unwrap().is_some(),
            "no checkpoint at {size}"
        );
        t.insert((tenant, size), note).unwrap();
    }
    tx.commit().unwrap();
}

/// The stored checkpoint of tenant number `tenant` at `size`.
pub fn checkpoint(store: &Path, tenant: u32, size: u64) -> Vec<u8> {
    let db = redb::Database::open(store.join("state.redb")).unwrap();
    let tx = db.begin_read().unwrap();
    let t = tx.open_table(CHECKPOINTS).unwrap();
    t.get((tenant, size)).unwrap().unwrap().value().to_vec()
}
