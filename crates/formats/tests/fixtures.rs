//! Every fixture format reads without rejects and maps where `docs/formats.md` says; the
//! third-party Golden SAML dataset maps correctly; `normalize` rebuilds what `read` built.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Test code: a failed unwrap is a failed test.

mod util;

use mailtrail_event::{
    AuditEvent, EventKind, LogonType, MailAccessType, RecordType, SourceFormat, UserType,
};
use mailtrail_formats::normalize;
use util::{fixture, otrf, read_path};

const GRAPH: &str = "00000003-0000-0000-c000-000000000000";
const EVIL_APP: &str = "7c0f5e2a-9b1d-4c3e-8f6a-2d4b6e8a0c13";
const TENANT: &str = "b7f5d3c1-2a4e-4f6b-9c8d-0e1f2a3b4c5d";

/// Reads a fixture, asserts it had no rejects and no input errors, and returns its events.
fn events(name: &str) -> Vec<AuditEvent> {
    let r = read_path(&fixture(name));
    assert!(r.rejects.is_empty(), "{name}: {:?}", r.rejects);
    assert!(
        r.summary.errors().is_empty(),
        "{name}: {:?}",
        r.summary.errors()
    );
    assert!(!r.events.is_empty(), "{name}: no events");
    r.events
}

fn by_id<'a>(events: &'a [AuditEvent], id: &str) -> &'a AuditEvent {
    events
        .iter()
        .find(|e| e.record_id == id)
        .unwrap_or_else(|| panic!("no record {id}"))
}

fn ip(s: &str) -> Option<std::net::IpAddr> {
    s.parse().ok()
}

