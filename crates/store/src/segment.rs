//! Segment files: the raw records, append-only, in zstd-compressed blocks. The source of truth.
//!
//! # Byte layout
//!
//! All integers are little-endian.
//!
//! ```text
//! segment file   = file header, block*
//! file header    = "MTSEG" 0x00 0x00 0x01 (8 bytes: magic and format version 1)
//!                  segment id: u64
//! block          = block header (32 bytes), payload (compressed_len bytes)
//! block header   = "MTBK" | first_seq: u64 | count: u32 | compressed_len: u32 | raw_len: u32
//!                  | payload_crc: u32 (CRC-32 of the compressed payload)
//!                  | header_crc: u32 (CRC-32 of the 28 bytes before it)
//! payload        = one zstd frame that decompresses to raw_len bytes: count records
//! record         = seq: u64 | flags: u8 (bit 0: body pruned by retention) | source: u8
//!                  | time_secs: i64 | time_nanos: i32 | leaf_index: u64
//!                  | tenant_len: u16 | tenant (UTF-8) | record_id_len: u16 | record_id (UTF-8)
//!                  | body_len: u32 | body (the original record bytes; empty when pruned)
//! ```
//!
//! # Invariants
//!
//! * Records appear in `seq` order; the records of block `b+1` follow those of block `b`, and a
//!   block's records are `first_seq .. first_seq + count` in order.
//! * A segment is only ever appended to, except by retention, which writes a *new* segment with
//!   pruned bodies and then drops the old file. The state database records each segment's committed
//!   length; bytes past it are an interrupted write and are cut off when the store is next opened
//!   for writing.
//! * Each record carries everything needed to rebuild the store's indexes from segments alone:
//!   its tenant by name, its leaf index in that tenant's log, its id, time and source format.
//! * A pruned record keeps its metadata; its leaf hash stays in the tenant's `.leaves` file, so the
//!   tree and every checkpoint still verify.

use bytes::Bytes;
use mailtrail_event::{SourceFormat, Timestamp};

/// File magic and format version.
pub(crate) const FILE_MAGIC: [u8; 8] = *b"MTSEG\x00\x00\x01";
/// Size of the file header.
pub(crate) const FILE_HEADER_LEN: u64 = 16;
/// Block magic.
const BLOCK_MAGIC: [u8; 4] = *b"MTBK";
/// Size of a block header.
pub(crate) const BLOCK_HEADER_LEN: usize = 32;
/// Largest decompressed payload a reader accepts, so a corrupt header cannot make it allocate
/// without bound. Writers stay far below it.
pub(crate) const MAX_BLOCK_RAW_LEN: u32 = 1 << 30;
/// Largest block (header and compressed payload) a reader accepts.
pub(crate) const MAX_BLOCK_LEN: u32 = MAX_BLOCK_RAW_LEN + (1 << 20);
/// Largest record body the store accepts.
pub const MAX_RECORD_LEN: usize = 64 << 20;
/// Flag bit: the body was deleted by retention.
const FLAG_PRUNED: u8 = 1;

/// Stable one-byte codes for source formats. Append only: a code, once written, means its format
/// forever.
const SOURCE_CODES: [&str; 14] = [
    "management-api",
    "ual-ndjson",
    "purview-csv",
    "purview-csv-classic",
    "search-unifiedauditlog-csv",
    "sentinel-officeactivity",
    "defender-cloudappevents",
    "defender-advanced-hunting",
    "graph-signin",
    "azure-monitor-signin",
    "sentinel-signin",
    "graph-directoryaudit",
    "azure-monitor-audit",
    "sentinel-auditlogs",
];

/// The code of a source format; `None` for a format this store version cannot record.
pub(crate) fn source_code(source: SourceFormat) -> Option<u8> {
    SOURCE_CODES
        .iter()
        .position(|n| *n == source.as_str())
        .and_then(|p| u8::try_from(p).ok())
}

fn source_from_code(code: u8) -> Option<SourceFormat> {
    SOURCE_CODES
        .get(usize::from(code))
        .and_then(|n| SourceFormat::from_name(n))
}

