//! What can go wrong, and where: a bad record ([`RecordError`]) or an input that could not be read
//! at all ([`InputError`]).

use std::fmt;
use std::io;
use std::sync::Arc;

/// Where a record sits in its input.
///
/// Displayed the way editors and `grep -n` write positions, so a user can jump to it:
/// `export.json:12` for a line, `blob.json:1 (element 7, byte 10234)` for an element of a JSON array,
/// `audit.csv:40 (row 38)` for a CSV row, and `logs.zip!/day1.json:3` for a zip member.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordLocation {
    pub(crate) input: Arc<str>,
    pub(crate) line: u64,
    pub(crate) offset: u64,
    pub(crate) position: Position,
    /// Whether the record's bytes lie unchanged in the input file at `offset`.
    pub(crate) in_file: bool,
}

/// How a record is counted inside its container.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Position {
    /// A line of NDJSON, or a value of concatenated JSON.
    Line,
    /// The zero-based index of an element of a JSON array.
    Element(u64),
    /// The one-based data row of a CSV file (the header is row 0).
    Row(u64),
}

impl RecordLocation {
    /// A location, for a program that keeps records aside and reports on them later.
    pub fn new(input: impl Into<Arc<str>>, line: u64, offset: u64, position: Position) -> Self {
        Self {
            input: input.into(),
            line,
            offset,
            position,
            in_file: false,
        }
    }

    /// The input's display name: the path, `<stdin>`, or `archive.zip!/member`.
    pub fn input(&self) -> &str {
        &self.input
    }

    /// The one-based line on which the record starts (in the decompressed text).
    pub fn line(&self) -> u64 {
        self.line
    }

    /// The zero-based byte offset at which the record starts (in the decompressed text).
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// How the record is counted in its container.
    pub fn position(&self) -> Position {
        self.position
    }

    /// Where the record's bytes are in the input file itself, when they are stored there exactly
    /// as read: a JSON record of an uncompressed file. `None` for compressed inputs, archive
    /// members, standard input and CSV cells. A program can read the record again from there
    /// instead of keeping it.
    pub fn file_offset(&self) -> Option<u64> {
        self.in_file.then_some(self.offset)
    }
}

impl fmt::Display for RecordLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.input, self.line)?;
        match self.position {
            Position::Line => Ok(()),
            Position::Element(i) => write!(f, " (element {i}, byte {})", self.offset),
            Position::Row(r) => write!(f, " (row {r})"),
        }
    }
}

/// A record that could not be read: where it is and why. The reader skips it and goes on.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{location}: {kind}")]
pub struct RecordError {
    location: RecordLocation,
    kind: RecordErrorKind,
}

impl RecordError {
    /// A record at `location` rejected for `kind`.
    pub fn new(location: RecordLocation, kind: RecordErrorKind) -> Self {
        Self { location, kind }
    }

    /// Where the record is.
    pub fn location(&self) -> &RecordLocation {
        &self.location
    }

    /// Why it was rejected.
    pub fn kind(&self) -> &RecordErrorKind {
        &self.kind
    }
}

/// A record read in part: it was read and kept, but some of its parts could not be (see
/// [`AuditEvent::unread`](mailtrail_event::AuditEvent::unread)).
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{location}: record {record_id} read in part: {}", .unread.join("; "))]
pub struct RecordWarning {
    location: RecordLocation,
    record_id: String,
    unread: Vec<String>,
}

impl RecordWarning {
    /// The record at `location` with id `record_id`, and what of it was left unread.
    pub fn new(location: RecordLocation, record_id: String, unread: Vec<String>) -> Self {
        Self {
            location,
            record_id,
            unread,
        }
    }

    /// Where the record is.
    pub fn location(&self) -> &RecordLocation {
        &self.location
    }

    /// The record's id.
    pub fn record_id(&self) -> &str {
        &self.record_id
    }

    /// Each part left unread, as what and why.
    pub fn unread(&self) -> &[String] {
        &self.unread
    }
}

