//! The field-mapping table: what each field name that Sigma rules use means on an [`AuditEvent`].
//!
//! SigmaHQ's cloud rules are written against several spellings of the same data: the Unified Audit
//! Log's own names (`Operation`, `ClientIP`), the CloudTrail-like `eventSource` / `eventName` /
//! `status` that Elastic's Office 365 integration produces, Microsoft Sentinel column names
//! (`ResultType`, `OperationName`) and Azure Monitor's `properties.` envelope. The table below maps
//! every one of those names to the normalised field mailtrail already extracted, so a rule matches
//! whatever export the record came from and, for the names in the table, without parsing the
//! record again.
//!
//! Names are compared ASCII case-insensitively, and a leading `properties.` (the Azure Monitor
//! envelope) is ignored when the rest is in the table. A name in the table always means the
//! normalised field: when the event does not carry it the field is absent, and the original record
//! is not consulted. Names not in the table are looked up in the event's name/value lists and then
//! in the original record (see [`Resolution::Record`]).
//!
//! `docs/sigma.md` carries this table for users; a test checks that every name here appears there.

use std::borrow::Cow;

use mailtrail_event::{AuditEvent, EventKind};
use rsigma_eval::EventValue;

/// A normalised field, or a per-schema choice between fields, that table names resolve to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Canon {
    /// The operation / activity name.
    Operation,
    /// `eventName`: the operation, and for a Security & Compliance alert record also the alert's
    /// name (Elastic writes the alert name where SigmaHQ's `threat_management` rules read
    /// `eventName`).
    EventName,
    /// `properties.message`: SigmaHQ's Entra ID audit rules put the activity name there.
    Message,
    /// The workload (`Exchange`, `AzureActiveDirectory`, `SecurityComplianceCenter`, …).
    Workload,
    /// The UAL record type, as its number and its name.
    RecordType,
    /// The result as written plus its outcome (`success`/`failure`); `success` when a UAL record
    /// carries no result, as Elastic's `event.outcome` does.
    Outcome,
    /// `ResultStatus`: the result as written plus its outcome, no default.
    ResultStatus,
    /// `ResultType`: the error code on a sign-in, the outcome elsewhere.
    ResultType,
    /// A sign-in's `status.errorCode`.
    ErrorCode,
    /// A sign-in's `status.failureReason`.
    FailureReason,
    /// The user agent or `ClientInfoString`.
    UserAgent,
    /// The client IP address.
    ClientIp,
    /// The acting user's principal name.
    User,
    /// `UserId`: the principal name on UAL records, the user's object id on sign-ins, the
    /// initiating object's id on directory audits.
    UserIdByKind,
    /// `UserType`, as its number and its name.
    UserType,
    /// `AppId`.
    AppId,
    /// `ClientAppId`.
    ClientAppId,
    /// The application's display name (sign-ins), or the initiating application (directory audits).
    AppDisplayName,
    /// A sign-in's `resourceDisplayName`.
    ResourceDisplayName,
    /// A directory audit's `category`.
    Category,
    /// A directory audit's `loggedByService`.
    LoggedByService,
    /// A directory audit's `operationType` (`Add`, `Update`, …).
    OperationType,
    /// A sign-in's `authenticationRequirement`.
    AuthenticationRequirement,
    /// A sign-in's `conditionalAccessStatus`.
    ConditionalAccessStatus,
    /// A sign-in's `homeTenantId`.
    HomeTenantId,
    /// A sign-in's `resourceTenantId`.
    ResourceTenantId,
    /// A sign-in's `clientAppUsed`.
    ClientAppUsed,
    /// A sign-in's `tokenIssuerType`.
    TokenIssuerType,
    /// A sign-in's `tokenIssuerName`.
    TokenIssuerName,
    /// A sign-in's `incomingTokenType`.
    IncomingTokenType,
    /// A sign-in's `isInteractive`.
    IsInteractive,
    /// A sign-in's `crossTenantAccessType`.
    CrossTenantAccessType,
    /// A sign-in's `riskLevelDuringSignIn`.
    RiskLevel,
    /// A sign-in's country.
    Country,
    /// A sign-in's city.
    City,
    /// A sign-in's autonomous system number.
    Asn,
    /// A sign-in's `userDisplayName`.
    UserDisplayName,
    /// A sign-in's `servicePrincipalId`.
    ServicePrincipalId,
    /// `correlationId` of a sign-in or directory audit.
    CorrelationId,
    /// The tenant (`OrganizationId`, `tenantId`).
    Tenant,
    /// `SessionId`: Exchange's session on UAL records, the Entra ID session on sign-ins.
    SessionByKind,
    /// `AADSessionId`.
    AadSession,
    /// `UniqueTokenId` / `uniqueTokenIdentifier`.
    UniqueTokenId,
    /// `TokenTenantId`.
    TokenTenantId,
    /// `TokenObjectId`.
    TokenObjectId,
    /// `MailboxOwnerUPN`.
    MailboxOwner,
    /// `MailboxGuid`.
    MailboxGuid,
    /// `LogonType`, as its number and its name.
    LogonType,
    /// `ObjectId`.
    ObjectId,
    /// `MailAccessType` (`Bind` / `Sync`).
    MailAccessType,
    /// `IsThrottled`.
    IsThrottled,
    /// `OperationCount`.
    OperationCount,
    /// The record id.
    RecordId,
    /// When it happened, RFC 3339.
    Time,
    /// A directory audit's initiating object id.
    InitiatedById,
    /// Every value of every directory audit target (ids, names, types, modified properties).
    Targets,
    /// The targets' `type`.
    TargetType,
    /// The targets' `displayName`.
    TargetName,
    /// The targets' `id`.
    TargetId,
    /// The targets' `userPrincipalName`.
    TargetUpn,
    /// Every name, old and new value of every target's modified properties.
    TargetModified,
    /// The modified properties' names.
    TargetModifiedName,
    /// The modified properties' new values.
    TargetModifiedNew,
    /// The modified properties' old values.
    TargetModifiedOld,
    /// The whole original record as text (SigmaHQ's `Payload`).
    Payload,
}

