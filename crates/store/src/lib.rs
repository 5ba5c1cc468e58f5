//! The append-only, tamper-evident evidence store: keeps every audit record byte for byte, for
//! years, and proves that none was altered, removed or reordered.
//!
//! # Brief overview
//!
//! * [`Store`] is a directory. [`Store::append`] takes an [`AuditEvent`](mailtrail_event::AuditEvent),
//!   drops it if its record id is already stored, and otherwise gives it the next global `seq` and
//!   the next leaf of its tenant's log; [`Store::append_prepared`] does the same with a
//!   [`PreparedRecord`], whose hash was computed on another thread. [`Store::commit`] makes a
//!   batch durable and visible at once and signs a checkpoint for each tenant log that grew.
//!   [`Store::scan`], [`Store::get`] and [`Store::get_seq`] read committed [`StoredRecord`]s; the
//!   search index is rebuilt from `scan`.
//! * Records live in zstd-compressed *segment* files (the source of truth; layout in the segment
//!   module docs). Each tenant has an RFC 6962 Merkle tree over its records' original bytes, stored
//!   as its leaf hashes and the hashes of its subtrees of 256 leaves and more (layout in the merkle
//!   module docs), and C2SP tlog-checkpoints signed as C2SP signed notes with Ed25519 — a key in a
//!   0600 file or on a PKCS#11 token ([`SignerConfig`]). `state.redb` holds what is committed: the
//!   block index, tree sizes, every checkpoint and the list of the sorted runs of record ids
//!   that make the de-duplication set.
//! * [`Store::verify`] re-hashes everything and returns a [`VerifyReport`] whose [`Finding`]s name
//!   each altered, removed or reordered record and each replaced or forged checkpoint.
//!   [`Store::prove`] writes a [`ProofBundle`] that [`verify_proof`] checks without the store.
//!   [`Store::prune_before`] deletes old bodies and keeps their hashes.
//!
//! A crash at any moment loses only records appended since the last commit: files are synced
//! before the state transaction that refers to them, and the next writer cuts off anything after
//! the last commit.
//!
//! # Example
//!
//! ```
//! use bytes::Bytes;
//! use mailtrail_event::{AuditEvent, SourceFormat};
//! use mailtrail_store::{OpenMode, SignerConfig, Store, verify_proof};
//!
//! let dir = tempfile::tempdir()?;
//! let mut store = Store::init(&dir.path().join("store"), SignerConfig::default())?;
//! let event = AuditEvent {
//!     record_id: "5c2b4f4e-1d2a-4c4e-9f8a-0e6f1a2b3c4d".into(),
//!     tenant_id: Some("contoso".into()),
//!     source: SourceFormat::UalNdjson,
//!     raw: Bytes::from_static(br#"{"Id":"5c2b4f4e-1d2a-4c4e-9f8a-0e6f1a2b3c4d","Operation":"MailItemsAccessed"}"#),
//!     ..Default::default()
//! };
//! assert!(store.append(&event)?.is_new());
//! assert!(!store.append(&event)?.is_new()); // the same record id is kept once
//! let summary = store.commit()?;
//! assert_eq!(summary.committed_len, 1);
//! assert!(summary.checkpoints[0].note.starts_with("mailtrail/"));
//!
//! // Everything re-hashes and every checkpoint verifies.
//! assert!(store.verify(None)?.is_ok());
//!
//! // A proof of inclusion checks out offline, with only the verifier key.
//! let proof = store.prove(&event.record_id)?.unwrap();
//! let json = serde_json::to_vec(&proof)?;
//! let proven = verify_proof(&json, store.verifier_key())?;
//! assert_eq!(proven.record.as_deref(), Some(&event.raw[..]));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod checkpoint;
mod compress;
mod error;
mod id_filter;
mod id_runs;
mod merkle;
mod pending_ids;
mod proof;
mod retention;
mod segment;
mod signer;
mod state;
mod store;
mod verify;

pub use crate::checkpoint::{Checkpoint, CheckpointProblem, VerifierKey};
pub use crate::error::StoreError;
pub use crate::id_runs::read_id_run_file;
pub use crate::merkle::{
    Hash, leaf_hash, node_hash, root_from_inclusion_proof, verify_consistency,
};
pub use crate::proof::{PROOF_FORMAT, ProofBundle, ProofError, ProvenInclusion, verify_proof};
pub use crate::retention::RetentionReport;
pub use crate::segment::{
    BlockDefect, MAX_RECORD_LEN, SegmentBlock, StoredRecord, read_segment_bytes,
};
pub use crate::signer::{PinSource, Pkcs11Uri, SignerConfig};
pub use crate::store::{
    Appended, CheckpointInfo, CommitSummary, OpenMode, PreparedRecord, Store, TenantInfo,
    UNKNOWN_TENANT,
};
pub use crate::verify::{Finding, PrunedRange, TenantSummary, VerifyReport};
