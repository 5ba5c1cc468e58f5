//! Key generation and token minting for tests, examples and benches (feature `testing`).
//!
//! Never enable this feature in a service: a validator has no business holding private keys. Keys
//! are generated at run time from the operating system's random source; none is stored.

// Test support: a failing random source or key generation means a broken test machine, and the
// test should stop there.
#![allow(clippy::expect_used)]

use rsa::pkcs8::EncodePublicKey as _;
use rsa::traits::PublicKeyParts as _;
use rsa::{Pkcs1v15Sign, Pss};
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

use crate::algorithm::Algorithm;
use crate::encoding::b64url_encode;

/// A private signing key with its `kid`, able to mint tokens.
pub struct TestKey {
    kid: String,
    secret: Secret,
    /// Extra members for the public JWK (`issuer`, `use`, …).
    extra: serde_json::Map<String, Value>,
}

enum Secret {
    Rsa(Box<rsa::PrivateKey>, Algorithm),
    P256(p256::ecdsa::SigningKey),
    Ed25519(ed25519_dalek::SigningKey),
}

impl std::fmt::Debug for TestKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestKey")
            .field("kid", &self.kid)
            .field("alg", &self.algorithm())
            .finish_non_exhaustive()
    }
}

fn random32() -> [u8; 32] {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the OS random source works");
    bytes
}

impl TestKey {
    /// A fresh 2048-bit RSA key for RS256. Its JWK carries no `alg`, like Entra ID's.
    pub fn rs256(kid: &str) -> TestKey {
        TestKey::rsa(kid, Algorithm::Rs256)
    }

    /// A fresh 2048-bit RSA key for PS256 (its JWK says `"alg":"PS256"`).
    pub fn ps256(kid: &str) -> TestKey {
        TestKey::rsa(kid, Algorithm::Ps256)
    }

    fn rsa(kid: &str, alg: Algorithm) -> TestKey {
        let key = rsa::PrivateKey::new(&mut getrandom::SysRng, 2048).expect("RSA key generation");
        TestKey::with_secret(kid, Secret::Rsa(Box::new(key), alg))
    }

    /// A fresh P-256 key for ES256.
    pub fn es256(kid: &str) -> TestKey {
        let key = loop {
            // A random 32-byte string is a valid scalar except with probability ~2^-32.
            if let Ok(k) = p256::ecdsa::SigningKey::from_slice(&random32()) {
                break k;
            }
        };
        TestKey::with_secret(kid, Secret::P256(key))
    }

    /// A fresh Ed25519 key for EdDSA.
    pub fn ed25519(kid: &str) -> TestKey {
        TestKey::with_secret(
            kid,
            Secret::Ed25519(ed25519_dalek::SigningKey::from_bytes(&random32())),
        )
    }

    fn with_secret(kid: &str, secret: Secret) -> TestKey {
        TestKey {
            kid: kid.to_owned(),
            secret,
            extra: serde_json::Map::new(),
        }
    }

    /// Adds a member to the public JWK (e.g. `issuer`, as Entra ID's key sets carry).
    pub fn with_member(mut self, name: &str, value: impl Into<Value>) -> TestKey {
        self.extra.insert(name.to_owned(), value.into());
        self
    }

    /// The key id.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The algorithm the key signs with.
    pub fn algorithm(&self) -> Algorithm {
        match &self.secret {
            Secret::Rsa(_, alg) => *alg,
            Secret::P256(_) => Algorithm::Es256,
            Secret::Ed25519(_) => Algorithm::EdDsa,
        }
    }

    /// The public key as a JWK.
    pub fn public_jwk(&self) -> Value {
        let mut jwk = match &self.secret {
            Secret::Rsa(key, alg) => {
                let mut j = json!({
                    "kty": "RSA",
                    "use": "sig",
                    "n": b64url_encode(&key.n().to_be_bytes_trimmed_vartime()),
                    "e": b64url_encode(&key.e().to_be_bytes_trimmed_vartime()),
                });
                if *alg != Algorithm::Rs256 {
                    j["alg"] = json!(alg.name());
                }
                j
            }
            Secret::P256(key) => {
                let point = key.verifying_key().to_sec1_bytes();
                json!({
                    "kty": "EC", "crv": "P-256", "use": "sig",
                    "x": b64url_encode(&point[1..33]),
                    "y": b64url_encode(&point[33..65]),
                })
            }
            Secret::Ed25519(key) => json!({
                "kty": "OKP", "crv": "Ed25519", "use": "sig",
                "x": b64url_encode(key.verifying_key().as_bytes()),
            }),
        };
        jwk["kid"] = json!(self.kid);
        for (name, value) in &self.extra {
            jwk[name] = value.clone();
        }
        jwk
    }

    /// The public key in SubjectPublicKeyInfo DER (RSA keys only) — the bytes an
    /// algorithm-confusion forger feeds to HMAC.
    pub fn public_key_der(&self) -> Option<Vec<u8>> {
        match &self.secret {
            Secret::Rsa(key, _) => key
                .to_public_key()
                .to_public_key_der()
                .ok()
                .map(|d| d.as_bytes().to_vec()),
            _ => None,
        }
    }

    /// Signs `signing_input` with this key's algorithm.
    pub fn sign(&self, signing_input: &[u8]) -> Vec<u8> {
        use p256::ecdsa::signature::Signer as _;
        match &self.secret {
            Secret::Rsa(key, Algorithm::Ps256) => key
                .sign_with_rng(
                    &mut getrandom::SysRng,
                    Pss::<Sha256>::new(),
                    &Sha256::digest(signing_input),
                )
                .expect("PSS signing"),
            Secret::Rsa(key, _) => key
                .sign(
                    Pkcs1v15Sign::new::<Sha256>(),
                    &Sha256::digest(signing_input),
                )
                .expect("PKCS#1 signing"),
            Secret::P256(key) => {
                let sig: p256::ecdsa::Signature = key.sign(signing_input);
                sig.to_bytes().to_vec()
            }
            Secret::Ed25519(key) => key.sign(signing_input).to_bytes().to_vec(),
        }
    }

    /// Mints a compact JWS from raw header and claims JSON text (so tests can send duplicate
    /// members and other malformed JSON).
    pub fn mint_raw(&self, header_json: &str, claims_json: &str) -> String {
        let input = format!(
            "{}.{}",
            b64url_encode(header_json.as_bytes()),
            b64url_encode(claims_json.as_bytes())
        );
        let signature = self.sign(input.as_bytes());
        format!("{input}.{}", b64url_encode(&signature))
    }

    /// Mints a token with header `{"typ":"JWT","alg":…,"kid":…}` and these claims.
    pub fn mint(&self, claims: &Value) -> String {
        let header = json!({"typ": "JWT", "alg": self.algorithm().name(), "kid": self.kid});
        self.mint_raw(&header.to_string(), &claims.to_string())
    }
}

/// A JWK Set document holding these keys' public halves.
pub fn jwks(keys: &[&TestKey]) -> String {
    json!({ "keys": keys.iter().map(|k| k.public_jwk()).collect::<Vec<_>>() }).to_string()
}

/// Unpadded base64url, for hand-built tokens.
pub fn b64url(bytes: &[u8]) -> String {
    b64url_encode(bytes)
}