/// `(meaning, names)`. Names are matched ASCII case-insensitively; the `properties.` prefix of Azure
/// Monitor exports is stripped before lookup, so it is not repeated here.
pub(crate) const TABLE: &[(Canon, &[&str])] = &[
    (
        Canon::Operation,
        &[
            "Operation",
            "OperationName",
            "ActivityDisplayName",
            "Activity",
            "ActivityType",
        ],
    ),
    (Canon::EventName, &["eventName"]),
    (Canon::Message, &["message"]),
    (
        Canon::Workload,
        &["Workload", "eventSource", "OfficeWorkload"],
    ),
    (Canon::RecordType, &["RecordType"]),
    (Canon::Outcome, &["status", "Result"]),
    (Canon::ResultStatus, &["ResultStatus"]),
    (Canon::ResultType, &["ResultType"]),
    (Canon::ErrorCode, &["status.errorCode", "errorCode"]),
    (
        Canon::FailureReason,
        &["ResultDescription", "failureReason", "status.failureReason"],
    ),
    (
        Canon::UserAgent,
        &["userAgent", "ClientInfoString", "user_agent"],
    ),
    (
        Canon::ClientIp,
        &[
            "ipAddress",
            "ClientIP",
            "ClientIPAddress",
            "callerIpAddress",
            "ActorIpAddress",
            "IPAddress",
            "initiatedBy.user.ipAddress",
        ],
    ),
    (
        Canon::User,
        &[
            "UserPrincipalName",
            "Username",
            "initiatedBy.user.userPrincipalName",
        ],
    ),
    (Canon::UserIdByKind, &["UserId"]),
    (Canon::UserType, &["UserType"]),
    (
        Canon::AppId,
        &["AppId", "ApplicationId", "initiatedBy.app.appId"],
    ),
    (Canon::ClientAppId, &["ClientAppId"]),
    (
        Canon::AppDisplayName,
        &["AppDisplayName", "initiatedBy.app.displayName"],
    ),
    (Canon::ResourceDisplayName, &["ResourceDisplayName"]),
    (Canon::Category, &["Category"]),
    (Canon::LoggedByService, &["LoggedByService"]),
    (Canon::OperationType, &["OperationType"]),
    (
        Canon::AuthenticationRequirement,
        &["AuthenticationRequirement"],
    ),
    (Canon::ConditionalAccessStatus, &["ConditionalAccessStatus"]),
    (Canon::HomeTenantId, &["HomeTenantId"]),
    (Canon::ResourceTenantId, &["ResourceTenantId"]),
    (Canon::ClientAppUsed, &["ClientAppUsed", "ClientApp"]),
    (Canon::TokenIssuerType, &["TokenIssuerType"]),
    (Canon::TokenIssuerName, &["TokenIssuerName"]),
    (Canon::IncomingTokenType, &["IncomingTokenType"]),
    (Canon::IsInteractive, &["IsInteractive"]),
    (Canon::CrossTenantAccessType, &["CrossTenantAccessType"]),
    (Canon::RiskLevel, &["RiskLevelDuringSignIn"]),
    (
        Canon::Country,
        &[
            "location",
            "location.countryOrRegion",
            "LocationDetails.countryOrRegion",
        ],
    ),
    (Canon::City, &["location.city", "LocationDetails.city"]),
    (Canon::Asn, &["AutonomousSystemNumber"]),
    (Canon::UserDisplayName, &["UserDisplayName"]),
    (Canon::ServicePrincipalId, &["ServicePrincipalId"]),
    (Canon::CorrelationId, &["CorrelationId"]),
    (
        Canon::Tenant,
        &["OrganizationId", "TenantId", "AADTenantId"],
    ),
    (Canon::SessionByKind, &["SessionId"]),
    (
        Canon::AadSession,
        &["AADSessionId", "AppAccessContext.AADSessionId"],
    ),
    (
        Canon::UniqueTokenId,
        &[
            "UniqueTokenId",
            "uniqueTokenIdentifier",
            "AppAccessContext.UniqueTokenId",
        ],
    ),
    (
        Canon::TokenTenantId,
        &["TokenTenantId", "AppAccessContext.TokenTenantId"],
    ),
    (
        Canon::TokenObjectId,
        &["TokenObjectId", "AppAccessContext.TokenObjectId"],
    ),
    (Canon::MailboxOwner, &["MailboxOwnerUPN"]),
    (Canon::MailboxGuid, &["MailboxGuid"]),
    (Canon::LogonType, &["LogonType"]),
    (Canon::ObjectId, &["ObjectId"]),
    (
        Canon::MailAccessType,
        &["MailAccessType", "OperationProperties.MailAccessType"],
    ),
    (
        Canon::IsThrottled,
        &["IsThrottled", "OperationProperties.IsThrottled"],
    ),
    (Canon::OperationCount, &["OperationCount"]),
    (Canon::RecordId, &["Id", "RecordId"]),
    (
        Canon::Time,
        &[
            "CreationTime",
            "createdDateTime",
            "activityDateTime",
            "TimeGenerated",
        ],
    ),
    (
        Canon::InitiatedById,
        &["initiatedBy.user.id", "initiatedBy.app.servicePrincipalId"],
    ),
    (Canon::Targets, &["TargetResources"]),
    (Canon::TargetType, &["TargetResources.type"]),
    (Canon::TargetName, &["TargetResources.displayName"]),
    (Canon::TargetId, &["TargetResources.id"]),
    (Canon::TargetUpn, &["TargetResources.userPrincipalName"]),
    (
        Canon::TargetModified,
        &["TargetResources.modifiedProperties"],
    ),
    (
        Canon::TargetModifiedName,
        &["TargetResources.modifiedProperties.displayName"],
    ),
    (
        Canon::TargetModifiedNew,
        &["TargetResources.modifiedProperties.newValue"],
    ),
    (
        Canon::TargetModifiedOld,
        &["TargetResources.modifiedProperties.oldValue"],
    ),
    (Canon::Payload, &["Payload"]),
];

