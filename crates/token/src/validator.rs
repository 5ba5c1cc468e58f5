//! The validator: every rule, in a fixed order, against a [`KeyStore`].

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::algorithm::Algorithm;
use crate::claims::{Claims, issuer_tenant};
use crate::error::{OptionsError, Part, Rejection, shorten};
use crate::jws::{Compact, DEFAULT_MAX_TOKEN_BYTES, Header, object};
use crate::store::KeyStore;

/// Default clock skew: five minutes, as Microsoft's own token validation libraries use.
pub const DEFAULT_CLOCK_SKEW: Duration = Duration::from_secs(300);
/// Largest clock skew [`Validator::new`] accepts: a wider one stretches every token's lifetime.
pub const MAX_CLOCK_SKEW: Duration = Duration::from_secs(600);

/// Seconds since the Unix epoch, now. A clock before 1970 reads as 0.
pub fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// Which kind of token the caller expects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenUse {
    /// An access token, presented to an API. Entra ID access tokens grant delegated scopes (`scp`)
    /// or application roles (`roles`) and never carry the OpenID `nonce`.
    Access,
    /// An ID token, proof of a sign-in for the client itself. It grants no `scp` and is not typed
    /// `at+jwt` (RFC 9068).
    Id,
}

impl fmt::Display for TokenUse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TokenUse::Access => "access token",
            TokenUse::Id => "ID token",
        })
    }
}

/// What a token must satisfy beyond a good signature from its issuer's key. Every field is explicit:
/// the audience has no default, and skipping its check takes [`ValidationOptions::any_audience`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidationOptions {
    audiences: Option<Vec<String>>,
    clock_skew: Duration,
    algorithms: Vec<Algorithm>,
    typ: Option<String>,
    token_use: Option<TokenUse>,
    version: Option<String>,
    tenants: Option<Vec<String>>,
    max_lifetime: Option<Duration>,
    max_token_bytes: usize,
}

impl ValidationOptions {
    /// Tokens must name `audience` in `aud`.
    pub fn for_audience(audience: impl Into<String>) -> ValidationOptions {
        ValidationOptions::for_audiences([audience.into()])
    }

    /// Tokens must name one of `audiences` in `aud`.
    pub fn for_audiences<I, S>(audiences: I) -> ValidationOptions
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        ValidationOptions::with_audiences(Some(audiences.into_iter().map(Into::into).collect()))
    }

    /// The audience is not checked. For forensic use (is this token authentic at all?), never for
    /// an API deciding whom to serve: a token for another service would pass.
    pub fn any_audience() -> ValidationOptions {
        ValidationOptions::with_audiences(None)
    }

    fn with_audiences(audiences: Option<Vec<String>>) -> ValidationOptions {
        ValidationOptions {
            audiences,
            clock_skew: DEFAULT_CLOCK_SKEW,
            algorithms: Algorithm::ALL.to_vec(),
            typ: None,
            token_use: None,
            version: None,
            tenants: None,
            max_lifetime: None,
            max_token_bytes: DEFAULT_MAX_TOKEN_BYTES,
        }
    }

    /// Clock skew tolerated on `exp`, `nbf`, `iat` and key validity (default 5 min, at most 10).
    pub fn clock_skew(mut self, skew: Duration) -> ValidationOptions {
        self.clock_skew = skew;
        self
    }

    /// The algorithms allowed at all (default: every supported one). Each key is still pinned to
    /// its own algorithm; this only narrows further.
    pub fn algorithms(
        mut self,
        algorithms: impl IntoIterator<Item = Algorithm>,
    ) -> ValidationOptions {
        self.algorithms = algorithms.into_iter().collect();
        self
    }

    /// The header `typ` required, compared case-insensitively with an optional `application/`
    /// prefix (RFC 7515 §4.1.9), e.g. `JWT` or `at+jwt`.
    pub fn typ(mut self, typ: impl Into<String>) -> ValidationOptions {
        self.typ = Some(typ.into());
        self
    }

    /// The kind of token required.
    pub fn token_use(mut self, token_use: TokenUse) -> ValidationOptions {
        self.token_use = Some(token_use);
        self
    }

    /// The Entra ID `ver` claim required (`1.0` or `2.0`).
    pub fn version(mut self, version: impl Into<String>) -> ValidationOptions {
        self.version = Some(version.into());
        self
    }

    /// Only tokens whose `tid` is one of `tenants` are accepted.
    pub fn tenants<I, S>(mut self, tenants: I) -> ValidationOptions
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.tenants = Some(tenants.into_iter().map(Into::into).collect());
        self
    }

    /// Longest lifetime accepted, from `nbf` (or `iat`) to `exp`.
    pub fn max_lifetime(mut self, lifetime: Duration) -> ValidationOptions {
        self.max_lifetime = Some(lifetime);
        self
    }

    /// Longest token accepted, in bytes (default 32 KiB).
    pub fn max_token_bytes(mut self, bytes: usize) -> ValidationOptions {
        self.max_token_bytes = bytes;
        self
    }

    /// The accepted audiences, or `None` when the audience is not checked.
    pub fn audiences(&self) -> Option<&[String]> {
        self.audiences.as_deref()
    }
}

