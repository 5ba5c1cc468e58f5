//! The de-duplication set: every stored record id and its seq, as sorted, immutable *runs*.
//!
//! Each commit writes the ids it added as one new run, sorted by packed id. A run that is not
//! bigger than the ids newer than it is merged with them into the new run (a binary counter: the
//! runs of a store are about log₂(commits) files of decreasing size), so every id is rewritten a
//! logarithmic number of times, always sequentially. A B-tree keyed by random GUIDs rewrote most of
//! its pages at every large commit instead: at 10 M records, a commit of 500,000 ids took seconds.
//! A lookup binary-searches an in-memory sample of every 128th key of each run (every
//! `count / 2¹⁸`th in a run of more than 33 M ids, so that memory grows with the number of runs, not
//! of ids) and reads one stretch between two sampled keys; the writer's Bloom filter keeps nearly
//! all lookups away.
//!
//! The state database lists the live runs; a run file is written and synced before the commit
//! that lists it, and removed only after the commit that drops it.
//!
//! # File layout (`ids/NNNNNNNN.run`, integers little-endian)
//!
//! ```text
//! header   8 bytes  "MTIDRUN" 0x01
//! entries  sorted by key, no key twice: key length (u16), key (packed record id), seq (u64)
//! sample   every stride-th entry from the first (stride: see `stride`): its file offset (u64),
//!          key length (u16), key
//! trailer  32 bytes: sample offset (u64), entry count (u64), stride (u64), CRC-32 of entries and
//!          sample (u32), "MTIR"
//! ```

use std::fs::{File, OpenOptions};
use std::io::{BufReader, BufWriter, Read as _, Write as _};
use std::os::unix::fs::FileExt as _;
use std::path::{Path, PathBuf};

use crate::error::StoreError;
use crate::segment::{le_u32, le_u64};

/// The directory of run files inside the store.
pub(crate) const IDS_DIR: &str = "ids";
const HEADER: &[u8; 8] = b"MTIDRUN\x01";
const TRAILER_MAGIC: &[u8; 4] = b"MTIR";
const TRAILER_LEN: u64 = 32;
/// Entries per sampled key, at the least: a lookup reads this many (about 3.5 KiB of GUID ids),
/// and the sample takes about 1/128 of the run's size in memory.
#[cfg(not(test))]
const MIN_STRIDE: u64 = 128;
#[cfg(test)]
const MIN_STRIDE: u64 = 4;
/// Sampled keys per run, at the most (about 8 MB of GUID ids): past 33 M ids a run samples fewer
/// keys, and a lookup reads more entries (100 KiB at a billion).
#[cfg(not(test))]
const MAX_SAMPLES: u64 = 1 << 18;
#[cfg(test)]
const MAX_SAMPLES: u64 = 8;

/// Entries per sampled key in a run of `count` ids.
fn stride(count: u64) -> u64 {
    MIN_STRIDE.max(count.div_ceil(MAX_SAMPLES))
}
/// Longest key a run holds: a packed record id of at most 1024 bytes and its tag byte.
const MAX_KEY_LEN: usize = 1025;

pub(crate) fn run_path(dir: &Path, id: u64) -> PathBuf {
    dir.join(IDS_DIR).join(format!("{id:08}.run"))
}

/// One run, open for lookups.
pub(crate) struct Run {
    pub(crate) id: u64,
    pub(crate) count: u64,
    file: File,
    path: PathBuf,
    /// Where the entries end and the sample begins.
    entries_end: u64,
    crc: u32,
    /// The CRC of the sample alone, read at open, to finish the whole file's CRC without reading
    /// the sample again.
    sample_crc: crc32fast::Hasher,
    /// The sampled keys, one after another.
    sample_keys: Vec<u8>,
    /// Each sampled entry: where its key is in `sample_keys`, and its file offset.
    sample: Vec<Sampled>,
}

struct Sampled {
    key: std::ops::Range<u32>,
    offset: u64,
}

