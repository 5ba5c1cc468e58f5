//! [`AuditEvent`] and the detail types it carries.

use std::fmt;
use std::net::IpAddr;

use bytes::Bytes;
use serde::{Deserialize, Serialize};

use crate::{LogonType, MailAccessType, RecordType, Timestamp, UserType};

/// One audit record, normalised.
///
/// The typed fields are what mailtrail understands of the record; [`raw`](Self::raw) is the record
/// itself, byte for byte as it arrived (after removing the container: the JSON array around a
/// Management Activity API blob, the CSV quoting around a Purview `AuditData` cell, the line ending
/// of NDJSON). Fields a reader does not map stay available in `raw`.
///
/// String fields are `None` when the record does not carry them or carries an empty string.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct AuditEvent {
    /// Which schema the record follows: a Unified Audit Log record, a sign-in or a directory audit.
    pub kind: EventKind,
    /// The form it was read from.
    pub source: SourceFormat,
    /// The record's own id (`Id` of a UAL record, `id` of a sign-in). Unique per record and stable
    /// across export formats, so it is the de-duplication key.
    pub record_id: String,
    /// When the audited activity happened (`CreationTime`, `createdDateTime`, `activityDateTime`).
    pub time: Timestamp,
    /// The tenant the record belongs to (`OrganizationId`, `tenantId`).
    pub tenant_id: Option<String>,
    /// `Workload`: Exchange, AzureActiveDirectory, SharePoint, …; `AzureActiveDirectory` for Entra logs.
    pub workload: Option<String>,
    /// The UAL record type.
    pub record_type: Option<RecordType>,
    /// `Operation` (UAL), the activity name of a directory audit, or `SignIn`.
    pub operation: String,
    /// `ResultStatus` (UAL) or the result of a sign-in or directory audit (`Success`, `Failure`, …).
    pub result_status: Option<String>,
    /// `UserId`, or the sign-in's user principal name.
    pub user_id: Option<String>,
    /// `UserType`.
    pub user_type: Option<UserType>,
    /// The client address (`ClientIP`, `ClientIPAddress`, `ActorIpAddress`, `ipAddress`).
    pub client_ip: Option<IpAddr>,
    /// `ClientInfoString` for Exchange, the user agent elsewhere.
    pub user_agent: Option<String>,
    /// `AppId`: the resource application that served the request (Microsoft Graph, Exchange Online),
    /// or the application signed in to.
    pub app_id: Option<String>,
    /// `ClientAppId`: the application that called it (the one that actually read the mail).
    pub client_app_id: Option<String>,
    /// Exchange `SessionId`.
    pub session_id: Option<String>,
    /// `AADSessionId` (UAL `AppAccessContext`) or the sign-in's `sessionId`.
    pub aad_session_id: Option<String>,
    /// `UniqueTokenId` (UAL `AppAccessContext`) or the sign-in's `uniqueTokenIdentifier`: the token
    /// that was used, which joins mail access to the sign-in that issued it.
    pub unique_token_id: Option<String>,
    /// `TokenTenantId`: the tenant that issued the token. Differs from `tenant_id` for guest and
    /// foreign-tenant access; the consumer tenant here on an enterprise mailbox is a forgery signal.
    pub token_tenant_id: Option<String>,
    /// `TokenObjectId`: the object (user or service principal) the token was issued to.
    pub token_object_id: Option<String>,
    /// `MailboxOwnerUPN`.
    pub mailbox_owner_upn: Option<String>,
    /// `MailboxGuid`.
    pub mailbox_guid: Option<String>,
    /// `LogonType`.
    pub logon_type: Option<LogonType>,
    /// `ObjectId`: the item, file or object acted on.
    pub object_id: Option<String>,
    /// Details of `MailItemsAccessed` (and other mailbox reads).
    pub mail_access: Option<MailAccess>,
    /// The messages a mailbox operation acted on: `Item` of `Send`, `Create`, `Update`, …, and
    /// `AffectedItems` of moves and deletes. `MailItemsAccessed` lists the messages it read in
    /// [`mail_access`](Self::mail_access).
    #[serde(default)]
    pub items: Vec<MailItem>,
    /// Parts of the record that could not be read, each as what and why, e.g. `field
    /// AffectedItems: neither a message nor a list of messages`. The record was read without
    /// them; it stays evidence, so it is not rejected, but what these parts say is missing from
    /// the fields above.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unread: Vec<String>,
    /// `Parameters` of an admin cmdlet or inbox rule, as name/value pairs.
    pub parameters: Vec<NameValue>,
    /// `OperationProperties`.
    pub operation_properties: Vec<NameValue>,
    /// `ExtendedProperties`.
    pub extended_properties: Vec<NameValue>,
    /// `ModifiedProperties` (UAL). Directory audits carry theirs per [`Target`].
    pub modified_properties: Vec<NameValue>,
    /// Sign-in details, for [`EventKind::SignIn`].
    pub sign_in: Option<Box<SignIn>>,
    /// Directory audit details, for [`EventKind::DirectoryAudit`].
    pub directory: Option<Box<DirectoryAudit>>,
    /// The original record bytes, exactly as received.
    #[serde(skip)]
    pub raw: Bytes,
}

