//! Inclusion proof bundles: one record, its audit path, and the signed checkpoint it leads to —
//! checkable offline by anyone holding the store's verifier key.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde::{Deserialize, Serialize};

use crate::checkpoint::{CheckpointProblem, VerifierKey};
use crate::error::StoreError;
use crate::merkle::{self, Hash, HashSource as _};
use crate::store::Store;

/// The bundle format name, checked on reading.
pub const PROOF_FORMAT: &str = "mailtrail-inclusion-proof/v1";

/// An inclusion proof bundle, as written to `proof.json`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProofBundle {
    /// Always [`PROOF_FORMAT`].
    pub format: String,
    /// The record's id.
    pub record_id: String,
    /// Its tenant.
    pub tenant: String,
    /// Its global seq in the store.
    pub seq: u64,
    /// The format it was read from.
    pub source: String,
    /// When the audited activity happened.
    pub time: String,
    /// The original record bytes, base64; absent when retention deleted them.
    pub record: Option<String>,
    /// Whether retention deleted the body (the proof then covers its hash only).
    pub pruned: bool,
    /// SHA-256(0x00 ‖ record), base64.
    pub leaf_hash: String,
    /// The record's leaf index in its tenant's log.
    pub leaf_index: u64,
    /// The size of the tree the checkpoint signs.
    pub tree_size: u64,
    /// The RFC 6962 audit path from the leaf to the root, leaf side first, base64.
    pub audit_path: Vec<String>,
    /// The signed checkpoint (C2SP signed note) the path leads to.
    pub checkpoint: String,
    /// The store's verifier key, for reference. A verifier must trust a key it got elsewhere.
    pub key: String,
}

/// Why a proof bundle does not prove what it claims.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProofError {
    /// Not a proof bundle (bad JSON, wrong format, bad base64, wrong hash length).
    #[error("not a proof bundle: {0}")]
    Malformed(String),
    /// The record bytes do not hash to the leaf hash.
    #[error("the record bytes do not match the leaf hash: the record was altered")]
    RecordHashMismatch,
    /// The audit path does not lead from the leaf to the checkpoint's root.
    #[error("the audit path does not lead to the checkpoint's root")]
    PathMismatch,
    /// The checkpoint's signature does not check out with the trusted key.
    #[error("checkpoint: {0}")]
    Checkpoint(CheckpointProblem),
    /// The checkpoint is for another log or tree size than the proof.
    #[error("the checkpoint signs {origin} at size {size}, the proof is for size {tree_size}")]
    CheckpointMismatch {
        /// What the checkpoint signs.
        origin: String,
        /// Its size.
        size: u64,
        /// The proof's size.
        tree_size: u64,
    },
}

/// What a valid proof establishes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProvenInclusion {
    /// The log, as its checkpoint names it.
    pub origin: String,
    /// The record's leaf index.
    pub leaf_index: u64,
    /// The signed tree size.
    pub tree_size: u64,
    /// The record bytes, when the bundle carries them.
    pub record: Option<Vec<u8>>,
    /// The record id the bundle claims (bound to the proof only through the record bytes).
    pub record_id: String,
}

fn hash_from(s: &str, what: &str) -> Result<Hash, ProofError> {
    B64.decode(s)
        .ok()
        .and_then(|v| v.try_into().ok())
        .ok_or_else(|| ProofError::Malformed(format!("{what} is not a base64 SHA-256 hash")))
}

/// Checks a proof bundle against a trusted verifier key, without the store.
pub fn verify_proof(bundle: &[u8], trusted: &VerifierKey) -> Result<ProvenInclusion, ProofError> {
    let b: ProofBundle =
        serde_json::from_slice(bundle).map_err(|e| ProofError::Malformed(e.to_string()))?;
    if b.format != PROOF_FORMAT {
        return Err(ProofError::Malformed(format!(
            "format {:?}, expected {PROOF_FORMAT:?}",
            b.format
        )));
    }
    let leaf = hash_from(&b.leaf_hash, "leaf_hash")?;
    let record = match &b.record {
        Some(r) => {
            let bytes = B64
                .decode(r)
                .map_err(|_| ProofError::Malformed("record is not base64".into()))?;
            if merkle::leaf_hash(&bytes) != leaf {
                return Err(ProofError::RecordHashMismatch);
            }
            Some(bytes)
        }
        None => None,
    };
    let path = b
        .audit_path
        .iter()
        .map(|h| hash_from(h, "an audit path entry"))
        .collect::<Result<Vec<_>, _>>()?;
    let cp = trusted
        .open(b.checkpoint.as_bytes())
        .map_err(ProofError::Checkpoint)?;
    if cp.size != b.tree_size {
        return Err(ProofError::CheckpointMismatch {
            origin: cp.origin,
            size: cp.size,
            tree_size: b.tree_size,
        });
    }
    let root = merkle::root_from_inclusion_proof(b.leaf_index, b.tree_size, &leaf, &path)
        .ok_or(ProofError::PathMismatch)?;
    if root != cp.root {
        return Err(ProofError::PathMismatch);
    }
    Ok(ProvenInclusion {
        origin: cp.origin,
        leaf_index: b.leaf_index,
        tree_size: b.tree_size,
        record,
        record_id: b.record_id,
    })
}

