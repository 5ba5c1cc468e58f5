//! The store against a simple in-memory log: random appends, commits, crashes (with torn
//! writes) and reopenings must agree with the model, and the store must always verify.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests: a failed step should stop the test.

#[allow(unreachable_pub)]
mod support;

use std::collections::HashMap;

use mailtrail_store::{Appended, OpenMode, PreparedRecord, SignerConfig, Store, StoreError};
use proptest::prelude::*;
use support::*;

#[derive(Clone, Debug)]
enum Op {
    /// Append the event with this number (small pool: duplicates are common).
    Append(u64),
    Commit,
    /// Drop the writer without committing, then cut this many bytes (mod the uncommitted tail)
    /// off the newest segment, as a power loss mid-write would.
    Crash(u64),
    Reopen,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        8 => (0u64..60).prop_map(Op::Append),
        2 => Just(Op::Commit),
        1 => any::<u64>().prop_map(Op::Crash),
        1 => Just(Op::Reopen),
    ]
}

/// The model: committed record numbers in order, and the pending ones.
#[derive(Default)]
struct Model {
    committed: Vec<u64>,
    pending: Vec<u64>,
}

impl Model {
    fn seq_of(&self, n: u64) -> Option<u64> {
        self.committed
            .iter()
            .chain(&self.pending)
            .position(|&m| m == n)
            .map(|p| p as u64)
    }
}

fn tenant(n: u64) -> &'static str {
    ["contoso", "fabrikam", "woodgrove"][(n % 3) as usize]
}

fn check(store: &Store, model: &Model) {
    assert_eq!(store.committed_len(), model.committed.len() as u64);
    let scanned: Vec<String> = store.scan(0).map(|r| r.unwrap().record_id).collect();
    let expected: Vec<String> = model.committed.iter().map(|&n| guid(n)).collect();
    assert_eq!(scanned, expected);
    // Leaf indexes count per tenant in append order.
    let mut per_tenant: HashMap<&str, u64> = HashMap::new();
    for (seq, &n) in model.committed.iter().enumerate() {
        let rec = store.get(&guid(n)).unwrap().unwrap();
        let leaf = per_tenant.entry(tenant(n)).or_default();
        assert_eq!(
            (rec.seq, rec.leaf_index, rec.tenant.as_str()),
            (seq as u64, *leaf, tenant(n))
        );
        assert_eq!(rec.raw, event(n, tenant(n)).raw);
        *leaf += 1;
    }
    let report = store.verify(None).unwrap();
    assert!(report.findings.is_empty(), "{:?}", report.findings);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    #[test]
    fn random_appends_commits_and_crashes_agree_with_an_in_memory_log(ops in prop::collection::vec(op(), 1..80)) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("store");
        let mut store = Store::init(&path, SignerConfig::default()).unwrap();
        let mut model = Model::default();
        for op in ops {
            match op {
                Op::Append(n) => {
                    let got = store.append(&event(n, tenant(n))).unwrap();
                    match model.seq_of(n) {
                        Some(seq) => prop_assert_eq!(got, Appended::Duplicate { seq }),
                        None => {
                            let next = (model.committed.len() + model.pending.len()) as u64;
                            let is_next = matches!(got, Appended::New { seq, .. } if seq == next);
                            prop_assert!(is_next, "{:?} is not the next seq {}", got, next);
                            model.pending.push(n);
                        }
                    }
                }
                Op::Commit => {
                    let s = store.commit().unwrap();
                    prop_assert_eq!(s.new_records, model.pending.len() as u64);
                    model.committed.append(&mut model.pending);
                    check(&store, &model);
                }
                Op::Crash(cut) => {
                    // Uncommitted blocks may have reached the segment file: write one, then cut.
                    let seg = segment_files(&path);
                    drop(store);
                    if let Some(last) = seg.last() {
                        let len = std::fs::metadata(last).unwrap().len();
                        let f = std::fs::OpenOptions::new().write(true).open(last).unwrap();
                        // Append garbage as a torn block would leave, then cut somewhere in it.
                        let garbage = (cut % 700) + 1;
                        f.set_len(len + garbage).unwrap();
                        f.set_len(len + garbage / 2).unwrap();
                    }
                    // So may the leaf and tree hashes of a commit that never landed.
                    for entry in std::fs::read_dir(path.join("tree")).unwrap() {
                        let file = entry.unwrap().path();
                        let len = std::fs::metadata(&file).unwrap().len();
                        let f = std::fs::OpenOptions::new().write(true).open(&file).unwrap();
                        f.set_len(len + cut % 97 + 1).unwrap();
                    }
                    model.pending.clear();
                    // A reader first: it must ignore the torn tail and verify.
                    let reader = Store::open(&path, OpenMode::ReadOnly).unwrap();
                    check(&reader, &model);
                    drop(reader);
                    store = Store::open(&path, OpenMode::ReadWrite).unwrap();
                    check(&store, &model);
                }
                Op::Reopen => {
                    store.commit().unwrap();
                    model.committed.append(&mut model.pending);
                    drop(store);
                    store = Store::open(&path, OpenMode::ReadWrite).unwrap();
                    check(&store, &model);
                }
            }
        }
    }
}

