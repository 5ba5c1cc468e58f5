//! One record through the Sentinel OfficeActivity normaliser, as `normalize` rebuilds it from the store.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    mailtrail_formats::fuzzing::normalize_as(
        mailtrail_event::SourceFormat::SentinelOfficeActivity,
        data,
    )
});