/// A `{Name, Value}` list of the normalised event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum List {
    /// `Parameters` of a cmdlet or inbox rule.
    Parameters,
    /// `OperationProperties`.
    OperationProperties,
    /// `ExtendedProperties`.
    ExtendedProperties,
    /// `ModifiedProperties` (UAL records; the value is the new value).
    ModifiedProperties,
    /// `additionalDetails` of a directory audit.
    AdditionalDetails,
}

/// The list names, as rules write them.
pub(crate) const LISTS: &[(List, &str)] = &[
    (List::Parameters, "Parameters"),
    (List::OperationProperties, "OperationProperties"),
    (List::ExtendedProperties, "ExtendedProperties"),
    (List::ModifiedProperties, "ModifiedProperties"),
    (List::AdditionalDetails, "AdditionalDetails"),
];

/// How one field name is resolved, decided once per name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Resolution {
    /// A normalised field from the table.
    Canon(Canon),
    /// A whole name/value list (`Parameters`): every name and every value, so SigmaHQ's
    /// `Parameters|contains: 'ForwardTo'` works the way its authors meant it. The original record
    /// is consulted only when the event has no such list at all.
    WholeList(List),
    /// One entry of a name/value list by name (`Parameters.ForwardTo`). The original record is
    /// consulted only when the event has no such list at all (a reader that kept it as text).
    ListEntry(List, Box<str>),
    /// Not in the table: the event's name/value lists by this name, then the original record by
    /// dot path (case-insensitive, with and without the `properties.` envelope, inside JSON held in
    /// strings, and `{Name, Value}` lists addressed by name).
    Record(Box<str>),
}

