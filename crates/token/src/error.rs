//! Every way a token, a key or a key fetch can be refused, each naming the rule that failed.

use std::fmt;

use crate::algorithm::Algorithm;

/// Longest attacker-controlled string (a `kid`, an issuer) repeated in a message, in characters.
const SHOWN_CHARS: usize = 96;

/// Makes an attacker-controlled string safe to print: control characters escaped, long values cut.
///
/// Errors repeat what the token said (`kid`, `iss`); a forged token can carry terminal escapes or a
/// megabyte-long `kid`, and neither may reach a log or a terminal as is.
pub(crate) fn shorten(s: &str) -> String {
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i == SHOWN_CHARS {
            out.push_str(&format!("… ({} characters)", s.chars().count()));
            break;
        }
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// The three parts of a compact JWS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// The protected header.
    Header,
    /// The payload (the JWT claims).
    Payload,
    /// The signature.
    Signature,
}

impl fmt::Display for Part {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Part::Header => "header",
            Part::Payload => "payload",
            Part::Signature => "signature",
        })
    }
}

/// Why a token was refused. Each variant is one rule; [`Rejection::rule`] gives its stable name.
///
/// Strings copied from the token (issuer, `kid`, audiences) are cut and escaped for display.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Rejection {
    /// The token is longer than [`ValidationOptions::max_token_bytes`](crate::ValidationOptions).
    #[error("token is {len} bytes, over the {limit}-byte limit")]
    TooLarge {
        /// Length of the token.
        len: usize,
        /// The limit in force.
        limit: usize,
    },
    /// The token is not three base64url parts joined by dots (JSON serialization included).
    #[error("not a compact JWS: expected 3 dot-separated parts, found {parts}")]
    NotCompact {
        /// How many parts the token had.
        parts: usize,
    },
    /// A part is empty, holds characters outside base64url, padding, or non-zero unused bits.
    #[error("the {part} is not canonical unpadded base64url")]
    BadBase64 {
        /// Which part.
        part: Part,
    },
    /// The signature part is empty: an unsigned token.
    #[error("the signature is missing")]
    MissingSignature,
    /// A part is not a JSON object.
    #[error("the {part} is not a JSON object: {reason}")]
    BadJson {
        /// Which part.
        part: Part,
        /// What the parser said.
        reason: String,
    },
    /// A member name appears twice in the header or the claims (RFC 7515 §4, RFC 7519 §4).
    #[error("the {part} repeats the member {name:?}")]
    DuplicateMember {
        /// Which part.
        part: Part,
        /// The repeated name.
        name: String,
    },
    /// A header parameter is missing or of the wrong JSON type.
    #[error("header parameter {name:?} is missing or not a string")]
    BadHeader {
        /// The parameter.
        name: &'static str,
    },
    /// `alg` is `none`: unsigned tokens are never accepted.
    #[error("alg \"none\" is refused: the token is unsigned")]
    AlgNone,
    /// `alg` is HMAC: refused because the only keys here are public ones.
    #[error("alg {alg:?} is refused: HMAC with a public key would let anyone sign")]
    SymmetricAlgorithm {
        /// The header's `alg`.
        alg: String,
    },
    /// `alg` names an algorithm this crate does not verify.
    #[error("alg {alg:?} is not supported")]
    UnsupportedAlgorithm {
        /// The header's `alg`.
        alg: String,
    },
    /// `alg` is supported but not in [`ValidationOptions`](crate::ValidationOptions)' allowed list.
    #[error("alg {alg} is not allowed by the validation options")]
    AlgorithmNotAllowed {
        /// The header's `alg`.
        alg: Algorithm,
    },
    /// The header lists `crit` extensions; none are understood here (RFC 7515 §4.1.11).
    #[error("critical header extension(s) not understood: {names}")]
    UnsupportedCritical {
        /// The listed names, comma-separated.
        names: String,
    },
    /// The header `typ` is not the one the options require.
    #[error("header typ is {found:?}, expected {expected:?}")]
    WrongType {
        /// What the options require.
        expected: String,
        /// What the token has (`None` when absent).
        found: Option<String>,
    },
    /// The header names no key (`kid` or `x5t`).
    #[error("the header names no key: neither kid nor x5t is present")]
    MissingKeyId,
    /// A required claim is missing.
    #[error("claim {name:?} is missing")]
    MissingClaim {
        /// The claim.
        name: &'static str,
    },
    /// A claim has the wrong JSON type or an impossible value.
    #[error("claim {name:?} is invalid: {reason}")]
    InvalidClaim {
        /// The claim.
        name: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// No trusted issuer matches `iss`.
    #[error("issuer {issuer:?} is not trusted")]
    UntrustedIssuer {
        /// The token's `iss`.
        issuer: String,
    },
    /// `iss` names one tenant and `tid` another (multi-tenant issuers, `{tenantid}` templates).
    #[error("issuer {issuer:?} does not belong to the token's tenant {tid:?}")]
    IssuerTenantMismatch {
        /// The token's `iss`.
        issuer: String,
        /// The token's `tid`.
        tid: String,
    },
    /// `tid` is not a GUID, so it cannot stand in for `{tenantid}`.
    #[error("tenant id {tid:?} is not a GUID")]
    InvalidTenantId {
        /// The token's `tid`.
        tid: String,
    },
    /// `tid` is not among [`ValidationOptions::tenants`](crate::ValidationOptions::tenants).
    #[error("tenant {tid:?} is not allowed")]
    TenantNotAllowed {
        /// The token's `tid`.
        tid: String,
    },
    /// No key with this id is known for any trusted issuer.
    #[error("no key {kid:?} is known for issuer {issuer:?}")]
    UnknownKey {
        /// The header's `kid` (or `x5t`).
        kid: String,
        /// The token's `iss`.
        issuer: String,
    },
    /// The key exists, but it was published for another issuer: the Storm-0558 forgery.
    #[error(
        "key {kid:?} belongs to issuer {key_issuer:?}, not to the token's issuer {token_issuer:?}"
    )]
    KeyBelongsToAnotherIssuer {
        /// The header's `kid` (or `x5t`).
        kid: String,
        /// The token's `iss`.
        token_issuer: String,
        /// The issuer the key is bound to.
        key_issuer: String,
    },
    /// Two different keys with this id are trusted for the token's issuer.
    #[error("key id {kid:?} names more than one key for this issuer")]
    AmbiguousKey {
        /// The header's `kid` (or `x5t`).
        kid: String,
    },
    /// The header's `alg` is not the algorithm the key is pinned to.
    #[error("alg {token_alg} does not match key {kid:?}, which is pinned to {key_alg}")]
    AlgorithmMismatch {
        /// The key id.
        kid: String,
        /// The header's `alg`.
        token_alg: Algorithm,
        /// The key's algorithm.
        key_alg: Algorithm,
    },
    /// The key's stated validity (certificate or `nbf`) starts after now.
    #[error("key {kid:?} is not valid before {not_before} (unix time)")]
    KeyNotYetValid {
        /// The key id.
        kid: String,
        /// Start of validity, unix seconds.
        not_before: i64,
    },
    /// The key's stated validity (certificate or `exp`) ended before now.
    #[error("key {kid:?} expired at {not_after} (unix time)")]
    KeyExpired {
        /// The key id.
        kid: String,
        /// End of validity, unix seconds.
        not_after: i64,
    },
    /// The signature does not verify with the issuer's key.
    #[error("signature does not verify with key {kid:?}")]
    BadSignature {
        /// The key id.
        kid: String,
    },
    /// `exp` is in the past, beyond the clock skew.
    #[error("token expired at {exp} (unix time); now is {now}, skew allowed {skew}s")]
    Expired {
        /// The `exp` claim.
        exp: i64,
        /// The validation time.
        now: i64,
        /// The clock skew allowed.
        skew: u64,
    },
    /// `nbf` is in the future, beyond the clock skew.
    #[error("token is not valid before {nbf} (unix time); now is {now}")]
    NotYetValid {
        /// The `nbf` claim.
        nbf: i64,
        /// The validation time.
        now: i64,
    },
    /// `iat` is in the future, beyond the clock skew.
    #[error("token claims to be issued at {iat} (unix time), after now ({now})")]
    IssuedInFuture {
        /// The `iat` claim.
        iat: i64,
        /// The validation time.
        now: i64,
    },
    /// `exp - (nbf or iat)` is longer than the options allow.
    #[error("token lifetime {lifetime}s is over the {max}s maximum")]
    LifetimeTooLong {
        /// The token's lifetime in seconds.
        lifetime: i64,
        /// The maximum allowed.
        max: u64,
    },
    /// No `aud` value is one of the expected audiences.
    #[error("audience {found:?} is not one of {expected:?}")]
    AudienceMismatch {
        /// The audiences the options accept.
        expected: Vec<String>,
        /// The token's audiences.
        found: Vec<String>,
    },
    /// `ver` is not the version the options require.
    #[error("token version {found:?}, expected {expected:?}")]
    VersionMismatch {
        /// What the options require.
        expected: String,
        /// The token's `ver`.
        found: Option<String>,
    },
    /// The token is of the other kind (an ID token where an access token was asked for, …).
    #[error("not an {expected}: {reason}")]
    WrongTokenUse {
        /// The kind the options require.
        expected: crate::TokenUse,
        /// What gave it away.
        reason: &'static str,
    },
}

