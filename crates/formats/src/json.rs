//! Splitting JSON text into records without parsing it.
//!
//! A Management Activity API blob is one JSON array that may be a gigabyte; a Graph page or an Azure
//! Monitor export wraps its array in an object (`{"value":[…]}`, `{"records":[…]}`); NDJSON has one
//! record per line; some tools concatenate pretty-printed objects. The [`JsonSplitter`] finds where
//! each record starts and ends by tracking only strings, escapes and bracket depth — no recursion,
//! no allocation per record — and hands each record's bytes on; serde_json parses them later, once.
//!
//! Memory stays bounded: the buffer holds at most one record (up to the size limit) plus one read.
//! A larger record is scanned to its end without being kept and reported as too large.
//!
//! NDJSON is recognised when the first object does not open with a line of its own (which is how
//! every pretty-printer starts an object). In that mode a newline ends a record whatever its
//! brackets say, so one damaged line costs one record, not the rest of the file.

use std::io::{self, Read};
use std::sync::Arc;

use crate::error::{Position, RecordError, RecordErrorKind, RecordLocation};
use crate::record::Container;

const READ_SIZE: usize = 256 * 1024;
/// How far into an object the envelope test looks for `"value"`/`"records"` past `@odata` keys.
const SNIFF_LIMIT: usize = 64 * 1024;

/// What the splitter found next.
pub(crate) enum Split<'b> {
    /// A record's bytes (without container and line ending), where it is, and what surrounded it.
    Record {
        bytes: &'b [u8],
        location: RecordLocation,
        container: Container,
    },
    /// Something that should have been a record and is not.
    Error(RecordError),
}

#[derive(Clone, Copy, Debug)]
enum State {
    /// Between top-level values.
    Top,
    /// Inside an array of records: a top-level array, or the array of an envelope object.
    Array {
        index: u64,
        envelope: bool,
        line_scoped: bool,
    },
    /// After an envelope's array: the rest of the object is skipped.
    EnvelopeTail {
        line_scoped: bool,
    },
    Done,
}

/// How a value scan ended.
enum End {
    /// The value is complete in `buf[mark..pos]`, or was too large (its size) and was skipped.
    Complete { too_large: Option<u64> },
    /// A line ended inside the value (line-scoped values only); `pos` is past the newline.
    Newline,
    /// The input ended inside the value.
    Eof { too_large: Option<u64> },
}

/// Splits a JSON text read from `R` into records. See the module docs.
pub(crate) struct JsonSplitter<R> {
    src: R,
    input: Arc<str>,
    max: usize,
    buf: Vec<u8>,
    /// Start of the value being read; bytes before it may be dropped.
    mark: usize,
    /// Next byte to look at.
    pos: usize,
    /// Absolute offset of `buf[0]`.
    base: u64,
    /// Line number at `pos`.
    line: u64,
    eof: bool,
    state: State,
    line_mode: Option<bool>,
    /// Whether the text is the input file itself (not decompressed), so offsets are file offsets.
    in_file: bool,
}

impl<R: Read> JsonSplitter<R> {
    /// A splitter over `head` (bytes already read, e.g. to sniff the format) followed by `src`.
    pub(crate) fn new(input: Arc<str>, head: Vec<u8>, src: R, max: usize) -> Self {
        let bom = if head.starts_with(b"\xEF\xBB\xBF") {
            3
        } else {
            0
        };
        Self {
            src,
            input,
            max: max.max(1),
            buf: head,
            mark: bom,
            pos: bom,
            base: 0,
            line: 1,
            eof: false,
            state: State::Top,
            line_mode: None,
            in_file: false,
        }
    }

    /// Marks the text as the input file itself: record locations then give their file offset.
    pub(crate) fn in_file(mut self) -> Self {
        self.in_file = true;
        self
    }

    /// The number of bytes consumed so far (for error messages).
    pub(crate) fn offset(&self) -> u64 {
        self.base + self.pos as u64
    }

