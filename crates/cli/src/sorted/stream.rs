//! The merge of the sorted runs, and the workers that normalise what it hands them.

use std::cmp::{Ordering, Reverse};
use std::collections::{BTreeMap, BinaryHeap};
use std::sync::mpsc;
use std::thread;

use anyhow::Context;
use bytes::Bytes;
use mailtrail_event::{AuditEvent, SourceFormat, Timestamp};
use mailtrail_formats::{RecordLocation, RecordWarning};

use super::bodies::Bodies;
use super::run::RunReader;
use super::{BATCH, Body, Entry, Inputs, order};
use crate::output::SHOWN_ONE_BY_ONE;

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
pub(super) struct Merge {
    runs: Vec<RunReader>,
    heap: BinaryHeap<Reverse<Head>>,
    memory: std::iter::Peekable<std::vec::IntoIter<Entry>>,
    inputs: Inputs,
    bodies: Bodies,
}

impl Merge {
    pub(super) fn new(
        mut runs: Vec<RunReader>,
        memory: Vec<Entry>,
        mut inputs: Inputs,
        block: u64,
    ) -> anyhow::Result<Self> {
        let mut heap = BinaryHeap::new();
        for (i, run) in runs.iter_mut().enumerate() {
            if let Some(e) = run.next_entry()? {
                heap.push(Reverse(Head(e, i)));
            }
        }
        // The files move to the body reader; the merge keeps the names, for locations.
        let bodies = Bodies::new(std::mem::take(&mut inputs.files), block);
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
    /// An event, and what to say of it when it was read in part.
    Event {
        event: AuditEvent,
        warning: Option<String>,
    },
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
                // Said the way the reader says it of the records it reads in part.
                let warning = (!ev.unread.is_empty()).then(|| {
                    let unread = ev.unread.clone();
                    match copy.location {
                        Some(location) => {
                            RecordWarning::new(location, ev.record_id.to_string(), unread)
                                .to_string()
                        }
                        None => format!(
                            "record {} read in part: {}",
                            ev.record_id,
                            unread.join("; ")
                        ),
                    }
                });
                return (Normalised::Event { event: ev, warning }, duplicates);
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
    /// Records read in part (see `AuditEvent::unread`); the first [`SHOWN_ONE_BY_ONE`] are
    /// reported on stderr.
    pub(crate) partial: u64,
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
    pub(super) fn start(
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
                    Normalised::Event { event, warning } => {
                        if let Some(warning) = warning {
                            self.drained.partial += 1;
                            if self.drained.partial <= SHOWN_ONE_BY_ONE {
                                eprintln!("warning: {warning}");
                            }
                        }
                        return Ok(Some(event));
                    }
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

    /// Records passed over so far because they do not normalise.
    pub(crate) fn unreadable(&self) -> u64 {
        self.drained.unreadable
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
