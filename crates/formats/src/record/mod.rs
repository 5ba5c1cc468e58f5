//! From one record's bytes to an [`AuditEvent`]: parse once into [`Fields`], decide the schema from
//! the keys present, and let the schema's builder fill the event.

mod defender;
mod directory;
mod fields;
mod signin;
mod ual;
mod values;

use bytes::Bytes;
use mailtrail_event::{AuditEvent, SourceFormat, Timestamp, parse_time};

use crate::{RecordErrorKind, RecordLocation};
use fields::{Fields, has, has_raw};
use values::Scalar;

/// What surrounded a record, which decides the source format of a bare UAL record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Container {
    /// An element of a JSON array (a Management Activity API content blob, or a Graph page).
    JsonArray,
    /// A line of NDJSON or a value of concatenated JSON.
    JsonStream,
    /// The `AuditData` cell of a CSV export of this format.
    Csv(SourceFormat),
}

/// Parses and normalises one record read from `container`; the event keeps `raw`.
pub(crate) fn decode(raw: Bytes, container: Container) -> Result<AuditEvent, RecordErrorKind> {
    let fields = parse_bytes(&raw)?;
    let source = classify(&fields, container)?;
    build(source, &fields, raw.clone())
}

/// A record read only as far as putting records in order needs: its time, id and source format,
/// with its bytes and where it was read. [`Reader::read_keys`](crate::Reader::read_keys) reads these; the
/// event is built later with [`normalize`]`(key.source, key.raw)`.
///
/// The record has been parsed and its schema, time and id read; the rest of it is checked only when
/// it is normalised, so [`normalize`] can still reject it (carry [`location`](Self::location) to say
/// where it came from).
#[derive(Clone, Debug)]
pub struct RecordKey {
    /// When the audited activity happened.
    pub time: Timestamp,
    /// The record's own id.
    pub record_id: String,
    /// The form it was read from.
    pub source: SourceFormat,
    /// The original record bytes (for CSV sources, the `AuditData` JSON).
    pub raw: Bytes,
    /// Where the record was read.
    pub location: RecordLocation,
}

/// Parses one record read from `container` as far as its [`RecordKey`].
pub(crate) fn decode_key(
    raw: Bytes,
    container: Container,
    location: &RecordLocation,
) -> Result<RecordKey, RecordErrorKind> {
    let fields = parse_bytes(&raw)?;
    let source = classify(&fields, container)?;
    // The Unified Audit Log is nearly all of any export, and its key is two top-level fields. The
    // other schemas nest theirs (Azure Monitor's `properties`, Defender's `RawEventData`), so they
    // are built whole, once, for it.
    let (time, record_id) = if is_unified_audit(source) {
        ual::key(&fields)?
    } else {
        let ev = build(source, &fields, Bytes::new())?;
        (ev.time, ev.record_id)
    };
    Ok(RecordKey {
        time,
        record_id,
        source,
        raw: raw.clone(),
        location: location.clone(),
    })
}

/// Rebuilds the event of a stored record from its source format and raw bytes.
///
/// This is what the evidence store re-indexes with: for a record read by
/// [`Reader`](crate::Reader), `normalize(event.source, event.raw.clone())` gives back the same
/// event. For CSV sources the raw bytes are the `AuditData` JSON.
///
/// ```
/// use mailtrail_event::SourceFormat;
///
/// let raw = br#"{"Id":"4d3c1f3e-6f1b-4d2a-9b7e-0c2a3f5e6d71","CreationTime":"2023-06-16T09:01:02","RecordType":1,"Operation":"Set-Mailbox","UserId":"admin@contoso.example","Workload":"Exchange"}"#;
/// let ev = mailtrail_formats::normalize(SourceFormat::PurviewCsv, bytes::Bytes::from_static(raw)).unwrap();
/// assert_eq!(ev.operation, "Set-Mailbox");
/// assert_eq!(ev.source, SourceFormat::PurviewCsv);
/// ```
pub fn normalize(source: SourceFormat, raw: Bytes) -> Result<AuditEvent, RecordErrorKind> {
    let fields = parse_bytes(&raw)?;
    build(source, &fields, raw.clone())
}

/// How deep a record may nest: serde_json's own recursion limit, so that every accepted record can
/// be parsed again by any serde_json code downstream (serde_json skips unknown fields without
/// counting depth, so it would not catch deep nesting there itself).
const MAX_DEPTH: usize = 128;

