//! Unified Audit Log records: as the Management Activity API writes them, inside Purview and
//! `Search-UnifiedAuditLog` CSV `AuditData` cells, inside Defender's `RawEventData`, and as Sentinel's
//! `OfficeActivity` table renames them.

use std::borrow::Cow;

use bytes::Bytes;
use mailtrail_event::{
    AuditEvent, EventKind, LogonType, MailAccess, MailAccessType, NameValue, RecordType,
    SourceFormat, Timestamp, UserType, parse_client_ip,
};
use serde::Deserialize;
use serde_json::value::RawValue;

use super::fields::Fields;
use super::values::{
    Scalar, folders, mail_items, name_values, nested, nested_json, parse_bool, text,
};
use super::{record_id, time};
use crate::RecordErrorKind;

/// `AppAccessContext`: the token behind an Exchange or SharePoint access (2023 expanded logging).
#[derive(Default, Deserialize)]
#[allow(non_snake_case)]
struct AppAccessContext<'a> {
    #[serde(default, borrow)]
    AADSessionId: Option<Scalar<'a>>,
    #[serde(default, borrow)]
    UniqueTokenId: Option<Scalar<'a>>,
    #[serde(default, borrow)]
    ClientAppId: Option<Scalar<'a>>,
    #[serde(default, borrow)]
    TokenTenantId: Option<Scalar<'a>>,
    #[serde(default, borrow)]
    TokenObjectId: Option<Scalar<'a>>,
}

#[derive(Default)]
struct Context {
    aad_session_id: Option<String>,
    unique_token_id: Option<String>,
    client_app_id: Option<String>,
    token_tenant_id: Option<String>,
    token_object_id: Option<String>,
}

fn app_access_context(raw: Option<&RawValue>) -> Result<Option<Context>, RecordErrorKind> {
    const FIELD: &str = "AppAccessContext";
    let Some(json) = raw.map(|r| nested_json(r, FIELD)).transpose()?.flatten() else {
        return Ok(None);
    };
    let c: AppAccessContext<'_> = serde_json::from_str(&json).map_err(|e| nested(FIELD, &e))?;
    Ok(Some(Context {
        aad_session_id: text(&[&c.AADSessionId]),
        unique_token_id: text(&[&c.UniqueTokenId]),
        client_app_id: text(&[&c.ClientAppId]),
        token_tenant_id: text(&[&c.TokenTenantId]),
        token_object_id: text(&[&c.TokenObjectId]),
    }))
}

fn lookup<'l>(list: &'l [NameValue], name: &str) -> Option<&'l str> {
    list.iter()
        .find(|nv| nv.name.eq_ignore_ascii_case(name))
        .map(|nv| nv.value.as_str())
        .filter(|v| !v.trim().is_empty())
}

pub(super) fn record_type(s: &Option<Scalar<'_>>) -> Option<RecordType> {
    match s.as_ref()? {
        Scalar::Int(n) => u16::try_from(*n).ok().map(RecordType::from_code),
        Scalar::UInt(n) => u16::try_from(*n).ok().map(RecordType::from_code),
        other => RecordType::parse(&other.text()?),
    }
}

