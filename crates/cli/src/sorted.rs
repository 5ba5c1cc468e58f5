//! Events in time order with bounded memory: the batch source of the detection engine.
//!
//! Exports do not come in time order — Purview writes newest first, several files overlap, sign-in
//! logs sit beside the audit log — but stateful detection must see what happened in the order it
//! happened. Events are buffered up to a memory budget and sorted by `(time, record id)`; when the
//! budget is exceeded the sorted run is spilled to a temporary file as `(time, source, raw bytes)`,
//! zstd-compressed, and the runs are merged at the end, re-normalising each record from its raw
//! bytes. The same record read twice (overlapping exports, a CSV and an API blob of one record) is
//! delivered once.

use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;
use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};

use anyhow::Context;
use mailtrail_event::{AuditEvent, SourceFormat, Timestamp};

/// Buffers events, spilling sorted runs to disk past the budget.
pub(crate) struct TimeSorter {
    buffer: Vec<AuditEvent>,
    buffered_bytes: usize,
    budget: usize,
    runs: Vec<tempfile::NamedTempFile>,
    spilled: u64,
}

/// What one event costs in memory beyond its raw bytes, roughly.
const EVENT_OVERHEAD: usize = 640;

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
        self.buffered_bytes += ev.raw.len() + EVENT_OVERHEAD;
        self.buffer.push(ev);
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
        sort(&mut self.buffer);
        let file = tempfile::NamedTempFile::new()
            .context("cannot create a temporary file to sort events (set TMPDIR to a disk with space)")?;
        let mut out = zstd::Encoder::new(BufWriter::new(file.reopen()?), 1)?;
        for ev in self.buffer.drain(..) {
            write_entry(&mut out, &ev)?;
            self.spilled += 1;
        }
        out.finish()?.flush()?;
        self.runs.push(file);
        self.buffered_bytes = 0;
        Ok(())
    }

    /// Every event in `(time, record id)` order, each record once.
    pub(crate) fn finish(mut self) -> anyhow::Result<SortedEvents> {
        sort(&mut self.buffer);
        let mut heap = BinaryHeap::new();
        let mut runs = Vec::new();
        for (i, file) in self.runs.iter().enumerate() {
            let mut run = RunReader::open(file)?;
            if let Some(ev) = run.next_event()? {
                heap.push(Reverse(Head(ev, i)));
            }
            runs.push(run);
        }
        let memory = self.buffer.into_iter();
        Ok(SortedEvents {
            _files: self.runs,
            runs,
            heap,
            memory: memory.peekable(),
            last: None,
            duplicates: 0,
        })
    }
}

/// Time, then record id, then source: of two copies of one record the one from the richer source
/// (the raw audit record before Sentinel's or Defender's reshaping of it) comes first and is kept.
fn order(a: &AuditEvent, b: &AuditEvent) -> Ordering {
    a.time
        .cmp(&b.time)
        .then_with(|| a.record_id.cmp(&b.record_id))
        .then_with(|| a.source.cmp(&b.source))
}

fn sort(events: &mut [AuditEvent]) {
    events.sort_unstable_by(order);
}

fn write_entry(out: &mut impl Write, ev: &AuditEvent) -> std::io::Result<()> {
    let source = SourceFormat::ALL
        .iter()
        .position(|s| *s == ev.source)
        .unwrap_or(0) as u8;
    out.write_all(&ev.time.as_second().to_le_bytes())?;
    out.write_all(&ev.time.subsec_nanosecond().to_le_bytes())?;
    out.write_all(&[source])?;
    out.write_all(&(ev.raw.len() as u64).to_le_bytes())?;
    out.write_all(&ev.raw)
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

    fn next_event(&mut self) -> anyhow::Result<Option<AuditEvent>> {
        let mut head = [0u8; 8 + 4 + 1 + 8];
        match self.input.read_exact(&mut head) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
            Err(e) => return Err(e).context("reading a sorted run back from its temporary file"),
        }
        let mut i64b = [0u8; 8];
        i64b.copy_from_slice(&head[0..8]);
        let secs = i64::from_le_bytes(i64b);
        let mut i32b = [0u8; 4];
        i32b.copy_from_slice(&head[8..12]);
        let nanos = i32::from_le_bytes(i32b);
        let source = SourceFormat::ALL
            .get(usize::from(head[12]))
            .copied()
            .unwrap_or_default();
        i64b.copy_from_slice(&head[13..21]);
        let len = usize::try_from(u64::from_le_bytes(i64b)).context("corrupt sorted run")?;
        let mut raw = vec![0u8; len];
        self.input.read_exact(&mut raw)?;
        // The record was normalised once already; doing it again from its bytes gives the same
        // event (the formats crate guarantees it) without keeping the event in memory.
        let mut ev = mailtrail_formats::normalize(source, raw.into())
            .context("re-reading a record from a sorted run")?;
        ev.time = Timestamp::new(secs, nanos).unwrap_or(ev.time);
        Ok(Some(ev))
    }
}