/// Rejects records nesting deeper than [`MAX_DEPTH`]. Counting brackets first keeps this nearly
/// free: a record with fewer brackets than the limit cannot nest deeper than it.
fn check_depth(b: &[u8]) -> Result<(), RecordErrorKind> {
    if memchr::memchr2_iter(b'{', b'[', b).count() <= MAX_DEPTH {
        return Ok(());
    }
    let (mut depth, mut in_str, mut esc) = (0usize, false, false);
    for &c in b {
        if in_str {
            match (esc, c) {
                (true, _) => esc = false,
                (false, b'\\') => esc = true,
                (false, b'"') => in_str = false,
                _ => {}
            }
            continue;
        }
        match c {
            b'"' => in_str = true,
            b'{' | b'[' => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return Err(RecordErrorKind::Json(format!(
                        "recursion limit exceeded: the record nests deeper than {MAX_DEPTH} levels"
                    )));
                }
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}

/// Parses a record's bytes, which must be UTF-8.
fn parse_bytes(raw: &[u8]) -> Result<Fields<'_>, RecordErrorKind> {
    let text = std::str::from_utf8(raw).map_err(|e| RecordErrorKind::NotUtf8 {
        valid_up_to: e.valid_up_to(),
    })?;
    parse(text)
}

fn parse(text: &str) -> Result<Fields<'_>, RecordErrorKind> {
    check_depth(text.as_bytes())?;
    let first = text.trim_start().as_bytes().first().copied();
    match first {
        Some(b'{') => serde_json::from_str(text).map_err(|e| RecordErrorKind::Json(e.to_string())),
        Some(b'[') => Err(RecordErrorKind::NotAnObject("an array")),
        Some(b'"') => Err(RecordErrorKind::NotAnObject("a string")),
        None => Err(RecordErrorKind::NotAnObject("nothing")),
        _ => match serde_json::from_str::<serde::de::IgnoredAny>(text) {
            Ok(_) => Err(RecordErrorKind::NotAnObject("a number, boolean or null")),
            Err(e) => Err(RecordErrorKind::Json(e.to_string())),
        },
    }
}

const SIGN_IN_CATEGORIES: [&str; 4] = [
    "SignInLogs",
    "NonInteractiveUserSignInLogs",
    "ServicePrincipalSignInLogs",
    "ManagedIdentitySignInLogs",
];

const SENTINEL_SIGN_IN_TABLES: [&str; 4] = [
    "SigninLogs",
    "AADNonInteractiveUserSignInLogs",
    "AADServicePrincipalSignInLogs",
    "AADManagedIdentitySignInLogs",
];

fn is_one_of(s: &Option<Scalar<'_>>, names: &[&str]) -> bool {
    s.as_ref()
        .and_then(Scalar::text)
        .is_some_and(|t| names.iter().any(|n| n.eq_ignore_ascii_case(&t)))
}

