//! Fuzzes the query parser: any input is parsed or refused with a located error, never a panic
//! or a stack overflow, and whatever parses prints back to text that parses to the same tree.
//!
//! Run with `cargo +nightly fuzz run query_parse` from `fuzz/`.

#![no_main]

use libfuzzer_sys::fuzz_target;
use mailtrail_index::Query;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match Query::parse(text) {
        Ok(q) => {
            let printed = q.expr().to_string();
            let again = Query::parse(&printed)
                .unwrap_or_else(|e| panic!("{text:?} printed as {printed:?}, which fails: {e}"));
            assert_eq!(q.expr(), again.expr(), "{text:?} printed as {printed:?}");
        }
        Err(e) => {
            assert!(
                e.column >= 1 && e.column <= text.chars().count() + 1,
                "{text:?}: {e}"
            );
        }
    }
});