#[test]
fn management_api_blob_maps_mail_access_in_full() {
    let evs = events("ual-management-api.json");
    assert_eq!(evs.len(), 4);
    assert!(evs.iter().all(|e| e.source == SourceFormat::ManagementApi));

    let bind = by_id(&evs, "2f1c8a4e-7d3b-4e59-a0c6-1b9e8d7f6a51");
    assert_eq!(bind.kind, EventKind::UnifiedAudit);
    assert_eq!(bind.time.to_string(), "2023-06-16T09:01:02Z");
    assert_eq!(bind.tenant_id.as_deref(), Some(TENANT));
    assert_eq!(bind.workload.as_deref(), Some("Exchange"));
    assert_eq!(bind.record_type, Some(RecordType::from_code(50)));
    assert_eq!(bind.operation, "MailItemsAccessed");
    assert_eq!(bind.result_status.as_deref(), Some("Succeeded"));
    assert_eq!(bind.user_type, Some(UserType::Regular));
    assert_eq!(bind.logon_type, Some(LogonType::Owner));
    assert_eq!(bind.client_ip, ip("2001:db8:85a3::8a2e:370:7334"));
    assert_eq!(bind.user_agent.as_deref(), Some("Client=REST;;"));
    assert_eq!(bind.app_id.as_deref(), Some(GRAPH));
    assert_eq!(bind.client_app_id.as_deref(), Some(EVIL_APP));
    assert_eq!(
        bind.session_id.as_deref(),
        Some("8c1f2e3d-4b5a-4c6d-9e7f-a1b2c3d4e5f6")
    );
    assert_eq!(
        bind.aad_session_id.as_deref(),
        Some("00b1c2d3-e4f5-4a6b-8c7d-9e0f1a2b3c4d")
    );
    assert_eq!(
        bind.unique_token_id.as_deref(),
        Some("Q7rJ0fG2vU6a9kLmN3pXAA")
    );
    assert_eq!(bind.token_tenant_id.as_deref(), Some(TENANT));
    assert_eq!(
        bind.token_object_id.as_deref(),
        Some("5e7a9c1b-3d5f-4a7c-8e9a-b1d3f5a7c9e2")
    );
    assert_eq!(
        bind.mailbox_owner_upn.as_deref(),
        Some("megan@contoso.example")
    );
    assert_eq!(
        bind.mailbox_guid.as_deref(),
        Some("d0c5f8ae-9ed7-4e46-bfdf-ea1460f5a31b")
    );
    let mail = bind.mail_access.as_ref().unwrap();
    assert_eq!(mail.access_type, Some(MailAccessType::Bind));
    assert_eq!(mail.is_throttled, Some(false));
    assert_eq!(mail.operation_count, Some(3));
    let paths: Vec<_> = mail
        .folders
        .iter()
        .map(|f| f.path.as_deref().unwrap())
        .collect();
    assert_eq!(paths, ["\\Inbox", "\\Inbox\\Finance"]);
    assert_eq!(mail.message_ids().count(), 3);
    assert_eq!(
        mail.folders[0].message_ids[1],
        "<a1b2c3d4-e5f6-4718-9a0b-c1d2e3f4a5b6@contoso.example>"
    );

    // Sync: IPv4-mapped address, throttled, ClientAppId only in AppAccessContext.
    let sync = by_id(&evs, "6b2d4f60-8a1c-4e3b-9d5f-7a9c1e3b5d70");
    assert_eq!(sync.client_ip, ip("198.51.100.23"));
    assert_eq!(
        sync.client_app_id.as_deref(),
        Some("d3590ed6-52b3-4102-aeff-aad2292ab01c")
    );
    let mail = sync.mail_access.as_ref().unwrap();
    assert_eq!(mail.access_type, Some(MailAccessType::Sync));
    assert_eq!(mail.is_throttled, Some(true));
    assert_eq!(mail.folders[0].path.as_deref(), Some("\\Sent Items"));
    assert!(mail.folders[0].message_ids.is_empty());

    // The inbox rule: its parameters, the port stripped, the token from AppAccessContext.
    let rule = by_id(&evs, "85d29e27-be28-4f2c-96c8-08dbbe33c473");
    assert_eq!(rule.operation, "New-InboxRule");
    assert_eq!(rule.client_ip, ip("203.0.113.45"));
    assert_eq!(
        rule.property("SubjectOrBodyContainsWords"),
        Some("invoice;payment;wire transfer")
    );
    assert_eq!(rule.property("MoveToFolder"), Some("RSS Feeds"));
    assert_eq!(rule.parameters.len(), 6);
    assert_eq!(rule.client_app_id, None, "empty strings are absent");
    assert_eq!(
        rule.unique_token_id.as_deref(),
        Some("3kVZRE8tFkinHtPA7_EFAA")
    );
    assert!(rule.mail_access.is_none());

    // Consent: an Entra ID record in the UAL, with ActorIpAddress and NewValue properties.
    let consent = by_id(&evs, "e1a3c5e7-0b2d-4f6a-8c1e-3a5c7e9b1d3f");
    assert_eq!(consent.operation, "Consent to application.");
    assert_eq!(consent.workload.as_deref(), Some("AzureActiveDirectory"));
    assert_eq!(
        consent.record_type.as_ref().and_then(RecordType::name),
        Some("AzureActiveDirectory")
    );
    assert_eq!(consent.client_ip, ip("198.51.100.77"));
    assert_eq!(
        consent.property("ConsentContext.IsAdminConsent"),
        Some("False")
    );
    assert!(
        consent
            .property("ConsentAction.Permissions")
            .unwrap()
            .contains("Mail.Read")
    );
    assert_eq!(
        consent.property("extendedAuditEventCategory"),
        Some("ServicePrincipal")
    );
}