/// Decides which schema a record follows from the keys it carries.
///
/// The order matters: Sentinel and Defender rows also carry UAL names, so their distinctive columns
/// are tested first. The rules are documented in `docs/formats.md`.
fn classify(f: &Fields<'_>, container: Container) -> Result<SourceFormat, RecordErrorKind> {
    if let Container::Csv(format) = container {
        return Ok(format);
    }
    // Defender XDR advanced hunting rows: `Timestamp` + `ActionType`.
    if has(&f.Timestamp) && has(&f.ActionType) {
        let cloud_app = has_raw(f.RawEventData) || has(&f.ApplicationId) || has(&f.ActivityType);
        return Ok(if cloud_app && !has(&f.DeviceId) {
            SourceFormat::DefenderCloudAppEvents
        } else {
            SourceFormat::DefenderAdvancedHunting
        });
    }
    // Sentinel OfficeActivity: the table name, or the columns Sentinel renamed.
    if is_one_of(&f.Type, &["OfficeActivity"])
        || has(&f.OfficeWorkload)
        || has(&f.Client_IPAddress)
        || (has(&f.TimeGenerated) && has(&f.Operation) && has(&f.OfficeId))
    {
        return Ok(SourceFormat::SentinelOfficeActivity);
    }
    // The Unified Audit Log as Microsoft writes it.
    if has(&f.CreationTime) && has(&f.Operation) {
        return Ok(match container {
            Container::JsonArray => SourceFormat::ManagementApi,
            _ => SourceFormat::UalNdjson,
        });
    }
    // Azure Monitor diagnostic settings: `category` + a `properties` envelope.
    if has(&f.category) && has_raw(f.properties) {
        if is_one_of(&f.category, &SIGN_IN_CATEGORIES) {
            return Ok(SourceFormat::AzureMonitorSignIn);
        }
        if is_one_of(&f.category, &["AuditLogs"]) {
            return Ok(SourceFormat::AzureMonitorAudit);
        }
        let cat = f
            .category
            .as_ref()
            .and_then(Scalar::text)
            .unwrap_or_default();
        return Err(RecordErrorKind::UnknownSchema(format!(
            "Azure Monitor category {cat:?} is not one mailtrail reads (sign-in logs and AuditLogs are)"
        )));
    }
    // Sentinel sign-in tables.
    if is_one_of(&f.Type, &SENTINEL_SIGN_IN_TABLES)
        || (is_one_of(&f.Category, &SIGN_IN_CATEGORIES) && has(&f.TimeGenerated))
        || (has(&f.CreatedDateTime) && (has(&f.ResultType) || has_raw(f.Status)))
    {
        return Ok(SourceFormat::SentinelSignIn);
    }
    // Sentinel AuditLogs. Exports often overwrite `Type` with a projected column, so the
    // distinctive columns decide.
    if is_one_of(&f.Type, &["AuditLogs"])
        || (has(&f.ActivityDisplayName) && (has_raw(f.TargetResources) || has_raw(f.InitiatedBy)))
    {
        return Ok(SourceFormat::SentinelAuditLogs);
    }
    // Microsoft Graph resources.
    if has(&f.createdDateTime) && (has(&f.userPrincipalName) || has(&f.appId) || has_raw(f.status))
    {
        return Ok(SourceFormat::GraphSignIn);
    }
    if has(&f.activityDateTime) && has(&f.activityDisplayName) {
        return Ok(SourceFormat::GraphDirectoryAudit);
    }
    Err(RecordErrorKind::UnknownSchema(
        "no CreationTime + Operation (Unified Audit Log), createdDateTime (sign-in), \
         activityDateTime (directory audit), category + properties (Azure Monitor), \
         TimeGenerated (Sentinel) or Timestamp + ActionType (Defender)"
            .into(),
    ))
}

/// Builds the event of a record whose source format is known.
fn build(source: SourceFormat, f: &Fields<'_>, raw: Bytes) -> Result<AuditEvent, RecordErrorKind> {
    use SourceFormat as S;
    match source {
        s if is_unified_audit(s) => ual::build(source, f, raw),
        S::DefenderCloudAppEvents | S::DefenderAdvancedHunting => defender::build(source, f, raw),
        S::GraphSignIn | S::AzureMonitorSignIn | S::SentinelSignIn => signin::build(source, f, raw),
        S::GraphDirectoryAudit | S::AzureMonitorAudit | S::SentinelAuditLogs => {
            directory::build(source, f, raw)
        }
        other => Err(RecordErrorKind::UnsupportedSource(other)),
    }
}

/// Whether records of this source are Unified Audit Log records, read by [`ual`].
fn is_unified_audit(source: SourceFormat) -> bool {
    use SourceFormat as S;
    matches!(
        source,
        S::ManagementApi
            | S::UalNdjson
            | S::PurviewCsv
            | S::PurviewCsvClassic
            | S::SearchUnifiedAuditLogCsv
            | S::SentinelOfficeActivity
    )
}

/// The record's time from the first candidate present: `(field name, value)`.
fn time(candidates: &[(&'static str, &Option<Scalar<'_>>)]) -> Result<Timestamp, RecordErrorKind> {
    for (name, value) in candidates {
        if let Some(t) = value.as_ref().and_then(Scalar::text) {
            return parse_time(&t).ok_or_else(|| RecordErrorKind::InvalidField {
                field: name,
                value: shorten(&t),
                expected: "an ISO 8601 time",
            });
        }
    }
    Err(RecordErrorKind::MissingField(
        candidates.first().map_or("time", |(n, _)| n),
    ))
}

/// The record id from the first candidate present.
fn record_id(
    candidates: &[(&'static str, &Option<Scalar<'_>>)],
) -> Result<String, RecordErrorKind> {
    candidates
        .iter()
        .find_map(|(_, v)| v.as_ref().and_then(Scalar::text))
        .map(|t| t.into_owned())
        .ok_or(RecordErrorKind::MissingField(
            candidates.first().map_or("Id", |(n, _)| n),
        ))
}

