//! Reading a captured token without trusting it, and naming what forgeries look like.

use serde::Serialize;

use crate::algorithm::Algorithm;
use crate::claims::{Claims, is_guid, issuer_tenant};
use crate::error::{Part, Rejection, shorten};
use crate::jwk::JwkSet;
use crate::jws::{Compact, DEFAULT_MAX_TOKEN_BYTES, Header, object};
use crate::store::{IssuerPattern, Match};

use mailtrail_event::MSA_CONSUMER_TENANT_ID as MSA_TENANT_ID;

/// Lifetime above which a token is unusual: Entra ID issues access tokens for 60–90 minutes.
const LONG_LIFETIME_SECS: i64 = 2 * 3600;
/// Lifetime no Entra ID token reaches: continuous access evaluation (CAE) tokens last up to 28 h.
const IMPOSSIBLE_LIFETIME_SECS: i64 = 28 * 3600;
/// Slack before an `iat` or `nbf` counts as "in the future".
const SKEW_SECS: i64 = 300;

/// How much a finding matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// What a forgery looks like, or a token no validator should accept.
    High,
    /// Unusual for Entra ID; worth a look.
    Medium,
    /// Context.
    Info,
}

/// One thing `inspect` noticed about a token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// How much it matters.
    pub severity: Severity,
    /// A stable name (`issuer-tenant-mismatch`, `consumer-key`, …).
    pub code: &'static str,
    /// What was seen, in words.
    pub message: String,
}

/// A token decoded without verification, with [`Finding`]s. Nothing in it is authenticated.
#[derive(Debug, Clone)]
pub struct Inspection {
    header: Header,
    claims: Claims,
    signature_len: usize,
    findings: Vec<Finding>,
}

impl Inspection {
    /// Decodes `token` (signature not checked) and looks for what Storm-0558-style forgeries look
    /// like as of `now` (unix seconds). With `keys`, also says whether the token's key is in that
    /// set and which issuer the set binds it to.
    pub fn inspect(token: &str, now: i64, keys: Option<&JwkSet>) -> Result<Inspection, Rejection> {
        let compact = Compact::split(token, DEFAULT_MAX_TOKEN_BYTES, false)?;
        let claims = Claims::from_map(object(&compact.payload, Part::Payload)?);
        let mut inspection = Inspection {
            header: compact.header,
            claims,
            signature_len: compact.signature.len(),
            findings: Vec::new(),
        };
        inspection.check_header();
        inspection.check_issuer();
        inspection.check_audience_and_version();
        inspection.check_times(now);
        if let Some(keys) = keys {
            inspection.check_key(keys);
        }
        inspection.findings.sort_by_key(|f| f.severity);
        Ok(inspection)
    }

    /// The header, unverified.
    pub fn header(&self) -> &Header {
        &self.header
    }

    /// The claims, unverified.
    pub fn claims(&self) -> &Claims {
        &self.claims
    }

    /// Length of the signature in bytes (0 for an unsigned token).
    pub fn signature_len(&self) -> usize {
        self.signature_len
    }

    /// What was noticed, most severe first.
    pub fn findings(&self) -> &[Finding] {
        &self.findings
    }

    fn flag(&mut self, severity: Severity, code: &'static str, message: String) {
        self.findings.push(Finding {
            severity,
            code,
            message,
        });
    }

    fn check_header(&mut self) {
        let alg = self.header.alg().to_owned();
        match Algorithm::from_header(&alg) {
            Ok(_) => {}
            Err(Rejection::AlgNone) => self.flag(
                Severity::High,
                "alg-none",
                "alg is \"none\": the token is unsigned".into(),
            ),
            Err(Rejection::SymmetricAlgorithm { .. }) => self.flag(
                Severity::High,
                "alg-hmac",
                format!(
                    "alg is {}: Entra ID never signs with HMAC; this is the algorithm-confusion forgery",
                    shorten(&alg)
                ),
            ),
            Err(_) => self.flag(
                Severity::Medium,
                "alg-unsupported",
                format!("alg {:?} is not a signature algorithm Entra ID uses", shorten(&alg)),
            ),
        }
        if self.signature_len == 0 && alg != "none" {
            self.flag(
                Severity::High,
                "signature-missing",
                "the signature is empty".into(),
            );
        }
        let pointers = self.header.key_pointers();
        if !pointers.is_empty() {
            self.flag(
                Severity::High,
                "key-pointer-header",
                format!(
                    "header carries {}: the token points at its own key; a validator must ignore it",
                    pointers.join(", ")
                ),
            );
        }
        if self.header.as_map().contains_key("crit") {
            self.flag(
                Severity::Medium,
                "crit",
                "header lists critical extensions; Entra ID tokens have none".into(),
            );
        }
        if self.header.key_id().is_none() {
            self.flag(
                Severity::Medium,
                "kid-missing",
                "header names no key (no kid, no x5t)".into(),
            );
        }
    }