    fn location(&self, position: Position) -> RecordLocation {
        RecordLocation {
            input: self.input.clone(),
            line: self.line,
            offset: self.base + self.mark as u64,
            position,
            in_file: self.in_file,
        }
    }

    /// Reads more input, dropping the bytes before `mark`. `false` at the end of the input.
    fn fill(&mut self) -> io::Result<bool> {
        if self.eof {
            return Ok(false);
        }
        if self.mark > 0 {
            self.buf.drain(..self.mark);
            self.base += self.mark as u64;
            self.pos -= self.mark;
            self.mark = 0;
        }
        let old = self.buf.len();
        self.buf.resize(old + READ_SIZE, 0);
        let n = loop {
            match self.src.read(&mut self.buf[old..]) {
                Ok(n) => break n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    self.buf.truncate(old);
                    return Err(e);
                }
            }
        };
        self.buf.truncate(old + n);
        if n == 0 {
            self.eof = true;
        }
        Ok(n > 0)
    }

    /// Skips whitespace (and, inside arrays, commas). Returns the next byte without consuming it,
    /// `None` at the end of input, or `Some(b'\n')` when `stop_at_newline` and a line ends.
    fn skip_ws(&mut self, commas: bool, stop_at_newline: bool) -> io::Result<Option<u8>> {
        loop {
            while let Some(&c) = self.buf.get(self.pos) {
                match c {
                    b'\n' => {
                        self.pos += 1;
                        self.line += 1;
                        if stop_at_newline {
                            return Ok(Some(b'\n'));
                        }
                    }
                    b' ' | b'\t' | b'\r' => self.pos += 1,
                    b',' if commas => self.pos += 1,
                    c => return Ok(Some(c)),
                }
            }
            self.mark = self.pos;
            if !self.fill()? {
                return Ok(None);
            }
        }
    }

    /// Returns the next record or error, `None` at the end of the input.
    pub(crate) fn next(&mut self) -> io::Result<Option<Split<'_>>> {
        loop {
            match self.state {
                State::Done => return Ok(None),
                State::Top => {
                    let Some(c) = self.skip_ws(false, false)? else {
                        self.state = State::Done;
                        return Ok(None);
                    };
                    self.mark = self.pos;
                    match c {
                        b'[' => {
                            self.pos += 1;
                            self.state = State::Array {
                                index: 0,
                                envelope: false,
                                line_scoped: self.line_mode == Some(true),
                            };
                        }
                        b'{' => {
                            if let Some(open) = self.envelope()? {
                                self.pos = open + 1;
                                self.state = State::Array {
                                    index: 0,
                                    envelope: true,
                                    line_scoped: self.line_mode == Some(true),
                                };
                                continue;
                            }
                            if self.line_mode.is_none() {
                                self.line_mode = Some(self.first_line_is_record()?);
                            }
                            return if self.line_mode == Some(true) {
                                self.line_record()
                            } else {
                                self.value_record(Position::Line, Container::JsonStream, false)
                            };
                        }
                        _ => return self.stray_value(Position::Line),
                    }
                }
                State::Array {
                    index,
                    envelope,
                    line_scoped,
                } => {
                    let next = self.skip_ws(true, line_scoped)?;
                    self.mark = self.pos;
                    match next {
                        None => {
                            self.state = State::Done;
                            return Ok(Some(self.error(
                                Position::Element(index),
                                RecordErrorKind::Truncated(
                                    "the input ends inside a JSON array (no closing `]`)",
                                ),
                            )));
                        }
                        Some(b'\n') => {
                            self.state = State::Top;
                            return Ok(Some(self.error(
                                Position::Element(index),
                                RecordErrorKind::Truncated("the line ends inside a JSON array"),
                            )));
                        }
                        Some(b']') => {
                            self.pos += 1;
                            self.state = if envelope {
                                State::EnvelopeTail { line_scoped }
                            } else {
                                State::Top
                            };
                        }
                        Some(c) => {
                            self.state = State::Array {
                                index: index + 1,
                                envelope,
                                line_scoped,
                            };
                            if c == b'{' {
                                return self.value_record(
                                    Position::Element(index),
                                    Container::JsonArray,
                                    line_scoped,
                                );
                            }
                            return self.stray_value(Position::Element(index));
                        }
                    }
                }
                State::EnvelopeTail { line_scoped } => {
                    // Inside the envelope object at depth 1: skip to its closing brace.
                    self.mark = self.pos;
                    let mut scan = Scan {
                        depth: 1,
                        ..Scan::default()
                    };
                    match self.scan_value(&mut scan, line_scoped)? {
                        End::Complete { .. } => self.state = State::Top,
                        End::Newline => {
                            self.state = State::Top;
                            return Ok(Some(self.error(
                                Position::Line,
                                RecordErrorKind::Truncated(
                                    "the line ends inside the envelope object",
                                ),
                            )));
                        }
                        End::Eof { .. } => {
                            self.state = State::Done;
                            return Ok(Some(self.error(
                                Position::Line,
                                RecordErrorKind::Truncated(
                                    "the input ends inside the envelope object (no closing `}`)",
                                ),
                            )));
                        }
                    }
                }
            }
        }
    }

    fn error(&self, position: Position, kind: RecordErrorKind) -> Split<'static> {
        Split::Error(RecordError::new(self.location(position), kind))
    }

    /// Whether the object at `mark` is an envelope; returns the index of its array's `[`.
    fn envelope(&mut self) -> io::Result<Option<usize>> {
        loop {
            match sniff_envelope(&self.buf[self.mark..]) {
                Sniff::Envelope(i) => return Ok(Some(self.mark + i)),
                Sniff::Record => return Ok(None),
                Sniff::NeedMore => {
                    if self.buf.len() - self.mark > SNIFF_LIMIT || !self.fill()? {
                        return Ok(None);
                    }
                }
            }
        }
    }

    /// Whether the first object's first line is more than a lone `{` (see the module docs).
    fn first_line_is_record(&mut self) -> io::Result<bool> {
        loop {
            if let Some(nl) = memchr::memchr(b'\n', &self.buf[self.mark..]) {
                let line = &self.buf[self.mark..self.mark + nl];
                return Ok(line.trim_ascii() != b"{");
            }
            if self.buf.len() - self.mark > self.max || !self.fill()? {
                return Ok(true);
            }
        }
    }

    /// An NDJSON line starting at `mark`.
    fn line_record(&mut self) -> io::Result<Option<Split<'_>>> {
        let location = self.location(Position::Line);
        let mut too_large = false;
        loop {
            if let Some(nl) = memchr::memchr(b'\n', &self.buf[self.pos..]) {
                let end = self.pos + nl;
                self.pos = end + 1;
                self.line += 1;
                if too_large || end - self.mark > self.max {
                    let size = self.base + end as u64 - location.offset;
                    return Ok(Some(self.too_large(location, size)));
                }
                let bytes = self.buf[self.mark..end].trim_ascii_end();
                return Ok(Some(Split::Record {
                    bytes,
                    location,
                    container: Container::JsonStream,
                }));
            }
            self.pos = self.buf.len();
            if self.pos - self.mark > self.max {
                // Too large: keep scanning for the newline without keeping the bytes.
                too_large = true;
                self.mark = self.pos;
            }
            if !self.fill()? {
                let end = self.buf.len();
                let size = self.base + end as u64 - location.offset;
                if too_large || end - self.mark > self.max {
                    return Ok(Some(self.too_large(location, size)));
                }
                let bytes = self.buf[self.mark..end].trim_ascii_end();
                return Ok(Some(Split::Record {
                    bytes,
                    location,
                    container: Container::JsonStream,
                }));
            }
        }
    }

    fn too_large(&self, location: RecordLocation, size: u64) -> Split<'static> {
        Split::Error(RecordError::new(
            location,
            RecordErrorKind::TooLarge {
                size,
                limit: self.max,
            },
        ))
    }

    /// A structural value (an object) starting at `mark`.
    fn value_record(
        &mut self,
        position: Position,
        container: Container,
        line_scoped: bool,
    ) -> io::Result<Option<Split<'_>>> {
        let location = self.location(position);
        let mut scan = Scan::default();
        match self.scan_value(&mut scan, line_scoped)? {
            End::Complete { too_large: None } => Ok(Some(Split::Record {
                bytes: &self.buf[self.mark..self.pos],
                location,
                container,
            })),
            End::Complete {
                too_large: Some(size),
            }
            | End::Eof {
                too_large: Some(size),
            } => Ok(Some(self.too_large(location, size))),
            End::Newline => {
                self.state = State::Top;
                Ok(Some(Split::Error(RecordError::new(
                    location,
                    RecordErrorKind::Truncated("the line ends before the record's closing brace"),
                ))))
            }
            End::Eof { too_large: None } => {
                self.state = State::Done;
                Ok(Some(Split::Error(RecordError::new(
                    location,
                    RecordErrorKind::Truncated("the input ends before the record's closing brace"),
                ))))
            }
        }
    }

    /// Scans from `pos` until `scan` closes, refilling and (past the limit) discarding as it goes.
    fn scan_value(&mut self, scan: &mut Scan, line_scoped: bool) -> io::Result<End> {
        let start = self.base + self.mark as u64;
        let mut too_large = None;
        loop {
            let step = scan.run(&self.buf[self.pos..], &mut self.line, line_scoped);
            match step {
                Step::Closed(n) => {
                    self.pos += n;
                    let size = self.base + self.pos as u64 - start;
                    if too_large.is_some() || size > self.max as u64 {
                        too_large = Some(size);
                    }
                    return Ok(End::Complete { too_large });
                }
                Step::Newline(n) => {
                    self.pos += n + 1;
                    return Ok(End::Newline);
                }
                Step::More => {
                    self.pos = self.buf.len();
                    let size = self.base + self.pos as u64 - start;
                    if size > self.max as u64 {
                        too_large = Some(size);
                        self.mark = self.pos;
                    }
                    if !self.fill()? {
                        let size = self.base + self.pos as u64 - start;
                        return Ok(End::Eof {
                            too_large: too_large.map(|_| size),
                        });
                    }
                }
            }
        }
    }

    /// Something other than an object where a record should be: skip it and say what it was.
    fn stray_value(&mut self, position: Position) -> io::Result<Option<Split<'_>>> {
        let location = self.location(position);
        let c = self.buf[self.pos];
        let what = match c {
            b'[' => "an array",
            b'"' => "a string",
            b'-' | b'0'..=b'9' | b't' | b'f' | b'n' => "a number, boolean or null",
            _ => "",
        };
        let top = matches!(position, Position::Line);
        if top {
            // Between records: skip the rest of the line (NDJSON), or everything up to the next
            // object or array (other text), so a run of garbage is one error.
            let line_mode = self.line_mode == Some(true);
            loop {
                let rest = &self.buf[self.pos..];
                let found = if line_mode {
                    memchr::memchr(b'\n', rest)
                } else {
                    memchr::memchr2(b'{', b'[', rest)
                };
                match found {
                    Some(n) => {
                        self.line += memchr::memchr_iter(b'\n', &rest[..n]).count() as u64;
                        self.pos += n;
                        break;
                    }
                    None => {
                        self.line += memchr::memchr_iter(b'\n', rest).count() as u64;
                        self.pos = self.buf.len();
                        self.mark = self.pos;
                        if !self.fill()? {
                            break;
                        }
                    }
                }
            }
        } else if matches!(c, b'[' | b'"') {
            let mut scan = Scan::default();
            if let End::Eof { .. } = self.scan_value(&mut scan, false)? {
                self.state = State::Done;
            }
        } else {
            // A bare token inside an array: skip to the next delimiter.
            loop {
                let rest = &self.buf[self.pos..];
                let n = rest
                    .iter()
                    .position(|b| {
                        matches!(
                            b,
                            b',' | b']' | b'}' | b'{' | b'[' | b' ' | b'\t' | b'\r' | b'\n'
                        )
                    })
                    .unwrap_or(rest.len());
                self.pos += n.max(usize::from(n == 0));
                if self.pos < self.buf.len() {
                    break;
                }
                self.mark = self.pos;
                if !self.fill()? {
                    break;
                }
            }
        }
        let kind = if what.is_empty() {
            RecordErrorKind::Json(format!(
                "unexpected character {:?} where a record should start",
                char::from(c)
            ))
        } else {
            RecordErrorKind::NotAnObject(what)
        };
        Ok(Some(Split::Error(RecordError::new(location, kind))))
    }
}

