//! One record through the Defender CloudAppEvents normaliser (RawEventData, PowerShell text), as `normalize` rebuilds it from the store.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    mailtrail_formats::fuzzing::normalize_as(mailtrail_event::SourceFormat::DefenderCloudAppEvents, data)
});
