//! Tampering with a store behind its back, the way someone who read the format documentation
//! would, and checking that `verify` names exactly what was done.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests: a failed step should stop the test.

#[allow(unreachable_pub)]
mod support;

use std::path::{Path, PathBuf};

use base64::Engine as _;
use mailtrail_store::{
    CheckpointProblem, Finding, OpenMode, SignerConfig, Store, VerifierKey, VerifyReport,
};
use sha2::{Digest, Sha256};
use support::*;

const TENANTS: [&str; 2] = ["contoso", "fabrikam"];

/// A store of 300 records over two tenants in three commits (blocks at seqs 0, 100, 200).
fn store() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store");
    let mut s = Store::init(&path, SignerConfig::default()).unwrap();
    for n in 0..300 {
        s.append(&event(n, TENANTS[(n % 2) as usize])).unwrap();
        if n % 100 == 99 {
            s.commit().unwrap();
        }
    }
    (dir, path)
}

fn verify(path: &Path) -> VerifyReport {
    Store::open(path, OpenMode::ReadOnly)
        .unwrap()
        .verify(None)
        .unwrap()
}

fn messages(r: &VerifyReport) -> String {
    r.findings.iter().map(|f| format!("{f}\n")).collect()
}

#[test]
fn an_untouched_store_verifies() {
    let (_d, path) = store();
    let r = verify(&path);
    assert!(r.is_ok(), "{}", messages(&r));
    assert_eq!(r.committed, 300);
    assert_eq!(r.records_checked, 300);
    assert_eq!(r.tenants.len(), 2);
    assert_eq!(r.tenants[0].checkpoints, 3);
    assert_eq!(r.tenants[0].latest_checkpoint, 150);
}

#[test]
fn verify_names_an_altered_record() {
    let (_d, path) = store();
    let (segment, offset) = rewrite_block(&path, 100, |recs| {
        let r = &mut recs[7];
        let text = String::from_utf8(r.raw.to_vec())
            .unwrap()
            .replace("MailItemsAccessed", "MailItemsAccessee");
        r.raw = text.into();
    });
    let r = verify(&path);
    assert_eq!(r.findings.len(), 1, "{}", messages(&r));
    assert_eq!(
        r.findings[0],
        Finding::RecordHashMismatch {
            seq: 107,
            record_id: guid(107),
            tenant: "fabrikam".into(),
            leaf_index: 53,
            segment: segment.clone(),
            offset,
        }
    );
    let msg = r.findings[0].to_string();
    assert!(
        msg.contains(&guid(107)) && msg.contains("seq 107") && msg.contains("00000000.seg"),
        "{msg}"
    );
}

#[test]
fn verify_names_a_removed_record() {
    let (_d, path) = store();
    rewrite_block(&path, 100, |recs| {
        recs.remove(10);
    });
    let r = verify(&path);
    let m = messages(&r);
    assert!(
        r.findings.contains(&Finding::LeavesWithoutRecord {
            tenant: "contoso".into(),
            first_leaf: 55,
            last_leaf: 55
        }),
        "{m}"
    );
    assert!(
        r.findings.iter().any(|f| matches!(
            f,
            Finding::RecordsRemoved {
                first_seq: 110,
                last_seq: 110,
                ..
            }
        )),
        "{m}"
    );
    assert!(m.contains("records removed: seq 110"), "{m}");
}

#[test]
fn verify_names_two_swapped_records() {
    let (_d, path) = store();
    rewrite_block(&path, 0, |recs| recs.swap(3, 4));
    let r = verify(&path);
    assert_eq!(r.findings.len(), 1, "{}", messages(&r));
    assert!(
        matches!(&r.findings[0], Finding::RecordOutOfOrder { seq: 3, after_seq: 4, record_id, .. } if *record_id == guid(3)),
        "{}",
        messages(&r)
    );
}

#[test]
fn verify_names_records_whose_bodies_were_swapped() {
    let (_d, path) = store();
    // Seqs 3 and 5 are leaves 1 and 2 of fabrikam.
    rewrite_block(&path, 0, |recs| {
        let a = recs[3].raw.clone();
        recs[3].raw = recs[5].raw.clone();
        recs[5].raw = a;
    });
    let r = verify(&path);
    let m = messages(&r);
    assert_eq!(r.findings.len(), 2, "{m}");
    assert!(
        r.findings.iter().any(|f| matches!(
            f,
            Finding::RecordReordered {
                seq: 3,
                expected_leaf: 1,
                found_leaf: 2,
                ..
            }
        )),
        "{m}"
    );
    assert!(m.contains("records reordered"), "{m}");
}

