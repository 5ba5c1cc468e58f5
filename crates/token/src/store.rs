//! Trusted issuers and the keys each one published: the binding Storm-0558's validator lacked.

use std::fmt;

use crate::claims::is_guid;
use crate::error::{KeyRejected, Rejection, shorten};
use crate::jwk::{Jwk, JwkSet, RejectedKey};

/// The placeholder Entra ID's tenant-independent metadata puts in its issuer.
const TENANT_PLACEHOLDER: &str = "{tenantid}";

/// An issuer identifier: an exact URL, or a template with `{tenantid}` (matched case-insensitively,
/// as Microsoft's own sample code does) that stands for the token's `tid`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct IssuerPattern {
    text: String,
    /// For a template, the text before and after the placeholder.
    template: Option<(String, String)>,
}

/// How a pattern relates to a token's `iss` and `tid`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Match {
    Yes,
    No,
    /// A template whose frame fits `iss`, but the tenant in `iss` is not `tid`.
    TenantMismatch,
    /// A template, and the token has no `tid`.
    TenantMissing,
    /// A template, and `tid` is not a GUID.
    TenantInvalid,
}

impl IssuerPattern {
    /// Reads an issuer; `{tenantid}` anywhere in it makes it a template.
    pub fn new(issuer: &str) -> IssuerPattern {
        let lower = issuer.to_ascii_lowercase();
        let template = lower.find(TENANT_PLACEHOLDER).map(|at| {
            (
                issuer[..at].to_owned(),
                issuer[at + TENANT_PLACEHOLDER.len()..].to_owned(),
            )
        });
        IssuerPattern {
            text: issuer.to_owned(),
            template,
        }
    }

    /// The issuer as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// True for a `{tenantid}` template.
    pub fn is_template(&self) -> bool {
        self.template.is_some()
    }

    /// Whether a token with this `iss` and `tid` is this issuer's.
    pub(crate) fn matches(&self, iss: &str, tid: Option<&str>) -> Match {
        let Some((prefix, suffix)) = &self.template else {
            return if iss == self.text {
                Match::Yes
            } else {
                Match::No
            };
        };
        let Some(tenant) = iss
            .strip_prefix(prefix.as_str())
            .and_then(|rest| rest.strip_suffix(suffix.as_str()))
        else {
            return Match::No;
        };
        match tid {
            None => Match::TenantMissing,
            Some(tid) if !is_guid(tid) => Match::TenantInvalid,
            Some(tid) if tid == tenant => Match::Yes,
            Some(_) => Match::TenantMismatch,
        }
    }

    /// True when every token this pattern accepts, `self` also accepts: equal patterns, or an
    /// exact issuer that is one tenant of this template. Keys may narrow their issuer, never widen it.
    fn covers(&self, narrower: &IssuerPattern) -> bool {
        if self.text.eq_ignore_ascii_case(&narrower.text) && self.template == narrower.template {
            return true;
        }
        match (&self.template, &narrower.template) {
            (Some((prefix, suffix)), None) => narrower
                .text
                .strip_prefix(prefix.as_str())
                .and_then(|rest| rest.strip_suffix(suffix.as_str()))
                .is_some_and(is_guid),
            (Some((p1, s1)), Some((p2, s2))) => p1 == p2 && s1 == s2,
            _ => false,
        }
    }
}

impl fmt::Display for IssuerPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// A key trusted for the tokens of one issuer.
#[derive(Debug, Clone)]
struct BoundKey {
    jwk: Jwk,
    /// The issuer the key may sign for: the key's own `issuer` member, else its publisher.
    binding: IssuerPattern,
    thumbprint: String,
}

/// An issuer and the keys its metadata published, each bound to the issuer (or, when the key set
/// says so per key, to a narrower one).
#[derive(Debug, Clone)]
pub struct TrustedIssuer {
    issuer: IssuerPattern,
    keys: Vec<BoundKey>,
    rejected: Vec<RejectedKey>,
}