struct Head(AuditEvent, usize);

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

/// The merged, de-duplicated stream.
pub(crate) struct SortedEvents {
    _files: Vec<tempfile::NamedTempFile>,
    runs: Vec<RunReader>,
    heap: BinaryHeap<Reverse<Head>>,
    memory: std::iter::Peekable<std::vec::IntoIter<AuditEvent>>,
    last: Option<(Timestamp, String)>,
    duplicates: u64,
}

impl SortedEvents {
    /// Records dropped because the same record id at the same time was already delivered.
    pub(crate) fn duplicates(&self) -> u64 {
        self.duplicates
    }

    fn next_any(&mut self) -> anyhow::Result<Option<AuditEvent>> {
        let from_memory = match (self.heap.peek(), self.memory.peek()) {
            (None, None) => return Ok(None),
            (None, Some(_)) => true,
            (Some(_), None) => false,
            (Some(Reverse(Head(h, _))), Some(m)) => order(m, h) != Ordering::Greater,
        };
        if from_memory {
            return Ok(self.memory.next());
        }
        let Some(Reverse(Head(ev, i))) = self.heap.pop() else {
            return Ok(None);
        };
        if let Some(next) = self.runs[i].next_event()? {
            self.heap.push(Reverse(Head(next, i)));
        }
        Ok(Some(ev))
    }

    /// The next event, or `None` at the end.
    pub(crate) fn next_event(&mut self) -> anyhow::Result<Option<AuditEvent>> {
        while let Some(ev) = self.next_any()? {
            let key = (ev.time, ev.record_id.clone());
            if self.last.as_ref() == Some(&key) {
                self.duplicates += 1;
                continue;
            }
            self.last = Some(key);
            return Ok(Some(ev));
        }
        Ok(None)
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

    fn drain(mut s: SortedEvents) -> Vec<(i64, String)> {
        let mut out = Vec::new();
        while let Some(ev) = s.next_event().unwrap() {
            out.push((ev.time.as_second(), ev.record_id));
        }
        out
    }

    #[test]
    fn events_come_out_in_time_order_across_spilled_runs() {
        // A tiny budget forces a spill every few events.
        let mut sorter = TimeSorter::new(3 * (EVENT_OVERHEAD + 100));
        let times = [50, 10, 40, 30, 20, 60, 0, 70, 35];
        for (i, t) in times.iter().enumerate() {
            sorter.push(event(&format!("r{i}"), 1_700_000_000 + t)).unwrap();
        }
        assert!(sorter.spilled() > 0);
        let out = drain(sorter.finish().unwrap());
        let got: Vec<i64> = out.iter().map(|(t, _)| t - 1_700_000_000).collect();
        let mut want = times.to_vec();
        want.sort();
        assert_eq!(got, want);
    }

    #[test]
    fn the_same_record_read_twice_is_delivered_once() {
        let mut sorter = TimeSorter::new(2 * (EVENT_OVERHEAD + 100));
        for _ in 0..3 {
            sorter.push(event("same", 1_700_000_000)).unwrap();
        }
        sorter.push(event("other", 1_700_000_000)).unwrap();
        let mut s = sorter.finish().unwrap();
        let mut ids = Vec::new();
        while let Some(ev) = s.next_event().unwrap() {
            ids.push(ev.record_id);
        }
        assert_eq!(ids, ["other", "same"]);
        assert_eq!(s.duplicates(), 2);
    }
}
