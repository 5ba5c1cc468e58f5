//! Canonical base64url and duplicate-free JSON: the two encodings a JWS is made of.

use std::cell::RefCell;
use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

/// Decodes unpadded base64url and refuses anything non-canonical: padding, whitespace, characters
/// outside the URL-safe alphabet, and non-zero unused trailing bits (so that one value has exactly
/// one encoding and a modified signature cannot decode to the same bytes).
pub(crate) fn b64url_decode(s: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(s).ok()
}

/// Encodes bytes as unpadded base64url.
pub(crate) fn b64url_encode(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Decodes the padded standard base64 that `x5c` uses (RFC 7517 §4.7).
pub(crate) fn b64_std_decode(s: &str) -> Option<Vec<u8>> {
    STANDARD.decode(s).ok()
}

/// Why a JSON document was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum JsonError {
    /// A member name appears twice in one object (at any depth).
    Duplicate(String),
    /// Not JSON, or not an object at the top.
    Invalid(String),
}

/// Parses a JSON object, refusing duplicate member names at any depth.
///
/// serde_json keeps the last of two equal names; two parsers that pick differently (one keeps the
/// first) read different claims from the same bytes, so RFC 7519 §4 lets a validator reject them,
/// and we do.
pub(crate) fn parse_object(bytes: &[u8]) -> Result<Map<String, Value>, JsonError> {
    let duplicate = RefCell::new(None);
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let parsed = StrictSeed {
        duplicate: &duplicate,
    }
    .deserialize(&mut de)
    .and_then(|v| de.end().map(|()| v));
    let value = match (parsed, duplicate.into_inner()) {
        (_, Some(name)) => return Err(JsonError::Duplicate(name)),
        (Err(e), None) => return Err(JsonError::Invalid(e.to_string())),
        (Ok(v), None) => v,
    };
    match value {
        Value::Object(map) => Ok(map),
        other => Err(JsonError::Invalid(format!(
            "expected an object, found {}",
            kind(&other)
        ))),
    }
}

/// Names a JSON value's type for messages.
pub(crate) fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Deserializes a `serde_json::Value`, failing on a repeated member name and recording it.
#[derive(Clone, Copy)]
struct StrictSeed<'a> {
    duplicate: &'a RefCell<Option<String>>,
}

impl<'de> DeserializeSeed<'de> for StrictSeed<'_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for StrictSeed<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut out = Vec::new();
        while let Some(v) = seq.next_element_seed(self)? {
            out.push(v);
        }
        Ok(Value::Array(out))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if out.contains_key(&key) {
                *self.duplicate.borrow_mut() = Some(key);
                return Err(de::Error::custom("duplicate member"));
            }
            let v = map.next_value_seed(self)?;
            out.insert(key, v);
        }
        Ok(Value::Object(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_object_refuses_duplicates_at_any_depth() {
        assert_eq!(
            parse_object(br#"{"alg":"RS256","alg":"none"}"#),
            Err(JsonError::Duplicate("alg".into()))
        );
        assert_eq!(
            parse_object(br#"{"a":{"b":1,"b":2}}"#),
            Err(JsonError::Duplicate("b".into()))
        );
        assert!(parse_object(br#"{"a":[{"b":1},{"b":2}]}"#).is_ok());
    }

    #[test]
    fn parse_object_refuses_non_objects_and_trailing_bytes() {
        assert!(matches!(parse_object(b"[1]"), Err(JsonError::Invalid(_))));
        assert!(matches!(parse_object(b"{} x"), Err(JsonError::Invalid(_))));
        assert!(matches!(parse_object(b""), Err(JsonError::Invalid(_))));
    }

    #[test]
    fn base64url_is_canonical_only() {
        assert_eq!(b64url_decode("Zm9v").as_deref(), Some(&b"foo"[..]));
        assert_eq!(b64url_decode("Zm9vYg==").as_deref(), None, "padding");
        assert_eq!(
            b64url_decode("Zm9v+/").as_deref(),
            None,
            "standard alphabet"
        );
        assert_eq!(b64url_decode(" Zm9v").as_deref(), None, "whitespace");
        // "AB" encodes one byte with four unused bits set: not canonical.
        assert_eq!(b64url_decode("AB"), None);
        assert_eq!(b64url_decode("AA").as_deref(), Some(&[0u8][..]));
    }
}