#[test]
fn ndjson_maps_admin_cmdlets_sign_ins_and_names_instead_of_numbers() {
    let evs = events("ual.ndjson");
    assert_eq!(evs.len(), 5);
    assert!(evs.iter().all(|e| e.source == SourceFormat::UalNdjson));

    let fwd = by_id(&evs, "c4e6a8b0-2d4f-4a6c-8e0a-b2d4f6a8c0e2");
    assert_eq!(fwd.operation, "Set-Mailbox");
    assert_eq!(fwd.user_type, Some(UserType::Admin));
    assert_eq!(fwd.client_ip, ip("2001:db8:4::1c"));
    assert_eq!(
        fwd.property("ForwardingSmtpAddress"),
        Some("smtp:megan.b@mailbox-relay.example")
    );

    let perm = by_id(&evs, "d8f0a2c4-6e8a-4c0e-a2c4-e6a8c0e2a4c6");
    assert_eq!(perm.client_ip, ip("2001:db8:4::1c"), "[v6]:port");
    assert_eq!(perm.property("AccessRights"), Some("FullAccess"));
    assert_eq!(
        perm.property("AutoMapping"),
        Some("false"),
        "non-string values keep their JSON text"
    );

    let login = by_id(&evs, "f2b4d6f8-1a3c-4e5a-9b7d-2f4a6c8e0b2d");
    assert_eq!(login.operation, "UserLoggedIn");
    assert_eq!(
        login.app_id.as_deref(),
        Some("00000002-0000-0ff1-ce00-000000000000")
    );
    assert!(
        login
            .user_agent
            .as_deref()
            .unwrap()
            .starts_with("Mozilla/5.0"),
        "from ExtendedProperties"
    );

    let named = by_id(&evs, "b0d2f4a6-c8e0-4a2c-8e4a-6c8e0a2c4e6a");
    assert_eq!(named.record_type, Some(RecordType::from_code(50)));
    assert_eq!(named.user_type, Some(UserType::Regular));
    assert_eq!(named.logon_type, Some(LogonType::Delegate));
    assert_eq!(named.time.to_string(), "2023-06-16T10:00:00.1234567Z");
    assert_eq!(named.client_ip, ip("2001:db8:1:2::15"));
}

#[test]
fn csv_exports_yield_the_audit_data_json() {
    // The same records as the JSON fixtures hold them, byte for byte.
    let mut json = events("ual-management-api.json");
    json.extend(events("ual.ndjson"));
    for (name, format, count) in [
        ("purview-current.csv", SourceFormat::PurviewCsv, 3),
        ("purview-classic.csv", SourceFormat::PurviewCsvClassic, 2),
        (
            "search-unifiedauditlog.csv",
            SourceFormat::SearchUnifiedAuditLogCsv,
            2,
        ),
    ] {
        let evs = events(name);
        assert_eq!(evs.len(), count, "{name}");
        for ev in &evs {
            assert_eq!(ev.source, format, "{name}");
            // The raw record is the JSON Microsoft wrote, without the CSV quoting.
            if let Some(same) = json.iter().find(|j| j.record_id == ev.record_id) {
                assert_eq!(ev.raw, same.raw, "{name}: {}", ev.record_id);
                assert_eq!(ev.operation, same.operation);
                assert_eq!(ev.mail_access, same.mail_access);
            } else {
                assert!(ev.raw.starts_with(b"{\"CreationTime\":\""), "{name}");
            }
        }
    }
    let evs = events("purview-current.csv");
    let bind = by_id(&evs, "2f1c8a4e-7d3b-4e59-a0c6-1b9e8d7f6a51");
    assert_eq!(bind.mail_access.as_ref().unwrap().message_ids().count(), 3);
    // Times come from AuditData, not the locale-formatted CreationDate column.
    let evs = events("search-unifiedauditlog.csv");
    assert_eq!(evs[0].time.to_string(), "2023-06-16T08:57:18Z");
}

#[test]
fn sentinel_office_activity_reads_renamed_and_stringified_columns() {
    let evs = events("sentinel-officeactivity.json");
    assert_eq!(evs.len(), 2);
    let bind = &evs[0];
    assert_eq!(bind.source, SourceFormat::SentinelOfficeActivity);
    assert_eq!(bind.record_id, "2f1c8a4e-7d3b-4e59-a0c6-1b9e8d7f6a51");
    assert_eq!(bind.workload.as_deref(), Some("Exchange"));
    assert_eq!(bind.client_ip, ip("2001:db8:85a3::8a2e:370:7334"));
    assert_eq!(bind.logon_type, Some(LogonType::Owner));
    assert_eq!(bind.record_type, Some(RecordType::from_code(50)));
    assert_eq!(
        bind.unique_token_id.as_deref(),
        Some("Q7rJ0fG2vU6a9kLmN3pXAA")
    );
    let mail = bind.mail_access.as_ref().unwrap();
    assert_eq!(mail.access_type, Some(MailAccessType::Bind));
    assert_eq!(mail.message_ids().count(), 3);
    assert_eq!(mail.operation_count, Some(3));
    let rule = &evs[1];
    assert_eq!(rule.property("StopProcessingRules"), Some("True"));
    assert_eq!(rule.client_ip, ip("203.0.113.45"));
    // The raw record of a Sentinel row is the row.
    assert!(rule.raw.starts_with(b"{\n    \"TenantId\""));
}

