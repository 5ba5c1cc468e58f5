//! Events in time order with bounded memory: the batch source of the detection engine.
//!
//! Exports do not come in time order — Purview writes newest first, several files overlap, sign-in
//! logs sit beside the audit log — but stateful detection must see what happened in the order it
//! happened. Records are read only as far as their time and id ([`RecordKey`]) and buffered as
//! `(time, record id, source, raw bytes, location)` up to a memory budget and sorted; past the
//! budget the sorted run is spilled to a temporary file, zstd-compressed, and the runs are merged at
//! the end. A background thread merges; worker threads normalise each record from its raw bytes, in
//! batches, while the engine works on the previous ones. The same record read twice (overlapping
//! exports, a CSV and an API blob of one record) is delivered once, from its richest source.

use std::cmp::{Ordering, Reverse};
use std::collections::{BTreeMap, BinaryHeap};
use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::sync::{Arc, mpsc};
use std::thread;

use anyhow::Context;
use bytes::Bytes;
use mailtrail_event::{AuditEvent, SourceFormat, Timestamp};
use mailtrail_formats::{Position, RecordError, RecordKey, RecordLocation};

/// What the sorter keeps of one record.
struct Entry {
    time: Timestamp,
    record_id: Box<str>,
    source: SourceFormat,
    raw: Bytes,
    /// Where it was read; `None` for a stored record.
    location: Option<RecordLocation>,
}

/// Bytes an entry costs beyond its raw record: the entry, the record id, allocator overhead.
const ENTRY_OVERHEAD: usize = 128;

/// zstd's fast mode for spilled runs: on audit records it compresses about 5 to 1 at nearly twice
/// the speed of level 1 (7 to 1), and spilling sits on the reading path.
const SPILL_LEVEL: i32 = -3;

/// Records normalised together by one worker: large enough that handing batches between threads
/// costs nothing next to normalising them, small enough to keep every worker busy.
const BATCH: usize = 256;

impl Entry {
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
    threads: usize,
    runs: Vec<tempfile::NamedTempFile>,
    /// The inputs named by spilled locations, so a run stores an index rather than a path.
    inputs: Vec<Arc<str>>,
    spilled: u64,
}

impl TimeSorter {
    /// A sorter holding up to `budget` bytes in memory, whose output is normalised on `threads`
    /// worker threads.
    pub(crate) fn new(budget: usize, threads: usize) -> Self {
        Self {
            buffer: Vec::new(),
            buffered_bytes: 0,
            budget,
            threads: threads.max(1),
            runs: Vec::new(),
            inputs: Vec::new(),
            spilled: 0,
        }
    }

    /// Adds a record read from an input.
    pub(crate) fn push(&mut self, key: RecordKey) -> anyhow::Result<()> {
        self.push_entry(Entry {
            time: key.time,
            record_id: key.record_id.into_boxed_str(),
            source: key.source,
            raw: key.raw,
            location: Some(key.location),
        })
    }

    /// Adds a record known by its bytes (a stored record).
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
            location: None,
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
        let mut out = zstd::Encoder::new(BufWriter::new(file.reopen()?), SPILL_LEVEL)?;
        for entry in std::mem::take(&mut self.buffer) {
            let input = entry.location.as_ref().map(|l| self.input_index(l.input()));
            write_entry(&mut out, &entry, input)?;
            self.spilled += 1;
        }
        out.finish()?.flush()?;
        self.runs.push(file);
        self.buffered_bytes = 0;
        Ok(())
    }

    /// The index of an input's name in [`inputs`](Self::inputs); records come input by input, so
    /// the last name is nearly always the one.
    fn input_index(&mut self, name: &str) -> u32 {
        let at = match self.inputs.iter().rposition(|i| &**i == name) {
            Some(at) => at,
            None => {
                self.inputs.push(name.into());
                self.inputs.len() - 1
            }
        };
        u32::try_from(at).unwrap_or(u32::MAX)
    }

    /// Every event in `(time, record id)` order, each record once.
    pub(crate) fn finish(mut self) -> anyhow::Result<SortedEvents> {
        self.buffer.sort_unstable_by(order);
        let inputs = Arc::new(self.inputs);
        let mut runs = Vec::new();
        for file in &self.runs {
            runs.push(RunReader::open(file, inputs.clone())?);
        }
        let merge = Merge::new(runs, self.buffer)?;
        SortedEvents::start(merge, self.runs, self.threads)
    }
}

