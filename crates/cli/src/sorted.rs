//! Events in time order with bounded memory: the batch source of the detection engine.
//!
//! Exports do not come in time order — Purview writes newest first, several files overlap, sign-in
//! logs sit beside the audit log — but stateful detection must see what happened in the order it
//! happened. Records are buffered as `(time, record id, source, raw bytes)` — the normalised event
//! is dropped, it is several times larger than the record — up to a memory budget and sorted; past
//! the budget the sorted run is spilled to a temporary file, zstd-compressed, and the runs are merged
//! at the end. A background thread merges and re-normalises each record from its raw bytes while the
//! engine works on the previous ones. The same record read twice (overlapping exports, a CSV and an
//! API blob of one record) is delivered once, from its richest source.

use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;
use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::sync::mpsc;
use std::thread;

use anyhow::Context;
use bytes::Bytes;
use mailtrail_event::{AuditEvent, SourceFormat, Timestamp};

/// What the sorter keeps of one record.
struct Entry {
    time: Timestamp,
    record_id: Box<str>,
    source: SourceFormat,
    raw: Bytes,
}

/// Bytes an entry costs beyond its raw record: the entry, the record id, allocator overhead.
const ENTRY_OVERHEAD: usize = 96;

impl Entry {
    fn of(ev: AuditEvent) -> Entry {
        Entry {
            time: ev.time,
            record_id: ev.record_id.into_boxed_str(),
            source: ev.source,
            raw: ev.raw,
        }
    }

    fn cost(&self) -> usize {
        self.raw.len() + self.record_id.len() + ENTRY_OVERHEAD
    }
}

/// Time, then record id, then source: of two copies of one record the one from the richer source
/// (the raw audit record before Sentinel's or Defender's reshaping of it) comes first and is kept.
fn order(a: &Entry, b: &Entry) -> Ordering {
    a.time
        .cmp(&b.time)
        .then_with(|| a.record_id.cmp(&b.record_id))
        .then_with(|| a.source.cmp(&b.source))
}

/// Buffers records, spilling sorted runs to disk past the budget.
pub(crate) struct TimeSorter {
    buffer: Vec<Entry>,
    buffered_bytes: usize,
    budget: usize,
    runs: Vec<tempfile::NamedTempFile>,
    spilled: u64,
}

impl TimeSorter {
    pub(crate) fn new(budget: usize) -> Self {
        Self {
            buffer: Vec::new(),
            buffered_bytes: 0,
            budget,
            runs: Vec::new(),
            spilled: 0,
        }
    }

    pub(crate) fn push(&mut self, ev: AuditEvent) -> anyhow::Result<()> {
        self.push_entry(Entry::of(ev))
    }

    /// Adds a record known by its bytes (a stored record): it is normalised when it comes out.
    pub(crate) fn push_raw(
        &mut self,
        time: Timestamp,
        record_id: &str,
        source: SourceFormat,
        raw: Bytes,
    ) -> anyhow::Result<()> {
        self.push_entry(Entry {
            time,
            record_id: record_id.into(),
            source,
            raw,
        })
    }

    fn push_entry(&mut self, entry: Entry) -> anyhow::Result<()> {
        self.buffered_bytes += entry.cost();
        self.buffer.push(entry);
        if self.buffered_bytes >= self.budget {
            self.spill()?;
        }
        Ok(())
    }

    /// Records written to temporary files because they did not fit in memory.
    pub(crate) fn spilled(&self) -> u64 {
        self.spilled
    }

    fn spill(&mut self) -> anyhow::Result<()> {
        self.buffer.sort_unstable_by(order);
        let file = tempfile::NamedTempFile::new().context(
            "cannot create a temporary file to sort events (set TMPDIR to a disk with space)",
        )?;
        let mut out = zstd::Encoder::new(BufWriter::new(file.reopen()?), 1)?;
        for entry in self.buffer.drain(..) {
            write_entry(&mut out, &entry)?;
            self.spilled += 1;
        }
        out.finish()?.flush()?;
        self.runs.push(file);
        self.buffered_bytes = 0;
        Ok(())
    }

    /// Every event in `(time, record id)` order, each record once, normalised on a background
    /// thread.
    pub(crate) fn finish(mut self) -> anyhow::Result<SortedEvents> {
        self.buffer.sort_unstable_by(order);
        let mut runs = Vec::new();
        for file in &self.runs {
            runs.push(RunReader::open(file)?);
        }
        let merge = Merge::new(runs, self.buffer)?;
        let (tx, rx) = mpsc::sync_channel::<anyhow::Result<AuditEvent>>(4096);
        let files = self.runs;
        let handle = thread::Builder::new()
            .name("mailtrail-sort".into())
            .spawn(move || {
                let _files = files;
                merge.run(&tx)
            })
            .context("starting the merge thread")?;
        Ok(SortedEvents {
            rx: Some(rx),
            handle: Some(handle),
        })
    }
}