impl TrustedIssuer {
    /// Trusts `keys` for tokens of `issuer` only.
    ///
    /// A key with its own `issuer` member (Entra ID's common key set binds its consumer key to
    /// the consumer tenant this way) is bound to that issuer, provided it lies within `issuer`;
    /// a key claiming a wider or different issuer is refused.
    pub fn new(issuer: &str, keys: JwkSet) -> TrustedIssuer {
        let issuer = IssuerPattern::new(issuer);
        let mut rejected = keys.rejected().to_vec();
        let mut bound = Vec::new();
        for (index, jwk) in keys.keys().iter().enumerate() {
            let binding = match jwk.issuer() {
                None => issuer.clone(),
                Some(own) => IssuerPattern::new(own),
            };
            if !issuer.covers(&binding) {
                rejected.push(RejectedKey {
                    index,
                    kid: jwk.id().map(shorten),
                    reason: KeyRejected::IssuerOutsideScope {
                        key_issuer: shorten(binding.as_str()),
                        issuer: shorten(issuer.as_str()),
                    },
                });
                continue;
            }
            bound.push(BoundKey {
                thumbprint: jwk.key().thumbprint(),
                jwk: jwk.clone(),
                binding,
            });
        }
        TrustedIssuer {
            issuer,
            keys: bound,
            rejected,
        }
    }

    /// The issuer.
    pub fn issuer(&self) -> &IssuerPattern {
        &self.issuer
    }

    /// The trusted keys, each with the issuer it is bound to.
    pub fn keys(&self) -> impl Iterator<Item = (&Jwk, &IssuerPattern)> {
        self.keys.iter().map(|k| (&k.jwk, &k.binding))
    }

    /// Keys of the set that were refused, with why.
    pub fn rejected(&self) -> &[RejectedKey] {
        &self.rejected
    }
}

/// The key a token resolved to, and who vouches for it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Resolved<'a> {
    pub(crate) jwk: &'a Jwk,
    pub(crate) binding: &'a IssuerPattern,
    pub(crate) trusted: &'a IssuerPattern,
    pub(crate) thumbprint: &'a str,
}

/// Every trusted issuer with its keys. I/O-free: fill it from files, or let
/// [`KeyCache`](crate::KeyCache) fill it from metadata.
#[derive(Debug, Clone, Default)]
pub struct KeyStore {
    issuers: Vec<TrustedIssuer>,
}

impl KeyStore {
    /// An empty store: it trusts nothing.
    pub fn new() -> KeyStore {
        KeyStore::default()
    }

    /// Adds an issuer, replacing the keys of an issuer with the same identifier.
    pub fn insert(&mut self, issuer: TrustedIssuer) {
        match self
            .issuers
            .iter_mut()
            .find(|i| i.issuer.as_str() == issuer.issuer.as_str())
        {
            Some(slot) => *slot = issuer,
            None => self.issuers.push(issuer),
        }
    }

    /// The trusted issuers.
    pub fn issuers(&self) -> &[TrustedIssuer] {
        &self.issuers
    }

    /// The trusted issuers whose identifier accepts this `iss` and `tid`, or why none does.
    pub(crate) fn accepting(
        &self,
        iss: &str,
        tid: Option<&str>,
    ) -> Result<Vec<&TrustedIssuer>, Rejection> {
        let mut accepting = Vec::new();
        let mut nearest = Match::No;
        for issuer in &self.issuers {
            match issuer.issuer.matches(iss, tid) {
                Match::Yes => accepting.push(issuer),
                Match::No => {}
                other => nearest = other,
            }
        }
        if !accepting.is_empty() {
            return Ok(accepting);
        }
        Err(match nearest {
            Match::TenantMissing => Rejection::MissingClaim { name: "tid" },
            Match::TenantInvalid => Rejection::InvalidTenantId {
                tid: shorten(tid.unwrap_or_default()),
            },
            Match::TenantMismatch => Rejection::IssuerTenantMismatch {
                issuer: shorten(iss),
                tid: shorten(tid.unwrap_or_default()),
            },
            Match::Yes | Match::No => Rejection::UntrustedIssuer {
                issuer: shorten(iss),
            },
        })
    }