impl Run {
    /// Opens a run the state lists, with `count` ids, and reads its sample.
    pub(crate) fn open(dir: &Path, id: u64, count: u64) -> Result<Run, StoreError> {
        let path = run_path(dir, id);
        let file = File::open(&path).map_err(|e| StoreError::io(&path, e))?;
        Run::load(file, path, id, Some(count))
    }

    /// Reads a run's trailer and sample, checking it holds `expected` ids when given.
    fn load(file: File, path: PathBuf, id: u64, expected: Option<u64>) -> Result<Run, StoreError> {
        let damaged = |detail: String| StoreError::Damaged {
            location: path.display().to_string(),
            detail,
        };
        let len = file.metadata().map_err(|e| StoreError::io(&path, e))?.len();
        if len < HEADER.len() as u64 + TRAILER_LEN {
            return Err(damaged(format!(
                "{len} bytes is too short for a run of record ids"
            )));
        }
        let mut header = [0u8; 8];
        file.read_exact_at(&mut header, 0)
            .map_err(|e| StoreError::io(&path, e))?;
        let mut trailer = [0u8; TRAILER_LEN as usize];
        file.read_exact_at(&mut trailer, len - TRAILER_LEN)
            .map_err(|e| StoreError::io(&path, e))?;
        if &header != HEADER || &trailer[28..] != TRAILER_MAGIC {
            return Err(damaged("not a run of record ids".into()));
        }
        let entries_end = le_u64(&trailer[0..]);
        let count = le_u64(&trailer[8..]);
        let stride = le_u64(&trailer[16..]);
        let crc = le_u32(&trailer[24..]);
        if let Some(expected) = expected
            && count != expected
        {
            return Err(damaged(format!(
                "holds {count} record ids, the state says {expected}"
            )));
        }
        let sample_end = len - TRAILER_LEN;
        if entries_end < HEADER.len() as u64 || entries_end > sample_end {
            return Err(damaged(format!(
                "its sample offset {entries_end} is out of place"
            )));
        }
        let mut sample = vec![0u8; (sample_end - entries_end) as usize];
        file.read_exact_at(&mut sample, entries_end)
            .map_err(|e| StoreError::io(&path, e))?;
        let mut sample_crc = crc32fast::Hasher::new();
        sample_crc.update(&sample);
        let mut run = Run {
            id,
            count,
            file,
            path: path.clone(),
            entries_end,
            crc,
            sample_crc,
            sample_keys: Vec::new(),
            sample: Vec::new(),
        };
        let mut at = 0;
        while at < sample.len() {
            let (offset, key, next) = sample_entry(&sample, at)
                .ok_or_else(|| damaged(format!("its key sample is cut at byte {at}")))?;
            let previous = run.sample.last().map_or(0, |s| s.offset);
            if offset < HEADER.len() as u64 || offset >= entries_end || offset <= previous {
                return Err(damaged(format!("sampled offset {offset} is out of order")));
            }
            let start = run.sample_keys.len() as u32;
            run.sample_keys.extend_from_slice(key);
            run.sample.push(Sampled {
                key: start..run.sample_keys.len() as u32,
                offset,
            });
            at = next;
        }
        if stride == 0 || run.sample.len() as u64 != count.div_ceil(stride) {
            return Err(damaged("its key sample does not match its id count".into()));
        }
        Ok(run)
    }

    /// The seq stored under `key`. `buf` is scratch space, reused across calls.
    pub(crate) fn get(&self, key: &[u8], buf: &mut Vec<u8>) -> Result<Option<u64>, StoreError> {
        // Sampled keys at or before `key`; the entry can only be in the stretch of the last one.
        let i = self.sample.partition_point(|s| {
            &self.sample_keys[s.key.start as usize..s.key.end as usize] <= key
        });
        if i == 0 {
            return Ok(None);
        }
        let start = self.sample[i - 1].offset;
        let end = self.sample.get(i).map_or(self.entries_end, |s| s.offset);
        buf.resize((end - start) as usize, 0);
        self.file
            .read_exact_at(buf, start)
            .map_err(|e| StoreError::io(&self.path, e))?;
        let mut at = 0;
        while at < buf.len() {
            let (k, seq, next) = entry(buf, at).ok_or_else(|| self.damaged(start + at as u64))?;
            match k.cmp(key) {
                std::cmp::Ordering::Less => at = next,
                std::cmp::Ordering::Equal => return Ok(Some(seq)),
                std::cmp::Ordering::Greater => break,
            }
        }
        Ok(None)
    }

