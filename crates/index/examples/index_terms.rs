//! What an index holds per event: for every field with terms, its postings per event and its
//! distinct terms (summed over segments), which is what indexing and merging cost.
//!
//! ```text
//! cargo run --release -p mailtrail-index --example index_terms -- STORE_DIR/index
//! ```

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::args()
        .nth(1)
        .ok_or("usage: index_terms STORE_DIR/index")?;
    let index = tantivy::Index::open_in_dir(dir)?;
    let schema = index.schema();
    let searcher = index.reader()?.searcher();
    let events: u64 = searcher
        .segment_readers()
        .iter()
        .map(|s| u64::from(s.num_docs()))
        .sum();
    let per_event = |n: u64| n as f64 / events.max(1) as f64;
    println!("{:<14} {:>16} {:>10}", "field", "postings/event", "terms");
    let mut total = 0;
    for (field, entry) in schema.fields().filter(|(_, e)| e.is_indexed()) {
        let (mut postings, mut terms) = (0u64, 0u64);
        for segment in searcher.segment_readers() {
            let inverted = segment.inverted_index(field)?;
            let mut stream = inverted.terms().stream()?;
            while stream.advance() {
                postings += u64::from(stream.value().doc_freq);
                terms += 1;
            }
        }
        total += postings;
        let name = entry.name();
        println!("{name:<14} {:>16.3} {terms:>10}", per_event(postings));
    }
    println!(
        "{:<14} {:>16.3}   ({events} events)",
        "all",
        per_event(total)
    );
    Ok(())
}
