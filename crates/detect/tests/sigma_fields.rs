//! Rules written for other tools apply to mailtrail's events: the field names SigmaHQ uses resolve
//! in every export of the same data (Graph, Azure Monitor, Sentinel, the Management Activity API),
//! lists of `{Name, Value}` are addressable by name, and each event meets only the rules written
//! for its logs. The records are the `mailtrail-formats` fixtures (one sample of every export
//! form) and SigmaHQ's own rule files.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Test code: a failed unwrap is a failed test.

mod sigma_util;

use std::path::PathBuf;

use mailtrail_detect::sigma::{SigmaMatch, SigmaMatcher, SigmaRules, SigmaStats};
use mailtrail_event::{AuditEvent, EventKind};
use sigma_util::{event, read_file, rules, run, sigmahq, titles};

/// A `mailtrail-formats` fixture, read as a hunt reads it.
fn fixture(name: &str) -> Vec<AuditEvent> {
    let path = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../formats/tests/data"
    ))
    .join(name);
    read_file(&path)
}

/// One SigmaHQ rule file, loaded on its own.
fn sigmahq_rule(relative: &str) -> Option<SigmaRules> {
    let path = sigmahq(relative)?;
    let (rules, report) = SigmaRules::load(false, &[path]).unwrap();
    assert_eq!(report.loaded().len(), 1, "{:?}", report.skipped());
    Some(rules)
}

/// Matches and the matcher's counters.
fn run_with_stats(rules: &SigmaRules, events: &[AuditEvent]) -> (Vec<SigmaMatch>, SigmaStats) {
    let mut matcher = SigmaMatcher::new(rules);
    let mut out = Vec::new();
    for ev in events {
        matcher.process(ev, &mut out);
    }
    matcher.finish(&mut out);
    (out, matcher.stats())
}

fn ids(matches: &[SigmaMatch]) -> Vec<&str> {
    matches.iter().map(|m| m.record_ids[0].as_str()).collect()
}

fn failed_sign_ins(events: &[AuditEvent]) -> Vec<&str> {
    events
        .iter()
        .filter(|e| {
            e.sign_in
                .as_ref()
                .and_then(|s| s.error_code)
                .is_some_and(|c| c != 0)
        })
        .map(|e| e.record_id.as_str())
        .collect()
}

#[test]
fn every_spelling_of_the_sign_in_error_code_matches_in_every_export() {
    for spelling in [
        "ResultType",
        "resultType",
        "status.errorCode",
        "properties.status.errorCode",
        "Status.errorCode",
    ] {
        let yaml = format!(
            "title: Bad password ({spelling})\nlogsource: {{product: azure, service: signinlogs}}\ndetection: {{sel: {{{spelling}: 50126}}, condition: sel}}\n"
        );
        let rules = rules(&yaml);
        for file in ["graph-signins.json", "sentinel-signinlogs.json"] {
            let events = fixture(file);
            let expected = failed_sign_ins(&events);
            assert_eq!(expected.len(), 1, "{file}");
            let matches = run(&rules, &events);
            assert_eq!(ids(&matches), expected, "{spelling} in {file}");
        }
    }
}

#[test]
fn device_details_are_found_in_objects_in_json_text_and_under_the_envelope() {
    // Graph: an object; Sentinel: JSON text in a column; Azure Monitor: under `properties`.
    let rules = rules(
        "title: Windows 10\nlogsource: {product: azure, service: signinlogs}\ndetection: {sel: {DeviceDetail.operatingSystem: Windows10}, condition: sel}\n",
    );
    for file in [
        "graph-signins.json",
        "sentinel-signinlogs.json",
        "azure-monitor.ndjson",
    ] {
        let events = fixture(file);
        let with_windows: Vec<&str> = events
            .iter()
            .filter(|e| {
                String::from_utf8_lossy(&e.raw).contains("Windows10") && e.kind == EventKind::SignIn
            })
            .map(|e| e.record_id.as_str())
            .collect();
        assert!(!with_windows.is_empty(), "{file}");
        let (matches, stats) = run_with_stats(&rules, &events);
        assert_eq!(ids(&matches), with_windows, "{file}");
        // The record is read only for events the rule is evaluated on: sign-ins.
        let sign_ins = events
            .iter()
            .filter(|e| e.kind == EventKind::SignIn)
            .count() as u64;
        assert_eq!(stats.record_parses, sign_ins, "{file}");
    }
}

