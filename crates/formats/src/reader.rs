//! [`Reader`]: reads inputs into events, in order, on as many cores as it is given.
//!
//! One thread splits the inputs into records (decompressing, finding record boundaries) and packs
//! them into batches of about a megabyte; worker threads parse and normalise the batches (and, for
//! [`Reader::read_prepared`], prepare each event); the caller's thread receives the results and
//! hands them to the [`Sink`]. Batches go to the workers
//! round-robin and come back round-robin, so order is preserved without a reordering buffer. The
//! channels are bounded, so a slow sink slows the reading instead of filling memory.

use std::collections::BTreeMap;
use std::ops::{ControlFlow, Range};
use std::sync::mpsc;
use std::thread;

use bytes::Bytes;
use mailtrail_event::{AuditEvent, SourceFormat};

use crate::error::{InputError, RecordError, RecordErrorKind, RecordLocation, RecordWarning};
use crate::input::Input;
use crate::json::Split;
use crate::record::{self, Container, RecordKey};
use crate::stream::{self, Emit};

/// One record read: the event (or, from [`Reader::read_keys`], its [`RecordKey`]), or why the
/// record was rejected.
pub type Record<T = AuditEvent> = Result<T, RecordError>;

/// What the workers make of each record: the whole event, or its key.
pub(crate) trait Decoded: Send + Sized + 'static {
    /// Decodes the record at `range` of a batch's bytes.
    fn decode(
        batch: &Bytes,
        range: Range<usize>,
        container: Container,
        location: &RecordLocation,
        raw: RawBytes,
    ) -> Result<Self, RecordErrorKind>;

    fn source(&self) -> SourceFormat;

    /// What of the record could not be read, if anything, for the summary.
    fn warning(&self, location: &RecordLocation) -> Option<RecordWarning>;
}

impl Decoded for AuditEvent {
    fn decode(
        batch: &Bytes,
        range: Range<usize>,
        container: Container,
        _: &RecordLocation,
        raw: RawBytes,
    ) -> Result<Self, RecordErrorKind> {
        let bytes = match raw {
            RawBytes::Copied => Bytes::copy_from_slice(&batch[range]),
            RawBytes::Shared => batch.slice(range),
        };
        record::decode(bytes, container)
    }

    fn source(&self) -> SourceFormat {
        self.source
    }

    fn warning(&self, location: &RecordLocation) -> Option<RecordWarning> {
        (!self.unread.is_empty()).then(|| {
            RecordWarning::new(
                location.clone(),
                self.record_id.clone(),
                self.unread.clone(),
            )
        })
    }
}

impl Decoded for RecordKey {
    fn decode(
        batch: &Bytes,
        range: Range<usize>,
        container: Container,
        location: &RecordLocation,
        _: RawBytes,
    ) -> Result<Self, RecordErrorKind> {
        // Keys are kept together until they are sorted, so they share their batch's bytes: no
        // copy, and no fresh memory to fault in for each record.
        record::decode_key(batch.slice(range), container, location)
    }

    fn source(&self) -> SourceFormat {
        self.source
    }

    /// Keys read only the top of a record; what the rest holds is known once it is normalised.
    fn warning(&self, _: &RecordLocation) -> Option<RecordWarning> {
        None
    }
}

/// How much a list of rejected records, or of records read in part, keeps per input; all are
/// counted.
const KEPT_PER_INPUT: usize = 100;
const BATCH_BYTES: usize = 1 << 20;
const BATCH_ITEMS: usize = 4096;

/// Options of a [`Reader`].
///
/// ```
/// let options = mailtrail_formats::ReadOptions { strict: true, ..Default::default() };
/// assert_eq!(options.max_record_size, 16 << 20);
/// ```
#[derive(Clone, Debug)]
pub struct ReadOptions {
    /// Records larger than this many bytes are rejected without being held in memory. Default
    /// 16 MiB, far above any record Microsoft writes.
    pub max_record_size: usize,
    /// Stop at the first rejected record or unreadable input. Default off.
    pub strict: bool,
    /// Worker threads that parse and normalise; `0` or `1` reads everything on the calling thread.
    /// Default: the number of cores, at most 8.
    pub threads: usize,
    /// Where each event's [`raw`](AuditEvent::raw) bytes live. Default [`RawBytes::Copied`].
    pub raw: RawBytes,
}

