//! Readers for every form in which Microsoft 365 and Entra ID logs reach an investigator.
//!
//! Give it files, directories, glob patterns or standard input; it recognises what each holds from
//! the bytes — gzip, zstd or zip around JSON arrays (Management Activity API content blobs), Graph
//! pages and Azure Monitor envelopes, NDJSON, or Purview and `Search-UnifiedAuditLog` CSV exports —
//! and which schema each record follows — the Unified Audit Log, Sentinel `OfficeActivity`,
//! Defender `CloudAppEvents`, Entra ID sign-ins and directory audits in their Graph, Azure Monitor
//! and Sentinel shapes — and turns every record into a
//! [`mailtrail_event::AuditEvent`] that keeps the record's exact bytes.
//!
//! # Brief overview
//!
//! * [`Inputs::expand`] turns command-line arguments into [`Input`]s.
//! * A [`Reader`], configured by [`ReadOptions`], reads inputs in order and hands each [`Record`]
//!   — an event, or a [`RecordError`] saying where the bad record is and why — to a [`Sink`]
//!   (any closure), then returns a [`Summary`] with per-input counts and the inputs it could not
//!   read ([`InputError`]). [`Reader::events`] does the same on a background thread as an iterator.
//! * [`normalize`] rebuilds an event from a stored record's source format and raw bytes, exactly as
//!   the reader built it.
//!
//! Memory is bounded whatever the input: records are split from the byte stream without parsing
//! and parsed one at a time, and a record above the size limit is skipped without being held.
//! Reading runs on one splitting thread and as many normalising threads as there are cores, and
//! records come out in input order. A bad record is reported and skipped; the rest is read.
//!
//! # Example
//!
//! ```
//! use std::ops::ControlFlow;
//! use mailtrail_event::{MailAccessType, SourceFormat};
//! use mailtrail_formats::{Input, ReadOptions, Reader, Record};
//!
//! let ndjson = concat!(
//!     r#"{"Id":"5b0d3f9e-2c1a-4a8e-9f61-0d6c2b7e8a10","CreationTime":"2023-06-16T09:01:02","#,
//!     r#""RecordType":50,"Operation":"MailItemsAccessed","UserId":"megan@contoso.example","#,
//!     r#""ClientIPAddress":"[2001:db8::7]:51234","OperationProperties":[{"Name":"MailAccessType","Value":"Bind"}]}"#,
//!     "\n",
//!     "this line is not JSON\n",
//! );
//! let mut events = Vec::new();
//! let mut rejects = Vec::new();
//! let summary = Reader::new(ReadOptions::default()).read(
//!     &Input::bytes("audit.json", ndjson.as_bytes().to_vec()),
//!     &mut |record: Record| {
//!         match record {
//!             Ok(ev) => events.push(ev),
//!             Err(e) => rejects.push(e.to_string()),
//!         }
//!         ControlFlow::Continue(())
//!     },
//! );
//! assert_eq!((summary.records(), summary.rejected()), (1, 1));
//! let ev = &events[0];
//! assert_eq!(ev.source, SourceFormat::UalNdjson);
//! assert_eq!(ev.client_ip, "2001:db8::7".parse().ok());
//! assert_eq!(ev.mail_access.as_ref().and_then(|m| m.access_type.clone()), Some(MailAccessType::Bind));
//! assert!(rejects[0].starts_with("audit.json:2: "));
//! ```

#![forbid(unsafe_code)]

mod csv;
mod error;
mod input;
mod json;
mod reader;
mod record;
mod stream;

pub use crate::error::{
    InputError, InputErrorKind, Position, RecordError, RecordErrorKind, RecordLocation,
    RecordWarning,
};
pub use crate::input::{Input, Inputs};
pub use crate::reader::{
    Events, InputSummary, RawBytes, ReadOptions, Reader, Record, Sink, Summary,
};
pub use crate::record::{RecordKey, normalize};

/// Entry points for the `fuzz/` targets and for the tests that run the same code on every fixture.
/// Not a stable API.
#[doc(hidden)]
pub mod fuzzing {
    use std::io::Cursor;

    use mailtrail_event::SourceFormat;

    use crate::json::{JsonSplitter, Split};

    /// The whole reader on one input: sniffing, decompression, splitting and normalising.
    pub fn read(data: &[u8]) {
        let reader = crate::Reader::new(crate::ReadOptions {
            max_record_size: 1 << 16,
            threads: 1,
            ..Default::default()
        });
        let _ = reader.read(&crate::Input::bytes("fuzz", data.to_vec()), &mut |_| {
            std::ops::ControlFlow::Continue(())
        });
    }

    /// The JSON splitter alone; checks that records are slices that start with `{`.
    pub fn json_splitter(data: &[u8]) {
        let mut s = JsonSplitter::new("fuzz".into(), Vec::new(), Cursor::new(data), 1 << 12);
        let mut n = 0usize;
        while let Ok(Some(split)) = s.next() {
            if let Split::Record { bytes, .. } = split {
                assert!(bytes.first() == Some(&b'{'), "a record starts with a brace");
            }
            n += 1;
            assert!(n <= data.len() + 1, "the splitter makes progress");
        }
    }

    /// The CSV splitter alone.
    pub fn csv(data: &[u8]) {
        if let Ok(mut s) =
            crate::csv::CsvSplitter::new("fuzz".into(), data.to_vec(), std::io::empty(), 1 << 12)
        {
            while let Ok(Some(_)) = s.next() {}
        }
    }

    /// One JSON record through schema detection and its normaliser.
    pub fn record(data: &[u8]) {
        crate::record::fuzz::record(data);
    }

    /// One record through the normaliser of a given source format, as [`crate::normalize`] does.
    pub fn normalize_as(source: SourceFormat, data: &[u8]) {
        crate::record::fuzz::normalize_as(source, data);
    }
}
