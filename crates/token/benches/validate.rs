//! Validation throughput per algorithm: decode, issuer and key lookup, signature, claims — and the
//! same tokens through `jsonwebtoken` (same RustCrypto primitives, no issuer binding) as the peer.
//! Run: `cargo bench -p mailtrail-token --bench validate`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Bench setup: a failure is a broken bench.

use criterion::{Criterion, criterion_group, criterion_main};
use mailtrail_token::testing::{TestKey, jwks};
use mailtrail_token::{
    Inspection, JwkSet, KeyStore, TrustedIssuer, ValidationOptions, Validator, unix_now,
};
use serde_json::json;

const TEMPLATE: &str = "https://login.microsoftonline.com/{tenantid}/v2.0";
const TID: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
fn claims() -> serde_json::Value {
    // Real time, so that the peer (which reads the system clock) accepts the tokens too.
    let now = unix_now();
    json!({
        "iss": format!("https://login.microsoftonline.com/{TID}/v2.0"), "tid": TID,
        "aud": "https://outlook.office365.com", "ver": "2.0", "scp": "Mail.Read Mail.Send",
        "oid": "00000000-0000-0000-0000-000000000001", "upn": "someone@contoso.example",
        "iat": now - 100, "nbf": now - 100, "exp": now + 3500,
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
        assert!(validator.validate(&store, &token).is_ok());
        group.bench_function(key.algorithm().name(), |b| {
            b.iter(|| validator.validate(&store, std::hint::black_box(&token)))
        });
    }
    group.finish();

    // The peer: jsonwebtoken with the RustCrypto backend, one key, issuer and audience checked.
    let mut peer = c.benchmark_group("jsonwebtoken");
    for key in &keys {
        let token = key.mint(&claims());
        let jwk = key.public_jwk();
        let s = |name: &str| jwk[name].as_str().unwrap().to_owned();
        let (decoding, alg) = match key.algorithm() {
            mailtrail_token::Algorithm::Rs256 => (
                jsonwebtoken::DecodingKey::from_rsa_components(&s("n"), &s("e")).unwrap(),
                jsonwebtoken::Algorithm::RS256,
            ),
            mailtrail_token::Algorithm::Ps256 => (
                jsonwebtoken::DecodingKey::from_rsa_components(&s("n"), &s("e")).unwrap(),
                jsonwebtoken::Algorithm::PS256,
            ),
            mailtrail_token::Algorithm::Es256 => (
                jsonwebtoken::DecodingKey::from_ec_components(&s("x"), &s("y")).unwrap(),
                jsonwebtoken::Algorithm::ES256,
            ),
            _ => (
                jsonwebtoken::DecodingKey::from_ed_components(&s("x")).unwrap(),
                jsonwebtoken::Algorithm::EdDSA,
            ),
        };
        let mut validation = jsonwebtoken::Validation::new(alg);
        validation.set_audience(&["https://outlook.office365.com"]);
        validation.set_issuer(&[format!("https://login.microsoftonline.com/{TID}/v2.0")]);
        let decode = || {
            jsonwebtoken::decode::<serde_json::Value>(
                std::hint::black_box(&token),
                &decoding,
                &validation,
            )
        };
        assert!(decode().is_ok(), "{:?}", decode().err());
        peer.bench_function(key.algorithm().name(), |b| b.iter(decode));
    }
    peer.finish();

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
        b.iter(|| validator.validate(&with_consumer, std::hint::black_box(&forged)))
    });
    let token = keys[0].mint(&claims());
    c.bench_function("inspect", |b| {
        b.iter(|| Inspection::inspect(std::hint::black_box(&token), unix_now(), None))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
