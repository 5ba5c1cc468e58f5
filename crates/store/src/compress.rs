//! Segment blocks compressed on a thread of their own.
//!
//! The writer thread bounds ingest into a large store (it also hashes, de-duplicates and commits),
//! and compression was a seventh of its time. Here a worker compresses one block while the writer
//! fills the next; blocks come back in the order they went in, and at most [`IN_FLIGHT`] are
//! away at once, so memory stays at a few blocks.

use std::collections::VecDeque;
use std::sync::{Mutex, mpsc};
use std::thread::JoinHandle;

use crate::segment;

/// Blocks handed to the worker and not yet taken back.
const IN_FLIGHT: usize = 2;

struct Job {
    first_seq: u64,
    count: u32,
    raw: Vec<u8>,
    /// A buffer for the framed block, reused.
    framed: Vec<u8>,
}

/// A compressed block, ready to write, and its raw buffer to reuse.
pub(crate) struct Framed {
    pub(crate) first_seq: u64,
    pub(crate) count: u32,
    pub(crate) bytes: Vec<u8>,
    raw: Vec<u8>,
}

pub(crate) struct BlockCompressor {
    jobs: Option<mpsc::SyncSender<Job>>,
    /// In a mutex only so that the store stays `Sync`: one thread takes from it.
    done: Mutex<mpsc::Receiver<std::io::Result<Framed>>>,
    worker: Option<JoinHandle<()>>,
    in_flight: usize,
    spare_raw: Vec<Vec<u8>>,
    spare_framed: VecDeque<Vec<u8>>,
}

impl BlockCompressor {
    pub(crate) fn new(level: i32) -> std::io::Result<BlockCompressor> {
        let mut compressor = zstd::bulk::Compressor::new(level)?;
        let (jobs, inbox) = mpsc::sync_channel::<Job>(IN_FLIGHT);
        let (outbox, done) = mpsc::sync_channel(IN_FLIGHT);
        let worker = std::thread::Builder::new()
            .name("mailtrail-zstd".into())
            .spawn(move || {
                for mut job in inbox {
                    let framed = segment::encode_block(
                        &mut compressor,
                        job.first_seq,
                        job.count,
                        &job.raw,
                        &mut job.framed,
                    )
                    .map(|()| Framed {
                        first_seq: job.first_seq,
                        count: job.count,
                        bytes: job.framed,
                        raw: job.raw,
                    });
                    if outbox.send(framed).is_err() {
                        return;
                    }
                }
            })?;
        Ok(BlockCompressor {
            jobs: Some(jobs),
            done: Mutex::new(done),
            worker: Some(worker),
            in_flight: 0,
            spare_raw: Vec::new(),
            spare_framed: VecDeque::new(),
        })
    }

    /// Hands a block over for compression and gives back an empty buffer for the next one. When
    /// the worker already holds [`IN_FLIGHT`] blocks, first takes back the oldest, which the
    /// caller must write before anything submitted later.
    pub(crate) fn submit(
        &mut self,
        first_seq: u64,
        count: u32,
        raw: &mut Vec<u8>,
    ) -> std::io::Result<Option<Framed>> {
        let oldest = if self.in_flight >= IN_FLIGHT {
            self.take()?
        } else {
            None
        };
        let capacity = raw.capacity();
        let empty = self
            .spare_raw
            .pop()
            .unwrap_or_else(|| Vec::with_capacity(capacity));
        let job = Job {
            first_seq,
            count,
            raw: std::mem::replace(raw, empty),
            framed: self.spare_framed.pop_front().unwrap_or_default(),
        };
        let sent = self.jobs.as_ref().map(|jobs| jobs.send(job).is_ok());
        if sent != Some(true) {
            return Err(worker_gone());
        }
        self.in_flight += 1;
        Ok(oldest)
    }

    /// Takes back the oldest block handed over, waiting for it; `None` when none is away.
    pub(crate) fn take(&mut self) -> std::io::Result<Option<Framed>> {
        if self.in_flight == 0 {
            return Ok(None);
        }
        let done = self.done.get_mut().map_err(|_| worker_gone())?;
        let mut framed = done.recv().map_err(|_| worker_gone())??;
        self.in_flight -= 1;
        let mut raw = std::mem::take(&mut framed.raw);
        raw.clear();
        self.spare_raw.push(raw);
        Ok(Some(framed))
    }

    /// Gives a written block's buffer back for reuse.
    pub(crate) fn recycle(&mut self, framed: Framed) {
        self.spare_framed.push_back(framed.bytes);
    }
}

impl Drop for BlockCompressor {
    fn drop(&mut self) {
        // Closing the channel ends the worker's loop.
        self.jobs = None;
        if let Some(worker) = self.worker.take() {
            let _ = worker.join();
        }
    }
}

fn worker_gone() -> std::io::Error {
    std::io::Error::other("the block compression thread stopped")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_come_back_compressed_in_the_order_they_went() {
        let mut c = BlockCompressor::new(1).unwrap();
        let mut out = Vec::new();
        for i in 0..10u64 {
            let mut raw = format!("block {i} ").repeat(1000).into_bytes();
            if let Some(f) = c.submit(i * 100, 100, &mut raw).unwrap() {
                out.push(f);
            }
            assert!(raw.is_empty(), "the caller gets an empty buffer back");
        }
        while let Some(f) = c.take().unwrap() {
            out.push(f);
        }
        assert_eq!(out.len(), 10);
        let mut d = zstd::bulk::Decompressor::new().unwrap();
        for (i, f) in out.into_iter().enumerate() {
            assert_eq!((f.first_seq, f.count), (i as u64 * 100, 100));
            let header = segment::BlockHeader::decode(&f.bytes).unwrap();
            let payload = &f.bytes[segment::BLOCK_HEADER_LEN..];
            let raw = segment::decompress_payload(&header, payload, &mut d).unwrap();
            assert_eq!(raw, format!("block {i} ").repeat(1000).into_bytes());
            c.recycle(f);
        }
    }
}
