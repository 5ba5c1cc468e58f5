//! Field lookup in the original record, for names the mapping table does not know.
//!
//! The record is whatever the export held: a UAL record, a Sentinel row whose dynamic columns are
//! JSON text, a Graph resource, an Azure Monitor record with its `properties` envelope. A dot path
//! is followed case-insensitively; keys that themselves contain dots (`DeviceDetail.trustType` as a
//! flat column, `ConsentContext.IsAdminConsent` as a property name) are matched whole; a string that
//! holds JSON is parsed and followed; in a list of `{Name, Value}` objects (or `{Name, NewValue,
//! OldValue}`, `{displayName, newValue, oldValue}`, `{key, value}`) a path segment selects the
//! entry by its name; any other list is followed member by member, and a field found in several
//! members is an array (any-member semantics). A structured value at the end of the path is
//! flattened to the scalars it contains, so `contains` searches it the way SigmaHQ rules expect.

use std::borrow::Cow;
use std::cell::OnceCell;

use rsigma_eval::EventValue;
use serde_json::Value;

use super::fields::{collapse, strip_prefix_ignore_case};

/// JSON nesting deeper than this is not followed (records are shallow; this bounds the work a
/// hostile record can cause).
const MAX_DEPTH: usize = 32;

/// The original record, split into its top-level fields without parsing them; each field is
/// parsed on first use. A rule that reads `DeviceDetail.isCompliant` costs a scan of the record
/// and a parse of `DeviceDetail`, not a tree of every value in it.
pub(crate) enum Record<'a> {
    /// Top-level fields borrowed from the record bytes.
    Lazy(Vec<Field<'a>>),
    /// A record whose keys need unescaping (rare): parsed whole.
    Full(Value),
}

/// One top-level field of a [`Record::Lazy`]: its key and the text of its value.
pub(crate) struct Field<'a> {
    key: &'a str,
    raw: &'a str,
    parsed: OnceCell<Option<Value>>,
}

impl<'a> Record<'a> {
    /// Splits a JSON object. `None` when the bytes are not a JSON object.
    pub(crate) fn parse(bytes: &'a [u8]) -> Option<Record<'a>> {
        let text = std::str::from_utf8(bytes).ok()?;
        match split_object(text) {
            Some(fields) => Some(Record::Lazy(
                fields
                    .into_iter()
                    .map(|(key, raw)| Field {
                        key,
                        raw,
                        parsed: OnceCell::new(),
                    })
                    .collect(),
            )),
            None => match serde_json::from_str::<Value>(text) {
                Ok(v @ Value::Object(_)) => Some(Record::Full(v)),
                _ => None,
            },
        }
    }

    /// Looks `path` up, trying it as written, then without (or with) the Azure Monitor
    /// `properties.` envelope.
    pub(crate) fn lookup(&self, path: &str) -> Option<EventValue<'_>> {
        match self {
            Record::Full(v) => lookup(v, path),
            Record::Lazy(fields) => {
                let mut out = Vec::new();
                walk_fields(fields, path, &mut out);
                if out.is_empty() {
                    match strip_prefix_ignore_case(path, "properties.") {
                        Some(rest) => walk_fields(fields, rest, &mut out),
                        None => {
                            if let Some(props) = fields
                                .iter()
                                .find(|f| f.key == "properties")
                                .and_then(Field::value)
                            {
                                walk(props, path, &mut out, MAX_DEPTH);
                            }
                        }
                    }
                }
                collapse(out)
            }
        }
    }

    /// Calls `visit` with every string value in the record (keyword search).
    pub(crate) fn visit_strings(&self, visit: &mut dyn FnMut(&str)) {
        match self {
            Record::Full(v) => visit_strings(v, visit, MAX_DEPTH),
            Record::Lazy(fields) => {
                for value in fields.iter().filter_map(Field::value) {
                    visit_strings(value, visit, MAX_DEPTH);
                }
            }
        }
    }
}

impl Field<'_> {
    /// The value, parsed on first use; `None` if its text is not JSON.
    fn value(&self) -> Option<&Value> {
        self.parsed
            .get_or_init(|| serde_json::from_str(self.raw).ok())
            .as_ref()
    }
}

