//! The small state beside the segments: `store.json` (identity and signer, human-readable),
//! `state.redb` (what is committed), and the writer lock.
//!
//! `state.redb` tables:
//!
//! | table | key → value | holds |
//! | --- | --- | --- |
//! | `meta` | name → u64 | `committed_len` (next seq), `next_segment`, `next_tenant`, `next_retention_run`, `next_id_run` |
//! | `id_runs` | run number → id count | the live runs of record ids (`ids/<number>.run`), oldest first |
//! | `blocks` | first seq → (segment, offset, count, length) | where each committed block is |
//! | `segments` | segment id → committed length | bytes past it are an interrupted write |
//! | `tenants` | tenant → (number, size) | each tenant log: its tree files `tree/<number>.leaves` and `.hashes`, and leaf count |
//! | `checkpoints` | (tenant number, size) → signed note | every checkpoint ever written |
//! | `retention` | run number → JSON | what each retention run pruned |
//!
//! One redb transaction per commit makes a commit atomic: segment bytes and hashes are written
//! and synced first, and only become part of the store when that transaction lands.

use std::fs::File;
use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};

use redb::TableDefinition;
use serde::{Deserialize, Serialize};

use crate::error::StoreError;

pub(crate) const META: TableDefinition<&str, u64> = TableDefinition::new("meta");
pub(crate) const ID_RUNS: TableDefinition<u64, u64> = TableDefinition::new("id_runs");
/// Where a block is: (segment id, offset, record count, length in bytes).
pub(crate) type BlockLoc = (u64, u64, u32, u32);

pub(crate) const BLOCKS: TableDefinition<u64, BlockLoc> = TableDefinition::new("blocks");
pub(crate) const SEGMENTS: TableDefinition<u64, u64> = TableDefinition::new("segments");
pub(crate) const TENANTS: TableDefinition<&str, (u32, u64)> = TableDefinition::new("tenants");
pub(crate) const CHECKPOINTS: TableDefinition<(u32, u64), &[u8]> =
    TableDefinition::new("checkpoints");
pub(crate) const RETENTION: TableDefinition<u64, &str> = TableDefinition::new("retention");

pub(crate) const COMMITTED_LEN: &str = "committed_len";
pub(crate) const NEXT_SEGMENT: &str = "next_segment";
pub(crate) const NEXT_TENANT: &str = "next_tenant";
pub(crate) const NEXT_RETENTION_RUN: &str = "next_retention_run";
pub(crate) const NEXT_ID_RUN: &str = "next_id_run";

/// The store format this version writes and reads. 3: record ids in sorted runs (2 kept them in
/// a table of the state database; 1 also kept every tree hash in `.hashes`).
pub(crate) const FORMAT: u32 = 3;

pub(crate) const META_FILE: &str = "store.json";
pub(crate) const STATE_FILE: &str = "state.redb";
pub(crate) const LOCK_FILE: &str = "LOCK";
pub(crate) const SEGMENTS_DIR: &str = "segments";
pub(crate) const TREE_DIR: &str = "tree";
pub(crate) const DEFAULT_KEY_FILE: &str = "signing.key";

/// `store.json`: who the store is and how it signs.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct StoreMeta {
    pub(crate) format: u32,
    /// Random, 16 hex digits; part of every origin line.
    pub(crate) store_id: String,
    /// The verifier key of the checkpoint signer, `name+id+base64`.
    pub(crate) verifier_key: String,
    pub(crate) signer: SignerMeta,
    pub(crate) created: String,
}

/// How to reach the signing key again.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub(crate) enum SignerMeta {
    /// A key file; relative paths are inside the store directory.
    KeyFile { path: PathBuf },
    /// A PKCS#11 URI without any PIN.
    Pkcs11 { uri: String },
}

impl StoreMeta {
    pub(crate) fn read(dir: &Path) -> Result<StoreMeta, StoreError> {
        let path = dir.join(META_FILE);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(StoreError::NotAStore {
                    dir: dir.to_owned(),
                });
            }
            Err(e) => return Err(StoreError::io(&path, e)),
        };
        let meta: StoreMeta = serde_json::from_str(&text).map_err(|e| StoreError::Damaged {
            location: path.display().to_string(),
            detail: format!("not a store description: {e}"),
        })?;
        if meta.format != FORMAT {
            return Err(StoreError::UnsupportedFormat {
                found: meta.format,
                supported: FORMAT,
            });
        }
        Ok(meta)
    }

    pub(crate) fn write_new(&self, dir: &Path) -> Result<(), StoreError> {
        let path = dir.join(META_FILE);
        let io = |e| StoreError::io(&path, e);
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(io)?;
        let mut text = serde_json::to_string_pretty(self)
            .map_err(std::io::Error::other)
            .map_err(io)?;
        text.push('\n');
        f.write_all(text.as_bytes()).map_err(io)?;
        f.sync_all().map_err(io)
    }

    /// The signing key file's path, when the signer is a key file.
    pub(crate) fn key_file(&self, dir: &Path) -> Option<PathBuf> {
        match &self.signer {
            SignerMeta::KeyFile { path } if path.is_relative() => Some(dir.join(path)),
            SignerMeta::KeyFile { path } => Some(path.clone()),
            SignerMeta::Pkcs11 { .. } => None,
        }
    }
}