#[test]
fn defender_rows_read_the_ual_record_inside() {
    let evs = events("defender-cloudappevents.ndjson");
    assert_eq!(evs.len(), 2);
    let bind = &evs[0];
    assert_eq!(bind.source, SourceFormat::DefenderCloudAppEvents);
    assert_eq!(bind.kind, EventKind::UnifiedAudit);
    assert_eq!(bind.record_id, "2f1c8a4e-7d3b-4e59-a0c6-1b9e8d7f6a51");
    let mail = bind.mail_access.as_ref().unwrap();
    assert_eq!(
        mail.access_type,
        Some(MailAccessType::Bind),
        "PowerShell-serialised properties"
    );
    assert_eq!(mail.folders.len(), 2);
    assert_eq!(mail.folders[1].path.as_deref(), Some("\\Inbox\\Finance"));
    let rule = &evs[1];
    assert_eq!(rule.operation, "New-InboxRule");
    assert_eq!(
        rule.property("MoveToFolder"),
        Some("RSS Feeds"),
        "RawEventData as JSON text"
    );
    assert!(rule.raw.starts_with(b"{\"Timestamp\""));
}

#[test]
fn graph_sign_ins_map_status_location_and_token() {
    let evs = events("graph-signins.json");
    assert_eq!(evs.len(), 3, "the page's value array, not the page");
    assert!(
        evs.iter()
            .all(|e| e.source == SourceFormat::GraphSignIn && e.kind == EventKind::SignIn)
    );

    let ok = &evs[0];
    assert_eq!(ok.operation, "SignIn");
    assert_eq!(ok.result_status.as_deref(), Some("Success"));
    assert_eq!(ok.user_id.as_deref(), Some("megan@contoso.example"));
    assert_eq!(ok.client_ip, ip("198.51.100.77"));
    assert_eq!(
        ok.unique_token_id.as_deref(),
        Some("Q7rJ0fG2vU6a9kLmN3pXAA")
    );
    assert_eq!(
        ok.aad_session_id.as_deref(),
        Some("00b1c2d3-e4f5-4a6b-8c7d-9e0f1a2b3c4d")
    );
    let s = ok.sign_in.as_ref().unwrap();
    assert_eq!(s.error_code, Some(0));
    assert_eq!(s.event_types, ["interactiveUser"]);
    assert_eq!(s.is_interactive, Some(true));
    assert_eq!(s.asn, Some(64496));
    assert_eq!(s.location.as_ref().unwrap().country.as_deref(), Some("NL"));
    assert_eq!(s.token_issuer_type.as_deref(), Some("AzureAD"));
    assert_eq!(s.incoming_token_type.as_deref(), Some("none"));
    assert_eq!(
        s.authentication_requirement.as_deref(),
        Some("multiFactorAuthentication")
    );

    let failed = &evs[1];
    assert_eq!(failed.result_status.as_deref(), Some("Failure"));
    let s = failed.sign_in.as_ref().unwrap();
    assert_eq!(s.error_code, Some(50126));
    assert!(
        s.failure_reason
            .as_deref()
            .unwrap()
            .contains("invalid username or password")
    );
    assert_eq!(failed.client_ip, ip("2001:db8:ffff::42"));

    let silent = evs[2].sign_in.as_ref().unwrap();
    assert_eq!(silent.is_interactive, Some(false));
    assert_eq!(silent.incoming_token_type.as_deref(), Some("refreshToken"));
}

