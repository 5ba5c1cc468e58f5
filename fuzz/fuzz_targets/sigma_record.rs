//! Any bytes as the original record of an event, evaluated by Sigma rules that read the record:
//! fields outside the mapping table (nested paths, the `properties.` envelope, JSON held in
//! strings, `{Name, Value}` lists by name), whole lists, `Payload`, and keyword search. The first
//! byte picks the schema the event claims, so every route's lookups run. Records are untrusted
//! input; nothing here may panic or run away.
#![no_main]

use std::path::PathBuf;
use std::sync::LazyLock;

use mailtrail_detect::sigma::{SigmaMatcher, SigmaRules};
use mailtrail_event::{AuditEvent, EventKind};

const RULES: &str = r#"
title: UAL record paths
logsource: { product: m365 }
detection:
    a: { Parameters.ForwardTo|contains: '@' }
    b: { AppAccessContext.ClientAppName|startswith: 'x' }
    c: { Folders.FolderItems.InternetMessageId|endswith: '>' }
    d: { properties.deep.deeper.deepest: 1 }
    e: { Parameters|contains: Export }
    f: { Payload|contains: evil }
    g: { eventName: AlertTriggered }
    condition: 1 of them
---
title: UAL keywords
logsource: { product: m365, service: exchange }
detection:
    keywords: [ 'evil.example', 'wire transfer' ]
    condition: keywords
---
title: Sign-in record paths
logsource: { product: azure, service: signinlogs }
detection:
    a: { DeviceDetail.isCompliant: 'false' }
    b: { NetworkLocationDetails: '[]' }
    c: { Status|contains: 'MFA denied' }
    d: { properties.authenticationDetails.authenticationMethod|re: '^Pass' }
    condition: 1 of them
---
title: Audit record paths
logsource: { product: azure, service: auditlogs }
detection:
    a: { ConsentContext.IsAdminConsent: 'false' }
    b: { TargetResources.modifiedProperties.AppRole.Value|contains: Mail }
    c: { AdditionalDetails.User-Agent|contains: python }
    condition: 1 of them
"#;

static LOADED: LazyLock<SigmaRules> = LazyLock::new(|| {
    let dir: PathBuf =
        std::env::temp_dir().join(format!("mailtrail-fuzz-sigma-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    std::fs::write(dir.join("rules.yml"), RULES).expect("write rules");
    let (rules, report) = SigmaRules::load(false, &[dir]).expect("rules load");
    assert!(report.skipped().is_empty(), "{:?}", report.skipped());
    rules
});

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Some((&first, raw)) = data.split_first() else {
        return;
    };
    let (kind, workload) = match first % 3 {
        0 => (EventKind::UnifiedAudit, "Exchange"),
        1 => (EventKind::SignIn, "AzureActiveDirectory"),
        _ => (EventKind::DirectoryAudit, "AzureActiveDirectory"),
    };
    let event = AuditEvent {
        kind,
        record_id: "fuzz".into(),
        workload: Some(workload.into()),
        operation: "New-InboxRule".into(),
        raw: raw.to_vec().into(),
        ..Default::default()
    };
    let mut matcher = SigmaMatcher::new(&LOADED);
    let mut out = Vec::new();
    matcher.process(&event, &mut out);
    matcher.finish(&mut out);
});