/// One record as stored in a segment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredRecord {
    /// Global sequence number: 0, 1, 2, … across all tenants, in append order.
    pub seq: u64,
    /// The tenant log the record belongs to (`unknown` when the record named none).
    pub tenant: String,
    /// The record's leaf index in its tenant's log.
    pub leaf_index: u64,
    /// The format the record was read from.
    pub source: SourceFormat,
    /// The record's own id.
    pub record_id: String,
    /// When the audited activity happened.
    pub time: Timestamp,
    /// The original record bytes, exactly as received; empty when [`pruned`](Self::pruned).
    pub raw: Bytes,
    /// Whether retention deleted the body. Its leaf hash is still in the tree.
    pub pruned: bool,
}

/// Why bytes could not be read as a block. Each means the bytes are not what the store wrote.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BlockDefect {
    /// Fewer bytes than a header or payload needs.
    #[error("block cut short: {needed} bytes needed, {available} present")]
    Truncated {
        /// Bytes the block needs.
        needed: u64,
        /// Bytes present.
        available: u64,
    },
    /// The header's magic or checksum is wrong.
    #[error("block header is damaged (bad magic or checksum)")]
    BadHeader,
    /// The payload's checksum is wrong.
    #[error("block payload checksum mismatch")]
    PayloadChecksum,
    /// The payload does not decompress to the declared length.
    #[error("block payload does not decompress: {0}")]
    Decompress(String),
    /// The decompressed records do not parse.
    #[error("record {index} of the block is malformed: {what}")]
    BadRecord {
        /// Position of the record in the block.
        index: u32,
        /// What is wrong.
        what: &'static str,
    },
}

/// A parsed block header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct BlockHeader {
    pub(crate) first_seq: u64,
    pub(crate) count: u32,
    pub(crate) compressed_len: u32,
    pub(crate) raw_len: u32,
    pub(crate) payload_crc: u32,
}

impl BlockHeader {
    /// Total length of the block on disk.
    pub(crate) fn block_len(&self) -> u64 {
        BLOCK_HEADER_LEN as u64 + u64::from(self.compressed_len)
    }

    pub(crate) fn encode(&self) -> [u8; BLOCK_HEADER_LEN] {
        let mut b = [0u8; BLOCK_HEADER_LEN];
        b[0..4].copy_from_slice(&BLOCK_MAGIC);
        b[4..12].copy_from_slice(&self.first_seq.to_le_bytes());
        b[12..16].copy_from_slice(&self.count.to_le_bytes());
        b[16..20].copy_from_slice(&self.compressed_len.to_le_bytes());
        b[20..24].copy_from_slice(&self.raw_len.to_le_bytes());
        b[24..28].copy_from_slice(&self.payload_crc.to_le_bytes());
        let crc = crc32fast::hash(&b[0..28]);
        b[28..32].copy_from_slice(&crc.to_le_bytes());
        b
    }

    pub(crate) fn decode(b: &[u8]) -> Result<BlockHeader, BlockDefect> {
        if b.len() < BLOCK_HEADER_LEN {
            return Err(BlockDefect::Truncated {
                needed: BLOCK_HEADER_LEN as u64,
                available: b.len() as u64,
            });
        }
        if b[0..4] != BLOCK_MAGIC || crc32fast::hash(&b[0..28]) != le_u32(&b[28..32]) {
            return Err(BlockDefect::BadHeader);
        }
        let h = BlockHeader {
            first_seq: le_u64(&b[4..12]),
            count: le_u32(&b[12..16]),
            compressed_len: le_u32(&b[16..20]),
            raw_len: le_u32(&b[20..24]),
            payload_crc: le_u32(&b[24..28]),
        };
        if h.raw_len > MAX_BLOCK_RAW_LEN {
            return Err(BlockDefect::BadHeader);
        }
        Ok(h)
    }
}

pub(crate) fn le_u32(b: &[u8]) -> u32 {
    let mut a = [0u8; 4];
    a.copy_from_slice(&b[..4]);
    u32::from_le_bytes(a)
}

pub(crate) fn le_u64(b: &[u8]) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[..8]);
    u64::from_le_bytes(a)
}

/// The file header of segment `id`.
pub(crate) fn file_header(id: u64) -> [u8; FILE_HEADER_LEN as usize] {
    let mut b = [0u8; FILE_HEADER_LEN as usize];
    b[..8].copy_from_slice(&FILE_MAGIC);
    b[8..].copy_from_slice(&id.to_le_bytes());
    b
}

/// Checks a segment file header; returns the segment id it names.
pub(crate) fn parse_file_header(b: &[u8]) -> Option<u64> {
    (b.len() >= FILE_HEADER_LEN as usize && b[..8] == FILE_MAGIC).then(|| le_u64(&b[8..16]))
}