/// Where the events a [`Reader`] makes keep their original bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum RawBytes {
    /// A copy of their own: an event kept for long keeps only itself in memory.
    #[default]
    Copied,
    /// A slice of the batch of about a megabyte they were read in: no allocation and no copy per
    /// record, but a batch stays in memory until every event read from it is dropped. For sinks
    /// that drop each event soon, such as a store's ingest.
    Shared,
}

impl Default for ReadOptions {
    fn default() -> Self {
        Self {
            max_record_size: Self::DEFAULT_MAX_RECORD_SIZE,
            strict: false,
            threads: thread::available_parallelism().map_or(1, |n| n.get().min(8)),
            raw: RawBytes::Copied,
        }
    }
}

impl ReadOptions {
    /// The default per-record size limit: 16 MiB.
    pub const DEFAULT_MAX_RECORD_SIZE: usize = 16 << 20;
}

/// Receives what a [`Reader`] reads, in input order.
///
/// Any `FnMut(Record) -> ControlFlow<()>` closure is a sink. Returning `Break` stops the reading.
pub trait Sink<T = AuditEvent> {
    /// One record, read or rejected.
    fn record(&mut self, record: Record<T>) -> ControlFlow<()>;

    /// An input is finished (or abandoned); its summary says what it held and what failed.
    fn input_done(&mut self, summary: &InputSummary) -> ControlFlow<()> {
        let _ = summary;
        ControlFlow::Continue(())
    }
}

impl<T, F: FnMut(Record<T>) -> ControlFlow<()>> Sink<T> for F {
    fn record(&mut self, record: Record<T>) -> ControlFlow<()> {
        self(record)
    }
}

/// What one input held.
#[derive(Debug, Default)]
pub struct InputSummary {
    name: String,
    records: u64,
    rejected: u64,
    by_source: BTreeMap<SourceFormat, u64>,
    rejects: Vec<RecordError>,
    partial: u64,
    warnings: Vec<RecordWarning>,
    errors: Vec<InputError>,
}

impl InputSummary {
    /// The input's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Records read into events.
    pub fn records(&self) -> u64 {
        self.records
    }

    /// Records rejected.
    pub fn rejected(&self) -> u64 {
        self.rejected
    }

    /// Events read, per source format.
    pub fn by_source(&self) -> &BTreeMap<SourceFormat, u64> {
        &self.by_source
    }

    /// The first rejected records (at most 100; [`rejected`](Self::rejected) counts them all).
    pub fn rejects(&self) -> &[RecordError] {
        &self.rejects
    }

    /// Records read in part: read into events, and counted in [`records`](Self::records), but
    /// with parts that could not be read (see [`AuditEvent::unread`]).
    pub fn partial(&self) -> u64 {
        self.partial
    }

    /// The first records read in part (at most 100; [`partial`](Self::partial) counts them all).
    pub fn warnings(&self) -> &[RecordWarning] {
        &self.warnings
    }

    /// Why the input, or a part of it (a zip member), could not be read.
    pub fn errors(&self) -> &[InputError] {
        &self.errors
    }
}

/// What a whole read held.
#[derive(Debug, Default)]
pub struct Summary {
    inputs: Vec<InputSummary>,
    stopped: bool,
}

impl Summary {
    /// One summary per input, in order.
    pub fn inputs(&self) -> &[InputSummary] {
        &self.inputs
    }

    /// Records read into events.
    pub fn records(&self) -> u64 {
        self.inputs.iter().map(InputSummary::records).sum()
    }

    /// Records rejected.
    pub fn rejected(&self) -> u64 {
        self.inputs.iter().map(InputSummary::rejected).sum()
    }

    /// Records read in part.
    pub fn partial(&self) -> u64 {
        self.inputs.iter().map(InputSummary::partial).sum()
    }

    /// The records read in part that the inputs' summaries keep, in order.
    pub fn warnings(&self) -> impl Iterator<Item = &RecordWarning> {
        self.inputs.iter().flat_map(|i| i.warnings.iter())
    }

    /// Every input-level error.
    pub fn errors(&self) -> impl Iterator<Item = &InputError> {
        self.inputs.iter().flat_map(|i| i.errors.iter())
    }

    /// Whether reading stopped before the end: the sink asked, or strict mode met a problem.
    pub fn stopped(&self) -> bool {
        self.stopped
    }
}

/// Reads inputs into [`AuditEvent`]s.
#[derive(Clone, Debug, Default)]
pub struct Reader {
    options: ReadOptions,
}

