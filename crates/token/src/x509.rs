//! The one thing we read from `x5c`: the first certificate's public key and validity period.
//!
//! We do not build or verify certificate chains: trust in a key comes from the issuer's metadata,
//! not from a CA. The certificate still matters twice: its key must be the JWK's key (RFC 7517
//! §4.7), and a key whose certificate has expired or is not yet valid is not used.

use sha1::Sha1;
use sha2::{Digest as _, Sha256};
use x509_cert::Certificate;
use x509_cert::der::Decode as _;

use crate::encoding::{b64_std_decode, b64url_decode};
use crate::error::KeyRejected;
use crate::key::VerifyingKey;

/// Largest certificate read, in bytes. Entra ID's are about 1 KiB.
const MAX_CERT_BYTES: usize = 16 * 1024;

/// What a JWK's `x5c` says about the key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct CertValidity {
    /// notBefore, unix seconds.
    pub(crate) not_before: i64,
    /// notAfter, unix seconds.
    pub(crate) not_after: i64,
}

/// Reads the first `x5c` certificate, checks it holds `key` and that `x5t` / `x5t#S256` (when
/// present) are its thumbprints, and returns its validity period.
pub(crate) fn check_x5c(
    first_cert: &str,
    key: &VerifyingKey,
    x5t: Option<&str>,
    x5t_s256: Option<&str>,
) -> Result<CertValidity, KeyRejected> {
    let bad = |reason: &str| KeyRejected::BadCertificate {
        reason: reason.to_owned(),
    };
    if first_cert.len() > MAX_CERT_BYTES * 4 / 3 + 4 {
        return Err(bad("certificate is over 16 KiB"));
    }
    let der = b64_std_decode(first_cert).ok_or_else(|| bad("not standard base64"))?;
    let cert = Certificate::from_der(&der).map_err(|e| bad(&e.to_string()))?;
    let tbs = cert.tbs_certificate();
    let spki_bits = tbs.subject_public_key_info().subject_public_key.raw_bytes();
    if !key.matches_spki(spki_bits) {
        return Err(KeyRejected::CertificateMismatch);
    }
    if let Some(t) = x5t
        && b64url_decode(t).as_deref() != Some(Sha1::digest(&der).as_slice())
    {
        return Err(KeyRejected::ThumbprintMismatch { member: "x5t" });
    }
    if let Some(t) = x5t_s256
        && b64url_decode(t).as_deref() != Some(Sha256::digest(&der).as_slice())
    {
        return Err(KeyRejected::ThumbprintMismatch { member: "x5t#S256" });
    }
    let validity = tbs.validity();
    let secs = |t: x509_cert::time::Time| i64::try_from(t.to_unix_duration().as_secs()).ok();
    match (secs(validity.not_before), secs(validity.not_after)) {
        (Some(not_before), Some(not_after)) => Ok(CertValidity {
            not_before,
            not_after,
        }),
        _ => Err(bad("validity period out of range")),
    }
}
