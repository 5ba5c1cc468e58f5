//! The shapes values take in real exports: scalars that are numbers in one export and strings in
//! another, nested JSON that Sentinel serialises into strings, `{Name, Value}` lists, and the
//! PowerShell hashtable text (`@{Name=MailAccessType; Value=Bind}`) that Defender keeps.

use std::borrow::Cow;
use std::fmt;

use mailtrail_event::{Folder, MailItem, NameValue};
use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};
use serde_json::value::RawValue;

use crate::RecordErrorKind;

/// A JSON scalar, borrowed from the record where possible.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Scalar<'a> {
    Str(Cow<'a, str>),
    Int(i64),
    UInt(u64),
    Float(f64),
    Bool(bool),
}

impl<'a> Scalar<'a> {
    /// The value as text: strings trimmed (exports leave `\r\n` and spaces behind), numbers and
    /// booleans as JSON writes them. `None` when empty.
    pub(crate) fn text(&self) -> Option<Cow<'_, str>> {
        let s: Cow<'_, str> = match self {
            Scalar::Str(s) => Cow::Borrowed(s.trim()),
            Scalar::Int(n) => Cow::Owned(n.to_string()),
            Scalar::UInt(n) => Cow::Owned(n.to_string()),
            Scalar::Float(n) => Cow::Owned(n.to_string()),
            Scalar::Bool(b) => Cow::Borrowed(if *b { "true" } else { "false" }),
        };
        (!s.is_empty()).then_some(s)
    }

    /// The value as an integer, from a number or a numeric string.
    pub(crate) fn int(&self) -> Option<i64> {
        match self {
            Scalar::Int(n) => Some(*n),
            Scalar::UInt(n) => i64::try_from(*n).ok(),
            Scalar::Float(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Some(*f as i64),
            Scalar::Str(s) => s.trim().parse().ok(),
            _ => None,
        }
    }

    /// The value as a boolean, from `true`, `"True"`, `"false"`, `1`, `0`.
    pub(crate) fn bool(&self) -> Option<bool> {
        match self {
            Scalar::Bool(b) => Some(*b),
            Scalar::Int(n) => Some(*n != 0),
            Scalar::UInt(n) => Some(*n != 0),
            Scalar::Str(s) => parse_bool(s),
            Scalar::Float(_) => None,
        }
    }
}

/// `True`/`False` in any case, `1`/`0`.
pub(crate) fn parse_bool(s: &str) -> Option<bool> {
    let s = s.trim();
    if s.eq_ignore_ascii_case("true") || s == "1" {
        Some(true)
    } else if s.eq_ignore_ascii_case("false") || s == "0" {
        Some(false)
    } else {
        None
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Scalar<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = Scalar<'a>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string, number or boolean")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Scalar::Str(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Scalar::Str(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(Scalar::Str(Cow::Owned(v)))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
                Ok(Scalar::Int(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                Ok(Scalar::UInt(v))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
                Ok(Scalar::Float(v))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
                Ok(Scalar::Bool(v))
            }
        }
        d.deserialize_any(V(std::marker::PhantomData))
    }
}

/// The first of several optional scalars that has text.
pub(crate) fn first_text<'s>(candidates: &[&'s Option<Scalar<'_>>]) -> Option<Cow<'s, str>> {
    candidates
        .iter()
        .find_map(|c| c.as_ref().and_then(Scalar::text))
}