impl Resolution {
    /// Resolves a field name as a rule writes it.
    pub(crate) fn of(name: &str) -> Resolution {
        let name = name.trim();
        if let Some(canon) = table_lookup(name) {
            return Resolution::Canon(canon);
        }
        let unwrapped = strip_prefix_ignore_case(name, "properties.");
        if let Some(canon) = unwrapped.and_then(table_lookup) {
            return Resolution::Canon(canon);
        }
        let bare = unwrapped.unwrap_or(name);
        for (list, list_name) in LISTS {
            if bare.eq_ignore_ascii_case(list_name) {
                return Resolution::WholeList(*list);
            }
            if let Some(entry) = strip_prefix_ignore_case(bare, list_name)
                .and_then(|rest| rest.strip_prefix('.'))
                .filter(|entry| !entry.is_empty())
            {
                return Resolution::ListEntry(*list, entry.into());
            }
        }
        Resolution::Record(name.into())
    }

    /// Whether this name is read from the original record (which costs a parse per event it is
    /// evaluated on). List fields and `eventName` read it only in rare cases and are not counted.
    pub(crate) fn reads_record(&self) -> bool {
        matches!(
            self,
            Resolution::Record(_) | Resolution::Canon(Canon::Payload)
        )
    }
}

fn table_lookup(name: &str) -> Option<Canon> {
    TABLE
        .iter()
        .find(|(_, names)| names.iter().any(|n| n.eq_ignore_ascii_case(name)))
        .map(|(canon, _)| *canon)
}

/// `s` without `prefix`, compared ASCII case-insensitively.
pub(crate) fn strip_prefix_ignore_case<'s>(s: &'s str, prefix: &str) -> Option<&'s str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &s[prefix.len()..])
}

/// Every field name the loaded rules use, resolved once, so the hot path is one hash lookup.
///
/// Keyed with Fx hashing: the keys are field names from rule files (configuration, not input), and
/// the lookup runs for every field probe of every event.
#[derive(Debug, Default)]
pub(crate) struct FieldTable {
    resolved: rustc_hash::FxHashMap<Box<str>, Resolution>,
}

impl FieldTable {
    /// Adds a field name (idempotent).
    pub(crate) fn insert(&mut self, name: &str) -> &Resolution {
        self.resolved
            .entry(name.into())
            .or_insert_with(|| Resolution::of(name))
    }

    /// How `name` resolves; names no loaded rule uses (correlation aliases, field references) are
    /// resolved on the spot.
    pub(crate) fn resolve<'t>(&'t self, name: &str) -> Cow<'t, Resolution> {
        match self.resolved.get(name) {
            Some(r) => Cow::Borrowed(r),
            None => Cow::Owned(Resolution::of(name)),
        }
    }
}