fn walk_fields<'v>(fields: &'v [Field<'_>], path: &str, out: &mut Vec<EventValue<'v>>) {
    let first = path.as_bytes().first().map(u8::to_ascii_lowercase);
    for field in fields {
        // Most keys differ in their first letter: reject those without a full comparison.
        if field.key.as_bytes().first().map(u8::to_ascii_lowercase) != first {
            continue;
        }
        if let Some(rest) = after_segment(path, field.key)
            && let Some(value) = field.value()
        {
            walk(value, rest, out, MAX_DEPTH);
        }
    }
}

/// The top-level `(key, value text)` pairs of a JSON object, found by scanning for structure
/// without parsing or validating values (the reader has already parsed the record once; a value
/// that turns out not to be JSON simply fails to parse when asked for). `None` when the text is
/// not an object, or a key holds an escape (such records are parsed whole instead).
pub(crate) fn split_object(text: &str) -> Option<Vec<(&str, &str)>> {
    let b = text.as_bytes();
    let mut i = skip_ws(b, 0);
    if b.get(i) != Some(&b'{') {
        return None;
    }
    i = skip_ws(b, i + 1);
    let mut fields = Vec::with_capacity(48);
    if b.get(i) == Some(&b'}') {
        return Some(fields);
    }
    loop {
        if b.get(i) != Some(&b'"') {
            return None;
        }
        let key_end = string_end(b, i)?;
        let key = text.get(i + 1..key_end)?;
        if key.contains('\\') {
            return None;
        }
        i = skip_ws(b, key_end + 1);
        if b.get(i) != Some(&b':') {
            return None;
        }
        let start = skip_ws(b, i + 1);
        let end = value_end(b, start)?;
        fields.push((key, text.get(start..end)?));
        i = skip_ws(b, end);
        match b.get(i) {
            Some(b',') => i = skip_ws(b, i + 1),
            Some(b'}') => return Some(fields),
            _ => return None,
        }
    }
}

fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while b.get(i).is_some_and(u8::is_ascii_whitespace) {
        i += 1;
    }
    i
}

/// The index of the quote closing the string that opens at `open`.
fn string_end(b: &[u8], open: usize) -> Option<usize> {
    let mut i = open + 1;
    loop {
        i += memchr::memchr2(b'"', b'\\', b.get(i..)?)?;
        if b[i] == b'"' {
            return Some(i);
        }
        i += 2; // an escape: skip the backslash and the character it escapes
    }
}

/// The index just past the value that starts at `start`.
fn value_end(b: &[u8], start: usize) -> Option<usize> {
    match *b.get(start)? {
        b'"' => string_end(b, start).map(|e| e + 1),
        b'{' | b'[' => {
            let mut depth = 0usize;
            let mut i = start;
            loop {
                match *b.get(i)? {
                    b'"' => i = string_end(b, i)?,
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return Some(i + 1);
                        }
                    }
                    _ => {}
                }
                i += 1;
            }
        }
        _ => {
            let len = b[start..]
                .iter()
                .position(|c| matches!(c, b',' | b'}' | b']') || c.is_ascii_whitespace())
                .unwrap_or(b.len() - start);
            (len > 0).then_some(start + len)
        }
    }
}

/// Looks `path` up in `root`, trying it as written, then without (or with) the Azure Monitor
/// `properties.` envelope.
pub(crate) fn lookup<'v>(root: &'v Value, path: &str) -> Option<EventValue<'v>> {
    let mut out = Vec::new();
    walk(root, path, &mut out, MAX_DEPTH);
    if out.is_empty() {
        match strip_prefix_ignore_case(path, "properties.") {
            Some(rest) => walk(root, rest, &mut out, MAX_DEPTH),
            None => {
                if let Some(props) = root.get("properties") {
                    walk(props, path, &mut out, MAX_DEPTH);
                }
            }
        }
    }
    collapse(out)
}

fn walk<'v>(v: &'v Value, rest: &str, out: &mut Vec<EventValue<'v>>, depth: usize) {
    if depth == 0 {
        return;
    }
    if rest.is_empty() {
        leaf(v, out, depth);
        return;
    }
    match v {
        Value::Object(map) => {
            for (k, child) in map {
                if let Some(after) = after_segment(rest, k) {
                    walk(child, after, out, depth - 1);
                }
            }
        }
        Value::Array(items) => {
            for item in items {
                if let Some((entry_name, _)) = entry(item)
                    && let Some(after) = after_segment(rest, entry_name)
                {
                    if after.is_empty() {
                        if let Some((_, Some(value))) = entry(item) {
                            leaf(value, out, depth - 1);
                        }
                    } else {
                        walk(item, after, out, depth - 1);
                    }
                } else {
                    walk(item, rest, out, depth - 1);
                }
            }
        }
        Value::String(s) => {
            if let Some(nested) = json_in_string(s) {
                out.extend(walk_detached(&nested, rest, depth - 1));
            }
        }
        _ => {}
    }
}