/// The state of a bracket-and-string scan, resumable across buffer refills.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Scan {
    depth: u64,
    in_str: bool,
    esc: bool,
}

/// How far a [`Scan::run`] got.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Step {
    /// The value closed; the byte count consumed.
    Closed(usize),
    /// A raw newline at this index ended the scan (line-scoped scans only).
    Newline(usize),
    /// The bytes ran out.
    More,
}

impl Scan {
    /// Advances over `b`, counting newlines into `lines`. A value is closed when its outermost
    /// bracket closes, or, for a top-level string, when its closing quote is reached.
    pub(crate) fn run(&mut self, b: &[u8], lines: &mut u64, newline_ends: bool) -> Step {
        let mut i = 0;
        while i < b.len() {
            if self.esc {
                self.esc = false;
                if b[i] == b'\n' {
                    *lines += 1;
                }
                i += 1;
                continue;
            }
            if self.in_str {
                let Some(k) = memchr::memchr3(b'"', b'\\', b'\n', &b[i..]) else {
                    return Step::More;
                };
                let j = i + k;
                match b[j] {
                    b'"' => {
                        self.in_str = false;
                        if self.depth == 0 {
                            return Step::Closed(j + 1);
                        }
                    }
                    b'\\' => self.esc = true,
                    _ => {
                        *lines += 1;
                        if newline_ends {
                            return Step::Newline(j);
                        }
                    }
                }
                i = j + 1;
                continue;
            }
            match b[i] {
                b'"' => self.in_str = true,
                b'{' | b'[' => self.depth += 1,
                b'}' | b']' => {
                    self.depth = self.depth.saturating_sub(1);
                    if self.depth == 0 {
                        return Step::Closed(i + 1);
                    }
                }
                b'\n' => {
                    *lines += 1;
                    if newline_ends {
                        return Step::Newline(i);
                    }
                }
                _ => {}
            }
            i += 1;
        }
        Step::More
    }
}