/// Reads a table field from the normalised event. `None` when the event does not carry it.
pub(crate) fn canon_value<'e>(canon: Canon, ev: &'e AuditEvent) -> Option<EventValue<'e>> {
    let sign_in = ev.sign_in.as_deref();
    let dir = ev.directory.as_deref();
    match canon {
        Canon::Operation => text(&ev.operation),
        Canon::EventName => text(&ev.operation), // the alert name is added by the caller
        Canon::Message => match ev.kind {
            EventKind::SignIn => None,
            _ => text(&ev.operation),
        },
        Canon::Workload => opt(&ev.workload),
        Canon::RecordType => ev.record_type.as_ref().map(|rt| {
            let mut values = Vec::with_capacity(2);
            if let Some(code) = rt.code() {
                values.push(EventValue::Int(i64::from(code)));
            }
            if let Some(name) = rt.name() {
                values.push(EventValue::Str(Cow::Borrowed(name)));
            }
            EventValue::Array(values)
        }),
        Canon::Outcome => outcome(ev, true),
        Canon::ResultStatus => outcome(ev, false),
        Canon::ResultType => match ev.kind {
            EventKind::SignIn => sign_in.and_then(|s| s.error_code).map(EventValue::Int),
            _ => outcome(ev, true),
        },
        Canon::ErrorCode => sign_in.and_then(|s| s.error_code).map(EventValue::Int),
        Canon::FailureReason => sign_in.and_then(|s| opt(&s.failure_reason)),
        Canon::UserAgent => opt(&ev.user_agent),
        Canon::ClientIp => ev
            .client_ip
            .map(|ip| EventValue::Str(Cow::Owned(ip.to_string()))),
        Canon::User => opt(&ev.user_id),
        Canon::UserIdByKind => match ev.kind {
            EventKind::SignIn => sign_in.and_then(|s| opt(&s.user_object_id)),
            EventKind::DirectoryAudit => dir.and_then(|d| opt(&d.initiated_by_id)),
            _ => opt(&ev.user_id),
        },
        Canon::UserType => ev.user_type.as_ref().map(|t| {
            let mut values = vec![EventValue::Str(Cow::Borrowed(t.as_str()))];
            if let Some(code) = t.code() {
                values.push(EventValue::Int(code));
            }
            EventValue::Array(values)
        }),
        Canon::AppId => opt(&ev.app_id),
        Canon::ClientAppId => opt(&ev.client_app_id),
        Canon::AppDisplayName => match (sign_in, dir) {
            (Some(s), _) => opt(&s.app_display_name),
            (None, Some(d)) => opt(&d.initiated_by_app_name),
            (None, None) => None,
        },
        Canon::ResourceDisplayName => sign_in.and_then(|s| opt(&s.resource_display_name)),
        Canon::Category => dir.and_then(|d| opt(&d.category)),
        Canon::LoggedByService => dir.and_then(|d| opt(&d.logged_by_service)),
        Canon::OperationType => dir.and_then(|d| opt(&d.operation_type)),
        Canon::AuthenticationRequirement => {
            sign_in.and_then(|s| opt(&s.authentication_requirement))
        }
        Canon::ConditionalAccessStatus => sign_in.and_then(|s| opt(&s.conditional_access_status)),
        Canon::HomeTenantId => sign_in.and_then(|s| opt(&s.home_tenant_id)),
        Canon::ResourceTenantId => sign_in.and_then(|s| opt(&s.resource_tenant_id)),
        Canon::ClientAppUsed => sign_in.and_then(|s| opt(&s.client_app_used)),
        Canon::TokenIssuerType => sign_in.and_then(|s| opt(&s.token_issuer_type)),
        Canon::TokenIssuerName => sign_in.and_then(|s| opt(&s.token_issuer_name)),
        Canon::IncomingTokenType => sign_in.and_then(|s| opt(&s.incoming_token_type)),
        Canon::IsInteractive => sign_in.and_then(|s| s.is_interactive).map(EventValue::Bool),
        Canon::CrossTenantAccessType => sign_in.and_then(|s| opt(&s.cross_tenant_access_type)),
        Canon::RiskLevel => sign_in.and_then(|s| opt(&s.risk_level)),
        Canon::Country => sign_in
            .and_then(|s| s.location.as_ref())
            .and_then(|l| opt(&l.country)),
        Canon::City => sign_in
            .and_then(|s| s.location.as_ref())
            .and_then(|l| opt(&l.city)),
        Canon::Asn => sign_in
            .and_then(|s| s.asn)
            .map(|n| EventValue::Int(i64::from(n))),
        Canon::UserDisplayName => sign_in.and_then(|s| opt(&s.user_display_name)),
        Canon::ServicePrincipalId => sign_in.and_then(|s| opt(&s.service_principal_id)),
        Canon::CorrelationId => match (sign_in, dir) {
            (Some(s), _) => opt(&s.correlation_id),
            (None, Some(d)) => opt(&d.correlation_id),
            (None, None) => None,
        },
        Canon::Tenant => opt(&ev.tenant_id),
        Canon::SessionByKind => match ev.kind {
            EventKind::SignIn => opt(&ev.aad_session_id),
            _ => opt(&ev.session_id),
        },
        Canon::AadSession => opt(&ev.aad_session_id),
        Canon::UniqueTokenId => opt(&ev.unique_token_id),
        Canon::TokenTenantId => opt(&ev.token_tenant_id),
        Canon::TokenObjectId => opt(&ev.token_object_id),
        Canon::MailboxOwner => opt(&ev.mailbox_owner_upn),
        Canon::MailboxGuid => opt(&ev.mailbox_guid),
        Canon::LogonType => ev.logon_type.as_ref().map(|t| {
            let mut values = vec![EventValue::Str(Cow::Borrowed(t.as_str()))];
            if let Some(code) = t.code() {
                values.push(EventValue::Int(code));
            }
            EventValue::Array(values)
        }),
        Canon::ObjectId => opt(&ev.object_id),
        Canon::MailAccessType => ev
            .mail_access
            .as_ref()
            .and_then(|m| m.access_type.as_ref())
            .map(|t| EventValue::Str(Cow::Borrowed(t.as_str()))),
        Canon::IsThrottled => ev
            .mail_access
            .as_ref()
            .and_then(|m| m.is_throttled)
            .map(EventValue::Bool),
        Canon::OperationCount => ev
            .mail_access
            .as_ref()
            .and_then(|m| m.operation_count)
            .map(|n| EventValue::Int(i64::try_from(n).unwrap_or(i64::MAX))),
        Canon::RecordId => text(&ev.record_id),
        Canon::Time => Some(EventValue::Str(Cow::Owned(ev.time.to_string()))),
        Canon::InitiatedById => dir.and_then(|d| opt(&d.initiated_by_id)),
        Canon::Targets
        | Canon::TargetType
        | Canon::TargetName
        | Canon::TargetId
        | Canon::TargetUpn
        | Canon::TargetModified
        | Canon::TargetModifiedName
        | Canon::TargetModifiedNew
        | Canon::TargetModifiedOld => dir.and_then(|d| targets(canon, d)),
        Canon::Payload => std::str::from_utf8(&ev.raw)
            .ok()
            .filter(|s| !s.is_empty())
            .map(|s| EventValue::Str(Cow::Borrowed(s))),
    }
}

