//! Store throughput: append + commit (dedup, segments, Merkle, checkpoints), re-ingest of
//! duplicates, and verify, on UAL-shaped records of about 1.2 KB.
//!
//! `cargo bench -p mailtrail-store --bench store`

#![allow(clippy::unwrap_used, missing_docs)] // criterion_group! generates undocumented items.

use bytes::Bytes;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use mailtrail_event::{AuditEvent, SourceFormat};
use mailtrail_store::{OpenMode, SignerConfig, Store};

const N: u64 = 100_000;

fn events() -> Vec<AuditEvent> {
    (0..N)
        .map(|n| {
            let id = format!("{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}", n.wrapping_mul(2_654_435_761) as u32, n % 65_536, n % 4096, (n / 7) % 4096, n);
            let tenant = if n % 5 == 0 { "0c9a8b7d-6e5f-4a3b-8c2d-1e0f9a8b7c6d" } else { "b7f5d3c1-2a4e-4f6b-9c8d-0e1f2a3b4c5d" };
            let raw = format!(
                concat!(
                    r#"{{"CreationTime":"2024-05-{:02}T{:02}:{:02}:{:02}","Id":"{}","Operation":"MailItemsAccessed","#,
                    r#""OrganizationId":"{}","RecordType":50,"ResultStatus":"Succeeded","UserKey":"1003200{:09X}","#,
                    r#""UserType":0,"Version":1,"Workload":"Exchange","ClientIPAddress":"203.0.113.{}","#,
                    r#""UserId":"user{}@contoso.example","AppId":"00000002-0000-0ff1-ce00-000000000000","#,
                    r#""ClientAppId":"d3590ed6-52b3-4102-aeff-aad2292ab01c","ClientInfoString":"Client=OWA;Action=ViaProxy","#,
                    r#""ExternalAccess":false,"InternalLogonType":0,"LogonType":0,"LogonUserSid":"S-1-5-21-{}","#,
                    r#""MailboxOwnerUPN":"user{}@contoso.example","#,
                    r#""OperationProperties":[{{"Name":"MailAccessType","Value":"Bind"}},{{"Name":"IsThrottled","Value":"False"}}],"#,
                    r#""OrganizationName":"contoso.onmicrosoft.com","OriginatingServer":"AM0PR01MB{} (15.20.7000.000)","#,
                    r#""SessionId":"{:x}-{:x}","Folders":[{{"FolderItems":[{{"InternetMessageId":"<{:x}@contoso.example>"}}],"#,
                    r#""Id":"LgAAAAD{:016X}","Path":"\\Inbox"}}],"OperationCount":1}}"#
                ),
                1 + n % 28, n % 24, n % 60, (n / 60) % 60, id, tenant, n, n % 250, n % 500, n % 97, n % 500,
                n % 1000, n.wrapping_mul(0x9E37_79B9), n / 7, n.wrapping_mul(0x85EB_CA6B), n
            );
            AuditEvent {
                record_id: id,
                tenant_id: Some(tenant.into()),
                source: SourceFormat::UalNdjson,
                time: jiff::Timestamp::new(1_714_000_000 + n as i64, 0).unwrap(),
                raw: Bytes::from(raw),
                ..Default::default()
            }
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let events = events();
    let bytes: u64 = events.iter().map(|e| e.raw.len() as u64 + 1).sum();
    let mut g = c.benchmark_group("store");
    g.sample_size(10);
    g.throughput(Throughput::Elements(N));
    g.bench_function("append_commit_100k", |b| {
        b.iter_with_setup(
            || tempfile::tempdir().unwrap(),
            |dir| {
                let mut s = Store::init(&dir.path().join("s"), SignerConfig::default()).unwrap();
                for e in &events {
                    s.append(e).unwrap();
                }
                s.commit().unwrap();
                dir
            },
        )
    });
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s");
    let mut s = Store::init(&path, SignerConfig::default()).unwrap();
    for e in &events {
        s.append(e).unwrap();
    }
    s.commit().unwrap();
    g.bench_function("append_duplicates_100k", |b| {
        b.iter(|| {
            for e in &events {
                assert!(!s.append(e).unwrap().is_new());
            }
        })
    });
    drop(s);
    let stored: u64 = walk(&path);
    eprintln!(
        "store size: {stored} bytes for {bytes} bytes of NDJSON = {:.1} %",
        100.0 * stored as f64 / bytes as f64
    );
    let reader = Store::open(&path, OpenMode::ReadOnly).unwrap();
    g.throughput(Throughput::Bytes(bytes));
    g.bench_function("verify_100k", |b| {
        b.iter(|| assert!(reader.verify(None).unwrap().is_ok()))
    });
    g.finish();
}

fn walk(p: &std::path::Path) -> u64 {
    std::fs::read_dir(p)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            let m = e.metadata().unwrap();
            if m.is_dir() { walk(&e.path()) } else { m.len() }
        })
        .sum()
}

criterion_group!(benches, bench);
criterion_main!(benches);
