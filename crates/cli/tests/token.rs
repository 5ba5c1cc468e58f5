//! `mailtrail token inspect` and `mailtrail token verify`, run as the built binary.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Test code: a failed unwrap is a failed test.

use std::io::Write as _;
use std::process::{Command, Output, Stdio};

use mailtrail_token::testing::{TestKey, jwks};
use serde_json::{Value, json};

const CONSUMER: &str =
    "https://login.microsoftonline.com/9188040d-6c67-4c5b-b112-36a304b66dad/v2.0";
const TEMPLATE: &str = "https://login.microsoftonline.com/{tenantid}/v2.0";
const CONTOSO: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const AUD: &str = "https://outlook.office365.com";
const NOW: i64 = 1_700_000_100;

fn claims(tid: &str) -> Value {
    json!({
        "iss": format!("https://login.microsoftonline.com/{tid}/v2.0"), "tid": tid,
        "aud": AUD, "ver": "2.0", "scp": "Mail.Read", "upn": "ceo@contoso.example",
        "iat": NOW - 100, "nbf": NOW - 100, "exp": NOW + 3500,
    })
}

fn mailtrail(args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_mailtrail"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    if let Some(s) = stdin {
        input.write_all(s.as_bytes()).unwrap();
    }
    drop(input);
    child.wait_with_output().unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A JWK Set like Entra ID's common one: enterprise and consumer keys, each bound by `issuer`.
struct Keys {
    consumer: TestKey,
    enterprise: TestKey,
    dir: tempfile::TempDir,
}

impl Keys {
    fn new() -> Keys {
        let consumer = TestKey::es256("msa-key").with_member("issuer", CONSUMER);
        let enterprise = TestKey::ed25519("entra-key").with_member("issuer", TEMPLATE);
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("keys.json"),
            jwks(&[&consumer, &enterprise]),
        )
        .unwrap();
        Keys {
            consumer,
            enterprise,
            dir,
        }
    }

    fn path(&self) -> String {
        self.dir.path().join("keys.json").display().to_string()
    }
}

#[test]
fn verify_accepts_a_genuine_token_and_exits_0() {
    let keys = Keys::new();
    let token = keys.enterprise.mint(&claims(CONTOSO));
    let path = keys.path();
    let at = NOW.to_string();
    let o = mailtrail(
        &[
            "token",
            "verify",
            &token,
            "--issuer",
            TEMPLATE,
            "--tenant-template",
            "--audience",
            AUD,
            "--jwks",
            &path,
            "--at",
            &at,
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    assert!(
        stdout(&o).starts_with("VALID: signed by key entra-key (EdDSA)"),
        "{}",
        stdout(&o)
    );
    assert!(stdout(&o).contains(CONTOSO));
}

#[test]
fn verify_rejects_the_storm0558_forgery_with_the_rule_and_exits_1() {
    let keys = Keys::new();
    let forged = keys.consumer.mint(&claims(CONTOSO));
    let path = keys.path();
    let at = NOW.to_string();
    let o = mailtrail(
        &[
            "token",
            "verify",
            "-",
            "--issuer",
            TEMPLATE,
            "--tenant-template",
            "--audience",
            AUD,
            "--jwks",
            &path,
            "--at",
            &at,
            "--format",
            "json",
        ],
        Some(&format!("Bearer {forged}\n")),
    );
    assert_eq!(o.status.code(), Some(1), "{}{}", stdout(&o), stderr(&o));
    let out: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(out["valid"], false);
    assert_eq!(out["rule"], "key-issuer-binding");
    assert!(out["reason"].as_str().unwrap().contains(CONSUMER));
}

#[test]
fn verify_rejects_an_expired_token_as_of_now_but_accepts_it_at_its_time() {
    let keys = Keys::new();
    let token = keys.enterprise.mint(&claims(CONTOSO));
    let path = keys.path();
    let args = [
        "token",
        "verify",
        &token,
        "--issuer",
        TEMPLATE,
        "--tenant-template",
        "--jwks",
        &path,
    ];
    let o = mailtrail(&args, None);
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).starts_with("REJECTED [exp]"), "{}", stdout(&o));
    let mut at = args.to_vec();
    at.extend(["--at", "2023-11-14T22:15:00Z"]);
    let o = mailtrail(&at, None);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    assert!(stdout(&o).contains("audience was not checked"));
}

