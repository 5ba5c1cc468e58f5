//! Indexing throughput alone: events are read and normalised from UAL NDJSON first (not timed),
//! then added to a fresh index and committed (timed). `bench/search.sh` runs it.
//!
//! ```text
//! cargo run --release -p mailtrail-index --example bench_indexing -- MAX_EVENTS FILE.ndjson...
//! ```

use std::io::BufRead;
use std::time::Instant;

use bytes::Bytes;
use mailtrail_event::SourceFormat;
use mailtrail_index::Index;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let max: usize = args
        .next()
        .ok_or("usage: bench_indexing MAX_EVENTS FILE...")?
        .parse()?;
    let mut events = Vec::new();
    let mut raw_bytes = 0usize;
    'files: for path in args {
        for line in std::io::BufReader::new(std::fs::File::open(&path)?).lines() {
            let line = line?;
            raw_bytes += line.len() + 1;
            if let Ok(ev) = mailtrail_formats::normalize(SourceFormat::UalNdjson, Bytes::from(line))
            {
                events.push(ev);
            }
            if events.len() >= max {
                break 'files;
            }
        }
    }
    let dir = tempfile::tempdir()?;
    let started = Instant::now();
    let mut index = Index::open(dir.path())?;
    for (seq, ev) in events.iter().enumerate() {
        index.add(seq as u64, ev)?;
    }
    index.commit(events.len() as u64)?;
    let indexed = started.elapsed().as_secs_f64();
    index.close()?;
    let merged = started.elapsed().as_secs_f64();
    let size: u64 = walk(&dir.path().join(mailtrail_index::INDEX_DIR))?;
    println!(
        "{} events ({} MB raw NDJSON) indexed and committed in {:.2} s: {:.0} events/s; \
         {:.2} s with final merges; index {:.1} MB = {:.1} % of raw, {:.0} bytes/event",
        events.len(),
        raw_bytes / 1_000_000,
        indexed,
        events.len() as f64 / indexed,
        merged,
        size as f64 / 1e6,
        100.0 * size as f64 / raw_bytes.max(1) as f64,
        size as f64 / events.len().max(1) as f64,
    );
    Ok(())
}

fn walk(dir: &std::path::Path) -> std::io::Result<u64> {
    let mut total = 0;
    for entry in std::fs::read_dir(dir)? {
        let meta = entry?.metadata()?;
        if meta.is_file() {
            total += meta.len();
        }
    }
    Ok(total)
}