#[test]
fn verify_names_a_truncated_segment() {
    let (_d, path) = store();
    let seg = &segment_files(&path)[0];
    let len = std::fs::metadata(seg).unwrap().len();
    std::fs::OpenOptions::new()
        .write(true)
        .open(seg)
        .unwrap()
        .set_len(len - 100)
        .unwrap();
    let r = verify(&path);
    let m = messages(&r);
    assert!(
        r.findings
            .iter()
            .any(|f| matches!(f, Finding::SegmentTruncated { actual, .. } if *actual == len - 100)),
        "{m}"
    );
    assert!(
        r.findings.iter().any(|f| matches!(
            f,
            Finding::BlockDamaged {
                first_seq: 200,
                count: 100,
                ..
            }
        )),
        "{m}"
    );
    assert!(
        m.contains("segment truncated") && m.contains("seqs 200..=299"),
        "{m}"
    );
}

#[test]
fn verify_names_a_flipped_byte() {
    let (_d, path) = store();
    let seg = &segment_files(&path)[0];
    let (_, (_, offset, _, len)) = blocks(&path)[1];
    let mut bytes = std::fs::read(seg).unwrap();
    bytes[(offset + u64::from(len) / 2) as usize] ^= 0x20;
    std::fs::write(seg, bytes).unwrap();
    let r = verify(&path);
    assert_eq!(r.findings.len(), 1, "{}", messages(&r));
    assert!(
        matches!(&r.findings[0], Finding::BlockDamaged { first_seq: 100, offset: o, .. } if *o == offset)
    );
    assert!(messages(&r).contains("checksum"), "{}", messages(&r));
    assert!(
        r.notes
            .iter()
            .any(|n| n.contains("tenant contoso leaves 50..=99")),
        "{:?}",
        r.notes
    );
}

#[test]
fn verify_names_a_replaced_checkpoint() {
    let (_d, path) = store();
    let note = String::from_utf8(checkpoint(&path, 0, 100)).unwrap();
    // Same signature, another root: a checkpoint someone edited.
    let mut lines: Vec<&str> = note.split('\n').collect();
    let other = base64::engine::general_purpose::STANDARD.encode([7u8; 32]);
    lines[2] = &other;
    replace_checkpoint(&path, 0, 100, lines.join("\n").as_bytes());
    let r = verify(&path);
    assert_eq!(r.findings.len(), 1, "{}", messages(&r));
    assert!(matches!(
        &r.findings[0],
        Finding::CheckpointSignatureMismatch {
            size: 100,
            problem: CheckpointProblem::BadSignature { .. },
            ..
        }
    ));
}

#[test]
fn verify_names_a_checkpoint_forged_with_another_key() {
    let (_d, path) = store();
    let key = Store::open(&path, OpenMode::ReadOnly)
        .unwrap()
        .verifier_key()
        .clone();
    let note = String::from_utf8(checkpoint(&path, 1, 150)).unwrap();
    let text = note.split_once("\n\n").unwrap().0.to_owned() + "\n";
    let forged = sign_with_new_key(&text, key.name());
    replace_checkpoint(&path, 1, 150, forged.as_bytes());
    let r = verify(&path);
    let m = messages(&r);
    assert_eq!(r.findings.len(), 2, "{m}");
    assert!(
        r.findings.contains(&Finding::UnsignedLeaves {
            tenant: "fabrikam".into(),
            signed: 100,
            size: 150
        }),
        "{m}"
    );
    assert!(
        matches!(
            &r.findings[0],
            Finding::CheckpointSignatureMismatch { tenant, size: 150, problem: CheckpointProblem::UnknownKey { .. } } if tenant == "fabrikam"
        ),
        "{m}"
    );
    assert!(m.contains("not signed by the trusted key"), "{m}");
}