    fn damaged(&self, offset: u64) -> StoreError {
        StoreError::Damaged {
            location: format!("{} offset {offset}", self.path.display()),
            detail: "a record id entry is cut or out of order".into(),
        }
    }

    /// Reads every entry in key order, checking the run's CRC at the end.
    pub(crate) fn reader(&self) -> Result<RunReader<'_>, StoreError> {
        let at = HEADER.len() as u64;
        let input = BufReader::with_capacity(
            1 << 20,
            At {
                file: &self.file,
                offset: at,
            },
        );
        Ok(RunReader {
            run: self,
            input,
            at,
            crc: crc32fast::Hasher::new(),
            read: 0,
            key: Vec::new(),
            current: None,
        })
    }
}

/// Reads a file from an offset on with positional reads, leaving the file's own offset alone.
struct At<'a> {
    file: &'a File,
    offset: u64,
}

impl std::io::Read for At<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.file.read_at(buf, self.offset)?;
        self.offset += n as u64;
        Ok(n)
    }
}

/// Reads a run's entries in order.
pub(crate) struct RunReader<'a> {
    run: &'a Run,
    input: BufReader<At<'a>>,
    at: u64,
    crc: crc32fast::Hasher,
    read: u64,
    /// The current entry: its key and seq, then the key's length.
    key: Vec<u8>,
    current: Option<usize>,
}

impl RunReader<'_> {
    /// The entry the last [`next_entry`](Self::next_entry) returned.
    pub(crate) fn current(&self) -> Option<(&[u8], u64)> {
        self.current
            .map(|len| (&self.key[..len], le_u64(&self.key[len..])))
    }

    /// The next entry (its key and seq), or `None` after the last, once the CRC has matched.
    pub(crate) fn next_entry(&mut self) -> Result<Option<(&[u8], u64)>, StoreError> {
        self.current = None;
        let run = self.run;
        let io = |e| StoreError::io(&run.path, e);
        if self.at >= run.entries_end {
            if self.read != run.count || self.at != run.entries_end {
                return Err(run.damaged(self.at));
            }
            let mut crc = self.crc.clone();
            crc.combine(&run.sample_crc);
            if crc.finalize() != run.crc {
                return Err(StoreError::Damaged {
                    location: run.path.display().to_string(),
                    detail: "its CRC does not match: the run of record ids was altered".into(),
                });
            }
            return Ok(None);
        }
        let mut len = [0u8; 2];
        self.input.read_exact(&mut len).map_err(io)?;
        let key_len = usize::from(u16::from_le_bytes(len));
        if key_len == 0 || key_len > MAX_KEY_LEN {
            return Err(run.damaged(self.at));
        }
        self.key.resize(key_len + 8, 0);
        self.input.read_exact(&mut self.key).map_err(io)?;
        self.crc.update(&len);
        self.crc.update(&self.key);
        self.at += 2 + key_len as u64 + 8;
        self.read += 1;
        self.current = Some(key_len);
        Ok(self.current())
    }
}

/// Writes a new run.
struct RunWriter {
    out: BufWriter<File>,
    path: PathBuf,
    at: u64,
    count: u64,
    crc: crc32fast::Hasher,
    sample: Vec<u8>,
    stride: u64,
    last: Vec<u8>,
}