#[test]
fn a_torn_last_write_is_rolled_back_on_open_and_the_next_run_resumes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store");
    let mut store = Store::init(&path, SignerConfig::default()).unwrap();
    for n in 0..1000 {
        store.append(&event(n, "contoso")).unwrap();
    }
    store.commit().unwrap();
    let committed = std::fs::metadata(segment_files(&path).pop().unwrap())
        .unwrap()
        .len();
    // Enough uncommitted records to fill and write several blocks (1 MiB each) without a commit.
    let big = |n: u64| {
        let mut e = event(n, "contoso");
        e.raw = format!(
            "{{\"Id\":\"{}\",\"pad\":\"{}\"}}",
            e.record_id,
            "x".repeat(4000 + (n % 97) as usize)
        )
        .into();
        e
    };
    for n in 1000..2000 {
        store.append(&big(n)).unwrap();
    }
    let seg = segment_files(&path).pop().unwrap();
    let written = std::fs::metadata(&seg).unwrap().len();
    assert!(written > committed, "uncommitted blocks were written");
    drop(store); // the process dies here
    // Power loss: the last writes reached the disk only in part.
    std::fs::OpenOptions::new()
        .write(true)
        .open(&seg)
        .unwrap()
        .set_len(committed + (written - committed) / 2)
        .unwrap();

    let reader = Store::open(&path, OpenMode::ReadOnly).unwrap();
    let report = reader.verify(None).unwrap();
    assert!(report.is_ok(), "{:?}", report.findings);
    assert!(
        report
            .notes
            .iter()
            .any(|n| n.contains("after its last commit")),
        "{:?}",
        report.notes
    );
    drop(reader);

    let mut store = Store::open(&path, OpenMode::ReadWrite).unwrap();
    assert_eq!(store.committed_len(), 1000);
    let report = store.verify(None).unwrap();
    assert!(report.is_ok() && report.notes.is_empty(), "{report:?}");
    // The next run resumes: the lost records are new again, the committed ones duplicates.
    let mut new = 0;
    for n in 0..2000 {
        let e = if n < 1000 {
            event(n, "contoso")
        } else {
            big(n)
        };
        new += u64::from(store.append(&e).unwrap().is_new());
    }
    assert_eq!(new, 1000);
    store.commit().unwrap();
    assert_eq!(store.committed_len(), 2000);
    assert!(store.verify(None).unwrap().is_ok());
}

