//! Entra ID sign-ins: Microsoft Graph `signIn` resources (camelCase), the same resource inside the
//! `properties` of an Azure Monitor diagnostic export, and Sentinel's `SigninLogs` family of tables
//! (PascalCase, with `Status` and `LocationDetails` serialised into strings).

use std::borrow::Cow;

use bytes::Bytes;
use mailtrail_event::{AuditEvent, EventKind, Location, SignIn, SourceFormat, UserType};
use serde::Deserialize;
use serde_json::value::RawValue;

use super::fields::Fields;
use super::ual::client_ip;
use super::values::{Scalar, nested, nested_json, text};
use super::{record_id, time};
use crate::RecordErrorKind;

#[derive(Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Status<'a> {
    #[serde(default, borrow)]
    error_code: Option<Scalar<'a>>,
    #[serde(default, borrow)]
    failure_reason: Option<Scalar<'a>>,
}

#[derive(Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawLocation<'a> {
    #[serde(default, borrow)]
    city: Option<Scalar<'a>>,
    #[serde(default, borrow)]
    state: Option<Scalar<'a>>,
    #[serde(default, borrow)]
    country_or_region: Option<Scalar<'a>>,
}

/// The JSON text of a nested object that may have been serialised into a string; `None` for
/// null, empty, and non-objects (Azure Monitor's envelope has a string `location`, a region).
fn object_json<'a>(
    raw: Option<&'a RawValue>,
    field: &'static str,
) -> Result<Option<Cow<'a, str>>, RecordErrorKind> {
    let json = raw.map(|r| nested_json(r, field)).transpose()?.flatten();
    Ok(json.filter(|j| j.starts_with('{')))
}

fn parse_object<'a, T: Deserialize<'a> + Default>(
    json: &'a Option<Cow<'_, str>>,
    field: &'static str,
) -> Result<T, RecordErrorKind> {
    match json {
        Some(j) => serde_json::from_str(j).map_err(|e| nested(field, &e)),
        None => Ok(T::default()),
    }
}

/// The sign-in event type a log category or Sentinel table stands for.
fn event_type_of(table: &str) -> Option<&'static str> {
    let t = table.to_ascii_lowercase();
    Some(match t.as_str() {
        "signinlogs" => "interactiveUser",
        "noninteractiveusersigninlogs" | "aadnoninteractiveusersigninlogs" => "nonInteractiveUser",
        "serviceprincipalsigninlogs" | "aadserviceprincipalsigninlogs" => "servicePrincipal",
        "managedidentitysigninlogs" | "aadmanagedidentitysigninlogs" => "managedIdentity",
        _ => return None,
    })
}

pub(super) fn build(
    source: SourceFormat,
    f: &Fields<'_>,
    raw: Bytes,
) -> Result<AuditEvent, RecordErrorKind> {
    if source != SourceFormat::AzureMonitorSignIn {
        return read(source, f, None, raw);
    }
    let json = f
        .properties
        .map(|r| nested_json(r, "properties"))
        .transpose()?
        .flatten()
        .ok_or(RecordErrorKind::MissingField("properties"))?;
    let props: Fields<'_> = serde_json::from_str(&json).map_err(|e| nested("properties", &e))?;
    read(source, &props, Some(f), raw)
}

