//! Events in time order with bounded memory: the batch source of the detection engine.
//!
//! Exports do not come in time order — Purview writes newest first, several files overlap, sign-in
//! logs sit beside the audit log — but stateful detection must see what happened in the order it
//! happened. Records are read only as far as their time and id ([`RecordKey`]) and buffered as
//! `(time, record id, source, body, origin)` up to a memory budget and sorted; past the budget the
//! sorted run is spilled to a temporary file, zstd-compressed, and the runs are merged at the end.
//! A record of an uncompressed file is not held at all: its body is where it lies in the file, read
//! again after the sort, so the common case — NDJSON or JSON exports — sorts a few dozen bytes per
//! record. A background thread merges and fetches the bodies; worker threads normalise each record
//! from its bytes, in batches, while the engine works on the previous ones. The same record read
//! twice (overlapping exports, a CSV and an API blob of one record) is delivered once, from its
//! richest source.

use std::cmp::{Ordering, Reverse};
use std::collections::{BTreeMap, BinaryHeap, HashMap, VecDeque};
use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::PathBuf;
use std::sync::{Arc, mpsc};
use std::thread;

use anyhow::Context;
use bytes::Bytes;
use mailtrail_event::{AuditEvent, SourceFormat, Timestamp};
use mailtrail_formats::{Input, Position, RecordKey, RecordLocation};

/// What the sorter keeps of one record.
struct Entry {
    time: Timestamp,
    record_id: Box<str>,
    source: SourceFormat,
    body: Body,
    /// Where it was read; `None` for a stored record.
    origin: Option<Origin>,
}

/// A record's bytes.
enum Body {
    Held(Bytes),
    /// In the input file of the entry's origin, at `offset`: read again after the sort.
    InFile {
        offset: u64,
        len: u32,
    },
    /// Could not be read again; why.
    Lost(String),
}

/// A [`RecordLocation`] with its input as an index into the sorter's inputs.
#[derive(Clone, Copy)]
struct Origin {
    input: u32,
    line: u64,
    offset: u64,
    position: Position,
}

/// Bytes an entry costs beyond its held bytes: the entry, the record id, allocator overhead.
const ENTRY_OVERHEAD: usize = 128;

/// zstd's fast mode for spilled runs: on audit records it compresses about 5 to 1 at nearly twice
/// the speed of level 1 (7 to 1), and spilling sits on the reading path.
const SPILL_LEVEL: i32 = -3;

/// Records normalised together by one worker: large enough that handing batches between threads
/// costs nothing next to normalising them, small enough to keep every worker busy.
const BATCH: usize = 256;

impl Entry {
    fn cost(&self) -> usize {
        let held = match &self.body {
            Body::Held(b) => b.len(),
            Body::InFile { .. } | Body::Lost(_) => 0,
        };
        held + self.record_id.len() + ENTRY_OVERHEAD
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

/// The inputs records came from: names for messages, and the files bodies are read back from.
#[derive(Default)]
struct Inputs {
    names: Vec<Arc<str>>,
    files: Vec<Option<PathBuf>>,
    by_name: HashMap<Arc<str>, u32>,
}

impl Inputs {
    fn index(&mut self, name: &str, file: Option<PathBuf>) -> u32 {
        if let Some(&i) = self.by_name.get(name) {
            return i;
        }
        let name: Arc<str> = name.into();
        let i = u32::try_from(self.names.len()).unwrap_or(u32::MAX);
        self.names.push(name.clone());
        self.files.push(file);
        self.by_name.insert(name, i);
        i
    }

    fn location(&self, o: &Origin) -> Option<RecordLocation> {
        let name = self.names.get(o.input as usize)?;
        Some(RecordLocation::new(
            name.clone(),
            o.line,
            o.offset,
            o.position,
        ))
    }
}

/// Buffers records, spilling sorted runs to disk past the budget.
pub(crate) struct TimeSorter {
    buffer: Vec<Entry>,
    buffered_bytes: usize,
    budget: usize,
    threads: usize,
    runs: Vec<tempfile::NamedTempFile>,
    inputs: Inputs,
    spilled: u64,
    /// How much of a file is read at once to get bodies back.
    block: u64,
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
            inputs: Inputs::default(),
            spilled: 0,
            block: BLOCK,
        }
    }

    /// A sorter for records read from `inputs`: records of those that are files are read back
    /// from them rather than held.
    pub(crate) fn reading(inputs: &[Input], budget: usize, threads: usize) -> Self {
        let mut sorter = Self::new(budget, threads);
        for input in inputs {
            sorter
                .inputs
                .index(&input.name(), input.file().map(PathBuf::from));
        }
        sorter
    }

