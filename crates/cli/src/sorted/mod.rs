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

mod bodies;
mod run;
mod stream;

use std::cmp::Ordering;
use std::collections::HashMap;
use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use bytes::Bytes;
use mailtrail_event::{SourceFormat, Timestamp};
use mailtrail_formats::{Input, Position, RecordKey, RecordLocation};

use bodies::BLOCK;
use run::{RunReader, write_entry};
use stream::Merge;
pub(crate) use stream::{Drained, SortedEvents};

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

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn raw(id: &str, secs: i64, extra: &str) -> Bytes {
        format!(
            r#"{{"Id":"{id}","CreationTime":"{}","RecordType":2,"Operation":"Send","UserId":"a@b.example"{extra}}}"#,
            Timestamp::new(secs, 0).unwrap()
        )
        .into_bytes()
        .into()
    }

    /// A record read from line `line` of `a.json`, as `Reader::read_keys` gives it.
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