#[test]
fn azure_monitor_exports_unwrap_properties() {
    let evs = events("azure-monitor.ndjson");
    assert_eq!(evs.len(), 4);
    let kinds: Vec<_> = evs.iter().map(|e| (e.source, e.kind)).collect();
    assert_eq!(
        kinds[..3],
        [(SourceFormat::AzureMonitorSignIn, EventKind::SignIn); 3]
    );
    assert_eq!(
        kinds[3],
        (SourceFormat::AzureMonitorAudit, EventKind::DirectoryAudit)
    );
    let types: Vec<_> = evs[..3]
        .iter()
        .map(|e| e.sign_in.as_ref().unwrap().event_types.join(","))
        .collect();
    assert_eq!(
        types,
        ["interactiveUser", "nonInteractiveUser", "servicePrincipal"],
        "from the category"
    );
    assert_eq!(evs[0].tenant_id.as_deref(), Some(TENANT));
    assert_eq!(evs[1].sign_in.as_ref().unwrap().is_interactive, Some(false));
    let sp = &evs[2];
    assert_eq!(sp.user_type, Some(UserType::ServicePrincipal));
    assert_eq!(sp.user_id.as_deref(), Some("Contoso Archiver"));
    assert_eq!(sp.time.to_string(), "2023-06-16T09:40:12.4471532Z");
    assert_eq!(
        sp.sign_in.as_ref().unwrap().service_principal_id.as_deref(),
        Some("b8c9d0e1-f2a3-4b4c-9d5e-6f7a8b9c0d1e")
    );
    let audit = &evs[3];
    assert_eq!(audit.operation, "Add service principal");
    assert_eq!(audit.user_id.as_deref(), Some("megan@contoso.example"));
    assert_eq!(audit.client_ip, ip("198.51.100.77"));

    let evs = events("azure-monitor-records.json");
    assert_eq!(evs.len(), 1);
    assert_eq!(
        evs[0].sign_in.as_ref().unwrap().event_types,
        ["managedIdentity"]
    );
}

#[test]
fn sentinel_sign_ins_parse_their_json_strings() {
    let evs = events("sentinel-signinlogs.json");
    assert_eq!(evs.len(), 3);
    assert!(evs.iter().all(|e| e.source == SourceFormat::SentinelSignIn));
    let failed = &evs[0];
    let s = failed.sign_in.as_ref().unwrap();
    assert_eq!(s.error_code, Some(50126));
    assert_eq!(failed.result_status.as_deref(), Some("Failure"));
    assert_eq!(
        s.location.as_ref().unwrap().city.as_deref(),
        Some("Frankfurt am Main")
    );
    assert_eq!(s.resource_id.as_deref(), Some(GRAPH));
    assert_eq!(
        s.user_object_id.as_deref(),
        Some("9a1b2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c5d")
    );
    assert_eq!(s.event_types, ["interactiveUser"]);
    assert_eq!(
        failed.tenant_id.as_deref(),
        Some(TENANT),
        "AADTenantId, not the workspace id"
    );
    assert_eq!(
        evs[1].sign_in.as_ref().unwrap().event_types,
        ["nonInteractiveUser"]
    );
    assert_eq!(
        evs[1].aad_session_id.as_deref(),
        Some("00b1c2d3-e4f5-4a6b-8c7d-9e0f1a2b3c4d")
    );
    assert_eq!(evs[2].user_id.as_deref(), Some("Contoso Archiver"));
    assert_eq!(evs[2].user_type, Some(UserType::ServicePrincipal));
}

