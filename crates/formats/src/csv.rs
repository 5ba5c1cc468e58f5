//! Purview and `Search-UnifiedAuditLog` CSV exports: the record is the `AuditData` cell.
//!
//! The other columns repeat parts of `AuditData` (and `CreationDate` in the exporting user's
//! locale, which is ambiguous), so only `AuditData` is read. Rows are parsed with `csv-core`, which
//! writes fields into buffers we own: the `AuditData` cell is kept up to the record size limit and a
//! longer one is read through without being kept, so memory stays bounded whatever a cell holds.

use std::io::{self, Read};
use std::sync::Arc;

use csv_core::{ReadFieldResult, Reader};
use mailtrail_event::SourceFormat;

use crate::error::{InputErrorKind, Position, RecordError, RecordErrorKind, RecordLocation};
use crate::json::Split;
use crate::record::Container;

const READ_SIZE: usize = 256 * 1024;
const HEADER_LIMIT: usize = 64 * 1024;

/// Which CSV export a header row belongs to, and where its `AuditData` column is.
pub(crate) fn classify_header(names: &[String]) -> Option<(SourceFormat, usize)> {
    let idx = |n: &str| names.iter().position(|h| h.trim().eq_ignore_ascii_case(n));
    let audit = idx("AuditData")?;
    let format = if idx("RecordId").is_some() {
        SourceFormat::PurviewCsv
    } else if idx("ResultIndex").is_some()
        || idx("Identity").is_some()
        || idx("ObjectState").is_some()
    {
        SourceFormat::SearchUnifiedAuditLogCsv
    } else {
        SourceFormat::PurviewCsvClassic
    };
    Some((format, audit))
}

/// Whether the start of a text looks like one of the CSV exports: a header line naming
/// `AuditData`, possibly after PowerShell's `#TYPE` line.
pub(crate) fn looks_like_csv(head: &[u8]) -> bool {
    let head = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    let head = skip_type_line(head).map_or(head, |(rest, _)| rest);
    let line = head.split(|b| *b == b'\n').next().unwrap_or_default();
    line.contains(&b',')
        && line
            .to_ascii_lowercase()
            .windows(9)
            .any(|w| w == b"auditdata")
}

/// `#TYPE Deserialized.Microsoft.Exchange…` that `Export-Csv` writes without `-NoTypeInformation`:
/// the rest after it, and its length.
fn skip_type_line(b: &[u8]) -> Option<(&[u8], usize)> {
    if !b.starts_with(b"#TYPE") {
        return None;
    }
    let nl = memchr::memchr(b'\n', b)?;
    Some((&b[nl + 1..], nl + 1))
}

/// Reads CSV rows and yields each row's `AuditData` cell.
pub(crate) struct CsvSplitter<R> {
    src: R,
    input: Arc<str>,
    max: usize,
    rdr: Reader,
    buf: Vec<u8>,
    pos: usize,
    /// Absolute offset of `buf[0]`.
    base: u64,
    eof: bool,
    /// Line number at `pos`.
    line: u64,
    format: SourceFormat,
    audit_col: usize,
    // The row being read.
    field: usize,
    row: u64,
    row_started: bool,
    row_line: u64,
    row_offset: u64,
    cell: Vec<u8>,
    cell_len: usize,
    cell_size: u64,
    too_large: bool,
    /// Where the other columns go; their content is not used.
    scratch: Vec<u8>,
    header: Vec<Vec<u8>>,
}

impl<R: Read> CsvSplitter<R> {
    /// Reads the header row and returns a splitter positioned at the first data row.
    pub(crate) fn new(
        input: Arc<str>,
        head: Vec<u8>,
        src: R,
        max: usize,
    ) -> Result<Self, (InputErrorKind, u64)> {
        let mut pos = if head.starts_with(b"\xEF\xBB\xBF") {
            3
        } else {
            0
        };
        let mut line = 1;
        if let Some((_, n)) = skip_type_line(&head[pos..]) {
            pos += n;
            line += 1;
        }
        let mut s = Self {
            src,
            input,
            max: max.max(1),
            rdr: Reader::new(),
            buf: head,
            pos,
            base: 0,
            eof: false,
            line,
            format: SourceFormat::PurviewCsv,
            audit_col: usize::MAX,
            field: 0,
            row: 0,
            row_started: false,
            row_line: line,
            row_offset: 0,
            cell: Vec::new(),
            cell_len: 0,
            cell_size: 0,
            too_large: false,
            scratch: vec![0; 64 * 1024],
            header: Vec::new(),
        };
        s.read_header().map_err(|e| {
            (
                InputErrorKind::Read {
                    offset: s.offset(),
                    source: e,
                },
                s.offset(),
            )
        })?;
        let names: Vec<String> = s
            .header
            .iter()
            .map(|h| String::from_utf8_lossy(h).into_owned())
            .collect();
        let Some((format, audit_col)) = classify_header(&names) else {
            let shown: String = names.join(",").chars().take(200).collect();
            return Err((
                InputErrorKind::UnknownFormat(format!(
                    "a CSV file without an AuditData column (header: {shown})"
                )),
                0,
            ));
        };
        s.format = format;
        s.audit_col = audit_col;
        Ok(s)
    }