    fn check_issuer(&mut self) {
        let Some(iss) = self.claims.iss().map(str::to_owned) else {
            self.flag(Severity::High, "iss-missing", "no issuer (iss)".into());
            return;
        };
        let tid = self.claims.tid().map(str::to_owned);
        let iss_tenant = issuer_tenant(&iss).map(str::to_owned);
        if let Some(tid) = &tid
            && !is_guid(tid)
        {
            self.flag(
                Severity::Medium,
                "tid-format",
                format!("tenant id {:?} is not a GUID", shorten(tid)),
            );
        }
        if let (Some(tid), Some(tenant)) = (&tid, &iss_tenant)
            && tid != tenant
        {
            self.flag(
                Severity::High,
                "issuer-tenant-mismatch",
                format!(
                    "issuer names tenant {} but tid is {}: a token minted for one tenant dressed up as another",
                    shorten(tenant),
                    shorten(tid)
                ),
            );
        }
        let consumer_iss = iss_tenant.as_deref() == Some(MSA_TENANT_ID);
        let consumer_tid = tid.as_deref() == Some(MSA_TENANT_ID);
        if consumer_iss || consumer_tid {
            self.flag(
                Severity::Medium,
                "consumer-tenant",
                "consumer (MSA) tenant 9188040d-…: such a token must never open an enterprise mailbox"
                    .into(),
            );
        }
        if is_microsoft(&iss) && tid.is_none() {
            self.flag(
                Severity::Medium,
                "tid-missing",
                "a Microsoft issuer without a tenant id (tid)".into(),
            );
        }
    }

    fn check_audience_and_version(&mut self) {
        let audiences = self.claims.audiences();
        match audiences.len() {
            0 => self.flag(Severity::High, "aud-missing", "no audience (aud)".into()),
            1 => {}
            n => self.flag(
                Severity::Medium,
                "aud-multiple",
                format!("{n} audiences; Entra ID access tokens name one"),
            ),
        }
        let Some(iss) = self.claims.iss().map(str::to_owned) else {
            return;
        };
        if !is_microsoft(&iss) {
            return;
        }
        match self.claims.ver().map(str::to_owned) {
            None => self.flag(
                Severity::Medium,
                "ver-missing",
                "a Microsoft issuer without a token version (ver)".into(),
            ),
            Some(ver) if ver != "1.0" && ver != "2.0" => self.flag(
                Severity::Medium,
                "ver-unusual",
                format!(
                    "token version {:?}; Entra ID issues 1.0 and 2.0",
                    shorten(&ver)
                ),
            ),
            Some(ver) => {
                let v1_issuer = iss.starts_with("https://sts.windows.net/");
                let v2_issuer = iss.ends_with("/v2.0");
                if (ver == "2.0" && v1_issuer) || (ver == "1.0" && v2_issuer) {
                    self.flag(
                        Severity::Medium,
                        "ver-issuer-mismatch",
                        format!("version {ver} with issuer {}: Entra ID pairs v1 tokens with sts.windows.net and v2 with …/v2.0", shorten(&iss)),
                    );
                }
            }
        }
    }

    fn check_times(&mut self, now: i64) {
        let date = |name| self.claims.numeric_date(name).ok().flatten();
        let (exp, nbf, iat) = (date("exp"), date("nbf"), date("iat"));
        for name in ["exp", "nbf", "iat"] {
            if self.claims.numeric_date(name).is_err() {
                self.flag(
                    Severity::High,
                    "time-invalid",
                    format!("{name} is not a unix time"),
                );
            }
        }
        let Some(exp) = exp else {
            if self.claims.get("exp").is_none() {
                self.flag(
                    Severity::High,
                    "exp-missing",
                    "no expiry (exp): valid forever".into(),
                );
            }
            return;
        };
        if let Some(iat) = iat
            && iat > now + SKEW_SECS
        {
            self.flag(
                Severity::High,
                "issued-in-future",
                format!("issued {}s in the future", iat - now),
            );
        }
        if let Some(nbf) = nbf
            && nbf > now + SKEW_SECS
        {
            self.flag(
                Severity::Medium,
                "nbf-in-future",
                format!("not valid for another {}s", nbf - now),
            );
        }
        if let Some(start) = nbf.or(iat) {
            let lifetime = exp.saturating_sub(start);
            if lifetime > IMPOSSIBLE_LIFETIME_SECS {
                self.flag(
                    Severity::High,
                    "lifetime-long",
                    format!(
                        "lifetime {}; no Entra ID token lives over 28 h",
                        human(lifetime)
                    ),
                );
            } else if lifetime > LONG_LIFETIME_SECS {
                self.flag(
                    Severity::Medium,
                    "lifetime-long",
                    format!(
                        "lifetime {}; Entra ID access tokens last 60–90 min (up to 28 h with CAE)",
                        human(lifetime)
                    ),
                );
            } else if lifetime <= 0 {
                self.flag(
                    Severity::Medium,
                    "lifetime-negative",
                    "expires before it becomes valid".into(),
                );
            }
        }
        if exp <= now {
            self.flag(
                Severity::Info,
                "expired",
                format!("expired {} ago", human(now - exp)),
            );
        }
    }