impl AuditEvent {
    /// The mailbox this event acted on: `MailboxOwnerUPN`, else the user for Exchange records.
    pub fn mailbox(&self) -> Option<&str> {
        self.mailbox_owner_upn.as_deref().or_else(|| {
            (self.workload.as_deref() == Some("Exchange"))
                .then_some(self.user_id.as_deref())
                .flatten()
        })
    }

    /// Every `InternetMessageId` the record names: the messages `MailItemsAccessed` read and
    /// the messages another mailbox operation acted on.
    pub fn message_ids(&self) -> impl Iterator<Item = &str> {
        self.mail_access
            .iter()
            .flat_map(MailAccess::message_ids)
            .chain(
                self.items
                    .iter()
                    .filter_map(|i| i.internet_message_id.as_deref()),
            )
    }

    /// Whether this event read mail content: `MailItemsAccessed` of either access type.
    pub fn reads_mail(&self) -> bool {
        self.operation == "MailItemsAccessed"
    }

    /// Looks a name up in every name/value list of the record (Parameters, OperationProperties,
    /// ExtendedProperties, ModifiedProperties), case-insensitively.
    pub fn property(&self, name: &str) -> Option<&str> {
        [
            &self.parameters,
            &self.operation_properties,
            &self.extended_properties,
            &self.modified_properties,
        ]
        .into_iter()
        .flatten()
        .find(|nv| nv.name.eq_ignore_ascii_case(name))
        .map(|nv| nv.value.as_str())
    }
}

/// Which schema a record follows.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum EventKind {
    /// A Microsoft 365 Unified Audit Log record (Exchange, Entra ID via UAL, SharePoint, …).
    #[default]
    UnifiedAudit,
    /// An Entra ID sign-in (interactive, non-interactive, service principal, managed identity).
    SignIn,
    /// An Entra ID directory audit event (application, consent, role, user management).
    DirectoryAudit,
    /// A record of another Microsoft product found among the input (e.g. Defender device events),
    /// kept with its time and action but not analysed.
    Other,
}

impl EventKind {
    /// The name used in reports and queries.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::UnifiedAudit => "unified_audit",
            Self::SignIn => "sign_in",
            Self::DirectoryAudit => "directory_audit",
            Self::Other => "other",
        }
    }
}