/// The fields of one record to encode.
pub(crate) struct RecordRef<'a> {
    pub(crate) seq: u64,
    pub(crate) pruned: bool,
    pub(crate) source: u8,
    pub(crate) time: Timestamp,
    pub(crate) leaf_index: u64,
    pub(crate) tenant: &'a str,
    pub(crate) record_id: &'a str,
    pub(crate) body: &'a [u8],
}

/// Appends one encoded record to a block's uncompressed payload. Lengths are checked by the caller
/// (`record_id` and `tenant` ≤ 65,535 bytes, body ≤ [`MAX_RECORD_LEN`]).
pub(crate) fn encode_record(out: &mut Vec<u8>, r: &RecordRef<'_>) {
    out.extend_from_slice(&r.seq.to_le_bytes());
    out.push(if r.pruned { FLAG_PRUNED } else { 0 });
    out.push(r.source);
    out.extend_from_slice(&r.time.as_second().to_le_bytes());
    out.extend_from_slice(&r.time.subsec_nanosecond().to_le_bytes());
    out.extend_from_slice(&r.leaf_index.to_le_bytes());
    out.extend_from_slice(&(r.tenant.len() as u16).to_le_bytes());
    out.extend_from_slice(r.tenant.as_bytes());
    out.extend_from_slice(&(r.record_id.len() as u16).to_le_bytes());
    out.extend_from_slice(r.record_id.as_bytes());
    out.extend_from_slice(&(r.body.len() as u32).to_le_bytes());
    out.extend_from_slice(r.body);
}

/// Compresses a payload and frames it as a block, in `out` (cleared first). The writer passes the
/// same buffer for every block, so a block costs no fresh memory.
pub(crate) fn encode_block(
    compressor: &mut zstd::bulk::Compressor<'static>,
    first_seq: u64,
    count: u32,
    payload: &[u8],
    out: &mut Vec<u8>,
) -> std::io::Result<()> {
    out.clear();
    out.resize(
        BLOCK_HEADER_LEN + zstd::zstd_safe::compress_bound(payload.len()),
        0,
    );
    let compressed_len = compressor.compress_to_buffer(payload, &mut out[BLOCK_HEADER_LEN..])?;
    out.truncate(BLOCK_HEADER_LEN + compressed_len);
    let header = BlockHeader {
        first_seq,
        count,
        compressed_len: u32::try_from(compressed_len).map_err(std::io::Error::other)?,
        raw_len: u32::try_from(payload.len()).map_err(std::io::Error::other)?,
        payload_crc: crc32fast::hash(&out[BLOCK_HEADER_LEN..]),
    };
    out[..BLOCK_HEADER_LEN].copy_from_slice(&header.encode());
    Ok(())
}

/// Checks a block's payload and decompresses it.
pub(crate) fn decompress_payload(
    header: &BlockHeader,
    payload: &[u8],
    decompressor: &mut zstd::bulk::Decompressor<'static>,
) -> Result<Vec<u8>, BlockDefect> {
    if (payload.len() as u64) < u64::from(header.compressed_len) {
        return Err(BlockDefect::Truncated {
            needed: u64::from(header.compressed_len),
            available: payload.len() as u64,
        });
    }
    let payload = &payload[..header.compressed_len as usize];
    if crc32fast::hash(payload) != header.payload_crc {
        return Err(BlockDefect::PayloadChecksum);
    }
    let raw = decompressor
        .decompress(payload, header.raw_len as usize)
        .map_err(|e| BlockDefect::Decompress(e.to_string()))?;
    if raw.len() != header.raw_len as usize {
        return Err(BlockDefect::Decompress(format!(
            "{} bytes instead of {}",
            raw.len(),
            header.raw_len
        )));
    }
    Ok(raw)
}

/// Iterates the records of a decompressed payload, sharing its buffer for the bodies.
pub(crate) struct RecordIter {
    buf: Bytes,
    pos: usize,
    index: u32,
    count: u32,
}

impl RecordIter {
    pub(crate) fn new(payload: Bytes, count: u32) -> RecordIter {
        RecordIter {
            buf: payload,
            pos: 0,
            index: 0,
            count,
        }
    }

