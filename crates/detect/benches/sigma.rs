//! Sigma evaluation speed: events per second through [`SigmaMatcher::process`].
//!
//! Events are a simulated tenant's Unified Audit Log (`mailtrail-sim`, every attack scenario
//! mixed into ordinary work), read by `mailtrail-formats` as a hunt reads them. Rule sets: the
//! built-in pack alone, and the built-in pack plus SigmaHQ's Microsoft 365 and Entra ID rules
//! from `../shared/sigma` (skipped with a message when the corpus is absent). Run with
//! `cargo bench -p mailtrail-detect --bench sigma`; figures are in `docs/benchmarks.md`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Benchmark setup: a failure is a broken bench.

use std::hint::black_box;
use std::path::PathBuf;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use mailtrail_detect::sigma::{SigmaMatcher, SigmaRules};
use mailtrail_event::{AuditEvent, SourceFormat};
use mailtrail_sim::{Generator, RecordKind, Scenario, TenantConfig};

/// A simulated tenant's records of `kind`, normalised.
fn events(kind: RecordKind) -> Vec<AuditEvent> {
    let config = TenantConfig::builder()
        .users(60)
        .days(15)
        .seed(2023)
        .scenarios(&Scenario::ALL)
        .build()
        .expect("tenant config");
    let source = match kind {
        RecordKind::UnifiedAudit => SourceFormat::UalNdjson,
        RecordKind::SignIn => SourceFormat::GraphSignIn,
        _ => SourceFormat::GraphDirectoryAudit,
    };
    let mut out = Vec::new();
    Generator::new(config)
        .run(|record| {
            if record.kind() == kind
                && let Ok(ev) = mailtrail_formats::normalize(source, record.json().to_vec().into())
            {
                out.push(ev);
            }
            Ok::<(), std::convert::Infallible>(())
        })
        .expect("simulation");
    out
}

/// SigmaHQ's Microsoft 365 and Entra ID rule folders, when the corpus is there.
fn sigmahq_cloud() -> Option<Vec<PathBuf>> {
    let root = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/sigma"
    ));
    let dirs: Vec<PathBuf> = [
        "rules/cloud/m365",
        "rules/cloud/azure",
        "rules-threat-hunting/cloud/m365",
        "rules-threat-hunting/cloud/azure",
    ]
    .iter()
    .map(|d| root.join(d))
    .filter(|d| d.is_dir())
    .collect();
    if dirs.is_empty() {
        eprintln!(
            "SigmaHQ corpus not found under {}: benchmarking the built-in pack only",
            root.display()
        );
        return None;
    }
    Some(dirs)
}

fn bench_rules(c: &mut Criterion, name: &str, rules: &SigmaRules, events: &[AuditEvent]) {
    let mut group = c.benchmark_group("sigma");
    group.throughput(Throughput::Elements(events.len() as u64));
    group.sample_size(20);
    group.bench_function(name, |b| {
        b.iter(|| {
            let mut matcher = SigmaMatcher::new(rules);
            let mut out = Vec::new();
            for ev in events {
                matcher.process(black_box(ev), &mut out);
            }
            matcher.finish(&mut out);
            black_box(out.len())
        })
    });
    group.finish();
}

fn sigma(c: &mut Criterion) {
    let ual = events(RecordKind::UnifiedAudit);
    let sign_ins = events(RecordKind::SignIn);
    let (builtin, _) = SigmaRules::load(true, &[]).expect("built-in pack");
    bench_rules(c, "ual/builtin", &builtin, &ual);
    if let Some(dirs) = sigmahq_cloud() {
        let (all, report) = SigmaRules::load(true, &dirs).expect("SigmaHQ cloud rules");
        // Print what was measured, and how often the original record had to be parsed.
        let mut matcher = SigmaMatcher::new(&all);
        let mut out = Vec::new();
        for ev in &ual {
            matcher.process(ev, &mut out);
        }
        eprintln!(
            "rules: {} loaded; UAL events: {}; {:?}",
            report.loaded().len(),
            ual.len(),
            matcher.stats()
        );
        bench_rules(c, "ual/builtin+sigmahq", &all, &ual);
        bench_rules(c, "signin/builtin+sigmahq", &all, &sign_ins);
    }
}

criterion_group!(benches, sigma);
criterion_main!(benches);
