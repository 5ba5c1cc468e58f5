//! Query latency of an existing store's index, measured in-process (no process start, no
//! record printing): `bench/search.sh` runs it.
//!
//! ```text
//! cargo run --release -p mailtrail-index --example bench_queries -- STORE_DIR RUNS QUERY...
//! ```
//!
//! Prints one line per query: p50 and p95 in milliseconds over RUNS runs (after one warm-up run),
//! the number of matching events, and the query.

use std::time::Instant;

use mailtrail_index::{Index, Query, SearchOptions};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let usage = "usage: bench_queries STORE_DIR RUNS QUERY...";
    let store = args.next().ok_or(usage)?;
    let runs: usize = args.next().ok_or(usage)?.parse()?;
    let index = Index::open(std::path::Path::new(&store))?;
    println!("# {} events indexed", index.num_events());
    println!("{:>9} {:>9} {:>10}  query", "p50_ms", "p95_ms", "hits");
    for text in args {
        let query = Query::parse(&text)?;
        let opts = SearchOptions::default();
        let total = index.search(&query, &opts)?.total;
        let mut times: Vec<f64> = (0..runs.max(1))
            .map(|_| {
                let t = Instant::now();
                let page = index.search(&query, &opts);
                let ms = t.elapsed().as_secs_f64() * 1e3;
                page.map(|_| ms)
            })
            .collect::<Result<_, _>>()?;
        times.sort_by(f64::total_cmp);
        let pct = |p: f64| times[((times.len() - 1) as f64 * p).round() as usize];
        println!("{:>9.2} {:>9.2} {:>10}  {text}", pct(0.5), pct(0.95), total);
    }
    Ok(())
}