/// [`walk`] over a value that does not outlive the call (JSON parsed out of a string).
fn walk_detached(v: &Value, rest: &str, depth: usize) -> Vec<EventValue<'static>> {
    let mut found = Vec::new();
    walk(v, rest, &mut found, depth);
    found.into_iter().map(into_owned).collect()
}

/// The rest of `path` after a leading `key` segment (matched case-insensitively, whole segments
/// only), or `None` when `path` does not start with `key`.
fn after_segment<'p>(path: &'p str, key: &str) -> Option<&'p str> {
    let rest = strip_prefix_ignore_case(path, key)?;
    if rest.is_empty() {
        Some(rest)
    } else {
        rest.strip_prefix('.')
    }
}

/// A `{Name, Value}`-style list entry: its name and its value (the new value for modified
/// properties).
fn entry(item: &Value) -> Option<(&str, Option<&Value>)> {
    let obj = item.as_object()?;
    let name = ["Name", "name", "displayName", "DisplayName", "key", "Key"]
        .iter()
        .find_map(|k| obj.get(*k).and_then(Value::as_str))?;
    let value = ["Value", "value", "NewValue", "newValue"]
        .iter()
        .find_map(|k| obj.get(*k));
    Some((name, value))
}

/// A value at the end of a path: scalars as they are, structures flattened to their scalars. An
/// empty list or object is its text (`[]`, `{}`), which is how Sentinel shows it and how SigmaHQ
/// rules match it (`NetworkLocationDetails: '[]'`).
fn leaf<'v>(v: &'v Value, out: &mut Vec<EventValue<'v>>, depth: usize) {
    match v {
        Value::Array(a) if a.is_empty() => out.push(EventValue::Str(Cow::Borrowed("[]"))),
        Value::Object(o) if o.is_empty() => out.push(EventValue::Str(Cow::Borrowed("{}"))),
        Value::Array(_) | Value::Object(_) => flatten(v, out, depth),
        other => out.push(EventValue::from(other)),
    }
}

fn flatten<'v>(v: &'v Value, out: &mut Vec<EventValue<'v>>, depth: usize) {
    if depth == 0 {
        return;
    }
    match v {
        Value::Array(items) => items.iter().for_each(|i| flatten(i, out, depth - 1)),
        Value::Object(map) => map.values().for_each(|i| flatten(i, out, depth - 1)),
        Value::Null => {}
        other => out.push(EventValue::from(other)),
    }
}

/// Sentinel and some Graph exports keep nested objects as JSON text.
fn json_in_string(s: &str) -> Option<Value> {
    let t = s.trim_start();
    if t.starts_with('{') || t.starts_with('[') {
        serde_json::from_str(t).ok()
    } else {
        None
    }
}