/// A token that passed every rule: its claims, and who vouched for it.
#[derive(Debug, Clone)]
pub struct Verified {
    header: Header,
    claims: Claims,
    kid: String,
    algorithm: Algorithm,
    issuer: String,
    key_issuer: String,
    trusted_issuer: String,
    thumbprint: String,
    audience_checked: bool,
}

impl Verified {
    /// The protected header.
    pub fn header(&self) -> &Header {
        &self.header
    }

    /// The verified claims.
    pub fn claims(&self) -> &Claims {
        &self.claims
    }

    /// The id (`kid` or `x5t`) of the key that verified the signature.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The algorithm of that key.
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// The token's issuer (`iss`).
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The issuer the key is bound to — equal to [`Verified::issuer`] or a `{tenantid}` template
    /// of it.
    pub fn key_issuer(&self) -> &str {
        &self.key_issuer
    }

    /// The trusted issuer whose metadata published the key.
    pub fn trusted_issuer(&self) -> &str {
        &self.trusted_issuer
    }

    /// The RFC 7638 thumbprint of the key.
    pub fn key_thumbprint(&self) -> &str {
        &self.thumbprint
    }

    /// False when the options skipped the audience check.
    pub fn audience_checked(&self) -> bool {
        self.audience_checked
    }
}

/// Validates JWTs against a [`KeyStore`] under fixed [`ValidationOptions`].
#[derive(Debug, Clone)]
pub struct Validator {
    options: ValidationOptions,
}

impl Validator {
    /// A validator, once the options make sense.
    pub fn new(options: ValidationOptions) -> Result<Validator, OptionsError> {
        if options.clock_skew > MAX_CLOCK_SKEW {
            return Err(OptionsError::SkewTooLarge {
                secs: options.clock_skew.as_secs(),
                max: MAX_CLOCK_SKEW.as_secs(),
            });
        }
        if options.algorithms.is_empty() {
            return Err(OptionsError::NoAlgorithm);
        }
        if options.audiences.as_ref().is_some_and(Vec::is_empty) {
            return Err(OptionsError::NoAudience);
        }
        Ok(Validator { options })
    }

    /// The options.
    pub fn options(&self) -> &ValidationOptions {
        &self.options
    }

    /// Validates `token` now.
    pub fn validate(&self, store: &KeyStore, token: &str) -> Result<Verified, Rejection> {
        self.validate_at(store, token, unix_now())
    }