/// Owned text of the first candidate that has any.
pub(crate) fn text(candidates: &[&Option<Scalar<'_>>]) -> Option<String> {
    first_text(candidates).map(Cow::into_owned)
}

/// The JSON text a nested field holds: the field itself when it is an object or array, or the
/// content of the string when Sentinel or a CSV export serialised it. `None` for null and for empty
/// strings.
pub(crate) fn nested_json<'a>(
    raw: &'a RawValue,
    field: &'static str,
) -> Result<Option<Cow<'a, str>>, RecordErrorKind> {
    let text = raw.get().trim_start();
    match text.as_bytes().first() {
        Some(b'"') => {
            let s: Cow<'a, str> = serde_json::from_str(raw.get()).map_err(|e| nested(field, &e))?;
            let t = s.trim();
            if t.is_empty() {
                Ok(None)
            } else if t.len() == s.len() {
                Ok(Some(s))
            } else {
                Ok(Some(Cow::Owned(t.to_owned())))
            }
        }
        Some(b'n') if text == "null" => Ok(None),
        _ => Ok(Some(Cow::Borrowed(raw.get()))),
    }
}

pub(crate) fn nested(field: &'static str, e: &dyn fmt::Display) -> RecordErrorKind {
    RecordErrorKind::Nested {
        field,
        message: e.to_string(),
    }
}

/// A JSON value as text: a string's content, anything else (numbers, booleans, objects) as the JSON
/// text the record holds. `null` is empty.
fn value_text(raw: &RawValue) -> String {
    let t = raw.get().trim();
    if t.len() >= 2 && t.starts_with('"') && !t.contains('\\') {
        // No escapes: the content is the text between the quotes.
        t[1..t.len() - 1].to_owned()
    } else if t.starts_with('"') {
        serde_json::from_str::<String>(t).unwrap_or_else(|_| t.to_owned())
    } else if t == "null" {
        String::new()
    } else {
        t.to_owned()
    }
}

/// An element of a list that holds objects, or PowerShell text standing for them; anything else
/// is skipped. Read in the same pass as the list.
enum Item<'a, T> {
    Object(T),
    Text(Cow<'a, str>),
    Other,
}

impl<'de: 'a, 'a, T: Deserialize<'de>> Deserialize<'de> for Item<'a, T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a, T>(std::marker::PhantomData<(&'a (), T)>);
        impl<'de: 'a, 'a, T: Deserialize<'de>> Visitor<'de> for V<'a, T> {
            type Value = Item<'a, T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object or a string")
            }
            fn visit_map<M: de::MapAccess<'de>>(self, map: M) -> Result<Self::Value, M::Error> {
                T::deserialize(de::value::MapAccessDeserializer::new(map)).map(Item::Object)
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Item::Text(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Item::Text(Cow::Owned(v.to_owned())))
            }
            fn visit_seq<S: de::SeqAccess<'de>>(self, mut seq: S) -> Result<Self::Value, S::Error> {
                while seq.next_element::<de::IgnoredAny>()?.is_some() {}
                Ok(Item::Other)
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
                Ok(Item::Other)
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
                Ok(Item::Other)
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
                Ok(Item::Other)
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
                Ok(Item::Other)
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Item::Other)
            }
        }
        d.deserialize_any(V(std::marker::PhantomData))
    }
}

/// Reads the JSON array `json`, handing each element to `each` as it is read, so no intermediate
/// list is allocated.
fn for_each_in<'de, T: Deserialize<'de>, U>(
    json: &'de str,
    each: impl FnMut(T, &mut Vec<U>),
) -> serde_json::Result<Vec<U>> {
    struct Each<F, T, U>(F, std::marker::PhantomData<(T, U)>);
    impl<'de, T: Deserialize<'de>, U, F: FnMut(T, &mut Vec<U>)> Visitor<'de> for Each<F, T, U> {
        type Value = Vec<U>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a list")
        }
        fn visit_seq<S: de::SeqAccess<'de>>(mut self, mut seq: S) -> Result<Vec<U>, S::Error> {
            let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(64));
            while let Some(item) = seq.next_element::<T>()? {
                (self.0)(item, &mut out);
            }
            Ok(out)
        }
    }
    let mut de = serde_json::Deserializer::from_str(json);
    let out = de.deserialize_seq(Each(each, std::marker::PhantomData))?;
    de.end()?;
    Ok(out)
}