/// Detaches a value from the borrow it was found under.
pub(super) fn into_owned(v: EventValue<'_>) -> EventValue<'static> {
    match v {
        EventValue::Str(s) => EventValue::Str(Cow::Owned(s.into_owned())),
        EventValue::Int(n) => EventValue::Int(n),
        EventValue::Float(f) => EventValue::Float(f),
        EventValue::Bool(b) => EventValue::Bool(b),
        EventValue::Null => EventValue::Null,
        EventValue::Array(a) => EventValue::Array(a.into_iter().map(into_owned).collect()),
        EventValue::Map(m) => EventValue::Map(
            m.into_iter()
                .map(|(k, v)| (Cow::Owned(k.into_owned()), into_owned(v)))
                .collect(),
        ),
    }
}

/// Calls `visit` with every string in `v`.
fn visit_strings(v: &Value, visit: &mut dyn FnMut(&str), depth: usize) {
    if depth == 0 {
        return;
    }
    match v {
        Value::String(s) => visit(s),
        Value::Array(items) => items
            .iter()
            .for_each(|i| visit_strings(i, visit, depth - 1)),
        Value::Object(map) => map
            .values()
            .for_each(|i| visit_strings(i, visit, depth - 1)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn strings(v: Option<EventValue<'_>>) -> Vec<String> {
        fn push(v: &EventValue<'_>, out: &mut Vec<String>) {
            match v {
                EventValue::Array(a) => a.iter().for_each(|i| push(i, out)),
                other => out.extend(other.as_str().map(|s| s.into_owned())),
            }
        }
        let mut out = Vec::new();
        if let Some(v) = v {
            push(&v, &mut out);
        }
        out
    }

    #[test]
    fn paths_are_case_insensitive() {
        let rec = json!({"DeviceDetail": {"trustType": "Azure AD joined"}});
        assert_eq!(
            strings(lookup(&rec, "DeviceDetail.trusttype")),
            vec!["Azure AD joined"]
        );
        assert!(lookup(&rec, "DeviceDetail.deviceId").is_none());
    }

    #[test]
    fn the_properties_envelope_is_optional_both_ways() {
        let azure_monitor = json!({"properties": {"riskState": "atRisk"}});
        assert_eq!(strings(lookup(&azure_monitor, "RiskState")), vec!["atRisk"]);
        let graph = json!({"riskState": "atRisk"});
        assert_eq!(
            strings(lookup(&graph, "properties.riskState")),
            vec!["atRisk"]
        );
    }

    #[test]
    fn name_value_lists_are_addressed_by_name() {
        let rec = json!({
            "Parameters": [
                {"Name": "Identity", "Value": "alice"},
                {"Name": "ForwardTo", "Value": "x@evil.example"}
            ],
            "ModifiedProperties": [
                {"Name": "ConsentContext.IsAdminConsent", "NewValue": "True", "OldValue": ""}
            ]
        });
        assert_eq!(
            strings(lookup(&rec, "Parameters.ForwardTo")),
            vec!["x@evil.example"]
        );
        assert_eq!(
            strings(lookup(
                &rec,
                "ModifiedProperties.ConsentContext.IsAdminConsent"
            )),
            vec!["True"]
        );
        assert_eq!(
            strings(lookup(
                &rec,
                "ModifiedProperties.ConsentContext.IsAdminConsent.OldValue"
            )),
            vec![""]
        );
    }

    #[test]
    fn json_held_in_strings_is_followed() {
        let sentinel = json!({"DeviceDetail": "{\"deviceId\":\"d-1\",\"isCompliant\":false}"});
        assert_eq!(
            strings(lookup(&sentinel, "DeviceDetail.deviceId")),
            vec!["d-1"]
        );
        assert_eq!(
            lookup(&sentinel, "DeviceDetail.isCompliant"),
            Some(EventValue::Bool(false))
        );
        // At the end of a path the text itself is the value, as Sentinel shows it.
        let empty = json!({"NetworkLocationDetails": "[]"});
        assert_eq!(
            strings(lookup(&empty, "NetworkLocationDetails")),
            vec!["[]"]
        );
    }

    #[test]
    fn lists_are_followed_member_by_member() {
        let rec = json!({"targetResources": [
            {"type": "ServicePrincipal", "modifiedProperties": [{"displayName": "AppAddress", "newValue": "a"}]},
            {"type": "User", "modifiedProperties": []}
        ]});
        assert_eq!(
            strings(lookup(&rec, "targetResources.type")),
            vec!["ServicePrincipal", "User"]
        );
        assert_eq!(
            strings(lookup(
                &rec,
                "targetResources.modifiedProperties.AppAddress"
            )),
            vec!["a"]
        );
    }

    #[test]
    fn structured_leaves_are_flattened_for_contains() {
        let rec = json!({"Folders": [{"Path": "\\Inbox", "FolderItems": [{"Id": "m1"}]}]});
        let mut found = strings(lookup(&rec, "Folders"));
        found.sort();
        assert_eq!(found, vec!["\\Inbox", "m1"]);
    }

    #[test]
    fn a_lazy_record_finds_what_a_parsed_one_finds() {
        let text = r#"{"id":"s1","deviceDetail":{"deviceId":"d-1","isCompliant":false},"properties":{"riskState":"atRisk"},"Parameters":[{"Name":"ForwardTo","Value":"x"}]}"#;
        let lazy = Record::parse(text.as_bytes()).unwrap();
        assert!(matches!(lazy, Record::Lazy(_)));
        let full: Value = serde_json::from_str(text).unwrap();
        for path in [
            "DeviceDetail.deviceId",
            "deviceDetail.isCompliant",
            "RiskState",
            "properties.riskState",
            "Parameters.ForwardTo",
            "Missing.path",
        ] {
            assert_eq!(lazy.lookup(path), lookup(&full, path), "{path}");
        }
        let mut seen = Vec::new();
        lazy.visit_strings(&mut |s| seen.push(s.to_owned()));
        seen.sort();
        // Values, not keys, as rsigma's own JSON events do.
        assert_eq!(seen, vec!["ForwardTo", "atRisk", "d-1", "s1", "x"]);
    }

    #[test]
    fn splitting_finds_each_top_level_value_whole() {
        let text =
            r#" { "a" : "x\"}{[" , "b":{"c":[1,{"d":"]"}]},"e":-1.5e3,"f":true,"g":null,"h":[] } "#;
        let fields = split_object(text).unwrap();
        let keys: Vec<&str> = fields.iter().map(|(k, _)| *k).collect();
        assert_eq!(keys, ["a", "b", "e", "f", "g", "h"]);
        let whole: Value = serde_json::from_str(text).unwrap();
        for (k, v) in fields {
            let parsed: Value = serde_json::from_str(v).unwrap();
            assert_eq!(Some(&parsed), whole.get(k), "{k}");
        }
        assert_eq!(split_object("{}").unwrap().len(), 0);
    }

    #[test]
    fn splitting_truncated_or_broken_text_fails_without_panicking() {
        for text in [
            "",
            "{",
            "{\"a\"",
            "{\"a\":",
            "{\"a\":\"x",
            "{\"a\":[1,2",
            "{\"a\":1,",
            "{\"a\" 1}",
            "{\"a\":1 \"b\":2}",
            "[1]",
            "{\"a\":\"\\",
            "{\"a\":}",
        ] {
            assert!(split_object(text).is_none(), "{text:?}");
        }
    }

    proptest::proptest! {
        #[test]
        fn splitting_agrees_with_a_full_parse(v in json_object(), pretty: bool) {
            let text = if pretty {
                serde_json::to_string_pretty(&v).unwrap()
            } else {
                serde_json::to_string(&v).unwrap()
            };
            // Compare with a full parse of the same text (float printing does not round-trip).
            let whole: Value = serde_json::from_str(&text).unwrap();
            let Value::Object(map) = &whole else { unreachable!() };
            match split_object(&text) {
                Some(fields) => {
                    proptest::prop_assert_eq!(fields.len(), map.len());
                    for (k, raw) in fields {
                        let parsed: Value = serde_json::from_str(raw).unwrap();
                        proptest::prop_assert_eq!(Some(&parsed), map.get(k));
                    }
                }
                // Only keys that serialise with an escape are refused.
                None => proptest::prop_assert!(text.contains('\\')),
            }
        }
    }

    fn json_object() -> impl proptest::strategy::Strategy<Value = Value> {
        use proptest::prelude::*;
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(|n| json!(n)),
            any::<f64>()
                .prop_filter("finite", |f| f.is_finite())
                .prop_map(|f| json!(f)),
            ".{0,12}".prop_map(Value::String),
        ];
        let value = leaf.prop_recursive(4, 32, 6, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                proptest::collection::btree_map(".{0,6}", inner, 0..6)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        });
        proptest::collection::btree_map(".{0,8}", value, 0..8)
            .prop_map(|m| Value::Object(m.into_iter().collect()))
    }

    #[test]
    fn escaped_keys_fall_back_to_a_full_parse_and_non_objects_are_not_records() {
        let escaped = Record::parse(br#"{"a\u0062":1,"c":"d"}"#).unwrap();
        assert!(matches!(escaped, Record::Full(_)));
        assert_eq!(
            escaped.lookup("c"),
            Some(EventValue::Str(Cow::Borrowed("d")))
        );
        assert!(Record::parse(b"[1,2]").is_none());
        assert!(Record::parse(b"not json").is_none());
    }

    #[test]
    fn hostile_nesting_stops_at_the_depth_bound() {
        let mut v = json!("leaf");
        for _ in 0..200 {
            v = json!({ "a": v });
        }
        let path = vec!["a"; 200].join(".");
        assert!(lookup(&v, &path).is_none());
    }
}
