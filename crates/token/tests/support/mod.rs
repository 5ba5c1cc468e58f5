//! Shared test world: a consumer (MSA) issuer and a multi-tenant enterprise issuer, each with a
//! key generated at run time.
#![allow(dead_code, clippy::unwrap_used)] // Each test file uses a different part; test code.

pub(crate) mod naive;

use mailtrail_token::testing::{TestKey, jwks};
use mailtrail_token::{JwkSet, KeyStore, TrustedIssuer, ValidationOptions, Validator};
use serde_json::{Value, json};

/// The consumer (MSA) tenant's issuer.
pub(crate) const CONSUMER: &str =
    "https://login.microsoftonline.com/9188040d-6c67-4c5b-b112-36a304b66dad/v2.0";
/// Entra ID's tenant-independent issuer.
pub(crate) const ENTERPRISE: &str = "https://login.microsoftonline.com/{tenantid}/v2.0";
/// A customer tenant.
pub(crate) const CONTOSO: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
/// Another customer tenant.
pub(crate) const FABRIKAM: &str = "d5f0a9b2-5b0c-4b6e-9a33-1f7f3c2b8e10";
/// Exchange Online.
pub(crate) const AUD: &str = "https://outlook.office365.com";
/// The validation time of every test.
pub(crate) const NOW: i64 = 1_700_000_100;

/// The v2.0 issuer of a tenant.
pub(crate) fn issuer(tid: &str) -> String {
    format!("https://login.microsoftonline.com/{tid}/v2.0")
}

/// Claims of a good v2.0 access token for `tid`, issued 100 s before [`NOW`], valid one hour.
pub(crate) fn claims(tid: &str) -> Value {
    json!({
        "iss": issuer(tid), "tid": tid, "aud": AUD, "ver": "2.0",
        "sub": "AAAAAAAAAAAAAAAAAAAAAIkzqFVrSaSaFHy782bbtaQ",
        "scp": "Mail.Read", "iat": NOW - 100, "nbf": NOW - 100, "exp": NOW + 3500,
    })
}

/// A consumer issuer with `consumer`'s key and the enterprise template with `enterprise`'s.
pub(crate) struct World {
    pub(crate) consumer: TestKey,
    pub(crate) enterprise: TestKey,
    pub(crate) store: KeyStore,
    pub(crate) validator: Validator,
}

pub(crate) fn store_of(issuers: &[(&str, &[&TestKey])]) -> KeyStore {
    let mut store = KeyStore::new();
    for (iss, keys) in issuers {
        let set = JwkSet::from_json(jwks(keys).as_bytes()).unwrap();
        assert!(set.rejected().is_empty(), "{:?}", set.rejected());
        store.insert(TrustedIssuer::new(iss, set));
    }
    store
}

pub(crate) fn world() -> World {
    let consumer = TestKey::es256("msa-2023");
    let enterprise = TestKey::ed25519("entra-2023");
    let store = store_of(&[(CONSUMER, &[&consumer]), (ENTERPRISE, &[&enterprise])]);
    World {
        consumer,
        enterprise,
        store,
        validator: Validator::new(ValidationOptions::for_audience(AUD)).unwrap(),
    }
}
