//! Project Wycheproof's JOSE vectors and raw signature vectors, run through the same functions the
//! validator uses (`verify_jws`, `JwkSet`, `VerifyingKey::verify`).
//!
//! Every `invalid` case must be rejected. Every `valid` case must be accepted, except the few listed
//! in `DELIBERATE`, where our policy is stricter than Wycheproof's and the test pins the rule that
//! rejects them (docs/token.md, "Wycheproof results", explains each).

#![allow(clippy::unwrap_used, clippy::expect_used)] // Test code: a failed unwrap is a failed test.

use std::collections::BTreeMap;
use std::path::PathBuf;

use mailtrail_token::{Jwk, JwkSet, Rejection, verify_jws};
use serde_json::{Value, json};

fn data(name: &str) -> Value {
    let path: PathBuf = [
        env!("CARGO_MANIFEST_DIR"),
        "../../../shared/data/wycheproof-jose",
        name,
    ]
    .iter()
    .collect();
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (the shared Wycheproof data must be present)",
            path.display()
        )
    });
    serde_json::from_str(&text).unwrap()
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// A group's key as a JWK Set: the public key when there is one, as a verifier would have it.
fn key_set(group: &Value) -> Result<JwkSet, String> {
    let key = group.get("public").unwrap_or(&group["private"]);
    let set = if key.get("keys").is_some() {
        key.clone()
    } else {
        json!({ "keys": [key] })
    };
    JwkSet::from_json(set.to_string().as_bytes()).map_err(|e| e.to_string())
}

fn jws_text(test: &Value) -> String {
    match &test["jws"] {
        Value::String(s) => s.clone(),
        other => other.to_string(), // JSON serialization: we only read compact.
    }
}

/// Valid by Wycheproof, rejected by policy here: (file, tcId) → the rule that rejects it.
const DELIBERATE: &[(&str, u64, &str)] = &[
    // HMAC: a validator of published keys holds no secret; HS* is always refused.
    ("jws", 1, "alg-hmac"),
    ("jws", 348, "alg-hmac"),
    ("jws", 352, "alg-hmac"),
    ("jws", 357, "alg-hmac"),
    ("jws", 358, "alg-hmac"),
    ("jws", 359, "alg-hmac"),
    ("jws", 376, "alg-hmac"),
    ("jws", 377, "alg-hmac"),
    ("jwk", 2, "alg-hmac"),
    ("jwk", 13, "alg-hmac"),
    ("jwk", 14, "alg-hmac"),
    ("jwk", 15, "alg-hmac"),
    // '?' inside a base64url part is not base64url; we never skip characters.
    ("jws", 372, "base64url"),
    ("jws", 373, "base64url"),
    // RFC 7520 figure 20: the key says alg PS256, the token PS384. The key pins the algorithm.
    ("jws", 346, "alg-key-mismatch"),
    ("jws", 350, "alg-key-mismatch"),
    // RFC 7520 figure 27: the key says alg "ES521", which is no JOSE algorithm (ES512 is), so the
    // key is refused and the token's kid is unknown. Wycheproof's own JWK vectors (jwk tcId 19)
    // call the same "ES521" key invalid.
    ("jws", 347, "kid-unknown"),
    ("jws", 351, "kid-unknown"),
];

fn deliberate(file: &str, id: u64) -> Option<&'static str> {
    DELIBERATE
        .iter()
        .find(|(f, t, _)| *f == file && *t == id)
        .map(|(_, _, rule)| *rule)
}

#[derive(Default, Debug)]
struct Tally {
    counts: BTreeMap<String, usize>,
}

impl Tally {
    fn add(&mut self, what: &str) {
        *self.counts.entry(what.to_owned()).or_default() += 1;
    }
}