/// What the start of an object says it is.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Sniff {
    /// A record.
    Record,
    /// An envelope whose array of records opens at this index.
    Envelope(usize),
    /// The bytes end before it can tell.
    NeedMore,
}

/// Tells an envelope (`{"value":[…]}` of Graph, `{"records":[…]}` of Azure Monitor, with any
/// `@odata.*` annotations before the array) from a record, looking only at the object's first keys.
/// `b` starts at the `{`.
pub(crate) fn sniff_envelope(b: &[u8]) -> Sniff {
    fn ws(b: &[u8], mut i: usize) -> Option<usize> {
        while i < b.len() {
            if !b[i].is_ascii_whitespace() {
                return Some(i);
            }
            i += 1;
        }
        None
    }
    fn string_end(b: &[u8], i: usize) -> Option<usize> {
        let mut scan = Scan::default();
        match scan.run(&b[i..], &mut 0, false) {
            Step::Closed(n) => Some(i + n),
            _ => None,
        }
    }
    fn sniff(b: &[u8]) -> Option<Sniff> {
        let mut i = 1;
        loop {
            i = ws(b, i)?;
            if b[i] != b'"' {
                return Some(Sniff::Record);
            }
            let end = string_end(b, i)?;
            let key = &b[i + 1..end - 1];
            i = ws(b, end)?;
            if b[i] != b':' {
                return Some(Sniff::Record);
            }
            i = ws(b, i + 1)?;
            if key.first() == Some(&b'@') {
                // An annotation: skip its value.
                i = match b[i] {
                    b'"' | b'{' | b'[' => string_or_value_end(b, i)?,
                    _ => i + b[i..].iter().position(|c| matches!(c, b',' | b'}'))?,
                };
                i = ws(b, i)?;
                if b[i] != b',' {
                    return Some(Sniff::Record);
                }
                i += 1;
                continue;
            }
            return Some(if (key == b"value" || key == b"records") && b[i] == b'[' {
                Sniff::Envelope(i)
            } else {
                Sniff::Record
            });
        }
    }
    fn string_or_value_end(b: &[u8], i: usize) -> Option<usize> {
        let mut scan = Scan::default();
        match scan.run(&b[i..], &mut 0, false) {
            Step::Closed(n) => Some(i + n),
            _ => None,
        }
    }
    if b.first() != Some(&b'{') {
        return Sniff::Record;
    }
    sniff(b).unwrap_or(Sniff::NeedMore)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Splits `text` read in chunks of `chunk` bytes; returns records as strings and errors as
    /// `!line:message`.
    pub(crate) fn split(text: &[u8], chunk: usize, max: usize) -> Vec<String> {
        struct Chunked<'a>(&'a [u8], usize);
        impl Read for Chunked<'_> {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                let n = self.0.len().min(self.1).min(buf.len());
                buf[..n].copy_from_slice(&self.0[..n]);
                self.0 = &self.0[n..];
                Ok(n)
            }
        }
        let mut s = JsonSplitter::new("t".into(), Vec::new(), Chunked(text, chunk), max);
        let mut out = Vec::new();
        while let Some(item) = s.next().unwrap() {
            out.push(match item {
                Split::Record {
                    bytes, location, ..
                } => {
                    format!("{}@{}", String::from_utf8_lossy(bytes), location.line)
                }
                Split::Error(e) => format!("!{}:{}", e.location().line, e.kind()),
            });
        }
        out
    }

    #[test]
    fn ndjson_lines_are_records() {
        let text = b"{\"a\":1}\r\n\n{\"b\":\"x\\ny\"}\n{\"c\":[1,{\"d\":2}]}";
        for chunk in [1, 2, 7, 4096] {
            assert_eq!(
                split(text, chunk, 1024),
                [
                    "{\"a\":1}@1",
                    "{\"b\":\"x\\ny\"}@3",
                    "{\"c\":[1,{\"d\":2}]}@4"
                ],
                "chunk {chunk}"
            );
        }
    }

    #[test]
    fn a_broken_line_costs_one_record() {
        let text = b"{\"a\":1}\n{\"b\":[1,\n{\"c\":3}\n";
        assert_eq!(
            split(text, 3, 1024),
            ["{\"a\":1}@1", "{\"b\":[1,@2", "{\"c\":3}@3"]
        );
    }

    #[test]
    fn arrays_yield_their_elements() {
        let text = b" [ {\"a\":\"]}\"} ,\n {\"b\":{}} ] [{\"c\":1}]";
        for chunk in [1, 5, 4096] {
            assert_eq!(
                split(text, chunk, 1024),
                ["{\"a\":\"]}\"}@1", "{\"b\":{}}@2", "{\"c\":1}@2"],
                "chunk {chunk}"
            );
        }
    }

    #[test]
    fn envelopes_yield_their_array() {
        let graph = br#"{"@odata.context":"https://graph.microsoft.com/v1.0/$metadata#auditLogs/signIns","value":[{"id":"1"},{"id":"2"}],"@odata.nextLink":"https://graph.microsoft.com/v1.0/auditLogs/signIns?$skiptoken=x"}
{"records":[{"id":"3"}]}"#;
        for chunk in [1, 9, 4096] {
            assert_eq!(
                split(graph, chunk, 1024),
                ["{\"id\":\"1\"}@1", "{\"id\":\"2\"}@1", "{\"id\":\"3\"}@2"]
            );
        }
        // A record that merely has a `value` key later on is a record.
        assert_eq!(
            split(br#"{"Name":"x","value":[1]}"#, 4096, 1024),
            [r#"{"Name":"x","value":[1]}@1"#]
        );
    }

    #[test]
    fn pretty_printed_objects_are_read_whole() {
        let text = b"{\n  \"a\": 1,\n  \"b\": [\n    2\n  ]\n}\n{\n  \"c\": 3\n}\n";
        assert_eq!(
            split(text, 4, 1024),
            [
                "{\n  \"a\": 1,\n  \"b\": [\n    2\n  ]\n}@1",
                "{\n  \"c\": 3\n}@7"
            ]
        );
    }

    #[test]
    fn oversized_records_are_skipped_without_buffering() {
        let big = format!("{{\"a\":\"{}\"}}", "x".repeat(10_000));
        let text = format!("{{\"a\":1}}\n{big}\n{{\"b\":2}}\n");
        let out = split(text.as_bytes(), 100, 1000);
        assert_eq!(out[0], "{\"a\":1}@1");
        assert!(
            out[1].starts_with("!2:record of 10008 bytes exceeds the limit of 1000"),
            "{}",
            out[1]
        );
        assert_eq!(out[2], "{\"b\":2}@3");

        let array = format!("[{{\"a\":1}},{big},{{\"b\":2}}]");
        let out = split(array.as_bytes(), 100, 1000);
        assert_eq!(out.len(), 3);
        assert!(out[1].starts_with("!1:record of 10008 bytes"), "{}", out[1]);
        assert_eq!(out[2], "{\"b\":2}@1");
    }

    #[test]
    fn truncated_input_is_reported() {
        assert_eq!(
            split(b"[{\"a\":1},{\"b\":", 4096, 1024)[1],
            "!1:truncated: the input ends before the record's closing brace"
        );
        assert_eq!(
            split(b"[{\"a\":1}", 4096, 1024)[1],
            "!1:truncated: the input ends inside a JSON array (no closing `]`)"
        );
    }

    #[test]
    fn stray_values_are_named_and_skipped() {
        let out = split(b"[1, \"s\", [2], {\"a\":1}]", 4096, 1024);
        assert_eq!(
            out,
            [
                "!1:expected a JSON object, found a number, boolean or null",
                "!1:expected a JSON object, found a string",
                "!1:expected a JSON object, found an array",
                "{\"a\":1}@1"
            ]
        );
        let out = split(b"{\"a\":1}\nxyz\n{\"b\":2}\n", 4096, 1024);
        assert_eq!(out.len(), 3, "{out:?}");
        assert_eq!(out[2], "{\"b\":2}@3");
    }

    #[test]
    fn deep_nesting_needs_no_recursion() {
        let mut text = String::from("{\"a\":");
        text.push_str(&"[".repeat(100_000));
        text.push_str(&"]".repeat(100_000));
        text.push('}');
        assert_eq!(split(text.as_bytes(), 4096, 1 << 20).len(), 1);
    }

    #[test]
    fn envelope_sniffing_looks_past_annotations() {
        assert_eq!(
            sniff_envelope(br#"{"@odata.context":"x","value":["#),
            Sniff::Envelope(30)
        );
        assert_eq!(sniff_envelope(br#"{ "records" : ["#), Sniff::Envelope(14));
        assert_eq!(sniff_envelope(br#"{"Id":"x","value":["#), Sniff::Record);
        assert_eq!(sniff_envelope(br#"{"@odata.context":"x"#), Sniff::NeedMore);
    }
}