/// The values of a name/value list: the whole list, or the entries called `name`.
pub(crate) fn list_values<'e>(
    ev: &'e AuditEvent,
    list: List,
    name: Option<&str>,
) -> Option<EventValue<'e>> {
    let pairs: Box<dyn Iterator<Item = (&'e str, &'e str)> + 'e> = match list {
        List::Parameters => Box::new(pairs(&ev.parameters)),
        List::OperationProperties => Box::new(pairs(&ev.operation_properties)),
        List::ExtendedProperties => Box::new(pairs(&ev.extended_properties)),
        List::ModifiedProperties => Box::new(pairs(&ev.modified_properties)),
        List::AdditionalDetails => match ev.directory.as_deref() {
            Some(d) => Box::new(pairs(&d.additional_details)),
            None => return None,
        },
    };
    let mut values = Vec::new();
    for (n, v) in pairs {
        match name {
            None => {
                values.push(EventValue::Str(Cow::Borrowed(n)));
                values.push(EventValue::Str(Cow::Borrowed(v)));
            }
            Some(wanted) if n.eq_ignore_ascii_case(wanted) => {
                values.push(EventValue::Str(Cow::Borrowed(v)));
            }
            Some(_) => {}
        }
    }
    collapse(values)
}

/// Whether the event has entries in `list` (a reader that could not parse a list leaves it empty).
pub(crate) fn has_list(ev: &AuditEvent, list: List) -> bool {
    match list {
        List::Parameters => !ev.parameters.is_empty(),
        List::OperationProperties => !ev.operation_properties.is_empty(),
        List::ExtendedProperties => !ev.extended_properties.is_empty(),
        List::ModifiedProperties => !ev.modified_properties.is_empty(),
        List::AdditionalDetails => ev
            .directory
            .as_deref()
            .is_some_and(|d| !d.additional_details.is_empty()),
    }
}

/// A bare name looked up in every name/value list of the event (UAL lists, a directory audit's
/// additional details and its targets' modified properties).
pub(crate) fn any_list_value<'e>(ev: &'e AuditEvent, name: &str) -> Option<EventValue<'e>> {
    let mut values = Vec::new();
    for list in [
        &ev.parameters,
        &ev.operation_properties,
        &ev.extended_properties,
        &ev.modified_properties,
    ] {
        for nv in list {
            if nv.name.eq_ignore_ascii_case(name) {
                values.push(EventValue::Str(Cow::Borrowed(nv.value.as_str())));
            }
        }
    }
    if let Some(d) = ev.directory.as_deref() {
        for nv in &d.additional_details {
            if nv.name.eq_ignore_ascii_case(name) {
                values.push(EventValue::Str(Cow::Borrowed(nv.value.as_str())));
            }
        }
        for p in d.targets.iter().flat_map(|t| &t.modified_properties) {
            if p.name.eq_ignore_ascii_case(name)
                && let Some(v) = p.new_value.as_deref()
            {
                values.push(EventValue::Str(unquote(v)));
            }
        }
    }
    collapse(values)
}

fn pairs(list: &[mailtrail_event::NameValue]) -> impl Iterator<Item = (&str, &str)> {
    list.iter().map(|nv| (nv.name.as_str(), nv.value.as_str()))
}

fn targets<'e>(canon: Canon, d: &'e mailtrail_event::DirectoryAudit) -> Option<EventValue<'e>> {
    let mut values = Vec::new();
    let mut push = |s: Option<&'e str>| {
        if let Some(s) = s {
            values.push(EventValue::Str(unquote(s)));
        }
    };
    for t in &d.targets {
        let whole = canon == Canon::Targets;
        if whole || canon == Canon::TargetId {
            push(t.id.as_deref());
        }
        if whole || canon == Canon::TargetName {
            push(t.display_name.as_deref());
        }
        if whole || canon == Canon::TargetType {
            push(t.kind.as_deref());
        }
        if whole || canon == Canon::TargetUpn {
            push(t.user_principal_name.as_deref());
        }
        let modified = whole || canon == Canon::TargetModified;
        for p in &t.modified_properties {
            if modified || canon == Canon::TargetModifiedName {
                push(Some(p.name.as_str()));
            }
            if modified || canon == Canon::TargetModifiedOld {
                push(p.old_value.as_deref());
            }
            if modified || canon == Canon::TargetModifiedNew {
                push(p.new_value.as_deref());
            }
        }
    }
    collapse(values)
}

