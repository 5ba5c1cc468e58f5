//! One record through the Unified Audit Log normaliser (also used for CSV AuditData), as `normalize` rebuilds it from the store.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    mailtrail_formats::fuzzing::normalize_as(mailtrail_event::SourceFormat::UalNdjson, data)
});
