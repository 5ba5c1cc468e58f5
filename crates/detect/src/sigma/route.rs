//! Routing: which events a rule is written for, decided from its `logsource`.
//!
//! Each rule is compiled into the engine of one [`Route`], and each event is evaluated only by the
//! engines of the routes it belongs to: a Unified Audit Log record by the all-UAL engine and the
//! engine of its workload, a sign-in by the sign-in engine, a directory audit by the directory
//! audit engine. A rule for anything else (Windows, AWS, Azure activity logs, …) is not applicable:
//! it is reported by `rules check` and never evaluated.

use mailtrail_event::{AuditEvent, EventKind};
use rsigma_parser::LogSource;

/// A set of events that rules are routed to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Route {
    /// Every Unified Audit Log record (`product: m365`, `service: audit` or no service).
    Ual,
    /// UAL records of workload `Exchange` (`service: exchange`).
    Exchange,
    /// UAL records of workload `SharePoint` (`service: sharepoint`).
    SharePoint,
    /// UAL records of workload `OneDrive` (`service: onedrive`).
    OneDrive,
    /// UAL records of workload `SecurityComplianceCenter` (`service: threat_management`,
    /// `threat_detection`): alerts and compliance cmdlets.
    SecurityCompliance,
    /// UAL records of workload `AzureActiveDirectory` (`service: azuread`).
    AzureAd,
    /// UAL records of workload `MicrosoftTeams` (`service: teams`).
    Teams,
    /// Entra ID sign-ins (`product: azure`, `service: signinlogs`).
    SignIn,
    /// Entra ID directory audits (`product: azure`, `service: auditlogs`).
    DirectoryAudit,
}

impl Route {
    /// Every route, in engine order.
    pub(crate) const ALL: [Route; 9] = [
        Route::Ual,
        Route::Exchange,
        Route::SharePoint,
        Route::OneDrive,
        Route::SecurityCompliance,
        Route::AzureAd,
        Route::Teams,
        Route::SignIn,
        Route::DirectoryAudit,
    ];

    /// The position of this route in [`Route::ALL`].
    pub(crate) fn index(self) -> usize {
        self as usize
    }

    /// What the route covers, as `rules check` says it.
    pub(crate) fn describe(self) -> &'static str {
        match self {
            Route::Ual => "UAL records",
            Route::Exchange => "UAL Exchange records",
            Route::SharePoint => "UAL SharePoint records",
            Route::OneDrive => "UAL OneDrive records",
            Route::SecurityCompliance => "UAL SecurityComplianceCenter records",
            Route::AzureAd => "UAL AzureActiveDirectory records",
            Route::Teams => "UAL MicrosoftTeams records",
            Route::SignIn => "Entra ID sign-ins",
            Route::DirectoryAudit => "Entra ID directory audits",
        }
    }

    /// The workload-specific route of a UAL record, from its `Workload`.
    fn of_workload(workload: &str) -> Option<Route> {
        const WORKLOADS: &[(&str, Route)] = &[
            ("Exchange", Route::Exchange),
            ("SharePoint", Route::SharePoint),
            ("OneDrive", Route::OneDrive),
            ("SecurityComplianceCenter", Route::SecurityCompliance),
            ("AzureActiveDirectory", Route::AzureAd),
            ("MicrosoftTeams", Route::Teams),
        ];
        WORKLOADS
            .iter()
            .find(|(w, _)| w.eq_ignore_ascii_case(workload))
            .map(|(_, r)| *r)
    }
}

/// The routes an event belongs to: at most two (all UAL records, and its workload).
pub(crate) fn routes_of(ev: &AuditEvent) -> [Option<Route>; 2] {
    match ev.kind {
        EventKind::UnifiedAudit => [
            Some(Route::Ual),
            ev.workload.as_deref().and_then(Route::of_workload),
        ],
        EventKind::SignIn => [Some(Route::SignIn), None],
        EventKind::DirectoryAudit => [Some(Route::DirectoryAudit), None],
        _ => [None, None],
    }
}