#[test]
fn verify_refuses_a_template_issuer_without_the_flag_and_exits_2() {
    let keys = Keys::new();
    let token = keys.enterprise.mint(&claims(CONTOSO));
    let path = keys.path();
    let o = mailtrail(
        &[
            "token", "verify", &token, "--issuer", TEMPLATE, "--jwks", &path,
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--tenant-template"), "{}", stderr(&o));
}

#[test]
fn verify_exits_2_when_keys_cannot_be_read_or_fetched() {
    let o = mailtrail(
        &[
            "token",
            "verify",
            "a.b.c",
            "--issuer",
            "https://issuer.example",
            "--jwks",
            "/nonexistent/keys.json",
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("/nonexistent/keys.json"),
        "{}",
        stderr(&o)
    );
    // Nothing listens on port 9 of the loopback address.
    let o = mailtrail(
        &[
            "token",
            "verify",
            "a.b.c",
            "--issuer",
            "http://127.0.0.1:9",
            "--metadata",
            "http://127.0.0.1:9/.well-known/openid-configuration",
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("cannot fetch the issuer's keys"),
        "{}",
        stderr(&o)
    );
    // Plain http to a real host is refused before any connection.
    let o = mailtrail(
        &[
            "token",
            "verify",
            "a.b.c",
            "--issuer",
            "http://login.example",
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("https"), "{}", stderr(&o));
}

#[test]
fn verify_fetches_keys_through_openid_metadata_on_a_local_server() {
    let key = TestKey::ed25519("served");
    let server = tiny_http::Server::http("127.0.0.1:0").unwrap();
    let base = format!(
        "http://127.0.0.1:{}",
        server.server_addr().to_ip().unwrap().port()
    );
    let issuer = base.clone();
    let metadata = json!({"issuer": issuer, "jwks_uri": format!("{base}/keys")}).to_string();
    let keys = jwks(&[&key]);
    let handle = std::thread::spawn(move || {
        // Two requests (metadata, keys); give up after 30 s so a failing binary cannot hang the test.
        for _ in 0..2 {
            let Ok(Some(request)) = server.recv_timeout(std::time::Duration::from_secs(30)) else {
                return;
            };
            let body = if request.url() == "/keys" {
                keys.clone()
            } else {
                metadata.clone()
            };
            request
                .respond(tiny_http::Response::from_string(body))
                .unwrap();
        }
    });
    let mut c = claims(CONTOSO);
    c["iss"] = json!(issuer);
    c.as_object_mut().unwrap().remove("tid");
    let token = key.mint(&c);
    let at = NOW.to_string();
    let o = mailtrail(
        &[
            "token",
            "verify",
            &token,
            "--issuer",
            &issuer,
            "--audience",
            AUD,
            "--at",
            &at,
            "--format",
            "json",
        ],
        None,
    );
    handle.join().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    let out: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(out["valid"], true);
    assert_eq!(out["kid"], "served");
    assert_eq!(out["key_issuer"], issuer.as_str());
}

#[test]
fn inspect_flags_a_tenant_swapped_consumer_token_and_exits_1() {
    let keys = Keys::new();
    let mut c = claims(CONTOSO);
    c["iss"] = json!(CONSUMER);
    c["exp"] = json!(NOW + 40 * 3600);
    let token = keys.consumer.mint(&c);
    let at = NOW.to_string();
    let o = mailtrail(&["token", "inspect", &token, "--at", &at], None);
    assert_eq!(o.status.code(), Some(1), "{}{}", stdout(&o), stderr(&o));
    let out = stdout(&o);
    assert!(out.starts_with("UNVERIFIED"), "{out}");
    assert!(out.contains("HIGH   issuer-tenant-mismatch"), "{out}");
    assert!(out.contains("consumer-tenant"), "{out}");
    assert!(out.contains("lifetime-long"), "{out}");
}

#[test]
fn inspect_with_the_key_set_names_the_consumer_key_on_an_enterprise_token() {
    let keys = Keys::new();
    let forged = keys.consumer.mint(&claims(CONTOSO));
    let path = keys.path();
    let at = NOW.to_string();
    let o = mailtrail(
        &[
            "token", "inspect", "-", "--jwks", &path, "--at", &at, "--format", "json",
        ],
        Some(&forged),
    );
    assert_eq!(o.status.code(), Some(1), "{}{}", stdout(&o), stderr(&o));
    let out: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(out["verified"], false);
    assert_eq!(out["claims"]["tid"], CONTOSO);
    let codes: Vec<&str> = out["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap())
        .collect();
    assert!(codes.contains(&"consumer-key"), "{codes:?}");
    // The genuine token has nothing severe.
    let genuine = keys.enterprise.mint(&claims(CONTOSO));
    let o = mailtrail(
        &["token", "inspect", &genuine, "--jwks", &path, "--at", &at],
        None,
    );
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
}

#[test]
fn inspect_of_something_that_is_not_a_token_exits_2() {
    let o = mailtrail(&["token", "inspect", "hello"], None);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("not a JWT [compact-serialization]"),
        "{}",
        stderr(&o)
    );
}