/// Like [`for_each_in`], for a field that holds a list or a single object; `None` when `json` is
/// neither.
fn for_each_of<'de, T: Deserialize<'de>, U>(
    json: &'de str,
    mut each: impl FnMut(T, &mut Vec<U>),
) -> Option<serde_json::Result<Vec<U>>> {
    match json.as_bytes().first()? {
        b'[' => Some(for_each_in(json, each)),
        b'{' => Some(serde_json::from_str(json).map(|one| {
            let mut out = Vec::with_capacity(1);
            each(one, &mut out);
            out
        })),
        _ => None,
    }
}

/// One `{Name, Value}` entry as the UAL writes it, with the spellings Microsoft uses across
/// workloads (`ModifiedProperties` have `NewValue`/`OldValue` instead of `Value`).
#[derive(Deserialize)]
struct Entry<'a> {
    #[serde(rename = "Name", alias = "name", default, borrow)]
    name: Option<Scalar<'a>>,
    #[serde(rename = "Value", alias = "value", default, borrow)]
    value: Option<&'a RawValue>,
    #[serde(rename = "NewValue", alias = "newValue", default, borrow)]
    new_value: Option<&'a RawValue>,
}

/// Reads a `Parameters` / `OperationProperties` / `ExtendedProperties` / `ModifiedProperties` list:
/// a JSON array of `{Name, Value}` objects or PowerShell hashtable strings, possibly itself
/// serialised into a string. Values that are not strings are kept as their JSON text; for
/// `ModifiedProperties` the value is `NewValue`.
pub(crate) fn name_values(
    raw: Option<&RawValue>,
    field: &'static str,
) -> Result<Vec<NameValue>, RecordErrorKind> {
    let Some(raw) = raw else {
        return Ok(Vec::new());
    };
    let Some(json) = nested_json(raw, field)? else {
        return Ok(Vec::new());
    };
    if json.starts_with("@{") {
        return Ok(ps_entry(&json).into_iter().collect());
    }
    if !json.starts_with('[') {
        // Security & Compliance cmdlets (RecordType 18: New-ComplianceSearch, …) write their
        // `Parameters` as the command line itself: `-Name "Case 7" -ExchangeLocation All`.
        if json.starts_with('-') {
            return Ok(command_line_parameters(&json));
        }
        return Err(RecordErrorKind::Nested {
            field,
            message: "expected a list of {Name, Value} entries or cmdlet parameters".into(),
        });
    }
    for_each_in(&json, |item: Item<'_, Entry<'_>>, out| match item {
        Item::Object(e) => {
            let name = e.name.as_ref().and_then(Scalar::text).unwrap_or_default();
            let value = e.value.or(e.new_value).map(value_text).unwrap_or_default();
            out.push(NameValue {
                name: name.into_owned(),
                value,
            });
        }
        Item::Text(s) => out.extend(ps_entry(&s)),
        // Other element types carry no name; they stay in the raw record.
        Item::Other => {}
    })
    .map_err(|e| nested(field, &e))
}

/// Splits a PowerShell command line's parameters: `-Name "a b" -Force -Locations 'x','y'` gives
/// `Name = a b`, `Force = True`, `Locations = x,y`. `-Name:value` is accepted too.
fn command_line_parameters(s: &str) -> Vec<NameValue> {
    let mut tokens = Vec::new();
    let mut chars = s.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
            continue;
        }
        let mut token = String::new();
        let mut quoted = false;
        while let Some(&c) = chars.peek() {
            if c.is_whitespace() {
                break;
            }
            chars.next();
            if c == '"' || c == '\'' {
                quoted = true;
                for q in chars.by_ref() {
                    if q == c {
                        break;
                    }
                    token.push(q);
                }
            } else {
                token.push(c);
            }
        }
        tokens.push((token, quoted));
    }
    let mut out: Vec<NameValue> = Vec::new();
    for (token, quoted) in tokens {
        let is_name = !quoted
            && token.starts_with('-')
            && token[1..].starts_with(|c: char| c.is_ascii_alphabetic());
        if is_name {
            let body = &token[1..];
            let (name, value) = match body.split_once(':') {
                Some((n, v)) => (n, v.trim_start_matches('$').to_owned()),
                None => (body, String::new()),
            };
            out.push(NameValue {
                name: name.to_owned(),
                value,
            });
        } else if let Some(last) = out.last_mut() {
            if !last.value.is_empty() {
                last.value.push(' ');
            }
            last.value.push_str(&token);
        }
    }
    for nv in &mut out {
        if nv.value.is_empty() {
            nv.value = "True".into();
        } else if nv.value.eq_ignore_ascii_case("true") || nv.value.eq_ignore_ascii_case("false") {
            nv.value = if nv.value.eq_ignore_ascii_case("true") {
                "True"
            } else {
                "False"
            }
            .into();
        }
    }
    out
}

