//! The store commands end to end: init, ingest (dedup across runs, files and formats), show,
//! prove / verify-proof, verify, retention, and the writer lock.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests: a failed step should stop the test.

mod support;

use std::io::Write as _;
use std::process::Stdio;

use support::*;

#[test]
fn init_prints_a_c2sp_verifier_key_and_refuses_to_overwrite() {
    let (_d, store, key) = init();
    let parts: Vec<&str> = key.splitn(3, '+').collect(); // the base64 part may hold '+'
    assert_eq!(parts.len(), 3, "{key}");
    assert!(parts[0].starts_with("mailtrail/"));
    assert_eq!(parts[1].len(), 8);
    let o = run(&["init"], &store);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("refusing to overwrite"),
        "{}",
        stderr(&o)
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(store.join("signing.key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}

#[test]
fn records_are_kept_once_across_runs_files_and_formats() {
    let (dir, store, _) = init();
    let ndjson = dir.path().join("a.ndjson");
    let csv = dir.path().join("b.csv");
    write_ndjson(&ndjson, 0..300);
    write_purview_csv(&csv, 200..500);
    let o = run(&["ingest", ndjson.to_str().unwrap()], &store);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("read 300 records from 1 inputs: 300 new, 0 duplicates, 0 rejected"),
        "{}",
        stdout(&o)
    );
    // The CSV overlaps in 200..300: those are the same records, read from another format.
    let o = run(&["ingest", csv.to_str().unwrap()], &store);
    assert!(stdout(&o).contains("read 300 records from 1 inputs: 200 new, 100 duplicates, 0 rejected; the store holds 500"), "{}", stdout(&o));
    // Everything again: all duplicates.
    let o = run(
        &["ingest", ndjson.to_str().unwrap(), csv.to_str().unwrap()],
        &store,
    );
    assert!(
        stdout(&o).contains("read 600 records from 2 inputs: 0 new, 600 duplicates"),
        "{}",
        stdout(&o)
    );
    // The kept copy of an overlapping record is the NDJSON line, byte for byte.
    let o = run(&["show", &guid(250)], &store);
    assert!(o.status.success());
    assert_eq!(String::from_utf8(o.stdout).unwrap(), ual(250));
    let o = run(&["verify"], &store);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    assert!(
        stdout(&o).contains("OK: 500 records verify."),
        "{}",
        stdout(&o)
    );
}

#[test]
fn rejected_records_are_counted_with_their_location() {
    let (dir, store, _) = init();
    let file = dir.path().join("mixed.ndjson");
    std::fs::write(&file, format!("{}\nnot json at all\n{}\n", ual(1), ual(2))).unwrap();
    let o = run(&["ingest", file.to_str().unwrap()], &store);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stdout(&o).contains("2 new, 0 duplicates, 1 rejected"),
        "{}",
        stdout(&o)
    );
    assert!(stderr(&o).contains("mixed.ndjson:2"), "{}", stderr(&o));
}

#[test]
fn a_record_read_in_part_is_stored_whole_and_named() {
    let (dir, store, _) = init();
    let file = dir.path().join("part.ndjson");
    // Record 5 with messages in a shape no export writes: kept, but its messages are unread.
    let odd = ual(5).replacen("{", r#"{"AffectedItems":42,"#, 1);
    std::fs::write(&file, format!("{}\n{odd}\n", ual(1))).unwrap();
    let o = run(&["ingest", file.to_str().unwrap()], &store);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("2 new, 0 duplicates, 0 rejected, 1 read in part;"),
        "{}",
        stdout(&o)
    );
    let err = stderr(&o);
    let warning = err
        .lines()
        .find(|l| l.starts_with("warning: "))
        .unwrap_or("");
    for part in ["part.ndjson:2", &guid(5), "AffectedItems"] {
        assert!(warning.contains(part), "{part} in {err}");
    }
    let shown = run(&["show", &guid(5)], &store);
    assert_eq!(stdout(&shown).trim_end(), odd);
    // Search finds it by what it left unread.
    let found = run(&["search", "unread:*", "--format", "csv"], &store);
    assert_eq!(found.status.code(), Some(0), "{}", stderr(&found));
    let csv = stdout(&found);
    let rows: Vec<&str> = csv.lines().skip(1).collect();
    assert_eq!(rows.len(), 1, "{csv}");
    assert!(rows[0].contains(&guid(5)), "{}", rows[0]);
}

#[test]
fn a_proof_verifies_offline_and_only_with_the_right_key() {
    let (dir, store, key) = init();
    let file = dir.path().join("a.ndjson");
    write_ndjson(&file, 0..50);
    assert!(
        run(&["ingest", file.to_str().unwrap()], &store)
            .status
            .success()
    );
    let proof = dir.path().join("proof.json");
    let o = run(&["prove", &guid(17), "-o", proof.to_str().unwrap()], &store);
    assert!(o.status.success(), "{}", stderr(&o));
    // Offline: the store may be gone.
    let moved = dir.path().join("moved-away");
    std::fs::rename(&store, &moved).unwrap();
    let o = mailtrail()
        .args(["verify-proof", proof.to_str().unwrap(), "--key", &key])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    assert!(stdout(&o).starts_with("OK:"), "{}", stdout(&o));
    // The key may also come from a file.
    let key_file = dir.path().join("key.txt");
    std::fs::write(&key_file, format!("{key}\n")).unwrap();
    let o = mailtrail()
        .args([
            "verify-proof",
            proof.to_str().unwrap(),
            "--key",
            key_file.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0));
    // Another store's key: invalid.
    let (_d2, _s2, other) = init();
    let o = mailtrail()
        .args(["verify-proof", proof.to_str().unwrap(), "--key", &other])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stdout(&o).contains("INVALID: checkpoint: not signed by the trusted key"),
        "{}",
        stdout(&o)
    );
    // An edited record: invalid.
    let text = std::fs::read_to_string(&proof).unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let mut v2 = v.clone();
    v2["leaf_index"] = serde_json::json!(v["leaf_index"].as_u64().unwrap() + 1);
    std::fs::write(&proof, v2.to_string()).unwrap();
    let o = mailtrail()
        .args(["verify-proof", proof.to_str().unwrap(), "--key", &key])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).contains("audit path"), "{}", stdout(&o));
}

