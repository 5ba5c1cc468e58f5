//! Keeping the index level with the store: [`catch_up`] after a crash or a lagging ingest, and
//! [`reindex`] to rebuild it from nothing.

use std::path::Path;

use mailtrail_store::Store;

use crate::{INDEX_DIR, Index, IndexError};

/// Records indexed between two commits during a catch-up: the work a crash can cost.
const COMMIT_EVERY: u64 = 1_000_000;

/// What a catch-up did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CatchUp {
    /// Records added to the index.
    pub indexed: u64,
    /// Records whose bytes could not be read as an event (each logged with its seq and id);
    /// they stay in the store and count as indexed, with nothing to search.
    pub unreadable: u64,
    /// Records whose body retention deleted: nothing to index.
    pub pruned: u64,
    /// The watermark afterwards: the store's committed length.
    pub watermark: u64,
}

/// Brings the index up to the store's committed length: reads every record from the
/// watermark on, re-creates its event from the original bytes and indexes it, publishing
/// every million records and at the end. Returns how many records it processed.
pub fn catch_up(index: &mut Index, store: &Store) -> Result<u64, IndexError> {
    catch_up_report(index, store, |_| {}).map(|r| r.indexed + r.unreadable + r.pruned)
}

/// [`catch_up`], with counts and a progress callback (called with the running totals after each
/// commit).
pub fn catch_up_report(
    index: &mut Index,
    store: &Store,
    mut progress: impl FnMut(&CatchUp),
) -> Result<CatchUp, IndexError> {
    let target = store.committed_len();
    let mut report = CatchUp {
        watermark: index.watermark(),
        ..CatchUp::default()
    };
    if target <= index.watermark() {
        return Ok(report);
    }
    let mut since_commit = 0u64;
    let mut next = index.watermark();
    for rec in store.scan(index.watermark()) {
        let rec = rec.map_err(IndexError::Store)?;
        if rec.seq >= target {
            break;
        }
        if rec.pruned {
            report.pruned += 1;
        } else {
            match mailtrail_formats::normalize(rec.source, rec.raw.clone()) {
                Ok(event) => {
                    index.add(rec.seq, &event)?;
                    report.indexed += 1;
                }
                Err(e) => {
                    tracing::warn!(seq = rec.seq, record_id = %rec.record_id, error = %e, "Stored record not indexed: its bytes do not read as an event.");
                    report.unreadable += 1;
                }
            }
        }
        next = rec.seq + 1;
        since_commit += 1;
        if since_commit >= COMMIT_EVERY {
            index.commit(next)?;
            since_commit = 0;
            report.watermark = next;
            progress(&report);
        }
    }
    // Every committed record was read; the store's length is the watermark even when the last
    // records were unreadable.
    index.commit(target.max(next))?;
    report.watermark = index.watermark();
    progress(&report);
    Ok(report)
}

/// Rebuilds the index of `store` from its segments: builds a new index beside the live one, then
/// swaps it in, so searches keep working on the old index until the new one is complete. Refuses
/// (with [`IndexError::Locked`]) while another process writes the index.
pub fn reindex(store: &Store, progress: impl FnMut(&CatchUp)) -> Result<CatchUp, IndexError> {
    let dir = store.dir();
    let live = dir.join(INDEX_DIR);
    let building = dir.join(format!("{INDEX_DIR}.new"));
    // Holding the live index's writer lock while building keeps an ingest from writing to an
    // index about to be replaced. An index that cannot be opened (damaged, outdated layout) is
    // what reindex is for, so only a held lock stops it.
    let guard = match Index::open_dir(&live).and_then(|mut i| i.ensure_writer().map(|()| i)) {
        Ok(i) => Some(i),
        Err(e @ IndexError::Locked { .. }) => return Err(e),
        Err(e) => {
            tracing::warn!(error = %e, "The current index cannot be opened; rebuilding it.");
            None
        }
    };
    remove_dir(&building)?;
    let mut fresh = Index::open_dir(&building)?;
    let report = catch_up_report(&mut fresh, store, progress)?;
    fresh.close()?;
    drop(guard);
    let old = dir.join(format!("{INDEX_DIR}.old"));
    remove_dir(&old)?;
    // Two renames, not one atomic exchange: if the process dies between them there is no live
    // index, and the next command creates an empty one and catches it up from the store.
    if live.exists() {
        rename(&live, &old)?;
    }
    rename(&building, &live)?;
    remove_dir(&old)?;
    Ok(report)
}

fn remove_dir(path: &Path) -> Result<(), IndexError> {
    match std::fs::remove_dir_all(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(IndexError::Directory {
            path: path.to_owned(),
            source: e,
        }),
        _ => Ok(()),
    }
}

fn rename(from: &Path, to: &Path) -> Result<(), IndexError> {
    std::fs::rename(from, to).map_err(|source| IndexError::Directory {
        path: from.to_owned(),
        source,
    })
}
