//! Any bytes as a JWK Set, and as one JWK: reading keys must never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mailtrail_token::{Jwk, JwkSet, TrustedIssuer};

fuzz_target!(|data: &[u8]| {
    if let Ok(set) = JwkSet::from_json(data) {
        let _ = TrustedIssuer::new("https://login.microsoftonline.com/{tenantid}/v2.0", set);
    }
    let _ = Jwk::from_json(data);
});