#[test]
fn sigmahq_non_compliant_device_rule_matches_a_graph_sign_in() {
    let Some(rules) = sigmahq_rule(
        "rules/cloud/azure/signin_logs/azure_ad_sign_ins_from_noncompliant_devices.yml",
    ) else {
        return;
    };
    let events = fixture("graph-signins.json");
    let matches = run(&rules, &events);
    // Only the first Graph sign-in carries deviceDetail, with isCompliant false.
    assert_eq!(ids(&matches), vec![events[0].record_id.as_str()]);
    assert_eq!(
        titles(&matches),
        vec!["Sign-ins from Non-Compliant Devices"]
    );
}

#[test]
fn the_properties_envelope_is_optional_in_rules_and_records() {
    let events = fixture("azure-monitor.ndjson");
    let mfa: Vec<&str> = events
        .iter()
        .filter(|e| {
            e.sign_in
                .as_ref()
                .and_then(|s| s.authentication_requirement.as_deref())
                == Some("multiFactorAuthentication")
        })
        .map(|e| e.record_id.as_str())
        .collect();
    assert!(!mfa.is_empty());
    for field in [
        "AuthenticationRequirement",
        "properties.authenticationRequirement",
    ] {
        let rules = rules(&format!(
            "title: MFA\nlogsource: {{product: azure, service: signinlogs}}\ndetection: {{sel: {{{field}: multiFactorAuthentication}}, condition: sel}}\n"
        ));
        assert_eq!(ids(&run(&rules, &events)), mfa, "{field}");
    }
    // A field outside the table, with and without the envelope.
    for field in [
        "properties.appliedConditionalAccessPolicies",
        "appliedConditionalAccessPolicies",
    ] {
        let rules = rules(&format!(
            "title: Policies\nlogsource: {{product: azure, service: signinlogs}}\ndetection: {{sel: {{{field}|exists: true}}, condition: sel}}\n"
        ));
        assert!(!run(&rules, &events).is_empty(), "{field}");
    }
}

#[test]
fn sigmahq_audit_log_rules_match_graph_and_sentinel_directory_audits() {
    let Some(rules) =
        sigmahq_rule("rules/cloud/azure/audit_logs/azure_app_delegated_permissions_all_users.yml")
    else {
        return;
    };
    let graph = fixture("graph-directoryaudits.json");
    let matches = run(&rules, &graph);
    assert_eq!(matches.len(), 1);
    let grant = graph
        .iter()
        .find(|e| e.operation == "Add delegated permission grant")
        .unwrap();
    assert_eq!(matches[0].record_ids, vec![grant.record_id.clone()]);
    // The same rule on the Golden SAML dataset, as Sentinel exported it.
    if let Some(path) = sigma_util::golden_saml("AADAuditEvents.json") {
        assert_eq!(run(&rules, &read_file(&path)).len(), 1);
    }
}

#[test]
fn sigmahq_end_user_consent_rule_reads_a_quoted_modified_property() {
    let Some(rules) = sigmahq_rule("rules/cloud/azure/audit_logs/azure_app_end_user_consent.yml")
    else {
        return;
    };
    // `ConsentContext.IsAdminConsent` is `"False"` (JSON text) in the consent's modified properties.
    let graph = fixture("graph-directoryaudits.json");
    let matches = run(&rules, &graph);
    assert_eq!(matches.len(), 1);
    assert_eq!(
        graph
            .iter()
            .find(|e| e.record_id == matches[0].record_ids[0])
            .map(|e| e.operation.as_str()),
        Some("Consent to application")
    );
}

#[test]
fn sigmahq_inbox_rule_hunt_matches_the_management_api_and_sentinel_copies() {
    let Some(rules) = sigmahq_rule(
        "rules-threat-hunting/cloud/m365/audit/microsoft365_susp_inbox_rule_creation_or_update_activity.yml",
    ) else {
        return;
    };
    for file in ["ual-management-api.json", "sentinel-officeactivity.json"] {
        let events = fixture(file);
        let (matches, stats) = run_with_stats(&rules, &events);
        assert_eq!(matches.len(), 1, "{file}");
        let rule = events
            .iter()
            .find(|e| e.operation == "New-InboxRule")
            .unwrap();
        assert_eq!(matches[0].record_ids, vec![rule.record_id.clone()]);
        // `Parameters|contains` reads the parsed list, not the record.
        assert_eq!(stats.record_parses, 0, "{file}");
    }
}

