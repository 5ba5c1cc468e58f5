//! One record through the directory audit normaliser in its Graph, Azure Monitor and Sentinel shapes, as `normalize` rebuilds it from the store.
#![no_main]

use mailtrail_event::SourceFormat;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    mailtrail_formats::fuzzing::normalize_as(SourceFormat::GraphDirectoryAudit, data);
    mailtrail_formats::fuzzing::normalize_as(SourceFormat::AzureMonitorAudit, data);
    mailtrail_formats::fuzzing::normalize_as(SourceFormat::SentinelAuditLogs, data);
});