    pub(crate) fn offset(&self) -> u64 {
        self.base + self.pos as u64
    }

    /// The source format the header identified.
    #[cfg(test)]
    pub(crate) fn format(&self) -> SourceFormat {
        self.format
    }

    fn refill(&mut self) -> io::Result<bool> {
        if self.eof {
            return Ok(false);
        }
        self.base += self.buf.len() as u64;
        self.buf.clear();
        self.pos = 0;
        self.buf.resize(READ_SIZE, 0);
        let n = loop {
            match self.src.read(&mut self.buf) {
                Ok(n) => break n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    self.buf.clear();
                    return Err(e);
                }
            }
        };
        self.buf.truncate(n);
        self.eof = n == 0;
        Ok(n > 0)
    }

    fn read_header(&mut self) -> io::Result<()> {
        let mut field = Vec::new();
        loop {
            if self.pos == self.buf.len() && !self.eof {
                self.refill()?;
                continue;
            }
            let input = &self.buf[self.pos..];
            let (res, nin, nout) = self.rdr.read_field(input, &mut self.scratch);
            self.line += memchr::memchr_iter(b'\n', &input[..nin]).count() as u64;
            self.pos += nin;
            if field.len() < HEADER_LIMIT {
                field.extend_from_slice(&self.scratch[..nout]);
            }
            match res {
                ReadFieldResult::InputEmpty | ReadFieldResult::OutputFull => {}
                ReadFieldResult::Field { record_end } => {
                    self.header.push(std::mem::take(&mut field));
                    if record_end {
                        return Ok(());
                    }
                }
                ReadFieldResult::End => return Ok(()),
            }
        }
    }

    fn location(&self) -> RecordLocation {
        RecordLocation {
            in_file: false,
            input: self.input.clone(),
            line: self.row_line,
            offset: self.row_offset,
            position: Position::Row(self.row),
        }
    }

    /// The next row's `AuditData` cell or error; `None` at the end of the file.
    pub(crate) fn next(&mut self) -> io::Result<Option<Split<'_>>> {
        loop {
            if self.pos == self.buf.len() && !self.eof {
                self.refill()?;
                continue;
            }
            if !self.row_started {
                // Blank lines between rows are not rows; skip them so the row's line is right.
                while let Some(&c) = self.buf.get(self.pos) {
                    match c {
                        b'\n' => self.line += 1,
                        b'\r' => {}
                        _ => break,
                    }
                    self.pos += 1;
                }
                if self.pos == self.buf.len() && !self.eof {
                    continue;
                }
                self.row_started = true;
                self.row_line = self.line;
                self.row_offset = self.offset();
            }
            let into_cell = self.field == self.audit_col && !self.too_large;
            if into_cell && self.cell_len == self.cell.len() {
                let grown = (self.cell.len() * 2).max(4096).min(self.max + 1);
                self.cell.resize(grown, 0);
            }
            let input = &self.buf[self.pos..];
            let out: &mut [u8] = if into_cell {
                &mut self.cell[self.cell_len..]
            } else {
                &mut self.scratch
            };
            let (res, nin, nout) = self.rdr.read_field(input, out);
            self.line += memchr::memchr_iter(b'\n', &input[..nin]).count() as u64;
            self.pos += nin;
            if self.field == self.audit_col {
                self.cell_size += nout as u64;
                if into_cell {
                    self.cell_len += nout;
                    if self.cell_len > self.max {
                        self.too_large = true;
                        self.cell_len = 0;
                    }
                }
            }
            match res {
                ReadFieldResult::InputEmpty | ReadFieldResult::OutputFull => {}
                ReadFieldResult::End => return Ok(None),
                ReadFieldResult::Field { record_end } => {
                    self.field += 1;
                    if record_end {
                        return Ok(Some(self.finish_row()));
                    }
                }
            }
        }
    }

    fn finish_row(&mut self) -> Split<'_> {
        self.row += 1;
        let fields = self.field;
        let too_large = self.too_large;
        let size = self.cell_size;
        self.field = 0;
        self.row_started = false;
        self.too_large = false;
        self.cell_size = 0;
        let len = std::mem::take(&mut self.cell_len);
        let location = self.location();
        let error = |kind| Split::Error(RecordError::new(location.clone(), kind));
        if fields <= self.audit_col {
            return error(RecordErrorKind::Csv(format!(
                "row has {fields} columns; AuditData is column {} of the header",
                self.audit_col + 1
            )));
        }
        if too_large {
            return error(RecordErrorKind::TooLarge {
                size,
                limit: self.max,
            });
        }
        let bytes = self.cell[..len].trim_ascii();
        if bytes.is_empty() {
            return error(RecordErrorKind::Csv("the AuditData cell is empty".into()));
        }
        Split::Record {
            bytes,
            location,
            container: Container::Csv(self.format),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(text: &[u8], max: usize) -> (SourceFormat, Vec<String>) {
        let mut s = CsvSplitter::new("t".into(), text.to_vec(), io::empty(), max)
            .map_err(|(e, _)| e.to_string())
            .unwrap();
        let mut out = Vec::new();
        while let Some(item) = s.next().unwrap() {
            out.push(match item {
                Split::Record {
                    bytes, location, ..
                } => {
                    format!("{}@{}", String::from_utf8_lossy(bytes), location)
                }
                Split::Error(e) => format!("!{e}"),
            });
        }
        (s.format(), out)
    }

    #[test]
    fn headers_name_the_export() {
        let h = |s: &str| s.split(',').map(str::to_owned).collect::<Vec<_>>();
        assert_eq!(
            classify_header(&h(
                "RecordId,CreationDate,RecordType,Operation,UserId,AuditData,AssociatedAdminUnits,AssociatedAdminUnitsNames"
            )),
            Some((SourceFormat::PurviewCsv, 5))
        );
        assert_eq!(
            classify_header(&h("CreationDate,UserIds,Operations,AuditData")),
            Some((SourceFormat::PurviewCsvClassic, 3))
        );
        assert_eq!(
            classify_header(&h(
                "RecordType,CreationDate,UserIds,Operations,AuditData,ResultIndex,ResultCount,Identity,IsValid,ObjectState"
            )),
            Some((SourceFormat::SearchUnifiedAuditLogCsv, 4))
        );
        assert_eq!(classify_header(&h("a,b")), None);
    }

    #[test]
    fn audit_data_cells_are_unquoted() {
        let text = b"\xEF\xBB\xBF#TYPE Deserialized.Microsoft.Exchange.Management.SystemConfigurationTasks.AuditRecord\r\n\"CreationDate\",\"UserIds\",\"Operations\",\"AuditData\"\r\n\"6/16/2023 9:01:02 AM\",\"a@x\",\"Send\",\"{\"\"Id\"\":\"\"1\"\",\"\"S\"\":\"\"a,\r\nb\"\"}\"\r\n\r\n\"x\",\"y\",\"z\",\"{}\"";
        let (format, out) = rows(text, 1024);
        assert_eq!(format, SourceFormat::PurviewCsvClassic);
        assert_eq!(
            out,
            [
                "{\"Id\":\"1\",\"S\":\"a,\r\nb\"}@t:3 (row 1)",
                "{}@t:6 (row 2)"
            ]
        );
    }

    #[test]
    fn short_rows_empty_cells_and_large_cells_are_errors() {
        let big = "y".repeat(5000);
        let text = format!(
            "CreationDate,UserIds,Operations,AuditData\na,b\nx,y,z,\nx,y,z,\"{big}\"\nx,y,z,{{}}\n"
        );
        let (_, out) = rows(text.as_bytes(), 1000);
        assert_eq!(
            out[0],
            "!t:2 (row 1): row has 2 columns; AuditData is column 4 of the header"
        );
        assert_eq!(out[1], "!t:3 (row 2): the AuditData cell is empty");
        assert!(
            out[2].starts_with("!t:4 (row 3): record of 5000 bytes exceeds"),
            "{}",
            out[2]
        );
        assert_eq!(out[3], "{}@t:5 (row 4)");
    }

    #[test]
    fn csv_is_recognised_by_its_header() {
        assert!(looks_like_csv(
            b"RecordId,CreationDate,RecordType,Operation,UserId,AuditData\n"
        ));
        assert!(looks_like_csv(
            b"#TYPE x\r\n\"CreationDate\",\"UserIds\",\"Operations\",\"AuditData\"\r\n"
        ));
        assert!(!looks_like_csv(b"Date,Name\n"));
    }
}
