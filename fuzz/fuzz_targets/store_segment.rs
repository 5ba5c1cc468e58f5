//! Any bytes as a segment file: every block header, checksum, zstd frame and record layout check.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = mailtrail_store::read_segment_bytes(data);
});
