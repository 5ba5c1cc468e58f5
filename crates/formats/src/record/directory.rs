//! Entra ID directory audits: Microsoft Graph `directoryAudit` resources, the same resource inside
//! the `properties` of an Azure Monitor export, and Sentinel `AuditLogs` rows (`InitiatedBy`,
//! `TargetResources` and `AdditionalDetails` serialised into strings).

use std::borrow::Cow;

use bytes::Bytes;
use mailtrail_event::{
    AuditEvent, DirectoryAudit, EventKind, ModifiedProperty, NameValue, SourceFormat, Target,
};
use serde::Deserialize;
use serde_json::value::RawValue;

use super::fields::Fields;
use super::ual::client_ip;
use super::values::{Scalar, nested, nested_json, text};
use super::{record_id, time};
use crate::RecordErrorKind;

#[derive(Default, Deserialize)]
struct InitiatedBy<'a> {
    #[serde(default, borrow)]
    user: Option<Identity<'a>>,
    #[serde(default, borrow)]
    app: Option<Identity<'a>>,
}

#[derive(Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Identity<'a> {
    #[serde(default, borrow)]
    id: Option<Scalar<'a>>,
    #[serde(default, borrow)]
    display_name: Option<Scalar<'a>>,
    #[serde(default, borrow)]
    user_principal_name: Option<Scalar<'a>>,
    #[serde(default, borrow)]
    ip_address: Option<Scalar<'a>>,
    #[serde(default, borrow)]
    app_id: Option<Scalar<'a>>,
    #[serde(default, borrow)]
    service_principal_id: Option<Scalar<'a>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawTarget<'a> {
    #[serde(default, borrow)]
    id: Option<Scalar<'a>>,
    #[serde(default, borrow)]
    display_name: Option<Scalar<'a>>,
    #[serde(default, borrow, rename = "type")]
    kind: Option<Scalar<'a>>,
    #[serde(default, borrow)]
    user_principal_name: Option<Scalar<'a>>,
    #[serde(default, borrow)]
    modified_properties: Option<Vec<RawModified<'a>>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawModified<'a> {
    #[serde(default, borrow)]
    display_name: Option<Scalar<'a>>,
    #[serde(default, borrow)]
    old_value: Option<Scalar<'a>>,
    #[serde(default, borrow)]
    new_value: Option<Scalar<'a>>,
}

#[derive(Deserialize)]
struct KeyValue<'a> {
    #[serde(default, borrow)]
    key: Option<Scalar<'a>>,
    #[serde(default, borrow)]
    value: Option<Scalar<'a>>,
}

fn json_of<'a>(
    raw: Option<&'a RawValue>,
    field: &'static str,
) -> Result<Option<Cow<'a, str>>, RecordErrorKind> {
    raw.map(|r| nested_json(r, field))
        .transpose()
        .map(Option::flatten)
}

pub(super) fn build(
    source: SourceFormat,
    f: &Fields<'_>,
    raw: Bytes,
) -> Result<AuditEvent, RecordErrorKind> {
    if source != SourceFormat::AzureMonitorAudit {
        return read(source, f, None, raw);
    }
    let json =
        json_of(f.properties, "properties")?.ok_or(RecordErrorKind::MissingField("properties"))?;
    let props: Fields<'_> = serde_json::from_str(&json).map_err(|e| nested("properties", &e))?;
    read(source, &props, Some(f), raw)
}

fn read(
    source: SourceFormat,
    p: &Fields<'_>,
    envelope: Option<&Fields<'_>>,
    raw: Bytes,
) -> Result<AuditEvent, RecordErrorKind> {
    let none = Fields::default();
    let e = envelope.unwrap_or(&none);

    let record_id = record_id(&[("id", &p.id), ("Id", &p.Id)])?;
    let time = time(&[
        ("activityDateTime", &p.activityDateTime),
        ("ActivityDateTime", &p.ActivityDateTime),
        ("time", &e.time),
        ("TimeGenerated", &p.TimeGenerated),
    ])?;
    let operation = text(&[
        &p.activityDisplayName,
        &p.ActivityDisplayName,
        &p.OperationName,
        &e.operationName,
    ])
    .ok_or(RecordErrorKind::MissingField("activityDisplayName"))?;

    let initiated_json = json_of(p.initiatedBy.or(p.InitiatedBy), "initiatedBy")?;
    let initiated: InitiatedBy<'_> = match &initiated_json {
        Some(j) => serde_json::from_str(j).map_err(|e| nested("initiatedBy", &e))?,
        None => InitiatedBy::default(),
    };
    let user = initiated.user.unwrap_or_default();
    let app = initiated.app.unwrap_or_default();

    let targets_json = json_of(p.targetResources.or(p.TargetResources), "targetResources")?;
    let raw_targets: Vec<RawTarget<'_>> = match &targets_json {
        Some(j) => serde_json::from_str(j).map_err(|e| nested("targetResources", &e))?,
        None => Vec::new(),
    };
    let targets = raw_targets
        .into_iter()
        .map(|t| Target {
            id: text(&[&t.id]),
            display_name: text(&[&t.display_name]),
            kind: text(&[&t.kind]),
            user_principal_name: text(&[&t.user_principal_name]),
            modified_properties: t
                .modified_properties
                .unwrap_or_default()
                .into_iter()
                .map(|m| ModifiedProperty {
                    name: text(&[&m.display_name]).unwrap_or_default(),
                    old_value: text(&[&m.old_value]),
                    new_value: text(&[&m.new_value]),
                })
                .collect(),
        })
        .collect();

    let details_json = json_of(
        p.additionalDetails.or(p.AdditionalDetails),
        "additionalDetails",
    )?;
    let details: Vec<KeyValue<'_>> = match &details_json {
        Some(j) => serde_json::from_str(j).map_err(|e| nested("additionalDetails", &e))?,
        None => Vec::new(),
    };
    let additional_details: Vec<NameValue> = details
        .iter()
        .map(|kv| NameValue {
            name: text(&[&kv.key]).unwrap_or_default(),
            value: text(&[&kv.value]).unwrap_or_default(),
        })
        .collect();
    let user_agent = text(&[&p.UserAgent]).or_else(|| {
        additional_details
            .iter()
            .find(|nv| nv.name.eq_ignore_ascii_case("User-Agent"))
            .map(|nv| nv.value.clone())
            .filter(|v| !v.is_empty())
    });

    let directory = DirectoryAudit {
        category: text(&[&p.category, &p.Category]),
        operation_type: text(&[&p.operationType, &p.AADOperationType]),
        correlation_id: text(&[&p.correlationId, &p.CorrelationId, &e.correlationId]),
        logged_by_service: text(&[&p.loggedByService, &p.LoggedByService]),
        initiated_by_app_name: text(&[&app.display_name]),
        initiated_by_id: text(&[&app.service_principal_id, &user.id]),
        targets,
        additional_details,
    };

    Ok(AuditEvent {
        kind: EventKind::DirectoryAudit,
        source,
        record_id,
        time,
        tenant_id: text(&[&e.tenantId, &p.tenantId, &p.AADTenantId]),
        workload: Some("AzureActiveDirectory".to_owned()),
        operation,
        result_status: text(&[&p.result, &p.Result]),
        user_id: text(&[&user.user_principal_name]),
        client_ip: client_ip(&[&user.ip_address, &app.ip_address, &e.callerIpAddress]),
        user_agent,
        app_id: text(&[&app.app_id]),
        directory: Some(Box::new(directory)),
        raw,
        ..AuditEvent::default()
    })
}
