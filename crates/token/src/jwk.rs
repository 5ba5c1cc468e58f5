//! JSON Web Keys (RFC 7517) and key sets, read strictly into pinned [`VerifyingKey`]s.

use serde_json::{Map, Value};

use crate::algorithm::Algorithm;
use crate::encoding::{JsonError, b64url_decode, kind, parse_object};
use crate::error::{KeyRejected, KeySetError, shorten};
use crate::key::VerifyingKey;
use crate::x509;

/// Most keys one set may hold. Entra ID publishes fewer than ten.
pub const MAX_KEYS: usize = 100;

/// Members that only a private or secret key has (RFC 7518 §6.3.2, §6.4.1).
const PRIVATE_MEMBERS: [&str; 7] = ["d", "p", "q", "dp", "dq", "qi", "oth"];

/// One public signing key read from a JWK, with what the document says about it.
#[derive(Debug, Clone)]
pub struct Jwk {
    kid: Option<String>,
    x5t: Option<String>,
    issuer: Option<String>,
    key: VerifyingKey,
    not_before: Option<i64>,
    not_after: Option<i64>,
}

impl Jwk {
    /// Reads one JWK from JSON. See [`Jwk::from_object`] for the rules.
    pub fn from_json(json: &[u8]) -> Result<Jwk, KeyRejected> {
        let map = parse_object(json).map_err(|e| match e {
            JsonError::Duplicate(name) => KeyRejected::DuplicateMember { name },
            JsonError::Invalid(reason) => KeyRejected::BadMember {
                name: "(document)",
                reason,
            },
        })?;
        Jwk::from_object(&map)
    }

    /// Reads one JWK from a parsed JSON object.
    ///
    /// Refused: symmetric keys, keys with private members, `use` other than `sig`, `key_ops`
    /// without `verify`, an `alg` that is unknown or does not fit the key type and curve, RSA
    /// moduli under 2048 bits or with the ROCA fingerprint, EC points off the curve, small-order
    /// Ed25519 points, and an `x5c` whose certificate holds another key or whose `x5t` /
    /// `x5t#S256` is not its thumbprint.
    ///
    /// A key without `alg` is pinned by its type: EC keys to the ECDSA algorithm of their curve,
    /// OKP keys to EdDSA, and RSA keys to RS256 — what Entra ID, whose keys carry no `alg`, signs
    /// with. A key that must verify PS256 states `"alg": "PS256"`.
    pub fn from_object(map: &Map<String, Value>) -> Result<Jwk, KeyRejected> {
        let kty = string(map, "kty")?.ok_or(KeyRejected::MissingMember { name: "kty" })?;
        if kty == "oct" {
            return Err(KeyRejected::SymmetricKey);
        }
        if let Some(member) = PRIVATE_MEMBERS.into_iter().find(|m| map.contains_key(*m)) {
            return Err(KeyRejected::PrivateKeyMaterial { member });
        }
        if let Some(key_use) = string(map, "use")?
            && key_use != "sig"
        {
            return Err(KeyRejected::NotForSigning {
                found: shorten(key_use),
            });
        }
        if let Some(ops) = map.get("key_ops") {
            let ops = ops
                .as_array()
                .ok_or_else(|| bad("key_ops", "not an array"))?;
            if !ops.iter().any(|op| op.as_str() == Some("verify")) {
                return Err(KeyRejected::KeyOpsExcludeVerify);
            }
        }
        let alg = match string(map, "alg")? {
            Some(name) => Some(
                Algorithm::from_name(name)
                    .ok_or_else(|| KeyRejected::UnsupportedAlgorithm { alg: shorten(name) })?,
            ),
            None => None,
        };

        let key = match kty {
            "RSA" => {
                let n = bytes(map, "n")?;
                let e = bytes(map, "e")?;
                VerifyingKey::rsa(alg.unwrap_or(Algorithm::Rs256), &n, &e)?
            }
            "EC" => {
                let crv = string(map, "crv")?.ok_or(KeyRejected::MissingMember { name: "crv" })?;
                let default = match crv {
                    "P-256" => Algorithm::Es256,
                    "P-384" => Algorithm::Es384,
                    "P-521" => Algorithm::Es512,
                    other => {
                        return Err(KeyRejected::UnsupportedCurve {
                            crv: shorten(other),
                        });
                    }
                };
                let x = bytes(map, "x")?;
                let y = bytes(map, "y")?;
                VerifyingKey::ec(alg.unwrap_or(default), crv, &x, &y)?
            }
            "OKP" => {
                let crv = string(map, "crv")?.ok_or(KeyRejected::MissingMember { name: "crv" })?;
                if crv != "Ed25519" {
                    return Err(KeyRejected::UnsupportedCurve { crv: shorten(crv) });
                }
                if let Some(alg) = alg
                    && alg != Algorithm::EdDsa
                {
                    return Err(KeyRejected::AlgorithmDoesNotFitKey {
                        alg,
                        key: "OKP Ed25519".into(),
                    });
                }
                VerifyingKey::ed25519(&bytes(map, "x")?)?
            }
            other => {
                return Err(KeyRejected::UnsupportedKeyType {
                    kty: shorten(other),
                });
            }
        };

        let x5t = string(map, "x5t")?;
        let x5t_s256 = string(map, "x5t#S256")?;
        let mut not_before = time(map, "nbf")?;
        let mut not_after = time(map, "exp")?;
        if let Some(chain) = map.get("x5c") {
            let chain = chain.as_array().ok_or_else(|| bad("x5c", "not an array"))?;
            let first = chain
                .first()
                .and_then(Value::as_str)
                .ok_or_else(|| bad("x5c", "not a non-empty array of strings"))?;
            let validity = x509::check_x5c(first, &key, x5t, x5t_s256)?;
            // The key is usable only where both the certificate and explicit members allow it.
            not_before =
                Some(not_before.map_or(validity.not_before, |t| t.max(validity.not_before)));
            not_after = Some(not_after.map_or(validity.not_after, |t| t.min(validity.not_after)));
        }

        Ok(Jwk {
            kid: string(map, "kid")?.map(str::to_owned),
            x5t: x5t.map(str::to_owned),
            issuer: string(map, "issuer")?.map(str::to_owned),
            key,
            not_before,
            not_after,
        })
    }