impl Reader {
    /// A reader with these options.
    pub fn new(options: ReadOptions) -> Self {
        Self { options }
    }

    /// The options in force.
    pub fn options(&self) -> &ReadOptions {
        &self.options
    }

    /// Reads one input.
    pub fn read(&self, input: &Input, sink: &mut impl Sink) -> InputSummary {
        let mut summary = self.read_all(std::slice::from_ref(input), sink);
        summary.inputs.pop().unwrap_or_default()
    }

    /// Reads every input in order, handing each record to `sink` on the calling thread.
    pub fn read_all(&self, inputs: &[Input], sink: &mut impl Sink) -> Summary {
        self.read_as(inputs, &|event| event, sink)
    }

    /// Like [`read_all`](Self::read_all), but reads each record only as far as its [`RecordKey`]:
    /// for putting records in order before normalising them, at about half the cost of an event.
    pub fn read_keys(&self, inputs: &[Input], sink: &mut impl Sink<RecordKey>) -> Summary {
        self.read_as(inputs, &|key| key, sink)
    }

    /// Like [`read_all`](Self::read_all), but each event first goes through `prepare` on the
    /// worker thread that made it, and the sink receives what `prepare` returns.
    ///
    /// For sinks whose work on an event is partly independent of the others (hashing it, building
    /// an index document of it): that part then runs on the workers, in parallel, while the event
    /// is still in the cache of the core that made it, and the event is freed by the thread that
    /// allocated it.
    ///
    /// ```
    /// use mailtrail_formats::{Input, Reader, Record};
    /// let record = r#"{"Id":"1","CreationTime":"2024-01-01T00:00:00","Operation":"Send"}"#;
    /// let input = Input::bytes("a.json", record.as_bytes().to_vec());
    /// let mut ids = Vec::new();
    /// let record_id = |e: mailtrail_event::AuditEvent| e.record_id;
    /// let summary = Reader::default().read_prepared(&[input], &record_id, &mut |r: Record<_>| {
    ///     ids.extend(r.ok());
    ///     std::ops::ControlFlow::Continue(())
    /// });
    /// assert_eq!((ids, summary.records()), (vec!["1".to_owned()], 1));
    /// ```
    pub fn read_prepared<U: Send>(
        &self,
        inputs: &[Input],
        prepare: &(impl Fn(AuditEvent) -> U + Sync),
        sink: &mut impl Sink<U>,
    ) -> Summary {
        self.read_as(inputs, prepare, sink)
    }

    fn read_as<T: Decoded, U: Send>(
        &self,
        inputs: &[Input],
        prepare: &(impl Fn(T) -> U + Sync),
        sink: &mut impl Sink<U>,
    ) -> Summary {
        let mut collector = Collector {
            sink,
            strict: self.options.strict,
            current: None,
            summary: Summary::default(),
            prepared: std::marker::PhantomData,
        };
        let options = &self.options;
        if options.threads <= 1 || !pipeline(inputs, options, prepare, &mut collector) {
            produce(inputs, options.max_record_size, &mut |batch| {
                for out in process(batch, options.raw, prepare) {
                    collector.handle(out)?;
                }
                ControlFlow::Continue(())
            });
        }
        collector.finish()
    }

    /// Reads `inputs` on a background thread; the returned iterator yields the records in order.
    /// Call [`Events::finish`] for the summary.
    pub fn events(&self, inputs: Vec<Input>) -> std::io::Result<Events> {
        let (tx, rx) = mpsc::sync_channel::<Record>(1024);
        let reader = self.clone();
        let handle = thread::Builder::new()
            .name("mailtrail-read".into())
            .spawn(move || {
                let mut sink = |r: Record| match tx.send(r) {
                    Ok(()) => ControlFlow::Continue(()),
                    Err(_) => ControlFlow::Break(()),
                };
                reader.read_all(&inputs, &mut sink)
            })?;
        Ok(Events {
            rx: Some(rx),
            handle: Some(handle),
        })
    }
}

/// The records of a background read, in order (see [`Reader::events`]).
#[derive(Debug)]
pub struct Events {
    rx: Option<mpsc::Receiver<Record>>,
    handle: Option<thread::JoinHandle<Summary>>,
}

impl Iterator for Events {
    type Item = Record;

    fn next(&mut self) -> Option<Record> {
        self.rx.as_ref()?.recv().ok()
    }
}

