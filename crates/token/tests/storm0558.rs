//! The Storm-0558 demonstration as a test: a naive "any key in the common key list" validator
//! accepts an enterprise token signed with the consumer key; this crate rejects it with
//! `KeyBelongsToAnotherIssuer`. The same scenario runs as `examples/storm0558.rs`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Test code: a failed unwrap is a failed test.

mod support;

use mailtrail_token::testing::{TestKey, jwks};
use mailtrail_token::{JwkSet, KeyStore, Rejection, TrustedIssuer, ValidationOptions, Validator};
use support::naive::CommonKeyList;
use support::*;

#[test]
fn the_naive_validator_accepts_the_forgery_and_ours_rejects_it_as_another_issuers_key() {
    let consumer_key = TestKey::rs256("msa-signing");
    let enterprise_key = TestKey::rs256("entra-signing");
    let consumer_jwks = jwks(&[&consumer_key]);
    let enterprise_jwks = jwks(&[&enterprise_key]);
    let mut forged_claims = claims(CONTOSO);
    forged_claims["upn"] = serde_json::json!("ceo@contoso.example");
    let forged = consumer_key.mint(&forged_claims);

    let naive = CommonKeyList::from_documents(&[&consumer_jwks, &enterprise_jwks]).unwrap();
    assert_eq!(
        naive.validate(&forged, &[CONSUMER, ENTERPRISE], AUD, NOW),
        Ok("ceo@contoso.example".to_owned()),
        "the flawed validator must accept the forgery, or the demonstration shows nothing"
    );

    let mut store = KeyStore::new();
    store.insert(TrustedIssuer::new(
        CONSUMER,
        JwkSet::from_json(consumer_jwks.as_bytes()).unwrap(),
    ));
    store.insert(TrustedIssuer::new(
        ENTERPRISE,
        JwkSet::from_json(enterprise_jwks.as_bytes()).unwrap(),
    ));
    let validator = Validator::new(ValidationOptions::for_audience(AUD)).unwrap();
    assert_eq!(
        validator.validate_at(&store, &forged, NOW).unwrap_err(),
        Rejection::KeyBelongsToAnotherIssuer {
            kid: "msa-signing".into(),
            token_issuer: issuer(CONTOSO),
            key_issuer: CONSUMER.into(),
        }
    );

    // Both accept the genuine token: the difference is the binding, nothing else.
    let genuine = enterprise_key.mint(&claims(CONTOSO));
    assert!(
        naive
            .validate(&genuine, &[CONSUMER, ENTERPRISE], AUD, NOW)
            .is_ok()
    );
    assert!(validator.validate_at(&store, &genuine, NOW).is_ok());
}