    fn take(&mut self, n: usize, what: &'static str) -> Result<&[u8], BlockDefect> {
        let end = self.pos.checked_add(n).filter(|e| *e <= self.buf.len());
        let Some(end) = end else {
            return Err(BlockDefect::BadRecord {
                index: self.index,
                what,
            });
        };
        let s = &self.buf[self.pos..end];
        self.pos = end;
        Ok(s)
    }

    fn next_record(&mut self) -> Result<StoredRecord, BlockDefect> {
        let index = self.index;
        let bad = |what| BlockDefect::BadRecord { index, what };
        let fixed = self.take(8 + 1 + 1 + 8 + 4 + 8, "record header cut short")?;
        let seq = le_u64(&fixed[0..8]);
        let flags = fixed[8];
        let source = fixed[9];
        let secs = le_u64(&fixed[10..18]) as i64;
        let nanos = le_u32(&fixed[18..22]) as i32;
        let leaf_index = le_u64(&fixed[22..30]);
        let source = source_from_code(source).ok_or(bad("unknown source format code"))?;
        let time = Timestamp::new(secs, nanos).map_err(|_| bad("time out of range"))?;
        let tlen = le_u16(self.take(2, "tenant length cut short")?);
        let tenant = std::str::from_utf8(self.take(tlen, "tenant cut short")?)
            .map_err(|_| bad("tenant is not UTF-8"))?
            .to_owned();
        let rlen = le_u16(self.take(2, "record id length cut short")?);
        let record_id = std::str::from_utf8(self.take(rlen, "record id cut short")?)
            .map_err(|_| bad("record id is not UTF-8"))?
            .to_owned();
        let blen = le_u32(self.take(4, "body length cut short")?) as usize;
        let start = self.pos;
        self.take(blen, "body cut short")?;
        let raw = self.buf.slice(start..start + blen);
        let pruned = flags & FLAG_PRUNED != 0;
        if flags & !FLAG_PRUNED != 0 {
            return Err(bad("unknown flag bits"));
        }
        if pruned && !raw.is_empty() {
            return Err(bad("pruned record with a body"));
        }
        Ok(StoredRecord {
            seq,
            tenant,
            leaf_index,
            source,
            record_id,
            time,
            raw,
            pruned,
        })
    }
}

fn le_u16(b: &[u8]) -> usize {
    usize::from(u16::from_le_bytes([b[0], b[1]]))
}

impl Iterator for RecordIter {
    type Item = Result<StoredRecord, BlockDefect>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.index >= self.count {
            if self.pos != self.buf.len() && self.count != u32::MAX {
                self.count = u32::MAX;
                return Some(Err(BlockDefect::BadRecord {
                    index: self.index,
                    what: "bytes left after the last record",
                }));
            }
            return None;
        }
        let r = self.next_record();
        self.index += 1;
        if r.is_err() {
            // One defect ends the block: what follows cannot be located.
            self.index = u32::MAX;
            self.count = u32::MAX;
        }
        Some(r)
    }
}

/// One block of a segment file, as [`read_segment_bytes`] parses it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SegmentBlock {
    /// Offset of the block in the file.
    pub offset: u64,
    /// Its records.
    pub records: Vec<StoredRecord>,
}