impl Rejection {
    /// A stable, short name of the rule that failed, for machines and dashboards.
    pub fn rule(&self) -> &'static str {
        match self {
            Rejection::TooLarge { .. } => "token-size",
            Rejection::NotCompact { .. } => "compact-serialization",
            Rejection::BadBase64 { .. } => "base64url",
            Rejection::MissingSignature => "signature-missing",
            Rejection::BadJson { .. } => "json-object",
            Rejection::DuplicateMember { .. } => "duplicate-member",
            Rejection::BadHeader { .. } => "header-parameter",
            Rejection::AlgNone => "alg-none",
            Rejection::SymmetricAlgorithm { .. } => "alg-hmac",
            Rejection::UnsupportedAlgorithm { .. } => "alg-unsupported",
            Rejection::AlgorithmNotAllowed { .. } => "alg-not-allowed",
            Rejection::UnsupportedCritical { .. } => "crit",
            Rejection::WrongType { .. } => "typ",
            Rejection::MissingKeyId => "kid-missing",
            Rejection::MissingClaim { .. } => "claim-missing",
            Rejection::InvalidClaim { .. } => "claim-invalid",
            Rejection::UntrustedIssuer { .. } => "issuer-untrusted",
            Rejection::IssuerTenantMismatch { .. } => "issuer-tenant",
            Rejection::InvalidTenantId { .. } => "tid-format",
            Rejection::TenantNotAllowed { .. } => "tenant-not-allowed",
            Rejection::UnknownKey { .. } => "kid-unknown",
            Rejection::KeyBelongsToAnotherIssuer { .. } => "key-issuer-binding",
            Rejection::AmbiguousKey { .. } => "kid-ambiguous",
            Rejection::AlgorithmMismatch { .. } => "alg-key-mismatch",
            Rejection::KeyNotYetValid { .. } => "key-not-yet-valid",
            Rejection::KeyExpired { .. } => "key-expired",
            Rejection::BadSignature { .. } => "signature",
            Rejection::Expired { .. } => "exp",
            Rejection::NotYetValid { .. } => "nbf",
            Rejection::IssuedInFuture { .. } => "iat",
            Rejection::LifetimeTooLong { .. } => "lifetime",
            Rejection::AudienceMismatch { .. } => "aud",
            Rejection::VersionMismatch { .. } => "ver",
            Rejection::WrongTokenUse { .. } => "token-use",
        }
    }
}

