//! The JSON splitter (arrays, envelopes, NDJSON, concatenated JSON) on arbitrary bytes.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| mailtrail_formats::fuzzing::json_splitter(data));
