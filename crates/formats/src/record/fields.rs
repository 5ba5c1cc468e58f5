//! [`Fields`]: every key mailtrail reads, of every schema, in one borrowed struct.
//!
//! A record is parsed exactly once, into this struct, borrowing strings from the record's bytes
//! where they contain no escapes; keys it does not name are skipped by serde without allocating.
//! Which schema the record follows is then decided from which fields are present
//! ([`classify`](super::classify)), and the schema's builder reads the ones it needs. Nested values
//! (objects, lists, and the JSON that Sentinel serialises into strings) stay `&RawValue` until a
//! builder asks for them.
//!
//! JSON keys are case-sensitive and the schemas reuse names with other cases (`Id` in the UAL, `id`
//! in Graph), so each spelling is its own field.

use serde::Deserialize;
use serde_json::value::RawValue;

use super::values::Scalar;

macro_rules! fields {
    ($( $(#[$doc:meta])* $name:ident : $ty:ident = $key:literal, )*) => {
        /// The union of the fields of every schema (see the module docs).
        #[derive(Default, Deserialize)]
        #[allow(non_snake_case)]
        pub(crate) struct Fields<'a> {
            $(
                $(#[$doc])*
                #[serde(rename = $key, default, borrow)]
                pub(crate) $name: Option<$ty<'a>>,
            )*
        }
    };
}

/// A scalar field (`S` keeps the table below narrow).
type S<'a> = Scalar<'a>;
/// A nested field, parsed when a builder asks for it.
type R<'a> = &'a RawValue;

fields! {
    // Unified Audit Log: the Management Activity API common schema and the Exchange, Entra ID and
    // SharePoint schemas built on it.
    Id: S = "Id",
    CreationTime: S = "CreationTime",
    RecordType: S = "RecordType",
    Operation: S = "Operation",
    OrganizationId: S = "OrganizationId",
    Workload: S = "Workload",
    ResultStatus: S = "ResultStatus",
    UserId: S = "UserId",
    UserType: S = "UserType",
    ObjectId: S = "ObjectId",
    ClientIP: S = "ClientIP",
    ClientIPAddress: S = "ClientIPAddress",
    ActorIpAddress: S = "ActorIpAddress",
    ClientInfoString: S = "ClientInfoString",
    UserAgent: S = "UserAgent",
    AppId: S = "AppId",
    ClientAppId: S = "ClientAppId",
    ApplicationId: S = "ApplicationId",
    SessionId: S = "SessionId",
    AADSessionId: S = "AADSessionId",
    UniqueTokenId: S = "UniqueTokenId",
    TokenTenantId: S = "TokenTenantId",
    TokenObjectId: S = "TokenObjectId",
    MailboxOwnerUPN: S = "MailboxOwnerUPN",
    MailboxGuid: S = "MailboxGuid",
    LogonType: S = "LogonType",
    OperationCount: S = "OperationCount",
    IsThrottled: S = "IsThrottled",
    MailAccessType: S = "MailAccessType",
    Folders: R = "Folders",
    Item: R = "Item",
    AffectedItems: R = "AffectedItems",
    OperationProperties: R = "OperationProperties",
    Parameters: R = "Parameters",
    ExtendedProperties: R = "ExtendedProperties",
    ModifiedProperties: R = "ModifiedProperties",
    AppAccessContext: R = "AppAccessContext",

    // Microsoft Sentinel `OfficeActivity`: the UAL with some columns renamed.
    TimeGenerated: S = "TimeGenerated",
    OfficeId: S = "OfficeId",
    SourceRecordId: S = "SourceRecordId",
    OfficeWorkload: S = "OfficeWorkload",
    Client_IPAddress: S = "Client_IPAddress",
    Logon_Type: S = "Logon_Type",
    OfficeObjectId: S = "OfficeObjectId",
    Type: S = "Type",

    // Microsoft Defender XDR advanced hunting (`CloudAppEvents` and device tables).
    Timestamp: S = "Timestamp",
    ActionType: S = "ActionType",
    Application: S = "Application",
    AccountUpn: S = "AccountUpn",
    IPAddress: S = "IPAddress",
    RemoteIP: S = "RemoteIP",
    ReportId: S = "ReportId",
    ReportId_long: S = "ReportId_long",
    DeviceId: S = "DeviceId",
    DeviceName: S = "DeviceName",
    RawEventData: R = "RawEventData",
    OAuthAppId: S = "OAuthAppId",
    ActivityType: S = "ActivityType",
    InitiatingProcessAccountUpn: S = "InitiatingProcessAccountUpn",

    // Microsoft Graph `signIn` and `directoryAudit` (also the `properties` of Azure Monitor exports).
    id: S = "id",
    tenantId: S = "tenantId",
    createdDateTime: S = "createdDateTime",
    userPrincipalName: S = "userPrincipalName",
    userDisplayName: S = "userDisplayName",
    userId: S = "userId",
    appId: S = "appId",
    appDisplayName: S = "appDisplayName",
    ipAddress: S = "ipAddress",
    userAgent: S = "userAgent",
    clientAppUsed: S = "clientAppUsed",
    correlationId: S = "correlationId",
    conditionalAccessStatus: S = "conditionalAccessStatus",
    isInteractive: S = "isInteractive",
    riskLevelDuringSignIn: S = "riskLevelDuringSignIn",
    status: R = "status",
    location: R = "location",
    resourceDisplayName: S = "resourceDisplayName",
    resourceId: S = "resourceId",
    resourceTenantId: S = "resourceTenantId",
    homeTenantId: S = "homeTenantId",
    signInEventTypes: R = "signInEventTypes",
    tokenIssuerType: S = "tokenIssuerType",
    tokenIssuerName: S = "tokenIssuerName",
    incomingTokenType: S = "incomingTokenType",
    uniqueTokenIdentifier: S = "uniqueTokenIdentifier",
    sessionId: S = "sessionId",
    autonomousSystemNumber: S = "autonomousSystemNumber",
    authenticationRequirement: S = "authenticationRequirement",
    crossTenantAccessType: S = "crossTenantAccessType",
    servicePrincipalId: S = "servicePrincipalId",
    servicePrincipalName: S = "servicePrincipalName",
    activityDateTime: S = "activityDateTime",
    activityDisplayName: S = "activityDisplayName",
    category: S = "category",
    loggedByService: S = "loggedByService",
    operationType: S = "operationType",
    result: S = "result",
    initiatedBy: R = "initiatedBy",
    targetResources: R = "targetResources",
    additionalDetails: R = "additionalDetails",

    // The Azure Monitor diagnostic-settings envelope around Entra ID logs.
    time: S = "time",
    operationName: S = "operationName",
    resultType: S = "resultType",
    resultDescription: S = "resultDescription",
    callerIpAddress: S = "callerIpAddress",
    properties: R = "properties",

    // Microsoft Sentinel `SigninLogs` (and the non-interactive, service principal and managed
    // identity tables) and `AuditLogs`.
    AADTenantId: S = "AADTenantId",
    CreatedDateTime: S = "CreatedDateTime",
    UserPrincipalName: S = "UserPrincipalName",
    UserDisplayName: S = "UserDisplayName",
    AppDisplayName: S = "AppDisplayName",
    ResultType: S = "ResultType",
    ResultDescription: S = "ResultDescription",
    Status: R = "Status",
    LocationDetails: R = "LocationDetails",
    ClientAppUsed: S = "ClientAppUsed",
    ConditionalAccessStatus: S = "ConditionalAccessStatus",
    IsInteractive: S = "IsInteractive",
    TokenIssuerType: S = "TokenIssuerType",
    TokenIssuerName: S = "TokenIssuerName",
    IncomingTokenType: S = "IncomingTokenType",
    UniqueTokenIdentifier: S = "UniqueTokenIdentifier",
    AutonomousSystemNumber: S = "AutonomousSystemNumber",
    ResourceDisplayName: S = "ResourceDisplayName",
    ResourceIdentity: S = "ResourceIdentity",
    HomeTenantId: S = "HomeTenantId",
    ResourceTenantId: S = "ResourceTenantId",
    CrossTenantAccessType: S = "CrossTenantAccessType",
    CorrelationId: S = "CorrelationId",
    AuthenticationRequirement: S = "AuthenticationRequirement",
    RiskLevelDuringSignIn: S = "RiskLevelDuringSignIn",
    ServicePrincipalId: S = "ServicePrincipalId",
    ServicePrincipalName: S = "ServicePrincipalName",
    Category: S = "Category",
    OperationName: S = "OperationName",
    ActivityDateTime: S = "ActivityDateTime",
    ActivityDisplayName: S = "ActivityDisplayName",
    Result: S = "Result",
    LoggedByService: S = "LoggedByService",
    AADOperationType: S = "AADOperationType",
    InitiatedBy: R = "InitiatedBy",
    TargetResources: R = "TargetResources",
    AdditionalDetails: R = "AdditionalDetails",
}

/// Whether an optional scalar is present and not empty.
pub(crate) fn has(s: &Option<Scalar<'_>>) -> bool {
    s.as_ref().is_some_and(|s| s.text().is_some())
}

/// Whether an optional nested value is present and not `null`, `""`, `[]` or `{}`.
pub(crate) fn has_raw(r: Option<&RawValue>) -> bool {
    r.is_some_and(|r| !matches!(r.get().trim(), "null" | "\"\"" | "[]" | "{}"))
}
