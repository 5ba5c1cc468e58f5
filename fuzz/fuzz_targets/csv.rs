//! The Purview / Search-UnifiedAuditLog CSV reader on arbitrary bytes.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| mailtrail_formats::fuzzing::csv(data));