fn write_entry(out: &mut impl Write, e: &Entry, input: Option<u32>) -> std::io::Result<()> {
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
    out.write_all(&e.raw)?;
    // Location: input index (u32::MAX for none), line, offset, position kind and index.
    let (kind, index) = match e.location.as_ref().map(RecordLocation::position) {
        None | Some(Position::Line) => (0u8, 0u64),
        Some(Position::Element(i)) => (1, i),
        Some(Position::Row(r)) => (2, r),
        Some(_) => (0, 0),
    };
    let (line, offset) = e
        .location
        .as_ref()
        .map_or((0, 0), |l| (l.line(), l.offset()));
    out.write_all(&input.unwrap_or(u32::MAX).to_le_bytes())?;
    out.write_all(&line.to_le_bytes())?;
    out.write_all(&offset.to_le_bytes())?;
    out.write_all(&[kind])?;
    out.write_all(&index.to_le_bytes())
}

struct RunReader {
    input: zstd::Decoder<'static, BufReader<File>>,
    inputs: Arc<Vec<Arc<str>>>,
}

impl RunReader {
    fn open(file: &tempfile::NamedTempFile, inputs: Arc<Vec<Arc<str>>>) -> anyhow::Result<Self> {
        Ok(Self {
            input: zstd::Decoder::new(file.reopen()?)?,
            inputs,
        })
    }