/// A value quoted in an error message, cut to a readable length.
fn shorten(s: &str) -> String {
    const MAX: usize = 80;
    if s.len() <= MAX {
        return s.to_owned();
    }
    let mut end = MAX;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}

/// Entry points for the fuzz targets and the tests that exercise them.
pub(crate) mod fuzz {
    use super::*;

    /// Parses, classifies and builds, as the reader does for a JSON record.
    pub(crate) fn record(data: &[u8]) {
        let raw = Bytes::copy_from_slice(data);
        let _ = decode(raw.clone(), Container::JsonStream);
        let _ = decode(raw, Container::JsonArray);
        let location = RecordLocation {
            in_file: false,
            input: "fuzz".into(),
            line: 1,
            offset: 0,
            position: crate::Position::Line,
        };
        if let Ok(key) = decode_key(
            Bytes::copy_from_slice(data),
            Container::JsonStream,
            &location,
        ) {
            // A key is read from the same fields the event is built from.
            if let Ok(ev) = normalize(key.source, key.raw) {
                assert_eq!((ev.time, ev.record_id), (key.time, key.record_id));
            }
        }
    }

    /// Builds with a forced source format, as `normalize` does.
    pub(crate) fn normalize_as(source: SourceFormat, data: &[u8]) {
        let _ = normalize(source, Bytes::copy_from_slice(data));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn classify_json(json: &str) -> Result<SourceFormat, RecordErrorKind> {
        let f = parse(json).unwrap();
        classify(&f, Container::JsonStream)
    }

    #[test]
    fn keys_decide_the_schema() {
        use SourceFormat as S;
        let cases = [
            (
                r#"{"CreationTime":"2023-06-16T09:01:02","Operation":"Send","RecordType":2}"#,
                S::UalNdjson,
            ),
            (
                r#"{"TimeGenerated":"2021-08-02T13:32:07Z","Operation":"Send","Type":"OfficeActivity"}"#,
                S::SentinelOfficeActivity,
            ),
            (
                r#"{"Timestamp":"2021-08-02T13:32:07Z","ActionType":"MailItemsAccessed","RawEventData":{"Id":"x"}}"#,
                S::DefenderCloudAppEvents,
            ),
            (
                r#"{"Timestamp":"2021-08-02T13:32:07Z","ActionType":"LdapSearch","DeviceId":"d1","RawEventData":null}"#,
                S::DefenderAdvancedHunting,
            ),
            (
                r#"{"category":"NonInteractiveUserSignInLogs","properties":{"id":"x"}}"#,
                S::AzureMonitorSignIn,
            ),
            (
                r#"{"category":"AuditLogs","properties":{"id":"x"}}"#,
                S::AzureMonitorAudit,
            ),
            (
                r#"{"Type":"AADNonInteractiveUserSignInLogs","TimeGenerated":"2023-01-01T00:00:00Z"}"#,
                S::SentinelSignIn,
            ),
            (
                r#"{"ActivityDisplayName":"Add application","TargetResources":"[]","InitiatedBy":"{}"}"#,
                S::SentinelAuditLogs,
            ),
            (
                r#"{"id":"x","createdDateTime":"2023-01-01T00:00:00Z","userPrincipalName":"a@b"}"#,
                S::GraphSignIn,
            ),
            (
                r#"{"id":"x","activityDateTime":"2023-01-01T00:00:00Z","activityDisplayName":"Add user"}"#,
                S::GraphDirectoryAudit,
            ),
        ];
        for (json, want) in cases {
            assert_eq!(classify_json(json), Ok(want), "{json}");
        }
    }

    #[test]
    fn unknown_records_say_what_was_expected() {
        let err = classify_json(r#"{"hello":"world"}"#).unwrap_err();
        assert!(matches!(err, RecordErrorKind::UnknownSchema(ref m) if m.contains("CreationTime")));
        let err =
            classify_json(r#"{"category":"RiskyUsers","properties":{"id":"x"}}"#).unwrap_err();
        assert!(err.to_string().contains("RiskyUsers"));
    }

    #[test]
    fn non_objects_are_named() {
        assert_eq!(
            parse("[1]").err(),
            Some(RecordErrorKind::NotAnObject("an array"))
        );
        assert_eq!(
            parse("42").err(),
            Some(RecordErrorKind::NotAnObject("a number, boolean or null"))
        );
        assert!(matches!(
            parse("{\"a\":").err(),
            Some(RecordErrorKind::Json(_))
        ));
    }
}