/// Why a JSON Web Key was refused when loading a key set. The key is skipped; the rest load.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyRejected {
    /// The key is not a JSON object, or a member has the wrong type.
    #[error("member {name:?} is invalid: {reason}")]
    BadMember {
        /// The member.
        name: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// A member this key type needs is missing.
    #[error("member {name:?} is missing")]
    MissingMember {
        /// The member.
        name: &'static str,
    },
    /// The key repeats a member name.
    #[error("the key repeats the member {name:?}")]
    DuplicateMember {
        /// The repeated name.
        name: String,
    },
    /// A symmetric (`oct`) key: published key sets must hold public keys only.
    #[error("symmetric (kty \"oct\") keys are refused: a published key cannot be a secret")]
    SymmetricKey,
    /// The key carries private parts (`d`, `p`, …): a key set that leaks them is not trusted.
    #[error("the key carries private key material ({member:?}); refusing a leaked private key")]
    PrivateKeyMaterial {
        /// The private member found.
        member: &'static str,
    },
    /// `kty` is not RSA, EC or OKP.
    #[error("key type {kty:?} is not supported")]
    UnsupportedKeyType {
        /// The key's `kty`.
        kty: String,
    },
    /// `crv` is not P-256, P-384, P-521 or Ed25519.
    #[error("curve {crv:?} is not supported")]
    UnsupportedCurve {
        /// The key's `crv`.
        crv: String,
    },
    /// The key's `alg` is not a supported signature algorithm.
    #[error("key algorithm {alg:?} is not a supported signature algorithm")]
    UnsupportedAlgorithm {
        /// The key's `alg`.
        alg: String,
    },
    /// The key's `alg` does not fit its type or curve (ES256 on P-384, RS256 on an EC key, …).
    #[error("key algorithm {alg} does not fit a {key} key")]
    AlgorithmDoesNotFitKey {
        /// The key's `alg`.
        alg: Algorithm,
        /// The key type and curve.
        key: String,
    },
    /// `use` is present and is not `sig`.
    #[error("key use is {found:?}, not \"sig\"")]
    NotForSigning {
        /// The key's `use`.
        found: String,
    },
    /// `key_ops` is present and does not include `verify`.
    #[error("key_ops does not include \"verify\"")]
    KeyOpsExcludeVerify,
    /// The RSA modulus is shorter than 2048 bits.
    #[error("RSA modulus of {bits} bits is under the 2048-bit minimum")]
    RsaTooSmall {
        /// The modulus length.
        bits: usize,
    },
    /// The RSA key is otherwise unusable (exponent 1 or even, modulus even, over 8192 bits).
    #[error("RSA key is invalid: {reason}")]
    BadRsaKey {
        /// What is wrong.
        reason: String,
    },
    /// The RSA modulus has the ROCA fingerprint (CVE-2017-15361): its private key can be computed.
    #[error("RSA key has the ROCA fingerprint (CVE-2017-15361): its private key is recoverable")]
    RocaVulnerable,
    /// The EC point is not on the curve, or the coordinates have the wrong length.
    #[error("the public point is not a valid point of {crv}")]
    InvalidPoint {
        /// The curve.
        crv: &'static str,
    },
    /// The Ed25519 key is of small order: signatures by it prove nothing.
    #[error("the Ed25519 key is a weak (small-order) point")]
    WeakKey,
    /// `x5c` is not a certificate chain this crate can read.
    #[error("x5c certificate cannot be read: {reason}")]
    BadCertificate {
        /// What is wrong.
        reason: String,
    },
    /// The first `x5c` certificate holds another public key (RFC 7517 §4.7).
    #[error("the x5c certificate's public key is not the key's public key")]
    CertificateMismatch,
    /// `x5t` or `x5t#S256` is not the thumbprint of the `x5c` certificate.
    #[error("{member} is not the thumbprint of the x5c certificate")]
    ThumbprintMismatch {
        /// The member.
        member: &'static str,
    },
    /// Two keys in one set share a `kid`; neither is trusted (lookup would be ambiguous).
    #[error("kid {kid:?} appears more than once in the key set")]
    DuplicateKid {
        /// The shared `kid`.
        kid: String,
    },
    /// The key's own `issuer` member is outside the issuer whose metadata published it.
    #[error("key issuer {key_issuer:?} is outside the publishing issuer {issuer:?}")]
    IssuerOutsideScope {
        /// The key's `issuer` member.
        key_issuer: String,
        /// The issuer whose key set holds the key.
        issuer: String,
    },
}

