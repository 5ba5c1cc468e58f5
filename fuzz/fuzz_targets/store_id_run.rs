//! Any bytes as a run of record ids: its header, trailer, key sample, entries and CRC, and a
//! lookup of every entry read.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let path = std::env::temp_dir().join(format!("mailtrail-fuzz-{}.run", std::process::id()));
    if std::fs::write(&path, data).is_ok() {
        let _ = mailtrail_store::read_id_run_file(&path);
    }
});