impl Store {
    /// Builds the inclusion proof of a committed record against its tenant's newest checkpoint.
    /// `None` when no record has this id.
    pub fn prove(&self, record_id: &str) -> Result<Option<ProofBundle>, StoreError> {
        let Some(rec) = self.get(record_id)? else {
            return Ok(None);
        };
        let Some(tenant) = self.tenants()?.into_iter().find(|t| t.tenant == rec.tenant) else {
            return Err(StoreError::Damaged {
                location: format!("seq {}", rec.seq),
                detail: format!("record names tenant {:?}, which has no log", rec.tenant),
            });
        };
        let Some(cp) = self.latest_checkpoint(&rec.tenant)? else {
            return Err(StoreError::Damaged {
                location: format!("tenant {}", rec.tenant),
                detail: "the log has no checkpoint".into(),
            });
        };
        let damaged = |detail: String| StoreError::Damaged {
            location: format!("tenant {} leaf {}", rec.tenant, rec.leaf_index),
            detail,
        };
        if rec.leaf_index >= cp.size {
            return Err(damaged(format!(
                "the newest checkpoint covers only {} leaves",
                cp.size
            )));
        }
        let src = self.open_tree(tenant.number)?;
        let leaf = src.node(0, rec.leaf_index)?;
        if !rec.pruned && merkle::leaf_hash(&rec.raw) != leaf {
            return Err(damaged("the record no longer matches its leaf hash".into()));
        }
        let audit = merkle::inclusion_proof(&src, rec.leaf_index, cp.size)?
            .ok_or_else(|| damaged("no audit path".into()))?;
        Ok(Some(ProofBundle {
            format: PROOF_FORMAT.into(),
            record_id: rec.record_id,
            tenant: rec.tenant,
            seq: rec.seq,
            source: rec.source.as_str().into(),
            time: rec.time.to_string(),
            record: (!rec.pruned).then(|| B64.encode(&rec.raw)),
            pruned: rec.pruned,
            leaf_hash: B64.encode(leaf),
            leaf_index: rec.leaf_index,
            tree_size: cp.size,
            audit_path: audit.iter().map(|h| B64.encode(h)).collect(),
            checkpoint: cp.note,
            key: self.vkey.as_str().to_owned(),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{SignerConfig, Store};
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

        #[test]
        fn a_mutated_bundle_never_verifies_unless_unchanged(at in 0usize..4096, v in 1u8..=255) {
            let dir = tempfile::tempdir().unwrap();
            let mut store = Store::init(&dir.path().join("s"), SignerConfig::default()).unwrap();
            for n in 0..5u8 {
                let e = mailtrail_event::AuditEvent {
                    record_id: format!("r{n}"),
                    raw: bytes::Bytes::from(vec![b'a' + n; 40]),
                    ..Default::default()
                };
                store.append(&e).unwrap();
            }
            store.commit().unwrap();
            let json = serde_json::to_vec(&store.prove("r3").unwrap().unwrap()).unwrap();
            prop_assert!(verify_proof(&json, store.verifier_key()).is_ok());
            let mut bad = json.clone();
            let i = at % bad.len();
            bad[i] ^= v;
            if let Ok(p) = verify_proof(&bad, store.verifier_key()) {
                // Only bytes that do not change meaning may differ: the claimed record id, JSON
                // whitespace, or the informational fields.
                prop_assert_eq!(p.leaf_index, 3);
                prop_assert_eq!(p.record.as_deref(), Some(&[b'a' + 3; 40][..]));
            }
        }
    }
}