/// A PowerShell-serialised `{Name, Value}` entry: `@{Value=Bind; Name=MailAccessType}`.
fn ps_entry(s: &str) -> Option<NameValue> {
    let pairs = ps_hashtable(s)?;
    let get = |k: &str| ps_value(&pairs, k).map(str::to_owned);
    Some(NameValue {
        name: get("Name")?,
        value: get("Value").or_else(|| get("NewValue")).unwrap_or_default(),
    })
}

/// Splits PowerShell's `@{Key=value; Other=value}` text (what `[string]` of a hashtable or
/// PSCustomObject gives) into pairs. Values are not quoted, so a `;` only separates entries when the
/// next thing is `Key=`.
pub(crate) fn ps_hashtable(s: &str) -> Option<Vec<(&str, &str)>> {
    let inner = s.trim().strip_prefix("@{")?.strip_suffix('}')?;
    let mut out = Vec::new();
    let mut rest = inner;
    while !rest.trim().is_empty() {
        let eq = rest.find('=')?;
        let key = rest[..eq].trim();
        let after = &rest[eq + 1..];
        let end = next_separator(after);
        out.push((key, after[..end].trim()));
        rest = after.get(end + 1..).unwrap_or("");
    }
    Some(out)
}

/// The value of `key` among [`ps_hashtable`]'s pairs, the key compared without letter case.
fn ps_value<'a>(pairs: &[(&str, &'a str)], key: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(key))
        .map(|(_, v)| *v)
}

/// Like [`ps_value`], `None` when the value is empty.
fn ps_text(pairs: &[(&str, &str)], key: &str) -> Option<String> {
    ps_value(pairs, key)
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
}

/// The index of the `;` that starts the next `Key=` entry, or the length of `s`.
fn next_separator(s: &str) -> usize {
    for (i, _) in s.match_indices(';') {
        let next = s[i + 1..].trim_start();
        let key_len = next
            .bytes()
            .take_while(|b| b.is_ascii_alphanumeric() || *b == b'_' || *b == b'.')
            .count();
        if key_len > 0 && next.as_bytes().get(key_len) == Some(&b'=') {
            return i;
        }
    }
    s.len()
}

#[derive(Deserialize)]
struct RawFolder<'a> {
    #[serde(rename = "Id", default, borrow)]
    id: Option<Scalar<'a>>,
    #[serde(rename = "Path", default, borrow)]
    path: Option<Scalar<'a>>,
    #[serde(rename = "FolderItems", default, borrow)]
    items: Option<Vec<RawItem<'a>>>,
}

#[derive(Deserialize)]
struct RawItem<'a> {
    #[serde(rename = "InternetMessageId", default, borrow)]
    internet_message_id: Option<Scalar<'a>>,
}