impl fmt::Display for EventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The form a record was read from.
///
/// This is provenance, reported in coverage and kept in the store; the record's schema is
/// [`EventKind`]. The same UAL record read from a Management Activity API blob and from a Purview CSV
/// has the same `record_id` and two different sources.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum SourceFormat {
    /// A JSON array of UAL records, as a Management Activity API content blob.
    #[default]
    ManagementApi,
    /// One UAL record per line.
    UalNdjson,
    /// Purview audit search export, current columns (`RecordId, CreationDate, RecordType, …, AuditData`).
    PurviewCsv,
    /// Purview audit search export, classic columns (`CreationDate, UserIds, Operations, AuditData`).
    PurviewCsvClassic,
    /// `Search-UnifiedAuditLog | Export-Csv` output (`…, AuditData, ResultIndex, ResultCount, Identity, …`).
    SearchUnifiedAuditLogCsv,
    /// Microsoft Sentinel `OfficeActivity` table rows.
    SentinelOfficeActivity,
    /// Microsoft Defender XDR `CloudAppEvents` rows (the UAL record in `RawEventData`).
    DefenderCloudAppEvents,
    /// Other Microsoft Defender XDR advanced hunting rows (device events).
    DefenderAdvancedHunting,
    /// Microsoft Graph `signIn` resources.
    GraphSignIn,
    /// Entra ID sign-ins exported by Azure Monitor diagnostic settings (`properties` envelope).
    AzureMonitorSignIn,
    /// Microsoft Sentinel `SigninLogs` / `AADNonInteractiveUserSignInLogs` / service principal rows.
    SentinelSignIn,
    /// Microsoft Graph `directoryAudit` resources.
    GraphDirectoryAudit,
    /// Entra ID audit logs exported by Azure Monitor diagnostic settings.
    AzureMonitorAudit,
    /// Microsoft Sentinel `AuditLogs` rows.
    SentinelAuditLogs,
}

impl SourceFormat {
    /// Every source format, in a stable order.
    pub const ALL: [SourceFormat; 14] = [
        Self::ManagementApi,
        Self::UalNdjson,
        Self::PurviewCsv,
        Self::PurviewCsvClassic,
        Self::SearchUnifiedAuditLogCsv,
        Self::SentinelOfficeActivity,
        Self::DefenderCloudAppEvents,
        Self::DefenderAdvancedHunting,
        Self::GraphSignIn,
        Self::AzureMonitorSignIn,
        Self::SentinelSignIn,
        Self::GraphDirectoryAudit,
        Self::AzureMonitorAudit,
        Self::SentinelAuditLogs,
    ];

    /// A short stable name, used in reports, the store and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ManagementApi => "management-api",
            Self::UalNdjson => "ual-ndjson",
            Self::PurviewCsv => "purview-csv",
            Self::PurviewCsvClassic => "purview-csv-classic",
            Self::SearchUnifiedAuditLogCsv => "search-unifiedauditlog-csv",
            Self::SentinelOfficeActivity => "sentinel-officeactivity",
            Self::DefenderCloudAppEvents => "defender-cloudappevents",
            Self::DefenderAdvancedHunting => "defender-advanced-hunting",
            Self::GraphSignIn => "graph-signin",
            Self::AzureMonitorSignIn => "azure-monitor-signin",
            Self::SentinelSignIn => "sentinel-signin",
            Self::GraphDirectoryAudit => "graph-directoryaudit",
            Self::AzureMonitorAudit => "azure-monitor-audit",
            Self::SentinelAuditLogs => "sentinel-auditlogs",
        }
    }

    /// The inverse of [`as_str`](Self::as_str).
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.as_str() == name)
    }
}

impl Serialize for SourceFormat {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for SourceFormat {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = std::borrow::Cow::<str>::deserialize(d)?;
        Self::from_name(&name)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown source format {name:?}")))
    }
}

impl fmt::Display for SourceFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A `{Name, Value}` pair from one of the UAL's property lists.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NameValue {
    /// `Name`.
    pub name: String,
    /// `Value`, as text (non-string JSON values are kept in their JSON text).
    pub value: String,
}