    fn next_entry(&mut self) -> anyhow::Result<Option<Entry>> {
        const CORRUPT: &str = "a sorted run in a temporary file is corrupt";
        let mut head = [0u8; 8 + 4 + 1 + 4];
        match self.input.read_exact(&mut head) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
            Err(e) => return Err(e).context("reading a sorted run back from its temporary file"),
        }
        let secs = i64::from_le_bytes(head[0..8].try_into().context(CORRUPT)?);
        let nanos = i32::from_le_bytes(head[8..12].try_into().context(CORRUPT)?);
        let source = SourceFormat::ALL
            .get(usize::from(head[12]))
            .copied()
            .unwrap_or_default();
        let id_len = u32::from_le_bytes(head[13..17].try_into().context(CORRUPT)?);
        let mut id = vec![0u8; id_len as usize];
        self.input.read_exact(&mut id)?;
        let mut len = [0u8; 8];
        self.input.read_exact(&mut len)?;
        let len = usize::try_from(u64::from_le_bytes(len)).context(CORRUPT)?;
        let mut raw = vec![0u8; len];
        self.input.read_exact(&mut raw)?;
        let mut loc = [0u8; 4 + 8 + 8 + 1 + 8];
        self.input.read_exact(&mut loc)?;
        let input = u32::from_le_bytes(loc[0..4].try_into().context(CORRUPT)?);
        let line = u64::from_le_bytes(loc[4..12].try_into().context(CORRUPT)?);
        let offset = u64::from_le_bytes(loc[12..20].try_into().context(CORRUPT)?);
        let index = u64::from_le_bytes(loc[21..29].try_into().context(CORRUPT)?);
        let position = match loc[20] {
            1 => Position::Element(index),
            2 => Position::Row(index),
            _ => Position::Line,
        };
        let location = self
            .inputs
            .get(input as usize)
            .map(|name| RecordLocation::new(name.clone(), line, offset, position));
        Ok(Some(Entry {
            time: Timestamp::new(secs, nanos).context(CORRUPT)?,
            record_id: String::from_utf8(id).context(CORRUPT)?.into_boxed_str(),
            source,
            raw: raw.into(),
            location,
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

    /// Hands the merged records to the workers in batches, round-robin, every copy of a record
    /// together (the worker keeps the first copy that reads). Fails if a sorted run cannot be read.
    fn run(mut self, workers: &[mpsc::SyncSender<Vec<Vec<Entry>>>]) -> anyhow::Result<()> {
        let mut seq = 0usize;
        let mut batch: Vec<Vec<Entry>> = Vec::with_capacity(BATCH);
        loop {
            let Some(entry) = self.next()? else { break };
            match batch.last_mut() {
                Some(copies)
                    if copies.first().is_some_and(|c| {
                        c.time == entry.time && c.record_id == entry.record_id
                    }) =>
                {
                    copies.push(entry);
                }
                _ => {
                    if batch.len() >= BATCH {
                        let full = std::mem::replace(&mut batch, Vec::with_capacity(BATCH));
                        if workers[seq % workers.len()].send(full).is_err() {
                            return Ok(());
                        }
                        seq += 1;
                    }
                    batch.push(vec![entry]);
                }
            }
        }
        if !batch.is_empty() {
            let _ = workers[seq % workers.len()].send(batch);
        }
        Ok(())
    }
}

/// One record out of a worker.
// Nearly every record is an event; boxing events would allocate once per record for nothing.
#[allow(clippy::large_enum_variant)]
enum Normalised {
    Event(AuditEvent),
    /// No copy of the record normalised: the first copy's error, and the input it was read from.
    Unreadable {
        message: String,
        input: Option<String>,
    },
}

/// Normalises one record from the first of its copies that reads. Records from exports were read
/// as far as their key; the rest of each is checked here, so a record can still be rejected.
fn normalise(copies: Vec<Entry>) -> (Normalised, u64) {
    let duplicates = copies.len().saturating_sub(1) as u64;
    let mut first_error = None;
    for entry in copies {
        match mailtrail_formats::normalize(entry.source, entry.raw) {
            Ok(mut ev) => {
                ev.time = entry.time;
                return (Normalised::Event(ev), duplicates);
            }
            Err(kind) if first_error.is_none() => {
                first_error = Some(match entry.location {
                    Some(location) => Normalised::Unreadable {
                        input: Some(location.input().to_owned()),
                        message: RecordError::new(location, kind).to_string(),
                    },
                    None => Normalised::Unreadable {
                        input: None,
                        message: format!("record {}: {kind}", entry.record_id),
                    },
                });
            }
            Err(_) => {}
        }
    }
    let unreadable = first_error.unwrap_or(Normalised::Unreadable {
        message: "a record with no copy".into(),
        input: None,
    });
    // All copies failed: the others are not duplicates of a delivered record.
    (unreadable, 0)
}

/// What the ordered stream left out.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Drained {
    /// Records read more than once, passed on once.
    pub(crate) duplicates: u64,
    /// Records whose bytes do not normalise; reported on stderr.
    pub(crate) unreadable: u64,
    /// Of those, how many each input held (records from the store have no input).
    pub(crate) unreadable_by_input: BTreeMap<String, u64>,
}

/// A worker's output for one batch.
type NormalisedBatch = Vec<(Normalised, u64)>;

/// The merged, de-duplicated, normalised stream.
pub(crate) struct SortedEvents {
    outputs: Vec<mpsc::Receiver<NormalisedBatch>>,
    seq: usize,
    current: std::vec::IntoIter<(Normalised, u64)>,
    merge: Option<thread::JoinHandle<anyhow::Result<()>>>,
    workers: Vec<thread::JoinHandle<()>>,
    drained: Drained,
}

impl SortedEvents {
    fn start(
        merge: Merge,
        files: Vec<tempfile::NamedTempFile>,
        threads: usize,
    ) -> anyhow::Result<Self> {
        let mut inputs = Vec::with_capacity(threads);
        let mut outputs = Vec::with_capacity(threads);
        let mut workers = Vec::with_capacity(threads);
        for i in 0..threads {
            let (in_tx, in_rx) = mpsc::sync_channel::<Vec<Vec<Entry>>>(2);
            let (out_tx, out_rx) = mpsc::sync_channel::<NormalisedBatch>(2);
            let worker = thread::Builder::new()
                .name(format!("mailtrail-renormalise-{i}"))
                .spawn(move || {
                    for batch in in_rx {
                        let out = batch.into_iter().map(normalise).collect();
                        if out_tx.send(out).is_err() {
                            break;
                        }
                    }
                })
                .context("starting a normalising thread")?;
            inputs.push(in_tx);
            outputs.push(out_rx);
            workers.push(worker);
        }
        let merge = thread::Builder::new()
            .name("mailtrail-merge".into())
            .spawn(move || {
                // The temporary files live until the merge is over.
                let _files = files;
                merge.run(&inputs)
            })
            .context("starting the merge thread")?;
        Ok(Self {
            outputs,
            seq: 0,
            current: Vec::new().into_iter(),
            merge: Some(merge),
            workers,
            drained: Drained::default(),
        })
    }

    /// The next event, or `None` at the end. A record that does not normalise is reported on
    /// stderr, counted, and passed over.
    pub(crate) fn next_event(&mut self) -> anyhow::Result<Option<AuditEvent>> {
        loop {
            if let Some((out, duplicates)) = self.current.next() {
                self.drained.duplicates += duplicates;
                match out {
                    Normalised::Event(ev) => return Ok(Some(ev)),
                    Normalised::Unreadable { message, input } => {
                        eprintln!("rejected: {message}");
                        self.drained.unreadable += 1;
                        if let Some(input) = input {
                            *self.drained.unreadable_by_input.entry(input).or_default() += 1;
                        }
                        continue;
                    }
                }
            }
            let Some(next) = self
                .outputs
                .get(self.seq % self.outputs.len().max(1))
                .and_then(|rx| rx.recv().ok())
            else {
                // Every batch is in: the merge is over, and says whether it ended early.
                self.outputs.clear();
                return match self.merge.take().map(thread::JoinHandle::join) {
                    Some(Ok(Err(e))) => Err(e),
                    Some(Err(panic)) => std::panic::resume_unwind(panic),
                    _ => Ok(None),
                };
            };
            self.seq += 1;
            self.current = next.into_iter();
        }
    }

    /// Ends the stream; says how many records were dropped as duplicates or could not be read.
    pub(crate) fn finish(mut self) -> Drained {
        self.stop();
        std::mem::take(&mut self.drained)
    }

    fn stop(&mut self) {
        // Dropping the receivers stops the workers, and then the merge.
        self.outputs.clear();
        for w in self.workers.drain(..) {
            let _ = w.join();
        }
        if let Some(h) = self.merge.take() {
            let _ = h.join();
        }
    }
}

impl Drop for SortedEvents {
    fn drop(&mut self) {
        self.stop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(id: &str, secs: i64, extra: &str) -> Bytes {
        format!(
            r#"{{"Id":"{id}","CreationTime":"{}","RecordType":2,"Operation":"Send","UserId":"a@b.example"{extra}}}"#,
            Timestamp::new(secs, 0).unwrap()
        )
        .into_bytes()
        .into()
    }

    /// A record read from line `line` of `a.json`, as [`Reader::keys`] gives it.
    fn key(id: &str, secs: i64, line: u64, extra: &str) -> RecordKey {
        RecordKey {
            time: Timestamp::new(secs, 0).unwrap(),
            record_id: id.into(),
            source: SourceFormat::UalNdjson,
            raw: raw(id, secs, extra),
            location: RecordLocation::new("a.json", line, 0, Position::Line),
        }
    }

    fn drain(mut s: SortedEvents) -> (Vec<(i64, String)>, Drained) {
        let mut out = Vec::new();
        while let Some(ev) = s.next_event().unwrap() {
            out.push((ev.time.as_second(), ev.record_id));
        }
        (out, s.finish())
    }

    #[test]
    fn a_stored_record_that_no_longer_reads_is_skipped_and_counted() {
        let mut sorter = TimeSorter::new(1 << 20, 2);
        for (secs, id) in [(30, "b"), (10, "a")] {
            let t = Timestamp::new(secs, 0).unwrap();
            sorter
                .push_raw(t, id, SourceFormat::UalNdjson, raw(id, secs, ""))
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
        let (out, drained) = drain(sorter.finish().unwrap());
        let ids: Vec<&str> = out.iter().map(|(_, id)| id.as_str()).collect();
        assert_eq!(ids, ["a", "b"]);
        assert_eq!((drained.duplicates, drained.unreadable), (0, 1));
        assert!(drained.unreadable_by_input.is_empty());
    }

    #[test]
    fn events_come_out_in_time_order_across_spilled_runs() {
        // A tiny budget forces a spill every few records; many records keep every worker busy.
        let mut sorter = TimeSorter::new(3 * (ENTRY_OVERHEAD + 140), 3);
        let times: Vec<i64> = (0..2_000).map(|i| (i * 7919) % 2_003).collect();
        for (i, t) in times.iter().enumerate() {
            sorter
                .push(key(&format!("r{i}"), 1_700_000_000 + t, i as u64 + 1, ""))
                .unwrap();
        }
        assert!(sorter.spilled() > 0);
        let (out, _) = drain(sorter.finish().unwrap());
        let got: Vec<i64> = out.iter().map(|(t, _)| t - 1_700_000_000).collect();
        let mut want = times.clone();
        want.sort();
        assert_eq!(got, want);
    }

    #[test]
    fn the_same_record_read_twice_is_delivered_once() {
        let mut sorter = TimeSorter::new(2 * (ENTRY_OVERHEAD + 140), 2);
        for line in 1..=3 {
            sorter.push(key("same", 1_700_000_000, line, "")).unwrap();
        }
        sorter.push(key("other", 1_700_000_000, 4, "")).unwrap();
        let (out, drained) = drain(sorter.finish().unwrap());
        let ids: Vec<&str> = out.iter().map(|(_, id)| id.as_str()).collect();
        assert_eq!(ids, ["other", "same"]);
        assert_eq!(drained.duplicates, 2);
    }

    #[test]
    fn a_record_whose_body_does_not_read_is_charged_to_its_input() {
        // The key of each record reads; the second's Parameters do not. Spilled runs carry the
        // location across the temporary files.
        let mut sorter = TimeSorter::new(2 * (ENTRY_OVERHEAD + 140), 2);
        sorter.push(key("good", 20, 1, "")).unwrap();
        sorter
            .push(key("bad", 10, 2, r#","Parameters":"oops""#))
            .unwrap();
        sorter.push(key("later", 30, 3, "")).unwrap();
        assert!(sorter.spilled() > 0);
        let (out, drained) = drain(sorter.finish().unwrap());
        let ids: Vec<&str> = out.iter().map(|(_, id)| id.as_str()).collect();
        assert_eq!(ids, ["good", "later"]);
        assert_eq!(drained.unreadable, 1);
        assert_eq!(
            drained.unreadable_by_input,
            BTreeMap::from([("a.json".to_owned(), 1)])
        );
    }

    #[test]
    fn a_copy_that_does_not_read_gives_way_to_one_that_does() {
        let mut sorter = TimeSorter::new(1 << 20, 1);
        sorter.push(key("r", 10, 1, "")).unwrap();
        // The richer source sorts first; its copy of the record is broken.
        let mut broken = key("r", 10, 2, r#","Parameters":"oops""#);
        broken.source = SourceFormat::ManagementApi;
        sorter.push(broken).unwrap();
        let (out, drained) = drain(sorter.finish().unwrap());
        assert_eq!(out, [(10, "r".to_owned())]);
        assert_eq!((drained.duplicates, drained.unreadable), (1, 0));
    }
}
