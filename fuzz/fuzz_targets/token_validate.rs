//! Any bytes as a token: decoding, inspection and full validation must never panic, and must
//! never accept (the only trusted key's private half is not known to the fuzzer).
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use mailtrail_token::{Inspection, JwkSet, KeyStore, TrustedIssuer, ValidationOptions, Validator};

/// A public P-256 key from Project Wycheproof, trusted for the Entra ID tenant template.
const JWKS: &str = r#"{"keys":[{"kty":"EC","crv":"P-256","kid":"kid-ec-sign","use":"sig",
 "x":"04N0xi21hshyvBp7I167sbE_bXqyqkAPfefdklMO7wY","y":"UI8exy-C06a7DUnjIdENkxeFtHM4-l_41LqEw9nVgmw"}]}"#;

fn setup() -> &'static (KeyStore, Validator) {
    static SETUP: OnceLock<(KeyStore, Validator)> = OnceLock::new();
    SETUP.get_or_init(|| {
        let mut store = KeyStore::new();
        let keys = JwkSet::from_json(JWKS.as_bytes()).expect("fixed key set");
        store.insert(TrustedIssuer::new(
            "https://login.microsoftonline.com/{tenantid}/v2.0",
            keys,
        ));
        let validator = Validator::new(ValidationOptions::any_audience()).expect("options");
        (store, validator)
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(token) = std::str::from_utf8(data) else {
        return;
    };
    let (store, validator) = setup();
    let _ = Inspection::inspect(token, 1_700_000_000, None);
    if let Ok(v) = validator.validate_at(store, token, 1_700_000_000) {
        panic!("accepted a token no one could sign: {:?}", v.claims());
    }
});
