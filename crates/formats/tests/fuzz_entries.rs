//! Runs the code the `fuzz/` targets call on every fixture and on mutations of them, so CI exercises
//! the fuzz entry points without a fuzzer: none of it may panic.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Test code: a failed unwrap is a failed test.

mod util;

use mailtrail_event::SourceFormat;
use mailtrail_formats::fuzzing;
use util::{fixture, gzip, otrf, zip, zstd};

/// Every fixture and third-party sample, plus each of them compressed.
fn corpus() -> Vec<Vec<u8>> {
    let mut files: Vec<_> = std::fs::read_dir(fixture(""))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x != "md"))
        .collect();
    files.sort();
    files.extend(
        [
            "OfficeActivityEvents.json",
            "AADAuditEvents.json",
            "Microsoft365DefenderEvents.json",
        ]
        .map(otrf),
    );
    let mut out = Vec::new();
    for f in files {
        let data = std::fs::read(&f).unwrap();
        out.push(gzip(&data));
        out.push(zstd(&data));
        out.push(zip(&[("m.json", &data)]));
        out.push(data);
    }
    out
}

/// A deterministic xorshift generator: the same mutations on every run.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn mutations(data: &[u8], rng: &mut Rng) -> Vec<Vec<u8>> {
    const INTERESTING: &[&[u8]] = &[
        b"{",
        b"}",
        b"[",
        b"]",
        b"\"",
        b"\\",
        b"\n",
        b",",
        b"\xff",
        b"\xef\xbb\xbf",
        b"@{",
        b"\"\"",
    ];
    let mut out = Vec::new();
    for _ in 0..12 {
        let mut m = data.to_vec();
        match rng.below(4) {
            0 if !m.is_empty() => {
                let i = rng.below(m.len());
                m[i] ^= 1 << rng.below(8);
            }
            1 => m.truncate(rng.below(m.len() + 1)),
            2 => {
                let i = rng.below(m.len() + 1);
                let ins = INTERESTING[rng.below(INTERESTING.len())];
                m.splice(i..i, ins.iter().copied());
            }
            _ if !m.is_empty() => {
                let i = rng.below(m.len());
                let j = (i + rng.below(64)).min(m.len());
                m.drain(i..j);
            }
            _ => {}
        }
        out.push(m);
    }
    out
}

fn run_all(data: &[u8]) {
    fuzzing::read(data);
    fuzzing::json_splitter(data);
    fuzzing::csv(data);
    fuzzing::record(data);
    for source in SourceFormat::ALL {
        fuzzing::normalize_as(source, data);
    }
}

#[test]
fn fuzz_entry_points_survive_fixtures_and_their_mutations() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut runs = 0;
    for data in corpus() {
        run_all(&data);
        runs += 1;
        for m in mutations(&data, &mut rng) {
            run_all(&m);
            runs += 1;
        }
    }
    // Single records, which the record targets see in practice.
    for line in std::fs::read_to_string(fixture("mixed.ndjson"))
        .unwrap()
        .lines()
    {
        for m in mutations(line.as_bytes(), &mut rng) {
            run_all(&m);
            runs += 1;
        }
    }
    assert!(runs > 500, "{runs}");
}