/// Why a record was rejected.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RecordErrorKind {
    /// The record is not valid JSON (serde_json's message, with line and column inside the record),
    /// or nests deeper than serde_json's limit of 128 levels.
    #[error("invalid JSON: {0}")]
    Json(String),
    /// The record's bytes are not UTF-8 (JSON must be): the file was probably saved in a legacy
    /// code page. Re-export it as UTF-8.
    #[error(
        "not UTF-8: invalid byte at offset {valid_up_to} of the record; re-export the file as UTF-8"
    )]
    NotUtf8 {
        /// How many bytes of the record are valid UTF-8.
        valid_up_to: usize,
    },
    /// The record is larger than the configured limit; it was skipped without being buffered.
    #[error(
        "record of {size} bytes exceeds the limit of {limit} bytes (raise it with --max-record-size)"
    )]
    TooLarge {
        /// The record's size, as far as it was read.
        size: u64,
        /// The limit in force.
        limit: usize,
    },
    /// The input ends, or the line ends, before the record's closing bracket.
    #[error("truncated: {0}")]
    Truncated(&'static str),
    /// A JSON value that is not an object where a record was expected.
    #[error("expected a JSON object, found {0}")]
    NotAnObject(&'static str),
    /// A CSV row without the `AuditData` cell, or with an empty one.
    #[error("{0}")]
    Csv(String),
    /// A JSON object whose keys match no schema mailtrail reads.
    #[error("not a record mailtrail recognises: {0}")]
    UnknownSchema(String),
    /// A field every record of its schema carries is missing or empty.
    #[error("missing field {0}")]
    MissingField(&'static str),
    /// A field holds a value that cannot mean what the schema says.
    #[error("field {field}: {value:?} is not {expected}")]
    InvalidField {
        /// The field's name in the record.
        field: &'static str,
        /// The value found (shortened).
        value: String,
        /// What was expected.
        expected: &'static str,
    },
    /// A nested field (a JSON object, list, or JSON text inside a string) could not be read.
    #[error("field {field}: {message}")]
    Nested {
        /// The field's name in the record.
        field: &'static str,
        /// What went wrong.
        message: String,
    },
    /// [`normalize`](crate::normalize) was asked for a source format this version cannot rebuild.
    #[error("source format {0} cannot be normalised by this version")]
    UnsupportedSource(mailtrail_event::SourceFormat),
}

/// An input, or a part of one (a zip member), that could not be read at all.
///
/// The reader reports it, goes on with the other inputs and members, and counts it in the summary.
#[derive(Debug, thiserror::Error)]
#[error("{input}: {kind}")]
pub struct InputError {
    input: String,
    kind: InputErrorKind,
}

impl InputError {
    pub(crate) fn new(input: impl Into<String>, kind: InputErrorKind) -> Self {
        Self {
            input: input.into(),
            kind,
        }
    }

    /// The input's display name (a path, a glob pattern, `<stdin>`, or `archive.zip!/member`).
    pub fn input(&self) -> &str {
        &self.input
    }

    /// What went wrong.
    pub fn kind(&self) -> &InputErrorKind {
        &self.kind
    }
}

/// Why an input could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InputErrorKind {
    /// The path does not exist, or a glob pattern matched nothing.
    #[error("no such file or directory, and no file matches it as a glob pattern")]
    NotFound,
    /// The glob pattern is not valid.
    #[error("invalid glob pattern: {0}")]
    Pattern(String),
    /// The file or directory could not be opened or listed.
    #[error("cannot open: {0}")]
    Open(#[source] io::Error),
    /// Reading failed part-way; `offset` is the position in the decompressed text reached so far.
    /// Records before it were read.
    #[error("read failed after {offset} bytes: {source}")]
    Read {
        /// Decompressed bytes read before the failure.
        offset: u64,
        /// The I/O error.
        #[source]
        source: io::Error,
    },
    /// A gzip or zstd stream is truncated or corrupt; records before `offset` were read.
    #[error("{format} stream is truncated or corrupt after {offset} decompressed bytes: {source}")]
    Decompress {
        /// `gzip` or `zstd`.
        format: &'static str,
        /// Decompressed bytes read before the failure.
        offset: u64,
        /// The decoder's error.
        #[source]
        source: io::Error,
    },
    /// A zip archive that cannot be opened (truncated, corrupt, or using a compression method other
    /// than stored or deflate), or a member that cannot be read.
    #[error("zip archive: {0}")]
    Zip(String),
    /// Archives inside archives deeper than the reader follows.
    #[error("archives nested more than {0} deep")]
    TooDeep(u8),
    /// UTF-16 text, as PowerShell's `Out-File` writes by default.
    #[error(
        "UTF-16 text: re-export with `-Encoding utf8` (or convert with `iconv -f UTF-16 -t UTF-8`)"
    )]
    Utf16,
    /// The content is none of the supported formats.
    #[error("unknown format: {0}")]
    UnknownFormat(String),
}