    /// Validates `token` as of `now` (unix seconds). The rules run in this order, and the first
    /// that fails is the answer:
    ///
    /// 1. form: size, three base64url parts, header and claims are duplicate-free JSON objects;
    /// 2. header: `alg` not `none`, not HMAC, supported, allowed; no `crit`; `typ` if required;
    /// 3. issuer: `iss` is trusted (a `{tenantid}` template only with a GUID `tid` naming the same
    ///    tenant), `tid` agrees with the tenant in `iss`, the tenant is allowed;
    /// 4. key: `kid` (or `x5t`) names a key bound to that issuer — a key of another issuer is
    ///    [`Rejection::KeyBelongsToAnotherIssuer`]; `alg` is the key's pinned algorithm; the key is
    ///    within its stated validity;
    /// 5. signature;
    /// 6. time: `exp` present and not past, `nbf` and `iat` not in the future, lifetime bound;
    /// 7. `aud`, `ver`, token use.
    pub fn validate_at(
        &self,
        store: &KeyStore,
        token: &str,
        now: i64,
    ) -> Result<Verified, Rejection> {
        let o = &self.options;
        let skew = i64::try_from(o.clock_skew.as_secs()).unwrap_or(i64::MAX);

        // 1–2. Form and header.
        let compact = Compact::decode(token, o.max_token_bytes)?;
        let header = &compact.header;
        let alg = header.algorithm()?;
        if !o.algorithms.contains(&alg) {
            return Err(Rejection::AlgorithmNotAllowed { alg });
        }
        if let Some(expected) = &o.typ
            && !header.typ().is_some_and(|t| same_media_type(t, expected))
        {
            return Err(Rejection::WrongType {
                expected: expected.clone(),
                found: header.typ().map(shorten),
            });
        }
        let claims = Claims::from_map(object(&compact.payload, Part::Payload)?);
        claims.check_types()?;
        let kid = header.key_id().ok_or(Rejection::MissingKeyId)?;

        // 3. Issuer and tenant.
        let iss = claims
            .iss()
            .ok_or(Rejection::MissingClaim { name: "iss" })?;
        let tid = claims.tid();
        if let (Some(tid), Some(tenant)) = (tid, issuer_tenant(iss))
            && tid != tenant
        {
            return Err(Rejection::IssuerTenantMismatch {
                issuer: shorten(iss),
                tid: shorten(tid),
            });
        }
        store.accepting(iss, tid)?;
        if let Some(tenants) = &o.tenants {
            let tid = tid.ok_or(Rejection::MissingClaim { name: "tid" })?;
            if !tenants.iter().any(|t| t.eq_ignore_ascii_case(tid)) {
                return Err(Rejection::TenantNotAllowed { tid: shorten(tid) });
            }
        }

        // 4–5. The issuer's own key, its algorithm, its validity, the signature.
        let resolved = store.resolve(iss, tid, kid)?;
        let jwk = resolved.jwk;
        if let Some(not_before) = jwk.not_before()
            && now.saturating_add(skew) < not_before
        {
            return Err(Rejection::KeyNotYetValid {
                kid: shorten(kid),
                not_before,
            });
        }
        if let Some(not_after) = jwk.not_after()
            && now.saturating_sub(skew) > not_after
        {
            return Err(Rejection::KeyExpired {
                kid: shorten(kid),
                not_after,
            });
        }
        compact.verify_with(alg, jwk, kid)?;

        // 6. Time.
        let exp = claims
            .numeric_date("exp")?
            .ok_or(Rejection::MissingClaim { name: "exp" })?;
        if now.saturating_sub(skew) >= exp {
            return Err(Rejection::Expired {
                exp,
                now,
                skew: o.clock_skew.as_secs(),
            });
        }
        let nbf = claims.numeric_date("nbf")?;
        if let Some(nbf) = nbf
            && now.saturating_add(skew) < nbf
        {
            return Err(Rejection::NotYetValid { nbf, now });
        }
        let iat = claims.numeric_date("iat")?;
        if let Some(iat) = iat
            && now.saturating_add(skew) < iat
        {
            return Err(Rejection::IssuedInFuture { iat, now });
        }
        if let Some(max) = o.max_lifetime {
            let start = nbf.or(iat).ok_or(Rejection::MissingClaim { name: "iat" })?;
            let lifetime = exp.saturating_sub(start);
            if lifetime > i64::try_from(max.as_secs()).unwrap_or(i64::MAX) {
                return Err(Rejection::LifetimeTooLong {
                    lifetime,
                    max: max.as_secs(),
                });
            }
        }

        // 7. Audience, version, token use.
        if let Some(expected) = &o.audiences {
            let found = claims.audiences();
            if found.is_empty() {
                return Err(Rejection::MissingClaim { name: "aud" });
            }
            if !found.iter().any(|a| expected.iter().any(|e| e == a)) {
                return Err(Rejection::AudienceMismatch {
                    expected: expected.clone(),
                    found: found.into_iter().map(shorten).collect(),
                });
            }
        }
        if let Some(expected) = &o.version
            && claims.ver() != Some(expected.as_str())
        {
            return Err(Rejection::VersionMismatch {
                expected: expected.clone(),
                found: claims.ver().map(shorten),
            });
        }
        if let Some(token_use) = o.token_use {
            check_token_use(token_use, header, &claims)?;
        }

        Ok(Verified {
            header: header.clone(),
            kid: kid.to_owned(),
            algorithm: alg,
            issuer: iss.to_owned(),
            key_issuer: resolved.binding.as_str().to_owned(),
            trusted_issuer: resolved.trusted.as_str().to_owned(),
            thumbprint: resolved.thumbprint.to_owned(),
            audience_checked: o.audiences.is_some(),
            claims,
        })
    }
}

