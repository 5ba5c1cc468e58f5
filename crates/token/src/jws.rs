//! Compact JWS: splitting, decoding and the header rules, shared by the JWT validator, `inspect`
//! and the plain JWS check.

use serde_json::{Map, Value};

use crate::algorithm::Algorithm;
use crate::encoding::{JsonError, b64url_decode, parse_object};
use crate::error::{Part, Rejection, shorten};
use crate::jwk::{Jwk, JwkSet};

/// Default longest token accepted, in bytes. Entra ID access tokens with many group claims stay
/// well under 16 KiB; the bound keeps a hostile megabyte from being decoded and parsed.
pub const DEFAULT_MAX_TOKEN_BYTES: usize = 32 * 1024;

/// Header parameters that point at a key. A token must never choose the key that verifies it, so
/// these are read by `inspect` and otherwise ignored: never fetched, never trusted.
pub const KEY_POINTER_HEADERS: [&str; 5] = ["jku", "x5u", "jwk", "x5c", "jwk_set_url"];

/// The protected header of a JWS (RFC 7515 §4), read but not trusted.
#[derive(Debug, Clone, PartialEq)]
pub struct Header {
    map: Map<String, Value>,
}

impl Header {
    fn from_map(map: Map<String, Value>) -> Result<Header, Rejection> {
        if !map.get("alg").is_some_and(Value::is_string) {
            return Err(Rejection::BadHeader { name: "alg" });
        }
        for name in ["kid", "x5t", "typ", "cty"] {
            if map.get(name).is_some_and(|v| !v.is_string()) {
                return Err(Rejection::BadHeader { name });
            }
        }
        Ok(Header { map })
    }

    /// `alg`, as the token states it.
    pub fn alg(&self) -> &str {
        self.map
            .get("alg")
            .and_then(Value::as_str)
            .unwrap_or_default()
    }

    /// `kid`, if present.
    pub fn kid(&self) -> Option<&str> {
        self.map.get("kid").and_then(Value::as_str)
    }

    /// `x5t`, if present.
    pub fn x5t(&self) -> Option<&str> {
        self.map.get("x5t").and_then(Value::as_str)
    }

    /// `typ`, if present.
    pub fn typ(&self) -> Option<&str> {
        self.map.get("typ").and_then(Value::as_str)
    }

    /// The name the token gives its key: `kid`, else `x5t` (Entra ID v1 tokens carry both).
    pub fn key_id(&self) -> Option<&str> {
        self.kid().or(self.x5t())
    }

    /// The key-pointing parameters present (`jku`, `x5u`, `jwk`, …), all of which are ignored.
    pub fn key_pointers(&self) -> Vec<&'static str> {
        KEY_POINTER_HEADERS
            .into_iter()
            .filter(|name| self.map.contains_key(*name))
            .collect()
    }

    /// Every header parameter.
    pub fn as_map(&self) -> &Map<String, Value> {
        &self.map
    }

    /// The algorithm the header asks for, after refusing `none`, HMAC, unknown names and any
    /// `crit` extension (we implement none, so any listed one is "not understood", RFC 7515 §4.1.11).
    pub(crate) fn algorithm(&self) -> Result<Algorithm, Rejection> {
        let alg = Algorithm::from_header(self.alg())?;
        if let Some(crit) = self.map.get("crit") {
            let names = match crit {
                Value::Array(items) if !items.is_empty() => items
                    .iter()
                    .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
                    .collect::<Vec<_>>()
                    .join(", "),
                other => other.to_string(),
            };
            return Err(Rejection::UnsupportedCritical {
                names: shorten(&names),
            });
        }
        Ok(alg)
    }
}

/// A compact JWS taken apart, nothing verified yet.
#[derive(Debug, Clone)]
pub(crate) struct Compact<'a> {
    pub(crate) header: Header,
    pub(crate) payload: Vec<u8>,
    pub(crate) signing_input: &'a [u8],
    pub(crate) signature: Vec<u8>,
}

impl<'a> Compact<'a> {
    /// Splits and decodes a compact JWS. Refuses tokens over `max_bytes`, anything but three
    /// parts, non-canonical base64url, an empty signature, and a header that is not a
    /// duplicate-free JSON object with a string `alg`.
    pub(crate) fn decode(token: &'a str, max_bytes: usize) -> Result<Compact<'a>, Rejection> {
        Compact::split(token, max_bytes, true)
    }

    /// [`Compact::decode`], optionally letting an empty signature through (for `inspect`, which
    /// must show unsigned forgeries too).
    pub(crate) fn split(
        token: &'a str,
        max_bytes: usize,
        require_signature: bool,
    ) -> Result<Compact<'a>, Rejection> {
        if token.len() > max_bytes {
            return Err(Rejection::TooLarge {
                len: token.len(),
                limit: max_bytes,
            });
        }
        let parts: Vec<&str> = token.split('.').collect();
        let [header_b64, payload_b64, signature_b64] = parts[..] else {
            return Err(Rejection::NotCompact { parts: parts.len() });
        };
        let header_bytes = decode_part(header_b64, Part::Header)?;
        let payload = decode_part(payload_b64, Part::Payload)?;
        if signature_b64.is_empty() && require_signature {
            return Err(Rejection::MissingSignature);
        }
        let signature = decode_part(signature_b64, Part::Signature)?;
        let header = Header::from_map(object(&header_bytes, Part::Header)?)?;
        let signing_input = &token.as_bytes()[..header_b64.len() + 1 + payload_b64.len()];
        Ok(Compact {
            header,
            payload,
            signing_input,
            signature,
        })
    }

