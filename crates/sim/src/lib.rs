//! A synthetic Microsoft 365 tenant with labelled attacks.
//!
//! This crate writes the logs a real organisation leaves behind — Unified Audit Log records as the
//! Office 365 Management Activity API returns them, Entra ID sign-ins and directory audits as
//! Microsoft Graph returns them — for a tenant of people who work office hours in several time
//! zones, read mail on desktops, browsers and phones, share mailboxes, travel, and use the odd
//! VPN; plus backup and archiving apps with tenant-wide access. Into that background it mixes
//! attacks (forged-token mail access in the manner of Storm-0558, consent phishing, AiTM, EWS
//! harvesting, FullAccess abuse, eDiscovery export, password spray) that nothing in the records
//! marks, and writes their ground truth separately. Every later test and benchmark of mailtrail
//! measures itself on this data.
//!
//! # Brief overview
//!
//! * [`TenantConfig`] (built with [`TenantConfig::builder`]) fixes everything: users, days, start
//!   date, seed and [`Scenario`]s. Output is a pure function of it: the same configuration gives
//!   byte-identical files on every machine and thread count.
//! * [`Generator`] builds the tenant and either streams [`Record`]s in time order to a callback
//!   ([`Generator::run`]) or writes a directory ([`Generator::write_to`]); both return a
//!   [`Summary`] with counts and one [`Label`] per attack.
//! * [`first_party_app`](mailtrail_event::first_party_app) in `mailtrail-event` names the
//!   Microsoft applications the records mention.
//!
//! `docs/simulate.md` describes the behaviour model, each scenario and which keys link mail
//! access to sign-ins.
//!
//! # Example
//!
//! ```
//! use mailtrail_sim::{Generator, RecordKind, Scenario, TenantConfig};
//!
//! let config = TenantConfig::builder()
//!     .users(20)
//!     .days(16)
//!     .seed(7)
//!     .scenarios(&[Scenario::Storm0558])
//!     .build()?;
//! let generator = Generator::new(config);
//!
//! let mut mail_reads = 0;
//! let summary = generator.run(|record| {
//!     let json: serde_json::Value = serde_json::from_slice(record.json()).expect("valid JSON");
//!     if record.kind() == RecordKind::UnifiedAudit && json["Operation"] == "MailItemsAccessed" {
//!         mail_reads += 1;
//!     }
//!     Ok::<(), std::convert::Infallible>(())
//! })?;
//!
//! assert!(mail_reads > 100);
//! assert_eq!(summary.labels.len(), 1);
//! assert_eq!(summary.labels[0].scenario, "storm-0558");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![forbid(unsafe_code)]

mod activity;
mod clock;
mod config;
mod generator;
mod json;
mod net;
mod planner;
mod records;
mod rng;
mod scenarios;
mod tenant;
mod truth;

pub use crate::config::{ConfigError, DEFAULT_START, Scenario, TenantConfig, TenantConfigBuilder};
pub use crate::generator::{
    Generator, Label, LabelEntities, Record, SimError, Summary, THROTTLE_LIMIT,
};
pub use crate::records::RecordKind;