/// Reads `Folders` of `MailItemsAccessed`: an array of `{Id, Path, FolderItems: [{InternetMessageId}]}`,
/// possibly serialised into a string (Sentinel), or of PowerShell hashtable strings (Defender), in
/// which the message ids were already lost as `FolderItems=System.Object[]`.
pub(crate) fn folders(raw: Option<&RawValue>) -> Result<Vec<Folder>, RecordErrorKind> {
    const FIELD: &str = "Folders";
    let Some(raw) = raw else {
        return Ok(Vec::new());
    };
    let Some(json) = nested_json(raw, FIELD)? else {
        return Ok(Vec::new());
    };
    if json.starts_with("@{") {
        return Ok(ps_folder(&json).into_iter().collect());
    }
    let folder = |item: Item<'_, RawFolder<'_>>, out: &mut Vec<Folder>| match item {
        Item::Object(f) => out.push(Folder {
            id: f.id.as_ref().and_then(Scalar::text).map(Cow::into_owned),
            path: f.path.as_ref().and_then(Scalar::text).map(Cow::into_owned),
            message_ids: f
                .items
                .unwrap_or_default()
                .iter()
                .filter_map(|i| i.internet_message_id.as_ref()?.text())
                .map(Cow::into_owned)
                .collect(),
        }),
        Item::Text(s) => out.extend(ps_folder(&s)),
        Item::Other => {}
    };
    match for_each_of(&json, folder) {
        Some(read) => read.map_err(|e| nested(FIELD, &e)),
        None => Err(RecordErrorKind::Nested {
            field: FIELD,
            message: "expected a list of folders".into(),
        }),
    }
}

fn ps_folder(s: &str) -> Option<Folder> {
    let pairs = ps_hashtable(s)?;
    Some(Folder {
        id: ps_text(&pairs, "Id"),
        path: ps_text(&pairs, "Path"),
        message_ids: Vec::new(),
    })
}

#[derive(Deserialize)]
struct RawMailItem<'a> {
    #[serde(rename = "InternetMessageId", default, borrow)]
    internet_message_id: Option<Scalar<'a>>,
    #[serde(rename = "Subject", default, borrow)]
    subject: Option<Scalar<'a>>,
    #[serde(rename = "ParentFolder", default, borrow)]
    parent_folder: Option<Item<'a, RawParentFolder<'a>>>,
}

#[derive(Deserialize)]
struct RawParentFolder<'a> {
    #[serde(rename = "Path", default, borrow)]
    path: Option<Scalar<'a>>,
}

/// Reads the messages of `Item` (one) and `AffectedItems` (a list) of a mailbox operation:
/// `{InternetMessageId, Subject, ParentFolder: {Path}}` each, possibly serialised into a string
/// (Sentinel) or written as PowerShell hashtable strings (Defender).
///
/// These only add to what the record says, so a shape not known here does not reject the record:
/// the record is evidence whatever its items look like. What could not be read is said in
/// `unread`, one entry per field.
pub(crate) fn mail_items(
    item: Option<&RawValue>,
    affected: Option<&RawValue>,
    unread: &mut Vec<String>,
) -> Vec<MailItem> {
    let mut out = Vec::new();
    for (field, raw) in [("Item", item), ("AffectedItems", affected)] {
        let Some(raw) = raw else { continue };
        let json = match nested_json(raw, field) {
            Ok(Some(json)) => json,
            Ok(None) => continue,
            Err(e) => {
                unread.push(e.to_string());
                continue;
            }
        };
        let mut others = 0;
        let one = |item: Item<'_, RawMailItem<'_>>, out: &mut Vec<MailItem>| {
            let read = match item {
                Item::Object(i) => Some(MailItem {
                    internet_message_id: text(&[&i.internet_message_id]),
                    subject: text(&[&i.subject]),
                    folder: match i.parent_folder {
                        Some(Item::Object(f)) => text(&[&f.path]),
                        _ => None,
                    },
                }),
                Item::Text(s) => ps_mail_item(&s),
                Item::Other => None,
            };
            match read {
                Some(m) => out.push(m),
                None => others += 1,
            }
        };
        let problem = match for_each_of(&json, one) {
            Some(Ok(read)) => {
                out.extend(read);
                None
            }
            Some(Err(e)) => Some(e.to_string()),
            None => match ps_mail_item(&json) {
                Some(m) => {
                    out.push(m);
                    None
                }
                None => Some("neither a message nor a list of messages".to_owned()),
            },
        };
        if let Some(why) = problem {
            unread.push(format!("field {field}: {why}"));
        } else if others > 0 {
            unread.push(format!(
                "field {field}: entries that are not messages ({others})"
            ));
        }
    }
    out
}

