//! Validation throughput per algorithm: decode, issuer and key lookup, signature, claims.
//! Run: `cargo bench -p mailtrail-token --bench validate`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Bench setup: a failure is a broken bench.

use criterion::{Criterion, criterion_group, criterion_main};
use mailtrail_token::testing::{TestKey, jwks};
use mailtrail_token::{Inspection, JwkSet, KeyStore, TrustedIssuer, ValidationOptions, Validator};
use serde_json::json;

const TEMPLATE: &str = "https://login.microsoftonline.com/{tenantid}/v2.0";
const TID: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const NOW: i64 = 1_700_000_100;

fn claims() -> serde_json::Value {
    json!({
        "iss": format!("https://login.microsoftonline.com/{TID}/v2.0"), "tid": TID,
        "aud": "https://outlook.office365.com", "ver": "2.0", "scp": "Mail.Read Mail.Send",
        "oid": "00000000-0000-0000-0000-000000000001", "upn": "someone@contoso.example",
        "iat": NOW - 100, "nbf": NOW - 100, "exp": NOW + 3500,
    })
}

fn bench(c: &mut Criterion) {
    let keys = [
        TestKey::rs256("rs256"),
        TestKey::ps256("ps256"),
        TestKey::es256("es256"),
        TestKey::ed25519("eddsa"),
    ];
    let mut store = KeyStore::new();
    let refs: Vec<&TestKey> = keys.iter().collect();
    store.insert(TrustedIssuer::new(
        TEMPLATE,
        JwkSet::from_json(jwks(&refs).as_bytes()).unwrap(),
    ));
    let validator = Validator::new(ValidationOptions::for_audience(
        "https://outlook.office365.com",
    ))
    .unwrap();
    let mut group = c.benchmark_group("validate");
    for key in &keys {
        let token = key.mint(&claims());
        assert!(validator.validate_at(&store, &token, NOW).is_ok());
        group.bench_function(key.algorithm().name(), |b| {
            b.iter(|| validator.validate_at(&store, std::hint::black_box(&token), NOW))
        });
    }
    group.finish();

    // The Storm-0558 forgery is refused before any signature arithmetic.
    let consumer = TestKey::ed25519("msa").with_member(
        "issuer",
        "https://login.microsoftonline.com/9188040d-6c67-4c5b-b112-36a304b66dad/v2.0",
    );
    let mut with_consumer = store.clone();
    with_consumer.insert(TrustedIssuer::new(
        "https://login.microsoftonline.com/9188040d-6c67-4c5b-b112-36a304b66dad/v2.0",
        JwkSet::from_json(jwks(&[&consumer]).as_bytes()).unwrap(),
    ));
    let forged = consumer.mint(&claims());
    c.bench_function("reject/key-issuer-binding", |b| {
        b.iter(|| validator.validate_at(&with_consumer, std::hint::black_box(&forged), NOW))
    });
    let token = keys[0].mint(&claims());
    c.bench_function("inspect", |b| {
        b.iter(|| Inspection::inspect(std::hint::black_box(&token), NOW, None))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