fn write_entry(out: &mut impl Write, e: &Entry) -> std::io::Result<()> {
    let source = SourceFormat::ALL
        .iter()
        .position(|s| *s == e.source)
        .unwrap_or(0) as u8;
    out.write_all(&e.time.as_second().to_le_bytes())?;
    out.write_all(&e.time.subsec_nanosecond().to_le_bytes())?;
    out.write_all(&[source])?;
    out.write_all(&(e.record_id.len() as u32).to_le_bytes())?;
    out.write_all(e.record_id.as_bytes())?;
    out.write_all(&(e.raw.len() as u64).to_le_bytes())?;
    out.write_all(&e.raw)
}

struct RunReader {
    input: zstd::Decoder<'static, BufReader<File>>,
}

impl RunReader {
    fn open(file: &tempfile::NamedTempFile) -> anyhow::Result<Self> {
        Ok(Self {
            input: zstd::Decoder::new(file.reopen()?)?,
        })
    }

    fn next_entry(&mut self) -> anyhow::Result<Option<Entry>> {
        let mut head = [0u8; 8 + 4 + 1 + 4];
        match self.input.read_exact(&mut head) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
            Err(e) => return Err(e).context("reading a sorted run back from its temporary file"),
        }
        let secs = i64::from_le_bytes(head[0..8].try_into().context("corrupt sorted run")?);
        let nanos = i32::from_le_bytes(head[8..12].try_into().context("corrupt sorted run")?);
        let source = SourceFormat::ALL
            .get(usize::from(head[12]))
            .copied()
            .unwrap_or_default();
        let id_len = u32::from_le_bytes(head[13..17].try_into().context("corrupt sorted run")?);
        let mut id = vec![0u8; id_len as usize];
        self.input.read_exact(&mut id)?;
        let mut len = [0u8; 8];
        self.input.read_exact(&mut len)?;
        let len = usize::try_from(u64::from_le_bytes(len)).context("corrupt sorted run")?;
        let mut raw = vec![0u8; len];
        self.input.read_exact(&mut raw)?;
        Ok(Some(Entry {
            time: Timestamp::new(secs, nanos).context("corrupt sorted run")?,
            record_id: String::from_utf8(id)
                .context("corrupt sorted run")?
                .into_boxed_str(),
            source,
            raw: raw.into(),
        }))
    }
}

struct Head(Entry, usize);

impl PartialEq for Head {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Head {}
impl PartialOrd for Head {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Head {
    fn cmp(&self, other: &Self) -> Ordering {
        order(&self.0, &other.0).then(self.1.cmp(&other.1))
    }
}

/// The k-way merge of the spilled runs and the in-memory remainder.
struct Merge {
    runs: Vec<RunReader>,
    heap: BinaryHeap<Reverse<Head>>,
    memory: std::iter::Peekable<std::vec::IntoIter<Entry>>,
}

impl Merge {
    fn new(mut runs: Vec<RunReader>, memory: Vec<Entry>) -> anyhow::Result<Self> {
        let mut heap = BinaryHeap::new();
        for (i, run) in runs.iter_mut().enumerate() {
            if let Some(e) = run.next_entry()? {
                heap.push(Reverse(Head(e, i)));
            }
        }
        Ok(Self {
            runs,
            heap,
            memory: memory.into_iter().peekable(),
        })
    }

    fn next(&mut self) -> anyhow::Result<Option<Entry>> {
        let from_memory = match (self.heap.peek(), self.memory.peek()) {
            (None, None) => return Ok(None),
            (None, Some(_)) => true,
            (Some(_), None) => false,
            (Some(Reverse(Head(h, _))), Some(m)) => order(m, h) != Ordering::Greater,
        };
        if from_memory {
            return Ok(self.memory.next());
        }
        let Some(Reverse(Head(e, i))) = self.heap.pop() else {
            return Ok(None);
        };
        if let Some(next) = self.runs[i].next_entry()? {
            self.heap.push(Reverse(Head(next, i)));
        }
        Ok(Some(e))
    }