#[test]
fn directory_audits_map_initiator_targets_and_properties() {
    let evs = events("graph-directoryaudits.json");
    assert_eq!(evs.len(), 3);
    let consent = &evs[0];
    assert_eq!(consent.source, SourceFormat::GraphDirectoryAudit);
    assert_eq!(consent.kind, EventKind::DirectoryAudit);
    assert_eq!(consent.operation, "Consent to application");
    assert_eq!(consent.result_status.as_deref(), Some("success"));
    assert_eq!(consent.user_id.as_deref(), Some("megan@contoso.example"));
    assert_eq!(consent.client_ip, ip("198.51.100.77"));
    assert!(
        consent
            .user_agent
            .as_deref()
            .unwrap()
            .starts_with("Mozilla/5.0")
    );
    let d = consent.directory.as_ref().unwrap();
    assert_eq!(d.category.as_deref(), Some("ApplicationManagement"));
    assert_eq!(d.operation_type.as_deref(), Some("Assign"));
    assert_eq!(
        d.targets[0].display_name.as_deref(),
        Some("Contoso Mail Helper")
    );
    assert_eq!(d.targets[0].modified_properties.len(), 4);
    assert_eq!(
        d.targets[0].modified_properties[0].new_value.as_deref(),
        Some("\"False\"")
    );

    let grant = evs[1].directory.as_ref().unwrap();
    assert_eq!(
        grant.initiated_by_app_name.as_deref(),
        Some("Microsoft Graph")
    );
    assert_eq!(
        grant.initiated_by_id.as_deref(),
        Some("9a8b7c6d-5e4f-4a3b-2c1d-0e9f8a7b6c5d")
    );

    let sentinel = events("sentinel-auditlogs.ndjson");
    assert_eq!(sentinel.len(), 2);
    assert_eq!(sentinel[0].source, SourceFormat::SentinelAuditLogs);
    assert_eq!(
        sentinel[0].directory, evs[0].directory,
        "the same audit read from Sentinel"
    );
    assert_eq!(
        sentinel[1].user_id.as_deref(),
        Some("admin@contoso.example")
    );
    let role = sentinel[1].directory.as_ref().unwrap();
    assert_eq!(
        role.targets[0].user_principal_name.as_deref(),
        Some("megan@contoso.example")
    );
}

#[test]
fn one_file_may_mix_schemas() {
    let evs = events("mixed.ndjson");
    let kinds: Vec<_> = evs.iter().map(|e| e.kind).collect();
    assert_eq!(
        kinds,
        [
            EventKind::UnifiedAudit,
            EventKind::SignIn,
            EventKind::DirectoryAudit,
            EventKind::UnifiedAudit
        ]
    );
    // The same token joins the sign-in to the mail access.
    assert_eq!(evs[1].unique_token_id, evs[3].unique_token_id);
}

#[test]
fn golden_saml_office_activity_maps_the_mail_theft() {
    let r = read_path(&otrf("OfficeActivityEvents.json"));
    assert!(r.rejects.is_empty(), "{:?}", r.rejects);
    assert_eq!(r.events.len(), 1);
    let ev = &r.events[0];
    assert_eq!(ev.source, SourceFormat::SentinelOfficeActivity);
    assert_eq!(ev.record_id, "699e0b10-1c53-403e-976f-ce0847a92b44");
    assert_eq!(ev.time.to_string(), "2021-08-02T13:32:07Z");
    assert_eq!(ev.client_ip, ip("1.2.3.4"));
    assert_eq!(ev.app_id.as_deref(), Some(GRAPH));
    assert_eq!(
        ev.client_app_id.as_deref(),
        Some("5a95e683-08ad-424e-a441-1d1aec52c02c")
    );
    assert_eq!(ev.user_id.as_deref(), Some("pgustavo@simulandlabs.com"));
    assert_eq!(ev.record_type, Some(RecordType::from_code(50)));
    assert_eq!(ev.logon_type, Some(LogonType::Owner));
    let mail = ev.mail_access.as_ref().unwrap();
    assert_eq!(mail.access_type, Some(MailAccessType::Bind));
    assert_eq!(mail.is_throttled, Some(false));
    assert_eq!(mail.folders.len(), 1);
    assert_eq!(mail.folders[0].path.as_deref(), Some("\\Inbox"));
    assert_eq!(mail.message_ids().count(), 7);
}

