//! One record through the Defender normalisers (CloudAppEvents with RawEventData and PowerShell text, other advanced hunting rows), as `normalize` rebuilds it from the store.
#![no_main]

use mailtrail_event::SourceFormat;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    mailtrail_formats::fuzzing::normalize_as(SourceFormat::DefenderCloudAppEvents, data);
    mailtrail_formats::fuzzing::normalize_as(SourceFormat::DefenderAdvancedHunting, data);
});