#[test]
fn status_success_matches_what_each_export_calls_success() {
    let rules = rules(
        r#"
title: Forwarding (eventSource style)
id: 0f0e0000-0000-4000-8000-000000000101
logsource: { product: m365, service: exchange }
detection: { sel: { eventSource: Exchange, eventName: Set-Mailbox, status: success }, condition: sel }
---
title: Forwarding failed
id: 0f0e0000-0000-4000-8000-000000000102
logsource: { product: m365, service: exchange }
detection: { sel: { eventName: Set-Mailbox, status: failure }, condition: sel }
---
title: Sent (as written)
id: 0f0e0000-0000-4000-8000-000000000103
logsource: { product: m365, service: exchange }
detection: { sel: { Operation: Send, ResultStatus: Succeeded }, condition: sel }
---
title: Sent (normalised)
id: 0f0e0000-0000-4000-8000-000000000104
logsource: { product: m365, service: exchange }
detection: { sel: { Operation: Send, ResultStatus: success }, condition: sel }
"#,
    );
    // Set-Mailbox has ResultStatus "True", Send has "Succeeded".
    let matches = run(&rules, &fixture("ual.ndjson"));
    let mut names = titles(&matches);
    names.sort();
    assert_eq!(
        names,
        [
            "Forwarding (eventSource style)",
            "Sent (as written)",
            "Sent (normalised)"
        ]
    );
}

#[test]
fn sigmahq_alert_rules_read_the_alert_name_of_a_compliance_alert_record() {
    let Some(rules) =
        sigmahq_rule("rules/cloud/m365/threat_management/microsoft365_susp_inbox_forwarding.yml")
    else {
        return;
    };
    let alert = |id: &str, name: &str| {
        event(&format!(
            r#"{{"CreationTime":"2024-03-04T10:20:00","Id":"{id}","Operation":"AlertTriggered","OrganizationId":"c0ffee00-0000-4000-8000-000000000000","RecordType":40,"ResultStatus":"Succeeded","UserKey":"SecurityComplianceAlerts","UserType":4,"Version":1,"Workload":"SecurityComplianceCenter","ObjectId":"2d4a0000-0000-4000-8000-000000000001","UserId":"SecurityComplianceAlerts","AlertId":"2d4a0000-0000-4000-8000-000000000001","AlertLinks":[],"AlertType":"System","Category":"ThreatManagement","Comments":"New alert","Data":"{{}}","Name":"{name}","PolicyId":"3e5b0000-0000-4000-8000-000000000002","Severity":"Medium","Source":"Office 365 Security & Compliance","Status":"Active"}}"#
        ))
    };
    let forwarding = alert("al1", "Suspicious inbox forwarding");
    let other = alert("al2", "Unusual volume of file deletion");
    assert_eq!(ids(&run(&rules, &[forwarding, other])), vec!["al1"]);
}

#[test]
fn a_sigmahq_rule_that_reads_extended_properties_needs_no_record_parse() {
    let Some(rules) =
        sigmahq_rule("rules/cloud/m365/audit/microsoft365_bypass_conditional_access.yml")
    else {
        return;
    };
    let logon = |id: &str, request_type: &str| {
        event(&format!(
            r#"{{"CreationTime":"2024-03-04T08:00:00","Id":"{id}","Operation":"UserLoggedIn","OrganizationId":"c0ffee00-0000-4000-8000-000000000000","RecordType":15,"ResultStatus":"Success","UserKey":"k","UserType":0,"Version":1,"Workload":"AzureActiveDirectory","ClientIP":"203.0.113.50","ObjectId":"00000002-0000-0ff1-ce00-000000000000","UserId":"alice@contoso.example","AzureActiveDirectoryEventType":1,"ExtendedProperties":[{{"Name":"ResultStatusDetail","Value":"Success"}},{{"Name":"RequestType","Value":"{request_type}"}}],"ApplicationId":"9ba1a5c7-f17a-4de9-a1f1-6178c8d51223","ErrorNumber":"0"}}"#
        ))
    };
    let (matches, stats) = run_with_stats(
        &rules,
        &[logon("l1", "Cmsi:Cmsi"), logon("l2", "OAuth2:Token")],
    );
    assert_eq!(ids(&matches), vec!["l1"]);
    assert_eq!(stats.record_parses, 0);
}

