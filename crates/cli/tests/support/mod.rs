//! Helpers shared by the command tests: the binary, a simulated tenant, a store, and UAL records
//! written as NDJSON and as a Purview CSV export.

#![allow(dead_code, unreachable_pub, clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn mailtrail() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_mailtrail"));
    c.env_remove("MAILTRAIL_STORE").env("RUST_LOG", "warn");
    c
}

pub fn run(args: &[&str], store: &Path) -> Output {
    mailtrail()
        .args(args)
        .arg("--store")
        .arg(store)
        .output()
        .unwrap()
}

/// Runs `cmd` and requires it to succeed, showing its stderr if it did not.
pub fn succeed(cmd: &mut Command) -> Output {
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    out
}

/// `mailtrail simulate` into `out`, with `args` (users, days, seed, scenarios …).
pub fn simulate(out: &Path, args: &[&str]) -> Output {
    succeed(mailtrail().arg("simulate").args(args).arg("--out").arg(out))
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// `init` a store in a temp dir; returns the dir guard, the store path and the verifier key.
pub fn init() -> (tempfile::TempDir, PathBuf, String) {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let o = run(&["init"], &store);
    assert!(o.status.success(), "{}", stderr(&o));
    let key = stdout(&o).trim().to_owned();
    (dir, store, key)
}

pub fn guid(n: u64) -> String {
    format!("{:08x}-1111-4000-8000-{:012x}", n as u32, n)
}

/// The AuditData JSON of UAL record `n`, about 900 bytes, in one of two tenants.
pub fn ual(n: u64) -> String {
    let tenant = if n.is_multiple_of(3) {
        "b7f5d3c1-2a4e-4f6b-9c8d-0e1f2a3b4c5d"
    } else {
        "0c9a8b7d-6e5f-4a3b-8c2d-1e0f9a8b7c6d"
    };
    format!(
        concat!(
            r#"{{"CreationTime":"2024-05-{:02}T{:02}:{:02}:{:02}","Id":"{}","Operation":"MailItemsAccessed","#,
            r#""OrganizationId":"{}","RecordType":50,"ResultStatus":"Succeeded","UserKey":"1003200{:09X}","#,
            r#""UserType":0,"Version":1,"Workload":"Exchange","ClientIPAddress":"203.0.113.{}","#,
            r#""UserId":"user{}@contoso.example","AppId":"00000002-0000-0ff1-ce00-000000000000","#,
            r#""ClientAppId":"d3590ed6-52b3-4102-aeff-aad2292ab01c","ClientInfoString":"Client=OWA;Action=ViaProxy","#,
            r#""ExternalAccess":false,"InternalLogonType":0,"LogonType":0,"LogonUserSid":"S-1-5-21-{}","#,
            r#""MailboxGuid":"{}","MailboxOwnerSid":"S-1-5-21-{}","MailboxOwnerUPN":"user{}@contoso.example","#,
            r#""OperationProperties":[{{"Name":"MailAccessType","Value":"Bind"}},{{"Name":"IsThrottled","Value":"False"}}],"#,
            r#""OrganizationName":"contoso.onmicrosoft.com","OriginatingServer":"AM0PR01MB{} (15.20.7000.000)","#,
            r#""SessionId":"{}","Folders":[{{"FolderItems":[{{"InternetMessageId":"<msg{}@contoso.example>"}}],"#,
            r#""Id":"LgAAAAD{:016X}","Path":"\\Inbox"}}],"OperationCount":1}}"#
        ),
        1 + n % 28,
        n % 24,
        n % 60,
        (n / 60) % 60,
        guid(n),
        tenant,
        n,
        n % 250,
        n % 500,
        n % 97,
        guid(n % 500 + 1_000_000),
        n % 97,
        n % 500,
        n % 1000,
        guid(n / 7 + 2_000_000),
        n,
        n
    )
}

pub fn write_ndjson(path: &Path, range: std::ops::Range<u64>) {
    let mut s = String::new();
    for n in range {
        s.push_str(&ual(n));
        s.push('\n');
    }
    std::fs::write(path, s).unwrap();
}

/// The same records as a Purview audit search export (current columns).
pub fn write_purview_csv(path: &Path, range: std::ops::Range<u64>) {
    let mut s = String::from(
        "RecordId,CreationDate,RecordType,Operation,UserId,AuditData,AssociatedAdminUnits,AssociatedAdminUnitsNames\n",
    );
    for n in range {
        let data = ual(n);
        s.push_str(&format!(
            "{},2024-05-{:02}T{:02}:{:02}:{:02}.0000000Z,ExchangeItemAggregated,MailItemsAccessed,user{}@contoso.example,\"{}\",,\n",
            guid(n),
            1 + n % 28,
            n % 24,
            n % 60,
            (n / 60) % 60,
            n % 500,
            data.replace('"', "\"\"")
        ));
    }
    std::fs::write(path, s).unwrap();
}

/// Whether the test may skip for a missing program: not in CI.
pub fn skip_or_fail(what: &str, hint: &str) -> bool {
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("{what} is required in CI: {hint}");
    }
    eprintln!("skipping: {what} not found; {hint}");
    true
}