    /// Adds a record read from an input.
    pub(crate) fn push(&mut self, key: RecordKey) -> anyhow::Result<()> {
        let input = self.inputs.index(key.location.input(), None);
        let in_file = self
            .inputs
            .files
            .get(input as usize)
            .is_some_and(Option::is_some);
        let body = match (key.location.file_offset(), u32::try_from(key.raw.len())) {
            (Some(offset), Ok(len)) if in_file => Body::InFile { offset, len },
            _ => Body::Held(key.raw),
        };
        self.push_entry(Entry {
            time: key.time,
            record_id: key.record_id.into_boxed_str(),
            source: key.source,
            body,
            origin: Some(Origin {
                input,
                line: key.location.line(),
                offset: key.location.offset(),
                position: key.location.position(),
            }),
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
            body: Body::Held(raw),
            origin: None,
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
        for entry in self.buffer.drain(..) {
            write_entry(&mut out, &entry)?;
            self.spilled += 1;
        }
        out.finish()?.flush()?;
        self.runs.push(file);
        self.buffered_bytes = 0;
        Ok(())
    }

    /// Every event in `(time, record id)` order, each record once.
    pub(crate) fn finish(mut self) -> anyhow::Result<SortedEvents> {
        self.buffer.sort_unstable_by(order);
        let mut runs = Vec::new();
        for file in &self.runs {
            runs.push(RunReader::open(file)?);
        }
        let merge = Merge::new(runs, self.buffer, self.inputs, self.block)?;
        SortedEvents::start(merge, self.runs, self.threads)
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

struct RunReader {
    input: zstd::Decoder<'static, BufReader<File>>,
}

impl RunReader {
    fn open(file: &tempfile::NamedTempFile) -> anyhow::Result<Self> {
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

    fn next_entry(&mut self) -> anyhow::Result<Option<Entry>> {
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

/// Reads records' bodies back from their input files. Records come in time order, which in an
/// export is nearly file order, so bodies are read in blocks and shared; a file whose records
/// come in no useful order is read record by record instead.
struct Bodies {
    files: Vec<Option<PathBuf>>,
    /// The files open now, each with the clock of its last use: a hunt over thousands of API
    /// content blobs keeps only the most recently used open.
    open: HashMap<u32, (BlockReader, u64)>,
    clock: u64,
    block: u64,
}

/// Input files kept open at once to read bodies back.
const FILES_OPEN: usize = 32;

impl Bodies {
    fn fetch(&mut self, input: u32, offset: u64, len: u32) -> Result<Bytes, String> {
        let path = self
            .files
            .get(input as usize)
            .and_then(Option::as_ref)
            .ok_or("its input is not a file")?;
        self.clock += 1;
        if !self.open.contains_key(&input) {
            if self.open.len() >= FILES_OPEN
                && let Some(&oldest) = self
                    .open
                    .iter()
                    .min_by_key(|(_, (_, used))| *used)
                    .map(|(i, _)| i)
            {
                self.open.remove(&oldest);
            }
            let file = File::open(path)
                .map_err(|e| format!("cannot open {} again: {e}", path.display()))?;
            self.open
                .insert(input, (BlockReader::new(file, self.block), self.clock));
        }
        let Some((reader, used)) = self.open.get_mut(&input) else {
            return Err("its input could not be opened".to_owned());
        };
        *used = self.clock;
        reader.read(offset, len).map_err(|e| {
            format!(
                "cannot read it again from {} at byte {offset}: {e}",
                path.display()
            )
        })
    }
}

/// Block reads of one file, the last few blocks kept.
struct BlockReader {
    file: File,
    block: u64,
    blocks: VecDeque<(u64, Bytes)>,
    block_reads: u64,
    served: u64,
    one_by_one: bool,
}

const BLOCK: u64 = 256 << 10;
const BLOCKS_KEPT: usize = 4;

impl BlockReader {
    fn new(file: File, block: u64) -> Self {
        Self {
            file,
            block: block.max(1),
            blocks: VecDeque::new(),
            block_reads: 0,
            served: 0,
            one_by_one: false,
        }
    }

    fn read(&mut self, offset: u64, len: u32) -> std::io::Result<Bytes> {
        let end = offset + u64::from(len);
        for (start, block) in &self.blocks {
            if *start <= offset && end <= start + block.len() as u64 {
                self.served += 1;
                return Ok(block.slice((offset - start) as usize..(end - start) as usize));
            }
        }
        // A block that serves fewer than a few records is a waste: the file is out of order.
        if self.block_reads >= 64 && self.served < 4 * self.block_reads {
            self.one_by_one = true;
        }
        let (start, want) = if self.one_by_one {
            (offset, u64::from(len))
        } else {
            let start = offset - offset % self.block;
            (start, self.block.max(end - start))
        };
        self.file.seek(SeekFrom::Start(start))?;
        let mut buf = Vec::with_capacity(usize::try_from(want).unwrap_or(0));
        (&mut self.file).take(want).read_to_end(&mut buf)?;
        if (buf.len() as u64) < end - start {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "the file is shorter than when it was first read",
            ));
        }
        let block = Bytes::from(buf);
        let body = block.slice((offset - start) as usize..(end - start) as usize);
        if !self.one_by_one {
            self.block_reads += 1;
            self.blocks.push_front((start, block));
            self.blocks.truncate(BLOCKS_KEPT);
        }
        Ok(body)
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
    inputs: Inputs,
    bodies: Bodies,
}

impl Merge {
    fn new(
        mut runs: Vec<RunReader>,
        memory: Vec<Entry>,
        inputs: Inputs,
        block: u64,
    ) -> anyhow::Result<Self> {
        let mut heap = BinaryHeap::new();
        for (i, run) in runs.iter_mut().enumerate() {
            if let Some(e) = run.next_entry()? {
                heap.push(Reverse(Head(e, i)));
            }
        }
        let bodies = Bodies {
            files: inputs.files.clone(),
            open: HashMap::new(),
            clock: 0,
            block,
        };
        Ok(Self {
            runs,
            heap,
            memory: memory.into_iter().peekable(),
            inputs,
            bodies,
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

    /// The next record with its bytes in hand.
    fn next_copy(&mut self) -> anyhow::Result<Option<Fetched>> {
        let Some(entry) = self.next()? else {
            return Ok(None);
        };
        let raw = match entry.body {
            Body::Held(raw) => Ok(raw),
            Body::InFile { offset, len } => match entry.origin {
                Some(o) => self.bodies.fetch(o.input, offset, len),
                None => Err("it has no input".to_owned()),
            },
            Body::Lost(why) => Err(why),
        };
        Ok(Some(Fetched {
            time: entry.time,
            record_id: entry.record_id,
            source: entry.source,
            raw,
            location: entry.origin.and_then(|o| self.inputs.location(&o)),
        }))
    }

    /// Hands the merged records to the workers in batches, round-robin, every copy of a record
    /// together (the worker keeps the first copy that reads). Fails if a sorted run cannot be read.
    fn run(mut self, workers: &[mpsc::SyncSender<Vec<Vec<Fetched>>>]) -> anyhow::Result<()> {
        let mut seq = 0usize;
        let mut batch: Vec<Vec<Fetched>> = Vec::with_capacity(BATCH);
        loop {
            let Some(entry) = self.next_copy()? else {
                break;
            };
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

/// One copy of a record on its way to a worker.
struct Fetched {
    time: Timestamp,
    record_id: Box<str>,
    source: SourceFormat,
    /// Its bytes, or why they could not be read again.
    raw: Result<Bytes, String>,
    location: Option<RecordLocation>,
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
fn normalise(copies: Vec<Fetched>) -> (Normalised, u64) {
    let duplicates = copies.len().saturating_sub(1) as u64;
    let mut first_error = None;
    for copy in copies {
        let why = match copy
            .raw
            .map(|raw| mailtrail_formats::normalize(copy.source, raw))
        {
            // Read again from its file, a record must still be the one that was sorted.
            Ok(Ok(ev)) if *ev.record_id != *copy.record_id => format!(
                "its id is now {} where it was {}: the input changed while it was hunted",
                ev.record_id, copy.record_id
            ),
            Ok(Ok(mut ev)) => {
                ev.time = copy.time;
                return (Normalised::Event(ev), duplicates);
            }
            Ok(Err(kind)) => kind.to_string(),
            Err(why) => why,
        };
        if first_error.is_none() {
            // Said the way the reader says it of a record it rejects: where, then why.
            let message = match &copy.location {
                Some(location) => format!("{location}: {why}"),
                None => format!("record {}: {why}", copy.record_id),
            };
            first_error = Some(Normalised::Unreadable {
                input: copy.location.map(|l| l.input().to_owned()),
                message,
            });
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
            let (in_tx, in_rx) = mpsc::sync_channel::<Vec<Vec<Fetched>>>(2);
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

    /// Writes `lines` to a file and sorts what `Reader::read_keys` reads of it.
    fn sort_file(lines: &[String], budget: usize, block: u64) -> (tempfile::TempDir, TimeSorter) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.ndjson");
        std::fs::write(&path, lines.join("\n")).unwrap();
        let inputs = [Input::path(&path)];
        let mut sorter = TimeSorter::reading(&inputs, budget, 2);
        sorter.block = block;
        mailtrail_formats::Reader::default().read_keys(
            &inputs,
            &mut |r: mailtrail_formats::Record<RecordKey>| {
                sorter.push(r.unwrap()).unwrap();
                std::ops::ControlFlow::Continue(())
            },
        );
        (dir, sorter)
    }

    fn line(i: usize, secs: i64) -> String {
        String::from_utf8(raw(&format!("r{i}"), secs, "").to_vec()).unwrap()
    }

    #[test]
    fn records_of_a_file_are_read_back_from_it_in_order() {
        // Newest first, as Purview writes: the file is read backwards, block by block.
        let lines: Vec<String> = (0..3_000).map(|i| line(i, 100_000 - i as i64)).collect();
        let (_dir, sorter) = sort_file(&lines, 1 << 20, 4096);
        assert_eq!(sorter.spilled(), 0, "only keys are held");
        let mut s = sorter.finish().unwrap();
        let mut n = 0;
        let mut last = None;
        while let Some(ev) = s.next_event().unwrap() {
            assert!(last.is_none_or(|t| t <= ev.time));
            let i: usize = ev.record_id[1..].parse().unwrap();
            assert_eq!(&ev.raw[..], lines[i].as_bytes());
            last = Some(ev.time);
            n += 1;
        }
        assert_eq!(n, 3_000);
        assert_eq!(s.finish(), Drained::default());
    }

    #[test]
    fn a_shuffled_file_is_read_record_by_record_and_spilled_runs_keep_file_bodies() {
        // No useful order (each block of 256 bytes serves one record), and a budget small enough
        // to spill entries that point into the file.
        let lines: Vec<String> = (0..2_000)
            .map(|i| line(i, ((i * 7919) % 2_003) as i64))
            .collect();
        let (_dir, sorter) = sort_file(&lines, 4 * (ENTRY_OVERHEAD + 8), 256);
        assert!(sorter.spilled() > 0);
        let (out, drained) = drain(sorter.finish().unwrap());
        assert_eq!(out.len(), 2_000);
        assert!(out.windows(2).all(|w| w[0].0 <= w[1].0));
        assert_eq!(drained, Drained::default());
    }

    #[test]
    fn records_spread_over_more_files_than_stay_open_are_all_read_back() {
        // Record i is in file i % 50, and time order visits the files round-robin.
        let dir = tempfile::tempdir().unwrap();
        let mut inputs = Vec::new();
        for f in 0..50 {
            let lines: Vec<String> = (0..20)
                .map(|k| line(k * 50 + f, (k * 50 + f) as i64))
                .collect();
            let path = dir.path().join(format!("{f}.ndjson"));
            std::fs::write(&path, lines.join("\n")).unwrap();
            inputs.push(Input::path(&path));
        }
        let mut sorter = TimeSorter::reading(&inputs, 1 << 20, 2);
        mailtrail_formats::Reader::default().read_keys(
            &inputs,
            &mut |r: mailtrail_formats::Record<RecordKey>| {
                sorter.push(r.unwrap()).unwrap();
                std::ops::ControlFlow::Continue(())
            },
        );
        let (out, drained) = drain(sorter.finish().unwrap());
        let ids: Vec<String> = out.into_iter().map(|(_, id)| id).collect();
        let want: Vec<String> = (0..1_000).map(|i| format!("r{i}")).collect();
        assert_eq!(ids, want);
        assert_eq!(drained, Drained::default());
    }

    #[test]
    fn a_file_that_changes_before_it_is_read_back_is_reported_not_trusted() {
        let lines: Vec<String> = (0..10).map(|i| line(i, i as i64)).collect();
        let (dir, sorter) = sort_file(&lines, 1 << 20, 4096);
        // Another record now stands where record 3 was; the file is shorter, too.
        let mut changed = lines[..8].to_vec();
        changed[3] = changed[3].replace("\"r3\"", "\"x3\"");
        std::fs::write(dir.path().join("audit.ndjson"), changed.join("\n")).unwrap();
        let (out, drained) = drain(sorter.finish().unwrap());
        let ids: Vec<&str> = out.iter().map(|(_, id)| id.as_str()).collect();
        assert_eq!(ids, ["r0", "r1", "r2", "r4", "r5", "r6", "r7"]);
        assert_eq!(drained.unreadable, 3, "r3 changed, r8 and r9 gone");
        let name = dir.path().join("audit.ndjson").display().to_string();
        assert_eq!(drained.unreadable_by_input, BTreeMap::from([(name, 3)]));
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
