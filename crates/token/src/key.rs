//! A public key pinned to one algorithm, and the signature check every path in this crate uses.

use std::fmt;

use p256::ecdsa::signature::Verifier as _;
use rsa::traits::PublicKeyParts as _;
use rsa::{BoxedUint, Pkcs1v15Sign, Pss};
use sha2::{Digest as _, Sha256, Sha384, Sha512};

use crate::algorithm::Algorithm;
use crate::error::KeyRejected;
use crate::roca;

/// Shortest RSA modulus accepted, in bits (NIST SP 800-131A; Entra ID uses 2048).
pub const MIN_RSA_BITS: usize = 2048;
/// Longest RSA modulus accepted, in bits: bounds the cost of one verification.
pub const MAX_RSA_BITS: usize = 8192;

/// A signature did not verify. Deliberately without detail: why a forgery failed helps only the
/// forger.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("signature does not verify")]
pub struct SignatureInvalid;

/// A public signing key pinned to exactly one [`Algorithm`].
///
/// The algorithm comes from the key (its JWK `alg`, or its type and curve), never from a token, so
/// a token cannot talk the verifier into another algorithm or into treating the key as an HMAC
/// secret.
#[derive(Clone)]
pub struct VerifyingKey {
    alg: Algorithm,
    inner: Inner,
}

#[derive(Clone)]
enum Inner {
    Rsa {
        key: Box<rsa::PublicKey>,
        /// Big-endian modulus without leading zeros, kept for thumbprints and certificate checks.
        n: Vec<u8>,
        /// Big-endian exponent without leading zeros.
        e: Vec<u8>,
    },
    P256(p256::ecdsa::VerifyingKey),
    P384(p384::ecdsa::VerifyingKey),
    P521(Box<p521::ecdsa::VerifyingKey>),
    Ed25519(ed25519_dalek::VerifyingKey),
}

impl fmt::Debug for VerifyingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifyingKey")
            .field("alg", &self.alg)
            .field("key", &self.description())
            .finish()
    }
}

impl VerifyingKey {
    /// The one algorithm this key verifies.
    pub fn algorithm(&self) -> Algorithm {
        self.alg
    }

    /// Checks `signature` over `signing_input` (for a JWS, the ASCII `header.payload`) with this
    /// key's algorithm.
    ///
    /// ECDSA signatures are the fixed-length `r || s` form JWS requires (RFC 7518 §3.4); DER is
    /// refused. Both low-S and high-S ECDSA signatures verify, as JOSE does not ask for low S. RSA
    /// signatures must be exactly as long as the modulus; PSS salts exactly as long as the hash.
    /// Ed25519 uses the strict verification equation and refuses small-order points.
    pub fn verify(&self, signing_input: &[u8], signature: &[u8]) -> Result<(), SignatureInvalid> {
        let ok = match (&self.inner, self.alg) {
            (Inner::Rsa { key, .. }, alg) => {
                let result = match alg {
                    Algorithm::Rs256 => key.verify(
                        Pkcs1v15Sign::new::<Sha256>(),
                        &Sha256::digest(signing_input),
                        signature,
                    ),
                    Algorithm::Rs384 => key.verify(
                        Pkcs1v15Sign::new::<Sha384>(),
                        &Sha384::digest(signing_input),
                        signature,
                    ),
                    Algorithm::Rs512 => key.verify(
                        Pkcs1v15Sign::new::<Sha512>(),
                        &Sha512::digest(signing_input),
                        signature,
                    ),
                    Algorithm::Ps256 => key.verify(
                        Pss::<Sha256>::new(),
                        &Sha256::digest(signing_input),
                        signature,
                    ),
                    Algorithm::Ps384 => key.verify(
                        Pss::<Sha384>::new(),
                        &Sha384::digest(signing_input),
                        signature,
                    ),
                    Algorithm::Ps512 => key.verify(
                        Pss::<Sha512>::new(),
                        &Sha512::digest(signing_input),
                        signature,
                    ),
                    _ => return Err(SignatureInvalid),
                };
                result.is_ok()
            }
            (Inner::P256(key), Algorithm::Es256) => p256::ecdsa::Signature::from_slice(signature)
                .is_ok_and(|sig| key.verify(signing_input, &sig).is_ok()),
            (Inner::P384(key), Algorithm::Es384) => p384::ecdsa::Signature::from_slice(signature)
                .is_ok_and(|sig| key.verify(signing_input, &sig).is_ok()),
            (Inner::P521(key), Algorithm::Es512) => p521::ecdsa::Signature::from_slice(signature)
                .is_ok_and(|sig| key.verify(signing_input, &sig).is_ok()),
            (Inner::Ed25519(key), Algorithm::EdDsa) => {
                ed25519_dalek::Signature::from_slice(signature)
                    .is_ok_and(|sig| key.verify_strict(signing_input, &sig).is_ok())
            }
            _ => false,
        };
        if ok { Ok(()) } else { Err(SignatureInvalid) }
    }