impl Events {
    /// Stops reading if it is not finished, and returns the summary.
    pub fn finish(mut self) -> Summary {
        self.rx = None;
        match self.handle.take().map(thread::JoinHandle::join) {
            Some(Ok(summary)) => summary,
            Some(Err(panic)) => std::panic::resume_unwind(panic),
            None => Summary::default(),
        }
    }
}

impl Drop for Events {
    fn drop(&mut self) {
        self.rx = None;
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

/// A run of records on its way to a worker.
struct Batch {
    data: Vec<u8>,
    items: Vec<Item>,
}

enum Item {
    InputStart(String),
    Record {
        range: Range<usize>,
        location: RecordLocation,
        container: Container,
    },
    Error(RecordError),
    InputDone(Vec<InputError>),
}

// Nearly every output is a record; boxing records would allocate once per record for nothing.
#[allow(clippy::large_enum_variant)]
enum Output<U> {
    InputStart(String),
    /// What `prepare` made of a record.
    Record(Result<Prepared<U>, RecordError>),
    InputDone(Vec<InputError>),
}

/// A record as the workers hand it over.
struct Prepared<U> {
    /// The format it was in, and what of it could not be read: for the summary.
    source: SourceFormat,
    warning: Option<RecordWarning>,
    /// What `prepare` made of it, for the sink.
    value: U,
}

/// Normalises a batch and prepares its records (on a worker thread).
fn process<T: Decoded, U>(
    batch: Batch,
    raw: RawBytes,
    prepare: &impl Fn(T) -> U,
) -> Vec<Output<U>> {
    let data = Bytes::from(batch.data);
    batch
        .items
        .into_iter()
        .map(|item| match item {
            Item::InputStart(name) => Output::InputStart(name),
            Item::Record {
                range,
                location,
                container,
            } => Output::Record(
                T::decode(&data, range, container, &location, raw)
                    .map(|decoded| Prepared {
                        source: decoded.source(),
                        warning: decoded.warning(&location),
                        value: prepare(decoded),
                    })
                    .map_err(|k| RecordError::new(location, k)),
            ),
            Item::Error(e) => Output::Record(Err(e)),
            Item::InputDone(errors) => Output::InputDone(errors),
        })
        .collect()
}

/// Packs what the splitters find into batches and passes them to `send`.
struct Packer<'s> {
    batch: Batch,
    send: &'s mut dyn FnMut(Batch) -> ControlFlow<()>,
}

impl Packer<'_> {
    fn push(&mut self, item: Item) -> ControlFlow<()> {
        self.batch.items.push(item);
        if self.batch.data.len() >= BATCH_BYTES || self.batch.items.len() >= BATCH_ITEMS {
            self.flush()?;
        }
        ControlFlow::Continue(())
    }

    fn flush(&mut self) -> ControlFlow<()> {
        if self.batch.items.is_empty() {
            return ControlFlow::Continue(());
        }
        let batch = std::mem::replace(
            &mut self.batch,
            Batch {
                data: Vec::with_capacity(BATCH_BYTES + 64 * 1024),
                items: Vec::new(),
            },
        );
        (self.send)(batch)
    }
}

impl Emit for Packer<'_> {
    fn split(&mut self, split: Split<'_>) -> ControlFlow<()> {
        match split {
            Split::Record {
                bytes,
                location,
                container,
            } => {
                let start = self.batch.data.len();
                self.batch.data.extend_from_slice(bytes);
                let range = start..self.batch.data.len();
                self.push(Item::Record {
                    range,
                    location,
                    container,
                })
            }
            Split::Error(e) => self.push(Item::Error(e)),
        }
    }
}

/// Reads every input into batches (on the reading thread).
fn produce(inputs: &[Input], max: usize, send: &mut dyn FnMut(Batch) -> ControlFlow<()>) {
    let mut packer = Packer {
        batch: Batch {
            data: Vec::new(),
            items: Vec::new(),
        },
        send,
    };
    for input in inputs {
        if packer.push(Item::InputStart(input.name())).is_break() {
            return;
        }
        let mut errors = Vec::new();
        let flow = stream::read_input(input, max, &mut packer, &mut errors);
        if flow.is_break() || packer.push(Item::InputDone(errors)).is_break() {
            return;
        }
    }
    let _ = packer.flush();
}