/// A Defender `@{Id=…; InternetMessageId=…; Subject=…; ParentFolder=…}` item; its folder is a
/// nested table there, already flattened to text, so it is left out.
fn ps_mail_item(s: &str) -> Option<MailItem> {
    let pairs = ps_hashtable(s)?;
    Some(MailItem {
        internet_message_id: ps_text(&pairs, "InternetMessageId"),
        subject: ps_text(&pairs, "Subject"),
        folder: None,
    })
}

#[cfg(test)]
mod command_line_tests {
    use super::*;

    #[test]
    fn compliance_cmdlet_parameters_are_split() {
        let got = command_line_parameters(
            r#"-Name "Hold review 702" -ExchangeLocation All -Export -Force:$true -Query 'subject:"pay"'"#,
        );
        let pairs: Vec<(&str, &str)> = got
            .iter()
            .map(|n| (n.name.as_str(), n.value.as_str()))
            .collect();
        assert_eq!(
            pairs,
            [
                ("Name", "Hold review 702"),
                ("ExchangeLocation", "All"),
                ("Export", "True"),
                ("Force", "True"),
                ("Query", r#"subject:"pay""#),
            ]
        );
    }

    #[test]
    fn a_negative_number_is_a_value_not_a_name() {
        let got = command_line_parameters("-Offset -5 -Name x");
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].value, "-5");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(s: &str) -> Box<RawValue> {
        RawValue::from_string(s.to_owned()).unwrap()
    }