/// Reads the sign-in in `p`; `envelope` is the Azure Monitor record around it, if any.
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
        ("createdDateTime", &p.createdDateTime),
        ("CreatedDateTime", &p.CreatedDateTime),
        ("time", &e.time),
        ("TimeGenerated", &p.TimeGenerated),
    ])?;

    let status_json = object_json(p.status.or(p.Status), "status")?;
    let status: Status<'_> = parse_object(&status_json, "status")?;
    let status_code = status.error_code.as_ref().and_then(Scalar::int);
    let status_reason = text(&[&status.failure_reason]);
    let error_code = status_code.or_else(|| {
        [&p.ResultType, &e.resultType]
            .into_iter()
            .find_map(|s| s.as_ref()?.int())
    });
    let failure_reason =
        status_reason.or_else(|| text(&[&p.ResultDescription, &e.resultDescription]));

    let location_json = object_json(p.location.or(p.LocationDetails), "location")?;
    let location = match location_json {
        Some(_) => {
            let l: RawLocation<'_> = parse_object(&location_json, "location")?;
            Some(Location {
                city: text(&[&l.city]),
                state: text(&[&l.state]),
                country: text(&[&l.country_or_region]),
            })
        }
        None => None,
    };

    let mut event_types: Vec<String> = match p.signInEventTypes {
        Some(raw) => match nested_json(raw, "signInEventTypes")? {
            Some(json) => {
                serde_json::from_str(&json).map_err(|e| nested("signInEventTypes", &e))?
            }
            None => Vec::new(),
        },
        None => Vec::new(),
    };
    if event_types.is_empty() {
        let table = [&e.category, &p.Type, &p.Category]
            .into_iter()
            .filter_map(|s| s.as_ref().and_then(Scalar::text))
            .find_map(|t| event_type_of(&t));
        event_types.extend(table.map(str::to_owned));
    }
    let is_interactive = [&p.isInteractive, &p.IsInteractive]
        .into_iter()
        .find_map(|s| s.as_ref().and_then(Scalar::bool))
        .or_else(|| {
            event_types
                .first()
                .map(|t| t.eq_ignore_ascii_case("interactiveUser"))
        });
    let workload_identity = event_types.iter().any(|t| {
        t.eq_ignore_ascii_case("servicePrincipal") || t.eq_ignore_ascii_case("managedIdentity")
    });

    let sign_in = SignIn {
        app_display_name: text(&[&p.appDisplayName, &p.AppDisplayName]),
        resource_id: text(&[&p.resourceId, &p.ResourceIdentity]),
        resource_display_name: text(&[&p.resourceDisplayName, &p.ResourceDisplayName]),
        user_object_id: text(&[&p.userId, &p.UserId]),
        user_display_name: text(&[&p.userDisplayName, &p.UserDisplayName]),
        service_principal_id: text(&[&p.servicePrincipalId, &p.ServicePrincipalId]),
        error_code,
        failure_reason,
        event_types,
        is_interactive,
        token_issuer_type: text(&[&p.tokenIssuerType, &p.TokenIssuerType]),
        token_issuer_name: text(&[&p.tokenIssuerName, &p.TokenIssuerName]),
        incoming_token_type: text(&[&p.incomingTokenType, &p.IncomingTokenType]),
        client_app_used: text(&[&p.clientAppUsed, &p.ClientAppUsed]),
        conditional_access_status: text(&[&p.conditionalAccessStatus, &p.ConditionalAccessStatus]),
        authentication_requirement: text(&[
            &p.authenticationRequirement,
            &p.AuthenticationRequirement,
        ]),
        home_tenant_id: text(&[&p.homeTenantId, &p.HomeTenantId]),
        resource_tenant_id: text(&[&p.resourceTenantId, &p.ResourceTenantId]),
        cross_tenant_access_type: text(&[&p.crossTenantAccessType, &p.CrossTenantAccessType]),
        correlation_id: text(&[&p.correlationId, &p.CorrelationId, &e.correlationId]),
        location,
        asn: [&p.autonomousSystemNumber, &p.AutonomousSystemNumber]
            .into_iter()
            .find_map(|s| s.as_ref()?.int())
            .and_then(|n| u32::try_from(n).ok()),
        risk_level: text(&[&p.riskLevelDuringSignIn, &p.RiskLevelDuringSignIn]),
    };

    Ok(AuditEvent {
        kind: EventKind::SignIn,
        source,
        record_id,
        time,
        // Graph sign-ins carry no tenantId: the tenant that logged a sign-in is the resource's.
        tenant_id: text(&[
            &e.tenantId,
            &p.tenantId,
            &p.AADTenantId,
            &p.resourceTenantId,
            &p.ResourceTenantId,
        ]),
        workload: Some("AzureActiveDirectory".to_owned()),
        operation: "SignIn".to_owned(),
        result_status: error_code.map(|c| if c == 0 { "Success" } else { "Failure" }.to_owned()),
        user_id: text(&[
            &p.userPrincipalName,
            &p.UserPrincipalName,
            &p.servicePrincipalName,
            &p.ServicePrincipalName,
        ]),
        user_type: workload_identity.then_some(UserType::ServicePrincipal),
        client_ip: client_ip(&[&p.ipAddress, &p.IPAddress, &e.callerIpAddress]),
        user_agent: text(&[&p.userAgent, &p.UserAgent]),
        app_id: text(&[&p.appId, &p.AppId]),
        aad_session_id: text(&[&p.sessionId, &p.SessionId]),
        unique_token_id: text(&[&p.uniqueTokenIdentifier, &p.UniqueTokenIdentifier]),
        sign_in: Some(Box::new(sign_in)),
        raw,
        ..AuditEvent::default()
    })
}