    /// Checks the signature with `jwk`: the header's `alg` must be the key's pinned algorithm.
    pub(crate) fn verify_with(
        &self,
        alg: Algorithm,
        jwk: &Jwk,
        kid: &str,
    ) -> Result<(), Rejection> {
        if alg != jwk.algorithm() {
            return Err(Rejection::AlgorithmMismatch {
                kid: shorten(kid),
                token_alg: alg,
                key_alg: jwk.algorithm(),
            });
        }
        jwk.key()
            .verify(self.signing_input, &self.signature)
            .map_err(|_| Rejection::BadSignature { kid: shorten(kid) })
    }
}

fn decode_part(b64: &str, part: Part) -> Result<Vec<u8>, Rejection> {
    b64url_decode(b64).ok_or(Rejection::BadBase64 { part })
}

/// Parses a decoded part as a duplicate-free JSON object.
pub(crate) fn object(bytes: &[u8], part: Part) -> Result<Map<String, Value>, Rejection> {
    parse_object(bytes).map_err(|e| match e {
        JsonError::Duplicate(name) => Rejection::DuplicateMember {
            part,
            name: shorten(&name),
        },
        JsonError::Invalid(reason) => Rejection::BadJson { part, reason },
    })
}

/// Verifies a compact JWS against one key set and returns its payload — no JWT claim is read.
///
/// This is the bare signature layer ([`Validator`](crate::Validator) adds issuers and claims on
/// top): the header must name a key of `keys` by `kid` (or `x5t`), and its `alg` must be that
/// key's pinned algorithm. Key-pointing headers (`jwk`, `jku`, `x5u`, `x5c`) are ignored.
///
/// ```
/// use mailtrail_token::{verify_jws, JwkSet, Rejection};
///
/// let keys = JwkSet::from_json(br#"{"keys":[]}"#).unwrap();
/// // An unsigned token is refused before any key is looked up.
/// assert_eq!(verify_jws("eyJhbGciOiJub25lIn0.e30.", &keys), Err(Rejection::MissingSignature));
/// ```
pub fn verify_jws(token: &str, keys: &JwkSet) -> Result<Vec<u8>, Rejection> {
    let compact = Compact::decode(token, DEFAULT_MAX_TOKEN_BYTES)?;
    let alg = compact.header.algorithm()?;
    let kid = compact.header.key_id().ok_or(Rejection::MissingKeyId)?;
    let jwk = keys.find(kid).ok_or_else(|| Rejection::UnknownKey {
        kid: shorten(kid),
        issuer: String::new(),
    })?;
    compact.verify_with(alg, jwk, kid)?;
    Ok(compact.payload)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decode_refuses_two_and_four_parts() {
        assert_eq!(
            Compact::decode("a.b", 100).err(),
            Some(Rejection::NotCompact { parts: 2 })
        );
        assert_eq!(
            Compact::decode("a.b.c.d", 100).err(),
            Some(Rejection::NotCompact { parts: 4 })
        );
    }

    #[test]
    fn decode_refuses_oversize_tokens_before_reading_them() {
        let token = "a".repeat(101);
        assert_eq!(
            Compact::decode(&token, 100).err(),
            Some(Rejection::TooLarge {
                len: 101,
                limit: 100
            })
        );
    }

    #[test]
    fn header_with_crit_is_refused() {
        // {"alg":"ES256","crit":["exp"],"exp":1}
        let h =
            Header::from_map(parse_object(br#"{"alg":"ES256","crit":["exp"],"exp":1}"#).unwrap())
                .unwrap();
        assert!(matches!(
            h.algorithm(),
            Err(Rejection::UnsupportedCritical { .. })
        ));
    }

    #[test]
    fn header_lists_key_pointers() {
        let h = Header::from_map(
            parse_object(br#"{"alg":"RS256","jku":"https://evil","x5u":"https://evil"}"#).unwrap(),
        )
        .unwrap();
        assert_eq!(h.key_pointers(), vec!["jku", "x5u"]);
    }
}