    /// An RSA key from its big-endian modulus and exponent, pinned to `alg` (an `RS*` or `PS*`).
    pub(crate) fn rsa(alg: Algorithm, n: &[u8], e: &[u8]) -> Result<VerifyingKey, KeyRejected> {
        if !matches!(
            alg,
            Algorithm::Rs256
                | Algorithm::Rs384
                | Algorithm::Rs512
                | Algorithm::Ps256
                | Algorithm::Ps384
                | Algorithm::Ps512
        ) {
            return Err(KeyRejected::AlgorithmDoesNotFitKey {
                alg,
                key: "RSA".into(),
            });
        }
        let n = trim_leading_zeros(n);
        let e = trim_leading_zeros(e);
        let bits = bit_length(n);
        if bits < MIN_RSA_BITS {
            return Err(KeyRejected::RsaTooSmall { bits });
        }
        if bits > MAX_RSA_BITS {
            return Err(KeyRejected::BadRsaKey {
                reason: format!("modulus of {bits} bits is over the {MAX_RSA_BITS}-bit maximum"),
            });
        }
        // e = 1 makes the signature equal the padded hash: anyone can "sign". The rsa crate refuses
        // it as well; say so plainly here.
        if e.len() > 8 || e.is_empty() || e == [1] {
            return Err(KeyRejected::BadRsaKey {
                reason: "public exponent must be odd, at least 3 and at most 2^33 - 1".into(),
            });
        }
        if roca::has_fingerprint(n) {
            return Err(KeyRejected::RocaVulnerable);
        }
        let key = rsa::PublicKey::new_with_size_limits(
            BoxedUint::from_be_slice_vartime(n),
            BoxedUint::from_be_slice_vartime(e),
            MIN_RSA_BITS..=MAX_RSA_BITS,
        )
        .map_err(|err| KeyRejected::BadRsaKey {
            reason: err.to_string(),
        })?;
        Ok(VerifyingKey {
            alg,
            inner: Inner::Rsa {
                key: Box::new(key),
                n: n.to_vec(),
                e: e.to_vec(),
            },
        })
    }

    /// An EC key from its curve name and affine coordinates, pinned to the curve's ECDSA algorithm.
    pub(crate) fn ec(
        alg: Algorithm,
        crv: &str,
        x: &[u8],
        y: &[u8],
    ) -> Result<VerifyingKey, KeyRejected> {
        let (expected_alg, size, crv): (Algorithm, usize, &'static str) = match crv {
            "P-256" => (Algorithm::Es256, 32, "P-256"),
            "P-384" => (Algorithm::Es384, 48, "P-384"),
            "P-521" => (Algorithm::Es512, 66, "P-521"),
            other => {
                return Err(KeyRejected::UnsupportedCurve {
                    crv: crate::error::shorten(other),
                });
            }
        };
        if alg != expected_alg {
            return Err(KeyRejected::AlgorithmDoesNotFitKey {
                alg,
                key: format!("EC {crv}"),
            });
        }
        // RFC 7518 §6.2.1.2: each coordinate is exactly the field size, leading zeros included.
        if x.len() != size || y.len() != size {
            return Err(KeyRejected::InvalidPoint { crv });
        }
        let mut sec1 = Vec::with_capacity(1 + 2 * size);
        sec1.push(0x04);
        sec1.extend_from_slice(x);
        sec1.extend_from_slice(y);
        let invalid = |_| KeyRejected::InvalidPoint { crv };
        // from_sec1_bytes checks that the point is on the curve and is not the identity.
        let inner = match alg {
            Algorithm::Es256 => {
                Inner::P256(p256::ecdsa::VerifyingKey::from_sec1_bytes(&sec1).map_err(invalid)?)
            }
            Algorithm::Es384 => {
                Inner::P384(p384::ecdsa::VerifyingKey::from_sec1_bytes(&sec1).map_err(invalid)?)
            }
            _ => Inner::P521(Box::new(
                p521::ecdsa::VerifyingKey::from_sec1_bytes(&sec1).map_err(invalid)?,
            )),
        };
        Ok(VerifyingKey { alg, inner })
    }

    /// An Ed25519 key from its 32-byte encoding (RFC 8037 `OKP`).
    pub(crate) fn ed25519(x: &[u8]) -> Result<VerifyingKey, KeyRejected> {
        let bytes: &[u8; 32] = x
            .try_into()
            .map_err(|_| KeyRejected::InvalidPoint { crv: "Ed25519" })?;
        let key = ed25519_dalek::VerifyingKey::from_bytes(bytes)
            .map_err(|_| KeyRejected::InvalidPoint { crv: "Ed25519" })?;
        if key.is_weak() {
            return Err(KeyRejected::WeakKey);
        }
        Ok(VerifyingKey {
            alg: Algorithm::EdDsa,
            inner: Inner::Ed25519(key),
        })
    }