    /// Finds the key named `kid` among the keys bound to the token's issuer — and only there.
    ///
    /// A key of that name that exists only for another issuer is the Storm-0558 forgery and gets
    /// its own rejection, [`Rejection::KeyBelongsToAnotherIssuer`].
    pub(crate) fn resolve(
        &self,
        iss: &str,
        tid: Option<&str>,
        kid: &str,
    ) -> Result<Resolved<'_>, Rejection> {
        let accepting = self.accepting(iss, tid)?;
        let named = |k: &BoundKey| k.jwk.kid() == Some(kid) || k.jwk.x5t() == Some(kid);
        let mut found: Option<Resolved<'_>> = None;
        for issuer in &accepting {
            for key in issuer.keys.iter().filter(|k| named(k)) {
                if key.binding.matches(iss, tid) != Match::Yes {
                    continue;
                }
                match found {
                    // The same key published twice (e.g. by `common` and `organizations`).
                    Some(f)
                        if f.thumbprint == key.thumbprint
                            && f.jwk.algorithm() == key.jwk.algorithm() => {}
                    Some(_) => {
                        return Err(Rejection::AmbiguousKey { kid: shorten(kid) });
                    }
                    None => {
                        found = Some(Resolved {
                            jwk: &key.jwk,
                            binding: &key.binding,
                            trusted: &issuer.issuer,
                            thumbprint: &key.thumbprint,
                        });
                    }
                }
            }
        }
        if let Some(resolved) = found {
            return Ok(resolved);
        }
        let elsewhere = self
            .issuers
            .iter()
            .flat_map(|i| i.keys.iter())
            .find(|k| named(k));
        Err(match elsewhere {
            Some(key) => Rejection::KeyBelongsToAnotherIssuer {
                kid: shorten(kid),
                token_issuer: shorten(iss),
                key_issuer: shorten(key.binding.as_str()),
            },
            None => Rejection::UnknownKey {
                kid: shorten(kid),
                issuer: shorten(iss),
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TID: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";

    #[test]
    fn a_template_accepts_only_the_tenant_named_by_tid() {
        let p = IssuerPattern::new("https://login.microsoftonline.com/{tenantid}/v2.0");
        let iss = format!("https://login.microsoftonline.com/{TID}/v2.0");
        assert_eq!(p.matches(&iss, Some(TID)), Match::Yes);
        assert_eq!(
            p.matches(&iss, Some("9188040d-6c67-4c5b-b112-36a304b66dad")),
            Match::TenantMismatch
        );
        assert_eq!(p.matches(&iss, None), Match::TenantMissing);
        assert_eq!(p.matches(&iss, Some("contoso")), Match::TenantInvalid);
        assert_eq!(p.matches("https://evil.example/v2.0", Some(TID)), Match::No);
    }

    #[test]
    fn the_placeholder_is_matched_in_any_case() {
        let p = IssuerPattern::new("https://login.microsoftonline.com/{TenantId}/v2.0");
        assert!(p.is_template());
    }

    #[test]
    fn a_key_may_narrow_its_issuer_but_never_widen_it() {
        let template = IssuerPattern::new("https://login.microsoftonline.com/{tenantid}/v2.0");
        let consumer = IssuerPattern::new(
            "https://login.microsoftonline.com/9188040d-6c67-4c5b-b112-36a304b66dad/v2.0",
        );
        assert!(template.covers(&consumer));
        assert!(template.covers(&template));
        assert!(!consumer.covers(&template));
        assert!(!template.covers(&IssuerPattern::new("https://evil.example/x/v2.0")));
    }
}
