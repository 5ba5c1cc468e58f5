//! Generation speed: records per second for a small tenant, streamed to a callback (no disk).
//!
//! `bench/simulate.sh` measures the end-to-end command, writing files, at larger sizes.

use std::convert::Infallible;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use mailtrail_sim::{Generator, Scenario, TenantConfig};

fn generate(c: &mut Criterion) {
    let config = TenantConfig::builder()
        .users(200)
        .days(7)
        .seed(1)
        .scenarios(&Scenario::ALL)
        .build()
        .unwrap_or_else(|e| panic!("bench config: {e}"));
    let generator = Generator::new(config);
    let count = || {
        let mut n = 0u64;
        let _ = generator.run(|_| {
            n += 1;
            Ok::<(), Infallible>(())
        });
        n
    };
    let records = count();
    let mut group = c.benchmark_group("simulate");
    group.sample_size(10);
    group.throughput(Throughput::Elements(records));
    group.bench_function("200_users_7_days", |b| b.iter(count));
    group.finish();
}

criterion_group!(benches, generate);
criterion_main!(benches);
