//! Forged and malformed tokens: each is refused by the rule that names its flaw.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Test code: a failed unwrap is a failed test.

mod support;

use std::time::Duration;

use mailtrail_token::testing::{TestKey, b64url};
use mailtrail_token::{Part, Rejection, TokenUse, ValidationOptions, Validator};
use serde_json::json;
use support::*;

fn rule(result: Result<mailtrail_token::Verified, Rejection>) -> &'static str {
    match result {
        Ok(v) => panic!("accepted a token that should be refused: {:?}", v.claims()),
        Err(e) => e.rule(),
    }
}

#[test]
fn a_genuine_enterprise_token_is_accepted_and_names_its_key_and_issuer() {
    let w = world();
    let v = w
        .validator
        .validate_at(&w.store, &w.enterprise.mint(&claims(CONTOSO)), NOW)
        .unwrap();
    assert_eq!(v.kid(), "entra-2023");
    assert_eq!(v.issuer(), issuer(CONTOSO));
    assert_eq!(v.key_issuer(), ENTERPRISE);
    assert_eq!(v.trusted_issuer(), ENTERPRISE);
    assert_eq!(v.claims().tid(), Some(CONTOSO));
    assert!(v.audience_checked());
    // And a consumer token signed by the consumer key is the consumer issuer's, exactly.
    let msa = "9188040d-6c67-4c5b-b112-36a304b66dad";
    let v = w
        .validator
        .validate_at(&w.store, &w.consumer.mint(&claims(msa)), NOW)
        .unwrap();
    assert_eq!(v.key_issuer(), CONSUMER);
}

#[test]
fn a_consumer_key_on_an_enterprise_token_belongs_to_another_issuer() {
    let w = world();
    let forged = w.consumer.mint(&claims(CONTOSO));
    let err = w.validator.validate_at(&w.store, &forged, NOW).unwrap_err();
    assert_eq!(
        err,
        Rejection::KeyBelongsToAnotherIssuer {
            kid: "msa-2023".into(),
            token_issuer: issuer(CONTOSO),
            key_issuer: CONSUMER.into(),
        }
    );
}

#[test]
fn a_consumer_key_bound_by_its_issuer_member_in_one_common_key_set_is_refused() {
    // Entra ID's tenant-independent key set lists enterprise and consumer keys together and
    // binds each with an `issuer` member. Trusting the whole set for the template must not let
    // the consumer key sign for a customer tenant.
    let consumer = TestKey::es256("msa-key").with_member("issuer", CONSUMER);
    let enterprise = TestKey::ed25519("entra-key").with_member("issuer", ENTERPRISE);
    let store = store_of(&[(ENTERPRISE, &[&consumer, &enterprise])]);
    let validator = Validator::new(ValidationOptions::for_audience(AUD)).unwrap();

    let genuine = enterprise.mint(&claims(CONTOSO));
    assert!(validator.validate_at(&store, &genuine, NOW).is_ok());
    let forged = consumer.mint(&claims(CONTOSO));
    assert!(matches!(
        validator.validate_at(&store, &forged, NOW),
        Err(Rejection::KeyBelongsToAnotherIssuer { key_issuer, .. }) if key_issuer == CONSUMER
    ));
}

#[test]
fn a_key_claiming_an_issuer_outside_its_publisher_is_not_loaded() {
    let rogue = TestKey::ed25519("rogue").with_member("issuer", "https://evil.example/v2.0");
    let set =
        mailtrail_token::JwkSet::from_json(mailtrail_token::testing::jwks(&[&rogue]).as_bytes())
            .unwrap();
    let trusted = mailtrail_token::TrustedIssuer::new(ENTERPRISE, set);
    assert_eq!(trusted.keys().count(), 0);
    assert!(matches!(
        trusted.rejected()[0].reason,
        mailtrail_token::KeyRejected::IssuerOutsideScope { .. }
    ));
}