/// Entra ID writes modified property values as JSON text, so a string value arrives quoted
/// (`"False"` with the quotes). Rules compare against the value: a quoted string is unquoted;
/// anything else (lists, objects, plain text) is kept as written.
fn unquote(s: &str) -> Cow<'_, str> {
    if s.len() >= 2
        && s.starts_with('"')
        && s.ends_with('"')
        && let Ok(inner) = serde_json::from_str::<String>(s)
    {
        return Cow::Owned(inner);
    }
    Cow::Borrowed(s)
}

/// The result as written plus the outcome SigmaHQ's rules compare against.
///
/// The outcome follows Elastic's Office 365 integration, which SigmaHQ's `eventSource` /
/// `eventName` / `status` rules were translated from: `Succeeded`, `Success`, `PartiallySucceeded`
/// and `True` are `success`; `Failed`, `Failure` and `False` are `failure`. A sign-in without a
/// status text is a success when its error code is 0. With `default_success`, a UAL record that
/// carries no result at all (alerts, many Exchange records) is a `success`, as in Elastic.
fn outcome(ev: &AuditEvent, default_success: bool) -> Option<EventValue<'_>> {
    let written = ev.result_status.as_deref().filter(|s| !s.is_empty());
    let derived = match written {
        Some(s) => outcome_word(s),
        None => match ev.sign_in.as_deref().and_then(|s| s.error_code) {
            Some(0) => Some("success"),
            Some(_) => Some("failure"),
            None if default_success && ev.kind == EventKind::UnifiedAudit => Some("success"),
            None => None,
        },
    };
    match (written, derived) {
        (Some(w), Some(d)) if !w.eq_ignore_ascii_case(d) => Some(EventValue::Array(vec![
            EventValue::Str(Cow::Borrowed(w)),
            EventValue::Str(Cow::Borrowed(d)),
        ])),
        (Some(w), _) => Some(EventValue::Str(Cow::Borrowed(w))),
        (None, Some(d)) => Some(EventValue::Str(Cow::Borrowed(d))),
        (None, None) => None,
    }
}

fn outcome_word(s: &str) -> Option<&'static str> {
    const SUCCESS: &[&str] = &["succeeded", "success", "partiallysucceeded", "true"];
    const FAILURE: &[&str] = &["failed", "failure", "false"];
    if SUCCESS.iter().any(|w| s.eq_ignore_ascii_case(w)) {
        Some("success")
    } else if FAILURE.iter().any(|w| s.eq_ignore_ascii_case(w)) {
        Some("failure")
    } else {
        None
    }
}

fn text(s: &str) -> Option<EventValue<'_>> {
    (!s.is_empty()).then_some(EventValue::Str(Cow::Borrowed(s)))
}

fn opt(s: &Option<String>) -> Option<EventValue<'_>> {
    s.as_deref().and_then(text)
}