/// Runs the reading thread and `workers` normalising threads; the caller's thread collects.
/// Returns `false` (having read nothing) if the threads could not be started.
fn pipeline<T: Decoded, U: Send>(
    inputs: &[Input],
    options: &ReadOptions,
    prepare: &(impl Fn(T) -> U + Sync),
    collector: &mut Collector<'_, impl Sink<U>, U>,
) -> bool {
    let (workers, raw) = (options.threads, options.raw);
    thread::scope(|scope| {
        let mut to_workers = Vec::with_capacity(workers);
        let mut from_workers = Vec::with_capacity(workers);
        for i in 0..workers {
            let (in_tx, in_rx) = mpsc::sync_channel::<Batch>(2);
            let (out_tx, out_rx) = mpsc::sync_channel::<Vec<Output<U>>>(2);
            let spawned = thread::Builder::new()
                .name(format!("mailtrail-normalise-{i}"))
                .spawn_scoped(scope, move || {
                    for batch in in_rx {
                        if out_tx.send(process(batch, raw, prepare)).is_err() {
                            break;
                        }
                    }
                });
            if spawned.is_err() {
                return false;
            }
            to_workers.push(in_tx);
            from_workers.push(out_rx);
        }
        let spawned = thread::Builder::new()
            .name("mailtrail-split".into())
            .spawn_scoped(scope, move || {
                let mut seq = 0usize;
                produce(inputs, options.max_record_size, &mut |batch| {
                    let sent = to_workers[seq % to_workers.len()].send(batch);
                    seq += 1;
                    match sent {
                        Ok(()) => ControlFlow::Continue(()),
                        Err(_) => ControlFlow::Break(()),
                    }
                });
            });
        if spawned.is_err() {
            return false;
        }
        let mut seq = 0usize;
        'outer: while let Ok(outputs) = from_workers[seq % from_workers.len()].recv() {
            seq += 1;
            for out in outputs {
                if collector.handle(out).is_break() {
                    break 'outer;
                }
            }
        }
        // Dropping the receivers makes the workers, and then the reading thread, stop.
        drop(from_workers);
        true
    })
}

/// Turns outputs into sink calls and summaries (on the caller's thread).
struct Collector<'s, S, U> {
    sink: &'s mut S,
    strict: bool,
    current: Option<InputSummary>,
    summary: Summary,
    prepared: std::marker::PhantomData<U>,
}

impl<U, S: Sink<U>> Collector<'_, S, U> {
    fn handle(&mut self, out: Output<U>) -> ControlFlow<()> {
        let flow = self.deliver(out);
        if flow.is_break() {
            self.summary.stopped = true;
        }
        flow
    }

    fn deliver(&mut self, out: Output<U>) -> ControlFlow<()> {
        match out {
            Output::InputStart(name) => {
                self.current = Some(InputSummary {
                    name,
                    ..InputSummary::default()
                });
                ControlFlow::Continue(())
            }
            Output::Record(mut record) => {
                let current = self.current.get_or_insert_with(InputSummary::default);
                let rejected = match &mut record {
                    Ok(prepared) => {
                        current.records += 1;
                        *current.by_source.entry(prepared.source).or_default() += 1;
                        if let Some(w) = prepared.warning.take() {
                            current.partial += 1;
                            if current.warnings.len() < KEPT_PER_INPUT {
                                current.warnings.push(w);
                            }
                        }
                        false
                    }
                    Err(e) => {
                        current.rejected += 1;
                        if current.rejects.len() < KEPT_PER_INPUT {
                            current.rejects.push(e.clone());
                        }
                        true
                    }
                };
                self.sink.record(record.map(|prepared| prepared.value))?;
                if rejected && self.strict {
                    return ControlFlow::Break(());
                }
                ControlFlow::Continue(())
            }
            Output::InputDone(errors) => {
                let mut done = self.current.take().unwrap_or_default();
                done.errors = errors;
                let failed = !done.errors.is_empty();
                let flow = self.sink.input_done(&done);
                self.summary.inputs.push(done);
                flow?;
                if failed && self.strict {
                    return ControlFlow::Break(());
                }
                ControlFlow::Continue(())
            }
        }
    }

    fn finish(mut self) -> Summary {
        // An input abandoned part-way still gets its summary.
        if let Some(current) = self.current.take() {
            let _ = self.sink.input_done(&current);
            self.summary.inputs.push(current);
        }
        self.summary
    }
}