#[test]
fn each_event_meets_only_the_rules_written_for_its_logs() {
    let rules = rules(
        r#"
title: Any UAL record
id: 0f0e0000-0000-4000-8000-000000000201
logsource: { product: m365 }
detection: { sel: { Operation|exists: true }, condition: sel }
---
title: Exchange only
id: 0f0e0000-0000-4000-8000-000000000202
logsource: { product: m365, service: exchange }
detection: { sel: { Operation|exists: true }, condition: sel }
---
title: Sign-ins only
id: 0f0e0000-0000-4000-8000-000000000203
logsource: { product: azure, service: signinlogs }
detection: { sel: { Operation|exists: true }, condition: sel }
---
title: Directory audits only
id: 0f0e0000-0000-4000-8000-000000000204
logsource: { product: azure, service: auditlogs }
detection: { sel: { Operation|exists: true }, condition: sel }
"#,
    );
    let count = |events: &[AuditEvent], title: &str| {
        run(&rules, events)
            .iter()
            .filter(|m| m.title == title)
            .count()
    };
    // ual.ndjson: four Exchange records and one AzureActiveDirectory sign-in record.
    let ual = fixture("ual.ndjson");
    assert_eq!(count(&ual, "Any UAL record"), ual.len());
    assert_eq!(
        count(&ual, "Exchange only"),
        ual.iter()
            .filter(|e| e.workload.as_deref() == Some("Exchange"))
            .count()
    );
    assert_eq!(count(&ual, "Sign-ins only"), 0);
    let sign_ins = fixture("graph-signins.json");
    assert_eq!(count(&sign_ins, "Sign-ins only"), sign_ins.len());
    assert_eq!(count(&sign_ins, "Any UAL record"), 0);
    let audits = fixture("graph-directoryaudits.json");
    assert_eq!(count(&audits, "Directory audits only"), audits.len());
    assert_eq!(count(&audits, "Sign-ins only"), 0);

    // Events of other products are never evaluated.
    let device = AuditEvent {
        kind: EventKind::Other,
        operation: "LdapSearch".into(),
        ..Default::default()
    };
    let (matches, stats) = run_with_stats(&rules, &[device]);
    assert!(matches.is_empty());
    assert_eq!((stats.events, stats.routed), (1, 0));
}

#[test]
fn keyword_rules_search_every_string_of_the_record() {
    let rules = rules(
        "title: Relay domain\nlogsource: {product: m365}\ndetection: {keywords: ['mailbox-relay.example'], condition: keywords}\n",
    );
    let ual = fixture("ual.ndjson");
    let (matches, stats) = run_with_stats(&rules, &ual);
    let set_mailbox = ual.iter().find(|e| e.operation == "Set-Mailbox").unwrap();
    assert_eq!(ids(&matches), vec![set_mailbox.record_id.as_str()]);
    assert_eq!(stats.record_parses, ual.len() as u64);
}

/// A Graph sign-in with the given status details, authentication requirement and device.
fn graph_sign_in(
    id: &str,
    code: i64,
    details: &str,
    requirement: &str,
    device_id: &str,
) -> AuditEvent {
    event(&format!(
        r#"{{"id":"{id}","createdDateTime":"2024-03-04T08:00:00Z","userPrincipalName":"alice@contoso.example","userId":"5e1f","appId":"00000002-0000-0ff1-ce00-000000000000","appDisplayName":"Office 365 Exchange Online","ipAddress":"203.0.113.8","clientAppUsed":"Browser","conditionalAccessStatus":"notApplied","isInteractive":true,"authenticationRequirement":"{requirement}","status":{{"errorCode":{code},"failureReason":"Authentication failed during strong authentication request.","additionalDetails":"{details}"}},"deviceDetail":{{"deviceId":"{device_id}","operatingSystem":"Windows10","isCompliant":false,"trustType":""}},"networkLocationDetails":[],"location":{{"city":"Oslo","countryOrRegion":"NO"}}}}"#
    ))
}

#[test]
fn a_sign_in_status_answers_with_its_outcome_reason_and_details() {
    let Some(rules) = sigmahq_rule("rules/cloud/azure/signin_logs/azure_mfa_denies.yml") else {
        return;
    };
    let denied = graph_sign_in(
        "d1",
        500121,
        "MFA denied; user declined the authentication",
        "multiFactorAuthentication",
        "dev-1",
    );
    let completed = graph_sign_in(
        "d2",
        0,
        "MFA completed in Azure AD",
        "multiFactorAuthentication",
        "dev-1",
    );
    assert_eq!(ids(&run(&rules, &[denied, completed])), vec!["d1"]);
}

#[test]
fn sigmahq_unknown_device_rule_matches_an_empty_device_and_location_list() {
    let Some(rules) =
        sigmahq_rule("rules/cloud/azure/signin_logs/azure_ad_sign_ins_from_unknown_devices.yml")
    else {
        return;
    };
    let unknown = graph_sign_in("u1", 0, "", "singleFactorAuthentication", "");
    let known = graph_sign_in(
        "u2",
        0,
        "",
        "singleFactorAuthentication",
        "4f3c0000-0000-4000-8000-000000000001",
    );
    let mfa = graph_sign_in("u3", 0, "", "multiFactorAuthentication", "");
    assert_eq!(ids(&run(&rules, &[unknown, known, mfa])), vec!["u1"]);
}