fn run_jose(file: &str, name: &str) -> Tally {
    let doc = data(name);
    let mut tally = Tally::default();
    let mut failures = Vec::new();
    for group in doc["testGroups"].as_array().unwrap() {
        let keys = key_set(group);
        for test in group["tests"].as_array().unwrap() {
            let id = test["tcId"].as_u64().unwrap();
            let result = test["result"].as_str().unwrap();
            let outcome: Result<Vec<u8>, Rejection> = match &keys {
                Ok(keys) => verify_jws(&jws_text(test), keys),
                // The whole set was unreadable: nothing can verify.
                Err(_) => Err(Rejection::MissingKeyId),
            };
            match (result, &outcome, deliberate(file, id)) {
                ("invalid", Err(_), _) => tally.add("invalid rejected"),
                ("valid", Ok(_), None) => tally.add("valid accepted"),
                ("valid", Err(e), Some(rule)) if e.rule() == rule => {
                    tally.add(&format!("valid rejected by policy ({rule})"))
                }
                ("acceptable", Err(e), _) => {
                    tally.add(&format!("acceptable rejected ({})", e.rule()))
                }
                ("acceptable", Ok(_), _) => tally.add("acceptable accepted"),
                _ => failures.push(format!(
                    "{file} tcId {id} ({}) expected {result}, got {outcome:?}",
                    test["comment"]
                )),
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    tally
}

#[test]
fn jws_vectors_reject_every_invalid_case_and_accept_every_valid_one_we_support() {
    let tally = run_jose("jws", "json_web_signature_test.json");
    eprintln!("json_web_signature_test.json: {:#?}", tally.counts);
    // 401 cases: 355 invalid, 46 valid of which 14 are refused by policy (see DELIBERATE).
    assert_eq!(tally.counts["invalid rejected"], 355);
    assert_eq!(tally.counts["valid accepted"], 32);
    let by_policy: usize = tally
        .counts
        .iter()
        .filter(|(k, _)| k.starts_with("valid rejected by policy"))
        .map(|(_, n)| n)
        .sum();
    assert_eq!(by_policy, 14);
}

#[test]
fn jwk_vectors_reject_every_invalid_key_set_case() {
    let tally = run_jose("jwk", "json_web_key_test.json");
    eprintln!("json_web_key_test.json: {:#?}", tally.counts);
    // 26 cases: 21 invalid; of the 5 valid, the 4 HMAC ones are refused by policy.
    assert_eq!(tally.counts["invalid rejected"], 21);
    assert_eq!(tally.counts["valid accepted"], 1);
    assert_eq!(tally.counts["valid rejected by policy (alg-hmac)"], 4);
}

#[test]
fn the_roca_key_from_the_jwk_vectors_is_refused_as_roca() {
    let doc = data("json_web_key_test.json");
    let group = doc["testGroups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["comment"] == "jws_rsa_roca_key")
        .unwrap();
    let set = key_set(group).unwrap();
    assert!(set.keys().is_empty());
    assert_eq!(
        set.rejected()[0].reason,
        mailtrail_token::KeyRejected::RocaVulnerable
    );
}

/// Runs a raw signature vector file: each group's JWK, each test's message and signature.
fn run_raw(name: &str, jwk_of: impl Fn(&Value) -> Value) -> Tally {
    let doc = data(name);
    let mut tally = Tally::default();
    let mut failures = Vec::new();
    for group in doc["testGroups"].as_array().unwrap() {
        let jwk = Jwk::from_json(jwk_of(group).to_string().as_bytes());
        for test in group["tests"].as_array().unwrap() {
            let id = test["tcId"].as_u64().unwrap();
            let result = test["result"].as_str().unwrap();
            let ok = match &jwk {
                Ok(jwk) => jwk
                    .key()
                    .verify(
                        &hex(test["msg"].as_str().unwrap()),
                        &hex(test["sig"].as_str().unwrap()),
                    )
                    .is_ok(),
                Err(_) => false,
            };
            match (result, ok) {
                ("valid", true) => tally.add("valid accepted"),
                ("invalid", false) => tally.add("invalid rejected"),
                ("acceptable", ok) => tally.add(if ok {
                    "acceptable accepted"
                } else {
                    "acceptable rejected"
                }),
                _ => failures.push(format!(
                    "{name} tcId {id} ({} {:?}) expected {result}, key {:?}",
                    test["comment"],
                    test["flags"],
                    jwk.as_ref().err()
                )),
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    eprintln!("{name}: {:#?}", tally.counts);
    tally
}

#[test]
fn ed25519_raw_vectors_all_pass() {
    let t = run_raw("ed25519_test.json", |g| g["publicKeyJwk"].clone());
    assert_eq!(t.counts["valid accepted"], 88);
    assert_eq!(t.counts["invalid rejected"], 63);
}

#[test]
fn rsa_pkcs1_raw_vectors_all_pass() {
    let t = run_raw("rsa_signature_2048_sha256_test.json", |g| {
        g["keyJwk"].clone()
    });
    assert_eq!(t.counts["valid accepted"], 9);
    assert_eq!(t.counts["invalid rejected"], 249);
    // The DigestInfo without its NULL parameter: we accept only the one canonical encoding.
    assert_eq!(t.counts["acceptable rejected"], 1);
}

#[test]
fn rsa_pss_raw_vectors_all_pass() {
    let t = run_raw("rsa_pss_2048_sha256_mgf1_32_test.json", |g| {
        g["publicKeyJwk"].clone()
    });
    assert_eq!(t.counts["valid accepted"], 63);
    assert_eq!(t.counts["invalid rejected"], 45);
}

#[test]
fn ecdsa_p256_p1363_raw_vectors_all_pass() {
    let t = run_raw("ecdsa_secp256r1_sha256_p1363_test.json", |g| {
        if let Some(jwk) = g.get("publicKeyJwk") {
            return jwk.clone();
        }
        // Some groups give only the uncompressed point.
        let point = hex(g["publicKey"]["uncompressed"].as_str().unwrap());
        json!({
            "kty": "EC", "crv": "P-256",
            "x": mailtrail_token::testing::b64url(&point[1..33]),
            "y": mailtrail_token::testing::b64url(&point[33..65]),
        })
    });
    assert_eq!(t.counts["valid accepted"], 173);
    assert_eq!(t.counts["invalid rejected"], 89);
}