    fn check_key(&mut self, keys: &JwkSet) {
        let Some(kid) = self.header.key_id().map(str::to_owned) else {
            return;
        };
        let Some(jwk) = keys
            .find(&kid)
            .or_else(|| keys.keys().iter().find(|k| k.x5t() == Some(kid.as_str())))
        else {
            self.flag(
                Severity::High,
                "kid-unknown",
                format!("key {:?} is not in the expected key set", shorten(&kid)),
            );
            return;
        };
        if let Ok(alg) = Algorithm::from_header(self.header.alg())
            && alg != jwk.algorithm()
        {
            self.flag(
                Severity::High,
                "alg-key-mismatch",
                format!(
                    "alg {alg} but key {:?} is pinned to {}",
                    shorten(&kid),
                    jwk.algorithm()
                ),
            );
        }
        let (Some(key_issuer), Some(iss)) = (jwk.issuer(), self.claims.iss()) else {
            return;
        };
        let binding = IssuerPattern::new(key_issuer);
        if binding.matches(iss, self.claims.tid()) == Match::Yes {
            return;
        }
        let consumer_key = issuer_tenant(key_issuer) == Some(MSA_TENANT_ID);
        let (code, what) = if consumer_key {
            (
                "consumer-key",
                "a consumer (MSA) signing key on a token that claims another issuer — the Storm-0558 forgery",
            )
        } else {
            ("key-issuer-mismatch", "a key published for another issuer")
        };
        let message = format!(
            "key {:?} belongs to {:?}, token claims {:?}: {what}",
            shorten(&kid),
            shorten(key_issuer),
            shorten(iss)
        );
        self.flag(Severity::High, code, message);
    }
}

fn is_microsoft(iss: &str) -> bool {
    iss.starts_with("https://login.microsoftonline.com/")
        || iss.starts_with("https://sts.windows.net/")
}

/// `90 s`, `2 h 5 min`, `3 d 4 h`.
fn human(secs: i64) -> String {
    let s = secs.unsigned_abs();
    match s {
        0..60 => format!("{s} s"),
        60..3600 => format!("{} min", s / 60),
        3600..86_400 => format!("{} h {} min", s / 3600, s % 3600 / 60),
        _ => format!("{} d {} h", s / 86_400, s % 86_400 / 3600),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encoding::b64url_encode;

    fn token(header: &str, claims: &str) -> String {
        format!(
            "{}.{}.{}",
            b64url_encode(header.as_bytes()),
            b64url_encode(claims.as_bytes()),
            b64url_encode(b"sig")
        )
    }

    fn codes(i: &Inspection) -> Vec<&'static str> {
        i.findings().iter().map(|f| f.code).collect()
    }

    #[test]
    fn a_tenant_swapped_issuer_is_flagged_high() {
        let t = token(
            r#"{"alg":"RS256","kid":"k"}"#,
            &format!(
                r#"{{"iss":"https://login.microsoftonline.com/{MSA_TENANT_ID}/v2.0","tid":"72f988bf-86f1-41af-91ab-2d7cd011db47","aud":"a","ver":"2.0","iat":100,"exp":3700}}"#
            ),
        );
        let i = Inspection::inspect(&t, 200, None).unwrap();
        assert_eq!(i.findings()[0].severity, Severity::High);
        assert!(
            codes(&i).contains(&"issuer-tenant-mismatch"),
            "{:?}",
            codes(&i)
        );
        assert!(codes(&i).contains(&"consumer-tenant"));
    }

    #[test]
    fn unsigned_and_key_pointing_tokens_are_flagged() {
        let t = format!(
            "{}.{}.",
            b64url_encode(br#"{"alg":"none","jku":"https://evil.example/keys"}"#),
            b64url_encode(br#"{"iss":"x","aud":"a","exp":10}"#)
        );
        let i = Inspection::inspect(&t, 0, None).unwrap();
        assert!(codes(&i).contains(&"alg-none"));
        assert!(codes(&i).contains(&"key-pointer-header"));
        assert!(codes(&i).contains(&"kid-missing"));
    }

    #[test]
    fn lifetimes_and_future_issue_times_are_flagged() {
        let t = token(
            r#"{"alg":"RS256","kid":"k"}"#,
            r#"{"iss":"x","aud":"a","iat":100000,"exp":500000}"#,
        );
        let i = Inspection::inspect(&t, 1000, None).unwrap();
        assert!(codes(&i).contains(&"issued-in-future"));
        assert!(codes(&i).contains(&"lifetime-long"));
        assert_eq!(human(7500), "2 h 5 min");
    }
}