/// The first byte of a packed record id that is a GUID.
pub(crate) const GUID_TAG: u8 = 1;
/// The first byte of any other packed record id: lower, so these sort before every GUID.
const TEXT_TAG: u8 = 0;
// The open batch's ids are sorted in two parts, text ids then GUIDs (`pending_ids.rs`).
const _: () = assert!(TEXT_TAG < GUID_TAG);

/// Packs a record id for the runs of record ids: a canonical lowercase GUID (the form Microsoft
/// writes) as its 16 bytes, anything else as its text. Exact both ways: an id written any other
/// way keeps its text.
pub(crate) fn pack_record_id(id: &str, out: &mut Vec<u8>) {
    out.clear();
    if let Some(bytes) = parse_lower_guid(id) {
        out.push(GUID_TAG);
        out.extend_from_slice(&bytes);
    } else {
        out.push(TEXT_TAG);
        out.extend_from_slice(id.as_bytes());
    }
}

fn parse_lower_guid(s: &str) -> Option<[u8; 16]> {
    let b = s.as_bytes();
    if b.len() != 36 || b[8] != b'-' || b[13] != b'-' || b[18] != b'-' || b[23] != b'-' {
        return None;
    }
    let mut out = [0u8; 16];
    let mut n = 0;
    let mut hi: Option<u8> = None;
    for (i, &c) in b.iter().enumerate() {
        if matches!(i, 8 | 13 | 18 | 23) {
            continue;
        }
        let v = match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' => c - b'a' + 10,
            _ => return None,
        };
        match hi.take() {
            None => hi = Some(v),
            Some(h) => {
                out[n] = h << 4 | v;
                n += 1;
            }
        }
    }
    Some(out)
}

/// The writer lock: one process appends to a store at a time.
pub(crate) struct WriterLock {
    file: File,
}

impl Drop for WriterLock {
    fn drop(&mut self) {
        // Still holding the lock: clear the holder's description so it never names a process
        // that is gone. The lock itself goes with the file handle.
        let _ = self.file.set_len(0);
    }
}

impl WriterLock {
    /// Takes the lock or says who holds it.
    pub(crate) fn acquire(dir: &Path) -> Result<WriterLock, StoreError> {
        let path = dir.join(LOCK_FILE);
        let io = |e| StoreError::io(&path, e);
        let mut file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(io)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                let mut holder = String::new();
                let _ = file.read_to_string(&mut holder);
                let holder = holder.trim();
                return Err(StoreError::Locked {
                    dir: dir.to_owned(),
                    holder: if holder.is_empty() {
                        "holder unknown".into()
                    } else {
                        holder.to_owned()
                    },
                });
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(io(e)),
        }
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .map(|h| h.trim().to_owned())
            .or_else(|_| std::env::var("HOSTNAME"))
            .unwrap_or_else(|_| "unknown host".into());
        let cmd: Vec<String> = std::env::args().collect();
        let line = format!(
            "pid {} on {host}, since {}: {}\n",
            std::process::id(),
            jiff::Timestamp::now()
                .round(jiff::Unit::Second)
                .unwrap_or_else(|_| jiff::Timestamp::now()),
            cmd.join(" ")
        );
        file.set_len(0).map_err(io)?;
        file.write_all(line.as_bytes()).map_err(io)?;
        Ok(WriterLock { file })
    }
}

/// Fsyncs a directory so that files created or removed in it survive a power loss.
pub(crate) fn sync_dir(dir: &Path) -> Result<(), StoreError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| StoreError::io(dir, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lowercase_guids_pack_to_sixteen_bytes_and_others_keep_their_text() {
        let mut out = Vec::new();
        pack_record_id("1b2c3d4e-0000-4000-8000-00000000abcd", &mut out);
        assert_eq!(out.len(), 17);
        assert_eq!(out[0], 1);
        let mut upper = Vec::new();
        pack_record_id("1B2C3D4E-0000-4000-8000-00000000ABCD", &mut upper);
        assert_eq!(upper[0], 0);
        assert_ne!(out, upper);
        pack_record_id("not-a-guid", &mut out);
        assert_eq!(&out[1..], b"not-a-guid");
    }

    #[test]
    fn a_second_writer_is_told_who_holds_the_lock() {
        let dir = tempfile::tempdir().unwrap();
        let _held = WriterLock::acquire(dir.path()).unwrap();
        let err = WriterLock::acquire(dir.path()).err().unwrap();
        let msg = err.to_string();
        assert!(
            msg.contains(&format!("pid {}", std::process::id())),
            "{msg}"
        );
    }
}