#[test]
fn verify_exits_one_and_names_a_truncated_segment() {
    let (dir, store, key) = init();
    let file = dir.path().join("a.ndjson");
    write_ndjson(&file, 0..100);
    assert!(
        run(&["ingest", file.to_str().unwrap()], &store)
            .status
            .success()
    );
    let seg = store.join("segments").join("00000000.seg");
    let len = std::fs::metadata(&seg).unwrap().len();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&seg)
        .unwrap()
        .set_len(len - 10)
        .unwrap();
    let o = mailtrail()
        .args(["verify", "--store", store.to_str().unwrap(), "--key", &key])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    let out = stdout(&o);
    assert!(
        out.contains("TAMPERED: segment truncated") && out.contains("00000000.seg"),
        "{out}"
    );
    assert!(out.contains("FAILED"), "{out}");
}

#[test]
fn a_second_ingest_is_refused_while_one_runs() {
    let (dir, store, _) = init();
    let mut first = mailtrail()
        .args(["ingest", "-", "--store", store.to_str().unwrap()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until it holds the lock (a debug build on a busy machine can take a while to start).
    let lock = store.join("LOCK");
    let holder = format!("pid {} ", first.id());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !std::fs::read_to_string(&lock).is_ok_and(|s| s.contains(&holder)) {
        assert!(
            std::time::Instant::now() < deadline,
            "the first ingest never took the lock"
        );
        std::thread::sleep(std::time::Duration::from_millis(25));
    }
    let file = dir.path().join("a.ndjson");
    write_ndjson(&file, 0..10);
    let o = run(&["ingest", file.to_str().unwrap()], &store);
    assert_eq!(o.status.code(), Some(2));
    let msg = stderr(&o);
    assert!(
        msg.contains("in use by another writer") && msg.contains(&format!("pid {}", first.id())),
        "{msg}"
    );
    // The first one finishes normally.
    first
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{}\n", ual(1)).as_bytes())
        .unwrap();
    let out = first.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        run(&["ingest", file.to_str().unwrap()], &store)
            .status
            .success()
    );
}

#[test]
fn retention_prunes_bodies_and_verify_show_and_prove_say_so() {
    let (dir, store, key) = init();
    let file = dir.path().join("a.ndjson");
    write_ndjson(&file, 0..40);
    assert!(
        run(&["ingest", file.to_str().unwrap()], &store)
            .status
            .success()
    );
    // The records are from 2024; keep one day: everything is pruned.
    let o = run(&["retention", "--keep", "1d"], &store);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("Deleted 40 record bodies"),
        "{}",
        stdout(&o)
    );
    let o = run(&["verify"], &store);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert!(
        stdout(&o).contains("pruned by retention: seqs 0..=39"),
        "{}",
        stdout(&o)
    );
    let o = run(&["show", &guid(3)], &store);
    assert_ne!(o.status.code(), Some(0));
    assert!(
        stderr(&o).contains("was pruned by retention"),
        "{}",
        stderr(&o)
    );
    let proof = dir.path().join("p.json");
    let o = run(&["prove", &guid(3), "-o", proof.to_str().unwrap()], &store);
    assert!(o.status.success());
    assert!(
        stderr(&o).contains("proves its hash only"),
        "{}",
        stderr(&o)
    );
    let o = mailtrail()
        .args(["verify-proof", proof.to_str().unwrap(), "--key", &key])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert!(
        stdout(&o).contains("hash (its body was pruned)"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn show_prints_the_original_bytes_exactly() {
    let (dir, store, _) = init();
    // CRLF line endings and unusual spacing must not leak into or out of the stored record.
    let rec = ual(7).replace(",\"Version\":1", ", \"Version\" : 1");
    let file = dir.path().join("a.json");
    std::fs::write(&file, format!("{rec}\r\n")).unwrap();
    assert!(
        run(&["ingest", file.to_str().unwrap()], &store)
            .status
            .success()
    );
    let o = run(&["show", &guid(7)], &store);
    assert_eq!(o.stdout, rec.as_bytes());
    let o = run(&["show", "no-such-id"], &store);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("no record with id"));
}