/// What a `MailItemsAccessed` record says was read.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct MailAccess {
    /// `MailAccessType`: `Bind` (messages opened) or `Sync` (a folder synchronised).
    pub access_type: Option<MailAccessType>,
    /// `IsThrottled`: Exchange stopped writing records for this mailbox after more than 1,000
    /// `MailItemsAccessed` records in 24 hours, so more was read than the log shows.
    pub is_throttled: Option<bool>,
    /// `OperationCount`: how many accesses this aggregated record stands for.
    pub operation_count: Option<u64>,
    /// The folders read, with the messages in each (Bind) or just the folder (Sync).
    pub folders: Vec<Folder>,
}

impl MailAccess {
    /// Every InternetMessageId in every folder.
    pub fn message_ids(&self) -> impl Iterator<Item = &str> {
        self.folders
            .iter()
            .flat_map(|f| f.message_ids.iter().map(String::as_str))
    }
}

/// A message a mailbox operation acted on (an Exchange `Item` or one of `AffectedItems`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailItem {
    /// `InternetMessageId`: the id the message carries across mailboxes and tenants.
    pub internet_message_id: Option<String>,
    /// `Subject`.
    pub subject: Option<String>,
    /// `ParentFolder.Path`: the folder the message was in, e.g. `\Inbox`.
    pub folder: Option<String>,
}

/// One folder of a `MailItemsAccessed` record.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Folder {
    /// The folder id.
    pub id: Option<String>,
    /// The folder path, e.g. `\Inbox`.
    pub path: Option<String>,
    /// `InternetMessageId` of each item read.
    pub message_ids: Vec<String>,
}

/// The parts of an Entra ID sign-in that the common fields do not hold.
///
/// The common fields hold the rest: user principal name in `user_id`, IP in `client_ip`, user agent,
/// `appId` in `app_id`, `uniqueTokenIdentifier`, `sessionId` in `aad_session_id`, status in
/// `result_status`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SignIn {
    /// `appDisplayName`.
    pub app_display_name: Option<String>,
    /// `resourceId`: the resource the token is for (e.g. Exchange Online, Microsoft Graph).
    pub resource_id: Option<String>,
    /// `resourceDisplayName`.
    pub resource_display_name: Option<String>,
    /// `userId`: the user's object id.
    pub user_object_id: Option<String>,
    /// `userDisplayName`.
    pub user_display_name: Option<String>,
    /// `servicePrincipalId` for service principal sign-ins.
    pub service_principal_id: Option<String>,
    /// `status.errorCode` (`ResultType`): 0 is success.
    pub error_code: Option<i64>,
    /// `status.failureReason` (`ResultDescription`).
    pub failure_reason: Option<String>,
    /// `signInEventTypes` (`interactiveUser`, `nonInteractiveUser`, `servicePrincipal`,
    /// `managedIdentity`), or the Sentinel table / Azure Monitor category it came from.
    pub event_types: Vec<String>,
    /// `isInteractive`.
    pub is_interactive: Option<bool>,
    /// `tokenIssuerType`: `AzureAD`, `ADFederationServices`, …; federated issuers are where
    /// Golden SAML tokens come from.
    pub token_issuer_type: Option<String>,
    /// `tokenIssuerName`.
    pub token_issuer_name: Option<String>,
    /// `incomingTokenType`: `none`, `primaryRefreshToken`, `saml11`, `saml20`, …
    pub incoming_token_type: Option<String>,
    /// `clientAppUsed`: Browser, Mobile Apps and Desktop clients, Exchange ActiveSync, IMAP, …
    pub client_app_used: Option<String>,
    /// `conditionalAccessStatus`.
    pub conditional_access_status: Option<String>,
    /// `authenticationRequirement`: singleFactorAuthentication / multiFactorAuthentication.
    pub authentication_requirement: Option<String>,
    /// `homeTenantId`: the user's home tenant.
    pub home_tenant_id: Option<String>,
    /// `resourceTenantId`.
    pub resource_tenant_id: Option<String>,
    /// `crossTenantAccessType`.
    pub cross_tenant_access_type: Option<String>,
    /// `correlationId`.
    pub correlation_id: Option<String>,
    /// `location`.
    pub location: Option<Location>,
    /// `autonomousSystemNumber`.
    pub asn: Option<u32>,
    /// `riskLevelDuringSignIn`.
    pub risk_level: Option<String>,
}