/// The first candidate that is an IP address; `<null>` and host names are passed over.
pub(super) fn client_ip(candidates: &[&Option<Scalar<'_>>]) -> Option<std::net::IpAddr> {
    candidates
        .iter()
        .filter_map(|c| c.as_ref().and_then(Scalar::text))
        .find_map(|t| parse_client_ip(&t))
}

/// The record's time and id, as [`build`] reads them.
pub(super) fn key(f: &Fields<'_>) -> Result<(Timestamp, String), RecordErrorKind> {
    let record_id = record_id(&[
        ("Id", &f.Id),
        ("OfficeId", &f.OfficeId),
        ("SourceRecordId", &f.SourceRecordId),
    ])?;
    let time = time(&[
        ("CreationTime", &f.CreationTime),
        ("TimeGenerated", &f.TimeGenerated),
    ])?;
    Ok((time, record_id))
}

pub(super) fn build(
    source: SourceFormat,
    f: &Fields<'_>,
    raw: Bytes,
) -> Result<AuditEvent, RecordErrorKind> {
    let (time, record_id) = key(f)?;
    let operation = text(&[&f.Operation]).ok_or(RecordErrorKind::MissingField("Operation"))?;

    let parameters = name_values(f.Parameters, "Parameters")?;
    let operation_properties = name_values(f.OperationProperties, "OperationProperties")?;
    let extended_properties = name_values(f.ExtendedProperties, "ExtendedProperties")?;
    let modified_properties = name_values(f.ModifiedProperties, "ModifiedProperties")?;
    // Top-level fields win; AppAccessContext fills what they leave empty.
    let ctx = app_access_context(f.AppAccessContext)?.unwrap_or_default();

    let folders = folders(f.Folders)?;
    let mut unread = Vec::new();
    let access_type = lookup(&operation_properties, "MailAccessType")
        .map(Cow::Borrowed)
        .or_else(|| f.MailAccessType.as_ref().and_then(Scalar::text))
        .and_then(|t| MailAccessType::parse(&t));
    let is_throttled = lookup(&operation_properties, "IsThrottled")
        .and_then(parse_bool)
        .or_else(|| f.IsThrottled.as_ref().and_then(Scalar::bool));
    let operation_count = f
        .OperationCount
        .as_ref()
        .and_then(Scalar::int)
        .and_then(|n| u64::try_from(n).ok());
    let mail_access = (operation.eq_ignore_ascii_case("MailItemsAccessed")
        || !folders.is_empty()
        || access_type.is_some())
    .then_some(MailAccess {
        access_type,
        is_throttled,
        operation_count,
        folders,
    });

    let user_agent = text(&[&f.ClientInfoString, &f.UserAgent])
        .or_else(|| lookup(&extended_properties, "UserAgent").map(str::to_owned));

    Ok(AuditEvent {
        kind: EventKind::UnifiedAudit,
        source,
        record_id,
        time,
        tenant_id: text(&[&f.OrganizationId]),
        workload: text(&[&f.Workload, &f.OfficeWorkload]),
        record_type: record_type(&f.RecordType),
        operation,
        result_status: text(&[&f.ResultStatus]),
        user_id: text(&[&f.UserId]),
        user_type: f
            .UserType
            .as_ref()
            .and_then(Scalar::text)
            .and_then(|t| UserType::parse(&t)),
        client_ip: client_ip(&[
            &f.ClientIP,
            &f.ClientIPAddress,
            &f.Client_IPAddress,
            &f.ActorIpAddress,
        ]),
        user_agent,
        app_id: text(&[&f.AppId, &f.ApplicationId]),
        client_app_id: text(&[&f.ClientAppId]).or(ctx.client_app_id),
        session_id: text(&[&f.SessionId]),
        aad_session_id: text(&[&f.AADSessionId]).or(ctx.aad_session_id),
        unique_token_id: text(&[&f.UniqueTokenId]).or(ctx.unique_token_id),
        token_tenant_id: text(&[&f.TokenTenantId]).or(ctx.token_tenant_id),
        token_object_id: text(&[&f.TokenObjectId]).or(ctx.token_object_id),
        mailbox_owner_upn: text(&[&f.MailboxOwnerUPN]),
        mailbox_guid: text(&[&f.MailboxGuid]),
        logon_type: [&f.LogonType, &f.Logon_Type]
            .into_iter()
            .find_map(|s| s.as_ref().and_then(Scalar::text))
            .and_then(|t| LogonType::parse(&t)),
        object_id: text(&[&f.ObjectId, &f.OfficeObjectId]),
        mail_access,
        items: mail_items(f.Item, f.AffectedItems, &mut unread),
        unread,
        parameters,
        operation_properties,
        extended_properties,
        modified_properties,
        sign_in: None,
        directory: None,
        raw,
    })
}
