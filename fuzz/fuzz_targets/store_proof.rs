//! Any bytes as an inclusion proof bundle.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    const KEY: &str = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
    if let Some(key) = mailtrail_store::VerifierKey::parse(KEY) {
        assert!(mailtrail_store::verify_proof(data, &key).is_err());
    }
});
