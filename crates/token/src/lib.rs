//! Strict JWT validation that binds every signing key to its issuer, and token forensics.
//!
//! In 2023 Storm-0558 read Exchange Online mailboxes with access tokens it had signed with a
//! Microsoft *consumer* (MSA) signing key. The validator accepting them checked the signature
//! against a list of known keys but never asked *which issuer* had published the key, so a
//! consumer key vouched for enterprise tenants. This crate keeps, for every key, the issuer (and
//! tenant) whose metadata published it, and a token is checked only against keys of the issuer it
//! claims. A key of another issuer is refused with
//! [`Rejection::KeyBelongsToAnotherIssuer`].
//!
//! # Brief overview
//!
//! * A [`KeyStore`] holds [`TrustedIssuer`]s, each an issuer identifier (exact, or an Entra ID
//!   `{tenantid}` template checked against the token's `tid`) with the [`Jwk`]s its metadata
//!   published. Each key is a [`VerifyingKey`] pinned to one [`Algorithm`] — from the key, never
//!   from the token.
//! * A [`Validator`] applies [`ValidationOptions`] (audiences, clock skew, algorithms, `typ`,
//!   token use, tenants) in a fixed order; it returns [`Verified`] claims naming the key and the
//!   issuer that vouched for them, or a [`Rejection`] naming the rule that failed.
//! * A [`KeyCache`] fills the store from OpenID metadata or JWKS URLs over HTTPS and refreshes an
//!   issuer's keys when a token names an unknown key — at most once per issuer per interval.
//! * [`Inspection`] decodes a captured token *without trusting it* and lists [`Finding`]s: what
//!   Storm-0558-style forgeries look like.
//!
//! The core ([`KeyStore`], [`Validator`], [`Inspection`]) does no I/O. HTTP is [ureq] with rustls:
//! a blocking client because key fetches are rare and a blocking call needs no async runtime;
//! call [`KeyCache`] from a blocking task in an async service. The cryptography is RustCrypto
//! (`rsa`, `p256`/`p384`/`p521`, `ed25519-dalek`, `sha2`); nothing here implements a primitive.
//! We only verify with public keys, so the `rsa` crate's private-key timing issue (RUSTSEC-2023-0071)
//! does not apply.
//!
//! # Example
//!
//! ```
//! use mailtrail_token::{JwkSet, KeyStore, Rejection, TrustedIssuer, ValidationOptions, Validator};
//! use mailtrail_token::testing::{TestKey, jwks};
//! use serde_json::json;
//!
//! const CONSUMER: &str =
//!     "https://login.microsoftonline.com/9188040d-6c67-4c5b-b112-36a304b66dad/v2.0";
//! const ENTERPRISE: &str = "https://login.microsoftonline.com/{tenantid}/v2.0";
//! let contoso = "72f988bf-86f1-41af-91ab-2d7cd011db47";
//!
//! // Keys made for the example; a service loads its issuers' published keys instead.
//! let msa_key = TestKey::ed25519("msa-1");
//! let entra_key = TestKey::ed25519("entra-1");
//! let mut store = KeyStore::new();
//! store.insert(TrustedIssuer::new(CONSUMER, JwkSet::from_json(jwks(&[&msa_key]).as_bytes())?));
//! store.insert(TrustedIssuer::new(ENTERPRISE, JwkSet::from_json(jwks(&[&entra_key]).as_bytes())?));
//!
//! let validator = Validator::new(ValidationOptions::for_audience("https://outlook.office365.com"))?;
//! let claims = json!({
//!     "iss": format!("https://login.microsoftonline.com/{contoso}/v2.0"), "tid": contoso,
//!     "aud": "https://outlook.office365.com", "ver": "2.0",
//!     "iat": 1_700_000_000, "exp": 1_700_003_600,
//! });
//!
//! // Signed by the enterprise issuer's key: accepted, and we learn who vouched for it.
//! let verified = validator.validate_at(&store, &entra_key.mint(&claims), 1_700_000_100)?;
//! assert_eq!(verified.kid(), "entra-1");
//! assert_eq!(verified.key_issuer(), ENTERPRISE);
//!
//! // The same claims signed with the consumer key: the Storm-0558 forgery, refused.
//! let forged = msa_key.mint(&claims);
//! let err = validator.validate_at(&store, &forged, 1_700_000_100).unwrap_err();
//! assert!(matches!(err, Rejection::KeyBelongsToAnotherIssuer { ref key_issuer, .. }
//!     if key_issuer == CONSUMER));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![forbid(unsafe_code)]

mod algorithm;
mod cache;
mod claims;
mod encoding;
mod error;
mod fetch;
mod inspect;
mod jwk;
mod jws;
mod key;
mod roca;
mod store;
#[cfg(feature = "testing")]
pub mod testing;
mod validator;
mod x509;

pub use crate::algorithm::Algorithm;
pub use crate::cache::{
    CacheOptions, Clock, DEFAULT_MAX_KEY_AGE, DEFAULT_MIN_REFRESH_INTERVAL, KeyCache, KeySource,
    SystemClock, ValidationError,
};
pub use crate::claims::Claims;
pub use crate::error::{KeyRejected, KeySetError, OptionsError, Part, Rejection};
pub use crate::fetch::{
    DEFAULT_MAX_RESPONSE_BYTES, DEFAULT_TIMEOUT, Fetch, FetchError, FetchErrorKind, HttpFetcher,
    ProviderMetadata, check_url, discover, fetch_jwks,
};
pub use crate::inspect::{Finding, Inspection, Severity};
pub use crate::jwk::{Jwk, JwkSet, MAX_KEYS, RejectedKey};
pub use crate::jws::{DEFAULT_MAX_TOKEN_BYTES, Header, KEY_POINTER_HEADERS, verify_jws};
pub use crate::key::{MAX_RSA_BITS, MIN_RSA_BITS, SignatureInvalid, VerifyingKey};
pub use crate::store::{IssuerPattern, KeyStore, TrustedIssuer};
/// The tenant id of Microsoft consumer accounts (MSA), whose keys signed Storm-0558's forgeries.
pub use mailtrail_event::MSA_CONSUMER_TENANT_ID;
pub use url::Url;

pub use crate::validator::{
    DEFAULT_CLOCK_SKEW, MAX_CLOCK_SKEW, TokenUse, ValidationOptions, Validator, Verified, unix_now,
};
