//! Microsoft Defender XDR advanced hunting rows.
//!
//! A `CloudAppEvents` row carries the Unified Audit Log record it came from in `RawEventData`; when
//! it does, that record is what mailtrail reads (the row's columns only fill gaps). Rows without it,
//! and rows of the device and identity tables, are read from their columns.

use bytes::Bytes;
use mailtrail_event::{AuditEvent, EventKind, SourceFormat};

use super::fields::{Fields, has};
use super::ual::{self, client_ip};
use super::values::{Scalar, nested, nested_json, text};
use super::{record_id, time};
use crate::RecordErrorKind;

pub(super) fn build(
    source: SourceFormat,
    f: &Fields<'_>,
    raw: Bytes,
) -> Result<AuditEvent, RecordErrorKind> {
    if source == SourceFormat::DefenderCloudAppEvents {
        let inner = f
            .RawEventData
            .map(|r| nested_json(r, "RawEventData"))
            .transpose()?
            .flatten();
        if let Some(json) = inner.filter(|j| j.starts_with('{')) {
            let inner: Fields<'_> =
                serde_json::from_str(&json).map_err(|e| nested("RawEventData", &e))?;
            if has(&inner.Id) && has(&inner.CreationTime) && has(&inner.Operation) {
                let mut ev = ual::build(source, &inner, raw)?;
                if ev.client_ip.is_none() {
                    ev.client_ip = client_ip(&[&f.IPAddress]);
                }
                if ev.user_agent.is_none() {
                    ev.user_agent = text(&[&f.UserAgent]);
                }
                return Ok(ev);
            }
        }
    }
    columns(source, f, raw)
}

/// A row read from its own columns.
fn columns(
    source: SourceFormat,
    f: &Fields<'_>,
    raw: Bytes,
) -> Result<AuditEvent, RecordErrorKind> {
    let time = time(&[("Timestamp", &f.Timestamp)])?;
    let report = record_id(&[
        ("ReportId", &f.ReportId),
        ("ReportId_long", &f.ReportId_long),
    ])?;
    // Device tables number their events per device: `ReportId` is unique only together with the
    // device and the time, as Microsoft's schema reference says.
    let device = text(&[&f.DeviceId, &f.DeviceName]);
    let numeric_report = report.bytes().all(|b| b.is_ascii_digit());
    let record_id = match device {
        Some(device) if numeric_report => {
            let ts = f
                .Timestamp
                .as_ref()
                .and_then(Scalar::text)
                .unwrap_or_default();
            format!("{device}:{report}:{ts}")
        }
        _ => report,
    };
    let cloud_app = source == SourceFormat::DefenderCloudAppEvents;
    Ok(AuditEvent {
        kind: if cloud_app {
            EventKind::UnifiedAudit
        } else {
            EventKind::Other
        },
        source,
        record_id,
        time,
        workload: cloud_app
            .then(|| workload(&text(&[&f.Application]).unwrap_or_default()))
            .flatten()
            .map(str::to_owned),
        operation: text(&[&f.ActionType]).ok_or(RecordErrorKind::MissingField("ActionType"))?,
        user_id: text(&[&f.UserId, &f.AccountUpn, &f.InitiatingProcessAccountUpn]),
        client_ip: client_ip(&[&f.IPAddress, &f.RemoteIP]),
        user_agent: text(&[&f.UserAgent]),
        app_id: text(&[&f.AppId]),
        client_app_id: text(&[&f.OAuthAppId]),
        object_id: text(&[&f.ObjectId]),
        raw,
        ..AuditEvent::default()
    })
}

/// The UAL workload behind a Defender for Cloud Apps application name.
fn workload(application: &str) -> Option<&'static str> {
    Some(match application {
        "Microsoft Exchange Online" => "Exchange",
        "Microsoft SharePoint Online" => "SharePoint",
        "Microsoft OneDrive for Business" => "OneDrive",
        "Microsoft Teams" => "MicrosoftTeams",
        _ => return None,
    })
}