/// The route a rule's logsource selects, or why it does not apply to what mailtrail reads.
pub(crate) fn classify(ls: &LogSource) -> Result<Route, String> {
    let product = ls.product.as_deref().map(str::to_ascii_lowercase);
    let service = ls.service.as_deref().map(str::to_ascii_lowercase);
    match (product.as_deref(), service.as_deref()) {
        (Some("m365"), None | Some("audit")) => Ok(Route::Ual),
        (Some("m365"), Some("exchange")) => Ok(Route::Exchange),
        (Some("m365"), Some("sharepoint")) => Ok(Route::SharePoint),
        (Some("m365"), Some("onedrive")) => Ok(Route::OneDrive),
        (Some("m365"), Some("threat_management" | "threat_detection")) => {
            Ok(Route::SecurityCompliance)
        }
        (Some("m365"), Some("azuread" | "azureactivedirectory")) => Ok(Route::AzureAd),
        (Some("m365"), Some("teams" | "microsoftteams")) => Ok(Route::Teams),
        (Some("m365"), Some(other)) => Err(format!(
            "m365 service `{other}` has no Unified Audit Log workload mapping"
        )),
        (Some("azure"), Some("signinlogs")) => Ok(Route::SignIn),
        (Some("azure"), Some("auditlogs")) => Ok(Route::DirectoryAudit),
        (Some("azure"), Some(other)) => Err(format!(
            "azure service `{other}` is not among the logs mailtrail reads (sign-in and audit logs)"
        )),
        (Some("azure"), None) => {
            Err("azure rule without a service: sign-in or audit logs cannot be told apart".into())
        }
        (Some(other), _) => Err(format!(
            "product `{other}` is not Microsoft 365 or Entra ID"
        )),
        (None, _) => Err("no logsource product".into()),
    }
}

/// A logsource as one line: `product: azure, service: signinlogs`.
pub(crate) fn describe_logsource(ls: &LogSource) -> String {
    let mut parts = Vec::new();
    for (key, value) in [
        ("product", &ls.product),
        ("service", &ls.service),
        ("category", &ls.category),
    ] {
        if let Some(v) = value {
            parts.push(format!("{key}: {v}"));
        }
    }
    if parts.is_empty() {
        "(no logsource)".to_owned()
    } else {
        parts.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ls(product: Option<&str>, service: Option<&str>) -> LogSource {
        LogSource {
            product: product.map(Into::into),
            service: service.map(Into::into),
            ..Default::default()
        }
    }

    #[test]
    fn m365_and_azure_services_select_their_events() {
        assert_eq!(classify(&ls(Some("m365"), Some("audit"))), Ok(Route::Ual));
        assert_eq!(classify(&ls(Some("m365"), None)), Ok(Route::Ual));
        assert_eq!(
            classify(&ls(Some("m365"), Some("threat_management"))),
            Ok(Route::SecurityCompliance)
        );
        assert_eq!(
            classify(&ls(Some("azure"), Some("signinlogs"))),
            Ok(Route::SignIn)
        );
        assert_eq!(
            classify(&ls(Some("Azure"), Some("AuditLogs"))),
            Ok(Route::DirectoryAudit)
        );
    }

    #[test]
    fn other_logsources_are_not_applicable_with_a_reason() {
        for (p, s) in [
            (Some("azure"), Some("activitylogs")),
            (Some("azure"), Some("riskdetection")),
            (Some("azure"), Some("pim")),
            (Some("windows"), None),
            (Some("m365"), Some("yammer")),
            (None, Some("signinlogs")),
        ] {
            let reason = classify(&ls(p, s)).err().unwrap_or_default();
            assert!(!reason.is_empty(), "{p:?} {s:?}");
        }
    }

    #[test]
    fn a_ual_record_goes_to_all_ual_rules_and_its_workload() {
        let ev = AuditEvent {
            workload: Some("exchange".into()),
            ..Default::default()
        };
        assert_eq!(routes_of(&ev), [Some(Route::Ual), Some(Route::Exchange)]);
        let other = AuditEvent {
            kind: EventKind::Other,
            ..Default::default()
        };
        assert_eq!(routes_of(&other), [None, None]);
    }

    #[test]
    fn route_indices_follow_the_engine_order() {
        for (i, r) in Route::ALL.iter().enumerate() {
            assert_eq!(r.index(), i);
        }
    }
}
