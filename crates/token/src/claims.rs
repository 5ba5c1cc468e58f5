//! The JWT claims set (RFC 7519 §4), with typed reads of the claims the validator checks.

use serde_json::{Map, Value};

use crate::encoding::kind;
use crate::error::Rejection;

/// A JWT claims set. From [`Verified::claims`](crate::Verified::claims) it is authenticated; from
/// [`Inspection`](crate::Inspection) it is not.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Claims {
    map: Map<String, Value>,
}

impl Claims {
    pub(crate) fn from_map(map: Map<String, Value>) -> Claims {
        Claims { map }
    }

    /// Any claim.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.map.get(name)
    }

    /// A claim that is a string; `None` when absent or of another type.
    pub fn string(&self, name: &str) -> Option<&str> {
        self.map.get(name).and_then(Value::as_str)
    }

    /// `iss`, the issuer.
    pub fn iss(&self) -> Option<&str> {
        self.string("iss")
    }

    /// `tid`, the Entra ID tenant.
    pub fn tid(&self) -> Option<&str> {
        self.string("tid")
    }

    /// `ver`, the Entra ID token version (`1.0` or `2.0`).
    pub fn ver(&self) -> Option<&str> {
        self.string("ver")
    }

    /// `sub`, the subject.
    pub fn sub(&self) -> Option<&str> {
        self.string("sub")
    }

    /// `aud` as a list: one string, or an array of strings (RFC 7519 §4.1.3). Non-strings are left
    /// out; [`Claims::check_types`] refuses them during validation.
    pub fn audiences(&self) -> Vec<&str> {
        match self.map.get("aud") {
            Some(Value::String(s)) => vec![s.as_str()],
            Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        }
    }

    /// A NumericDate claim (`exp`, `nbf`, `iat`) in whole unix seconds. Fractions are dropped.
    pub fn numeric_date(&self, name: &'static str) -> Result<Option<i64>, Rejection> {
        let Some(value) = self.map.get(name) else {
            return Ok(None);
        };
        let invalid = |reason: String| Rejection::InvalidClaim { name, reason };
        match value {
            Value::Number(n) => {
                if let Some(i) = n.as_i64() {
                    Ok(Some(i))
                } else {
                    // ±2^53 seconds is far beyond any real date and keeps the cast exact.
                    n.as_f64()
                        .filter(|f| f.is_finite() && f.abs() < 9.0e15)
                        .map(|f| Some(f.floor() as i64))
                        .ok_or_else(|| invalid(format!("{n} is not a usable unix time")))
                }
            }
            other => Err(invalid(format!("expected a number, found {}", kind(other)))),
        }
    }

    /// Refuses claims of the wrong JSON type: `iss`, `sub`, `tid`, `ver` must be strings, `aud` a
    /// string or an array of strings.
    pub(crate) fn check_types(&self) -> Result<(), Rejection> {
        for name in ["iss", "sub", "tid", "ver"] {
            if let Some(v) = self.map.get(name)
                && !v.is_string()
            {
                return Err(Rejection::InvalidClaim {
                    name: static_name(name),
                    reason: format!("expected a string, found {}", kind(v)),
                });
            }
        }
        match self.map.get("aud") {
            None | Some(Value::String(_)) => Ok(()),
            Some(Value::Array(items)) if items.iter().all(Value::is_string) => Ok(()),
            Some(other) => Err(Rejection::InvalidClaim {
                name: "aud",
                reason: format!(
                    "expected a string or an array of strings, found {}",
                    kind(other)
                ),
            }),
        }
    }

    /// Every claim.
    pub fn as_map(&self) -> &Map<String, Value> {
        &self.map
    }

    /// Every claim, owned.
    pub fn into_map(self) -> Map<String, Value> {
        self.map
    }
}

fn static_name(name: &str) -> &'static str {
    match name {
        "iss" => "iss",
        "sub" => "sub",
        "tid" => "tid",
        _ => "ver",
    }
}

/// True for a GUID written the way Entra ID writes tenant ids: 8-4-4-4-12 hex digits.
pub(crate) fn is_guid(s: &str) -> bool {
    s.len() == 36
        && s.bytes().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => b == b'-',
            _ => b.is_ascii_hexdigit(),
        })
}

/// The first path segment of an issuer URL when it is a GUID: the tenant the issuer names.
pub(crate) fn issuer_tenant(iss: &str) -> Option<&str> {
    let rest = iss.split_once("://")?.1;
    let segment = rest.split('/').nth(1)?;
    is_guid(segment).then_some(segment)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encoding::parse_object;

    fn claims(json: &str) -> Claims {
        Claims::from_map(parse_object(json.as_bytes()).unwrap())
    }

    #[test]
    fn audiences_read_a_string_or_an_array() {
        assert_eq!(claims(r#"{"aud":"a"}"#).audiences(), vec!["a"]);
        assert_eq!(claims(r#"{"aud":["a","b"]}"#).audiences(), vec!["a", "b"]);
        assert!(claims(r#"{"aud":[1]}"#).check_types().is_err());
    }

    #[test]
    fn numeric_dates_accept_integers_and_fractions_only() {
        assert_eq!(claims(r#"{"exp":10}"#).numeric_date("exp"), Ok(Some(10)));
        assert_eq!(claims(r#"{"exp":10.9}"#).numeric_date("exp"), Ok(Some(10)));
        assert_eq!(claims("{}").numeric_date("exp"), Ok(None));
        assert!(claims(r#"{"exp":"10"}"#).numeric_date("exp").is_err());
        assert!(claims(r#"{"exp":1e300}"#).numeric_date("exp").is_err());
    }

    #[test]
    fn issuer_tenant_reads_the_first_path_segment() {
        let tid = "72f988bf-86f1-41af-91ab-2d7cd011db47";
        assert_eq!(
            issuer_tenant(&format!("https://login.microsoftonline.com/{tid}/v2.0")),
            Some(tid)
        );
        assert_eq!(
            issuer_tenant(&format!("https://sts.windows.net/{tid}/")),
            Some(tid)
        );
        assert_eq!(issuer_tenant("https://accounts.google.com"), None);
        assert!(!is_guid("72f988bf86f141af91ab2d7cd011db47"));
    }
}
