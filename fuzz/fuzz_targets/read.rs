//! The whole reader on arbitrary bytes: compression sniffing (gzip, zstd, zip), container detection,
//! splitting, schema detection and every normaliser.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| mailtrail_formats::fuzzing::read(data));
