//! [`Field`]: the common fields by name, so every part of mailtrail speaks of them the same way.

use std::borrow::Cow;
use std::fmt;

use crate::{AuditEvent, Timestamp};

/// A common field of [`AuditEvent`], addressable by a short name.
///
/// The short names are what users type in queries (`user:alice@contoso.com app:… ip:203.0.113.0/24`)
/// and see as column headers; each field also answers to the Unified Audit Log's own name
/// (`UserId`, `ClientAppId`, …), case-insensitively.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Field {
    /// `time`: when it happened.
    Time,
    /// `id`: the record id.
    RecordId,
    /// `kind`: unified_audit, sign_in, directory_audit.
    Kind,
    /// `source`: the source format.
    Source,
    /// `tenant`: OrganizationId.
    Tenant,
    /// `workload`.
    Workload,
    /// `record_type`: the UAL record type name (or number).
    RecordType,
    /// `op`: the operation.
    Operation,
    /// `result`.
    Result,
    /// `user`.
    User,
    /// `user_type`.
    UserType,
    /// `ip`: the client IP.
    ClientIp,
    /// `user_agent`: ClientInfoString or user agent.
    UserAgent,
    /// `app`: AppId.
    AppId,
    /// `client_app`: ClientAppId.
    ClientAppId,
    /// `session`: Exchange SessionId.
    Session,
    /// `aad_session`: AADSessionId.
    AadSession,
    /// `token`: UniqueTokenId.
    Token,
    /// `token_tenant`: TokenTenantId.
    TokenTenant,
    /// `token_object`: TokenObjectId.
    TokenObject,
    /// `mailbox`: MailboxOwnerUPN (or the Exchange user).
    Mailbox,
    /// `logon_type`.
    LogonType,
    /// `access_type`: Bind or Sync.
    AccessType,
    /// `throttled`: IsThrottled.
    Throttled,
    /// `object`: ObjectId.
    Object,
    /// `app_name`: a sign-in's application display name.
    AppName,
    /// `error_code`: a sign-in's error code.
    ErrorCode,
    /// `country`: a sign-in's country.
    Country,
    /// `asn`: a sign-in's autonomous system number.
    Asn,
}

/// `(field, short name, other accepted names)`.
const NAMES: &[(Field, &str, &[&str])] = &[
    (Field::Time, "time", &["CreationTime", "timestamp"]),
    (Field::RecordId, "id", &["record_id"]),
    (Field::Kind, "kind", &[]),
    (Field::Source, "source", &["format"]),
    (Field::Tenant, "tenant", &["OrganizationId", "tenant_id"]),
    (Field::Workload, "workload", &[]),
    (Field::RecordType, "record_type", &["RecordType", "type"]),
    (Field::Operation, "op", &["operation", "activity"]),
    (Field::Result, "result", &["ResultStatus", "status"]),
    (Field::User, "user", &["UserId", "upn", "user_id"]),
    (Field::UserType, "user_type", &["UserType"]),
    (
        Field::ClientIp,
        "ip",
        &["ClientIP", "client_ip", "ClientIPAddress"],
    ),
    (Field::UserAgent, "user_agent", &["ClientInfoString", "ua"]),
    (Field::AppId, "app", &["AppId", "app_id"]),
    (
        Field::ClientAppId,
        "client_app",
        &["ClientAppId", "client_app_id"],
    ),
    (Field::Session, "session", &["SessionId", "session_id"]),
    (
        Field::AadSession,
        "aad_session",
        &["AADSessionId", "aad_session_id"],
    ),
    (Field::Token, "token", &["UniqueTokenId", "unique_token_id"]),
    (Field::TokenTenant, "token_tenant", &["TokenTenantId"]),
    (Field::TokenObject, "token_object", &["TokenObjectId"]),
    (
        Field::Mailbox,
        "mailbox",
        &["MailboxOwnerUPN", "mailbox_owner_upn"],
    ),
    (Field::LogonType, "logon_type", &["LogonType"]),
    (Field::AccessType, "access_type", &["MailAccessType"]),
    (Field::Throttled, "throttled", &["IsThrottled"]),
    (Field::Object, "object", &["ObjectId", "object_id"]),
    (Field::AppName, "app_name", &["AppDisplayName"]),
    (Field::ErrorCode, "error_code", &["ResultType", "errorCode"]),
    (Field::Country, "country", &[]),
    (Field::Asn, "asn", &["AutonomousSystemNumber"]),
];

/// A field's value, typed where the type matters for comparison.
#[derive(Clone, Debug, PartialEq)]
pub enum FieldValue<'a> {
    /// Text.
    Text(Cow<'a, str>),
    /// A number.
    Int(i64),
    /// A boolean.
    Bool(bool),
    /// An IP address.
    Ip(std::net::IpAddr),
    /// A time.
    Time(Timestamp),
}

impl fmt::Display for FieldValue<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Text(s) => f.write_str(s),
            Self::Int(n) => write!(f, "{n}"),
            Self::Bool(b) => write!(f, "{b}"),
            Self::Ip(ip) => write!(f, "{ip}"),
            Self::Time(t) => write!(f, "{t}"),
        }
    }
}