#[test]
fn rs256_to_hs256_confusion_with_the_public_key_as_secret_is_refused() {
    use hmac::{KeyInit, Mac};
    let rsa = TestKey::rs256("rsa-1");
    let store = store_of(&[(ENTERPRISE, &[&rsa])]);
    let validator = Validator::new(ValidationOptions::for_audience(AUD)).unwrap();
    // The genuine RS256 token is fine…
    assert!(
        validator
            .validate_at(&store, &rsa.mint(&claims(CONTOSO)), NOW)
            .is_ok()
    );
    // …the attacker signs HS256 with the public key bytes, as a vulnerable library would verify.
    let input = format!(
        "{}.{}",
        b64url(br#"{"alg":"HS256","kid":"rsa-1","typ":"JWT"}"#),
        b64url(claims(CONTOSO).to_string().as_bytes())
    );
    for secret in [
        rsa.public_key_der().unwrap(),
        rsa.public_jwk().to_string().into_bytes(),
    ] {
        let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(&secret).unwrap();
        mac.update(input.as_bytes());
        let forged = format!("{input}.{}", b64url(&mac.finalize().into_bytes()));
        assert_eq!(
            rule(validator.validate_at(&store, &forged, NOW)),
            "alg-hmac"
        );
    }
}

#[test]
fn a_header_alg_other_than_the_keys_pinned_algorithm_is_refused() {
    let w = world();
    // The enterprise key is Ed25519; a token claiming ES256 under its kid is refused before any
    // signature check, whatever the signature.
    let forged = w.consumer.mint_raw(
        r#"{"alg":"ES256","kid":"entra-2023"}"#,
        &claims(CONTOSO).to_string(),
    );
    assert_eq!(
        w.validator.validate_at(&w.store, &forged, NOW).unwrap_err(),
        Rejection::AlgorithmMismatch {
            kid: "entra-2023".into(),
            token_alg: mailtrail_token::Algorithm::Es256,
            key_alg: mailtrail_token::Algorithm::EdDsa,
        }
    );
}

#[test]
fn alg_none_is_refused_with_or_without_a_signature() {
    let w = world();
    let body = b64url(claims(CONTOSO).to_string().as_bytes());
    for header in [r#"{"alg":"none","kid":"entra-2023"}"#, r#"{"alg":"None"}"#] {
        let h = b64url(header.as_bytes());
        assert_eq!(
            rule(
                w.validator
                    .validate_at(&w.store, &format!("{h}.{body}."), NOW)
            ),
            "signature-missing"
        );
        assert_eq!(
            rule(
                w.validator
                    .validate_at(&w.store, &format!("{h}.{body}.AAAA"), NOW)
            ),
            "alg-none"
        );
    }
}

#[test]
fn kid_injection_and_path_tricks_are_only_unknown_keys() {
    let w = world();
    let long = "A".repeat(20_000);
    for kid in [
        "../../../../etc/passwd",
        "..\\..\\windows\\win.ini",
        "' OR '1'='1' --",
        "entra-2023\u{0}",
        "entra-2023 ",
        "ENTRA-2023",
        "\u{1b}[2J",
        "http://evil.example/key.json",
        long.as_str(),
    ] {
        let header = json!({"alg": "EdDSA", "kid": kid}).to_string();
        let token = w.enterprise.mint_raw(&header, &claims(CONTOSO).to_string());
        let err = w.validator.validate_at(&w.store, &token, NOW).unwrap_err();
        assert_eq!(err.rule(), "kid-unknown", "{kid:?}");
        let message = err.to_string();
        assert!(
            message.len() < 400,
            "message not bounded: {} bytes",
            message.len()
        );
        assert!(
            !message.contains('\u{1b}'),
            "control character reached the message"
        );
    }
}

#[test]
fn jku_x5u_jwk_and_x5c_headers_are_never_followed() {
    let w = world();
    let attacker = TestKey::ed25519("attacker");
    // The attacker signs with their own key and points at it every way JOSE allows.
    let header = json!({
        "alg": "EdDSA", "kid": "attacker",
        "jku": "http://127.0.0.1:1/keys", "x5u": "http://127.0.0.1:1/cert",
        "jwk": attacker.public_jwk(), "x5c": ["MIIB"],
    })
    .to_string();
    let forged = attacker.mint_raw(&header, &claims(CONTOSO).to_string());
    assert_eq!(
        rule(w.validator.validate_at(&w.store, &forged, NOW)),
        "kid-unknown"
    );
    // Same, claiming the real kid: the issuer's real key is used, and the signature fails.
    let header = json!({"alg": "EdDSA", "kid": "entra-2023", "jwk": attacker.public_jwk()});
    let forged = attacker.mint_raw(&header.to_string(), &claims(CONTOSO).to_string());
    assert_eq!(
        rule(w.validator.validate_at(&w.store, &forged, NOW)),
        "signature"
    );
    // A genuine token carrying such a header is still judged on the issuer's key alone.
    let header = json!({"alg": "EdDSA", "kid": "entra-2023", "jku": "https://evil.example/"});
    let genuine = w
        .enterprise
        .mint_raw(&header.to_string(), &claims(CONTOSO).to_string());
    assert!(w.validator.validate_at(&w.store, &genuine, NOW).is_ok());
}

#[test]
fn expiry_not_before_and_issue_time_respect_the_clock_skew_bound() {
    let w = world();
    let skew = 300;
    let at = |changes: serde_json::Value| {
        let mut c = claims(CONTOSO);
        for (k, v) in changes.as_object().unwrap() {
            c[k] = v.clone();
        }
        w.validator
            .validate_at(&w.store, &w.enterprise.mint(&c), NOW)
    };
    assert_eq!(rule(at(json!({"exp": NOW - skew - 1}))), "exp");
    assert!(at(json!({"exp": NOW - skew + 1})).is_ok());
    assert_eq!(rule(at(json!({"nbf": NOW + skew + 1}))), "nbf");
    assert!(at(json!({"nbf": NOW + skew - 1})).is_ok());
    assert_eq!(rule(at(json!({"iat": NOW + skew + 60}))), "iat");
    assert_eq!(rule(at(json!({"exp": "tomorrow"}))), "claim-invalid");
}

#[test]
fn a_token_without_exp_is_refused() {
    let w = world();
    let mut c = claims(CONTOSO);
    c.as_object_mut().unwrap().remove("exp");
    let err = w
        .validator
        .validate_at(&w.store, &w.enterprise.mint(&c), NOW)
        .unwrap_err();
    assert_eq!(err, Rejection::MissingClaim { name: "exp" });
}

#[test]
fn a_wrong_or_missing_audience_is_refused_and_one_of_several_is_enough() {
    let w = world();
    let mut c = claims(CONTOSO);
    c["aud"] = json!("https://graph.microsoft.com");
    assert_eq!(
        rule(
            w.validator
                .validate_at(&w.store, &w.enterprise.mint(&c), NOW)
        ),
        "aud"
    );
    c["aud"] = json!(["https://graph.microsoft.com", AUD]);
    assert!(
        w.validator
            .validate_at(&w.store, &w.enterprise.mint(&c), NOW)
            .is_ok()
    );
    c.as_object_mut().unwrap().remove("aud");
    assert_eq!(
        w.validator
            .validate_at(&w.store, &w.enterprise.mint(&c), NOW)
            .unwrap_err(),
        Rejection::MissingClaim { name: "aud" }
    );
    // any_audience() skips the check and says so.
    let any = Validator::new(ValidationOptions::any_audience()).unwrap();
    let v = any
        .validate_at(&w.store, &w.enterprise.mint(&c), NOW)
        .unwrap();
    assert!(!v.audience_checked());
}

#[test]
fn a_wrong_tenant_is_refused_by_the_rule_it_breaks() {
    let w = world();
    // iss names Contoso, tid says Fabrikam.
    let mut c = claims(CONTOSO);
    c["tid"] = json!(FABRIKAM);
    assert_eq!(
        w.validator
            .validate_at(&w.store, &w.enterprise.mint(&c), NOW)
            .unwrap_err(),
        Rejection::IssuerTenantMismatch {
            issuer: issuer(CONTOSO),
            tid: FABRIKAM.into()
        }
    );
    // tid is not a GUID.
    let mut c = claims(CONTOSO);
    c["tid"] = json!("contoso");
    c["iss"] = json!(issuer("contoso"));
    assert_eq!(
        rule(
            w.validator
                .validate_at(&w.store, &w.enterprise.mint(&c), NOW)
        ),
        "tid-format"
    );
    // No tid: the template cannot be filled.
    let mut c = claims(CONTOSO);
    c.as_object_mut().unwrap().remove("tid");
    assert_eq!(
        w.validator
            .validate_at(&w.store, &w.enterprise.mint(&c), NOW)
            .unwrap_err(),
        Rejection::MissingClaim { name: "tid" }
    );
    // A tenant outside the allowed list.
    let only_fabrikam =
        Validator::new(ValidationOptions::for_audience(AUD).tenants([FABRIKAM])).unwrap();
    assert_eq!(
        rule(only_fabrikam.validate_at(&w.store, &w.enterprise.mint(&claims(CONTOSO)), NOW)),
        "tenant-not-allowed"
    );
    assert!(
        only_fabrikam
            .validate_at(&w.store, &w.enterprise.mint(&claims(FABRIKAM)), NOW)
            .is_ok()
    );
}

#[test]
fn an_untrusted_issuer_or_a_missing_iss_is_refused() {
    let w = world();
    let mut c = claims(CONTOSO);
    c["iss"] = json!("https://sts.evil.example/");
    assert_eq!(
        rule(
            w.validator
                .validate_at(&w.store, &w.enterprise.mint(&c), NOW)
        ),
        "issuer-untrusted"
    );
    c.as_object_mut().unwrap().remove("iss");
    assert_eq!(
        w.validator
            .validate_at(&w.store, &w.enterprise.mint(&c), NOW)
            .unwrap_err(),
        Rejection::MissingClaim { name: "iss" }
    );
}

#[test]
fn non_canonical_base64url_is_refused_in_every_part() {
    let w = world();
    let token = w.enterprise.mint(&claims(CONTOSO));
    let parts: Vec<&str> = token.split('.').collect();
    let cases = [
        (
            format!("{}=.{}.{}", parts[0], parts[1], parts[2]),
            Part::Header,
        ),
        (
            format!("{}.{}=.{}", parts[0], parts[1], parts[2]),
            Part::Payload,
        ),
        (
            format!("{}.{}.{}+", parts[0], parts[1], parts[2]),
            Part::Signature,
        ),
        (
            format!("{}.{} .{}", parts[0], parts[1], parts[2]),
            Part::Payload,
        ),
        (
            format!(" {}.{}.{}", parts[0], parts[1], parts[2]),
            Part::Header,
        ),
    ];
    for (bad, part) in cases {
        assert_eq!(
            w.validator.validate_at(&w.store, &bad, NOW).unwrap_err(),
            Rejection::BadBase64 { part }
        );
    }
    assert_eq!(
        rule(w.validator.validate_at(&w.store, "", NOW)),
        "compact-serialization"
    );
    assert_eq!(
        rule(w.validator.validate_at(&w.store, "a.b", NOW)),
        "compact-serialization"
    );
}

#[test]
fn a_tampered_payload_fails_the_signature() {
    let w = world();
    let token = w.enterprise.mint(&claims(CONTOSO));
    let parts: Vec<&str> = token.split('.').collect();
    let mut c = claims(CONTOSO);
    c["scp"] = json!("Mail.ReadWrite");
    let tampered = format!(
        "{}.{}.{}",
        parts[0],
        b64url(c.to_string().as_bytes()),
        parts[2]
    );
    assert_eq!(
        rule(w.validator.validate_at(&w.store, &tampered, NOW)),
        "signature"
    );
}

#[test]
fn oversize_tokens_are_refused_before_they_are_parsed() {
    let w = world();
    let mut c = claims(CONTOSO);
    c["groups"] = json!(vec!["x".repeat(36); 1000]);
    let token = w.enterprise.mint(&c);
    assert!(token.len() > 32 * 1024);
    assert_eq!(
        rule(w.validator.validate_at(&w.store, &token, NOW)),
        "token-size"
    );
    let roomy =
        Validator::new(ValidationOptions::for_audience(AUD).max_token_bytes(128 * 1024)).unwrap();
    assert!(roomy.validate_at(&w.store, &token, NOW).is_ok());
}

#[test]
fn duplicate_members_in_header_or_claims_are_refused() {
    let w = world();
    let body = claims(CONTOSO).to_string();
    let token = w
        .enterprise
        .mint_raw(r#"{"alg":"EdDSA","kid":"x","kid":"entra-2023"}"#, &body);
    assert_eq!(
        w.validator.validate_at(&w.store, &token, NOW).unwrap_err(),
        Rejection::DuplicateMember {
            part: Part::Header,
            name: "kid".into()
        }
    );
    // A second "iss" after the real one: parsers that keep the first and the last disagree.
    let body = body.replacen('{', &format!(r#"{{"iss":"{}","#, issuer(FABRIKAM)), 1);
    let token = w
        .enterprise
        .mint_raw(r#"{"alg":"EdDSA","kid":"entra-2023"}"#, &body);
    assert_eq!(
        w.validator.validate_at(&w.store, &token, NOW).unwrap_err(),
        Rejection::DuplicateMember {
            part: Part::Payload,
            name: "iss".into()
        }
    );
}

#[test]
fn critical_extensions_and_wrong_types_are_refused() {
    let w = world();
    let body = claims(CONTOSO).to_string();
    let token = w.enterprise.mint_raw(
        r#"{"alg":"EdDSA","kid":"entra-2023","crit":["b64"],"b64":false}"#,
        &body,
    );
    assert_eq!(rule(w.validator.validate_at(&w.store, &token, NOW)), "crit");
    let typed = Validator::new(ValidationOptions::for_audience(AUD).typ("at+jwt")).unwrap();
    assert_eq!(
        rule(typed.validate_at(&w.store, &w.enterprise.mint(&claims(CONTOSO)), NOW)),
        "typ"
    );
    let token = w.enterprise.mint_raw(
        r#"{"alg":"EdDSA","kid":"entra-2023","typ":"application/AT+JWT"}"#,
        &body,
    );
    assert!(typed.validate_at(&w.store, &token, NOW).is_ok());
}

#[test]
fn token_use_tells_access_tokens_from_id_tokens() {
    let w = world();
    let access =
        Validator::new(ValidationOptions::for_audience(AUD).token_use(TokenUse::Access)).unwrap();
    let id = Validator::new(ValidationOptions::for_audience(AUD).token_use(TokenUse::Id)).unwrap();
    let at = w.enterprise.mint(&claims(CONTOSO));
    assert!(access.validate_at(&w.store, &at, NOW).is_ok());
    assert_eq!(rule(id.validate_at(&w.store, &at, NOW)), "token-use");
    let mut c = claims(CONTOSO);
    c.as_object_mut().unwrap().remove("scp");
    c["nonce"] = json!("abc");
    let id_token = w.enterprise.mint(&c);
    assert!(id.validate_at(&w.store, &id_token, NOW).is_ok());
    assert_eq!(
        rule(access.validate_at(&w.store, &id_token, NOW)),
        "token-use"
    );
}

#[test]
fn version_and_lifetime_bounds_apply_when_asked() {
    let w = world();
    let v1 = Validator::new(ValidationOptions::for_audience(AUD).version("1.0")).unwrap();
    assert_eq!(
        rule(v1.validate_at(&w.store, &w.enterprise.mint(&claims(CONTOSO)), NOW)),
        "ver"
    );
    let short = Validator::new(
        ValidationOptions::for_audience(AUD).max_lifetime(Duration::from_secs(1800)),
    )
    .unwrap();
    assert_eq!(
        rule(short.validate_at(&w.store, &w.enterprise.mint(&claims(CONTOSO)), NOW)),
        "lifetime"
    );
}

#[test]
fn a_key_past_its_stated_validity_is_not_used() {
    let old = TestKey::ed25519("old").with_member("exp", NOW - 3600);
    let future = TestKey::ed25519("future").with_member("nbf", NOW + 3600);
    let store = store_of(&[(ENTERPRISE, &[&old, &future])]);
    let validator = Validator::new(ValidationOptions::for_audience(AUD)).unwrap();
    assert_eq!(
        rule(validator.validate_at(&store, &old.mint(&claims(CONTOSO)), NOW)),
        "key-expired"
    );
    assert_eq!(
        rule(validator.validate_at(&store, &future.mint(&claims(CONTOSO)), NOW)),
        "key-not-yet-valid"
    );
}

#[test]
fn ps256_and_es256_keys_verify_their_own_algorithm() {
    let ps = TestKey::ps256("ps");
    let es = TestKey::es256("es");
    let store = store_of(&[(ENTERPRISE, &[&ps, &es])]);
    let validator = Validator::new(ValidationOptions::for_audience(AUD)).unwrap();
    assert!(
        validator
            .validate_at(&store, &ps.mint(&claims(CONTOSO)), NOW)
            .is_ok()
    );
    let v = validator
        .validate_at(&store, &es.mint(&claims(CONTOSO)), NOW)
        .unwrap();
    assert_eq!(v.algorithm(), mailtrail_token::Algorithm::Es256);
    // An allowed-algorithm list narrows further.
    let only_rsa = Validator::new(
        ValidationOptions::for_audience(AUD).algorithms([mailtrail_token::Algorithm::Ps256]),
    )
    .unwrap();
    assert_eq!(
        rule(only_rsa.validate_at(&store, &es.mint(&claims(CONTOSO)), NOW)),
        "alg-not-allowed"
    );
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]

    /// Canonical base64url means one token has one spelling: any edit of a genuine token, one
    /// character changed or the token cut short, is refused.
    #[test]
    fn no_edit_of_a_genuine_token_is_accepted(position in 0usize..10_000, replacement in 0u8..128, cut in proptest::bool::ANY) {
        static WORLD: std::sync::OnceLock<(World, String)> = std::sync::OnceLock::new();
        let (w, token) = WORLD.get_or_init(|| {
            let w = world();
            let token = w.enterprise.mint(&claims(CONTOSO));
            (w, token)
        });
        let position = position % token.len();
        let edited = if cut {
            token[..position].to_owned()
        } else {
            let mut bytes = token.clone().into_bytes();
            bytes[position] = replacement;
            String::from_utf8_lossy(&bytes).into_owned()
        };
        proptest::prop_assume!(&edited != token);
        proptest::prop_assert!(w.validator.validate_at(&w.store, &edited, NOW).is_err());
    }
}