/// No values is an absent field, one is itself, more are an array (any-member semantics).
pub(crate) fn collapse(mut values: Vec<EventValue<'_>>) -> Option<EventValue<'_>> {
    match values.len() {
        0 => None,
        1 => values.pop(),
        _ => Some(EventValue::Array(values)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mailtrail_event::{NameValue, SignIn};

    fn s(v: Option<EventValue<'_>>) -> Vec<String> {
        match v {
            None => vec![],
            Some(EventValue::Array(a)) => a
                .iter()
                .filter_map(|v| v.as_str().map(|s| s.into_owned()))
                .collect(),
            Some(v) => v.as_str().map(|s| s.into_owned()).into_iter().collect(),
        }
    }

    #[test]
    fn the_user_guide_lists_every_name_of_the_table() {
        let guide = include_str!("../../../../docs/sigma.md");
        for (_, names) in TABLE {
            for name in *names {
                assert!(
                    guide.contains(&format!("`{name}`")),
                    "docs/sigma.md lacks `{name}`"
                );
            }
        }
        for (_, name) in LISTS {
            assert!(
                guide.contains(&format!("`{name}`")),
                "docs/sigma.md lacks `{name}`"
            );
        }
    }

    #[test]
    fn every_spelling_of_the_operation_resolves_to_it() {
        for name in [
            "Operation",
            "operation",
            "eventName",
            "operationName",
            "OperationName",
            "ActivityDisplayName",
            "activityDisplayName",
            "properties.operationName",
            "properties.message",
        ] {
            assert!(
                matches!(
                    Resolution::of(name),
                    Resolution::Canon(Canon::Operation | Canon::EventName | Canon::Message)
                ),
                "{name}"
            );
        }
    }

    #[test]
    fn names_outside_the_table_go_to_lists_or_the_record() {
        assert_eq!(
            Resolution::of("Parameters"),
            Resolution::WholeList(List::Parameters)
        );
        assert_eq!(
            Resolution::of("Parameters.ForwardTo"),
            Resolution::ListEntry(List::Parameters, "ForwardTo".into())
        );
        assert_eq!(
            Resolution::of("properties.additionalDetails.User-Agent"),
            Resolution::ListEntry(List::AdditionalDetails, "User-Agent".into())
        );
        assert_eq!(
            Resolution::of("DeviceDetail.trustType"),
            Resolution::Record("DeviceDetail.trustType".into())
        );
        // A prefix that is only part of a list name is not that list.
        assert_eq!(
            Resolution::of("ParametersX"),
            Resolution::Record("ParametersX".into())
        );
    }

    #[test]
    fn status_is_written_and_normalised_so_both_spellings_match() {
        let ev = AuditEvent {
            result_status: Some("Succeeded".into()),
            ..Default::default()
        };
        assert_eq!(
            s(canon_value(Canon::Outcome, &ev)),
            vec!["Succeeded", "success"]
        );
        let ev = AuditEvent {
            result_status: Some("Success".into()),
            ..Default::default()
        };
        assert_eq!(s(canon_value(Canon::Outcome, &ev)), vec!["Success"]);
        let ev = AuditEvent {
            result_status: Some("False".into()),
            ..Default::default()
        };
        assert_eq!(
            s(canon_value(Canon::ResultStatus, &ev)),
            vec!["False", "failure"]
        );
    }

    #[test]
    fn a_ual_record_without_result_is_a_success_only_for_status() {
        let ev = AuditEvent::default();
        assert_eq!(s(canon_value(Canon::Outcome, &ev)), vec!["success"]);
        assert!(canon_value(Canon::ResultStatus, &ev).is_none());
        let signin = AuditEvent {
            kind: EventKind::SignIn,
            sign_in: Some(Box::new(SignIn {
                error_code: Some(50126),
                ..Default::default()
            })),
            ..Default::default()
        };
        assert_eq!(s(canon_value(Canon::Outcome, &signin)), vec!["failure"]);
        assert_eq!(
            canon_value(Canon::ResultType, &signin),
            Some(EventValue::Int(50126))
        );
    }

    #[test]
    fn user_id_means_what_each_schema_means_by_it() {
        let ual = AuditEvent {
            user_id: Some("a@contoso.example".into()),
            ..Default::default()
        };
        assert_eq!(
            s(canon_value(Canon::UserIdByKind, &ual)),
            vec!["a@contoso.example"]
        );
        let signin = AuditEvent {
            kind: EventKind::SignIn,
            user_id: Some("a@contoso.example".into()),
            sign_in: Some(Box::new(SignIn {
                user_object_id: Some("0b1c".into()),
                ..Default::default()
            })),
            ..Default::default()
        };
        assert_eq!(s(canon_value(Canon::UserIdByKind, &signin)), vec!["0b1c"]);
    }

    #[test]
    fn quoted_modified_property_values_are_unquoted() {
        assert_eq!(unquote(r#""False""#), "False");
        assert_eq!(unquote(r#""a \"b\"""#), r#"a "b""#);
        assert_eq!(unquote(r#"["Mail.Read"]"#), r#"["Mail.Read"]"#);
        assert_eq!(unquote("plain"), "plain");
        assert_eq!(unquote(r#"""#), r#"""#);
    }

    #[test]
    fn a_whole_list_gives_every_name_and_value() {
        let ev = AuditEvent {
            parameters: vec![
                NameValue {
                    name: "ForwardTo".into(),
                    value: "x@evil.example".into(),
                },
                NameValue {
                    name: "Name".into(),
                    value: ".".into(),
                },
            ],
            ..Default::default()
        };
        assert_eq!(
            s(list_values(&ev, List::Parameters, None)),
            vec!["ForwardTo", "x@evil.example", "Name", "."]
        );
        assert_eq!(
            s(list_values(&ev, List::Parameters, Some("forwardto"))),
            vec!["x@evil.example"]
        );
        assert!(list_values(&ev, List::Parameters, Some("RedirectTo")).is_none());
    }
}
