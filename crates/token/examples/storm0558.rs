//! The Storm-0558 flaw, reproduced and stopped.
//!
//! Two issuers publish keys: Microsoft's consumer (MSA) tenant and the multi-tenant enterprise
//! issuer. A forger holding the consumer signing key mints an access token that claims a customer
//! tenant. A validator that looks the token's `kid` up in one common key list — the flaw — accepts
//! it. The `mailtrail-token` validator refuses it: the key belongs to another issuer.
//!
//! Run with `cargo run -p mailtrail-token --example storm0558`. Keys are generated at run time.

#[path = "../tests/support/naive.rs"]
mod naive;

use mailtrail_token::testing::{TestKey, jwks};
use mailtrail_token::{JwkSet, KeyStore, TrustedIssuer, ValidationOptions, Validator, unix_now};
use serde_json::json;

const CONSUMER: &str =
    "https://login.microsoftonline.com/9188040d-6c67-4c5b-b112-36a304b66dad/v2.0";
const ENTERPRISE: &str = "https://login.microsoftonline.com/{tenantid}/v2.0";
const VICTIM_TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const EXCHANGE: &str = "https://outlook.office365.com";

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // 1. Two issuers, two signing keys, two published key sets.
    let consumer_key = TestKey::rs256("msa-signing-2016");
    let enterprise_key = TestKey::rs256("entra-signing-2023");
    let consumer_jwks = jwks(&[&consumer_key]);
    let enterprise_jwks = jwks(&[&enterprise_key]);
    println!(
        "consumer issuer   {CONSUMER}\n  publishes key    {}",
        consumer_key.kid()
    );
    println!(
        "enterprise issuer {ENTERPRISE}\n  publishes key    {}",
        enterprise_key.kid()
    );

    // 2. The forger holds the consumer key and mints a token for a customer tenant's mailboxes.
    let now = unix_now();
    let forged = consumer_key.mint(&json!({
        "iss": format!("https://login.microsoftonline.com/{VICTIM_TENANT}/v2.0"),
        "tid": VICTIM_TENANT,
        "aud": EXCHANGE,
        "ver": "2.0",
        "scp": "Mail.Read",
        "upn": "ceo@victim.example",
        "iat": now - 60,
        "exp": now + 3600,
    }));
    println!(
        "\nforged token: kid {} (consumer), iss names tenant {VICTIM_TENANT}",
        consumer_key.kid()
    );

    // 3. The flawed validator: one common key list, no question of which issuer owns which key.
    let common = naive::CommonKeyList::from_documents(&[&consumer_jwks, &enterprise_jwks])?;
    match common.validate(&forged, &[CONSUMER, ENTERPRISE], EXCHANGE, now) {
        Ok(upn) => println!("\nnaive validator:   ACCEPTED — mailbox of {upn} is open"),
        Err(e) => println!("\nnaive validator:   rejected ({e})"),
    }

    // 4. mailtrail-token: every key is bound to the issuer that published it.
    let mut store = KeyStore::new();
    store.insert(TrustedIssuer::new(
        CONSUMER,
        JwkSet::from_json(consumer_jwks.as_bytes())?,
    ));
    store.insert(TrustedIssuer::new(
        ENTERPRISE,
        JwkSet::from_json(enterprise_jwks.as_bytes())?,
    ));
    let validator = Validator::new(ValidationOptions::for_audience(EXCHANGE))?;
    match validator.validate(&store, &forged) {
        Ok(v) => println!("mailtrail-token:   accepted?! kid {}", v.kid()),
        Err(e) => println!("mailtrail-token:   REJECTED [{}] {e}", e.rule()),
    }
    Ok(())
}
