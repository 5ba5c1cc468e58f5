//! The detection engine: Sigma rules, stateful analytics and incidents with their blast radius.
//!
//! An investigator's question is "who got in, how, and what did they read?". This crate answers it
//! from a time-ordered stream of [`AuditEvent`](mailtrail_event::AuditEvent)s, the same way for a
//! batch of exports (`mailtrail hunt`) and for a live feed: only the source and the sink differ.
//!
//! # Brief overview
//!
//! * [`Engine`] runs every detector over the events you give it in time order: the Sigma rules
//!   ([`sigma`]) that match single records or correlate a few, and the stateful analytics that Sigma
//!   cannot express — an application reading mail for the first time since the baseline, mail read
//!   with a token no sign-in issued, a consumer-tenant token on an enterprise mailbox, known-bad
//!   infrastructure, session replay, bulk access, and business-email-compromise sequences.
//! * Detectors raise [`Finding`]s: a detector, a severity, ATT&CK techniques, the entities involved
//!   and the evidence as source record ids. A finding keeps collecting the records that share its
//!   narrow keys (a token, an application, a user at an address), so one forged-token finding holds
//!   every read that token made.
//! * [`Engine::finish`] groups related findings into [`Incident`]s and computes each incident's
//!   [`BlastRadius`]: which mailboxes, folders and messages were read.
//!
//! # Example
//!
//! ```
//! use mailtrail_detect::{Engine, EngineConfig, Severity};
//! use mailtrail_event::{AuditEvent, parse_time};
//!
//! // A mailbox read through an application no one used before, after a two-week baseline.
//! let read = |id: &str, day: u32, client_app: &str| AuditEvent {
//!     record_id: id.into(),
//!     time: parse_time(&format!("2026-01-{day:02}T10:00:00Z")).unwrap(),
//!     tenant_id: Some("6b2f1c2e-0000-4000-8000-00000000c0de".into()),
//!     workload: Some("Exchange".into()),
//!     operation: "MailItemsAccessed".into(),
//!     user_id: Some("ann@contoso.example".into()),
//!     app_id: Some("00000003-0000-0000-c000-000000000000".into()),
//!     client_app_id: Some(client_app.into()),
//!     ..Default::default()
//! };
//! let mut engine = Engine::new(EngineConfig::default(), None);
//! engine.process(&read("r1", 1, "d3590ed6-52b3-4102-aeff-aad2292ab01c"));
//! engine.process(&read("r2", 20, "5a95e683-08ad-424e-a441-1d1aec52c02c"));
//! let report = engine.finish();
//! assert_eq!(report.incidents.len(), 1);
//! assert_eq!(report.incidents[0].severity, Severity::High);
//! assert_eq!(report.findings[0].evidence, ["r2"]);
//! ```

#![forbid(unsafe_code)]

mod analytics;
/// The detectors' maps and sets: hashed with a key drawn per process, so a log line cannot be
/// crafted to collide, and several times faster than SipHash on the short keys they hold.
pub(crate) type HashMap<K, V> = std::collections::HashMap<K, V, ahash::RandomState>;
/// See [`HashMap`].
pub(crate) type HashSet<T> = std::collections::HashSet<T, ahash::RandomState>;
mod apps;
mod engine;
mod finding;
mod incident;
pub mod sigma;

pub use crate::analytics::{
    BulkConfig, Indicator, IndicatorKind, IndicatorSet, IocError, SprayConfig,
};
pub use crate::engine::{
    BaselineCoverage, BaselineMode, Coverage, DetectorCoverage, Engine, EngineConfig,
    InputCoverage, Report, SigmaCoverage,
};
pub use crate::finding::{Entities, Finding, Severity};
pub use crate::incident::{BlastRadius, Incident, MailboxRead, TimelineEntry};

/// A stable hex digest for ids: the same input gives the same id on every machine and version.
pub(crate) fn stable_hash(s: &str) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(s.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}