/// Where a sign-in came from, as Entra ID geolocated it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Location {
    /// `city`.
    pub city: Option<String>,
    /// `state`.
    pub state: Option<String>,
    /// `countryOrRegion`, two letters.
    pub country: Option<String>,
}

/// The parts of an Entra ID directory audit event that the common fields do not hold.
///
/// The activity name is in `operation`, the initiating user in `user_id`, the initiating
/// application in `app_id`, the result in `result_status`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct DirectoryAudit {
    /// `category`: ApplicationManagement, UserManagement, RoleManagement, …
    pub category: Option<String>,
    /// `operationType`: Add, Update, Assign, Delete, …
    pub operation_type: Option<String>,
    /// `correlationId`.
    pub correlation_id: Option<String>,
    /// `loggedByService`.
    pub logged_by_service: Option<String>,
    /// `initiatedBy.app.displayName`.
    pub initiated_by_app_name: Option<String>,
    /// `initiatedBy.app.servicePrincipalId` or `initiatedBy.user.id`.
    pub initiated_by_id: Option<String>,
    /// `targetResources`.
    pub targets: Vec<Target>,
    /// `additionalDetails` as key/value pairs.
    pub additional_details: Vec<NameValue>,
}

/// One target of a directory audit event.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Target {
    /// `id`.
    pub id: Option<String>,
    /// `displayName`.
    pub display_name: Option<String>,
    /// `type`: Application, ServicePrincipal, User, …
    pub kind: Option<String>,
    /// `userPrincipalName`, for user targets.
    pub user_principal_name: Option<String>,
    /// `modifiedProperties`.
    pub modified_properties: Vec<ModifiedProperty>,
}

/// A property a directory audit event changed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModifiedProperty {
    /// `displayName`.
    pub name: String,
    /// `oldValue`, as written (often itself JSON text).
    pub old_value: Option<String>,
    /// `newValue`, as written.
    pub new_value: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn source_format_names_round_trip() {
        for f in SourceFormat::ALL {
            assert_eq!(SourceFormat::from_name(f.as_str()), Some(f));
            let json = serde_json::to_string(&f).unwrap_or_default();
            assert_eq!(json, format!("\"{}\"", f.as_str()));
        }
    }

    #[test]
    fn property_looks_through_every_list() {
        let ev = AuditEvent {
            parameters: vec![NameValue {
                name: "ForwardTo".into(),
                value: "x@evil.example".into(),
            }],
            operation_properties: vec![NameValue {
                name: "MailAccessType".into(),
                value: "Bind".into(),
            }],
            ..Default::default()
        };
        assert_eq!(ev.property("forwardto"), Some("x@evil.example"));
        assert_eq!(ev.property("MailAccessType"), Some("Bind"));
        assert_eq!(ev.property("Missing"), None);
    }

    #[test]
    fn mailbox_falls_back_to_the_exchange_user() {
        let mut ev = AuditEvent {
            workload: Some("Exchange".into()),
            user_id: Some("a@contoso.example".into()),
            ..Default::default()
        };
        assert_eq!(ev.mailbox(), Some("a@contoso.example"));
        ev.mailbox_owner_upn = Some("b@contoso.example".into());
        assert_eq!(ev.mailbox(), Some("b@contoso.example"));
        ev.workload = Some("SharePoint".into());
        ev.mailbox_owner_upn = None;
        assert_eq!(ev.mailbox(), None);
    }
}
