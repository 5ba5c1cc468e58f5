//! Retention: delete old record bodies, keep their leaf hashes.
//!
//! Each segment holding a body older than the cutoff is rewritten into a new segment file in which
//! those records keep their metadata but lose their bodies (flagged pruned); untouched blocks are
//! copied byte for byte. The new file is synced, one state transaction points the block index at
//! it and records the run, and only then is the old file removed. A crash at any point leaves
//! either the old segment or the new one in force; the other is an orphan the next writer removes.
//! Hash files are not touched, so every tree and checkpoint still verifies.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::Write as _;
use std::os::unix::fs::FileExt as _;

use bytes::Bytes;
use mailtrail_event::Timestamp;
use redb::{ReadableDatabase as _, ReadableTable as _};

use crate::error::StoreError;
use crate::segment::{self, BlockHeader, RecordIter, RecordRef};
use crate::state::*;
use crate::store::{Db, Store, ZSTD_LEVEL, segment_path};
use crate::verify::PrunedRange;

/// What a retention run did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RetentionReport {
    /// Bodies older than this were deleted.
    pub cutoff: Option<Timestamp>,
    /// Bodies deleted by this run.
    pub records_pruned: u64,
    /// Body bytes deleted (uncompressed).
    pub bytes_pruned: u64,
    /// Segment files rewritten.
    pub segments_rewritten: u64,
    /// The seqs pruned by this run, as ranges.
    pub ranges: Vec<PrunedRange>,
}