#[test]
fn a_pinned_key_catches_a_store_re_signed_with_a_substituted_key() {
    let (_d, path) = store();
    let original = Store::open(&path, OpenMode::ReadOnly)
        .unwrap()
        .verifier_key()
        .clone();
    // The attacker re-signs every checkpoint with their own key and swaps the key in store.json.
    let (forger_vkey, sign) = new_key(original.name());
    for (tenant, size) in [
        (0u32, 50u64),
        (0, 100),
        (0, 150),
        (1, 50),
        (1, 100),
        (1, 150),
    ] {
        let note = String::from_utf8(checkpoint(&path, tenant, size)).unwrap();
        let text = note.split_once("\n\n").unwrap().0.to_owned() + "\n";
        replace_checkpoint(&path, tenant, size, sign(&text).as_bytes());
    }
    let meta = std::fs::read_to_string(path.join("store.json")).unwrap();
    std::fs::write(
        path.join("store.json"),
        meta.replace(original.as_str(), &forger_vkey),
    )
    .unwrap();
    // Against the key the store now names, all is well; against the key printed at init, nothing is.
    assert!(verify(&path).is_ok());
    let r = Store::open(&path, OpenMode::ReadOnly)
        .unwrap()
        .verify(Some(&original))
        .unwrap();
    let forged = r
        .findings
        .iter()
        .filter(|f| {
            matches!(
                f,
                Finding::CheckpointSignatureMismatch {
                    problem: CheckpointProblem::UnknownKey { .. },
                    ..
                }
            )
        })
        .count();
    assert_eq!(forged, 6, "{}", messages(&r));
    // With no checkpoint left that the real key signed, nothing in the store is signed.
    assert!(r.findings.contains(&Finding::UnsignedLeaves {
        tenant: "contoso".into(),
        signed: 0,
        size: 150
    }));
}

/// One tenant, contoso, of 1100 records in commits of 300: four complete 256-leaf subtrees (whose
/// hashes are in `.hashes`) and 76 leaves after them; checkpoints at 300, 600, 900 and 1100. Its
/// seqs are its leaf indexes.
fn big_store() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store");
    let mut s = Store::init(&path, SignerConfig::default()).unwrap();
    for n in 0..1100 {
        s.append(&event(n, "contoso")).unwrap();
        if n % 300 == 299 {
            s.commit().unwrap();
        }
    }
    s.commit().unwrap();
    (dir, path)
}

fn tree_file(store: &Path, number: u32, ext: &str) -> PathBuf {
    store.join("tree").join(format!("{number:06}.{ext}"))
}

/// Flips one bit of byte `at` of a file.
fn flip(file: &Path, at: u64) {
    let mut bytes = std::fs::read(file).unwrap();
    bytes[at as usize] ^= 1;
    std::fs::write(file, bytes).unwrap();
}

#[test]
fn verify_names_an_altered_tree_hash() {
    // `.hashes` of 1100 leaves: the subtree hashes of leaves 0..=255, 256..=511, 0..=511,
    // 512..=767, 768..=1023, 512..=1023, 0..=1023, in that order.
    for (index, first_leaf, last_leaf) in [(0, 0, 255), (2, 0, 511), (4, 768, 1023), (6, 0, 1023)] {
        let (_d, path) = big_store();
        let hashes = tree_file(&path, 0, "hashes");
        assert_eq!(std::fs::metadata(&hashes).unwrap().len(), 7 * 32);
        flip(&hashes, index * 32 + 5);
        let r = verify(&path);
        let m = messages(&r);
        // Only the hash itself: not the records, the leaf hashes, the roots or the checkpoints'
        // consistency, which all still hold.
        assert_eq!(
            r.findings,
            [Finding::TreeHashMismatch {
                tenant: "contoso".into(),
                path: hashes.clone(),
                index,
                first_leaf,
                last_leaf,
                more: 0,
            }],
            "{m}"
        );
        assert!(
            m.contains("tree altered")
                && m.contains("000000.hashes")
                && m.contains(&format!("leaves {first_leaf}..={last_leaf}")),
            "{m}"
        );
    }
}

