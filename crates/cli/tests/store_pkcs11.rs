//! Checkpoints signed by a key that never leaves a PKCS#11 token, against SoftHSM2.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests: a failed step should stop the test.

mod support;

use std::path::Path;
use std::process::Command;

use support::*;

const MODULE_PATHS: [&str; 3] = [
    "/usr/lib/softhsm/libsofthsm2.so",
    "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
    "/usr/local/lib/softhsm/libsofthsm2.so",
];

/// A fresh SoftHSM token in `dir`: returns the module path and the config file.
fn token(dir: &Path) -> Option<(String, std::path::PathBuf)> {
    let have_util = Command::new("softhsm2-util")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    let module = MODULE_PATHS.iter().find(|p| Path::new(p).exists());
    let (true, Some(module)) = (have_util, module) else {
        skip_or_fail(
            "SoftHSM2 (softhsm2-util and libsofthsm2.so)",
            "install it with `apt-get install softhsm2`",
        );
        return None;
    };
    let tokens = dir.join("tokens");
    std::fs::create_dir(&tokens).unwrap();
    let conf = dir.join("softhsm2.conf");
    std::fs::write(
        &conf,
        format!(
            "directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\n",
            tokens.display()
        ),
    )
    .unwrap();
    let o = Command::new("softhsm2-util")
        .env("SOFTHSM2_CONF", &conf)
        .args([
            "--init-token",
            "--free",
            "--label",
            "mailtrail",
            "--pin",
            "4321",
            "--so-pin",
            "87654321",
        ])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    Some((module.to_string(), conf))
}

#[test]
fn checkpoints_are_signed_on_a_pkcs11_token() {
    let dir = tempfile::tempdir().unwrap();
    let Some((module, conf)) = token(dir.path()) else {
        return;
    };
    let store = dir.path().join("store");
    let uri =
        format!("pkcs11:module={module};token=mailtrail;key=checkpoints;pin-env=TEST_TOKEN_PIN");
    let hsm = |args: &[&str]| {
        mailtrail()
            .env("SOFTHSM2_CONF", &conf)
            .env("TEST_TOKEN_PIN", "4321")
            .args(args)
            .arg("--store")
            .arg(&store)
            .output()
            .unwrap()
    };
    let o = hsm(&["init", "--signer", &uri]);
    assert!(o.status.success(), "{}", stderr(&o));
    let key = stdout(&o).trim().to_owned();
    assert!(key.starts_with("mailtrail/"), "{key}");
    assert!(!store.join("signing.key").exists());
    let meta = std::fs::read_to_string(store.join("store.json")).unwrap();
    assert!(meta.contains("pkcs11:") && !meta.contains("4321"), "{meta}");

    let input = dir.path().join("a.ndjson");
    write_ndjson(&input, 0..30);
    let o = hsm(&["ingest", input.to_str().unwrap(), "--no-index"]);
    assert!(o.status.success(), "{}", stderr(&o));
    // A second run reopens the key already on the token.
    write_ndjson(&input, 30..45);
    let o = hsm(&["ingest", input.to_str().unwrap(), "--no-index"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = run(&["verify", "--key", &key], &store);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert!(stdout(&o).contains("OK: 45 records verify."));

    // A proof from the token-signed checkpoints checks out offline.
    let proof = dir.path().join("p.json");
    assert!(
        run(&["prove", &guid(31), "-o", proof.to_str().unwrap()], &store)
            .status
            .success()
    );
    let o = mailtrail()
        .args(["verify-proof", proof.to_str().unwrap(), "--key", &key])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));

    // Without the PIN the writer cannot sign, and says why.
    let o = mailtrail()
        .env("SOFTHSM2_CONF", &conf)
        .env_remove("TEST_TOKEN_PIN")
        .args(["ingest", input.to_str().unwrap(), "--store"])
        .arg(&store)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("TEST_TOKEN_PIN"), "{}", stderr(&o));
}