impl RunWriter {
    /// A new run file for about `count` ids.
    fn create(path: PathBuf, count: u64) -> Result<RunWriter, StoreError> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(|e| StoreError::io(&path, e))?;
        let mut out = BufWriter::with_capacity(1 << 20, file);
        out.write_all(HEADER)
            .map_err(|e| StoreError::io(&path, e))?;
        Ok(RunWriter {
            out,
            path,
            at: HEADER.len() as u64,
            count: 0,
            crc: crc32fast::Hasher::new(),
            sample: Vec::new(),
            stride: stride(count),
            last: Vec::new(),
        })
    }

    /// Adds the next entry; keys must come in increasing order.
    fn push(&mut self, key: &[u8], seq: u64) -> Result<(), StoreError> {
        if key.is_empty() || key.len() > MAX_KEY_LEN || (self.count > 0 && key <= &self.last[..]) {
            return Err(StoreError::Damaged {
                location: self.path.display().to_string(),
                detail: "record ids to write are empty, too long or out of order".into(),
            });
        }
        let len = (key.len() as u16).to_le_bytes();
        let seq = seq.to_le_bytes();
        if self.count.is_multiple_of(self.stride) {
            self.sample.extend_from_slice(&self.at.to_le_bytes());
            self.sample.extend_from_slice(&len);
            self.sample.extend_from_slice(key);
        }
        for part in [&len[..], key, &seq] {
            self.out
                .write_all(part)
                .map_err(|e| StoreError::io(&self.path, e))?;
            self.crc.update(part);
        }
        self.at += (2 + key.len() + 8) as u64;
        self.count += 1;
        self.last.clear();
        self.last.extend_from_slice(key);
        Ok(())
    }

    /// Writes the sample and trailer, syncs the file, and opens the run.
    fn finish(mut self, id: u64) -> Result<Run, StoreError> {
        let io = |e| StoreError::io(&self.path, e);
        self.crc.update(&self.sample);
        let mut trailer = Vec::with_capacity(TRAILER_LEN as usize);
        trailer.extend_from_slice(&self.at.to_le_bytes());
        trailer.extend_from_slice(&self.count.to_le_bytes());
        trailer.extend_from_slice(&self.stride.to_le_bytes());
        trailer.extend_from_slice(&self.crc.finalize().to_le_bytes());
        trailer.extend_from_slice(TRAILER_MAGIC);
        self.out.write_all(&self.sample).map_err(io)?;
        self.out.write_all(&trailer).map_err(io)?;
        let file = self.out.into_inner().map_err(|e| io(e.into_error()))?;
        file.sync_data().map_err(io)?;
        Run::load(file, self.path, id, Some(self.count))
    }
}

/// The live runs of a store, oldest first.
pub(crate) struct IdRuns {
    dir: PathBuf,
    runs: Vec<Run>,
}

/// A run written by [`IdRuns::write_commit`], not yet part of the store.
pub(crate) struct NewRun {
    run: Run,
    /// How many of the newest runs it holds and replaces.
    replaces: usize,
}

impl NewRun {
    pub(crate) fn id(&self) -> u64 {
        self.run.id
    }

    pub(crate) fn count(&self) -> u64 {
        self.run.count
    }
}

impl IdRuns {
    /// Opens the runs the state lists, as (run id, id count) oldest first.
    pub(crate) fn open(
        store_dir: &Path,
        list: impl IntoIterator<Item = (u64, u64)>,
    ) -> Result<IdRuns, StoreError> {
        let runs = list
            .into_iter()
            .map(|(id, count)| Run::open(store_dir, id, count))
            .collect::<Result<_, _>>()?;
        Ok(IdRuns {
            dir: store_dir.to_owned(),
            runs,
        })
    }

