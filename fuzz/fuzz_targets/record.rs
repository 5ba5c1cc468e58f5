//! One JSON record through schema detection and the chosen normaliser.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| mailtrail_formats::fuzzing::record(data));