#[test]
fn verify_names_an_altered_leaf_hash() {
    // Leaf 300 is inside a complete subtree, whose stored hash still agrees with its record;
    // leaf 1050 is after the last one, where the signed checkpoint at 1100 does.
    for leaf in [0, 300, 1023, 1050, 1099] {
        let (_d, path) = big_store();
        let leaves = tree_file(&path, 0, "leaves");
        flip(&leaves, leaf * 32 + 31);
        let r = verify(&path);
        let m = messages(&r);
        assert_eq!(
            r.findings,
            [Finding::LeafHashMismatch {
                tenant: "contoso".into(),
                leaf_index: leaf,
                path: leaves.clone(),
                seq: leaf,
                record_id: guid(leaf),
            }],
            "{m}"
        );
        assert!(
            m.contains("leaf hash altered") && m.contains("000000.leaves"),
            "{m}"
        );
    }
    // In a small log every leaf is after the last complete subtree.
    let (_d, path) = store();
    let leaves = tree_file(&path, 1, "leaves");
    flip(&leaves, 53 * 32);
    let r = verify(&path);
    assert_eq!(
        r.findings,
        [Finding::LeafHashMismatch {
            tenant: "fabrikam".into(),
            leaf_index: 53,
            path: leaves,
            seq: 107,
            record_id: guid(107),
        }],
        "{}",
        messages(&r)
    );
}

#[test]
fn verify_tells_an_altered_record_from_an_altered_leaf_hash() {
    // One record and another leaf's hash altered, in the same subtree or not, before the last
    // complete subtree or after it.
    for (record, leaf) in [(700, 310), (310, 300), (1060, 1050), (1050, 700)] {
        let (_d, path) = big_store();
        let first = record / 300 * 300;
        rewrite_block(&path, first, |recs| {
            let r = &mut recs[(record - first) as usize];
            r.raw = String::from_utf8(r.raw.to_vec())
                .unwrap()
                .replace("MailItemsAccessed", "MailItemsAccessee")
                .into();
        });
        flip(&tree_file(&path, 0, "leaves"), leaf * 32 + 7);
        let r = verify(&path);
        let m = messages(&r);
        assert_eq!(r.findings.len(), 2, "{m}");
        assert!(
            r.findings.iter().any(|f| matches!(
                f,
                Finding::RecordHashMismatch { seq, leaf_index, .. } if *seq == record && *leaf_index == record
            )),
            "{m}"
        );
        assert!(
            r.findings.iter().any(|f| matches!(
                f,
                Finding::LeafHashMismatch { leaf_index, .. } if *leaf_index == leaf
            )),
            "{m}"
        );
    }
}

#[test]
fn verify_names_a_truncated_tree_file() {
    for ext in ["leaves", "hashes"] {
        let (_d, path) = big_store();
        let file = tree_file(&path, 0, ext);
        let len = std::fs::metadata(&file).unwrap().len();
        std::fs::OpenOptions::new()
            .write(true)
            .open(&file)
            .unwrap()
            .set_len(len - 32)
            .unwrap();
        let r = verify(&path);
        assert_eq!(
            r.findings,
            [Finding::HashFileTruncated {
                tenant: "contoso".into(),
                path: file
            }],
            "{}",
            messages(&r)
        );
    }
}

#[test]
fn rewriting_a_record_with_its_hashes_still_breaks_every_later_checkpoint() {
    for (big, sizes) in [(false, &[50, 100, 150][..]), (true, &[300, 600, 900, 1100])] {
        let (_d, path) = if big { big_store() } else { store() };
        // Alter seq 0 (contoso leaf 0) and rewrite its leaf hash and every tree hash consistently.
        rewrite_block(&path, 0, |recs| {
            recs[0].raw = bytes::Bytes::from_static(b"{\"Id\":\"forged\"}")
        });
        let store = Store::open(&path, OpenMode::ReadOnly).unwrap();
        let rec = store.get_seq(0).unwrap().unwrap();
        drop(store);
        let mut leaves: Vec<[u8; 32]> = std::fs::read(tree_file(&path, 0, "leaves"))
            .unwrap()
            .chunks_exact(32)
            .map(|c| c.try_into().unwrap())
            .collect();
        leaves[0] = mailtrail_store::leaf_hash(&rec.raw);
        write_tree(&path, 0, &leaves);
        let r = verify(&path);
        let m = messages(&r);
        for &size in sizes {
            assert!(
                r.findings.contains(&Finding::CheckpointRootMismatch {
                    tenant: "contoso".into(),
                    size
                }),
                "{m}"
            );
        }
        assert!(
            !m.contains("record altered")
                && !m.contains("tree altered")
                && !m.contains("leaf hash"),
            "{m}"
        );
    }
}

