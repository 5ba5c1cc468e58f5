//! Errors of the store. "The disk or the system failed" ([`StoreError::Io`], [`StoreError::State`])
//! is kept apart from "the stored data is not what the store wrote" ([`StoreError::Damaged`]);
//! `verify` reports the latter in detail as [`Finding`](crate::Finding)s.

use std::path::{Path, PathBuf};

/// Everything that can go wrong opening, writing or reading a store.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// Reading or writing a file failed (disk full, permissions, missing file, …).
    #[error("I/O error on {}: {source}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The state database (`state.redb`) failed.
    #[error("state database {}: {detail}", path.display())]
    State {
        /// The database file.
        path: PathBuf,
        /// What redb reported.
        detail: String,
    },
    /// `open` on a directory that holds no store.
    #[error("{} is not a mailtrail store (no store.json); create one with `mailtrail init`", dir.display())]
    NotAStore {
        /// The directory.
        dir: PathBuf,
    },
    /// `init` on a directory that already holds a store, or is not empty.
    #[error("{} already exists and is not empty; refusing to overwrite it", dir.display())]
    AlreadyExists {
        /// The directory.
        dir: PathBuf,
    },
    /// Another process holds the store's writer lock.
    #[error("the store {} is in use by another writer ({holder}); wait for it to finish", dir.display())]
    Locked {
        /// The store directory.
        dir: PathBuf,
        /// What the lock file says about its holder: process id, host, command and start time.
        holder: String,
    },
    /// The store was written by an incompatible version, newer or older.
    #[error(
        "the store uses format {found}, this version reads format {supported}; {}",
        format_advice(*.found, *.supported)
    )]
    UnsupportedFormat {
        /// The format found.
        found: u32,
        /// The format this version reads.
        supported: u32,
    },
    /// The signer configuration or key is unusable.
    #[error("signing key: {0}")]
    BadSigner(String),
    /// A key file that other users can read: a leaked key lets anyone forge checkpoints.
    #[error("{} has mode {mode:o}, readable by others; run `chmod 600 {}`", path.display(), path.display())]
    KeyFilePermissions {
        /// The key file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// The PKCS#11 token failed or refused.
    #[error("PKCS#11: {0}")]
    Pkcs11(String),
    /// Signing a checkpoint failed.
    #[error("signing a checkpoint failed: {0}")]
    SigningFailed(String),
    /// An operation that needs every appended record committed first (retention, compaction).
    #[error("{pending} appended records are not committed yet; commit first")]
    Uncommitted {
        /// Records appended since the last commit.
        pending: u64,
    },
    /// A write on a store opened read-only.
    #[error("the store was opened read-only")]
    ReadOnly,
    /// An event the store cannot keep. Only this event is refused; the store stays usable.
    #[error("record {record_id:?} cannot be stored: {reason}")]
    InvalidEvent {
        /// The event's record id (may be empty).
        record_id: String,
        /// Why.
        reason: &'static str,
    },
    /// Stored data is not what the store wrote (tampering or media corruption). `mailtrail verify`
    /// names every such place.
    #[error(
        "stored data is damaged at {location}: {detail}; run `mailtrail verify` for a full report"
    )]
    Damaged {
        /// Where: file and offset, or table and key.
        location: String,
        /// What is wrong.
        detail: String,
    },
}

/// What to do about a store of another format.
fn format_advice(found: u32, supported: u32) -> &'static str {
    if found < supported {
        "there is no in-place migration: create a new store with `mailtrail init` and ingest the \
         source files into it again"
    } else {
        "upgrade mailtrail"
    }
}

impl StoreError {
    pub(crate) fn io(path: impl AsRef<Path>, source: std::io::Error) -> StoreError {
        StoreError::Io {
            path: path.as_ref().to_owned(),
            source,
        }
    }

    pub(crate) fn state(path: impl AsRef<Path>, e: impl std::fmt::Display) -> StoreError {
        StoreError::State {
            path: path.as_ref().to_owned(),
            detail: e.to_string(),
        }
    }
}