impl Field {
    /// Every field, in display order.
    pub fn all() -> impl Iterator<Item = Field> {
        NAMES.iter().map(|(f, _, _)| *f)
    }

    /// The short name.
    pub fn name(self) -> &'static str {
        NAMES
            .iter()
            .find(|(f, _, _)| *f == self)
            .map_or("", |(_, n, _)| n)
    }

    /// Finds a field by its short name or any accepted name, case-insensitively.
    pub fn from_name(name: &str) -> Option<Field> {
        NAMES
            .iter()
            .find(|(_, n, aliases)| {
                n.eq_ignore_ascii_case(name) || aliases.iter().any(|a| a.eq_ignore_ascii_case(name))
            })
            .map(|(f, _, _)| *f)
    }

    /// This field's value in `ev`, or `None` when the event does not carry it.
    pub fn value(self, ev: &AuditEvent) -> Option<FieldValue<'_>> {
        use FieldValue::{Bool, Int, Ip, Text, Time};
        fn text(s: &Option<String>) -> Option<FieldValue<'_>> {
            s.as_deref().map(|s| FieldValue::Text(Cow::Borrowed(s)))
        }
        let sign_in = ev.sign_in.as_deref();
        match self {
            Field::Time => Some(Time(ev.time)),
            Field::RecordId => Some(Text(Cow::Borrowed(&ev.record_id))),
            Field::Kind => Some(Text(Cow::Borrowed(ev.kind.as_str()))),
            Field::Source => Some(Text(Cow::Borrowed(ev.source.as_str()))),
            Field::Tenant => text(&ev.tenant_id),
            Field::Workload => text(&ev.workload),
            Field::RecordType => ev.record_type.as_ref().map(|r| match r.name() {
                Some(name) => Text(Cow::Borrowed(name)),
                None => Text(Cow::Owned(r.to_string())),
            }),
            Field::Operation => Some(Text(Cow::Borrowed(&ev.operation))),
            Field::Result => text(&ev.result_status),
            Field::User => text(&ev.user_id),
            Field::UserType => ev
                .user_type
                .as_ref()
                .map(|u| Text(Cow::Borrowed(u.as_str()))),
            Field::ClientIp => ev.client_ip.map(Ip),
            Field::UserAgent => text(&ev.user_agent),
            Field::AppId => text(&ev.app_id),
            Field::ClientAppId => text(&ev.client_app_id),
            Field::Session => text(&ev.session_id),
            Field::AadSession => text(&ev.aad_session_id),
            Field::Token => text(&ev.unique_token_id),
            Field::TokenTenant => text(&ev.token_tenant_id),
            Field::TokenObject => text(&ev.token_object_id),
            Field::Mailbox => ev.mailbox().map(|m| Text(Cow::Borrowed(m))),
            Field::LogonType => ev
                .logon_type
                .as_ref()
                .map(|l| Text(Cow::Borrowed(l.as_str()))),
            Field::AccessType => ev
                .mail_access
                .as_ref()
                .and_then(|m| m.access_type.as_ref())
                .map(|a| Text(Cow::Borrowed(a.as_str()))),
            Field::Throttled => ev
                .mail_access
                .as_ref()
                .and_then(|m| m.is_throttled)
                .map(Bool),
            Field::Object => text(&ev.object_id),
            Field::AppName => sign_in.and_then(|s| text(&s.app_display_name)),
            Field::ErrorCode => sign_in.and_then(|s| s.error_code).map(Int),
            Field::Country => sign_in
                .and_then(|s| s.location.as_ref())
                .and_then(|l| text(&l.country)),
            Field::Asn => sign_in.and_then(|s| s.asn).map(|a| Int(i64::from(a))),
        }
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_field_has_one_unique_name() {
        let mut seen = std::collections::HashSet::new();
        for (f, n, aliases) in NAMES {
            assert_eq!(f.name(), *n);
            assert!(seen.insert(n.to_ascii_lowercase()), "{n} twice");
            for a in *aliases {
                assert!(seen.insert(a.to_ascii_lowercase()), "{a} twice");
            }
        }
    }

    #[test]
    fn names_and_ual_names_find_the_same_field() {
        assert_eq!(Field::from_name("client_app"), Some(Field::ClientAppId));
        assert_eq!(Field::from_name("clientappid"), Some(Field::ClientAppId));
        assert_eq!(Field::from_name("MailboxOwnerUPN"), Some(Field::Mailbox));
        assert_eq!(Field::from_name("nonsense"), None);
    }

    #[test]
    fn values_come_from_the_event() {
        let ev = AuditEvent {
            operation: "MailItemsAccessed".into(),
            client_ip: "203.0.113.9".parse().ok(),
            ..Default::default()
        };
        assert_eq!(
            Field::Operation
                .value(&ev)
                .map(|v| v.to_string())
                .as_deref(),
            Some("MailItemsAccessed")
        );
        assert_eq!(
            Field::ClientIp.value(&ev).map(|v| v.to_string()).as_deref(),
            Some("203.0.113.9")
        );
        assert_eq!(Field::User.value(&ev), None);
    }
}
