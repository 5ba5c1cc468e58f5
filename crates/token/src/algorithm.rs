//! The JWS algorithms a key can be pinned to.

use std::fmt;

use crate::error::Rejection;

/// A JWS signature algorithm this crate verifies (RFC 7518 §3, RFC 8037 §3.1).
///
/// Every algorithm here is asymmetric. HMAC (`HS256`…) is absent on purpose: a validator whose keys
/// come from published metadata holds no secret, so an HMAC "verification" would use public bytes
/// as the secret — the classic algorithm-confusion forgery. `none` is absent for the same reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Algorithm {
    /// RSASSA-PKCS1-v1_5 with SHA-256 — what Entra ID signs with.
    Rs256,
    /// RSASSA-PKCS1-v1_5 with SHA-384.
    Rs384,
    /// RSASSA-PKCS1-v1_5 with SHA-512.
    Rs512,
    /// RSASSA-PSS with SHA-256, MGF1 with SHA-256, salt as long as the hash.
    Ps256,
    /// RSASSA-PSS with SHA-384.
    Ps384,
    /// RSASSA-PSS with SHA-512.
    Ps512,
    /// ECDSA on P-256 with SHA-256, signature as the 64-byte `r || s` (IEEE P1363).
    Es256,
    /// ECDSA on P-384 with SHA-384.
    Es384,
    /// ECDSA on P-521 with SHA-512.
    Es512,
    /// Ed25519 (RFC 8037).
    EdDsa,
}

impl Algorithm {
    /// Every supported algorithm, in the order they are listed in messages.
    pub const ALL: [Algorithm; 10] = [
        Algorithm::Rs256,
        Algorithm::Rs384,
        Algorithm::Rs512,
        Algorithm::Ps256,
        Algorithm::Ps384,
        Algorithm::Ps512,
        Algorithm::Es256,
        Algorithm::Es384,
        Algorithm::Es512,
        Algorithm::EdDsa,
    ];

    /// The registered JOSE name (`RS256`, `EdDSA`, …).
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Rs256 => "RS256",
            Algorithm::Rs384 => "RS384",
            Algorithm::Rs512 => "RS512",
            Algorithm::Ps256 => "PS256",
            Algorithm::Ps384 => "PS384",
            Algorithm::Ps512 => "PS512",
            Algorithm::Es256 => "ES256",
            Algorithm::Es384 => "ES384",
            Algorithm::Es512 => "ES512",
            Algorithm::EdDsa => "EdDSA",
        }
    }

    /// The algorithm with this exact registered name. JOSE names are case-sensitive.
    pub fn from_name(name: &str) -> Option<Algorithm> {
        Algorithm::ALL.into_iter().find(|a| a.name() == name)
    }

    /// Reads the `alg` header of a token, naming the rule when it is one we refuse outright.
    pub(crate) fn from_header(alg: &str) -> Result<Algorithm, Rejection> {
        if let Some(a) = Algorithm::from_name(alg) {
            return Ok(a);
        }
        if alg.eq_ignore_ascii_case("none") {
            return Err(Rejection::AlgNone);
        }
        if alg.len() >= 2 && alg[..2].eq_ignore_ascii_case("HS") {
            return Err(Rejection::SymmetricAlgorithm {
                alg: alg.to_owned(),
            });
        }
        Err(Rejection::UnsupportedAlgorithm {
            alg: crate::error::shorten(alg),
        })
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for a in Algorithm::ALL {
            assert_eq!(Algorithm::from_name(a.name()), Some(a));
        }
        assert_eq!(Algorithm::from_name("rs256"), None);
    }

    #[test]
    fn header_none_in_any_case_is_refused_as_none() {
        assert_eq!(Algorithm::from_header("none"), Err(Rejection::AlgNone));
        assert_eq!(Algorithm::from_header("NONE"), Err(Rejection::AlgNone));
    }

    #[test]
    fn header_hmac_is_refused_as_symmetric() {
        assert!(matches!(
            Algorithm::from_header("HS256"),
            Err(Rejection::SymmetricAlgorithm { .. })
        ));
        assert!(matches!(
            Algorithm::from_header("ES521"),
            Err(Rejection::UnsupportedAlgorithm { .. })
        ));
    }
}
