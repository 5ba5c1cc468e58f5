//! Sigma rules over audit events: SigmaHQ's cloud rules, your own, and mailtrail's built-in pack.
//!
//! Rules are evaluated by [rsigma](https://github.com/timescale/rsigma) (Sigma 2, correlations
//! included) against [`AuditEvent`](mailtrail_event::AuditEvent)s. Three things make rules written
//! for other tools apply here:
//!
//! * **Routing by logsource.** `product: m365` rules see Unified Audit Log records (a `service`
//!   narrows them to a workload: `exchange`, `sharepoint`, `threat_management`, …);
//!   `product: azure` rules see sign-ins (`signinlogs`) or directory audits (`auditlogs`). Each
//!   event is evaluated only by the rules written for it; rules for other logs (Windows, AWS, Azure
//!   activity logs, …) are reported as not applicable and never evaluated.
//! * **A field-mapping table.** `Operation`, `eventName`, `OperationName` and `ActivityDisplayName`
//!   all mean the operation; `ResultType` is a sign-in's error code; `status: success` matches a UAL
//!   `Succeeded`; and so on for about a hundred names. These read the fields mailtrail already
//!   normalised, so the record is not parsed again.
//! * **The original record for everything else**, parsed once per event and only when a rule
//!   asks for a field the table does not have: dot paths, case-insensitive, with or without the
//!   Azure Monitor `properties.` envelope, through JSON held in strings, and into `{Name, Value}`
//!   lists by name (`Parameters.ForwardTo`, `OperationProperties.MailAccessType`).
//!
//! # Brief overview
//!
//! * [`SigmaRules::load`] reads the built-in pack and `--sigma` directories and compiles them once,
//!   returning a [`LoadReport`]: every rule loaded, skipped (with the reason) or not applicable
//!   (with its logsource).
//! * [`SigmaMatcher`] holds one run's state (correlation windows). Feed it events in time order
//!   with [`SigmaMatcher::process`]; each [`SigmaMatch`] names the rule, its level and ATT&CK ids,
//!   and the record ids of its evidence. [`SigmaMatcher::finish`] emits correlation matches still
//!   open at the end.
//!
//! Correlation windows run on the events' own times, never the wall clock, so a hunt over last
//! year's export counts the way the events happened.
//!
//! # Example
//!
//! ```
//! use mailtrail_detect::Severity;
//! use mailtrail_detect::sigma::{SigmaMatcher, SigmaRules};
//! use mailtrail_event::{AuditEvent, NameValue};
//!
//! let (rules, report) = SigmaRules::load(true, &[]).unwrap();
//! assert!(report.all_loaded());
//!
//! // An inbox rule that deletes every message mentioning an invoice.
//! let event = AuditEvent {
//!     record_id: "6f1c3a2e-0001".into(),
//!     workload: Some("Exchange".into()),
//!     operation: "New-InboxRule".into(),
//!     user_id: Some("alice@contoso.example".into()),
//!     parameters: vec![
//!         NameValue { name: "SubjectOrBodyContainsWords".into(), value: "invoice".into() },
//!         NameValue { name: "DeleteMessage".into(), value: "True".into() },
//!     ],
//!     ..Default::default()
//! };
//!
//! let mut matcher = SigmaMatcher::new(&rules);
//! let mut matches = Vec::new();
//! matcher.process(&event, &mut matches);
//! matcher.finish(&mut matches);
//!
//! // Deleting mail is common on its own (context, low); keyed on payment words it is not.
//! let hides = matches.iter().find(|m| m.title.contains("Inbox rule deletes")).unwrap();
//! assert_eq!(hides.record_ids, ["6f1c3a2e-0001"]);
//! assert_eq!(hides.level, Severity::Low);
//! assert!(hides.attack.contains(&"T1564.008".to_string()));
//! let keyed = matches.iter().find(|m| m.title.contains("payment or security words")).unwrap();
//! assert_eq!(keyed.level, Severity::Medium);
//! ```

mod builtin;
mod error;
mod event;
mod fields;
mod load;
mod matcher;
mod raw;
mod report;
mod route;

pub use self::error::SigmaError;
pub use self::load::SigmaRules;
pub use self::matcher::{SigmaMatch, SigmaMatcher, SigmaStats};
pub use self::report::{LoadReport, LoadedRule, NotApplicableRule, RuleKind, SkippedRule};