/// Parses every block of a segment file's bytes, for tools and fuzzing. On a defect, returns the
/// offset of the block it is in and the defect (nothing after a defect can be located).
pub fn read_segment_bytes(bytes: &[u8]) -> Result<Vec<SegmentBlock>, (u64, BlockDefect)> {
    if parse_file_header(bytes).is_none() {
        return Err((0, BlockDefect::BadHeader));
    }
    let mut out = Vec::new();
    let mut pos = FILE_HEADER_LEN as usize;
    let mut dec =
        zstd::bulk::Decompressor::new().map_err(|e| (0, BlockDefect::Decompress(e.to_string())))?;
    while pos < bytes.len() {
        let at = pos as u64;
        let header = BlockHeader::decode(&bytes[pos..]).map_err(|e| (at, e))?;
        let payload_start = pos + BLOCK_HEADER_LEN;
        let raw =
            decompress_payload(&header, &bytes[payload_start..], &mut dec).map_err(|e| (at, e))?;
        let records = RecordIter::new(Bytes::from(raw), header.count)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| (at, e))?;
        out.push(SegmentBlock {
            offset: at,
            records,
        });
        pos = payload_start + header.compressed_len as usize;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block(
        c: &mut zstd::bulk::Compressor<'static>,
        first: u64,
        count: u32,
        payload: &[u8],
    ) -> Vec<u8> {
        let mut out = Vec::new();
        encode_block(c, first, count, payload, &mut out).unwrap();
        out
    }

    fn sample(seq: u64, body: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        encode_record(
            &mut out,
            &RecordRef {
                seq,
                pruned: false,
                source: 1,
                time: Timestamp::new(1_700_000_000, 123).unwrap(),
                leaf_index: seq * 2,
                tenant: "contoso",
                record_id: "id-1",
                body,
            },
        );
        out
    }

    #[test]
    fn every_source_format_has_a_code() {
        for f in SourceFormat::ALL {
            let code = source_code(f).unwrap();
            assert_eq!(source_from_code(code), Some(f));
        }
    }

    #[test]
    fn a_block_round_trips() {
        let mut payload = sample(7, b"{\"Id\":\"a\"}");
        payload.extend(sample(8, b"{\"Id\":\"b\"}"));
        let mut c = zstd::bulk::Compressor::new(3).unwrap();
        let mut bytes = file_header(1).to_vec();
        bytes.extend(block(&mut c, 7, 2, &payload));
        let blocks = read_segment_bytes(&bytes).unwrap();
        assert_eq!(blocks.len(), 1);
        assert_eq!(blocks[0].offset, FILE_HEADER_LEN);
        let recs = &blocks[0].records;
        assert_eq!(recs[1].seq, 8);
        assert_eq!(recs[1].leaf_index, 16);
        assert_eq!(&recs[1].raw[..], b"{\"Id\":\"b\"}");
        assert_eq!(recs[0].source, SourceFormat::UalNdjson);
        assert_eq!(recs[0].time, Timestamp::new(1_700_000_000, 123).unwrap());
    }

    #[test]
    fn a_flipped_payload_byte_is_a_checksum_mismatch() {
        let payload = sample(0, b"hello");
        let mut c = zstd::bulk::Compressor::new(3).unwrap();
        let mut bytes = file_header(1).to_vec();
        bytes.extend(block(&mut c, 0, 1, &payload));
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        assert_eq!(
            read_segment_bytes(&bytes).unwrap_err(),
            (FILE_HEADER_LEN, BlockDefect::PayloadChecksum)
        );
    }

    #[test]
    fn a_cut_block_is_reported_as_truncated() {
        let payload = sample(0, b"hello");
        let mut c = zstd::bulk::Compressor::new(3).unwrap();
        let mut bytes = file_header(1).to_vec();
        bytes.extend(block(&mut c, 0, 1, &payload));
        bytes.truncate(bytes.len() - 3);
        assert!(matches!(
            read_segment_bytes(&bytes).unwrap_err(),
            (_, BlockDefect::Truncated { .. })
        ));
    }

    #[test]
    fn a_record_count_larger_than_the_payload_is_a_bad_record() {
        let payload = sample(0, b"hello");
        let mut c = zstd::bulk::Compressor::new(3).unwrap();
        let mut bytes = file_header(1).to_vec();
        bytes.extend(block(&mut c, 0, 2, &payload));
        assert!(matches!(
            read_segment_bytes(&bytes).unwrap_err(),
            (_, BlockDefect::BadRecord { index: 1, .. })
        ));
    }

    proptest::proptest! {
        #[test]
        fn the_reader_never_panics_on_mutated_segments(
            flips in proptest::collection::vec((0usize..4096, 0u8..=255), 0..8),
            cut in 0usize..4096,
        ) {
            let mut payload = sample(0, b"{\"Id\":\"x\"}");
            payload.extend(sample(1, b"{\"Id\":\"y\"}"));
            let mut c = zstd::bulk::Compressor::new(3).unwrap();
            let mut bytes = file_header(1).to_vec();
            bytes.extend(block(&mut c, 0, 2, &payload));
            for (at, v) in flips {
                let n = bytes.len();
                bytes[at % n] ^= v;
            }
            bytes.truncate(cut.max(1));
            let _ = read_segment_bytes(&bytes);
        }

        #[test]
        fn the_reader_never_panics_on_any_bytes(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..512)) {
            let mut with_header = file_header(0).to_vec();
            with_header.extend(&bytes);
            let _ = read_segment_bytes(&bytes);
            let _ = read_segment_bytes(&with_header);
        }
    }
}