    /// The (run id, id count) of each live run, oldest first.
    pub(crate) fn list(&self) -> impl Iterator<Item = (u64, u64)> + '_ {
        self.runs.iter().map(|r| (r.id, r.count))
    }

    /// Number of ids in all runs.
    pub(crate) fn len(&self) -> u64 {
        self.runs.iter().map(|r| r.count).sum()
    }

    /// The seq stored under `key`, if any.
    pub(crate) fn get(&self, key: &[u8], buf: &mut Vec<u8>) -> Result<Option<u64>, StoreError> {
        for run in self.runs.iter().rev() {
            if let Some(seq) = run.get(key, buf)? {
                return Ok(Some(seq));
            }
        }
        Ok(None)
    }

    /// Calls `f` with every stored key, checking each run whole.
    pub(crate) fn for_each_key(&self, mut f: impl FnMut(&[u8])) -> Result<(), StoreError> {
        for run in &self.runs {
            let mut r = run.reader()?;
            while let Some((key, _)) = r.next_entry()? {
                f(key);
            }
        }
        Ok(())
    }

    /// Writes the run of a commit as run `id`: its new ids (sorted by key, none stored yet)
    /// merged with each newest run that is not larger than the ids newer than it. The file is
    /// synced; it becomes part of the store once the commit's transaction lists it.
    pub(crate) fn write_commit(
        &self,
        id: u64,
        new_ids: &[(&[u8], u64)],
    ) -> Result<NewRun, StoreError> {
        let mut total = new_ids.len() as u64;
        let mut replaces = 0;
        for run in self.runs.iter().rev() {
            if run.count > total {
                break;
            }
            total += run.count;
            replaces += 1;
        }
        let merged = &self.runs[self.runs.len() - replaces..];
        let mut out = RunWriter::create(run_path(&self.dir, id), total)?;
        let mut readers = merged
            .iter()
            .map(Run::reader)
            .collect::<Result<Vec<_>, _>>()?;
        for r in &mut readers {
            r.next_entry()?;
        }
        let mut fresh = new_ids.iter().peekable();
        loop {
            // The smallest key among the runs' current entries and the new ids; k-way with
            // k ≤ ~40.
            let mut min: Option<(&[u8], u64)> = fresh.peek().map(|(k, s)| (*k, *s));
            for (k, s) in readers.iter().filter_map(RunReader::current) {
                if min.is_none_or(|(m, _)| k < m) {
                    min = Some((k, s));
                }
            }
            let Some((key, seq)) = min else { break };
            out.push(key, seq)?;
            // Advance every source at this key (the writer keeps a copy): a key found twice is
            // kept once.
            let key = out.last.as_slice();
            if fresh.peek().is_some_and(|(k, _)| *k == key) {
                fresh.next();
            }
            for reader in &mut readers {
                if reader.current().is_some_and(|(k, _)| k == key) {
                    reader.next_entry()?;
                }
            }
        }
        Ok(NewRun {
            run: out.finish(id)?,
            replaces,
        })
    }

    /// Makes a committed new run live; gives the files of the runs it replaced, to remove.
    pub(crate) fn install(&mut self, new: NewRun) -> Vec<PathBuf> {
        let keep = self.runs.len() - new.replaces;
        let old = self.runs.split_off(keep);
        self.runs.push(new.run);
        old.into_iter().map(|r| r.path).collect()
    }

    /// The ids of the runs a new run replaces.
    pub(crate) fn replaced_by(&self, new: &NewRun) -> impl Iterator<Item = u64> + '_ {
        self.runs[self.runs.len() - new.replaces..]
            .iter()
            .map(|r| r.id)
    }
}

/// Reads a run file whole, for tools and fuzzing: every entry in order, each also found by a
/// lookup. The id count is taken from the file's own trailer.
pub fn read_id_run_file(path: &Path) -> Result<Vec<(Vec<u8>, u64)>, StoreError> {
    let file = File::open(path).map_err(|e| StoreError::io(path, e))?;
    let run = Run::load(file, path.to_owned(), 0, None)?;
    let mut entries = Vec::new();
    let mut reader = run.reader()?;
    while let Some((key, seq)) = reader.next_entry()? {
        entries.push((key.to_vec(), seq));
    }
    let mut buf = Vec::new();
    for (key, seq) in &entries {
        if run.get(key, &mut buf)? != Some(*seq) {
            return Err(run.damaged(0));
        }
    }
    Ok(entries)
}

