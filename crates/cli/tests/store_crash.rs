//! kill -9 during ingest, several times at random moments: nothing reported as committed is
//! lost, the store always verifies, and a final run completes the exact total with the rest
//! counted as duplicates.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests: a failed step should stop the test.

mod support;

use std::io::{BufRead as _, BufReader};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mailtrail_store::{OpenMode, Store};
use support::*;

const RECORDS: u64 = 60_000;
const COMMIT_EVERY: u64 = 1_500;

/// The store size the last "Committed … the store holds N" line reported.
fn parse_holds(line: &str) -> Option<u64> {
    let rest = line.split("the store holds ").nth(1)?;
    rest.split(|c: char| !c.is_ascii_digit())
        .next()?
        .parse()
        .ok()
}

#[test]
fn kill_nine_during_ingest_loses_nothing_committed_and_never_breaks_the_store() {
    let (dir, store, key) = init();
    let input = dir.path().join("big.ndjson");
    write_ndjson(&input, 0..RECORDS);
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos() as u64;
    eprintln!("kill schedule seed {seed}");
    let mut rng = seed | 1;
    let mut next = move || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    let mut reported_before = 0;
    for round in 0..5 {
        let mut child = mailtrail()
            .args([
                "ingest",
                input.to_str().unwrap(),
                "--no-index",
                "--commit-every",
            ])
            .arg(COMMIT_EVERY.to_string())
            .arg("--store")
            .arg(&store)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let reported = Arc::new(Mutex::new(None::<u64>));
        let stderr = child.stderr.take().unwrap();
        let r = Arc::clone(&reported);
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(n) = parse_holds(&line) {
                    *r.lock().unwrap() = Some(n);
                }
            }
        });
        std::thread::sleep(Duration::from_millis(300 + next() % 5_000));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        reader.join().unwrap();
        let last = reported.lock().unwrap().unwrap_or(reported_before);

        let committed = Store::open(&store, OpenMode::ReadOnly)
            .unwrap()
            .committed_len();
        eprintln!("round {round}: last reported {last}, committed {committed}");
        // Nothing reported is lost; at most the commit under way when the kill came is extra.
        assert!(
            committed >= last,
            "round {round}: committed {committed} < reported {last}"
        );
        assert!(
            committed <= last + COMMIT_EVERY,
            "round {round}: {committed} > {last} + one batch"
        );
        let o = mailtrail()
            .args(["verify", "--key", &key, "--store"])
            .arg(&store)
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(0), "round {round}: {}", stdout(&o));
        reported_before = committed;
    }

    let before = Store::open(&store, OpenMode::ReadOnly)
        .unwrap()
        .committed_len();
    let o = run(&["ingest", input.to_str().unwrap(), "--no-index"], &store);
    assert!(o.status.success(), "{}", stderr(&o));
    let expected = format!(
        "read {RECORDS} records from 1 inputs: {} new, {before} duplicates, 0 rejected; the store holds {RECORDS}",
        RECORDS - before
    );
    assert!(
        stdout(&o).contains(&expected),
        "{}\nexpected: {expected}",
        stdout(&o)
    );
    let o = mailtrail()
        .args(["verify", "--key", &key, "--store"])
        .arg(&store)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert!(stdout(&o).contains(&format!("OK: {RECORDS} records verify.")));
}