/// Why a whole JWK Set could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeySetError {
    /// The document is not JSON, not an object, or has no `keys` array.
    #[error("not a JWK Set: {reason}")]
    NotAKeySet {
        /// What is wrong.
        reason: String,
    },
    /// More keys than a key set can reasonably hold.
    #[error("key set has {count} keys, over the {limit} limit")]
    TooManyKeys {
        /// Keys in the document.
        count: usize,
        /// The limit.
        limit: usize,
    },
}

/// An invalid [`ValidationOptions`](crate::ValidationOptions).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum OptionsError {
    /// The clock skew is over the 10-minute bound.
    #[error("clock skew of {secs}s is over the {max}s bound")]
    SkewTooLarge {
        /// The requested skew.
        secs: u64,
        /// The bound.
        max: u64,
    },
    /// No algorithm is allowed.
    #[error("the allowed algorithm list is empty")]
    NoAlgorithm,
    /// An audience list was given but is empty.
    #[error("the audience list is empty; use ValidationOptions::any_audience to skip the check")]
    NoAudience,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shorten_escapes_control_characters_and_cuts_long_values() {
        assert_eq!(shorten("a\u{1b}[31mb"), "a\\u{1b}[31mb");
        let long = "k".repeat(10_000);
        let shown = shorten(&long);
        assert!(shown.len() < 200, "{shown}");
        assert!(shown.ends_with("(10000 characters)"));
    }

    #[test]
    fn every_rejection_names_its_rule() {
        let r = Rejection::KeyBelongsToAnotherIssuer {
            kid: "k".into(),
            token_issuer: "a".into(),
            key_issuer: "b".into(),
        };
        assert_eq!(r.rule(), "key-issuer-binding");
        assert!(r.to_string().contains("belongs to issuer \"b\""));
    }
}