/// The entry at `at` of a stretch of entries: key, seq, and where the next starts.
fn entry(buf: &[u8], at: usize) -> Option<(&[u8], u64, usize)> {
    let len = usize::from(u16::from_le_bytes([*buf.get(at)?, *buf.get(at + 1)?]));
    let key = buf.get(at + 2..at + 2 + len)?;
    let seq = buf.get(at + 2 + len..at + 10 + len)?;
    Some((key, le_u64(seq), at + 10 + len))
}

/// The sample entry at `at`: file offset, key, and where the next starts.
fn sample_entry(buf: &[u8], at: usize) -> Option<(u64, &[u8], usize)> {
    let offset = buf.get(at..at + 8)?;
    let len = usize::from(u16::from_le_bytes([*buf.get(at + 8)?, *buf.get(at + 9)?]));
    let key = buf.get(at + 10..at + 10 + len)?;
    Some((le_u64(offset), key, at + 10 + len))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(n: u64) -> Vec<u8> {
        let mut k = vec![1];
        k.extend_from_slice(&n.wrapping_mul(0x9e37_79b9_7f4a_7c15).to_be_bytes());
        k
    }

    /// Commits `batches` of new ids through `write_commit`, as the store does.
    fn commit_batches(dir: &Path, batches: &[std::ops::Range<u64>]) -> IdRuns {
        std::fs::create_dir_all(dir.join(IDS_DIR)).unwrap();
        let mut runs = IdRuns::open(dir, []).unwrap();
        for (id, batch) in batches.iter().enumerate() {
            let keys: Vec<(Vec<u8>, u64)> = batch.clone().map(|n| (key(n), n)).collect();
            let mut sorted: Vec<(&[u8], u64)> = keys.iter().map(|(k, s)| (&k[..], *s)).collect();
            sorted.sort_unstable();
            let new = runs.write_commit(id as u64, &sorted).unwrap();
            for path in runs.install(new) {
                std::fs::remove_file(path).unwrap();
            }
        }
        runs
    }

    #[test]
    fn every_id_is_found_after_merges_and_no_other() {
        let dir = tempfile::tempdir().unwrap();
        let batches: Vec<_> = (0..9u64).map(|b| b * 25..b * 25 + 10 + b * 2).collect();
        let runs = commit_batches(dir.path(), &batches);
        let mut buf = Vec::new();
        for b in &batches {
            for n in b.clone() {
                assert_eq!(runs.get(&key(n), &mut buf).unwrap(), Some(n), "id {n}");
            }
            assert_eq!(runs.get(&key(b.end), &mut buf).unwrap(), None);
        }
        assert_eq!(runs.get(&[0], &mut buf).unwrap(), None);
        assert_eq!(runs.get(&[0xff; 40], &mut buf).unwrap(), None);
        let total: u64 = batches.iter().map(|b| b.end - b.start).sum();
        assert_eq!(runs.len(), total);
        // Binary-counter merging keeps runs few, each larger than all newer ones together.
        let counts: Vec<u64> = runs.list().map(|(_, c)| c).collect();
        assert!(counts.len() <= 4, "{counts:?}");
        for (i, c) in counts.iter().enumerate() {
            assert!(*c > counts[i + 1..].iter().sum::<u64>(), "{counts:?}");
        }
        // Only live runs are on disk.
        let files = std::fs::read_dir(dir.path().join(IDS_DIR)).unwrap().count();
        assert_eq!(files, counts.len());
    }

    #[test]
    fn reopened_runs_answer_the_same_and_iterate_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let runs = commit_batches(dir.path(), &[0..7, 100..103, 200..230]);
        let list: Vec<_> = runs.list().collect();
        let reopened = IdRuns::open(dir.path(), list).unwrap();
        let mut buf = Vec::new();
        for n in (0..7).chain(100..103).chain(200..230) {
            assert_eq!(reopened.get(&key(n), &mut buf).unwrap(), Some(n));
        }
        let mut keys = Vec::new();
        reopened.for_each_key(|k| keys.push(k.to_vec())).unwrap();
        assert_eq!(keys.len(), 40);
        for run in &reopened.runs {
            let mut r = run.reader().unwrap();
            let mut last: Option<Vec<u8>> = None;
            while let Some((k, _)) = r.next_entry().unwrap() {
                assert!(last.as_deref().is_none_or(|l| l < k));
                last = Some(k.to_vec());
            }
        }
    }

    #[test]
    fn an_altered_or_cut_run_is_reported_not_trusted() {
        let dir = tempfile::tempdir().unwrap();
        let runs = commit_batches(dir.path(), std::slice::from_ref(&(0..50)));
        let (id, count) = runs.list().next().unwrap();
        drop(runs);
        let path = run_path(dir.path(), id);
        let good = std::fs::read(&path).unwrap();

        // A flipped bit in an entry: opening works (the sample is intact), a full read does not.
        let mut bytes = good.clone();
        bytes[HEADER.len() + 30] ^= 0x10;
        std::fs::write(&path, &bytes).unwrap();
        let runs = IdRuns::open(dir.path(), [(id, count)]).unwrap();
        let err = runs.for_each_key(|_| {}).unwrap_err();
        assert!(
            err.to_string().contains(&path.display().to_string()),
            "{err}"
        );

        // A cut file, or one that holds fewer ids than the state says, does not open.
        std::fs::write(&path, &good[..good.len() - 5]).unwrap();
        assert!(IdRuns::open(dir.path(), [(id, count)]).is_err());
        std::fs::write(&path, &good).unwrap();
        assert!(IdRuns::open(dir.path(), [(id, count + 1)]).is_err());
        assert!(IdRuns::open(dir.path(), [(id, count)]).is_ok());
    }

    #[test]
    fn mutated_run_files_are_read_without_panicking() {
        let dir = tempfile::tempdir().unwrap();
        let runs = commit_batches(dir.path(), std::slice::from_ref(&(0..40)));
        let (id, _) = runs.list().next().unwrap();
        let path = run_path(dir.path(), id);
        let good = std::fs::read(&path).unwrap();
        assert_eq!(read_id_run_file(&path).unwrap().len(), 40);
        let probe = dir.path().join("probe.run");
        let mut rng = 0x2545_f491_4f6c_dd1du64;
        for round in 0..2000 {
            let mut bytes = good.clone();
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            let at = (rng % bytes.len() as u64) as usize;
            match round % 3 {
                0 => bytes[at] ^= 1 << (rng >> 60 & 7),
                1 => bytes.truncate(at),
                _ => bytes[at] = (rng >> 56) as u8,
            }
            std::fs::write(&probe, &bytes).unwrap();
            // Any answer but a panic; a changed byte the CRC covers is never read back as good.
            if let Ok(entries) = read_id_run_file(&probe) {
                assert!(bytes == good || entries.len() == 40, "round {round}");
            }
        }
    }

    #[test]
    fn a_large_run_samples_a_bounded_number_of_keys() {
        let dir = tempfile::tempdir().unwrap();
        let runs = commit_batches(dir.path(), std::slice::from_ref(&(0..1000)));
        let run = &runs.runs[0];
        assert!(run.sample.len() as u64 <= MAX_SAMPLES);
        let mut buf = Vec::new();
        for n in (0..1000).step_by(7) {
            assert_eq!(runs.get(&key(n), &mut buf).unwrap(), Some(n));
        }
        assert_eq!(runs.get(&key(1000), &mut buf).unwrap(), None);
    }

    #[test]
    fn keys_out_of_order_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join(IDS_DIR)).unwrap();
        let runs = IdRuns::open(dir.path(), []).unwrap();
        let (a, b) = (key(1), key(2));
        let (lo, hi) = if a < b { (a, b) } else { (b, a) };
        assert!(runs.write_commit(0, &[(&hi, 1), (&lo, 2)]).is_err());
    }
}