    /// The RFC 7638 JWK thumbprint input: the required public members in lexicographic order.
    pub(crate) fn thumbprint_input(&self) -> String {
        use crate::encoding::b64url_encode as b64;
        match &self.inner {
            Inner::Rsa { n, e, .. } => {
                format!(r#"{{"e":"{}","kty":"RSA","n":"{}"}}"#, b64(e), b64(n))
            }
            Inner::Ed25519(k) => {
                format!(
                    r#"{{"crv":"Ed25519","kty":"OKP","x":"{}"}}"#,
                    b64(k.as_bytes())
                )
            }
            _ => {
                let (crv, point) = self.ec_point().unwrap_or(("", Vec::new()));
                let size = (point.len().saturating_sub(1)) / 2;
                let (x, y) = point.get(1..).unwrap_or_default().split_at(size);
                format!(
                    r#"{{"crv":"{crv}","kty":"EC","x":"{}","y":"{}"}}"#,
                    b64(x),
                    b64(y)
                )
            }
        }
    }

    /// The RFC 7638 SHA-256 thumbprint, base64url: a stable name for the key material.
    pub fn thumbprint(&self) -> String {
        crate::encoding::b64url_encode(&Sha256::digest(self.thumbprint_input().as_bytes()))
    }

    /// True when a certificate's `subjectPublicKey` bits hold this very key.
    pub(crate) fn matches_spki(&self, subject_public_key: &[u8]) -> bool {
        match &self.inner {
            Inner::Rsa { n, e, .. } => {
                use rsa::pkcs1::DecodeRsaPublicKey as _;
                rsa::PublicKey::from_pkcs1_der(subject_public_key).is_ok_and(|k| {
                    *k.n().to_be_bytes_trimmed_vartime() == **n
                        && *k.e().to_be_bytes_trimmed_vartime() == **e
                })
            }
            Inner::Ed25519(k) => subject_public_key == k.as_bytes(),
            _ => self
                .ec_point()
                .is_some_and(|(_, point)| point == subject_public_key),
        }
    }

    /// The uncompressed SEC1 point of an EC key, with its curve name.
    fn ec_point(&self) -> Option<(&'static str, Vec<u8>)> {
        match &self.inner {
            Inner::P256(k) => Some(("P-256", k.to_sec1_bytes().to_vec())),
            Inner::P384(k) => Some(("P-384", k.to_sec1_bytes().to_vec())),
            Inner::P521(k) => Some(("P-521", k.to_sec1_bytes().to_vec())),
            _ => None,
        }
    }

    /// Key type, size or curve, for messages: `RSA 2048`, `EC P-256`, `OKP Ed25519`.
    pub fn description(&self) -> String {
        match &self.inner {
            Inner::Rsa { key, .. } => format!("RSA {}", key.n().bit_width()),
            Inner::P256(_) => "EC P-256".into(),
            Inner::P384(_) => "EC P-384".into(),
            Inner::P521(_) => "EC P-521".into(),
            Inner::Ed25519(_) => "OKP Ed25519".into(),
        }
    }
}

fn trim_leading_zeros(bytes: &[u8]) -> &[u8] {
    let start = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len());
    &bytes[start..]
}

fn bit_length(trimmed: &[u8]) -> usize {
    match trimmed.first() {
        Some(&b) => trimmed.len() * 8 - b.leading_zeros() as usize,
        None => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bit_length_counts_from_the_top_set_bit() {
        assert_eq!(bit_length(&[0x01, 0x00]), 9);
        assert_eq!(bit_length(&[0x80]), 8);
        assert_eq!(bit_length(&[]), 0);
        assert_eq!(trim_leading_zeros(&[0, 0, 5]), &[5]);
    }

    #[test]
    fn small_rsa_moduli_are_refused_before_any_arithmetic() {
        let n = [0xffu8; 128]; // 1024 bits
        assert_eq!(
            VerifyingKey::rsa(Algorithm::Rs256, &n, &[1, 0, 1]).err(),
            Some(KeyRejected::RsaTooSmall { bits: 1024 })
        );
    }

    #[test]
    fn an_rsa_key_cannot_be_pinned_to_ecdsa() {
        let n = [0xffu8; 256];
        assert!(matches!(
            VerifyingKey::rsa(Algorithm::Es256, &n, &[1, 0, 1]),
            Err(KeyRejected::AlgorithmDoesNotFitKey { .. })
        ));
    }

    #[test]
    fn ec_coordinates_of_the_wrong_length_are_refused() {
        assert_eq!(
            VerifyingKey::ec(Algorithm::Es256, "P-256", &[1; 31], &[1; 32]).err(),
            Some(KeyRejected::InvalidPoint { crv: "P-256" })
        );
    }
}