    /// The key id (`kid`), if the document gave one.
    pub fn kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }

    /// The certificate thumbprint (`x5t`), if the document gave one.
    pub fn x5t(&self) -> Option<&str> {
        self.x5t.as_deref()
    }

    /// The key's own `issuer` member — Entra ID's key sets bind each key to an issuer this way.
    pub fn issuer(&self) -> Option<&str> {
        self.issuer.as_deref()
    }

    /// The verifying key, pinned to its algorithm.
    pub fn key(&self) -> &VerifyingKey {
        &self.key
    }

    /// The algorithm the key is pinned to.
    pub fn algorithm(&self) -> Algorithm {
        self.key.algorithm()
    }

    /// Start of the key's stated validity (certificate notBefore or `nbf`), unix seconds.
    pub fn not_before(&self) -> Option<i64> {
        self.not_before
    }

    /// End of the key's stated validity (certificate notAfter or `exp`), unix seconds.
    pub fn not_after(&self) -> Option<i64> {
        self.not_after
    }

    /// The name a token uses for this key: its `kid`, or else its `x5t`.
    pub fn id(&self) -> Option<&str> {
        self.kid().or(self.x5t())
    }
}

/// A key set that failed a rule, with where it was in the document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RejectedKey {
    /// Position in the `keys` array, from 0.
    pub index: usize,
    /// The key's `kid`, if it had a readable one.
    pub kid: Option<String>,
    /// The rule it failed.
    pub reason: KeyRejected,
}

/// A JWK Set (RFC 7517 §5): the usable keys, and the refused ones with their reasons.
///
/// A refused key is reported and skipped; the others load. Two keys sharing a `kid` are both
/// refused, since a lookup by that `kid` would be ambiguous.
#[derive(Debug, Clone, Default)]
pub struct JwkSet {
    keys: Vec<Jwk>,
    rejected: Vec<RejectedKey>,
}

impl JwkSet {
    /// Reads a JWK Set document.
    pub fn from_json(json: &[u8]) -> Result<JwkSet, KeySetError> {
        let map = parse_object(json).map_err(|e| KeySetError::NotAKeySet {
            reason: match e {
                JsonError::Duplicate(name) => format!("member {name:?} appears twice"),
                JsonError::Invalid(reason) => reason,
            },
        })?;
        let keys =
            map.get("keys")
                .and_then(Value::as_array)
                .ok_or_else(|| KeySetError::NotAKeySet {
                    reason: "no \"keys\" array".into(),
                })?;
        if keys.len() > MAX_KEYS {
            return Err(KeySetError::TooManyKeys {
                count: keys.len(),
                limit: MAX_KEYS,
            });
        }
        let mut set = JwkSet::default();
        let mut loaded: Vec<(usize, Jwk)> = Vec::new();
        for (index, value) in keys.iter().enumerate() {
            let kid = value.get("kid").and_then(Value::as_str).map(shorten);
            let parsed = match value {
                Value::Object(obj) => Jwk::from_object(obj),
                other => Err(bad(
                    "(key)",
                    &format!("expected an object, found {}", kind(other)),
                )),
            };
            match parsed {
                Ok(jwk) => loaded.push((index, jwk)),
                Err(reason) => set.rejected.push(RejectedKey { index, kid, reason }),
            }
        }
        // Drop every key whose kid another usable key shares.
        for (index, jwk) in loaded.iter() {
            let shared = jwk.kid().is_some_and(|kid| {
                loaded
                    .iter()
                    .filter(|(_, other)| other.kid() == Some(kid))
                    .count()
                    > 1
            });
            if shared {
                let kid = jwk.kid().map(shorten).unwrap_or_default();
                set.rejected.push(RejectedKey {
                    index: *index,
                    kid: Some(kid.clone()),
                    reason: KeyRejected::DuplicateKid { kid },
                });
            } else {
                set.keys.push(jwk.clone());
            }
        }
        set.rejected.sort_by_key(|r| r.index);
        Ok(set)
    }