impl Store {
    /// Deletes the bodies of committed records whose time is before `cutoff`. Needs a writer with
    /// nothing pending (commit first).
    pub fn prune_before(&mut self, cutoff: Timestamp) -> Result<RetentionReport, StoreError> {
        let dir = self.dir.clone();
        let state_path = self.state_path();
        let st = |e: redb::Error| StoreError::state(&state_path, e);
        let pending = self.pending_len();
        if pending > 0 {
            return Err(StoreError::Uncommitted { pending });
        }
        let Store { db, writer, .. } = self;
        let w = writer.as_deref_mut().ok_or(StoreError::ReadOnly)?;
        if w.poisoned {
            return Err(crate::store::poisoned());
        }
        let Db::Rw(db) = &*db else {
            return Err(StoreError::ReadOnly);
        };
        let tx = db.begin_read().map_err(|e| st(e.into()))?;
        let mut by_segment: BTreeMap<u64, Vec<(u64, BlockLoc)>> = BTreeMap::new();
        for row in tx
            .open_table(BLOCKS)
            .map_err(|e| st(e.into()))?
            .iter()
            .map_err(|e| st(e.into()))?
        {
            let (k, v) = row.map_err(|e| st(e.into()))?;
            let v = v.value();
            by_segment.entry(v.0).or_default().push((k.value(), v));
        }
        drop(tx);

        // Record the run before any body goes, so that verify can always tell retention from
        // someone deleting bodies; the counts are filled in at the end.
        let started = Timestamp::now();
        let run_no = {
            let tx = db.begin_read().map_err(|e| st(e.into()))?;
            let meta = tx.open_table(META).map_err(|e| st(e.into()))?;
            meta.get(NEXT_RETENTION_RUN)
                .map_err(|e| st(e.into()))?
                .map(|v| v.value())
                .unwrap_or(0)
        };
        let intent = serde_json::json!({
            "time": started.to_string(),
            "cutoff": cutoff.to_string(),
            "status": "started",
        })
        .to_string();
        record_run(db, run_no, &intent).map_err(st)?;

        let mut report = RetentionReport {
            cutoff: Some(cutoff),
            ..Default::default()
        };
        let mut pruned_seqs = Vec::new();
        let mut dec = zstd::bulk::Decompressor::new().map_err(|e| StoreError::io(&dir, e))?;
        let mut compressor =
            zstd::bulk::Compressor::new(ZSTD_LEVEL).map_err(|e| StoreError::io(&dir, e))?;
        for (seg, blocks) in by_segment {
            let path = segment_path(&dir, seg);
            let file = File::open(&path).map_err(|e| StoreError::io(&path, e))?;
            // First, is there anything to prune in this segment at all?
            let mut decoded = Vec::with_capacity(blocks.len());
            let mut any = false;
            for &(first, (_, offset, count, len)) in &blocks {
                if len > segment::MAX_BLOCK_LEN {
                    return Err(StoreError::Damaged {
                        location: format!("block index entry for seq {first}"),
                        detail: format!(
                            "a block of {len} bytes is larger than any block the store writes"
                        ),
                    });
                }
                let mut buf = vec![0u8; len as usize];
                file.read_exact_at(&mut buf, offset)
                    .map_err(|e| StoreError::io(&path, e))?;
                let damaged = |detail: String| StoreError::Damaged {
                    location: format!("{} offset {offset}", path.display()),
                    detail,
                };
                let header = BlockHeader::decode(&buf).map_err(|e| damaged(e.to_string()))?;
                if header.first_seq != first || header.count != count {
                    return Err(damaged(
                        "block header disagrees with the block index".into(),
                    ));
                }
                let raw = segment::decompress_payload(
                    &header,
                    &buf[segment::BLOCK_HEADER_LEN..],
                    &mut dec,
                )
                .map_err(|e| damaged(e.to_string()))?;
                let records = RecordIter::new(Bytes::from(raw), count)
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|e| damaged(e.to_string()))?;
                let hit = records.iter().any(|r| !r.pruned && r.time < cutoff);
                any |= hit;
                decoded.push((first, count, buf, hit.then_some(records)));
            }
            if !any {
                continue;
            }
            // Rewrite into a new segment file.
            let new_id = w.next_segment;
            w.next_segment += 1;
            let new_path = segment_path(&dir, new_id);
            let io = |e| StoreError::io(&new_path, e);
            let mut out = OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&new_path)
                .map_err(io)?;
            out.write_all(&segment::file_header(new_id)).map_err(io)?;
            let mut len = segment::FILE_HEADER_LEN;
            let mut new_blocks = Vec::new();
            let mut payload = Vec::new();
            for (first, count, buf, records) in decoded {
                let bytes = match records {
                    None => buf,
                    Some(records) => {
                        payload.clear();
                        for r in &records {
                            let prune = !r.pruned && r.time < cutoff;
                            if prune {
                                report.records_pruned += 1;
                                report.bytes_pruned += r.raw.len() as u64;
                                pruned_seqs.push(r.seq);
                            }
                            let source = segment::source_code(r.source).ok_or_else(|| {
                                StoreError::Damaged {
                                    location: format!("seq {}", r.seq),
                                    detail: "unknown source format".into(),
                                }
                            })?;
                            segment::encode_record(
                                &mut payload,
                                &RecordRef {
                                    seq: r.seq,
                                    pruned: r.pruned || prune,
                                    source,
                                    time: r.time,
                                    leaf_index: r.leaf_index,
                                    tenant: &r.tenant,
                                    record_id: &r.record_id,
                                    body: if prune || r.pruned { &[] } else { &r.raw },
                                },
                            );
                        }
                        let mut block = Vec::new();
                        segment::encode_block(&mut compressor, first, count, &payload, &mut block)
                            .map_err(io)?;
                        block
                    }
                };
                out.write_all(&bytes).map_err(io)?;
                new_blocks.push((first, (new_id, len, count, bytes.len() as u32)));
                len += bytes.len() as u64;
            }
            out.sync_all().map_err(io)?;
            drop(out);
            sync_dir(&dir.join(SEGMENTS_DIR))?;
            let tx = db.begin_write().map_err(|e| st(e.into()))?;
            {
                let mut bt = tx.open_table(BLOCKS).map_err(|e| st(e.into()))?;
                for (first, loc) in &new_blocks {
                    bt.insert(*first, *loc).map_err(|e| st(e.into()))?;
                }
                let mut segs = tx.open_table(SEGMENTS).map_err(|e| st(e.into()))?;
                segs.remove(seg).map_err(|e| st(e.into()))?;
                segs.insert(new_id, len).map_err(|e| st(e.into()))?;
                let mut meta = tx.open_table(META).map_err(|e| st(e.into()))?;
                meta.insert(NEXT_SEGMENT, w.next_segment)
                    .map_err(|e| st(e.into()))?;
            }
            tx.commit().map_err(|e| st(e.into()))?;
            if w.segment.as_ref().is_some_and(|s| s.id == seg) {
                // New records go to a fresh segment rather than after the rewritten blocks.
                w.segment = None;
            }
            std::fs::remove_file(&path).map_err(|e| StoreError::io(&path, e))?;
            report.segments_rewritten += 1;
        }
        sync_dir(&dir.join(SEGMENTS_DIR))?;
        let mut open: Option<(u64, u64)> = None;
        for seq in pruned_seqs {
            match &mut open {
                Some((_, last)) if *last + 1 == seq => *last = seq,
                _ => {
                    if let Some((a, b)) = open.take() {
                        report.ranges.push(PrunedRange {
                            first_seq: a,
                            last_seq: b,
                        });
                    }
                    open = Some((seq, seq));
                }
            }
        }
        if let Some((a, b)) = open {
            report.ranges.push(PrunedRange {
                first_seq: a,
                last_seq: b,
            });
        }
        let run = serde_json::json!({
            "time": started.to_string(),
            "cutoff": cutoff.to_string(),
            "records_pruned": report.records_pruned,
            "ranges": report.ranges.iter().map(|r| [r.first_seq, r.last_seq]).collect::<Vec<_>>(),
        })
        .to_string();
        record_run(db, run_no, &run).map_err(st)?;
        Ok(report)
    }
}

fn record_run(db: &redb::Database, run_no: u64, json: &str) -> Result<(), redb::Error> {
    let tx = db.begin_write()?;
    {
        let mut meta = tx.open_table(META)?;
        meta.insert(NEXT_RETENTION_RUN, run_no + 1)?;
        let mut runs = tx.open_table(RETENTION)?;
        runs.insert(run_no, json)?;
    }
    tx.commit()?;
    Ok(())
}
