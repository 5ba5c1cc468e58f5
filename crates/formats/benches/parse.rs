//! Parse + normalise throughput on Unified Audit Log NDJSON and a Management Activity API blob.
//!
//! The input is built from the fixture records (MailItemsAccessed Bind and Sync, admin cmdlets,
//! sign-ins in the UAL, Send), each copy with its own `Id`, so every record is parsed for real.
//! `cargo bench -p mailtrail-formats --bench parse`; see docs/benchmarks.md for the figures.

#![allow(missing_docs)] // criterion's macros generate undocumented functions.

use std::hint::black_box;
use std::ops::ControlFlow;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use mailtrail_formats::{Input, ReadOptions, Reader, Record};

const RECORDS: usize = 100_000;

/// `RECORDS` UAL records as NDJSON, cycling through the fixture records with fresh ids.
fn ndjson() -> Vec<u8> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/");
    let mut templates: Vec<String> = std::fs::read_to_string(format!("{dir}ual.ndjson"))
        .unwrap_or_default()
        .lines()
        .map(str::to_owned)
        .collect();
    let blob = std::fs::read_to_string(format!("{dir}ual-management-api.json")).unwrap_or_default();
    let values: Vec<serde_json::Value> = serde_json::from_str(&blob).unwrap_or_default();
    templates.extend(values.iter().map(|v| v.to_string()));
    assert!(!templates.is_empty(), "fixtures missing");
    let mut out = Vec::with_capacity(RECORDS * 1500);
    for i in 0..RECORDS {
        let t = &templates[i % templates.len()];
        // Every template starts its Id with a fixed UUID; give each copy its own.
        let at = t.find("\"Id\":\"").map_or(0, |p| p + 6);
        out.extend_from_slice(&t.as_bytes()[..at]);
        out.extend_from_slice(format!("{i:08x}").as_bytes());
        out.extend_from_slice(&t.as_bytes()[at + 8..]);
        out.push(b'\n');
    }
    out
}

fn count(reader: &Reader, input: &Input) -> u64 {
    let mut n = 0u64;
    let summary = reader.read(input, &mut |r: Record| {
        n += u64::from(r.is_ok());
        black_box(&r);
        ControlFlow::Continue(())
    });
    assert_eq!(summary.rejected(), 0);
    n
}

fn bench(c: &mut Criterion) {
    let data = ndjson();
    let mut array = Vec::with_capacity(data.len() + RECORDS);
    array.push(b'[');
    for (i, line) in data
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .enumerate()
    {
        if i > 0 {
            array.push(b',');
        }
        array.extend_from_slice(line);
    }
    array.push(b']');

    let mut group = c.benchmark_group("parse");
    group.sample_size(10);
    group.throughput(Throughput::Elements(RECORDS as u64));
    for threads in [1, 2] {
        let reader = Reader::new(ReadOptions {
            threads,
            ..Default::default()
        });
        let input = Input::bytes("bench.ndjson", data.clone());
        group.bench_function(format!("ual_ndjson_{threads}_threads"), |b| {
            b.iter(|| assert_eq!(count(&reader, &input), RECORDS as u64))
        });
        let input = Input::bytes("bench.json", array.clone());
        group.bench_function(format!("management_api_array_{threads}_threads"), |b| {
            b.iter(|| assert_eq!(count(&reader, &input), RECORDS as u64))
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