/// `typ` values are media types: case-insensitive, `application/` may be left out.
fn same_media_type(found: &str, expected: &str) -> bool {
    let strip = |s: &str| {
        let lower = s.to_ascii_lowercase();
        lower
            .strip_prefix("application/")
            .map_or(lower.clone(), str::to_owned)
    };
    strip(found) == strip(expected)
}

fn check_token_use(expected: TokenUse, header: &Header, claims: &Claims) -> Result<(), Rejection> {
    let wrong = |reason| Err(Rejection::WrongTokenUse { expected, reason });
    let at_jwt = header.typ().is_some_and(|t| same_media_type(t, "at+jwt"));
    match expected {
        TokenUse::Access => {
            if let Some(typ) = header.typ()
                && !at_jwt
                && !same_media_type(typ, "JWT")
            {
                return wrong("its typ is neither JWT nor at+jwt");
            }
            if claims.get("nonce").is_some() {
                return wrong("it carries nonce, which only ID tokens do");
            }
            if claims.get("scp").is_none() && claims.get("roles").is_none() {
                return wrong("it grants neither scopes (scp) nor roles");
            }
        }
        TokenUse::Id => {
            if at_jwt {
                return wrong("its typ is at+jwt, an access token");
            }
            if claims.get("scp").is_some() {
                return wrong("it grants scopes (scp), which only access tokens do");
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn media_types_compare_without_case_or_prefix() {
        assert!(same_media_type("application/at+JWT", "at+jwt"));
        assert!(same_media_type("JWT", "jwt"));
        assert!(!same_media_type("JOSE", "JWT"));
    }

    #[test]
    fn options_with_a_wide_skew_or_no_audience_are_refused() {
        let wide = ValidationOptions::for_audience("a").clock_skew(Duration::from_secs(3600));
        assert!(matches!(
            Validator::new(wide),
            Err(OptionsError::SkewTooLarge { .. })
        ));
        let none: Vec<String> = Vec::new();
        assert_eq!(
            Validator::new(ValidationOptions::for_audiences(none)).err(),
            Some(OptionsError::NoAudience)
        );
        assert_eq!(
            Validator::new(ValidationOptions::any_audience().algorithms([])).err(),
            Some(OptionsError::NoAlgorithm)
        );
    }
}