    /// Sends every distinct record, normalised, in order; returns how many duplicates it dropped
    /// and how many records it could not read.
    fn run(mut self, tx: &mpsc::SyncSender<anyhow::Result<AuditEvent>>) -> Drained {
        let mut drained = Drained::default();
        let mut last: Option<(Timestamp, Box<str>)> = None;
        loop {
            let entry = match self.next() {
                Ok(Some(e)) => e,
                Ok(None) => return drained,
                Err(e) => {
                    let _ = tx.send(Err(e));
                    return drained;
                }
            };
            if last
                .as_ref()
                .is_some_and(|(t, id)| *t == entry.time && *id == entry.record_id)
            {
                drained.duplicates += 1;
                continue;
            }
            // A record read from exports was normalised once already, and doing it again from
            // its bytes gives the same event; a stored record (`push_raw`) is read here for the
            // first time in this run, and one that no longer reads is reported and skipped.
            let event = match mailtrail_formats::normalize(entry.source, entry.raw) {
                Ok(mut ev) => {
                    ev.time = entry.time;
                    ev
                }
                Err(e) => {
                    eprintln!("rejected: record {}: {e}", entry.record_id);
                    drained.unreadable += 1;
                    last = Some((entry.time, entry.record_id));
                    continue;
                }
            };
            last = Some((entry.time, entry.record_id));
            if tx.send(Ok(event)).is_err() {
                return drained;
            }
        }
    }
}

/// The merged, de-duplicated stream.
/// What the ordered stream left out.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Drained {
    /// Records read more than once, passed on once.
    pub(crate) duplicates: u64,
    /// Records whose bytes no longer normalise (from the store); reported on stderr.
    pub(crate) unreadable: u64,
}

pub(crate) struct SortedEvents {
    rx: Option<mpsc::Receiver<anyhow::Result<AuditEvent>>>,
    handle: Option<thread::JoinHandle<Drained>>,
}

impl SortedEvents {
    /// The next event, or `None` at the end.
    pub(crate) fn next_event(&mut self) -> anyhow::Result<Option<AuditEvent>> {
        match self.rx.as_ref().map(mpsc::Receiver::recv) {
            Some(Ok(ev)) => ev.map(Some),
            _ => Ok(None),
        }
    }

    /// Ends the stream; says how many records were dropped as duplicates or could not be read.
    pub(crate) fn finish(mut self) -> Drained {
        self.rx = None;
        self.handle
            .take()
            .and_then(|h| h.join().ok())
            .unwrap_or_default()
    }
}

impl Drop for SortedEvents {
    fn drop(&mut self) {
        self.rx = None;
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(id: &str, secs: i64) -> AuditEvent {
        let raw = format!(
            r#"{{"Id":"{id}","CreationTime":"{}","RecordType":2,"Operation":"Send","UserId":"a@b.example"}}"#,
            Timestamp::new(secs, 0).unwrap()
        );
        mailtrail_formats::normalize(SourceFormat::UalNdjson, raw.into_bytes().into()).unwrap()
    }

    fn drain(mut s: SortedEvents) -> (Vec<(i64, String)>, u64) {
        let mut out = Vec::new();
        while let Some(ev) = s.next_event().unwrap() {
            out.push((ev.time.as_second(), ev.record_id));
        }
        (out, s.finish().duplicates)
    }

    #[test]
    fn a_stored_record_that_no_longer_reads_is_skipped_and_counted() {
        let mut sorter = TimeSorter::new(1 << 20);
        for (secs, id) in [(30, "b"), (10, "a")] {
            let ev = event(id, secs);
            sorter
                .push_raw(ev.time, &ev.record_id, ev.source, ev.raw)
                .unwrap();
        }
        sorter
            .push_raw(
                Timestamp::new(20, 0).unwrap(),
                "broken",
                SourceFormat::UalNdjson,
                Bytes::from_static(b"{not json"),
            )
            .unwrap();
        let mut s = sorter.finish().unwrap();
        let mut out = Vec::new();
        while let Some(ev) = s.next_event().unwrap() {
            out.push(ev.record_id);
        }
        assert_eq!(out, ["a", "b"]);
        assert_eq!(
            s.finish(),
            Drained {
                duplicates: 0,
                unreadable: 1
            }
        );
    }

    #[test]
    fn events_come_out_in_time_order_across_spilled_runs() {
        // A tiny budget forces a spill every few events.
        let mut sorter = TimeSorter::new(3 * (ENTRY_OVERHEAD + 140));
        let times = [50, 10, 40, 30, 20, 60, 0, 70, 35];
        for (i, t) in times.iter().enumerate() {
            sorter
                .push(event(&format!("r{i}"), 1_700_000_000 + t))
                .unwrap();
        }
        assert!(sorter.spilled() > 0);
        let (out, _) = drain(sorter.finish().unwrap());
        let got: Vec<i64> = out.iter().map(|(t, _)| t - 1_700_000_000).collect();
        let mut want = times.to_vec();
        want.sort();
        assert_eq!(got, want);
    }

    #[test]
    fn the_same_record_read_twice_is_delivered_once() {
        let mut sorter = TimeSorter::new(2 * (ENTRY_OVERHEAD + 140));
        for _ in 0..3 {
            sorter.push(event("same", 1_700_000_000)).unwrap();
        }
        sorter.push(event("other", 1_700_000_000)).unwrap();
        let (out, duplicates) = drain(sorter.finish().unwrap());
        let ids: Vec<&str> = out.iter().map(|(_, id)| id.as_str()).collect();
        assert_eq!(ids, ["other", "same"]);
        assert_eq!(duplicates, 2);
    }
}