#[test]
fn retention_prunes_old_bodies_and_the_store_still_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store");
    let mut store = Store::init(&path, SignerConfig::default()).unwrap();
    // event(n) happens at 1_709_000_000 + 60 n seconds.
    for n in 0..400 {
        store.append(&event(n, tenant(n))).unwrap();
        if n % 150 == 149 {
            store.commit().unwrap();
        }
    }
    store.commit().unwrap();
    let cutoff = jiff::Timestamp::new(1_709_000_000 + 60 * 120, 0).unwrap();
    let report = store.prune_before(cutoff).unwrap();
    assert_eq!(report.records_pruned, 120);
    assert_eq!(report.ranges.len(), 1);
    assert_eq!(
        (report.ranges[0].first_seq, report.ranges[0].last_seq),
        (0, 119)
    );

    let v = store.verify(None).unwrap();
    assert!(v.is_ok(), "{:?}", v.findings);
    assert_eq!(v.pruned.len(), 1);
    assert_eq!((v.pruned[0].first_seq, v.pruned[0].last_seq), (0, 119));
    assert_eq!(v.records_checked, 280);

    let old = store.get(&guid(5)).unwrap().unwrap();
    assert!(old.pruned && old.raw.is_empty());
    assert!(!store.get(&guid(200)).unwrap().unwrap().pruned);
    // A pruned record is still proven by its hash.
    let proof = store.prove(&guid(5)).unwrap().unwrap();
    assert!(proof.pruned && proof.record.is_none());
    let json = serde_json::to_vec(&proof).unwrap();
    mailtrail_store::verify_proof(&json, store.verifier_key()).unwrap();
    // Pruning again finds nothing new; appending keeps working.
    assert_eq!(store.prune_before(cutoff).unwrap().records_pruned, 0);
    store.append(&event(1000, "contoso")).unwrap();
    store.commit().unwrap();
    drop(store);
    let store = Store::open(&path, OpenMode::ReadWrite).unwrap();
    assert!(store.verify(None).unwrap().is_ok());
    assert_eq!(store.committed_len(), 401);
}

#[test]
fn bodies_deleted_outside_retention_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store");
    let mut store = Store::init(&path, SignerConfig::default()).unwrap();
    for n in 0..10 {
        store.append(&event(n, "contoso")).unwrap();
    }
    store.commit().unwrap();
    drop(store);
    rewrite_block(&path, 0, |recs| {
        recs[4].pruned = true;
        recs[4].raw = bytes::Bytes::new();
    });
    let v = Store::open(&path, OpenMode::ReadOnly)
        .unwrap()
        .verify(None)
        .unwrap();
    assert!(
        v.findings.iter().any(|f| f
            .to_string()
            .contains("bodies deleted outside retention: seq 4")),
        "{:?}",
        v.findings
    );
}

#[test]
fn a_prepared_record_is_stored_as_its_event_is() {
    let dir = tempfile::tempdir().unwrap();
    let init = |name| Store::init(&dir.path().join(name), SignerConfig::default()).unwrap();
    let (mut plain, mut prepared) = (init("plain"), init("prepared"));
    // Three tenants, and every tenth record twice: duplicates are found either way.
    for n in (0..300).chain((0..300).step_by(10)) {
        let e = event(n, tenant(n));
        let a = plain.append(&e).unwrap();
        let b = prepared.append_prepared(&PreparedRecord::new(e)).unwrap();
        assert_eq!(a, b, "record {n}");
    }
    let mut nameless = event(1000, "contoso");
    nameless.record_id.clear();
    assert!(matches!(
        prepared.append_prepared(&PreparedRecord::new(nameless)),
        Err(StoreError::InvalidEvent { .. })
    ));
    plain.commit().unwrap();
    prepared.commit().unwrap();

    for seq in 0..300 {
        assert_eq!(
            plain.get_seq(seq).unwrap(),
            prepared.get_seq(seq).unwrap(),
            "seq {seq}"
        );
    }
    let tenants = plain.tenants().unwrap();
    assert_eq!(tenants, prepared.tenants().unwrap());
    assert_eq!(tenants.len(), 3);
    // The same tree: each tenant's signed root (the note's third line; the origin names the store).
    let root = |s: &Store, t: &str| {
        let note = s.latest_checkpoint(t).unwrap().unwrap().note;
        note.lines().nth(2).unwrap().to_owned()
    };
    for t in &tenants {
        assert_eq!(root(&plain, &t.tenant), root(&prepared, &t.tenant));
    }
    assert!(prepared.verify(None).unwrap().is_ok());
}