    /// A set made of keys already read.
    pub fn from_keys(keys: Vec<Jwk>) -> JwkSet {
        JwkSet {
            keys,
            rejected: Vec::new(),
        }
    }

    /// The usable keys.
    pub fn keys(&self) -> &[Jwk] {
        &self.keys
    }

    /// The refused keys, in document order.
    pub fn rejected(&self) -> &[RejectedKey] {
        &self.rejected
    }

    /// The usable key a token would name with `id` (its `kid`, or `x5t`).
    pub fn find(&self, id: &str) -> Option<&Jwk> {
        self.keys
            .iter()
            .find(|k| k.kid() == Some(id) || (k.kid().is_none() && k.x5t() == Some(id)))
    }
}

fn bad(name: &'static str, reason: &str) -> KeyRejected {
    KeyRejected::BadMember {
        name,
        reason: reason.to_owned(),
    }
}

fn string<'a>(
    map: &'a Map<String, Value>,
    name: &'static str,
) -> Result<Option<&'a str>, KeyRejected> {
    match map.get(name) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(other) => Err(bad(
            name,
            &format!("expected a string, found {}", kind(other)),
        )),
    }
}

fn bytes(map: &Map<String, Value>, name: &'static str) -> Result<Vec<u8>, KeyRejected> {
    let s = string(map, name)?.ok_or(KeyRejected::MissingMember { name })?;
    b64url_decode(s).ok_or_else(|| bad(name, "not canonical unpadded base64url"))
}

fn time(map: &Map<String, Value>, name: &'static str) -> Result<Option<i64>, KeyRejected> {
    match map.get(name) {
        None => Ok(None),
        Some(v) => v
            .as_i64()
            .map(Some)
            .ok_or_else(|| bad(name, "expected an integer (unix seconds)")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EC_KEY: &str = r#"{"kty":"EC","crv":"P-256","kid":"k1",
        "x":"04N0xi21hshyvBp7I167sbE_bXqyqkAPfefdklMO7wY",
        "y":"UI8exy-C06a7DUnjIdENkxeFtHM4-l_41LqEw9nVgmw"}"#;

    #[test]
    fn an_ec_key_without_alg_is_pinned_to_its_curve() {
        let jwk = Jwk::from_json(EC_KEY.as_bytes()).unwrap();
        assert_eq!(jwk.algorithm(), Algorithm::Es256);
        assert_eq!(jwk.kid(), Some("k1"));
    }

    #[test]
    fn a_key_for_encryption_is_refused() {
        let json = EC_KEY.replace(r#""kid""#, r#""use":"enc","kid""#);
        assert_eq!(
            Jwk::from_json(json.as_bytes()).err(),
            Some(KeyRejected::NotForSigning {
                found: "enc".into()
            })
        );
    }

    #[test]
    fn a_key_with_private_parts_is_refused() {
        let json = EC_KEY.replace(r#""kid""#, r#""d":"AAAA","kid""#);
        assert_eq!(
            Jwk::from_json(json.as_bytes()).err(),
            Some(KeyRejected::PrivateKeyMaterial { member: "d" })
        );
    }

    #[test]
    fn symmetric_keys_are_refused() {
        assert_eq!(
            Jwk::from_json(br#"{"kty":"oct","k":"c2VjcmV0"}"#).err(),
            Some(KeyRejected::SymmetricKey)
        );
    }

    #[test]
    fn a_key_set_refuses_both_keys_of_a_shared_kid_and_keeps_the_rest() {
        let other = EC_KEY.replace("k1", "k2");
        let json = format!(r#"{{"keys":[{EC_KEY},{EC_KEY},{other},{{"kty":"oct"}}]}}"#);
        let set = JwkSet::from_json(json.as_bytes()).unwrap();
        assert_eq!(set.keys().len(), 1);
        assert_eq!(set.keys()[0].kid(), Some("k2"));
        let reasons: Vec<_> = set.rejected().iter().map(|r| r.index).collect();
        assert_eq!(reasons, vec![0, 1, 3]);
        assert!(set.find("k2").is_some());
        assert!(set.find("k1").is_none());
    }
}
