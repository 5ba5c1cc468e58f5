//! The spilled runs: sorted entries, zstd-compressed, in a temporary file.

use std::fs::File;
use std::io::{BufReader, Read, Write};

use anyhow::Context;
use mailtrail_event::{SourceFormat, Timestamp};
use mailtrail_formats::Position;

use super::{Body, Entry, Origin};

/// Appends one entry to a run: time, source, record id, body (held bytes, a file offset, or why it
/// was lost) and origin, little-endian, each length before its bytes.
pub(super) fn write_entry(out: &mut impl Write, e: &Entry) -> std::io::Result<()> {
    let source = SourceFormat::ALL
        .iter()
        .position(|s| *s == e.source)
        .unwrap_or(0) as u8;
    out.write_all(&e.time.as_second().to_le_bytes())?;
    out.write_all(&e.time.subsec_nanosecond().to_le_bytes())?;
    out.write_all(&[source])?;
    out.write_all(&(e.record_id.len() as u32).to_le_bytes())?;
    out.write_all(e.record_id.as_bytes())?;
    match &e.body {
        Body::Held(raw) => {
            out.write_all(&[0])?;
            out.write_all(&(raw.len() as u64).to_le_bytes())?;
            out.write_all(raw)?;
        }
        Body::InFile { offset, len } => {
            out.write_all(&[1])?;
            out.write_all(&offset.to_le_bytes())?;
            out.write_all(&u64::from(*len).to_le_bytes())?;
        }
        Body::Lost(why) => {
            out.write_all(&[2])?;
            out.write_all(&(why.len() as u64).to_le_bytes())?;
            out.write_all(why.as_bytes())?;
        }
    }
    // Origin: input index (u32::MAX for none), line, offset, position kind and index.
    let o = e.origin;
    let (kind, index) = match o.map(|o| o.position) {
        None | Some(Position::Line) => (0u8, 0u64),
        Some(Position::Element(i)) => (1, i),
        Some(Position::Row(r)) => (2, r),
        Some(_) => (0, 0),
    };
    out.write_all(&o.map_or(u32::MAX, |o| o.input).to_le_bytes())?;
    out.write_all(&o.map_or(0, |o| o.line).to_le_bytes())?;
    out.write_all(&o.map_or(0, |o| o.offset).to_le_bytes())?;
    out.write_all(&[kind])?;
    out.write_all(&index.to_le_bytes())
}

pub(super) struct RunReader {
    input: zstd::Decoder<'static, BufReader<File>>,
}

impl RunReader {
    pub(super) fn open(file: &tempfile::NamedTempFile) -> anyhow::Result<Self> {
        Ok(Self {
            input: zstd::Decoder::new(file.reopen()?)?,
        })
    }

    fn read<const N: usize>(&mut self) -> anyhow::Result<[u8; N]> {
        let mut buf = [0u8; N];
        self.input
            .read_exact(&mut buf)
            .context("reading a sorted run back from its temporary file")?;
        Ok(buf)
    }

    fn read_vec(&mut self, len: u64) -> anyhow::Result<Vec<u8>> {
        let mut buf = vec![0u8; usize::try_from(len).context(CORRUPT)?];
        self.input
            .read_exact(&mut buf)
            .context("reading a sorted run back from its temporary file")?;
        Ok(buf)
    }

    pub(super) fn next_entry(&mut self) -> anyhow::Result<Option<Entry>> {
        let mut secs = [0u8; 8];
        match self.input.read_exact(&mut secs) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
            Err(e) => return Err(e).context("reading a sorted run back from its temporary file"),
        }
        let secs = i64::from_le_bytes(secs);
        let nanos = i32::from_le_bytes(self.read()?);
        let [source] = self.read()?;
        let source = SourceFormat::ALL
            .get(usize::from(source))
            .copied()
            .unwrap_or_default();
        let id_len = u32::from_le_bytes(self.read()?);
        let id = self.read_vec(u64::from(id_len))?;
        let body = match self.read()? {
            [0] => {
                let len = u64::from_le_bytes(self.read()?);
                Body::Held(self.read_vec(len)?.into())
            }
            [1] => Body::InFile {
                offset: u64::from_le_bytes(self.read()?),
                len: u32::try_from(u64::from_le_bytes(self.read()?)).context(CORRUPT)?,
            },
            _ => {
                let len = u64::from_le_bytes(self.read()?);
                Body::Lost(String::from_utf8_lossy(&self.read_vec(len)?).into_owned())
            }
        };
        let input = u32::from_le_bytes(self.read()?);
        let line = u64::from_le_bytes(self.read()?);
        let offset = u64::from_le_bytes(self.read()?);
        let [kind] = self.read()?;
        let index = u64::from_le_bytes(self.read()?);
        let position = match kind {
            1 => Position::Element(index),
            2 => Position::Row(index),
            _ => Position::Line,
        };
        Ok(Some(Entry {
            time: Timestamp::new(secs, nanos).context(CORRUPT)?,
            record_id: String::from_utf8(id).context(CORRUPT)?.into_boxed_str(),
            source,
            body,
            origin: (input != u32::MAX).then_some(Origin {
                input,
                line,
                offset,
                position,
            }),
        }))
    }
}

const CORRUPT: &str = "a sorted run in a temporary file is corrupt";
