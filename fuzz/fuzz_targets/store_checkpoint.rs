//! Any bytes as a signed checkpoint note and as a verifier key.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    // A fixed key: the fuzzer cannot produce a valid signature, so nothing may verify.
    const KEY: &str = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
    if let Some(key) = mailtrail_store::VerifierKey::parse(KEY) {
        let _ = key.open(data);
    }
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = mailtrail_store::Checkpoint::parse_text(text);
        let _ = mailtrail_store::VerifierKey::parse(text);
    }
});
