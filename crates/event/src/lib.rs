//! The one event type that flows through mailtrail.
//!
//! Every reader turns what it reads — a Unified Audit Log record from the Management Activity API, a
//! row of a Purview CSV export, a Sentinel `OfficeActivity` row, an Entra ID sign-in — into an
//! [`AuditEvent`]: typed common fields that detections and search use, plus the **original record
//! bytes kept exactly as received**, because evidence must be the record Microsoft wrote, not our
//! re-serialisation of it.
//!
//! # Brief overview
//!
//! * [`AuditEvent`] holds the common fields (time, tenant, operation, user, client IP, AppId,
//!   ClientAppId, session and token ids, mailbox owner, …), the optional [`MailAccess`] details of a
//!   `MailItemsAccessed` record, [`SignIn`] details for sign-in logs, [`DirectoryAudit`] details for
//!   Entra ID audit logs, and [`AuditEvent::raw`].
//! * [`Field`] names each common field once, with the short names users type (`user`, `op`, `app`,
//!   `ip`, …); search, `parse --format table` and the detection engine all use it.
//! * The normalisation helpers ([`parse_time`], [`parse_client_ip`], [`RecordType`], [`UserType`],
//!   [`LogonType`]) accept every spelling real exports use.
//!
//! This crate does no I/O and knows no file format; `mailtrail-formats` builds events.
//!
//! # Example
//!
//! ```
//! use mailtrail_event::{parse_client_ip, parse_time, Field, RecordType, UserType};
//!
//! // Exchange writes client addresses with ports, in brackets, or IPv4-mapped.
//! assert_eq!(parse_client_ip("[2001:db8::7]:443"), "2001:db8::7".parse().ok());
//! assert_eq!(parse_client_ip("::ffff:203.0.113.9"), "203.0.113.9".parse().ok());
//!
//! // Times without a zone are UTC; seven fractional digits are common.
//! let t = parse_time("2023-06-16T09:01:02.1234567").unwrap();
//! assert_eq!(t.to_string(), "2023-06-16T09:01:02.1234567Z");
//!
//! // Record types and user types come as numbers or names.
//! assert_eq!(RecordType::from_code(50).name(), Some("ExchangeItemAggregated"));
//! assert_eq!(RecordType::from_name("ExchangeItemAggregated").code(), Some(50));
//! assert_eq!(UserType::parse("5"), UserType::parse("Application"));
//!
//! assert_eq!(Field::from_name("client_app"), Some(Field::ClientAppId));
//! ```

#![forbid(unsafe_code)]

mod apps;
mod enums;
mod event;
mod field;
mod ip;
mod network;
mod record_type;
mod time;

pub use crate::apps::{AppKind, FIRST_PARTY_APPS, FirstPartyApp, first_party_app};
pub use crate::enums::{LogonType, MailAccessType, UserType};
pub use crate::event::{
    AuditEvent, DirectoryAudit, EventKind, Folder, Location, MailAccess, MailItem,
    ModifiedProperty, NameValue, SignIn, SourceFormat, Target,
};
pub use crate::field::{Field, FieldValue};
pub use crate::ip::parse_client_ip;
pub use crate::network::microsoft_service;
pub use crate::record_type::RecordType;
pub use crate::time::{Timestamp, parse_time};

/// The tenant id of Microsoft consumer accounts (MSA: outlook.com, hotmail.com, live.com).
///
/// A token issued in this tenant has no business reading an enterprise mailbox; Storm-0558's forged
/// tokens were signed with an MSA key.
pub const MSA_CONSUMER_TENANT_ID: &str = "9188040d-6c67-4c5b-b112-36a304b66dad";
