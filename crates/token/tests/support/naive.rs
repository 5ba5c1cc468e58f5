//! The flawed validator Storm-0558 exploited, kept only to show the flaw: it looks the token's
//! `kid` up in one list of every trusted key and never asks which issuer published the key.
#![allow(dead_code, unreachable_pub)]

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use mailtrail_token::{Inspection, IssuerPattern, Jwk, JwkSet};

/// Every trusted issuer's keys in one list.
pub struct CommonKeyList {
    keys: Vec<Jwk>,
}

impl CommonKeyList {
    /// Merges the key set documents of all trusted issuers.
    pub fn from_documents(documents: &[&str]) -> Result<CommonKeyList, Box<dyn std::error::Error>> {
        let mut keys = Vec::new();
        for doc in documents {
            keys.extend(JwkSet::from_json(doc.as_bytes())?.keys().iter().cloned());
        }
        Ok(CommonKeyList { keys })
    }

    /// Signature by any listed key, a trusted-looking issuer, the audience, not expired: accepted.
    /// Returns the token's `upn`.
    pub fn validate(
        &self,
        token: &str,
        trusted_issuers: &[&str],
        audience: &str,
        now: i64,
    ) -> Result<String, String> {
        let decoded = Inspection::inspect(token, now, None).map_err(|e| e.to_string())?;
        let kid = decoded.header().kid().ok_or("no kid")?;
        let key = self
            .keys
            .iter()
            .find(|k| k.kid() == Some(kid))
            .ok_or("unknown kid")?;
        let (signing_input, signature) = token.rsplit_once('.').ok_or("not a JWS")?;
        let signature = URL_SAFE_NO_PAD
            .decode(signature)
            .map_err(|e| e.to_string())?;
        key.key()
            .verify(signing_input.as_bytes(), &signature)
            .map_err(|e| e.to_string())?;
        let claims = decoded.claims();
        let iss = claims.iss().ok_or("no iss")?;
        let issuer_ok = trusted_issuers
            .iter()
            .any(|t| IssuerPattern::new(t).as_str() == iss || template_fits(t, iss));
        if !issuer_ok {
            return Err(format!("untrusted issuer {iss}"));
        }
        if !claims.audiences().contains(&audience) {
            return Err("wrong audience".into());
        }
        if claims
            .numeric_date("exp")
            .ok()
            .flatten()
            .is_none_or(|exp| exp <= now)
        {
            return Err("expired".into());
        }
        Ok(claims.string("upn").unwrap_or("?").to_owned())
    }
}

/// `{tenantid}` stands for any tenant — the multi-tenant check done loosely, as it often was.
fn template_fits(template: &str, iss: &str) -> bool {
    match template.split_once("{tenantid}") {
        Some((prefix, suffix)) => iss.starts_with(prefix) && iss.ends_with(suffix),
        None => false,
    }
}