/// Writes a tenant's two tree files for these leaf hashes, as the layout documentation describes:
/// `.leaves` holds them, `.hashes` the Go tlog stored-hash sequence of the tree whose leaves are
/// the roots of the complete 256-leaf subtrees.
fn write_tree(store: &Path, number: u32, leaves: &[[u8; 32]]) {
    fn root(hashes: &[[u8; 32]]) -> [u8; 32] {
        match hashes.len() {
            1 => hashes[0],
            n => mailtrail_store::node_hash(&root(&hashes[..n / 2]), &root(&hashes[n / 2..])),
        }
    }
    std::fs::write(tree_file(store, number, "leaves"), leaves.concat()).unwrap();
    let mut stored: Vec<[u8; 32]> = Vec::new();
    let mut stack: Vec<[u8; 32]> = Vec::new();
    for (j, subtree) in leaves.chunks_exact(256).enumerate() {
        let mut h = root(subtree);
        stored.push(h);
        let mut i = j;
        while i & 1 == 1 {
            h = mailtrail_store::node_hash(&stack.pop().unwrap(), &h);
            stored.push(h);
            i >>= 1;
        }
        stack.push(h);
    }
    std::fs::write(tree_file(store, number, "hashes"), stored.concat()).unwrap();
}

/// A new Ed25519 key under `name`: its vkey and a function signing note text with it.
fn new_key(name: &str) -> (String, impl Fn(&str) -> String) {
    let kp = ed25519_compact::KeyPair::generate();
    let mut pubkey = vec![1u8];
    pubkey.extend_from_slice(&kp.pk[..]);
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update(b"\n");
    h.update(&pubkey);
    let id: [u8; 4] = h.finalize()[..4].try_into().unwrap();
    let b64 = base64::engine::general_purpose::STANDARD;
    let vkey = format!("{name}+{}+{}", hex(&id), b64.encode(&pubkey));
    let name = name.to_owned();
    let sign = move |text: &str| {
        let sig = kp.sk.sign(text.as_bytes(), None);
        let mut blob = id.to_vec();
        blob.extend_from_slice(&sig[..]);
        format!("{text}\n\u{2014} {name} {}\n", b64.encode(blob))
    };
    assert!(VerifierKey::parse(&vkey).is_some());
    (vkey, sign)
}

fn sign_with_new_key(text: &str, name: &str) -> String {
    new_key(name).1(text)
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn id_runs(store: &Path) -> Vec<PathBuf> {
    let mut runs: Vec<PathBuf> = std::fs::read_dir(store.join("ids"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    runs.sort();
    runs
}

#[test]
fn verify_names_altered_removed_and_swapped_runs_of_record_ids() {
    let (_d, path) = store();
    // Three commits of 100: the first two merged into one run of 200, the third on its own.
    let runs = id_runs(&path);
    assert_eq!(runs.len(), 2, "{runs:?}");
    let id_findings = |r: &VerifyReport| -> Vec<String> {
        assert!(
            r.findings
                .iter()
                .all(|f| matches!(f, Finding::RecordIdsDamaged { .. })),
            "only the ids are touched: {}",
            messages(r)
        );
        r.findings.iter().map(|f| f.to_string()).collect()
    };

    let original = std::fs::read(&runs[0]).unwrap();
    flip(&runs[0], 1000);
    let found = id_findings(&verify(&path));
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].contains(&runs[0].display().to_string()),
        "{found:?}"
    );
    assert!(found[0].contains("CRC"), "{found:?}");

    std::fs::remove_file(&runs[0]).unwrap();
    let found = id_findings(&verify(&path));
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].contains("missing"), "{found:?}");

    // The newer run in the older one's place: it holds the wrong number of ids.
    std::fs::copy(&runs[1], &runs[0]).unwrap();
    let found = id_findings(&verify(&path));
    assert!(
        found[0].contains("holds 100 record ids, the state says 200"),
        "{found:?}"
    );

    std::fs::write(&runs[0], original).unwrap();
    let r = verify(&path);
    assert!(r.is_ok(), "{}", messages(&r));
}