#[test]
fn golden_saml_audit_logs_show_the_permission_grant() {
    let r = read_path(&otrf("AADAuditEvents.json"));
    assert!(r.rejects.is_empty(), "{:?}", r.rejects);
    assert_eq!(r.events.len(), 4);
    assert!(
        r.events
            .iter()
            .all(|e| e.source == SourceFormat::SentinelAuditLogs)
    );
    let grant = r
        .events
        .iter()
        .find(|e| e.operation == "Add delegated permission grant")
        .unwrap();
    assert_eq!(grant.user_id.as_deref(), Some("pgustavo@simulandlabs.com"));
    assert_eq!(grant.time.to_string(), "2021-08-02T13:27:20.017Z");
    let d = grant.directory.as_ref().unwrap();
    assert_eq!(d.operation_type.as_deref(), Some("Assign"));
    assert_eq!(d.targets.len(), 2);
    let scope = d.targets[0]
        .modified_properties
        .iter()
        .find(|p| p.name == "DelegatedPermissionGrant.Scope")
        .unwrap();
    assert_eq!(
        scope.new_value.as_deref(),
        Some("\"User.Read Mail.ReadWrite\"")
    );
    assert_eq!(scope.old_value.as_deref(), Some("\"User.Read\""));
    let creds = &r.events[0];
    assert_eq!(
        creds.operation, "Update application – Certificates and secrets management",
        "trimmed"
    );
    assert_eq!(
        creds.directory.as_ref().unwrap().targets[0]
            .display_name
            .as_deref(),
        Some("SimuLandApp")
    );
    assert!(
        creds
            .user_agent
            .as_deref()
            .unwrap()
            .contains("WindowsPowerShell")
    );
}

#[test]
fn golden_saml_defender_rows_read_mail_access_and_device_events() {
    let r = read_path(&otrf("Microsoft365DefenderEvents.json"));
    assert!(r.rejects.is_empty(), "{:?}", r.rejects);
    assert_eq!(r.events.len(), 9);
    let mail = r
        .events
        .iter()
        .find(|e| e.operation == "MailItemsAccessed")
        .unwrap();
    assert_eq!(mail.source, SourceFormat::DefenderCloudAppEvents);
    assert_eq!(
        mail.record_id, "699e0b10-1c53-403e-976f-ce0847a92b44",
        "RawEventData.Id"
    );
    assert_eq!(mail.client_ip, ip("1.2.3.4"));
    assert_eq!(
        mail.client_app_id.as_deref(),
        Some("5a95e683-08ad-424e-a441-1d1aec52c02c")
    );
    let access = mail.mail_access.as_ref().unwrap();
    assert_eq!(access.access_type, Some(MailAccessType::Bind));
    assert_eq!(access.operation_count, Some(7));
    assert_eq!(access.folders[0].path.as_deref(), Some("\\Inbox"));

    let grant = r
        .events
        .iter()
        .find(|e| e.operation == "Add delegated permission grant.")
        .unwrap();
    assert_eq!(grant.source, SourceFormat::DefenderCloudAppEvents);
    assert_eq!(
        grant.record_id, "106830890_11161_e417c1fd-ae0b-4efa-891b-bb6b0ea7d35e",
        "ReportId"
    );
    assert_eq!(grant.user_id.as_deref(), Some("pgustavo@simulandlabs.com"));

    let devices: Vec<_> = r
        .events
        .iter()
        .filter(|e| e.kind == EventKind::Other)
        .collect();
    assert_eq!(devices.len(), 7);
    assert!(
        devices
            .iter()
            .all(|e| e.source == SourceFormat::DefenderAdvancedHunting)
    );
    let ids: std::collections::HashSet<_> = devices.iter().map(|e| &e.record_id).collect();
    assert_eq!(ids.len(), 7, "device event ids are unique");
    assert_eq!(
        devices[0].record_id,
        "00000000-0000-0000-0000-000000000000:113597:2021-08-02T13:11:39.7724491Z"
    );
}

#[test]
fn normalize_rebuilds_exactly_what_read_built() {
    let mut files: Vec<_> = std::fs::read_dir(fixture(""))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x != "md"))
        .collect();
    files.extend(
        [
            "OfficeActivityEvents.json",
            "AADAuditEvents.json",
            "Microsoft365DefenderEvents.json",
        ]
        .map(otrf),
    );
    let mut checked = 0;
    for path in files {
        for ev in read_path(&path).events {
            let again = normalize(ev.source, ev.raw.clone()).unwrap();
            assert_eq!(again, ev, "{}: {}", path.display(), ev.record_id);
            assert_eq!(again.raw, ev.raw);
            checked += 1;
        }
    }
    assert!(checked > 40, "{checked}");
}