    #[test]
    fn scalars_read_numbers_strings_and_booleans() {
        let s: Scalar<'_> = serde_json::from_str("\" 50 \"").unwrap();
        assert_eq!(s.int(), Some(50));
        assert_eq!(s.text().as_deref(), Some("50"));
        let b: Scalar<'_> = serde_json::from_str("\"False\"").unwrap();
        assert_eq!(b.bool(), Some(false));
        let n: Scalar<'_> = serde_json::from_str("7").unwrap();
        assert_eq!(n.text().as_deref(), Some("7"));
        assert!(serde_json::from_str::<Scalar<'_>>("[1]").is_err());
    }

    #[test]
    fn name_values_accept_objects_strings_and_powershell_text() {
        let list = raw(
            r#"[{"Name":"Identity","Value":"rule1"},{"Name":"Enabled","Value":true},{"Name":"Count","Value":3},"@{Value=Bind; Name=MailAccessType}"]"#,
        );
        let nv = name_values(Some(&list), "Parameters").unwrap();
        let pairs: Vec<_> = nv
            .iter()
            .map(|n| (n.name.as_str(), n.value.as_str()))
            .collect();
        assert_eq!(
            pairs,
            [
                ("Identity", "rule1"),
                ("Enabled", "true"),
                ("Count", "3"),
                ("MailAccessType", "Bind")
            ]
        );
    }

    #[test]
    fn name_values_read_lists_serialised_into_strings() {
        let list = raw(r#""[{\"Name\":\"MailAccessType\",\"Value\":\"Sync\"}]""#);
        let nv = name_values(Some(&list), "OperationProperties").unwrap();
        assert_eq!(nv[0].value, "Sync");
        assert!(name_values(Some(&raw("\"\"")), "X").unwrap().is_empty());
        assert!(name_values(Some(&raw("null")), "X").unwrap().is_empty());
        assert!(name_values(Some(&raw("\"[oops\"")), "X").is_err());
    }

    #[test]
    fn modified_properties_take_the_new_value() {
        let list =
            raw(r#"[{"Name":"ConsentAction.Permissions","NewValue":"Mail.Read","OldValue":""}]"#);
        let nv = name_values(Some(&list), "ModifiedProperties").unwrap();
        assert_eq!(nv[0].value, "Mail.Read");
    }

    #[test]
    fn powershell_values_may_hold_semicolons() {
        let pairs = ps_hashtable("@{Name=ForwardTo; Value=a@x.example;b@y.example}").unwrap();
        assert_eq!(
            pairs,
            [("Name", "ForwardTo"), ("Value", "a@x.example;b@y.example")]
        );
        assert_eq!(ps_hashtable("not a table"), None);
    }

    #[test]
    fn mail_items_read_every_shape() {
        let ids = |items: Vec<MailItem>| {
            items
                .into_iter()
                .map(|i| (i.internet_message_id, i.folder, i.subject))
                .collect::<Vec<_>>()
        };
        let some = |s: &str| Some(s.to_owned());
        let item = raw(
            r#"{"Id":"RgAA","InternetMessageId":"<s@x>","ParentFolder":{"Id":"LgAA","Path":"\\Sent Items"},"Subject":" Hi "}"#,
        );
        let affected = raw(
            r#"[{"InternetMessageId":"<a@x>","ParentFolder":{"Path":"\\Inbox"}},{"Subject":"draft"}]"#,
        );
        let mut unread = Vec::new();
        assert_eq!(
            ids(mail_items(Some(&item), Some(&affected), &mut unread)),
            [
                (some("<s@x>"), some("\\Sent Items"), some("Hi")),
                (some("<a@x>"), some("\\Inbox"), None),
                (None, None, some("draft")),
            ]
        );

        // Sentinel serialises the list into a string; Defender writes PowerShell tables.
        let sentinel = raw(r#""[{\"InternetMessageId\":\"<b@x>\"}]""#);
        let defender = raw(r#"["@{Id=RgAA; InternetMessageId=<c@x>; Subject=Invoice}"]"#);
        assert_eq!(
            ids(mail_items(Some(&sentinel), Some(&defender), &mut unread)),
            [
                (some("<b@x>"), None, None),
                (some("<c@x>"), None, some("Invoice")),
            ]
        );
        assert_eq!(unread, Vec::<String>::new());

        // Shapes not known here add nothing and reject nothing, but say what was left unread.
        for (odd, left_unread) in [
            (r#"7"#, true),
            (r#""not json""#, true),
            (r#"[1,"x",null]"#, true),
            (r#"{"ParentFolder":"\\Inbox"}"#, false),
            ("null", false),
        ] {
            let odd = raw(odd);
            let mut unread = Vec::new();
            assert!(
                mail_items(None, Some(&odd), &mut unread)
                    .iter()
                    .all(|i| i.internet_message_id.is_none() && i.folder.is_none()),
                "{}",
                odd.get()
            );
            assert_eq!(
                unread.len(),
                usize::from(left_unread),
                "{}: {unread:?}",
                odd.get()
            );
            assert!(
                unread.iter().all(|u| u.contains("AffectedItems")),
                "{unread:?}"
            );
        }
    }

    #[test]
    fn folders_read_every_shape() {
        let native = raw(
            r#"[{"Id":"LgAA","Path":"\\Inbox","FolderItems":[{"InternetMessageId":"<a@x>"},{"InternetMessageId":"<b@x>"}]}]"#,
        );
        let f = folders(Some(&native)).unwrap();
        assert_eq!(f[0].path.as_deref(), Some("\\Inbox"));
        assert_eq!(f[0].message_ids, ["<a@x>", "<b@x>"]);

        let ps = raw(r#"["@{Id=LgAA; Path=\\Sent Items; FolderItems=System.Object[]}"]"#);
        let f = folders(Some(&ps)).unwrap();
        assert_eq!(f[0].path.as_deref(), Some("\\Sent Items"));
        assert!(f[0].message_ids.is_empty());
    }
}
