//! `mailtrail search`, `stats`, `timeline` and `reindex`, run as the built binary against a store
//! made by `mailtrail init` and `mailtrail ingest`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Test code: a failed unwrap is a failed test.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const USERS: &[&str] = &["alice@contoso.com", "bob@contoso.com", "ceo@contoso.com"];
const APPS: &[&str] = &[
    "00000002-0000-0ff1-ce00-000000000000",
    "d3590ed6-52b3-4102-aeff-aad2292ab01c",
];

/// A `MailItemsAccessed` record (Bind) as the Management Activity API writes it.
fn read(i: usize, day: u32, user: &str, owner: &str, app: &str, ip: &str) -> String {
    format!(
        concat!(
            r#"{{"CreationTime":"2026-01-{:02}T{:02}:00:00","Id":"00000000-0000-4000-8000-{:012}","#,
            r#""Operation":"MailItemsAccessed","OrganizationId":"contoso-tenant","RecordType":50,"#,
            r#""ResultStatus":"Succeeded","UserType":0,"Version":1,"Workload":"Exchange","ClientIP":"{}","#,
            r#""UserId":"{}","AppId":"00000002-0000-0ff1-ce00-000000000000","ClientAppId":"{}","#,
            r#""ClientInfoString":"Client=REST;Client=RESTSystem;","MailboxOwnerUPN":"{}","SessionId":"sess-{}","#,
            r#""OperationProperties":[{{"Name":"MailAccessType","Value":"Bind"}},{{"Name":"IsThrottled","Value":"False"}}],"#,
            r#""Folders":[{{"FolderItems":[{{"InternetMessageId":"<msg-{}@contoso.com>"}}],"Id":"LgAA","Path":"\\Inbox"}}],"#,
            r#""OperationCount":1}}"#
        ),
        day,
        i % 24,
        i,
        ip,
        user,
        app,
        owner,
        i % 5,
        i,
    )
}

/// An admin adding a forwarding inbox rule to someone else's mailbox.
fn rule(i: usize, day: u32, admin: &str, mailbox: &str) -> String {
    format!(
        concat!(
            r#"{{"CreationTime":"2026-01-{:02}T12:30:00","Id":"00000000-0000-4000-9000-{:012}","#,
            r#""Operation":"New-InboxRule","OrganizationId":"contoso-tenant","RecordType":1,"#,
            r#""ResultStatus":"True","UserType":2,"Version":1,"Workload":"Exchange","ClientIP":"198.51.100.23:50123","#,
            r#""UserId":"{}","ObjectId":"{}\\Forward everything","#,
            r#""Parameters":[{{"Name":"Mailbox","Value":"{}"}},{{"Name":"ForwardTo","Value":"drop@evil.example"}}]}}"#
        ),
        day, i, admin, mailbox, mailbox,
    )
}

/// The records every test ingests: 60 reads over six days and one inbox rule.
fn records() -> Vec<String> {
    let mut out = Vec::new();
    for i in 0..60 {
        let user = USERS[i % USERS.len()];
        let ip = if i.is_multiple_of(4) {
            "203.0.113.9"
        } else {
            "10.0.0.5"
        };
        out.push(read(i, 1 + (i % 6) as u32, user, user, APPS[i % 2], ip));
    }
    out.push(rule(1, 3, "admin@contoso.com", "ceo@contoso.com"));
    out
}

fn mailtrail(store: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mailtrail"))
        .args(args)
        .arg("--store")
        .arg(store)
        .env_remove("MAILTRAIL_STORE")
        .env("RUST_LOG", "warn")
        .output()
        .unwrap()
}

fn ok(store: &Path, args: &[&str]) -> (String, String) {
    let out = mailtrail(store, args);
    let stdout = String::from_utf8(out.stdout).unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(out.status.success(), "mailtrail {args:?} failed:\n{stderr}");
    (stdout, stderr)
}

/// A mailbox owner deleting one message: `op` is `MoveToDeletedItems`, `SoftDelete` or
/// `HardDelete`, `folder` where the message was.
fn delete(i: usize, op: &str, owner: &str, message: usize, folder: &str) -> String {
    format!(
        concat!(
            r#"{{"CreationTime":"2026-01-07T0{}:00:00","Id":"00000000-0000-4000-a000-{:012}","#,
            r#""Operation":"{}","OrganizationId":"contoso-tenant","RecordType":3,"#,
            r#""ResultStatus":"Succeeded","UserType":0,"Version":1,"Workload":"Exchange","ClientIP":"10.0.0.5","#,
            r#""UserId":"{}","MailboxOwnerUPN":"{}","#,
            r#""AffectedItems":[{{"Id":"RgAA{}","InternetMessageId":"<msg-{}@contoso.com>","#,
            r#""ParentFolder":{{"Id":"LgAA","Path":"{}"}},"Subject":"Quarterly numbers"}}]}}"#
        ),
        i, i, op, owner, owner, message, message, folder,
    )
}

/// A store with [`records`] ingested.
fn store() -> (tempfile::TempDir, PathBuf) {
    store_of(&records())
}

fn store_of(records: &[String]) -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let store = tmp.path().join("store");
    ok(&store, &["init"]);
    let input = tmp.path().join("ual.ndjson");
    std::fs::write(&input, records.join("\n")).unwrap();
    ok(&store, &["ingest", input.to_str().unwrap()]);
    (tmp, store)
}

fn jsonl(s: &str) -> Vec<serde_json::Value> {
    s.lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn search_finds_field_and_cidr_matches_newest_first() {
    let (_tmp, store) = store();
    let (out, err) = ok(
        &store,
        &[
            "search",
            "op:MailItemsAccessed user:alice@contoso.com ip:203.0.113.0/24",
            "--format",
            "jsonl",
        ],
    );
    let hits = jsonl(&out);
    // alice is every third record, the public address every fourth: i % 12 == 0.
    assert_eq!(hits.len(), 5, "{out}");
    assert!(err.contains("5 of 5 matching events"), "{err}");
    let times: Vec<&str> = hits.iter().map(|h| h["time"].as_str().unwrap()).collect();
    let mut sorted = times.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(times, sorted, "newest first");
    for h in &hits {
        assert_eq!(h["event"]["user_id"], "alice@contoso.com");
        // The original record comes back byte for byte.
        assert_eq!(h["record"]["ClientIP"], "203.0.113.9");
        assert_eq!(h["record"]["Id"], h["record_id"]);
    }
}

#[test]
fn one_message_id_finds_who_read_moved_and_deleted_the_message() {
    // Record 7 is bob reading <msg-7@contoso.com> in his Inbox; he then deletes it twice over.
    let mut records = records();
    records.push(delete(1, "MoveToDeletedItems", USERS[1], 7, "\\\\Inbox"));
    records.push(delete(2, "HardDelete", USERS[1], 7, "\\\\Deleted Items"));
    records.push(delete(3, "HardDelete", USERS[1], 8, "\\\\Deleted Items"));
    let (_tmp, store) = store_of(&records);

    let (out, _) = ok(
        &store,
        &[
            "search",
            "message_id:\"<MSG-7@contoso.com>\"",
            "--format",
            "jsonl",
        ],
    );
    let hits = jsonl(&out);
    let oldest_first: Vec<&str> = hits
        .iter()
        .rev()
        .map(|h| h["event"]["operation"].as_str().unwrap())
        .collect();
    assert_eq!(
        oldest_first,
        ["MailItemsAccessed", "MoveToDeletedItems", "HardDelete"],
        "{out}"
    );

    let (out, _) = ok(
        &store,
        &[
            "search",
            "folder:\"\\\\Deleted Items\"",
            "--format",
            "jsonl",
        ],
    );
    assert_eq!(jsonl(&out).len(), 2, "{out}");

    let (out, _) = ok(
        &store,
        &["timeline", "--mailbox", USERS[1], "--format", "jsonl"],
    );
    let moved = jsonl(&out)
        .into_iter()
        .find(|e| e["operation"] == "MoveToDeletedItems")
        .unwrap();
    assert_eq!(
        moved["detail"],
        "1 message: \"Quarterly numbers\" in \\Inbox"
    );
    assert_eq!(moved["message_ids"][0], "<msg-7@contoso.com>");
}

#[test]
fn search_pages_with_cursors_and_page_numbers() {
    let (_tmp, store) = store();
    let (all, _) = ok(
        &store,
        &[
            "search",
            "op:MailItemsAccessed",
            "--limit",
            "100",
            "--format",
            "csv",
        ],
    );
    let all: Vec<&str> = all.lines().skip(1).collect();
    assert_eq!(all.len(), 60);

    let (first, err) = ok(
        &store,
        &[
            "search",
            "op:MailItemsAccessed",
            "--limit",
            "25",
            "--format",
            "csv",
        ],
    );
    let cursor = err
        .lines()
        .find_map(|l| l.strip_prefix("Next page: --after "))
        .unwrap_or_else(|| panic!("no cursor in {err}"))
        .to_owned();
    let (second, _) = ok(
        &store,
        &[
            "search",
            "op:MailItemsAccessed",
            "--limit",
            "25",
            "--after",
            &cursor,
            "--format",
            "csv",
        ],
    );
    let (page2, _) = ok(
        &store,
        &[
            "search",
            "op:MailItemsAccessed",
            "--limit",
            "25",
            "--page",
            "2",
            "--format",
            "csv",
        ],
    );
    let first: Vec<&str> = first.lines().skip(1).collect();
    let second: Vec<&str> = second.lines().skip(1).collect();
    assert_eq!(first, all[..25]);
    assert_eq!(second, all[25..50]);
    assert_eq!(page2.lines().skip(1).collect::<Vec<_>>(), second);
}

#[test]
fn search_reports_a_bad_query_with_its_column() {
    let (_tmp, store) = store();
    let out = mailtrail(&store, &["search", "(user:alice OR op:Send))"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("unexpected ')' at column 24"), "{err}");
    // The caret sits under column 24 of the query as echoed.
    let caret = format!("  (user:alice OR op:Send))\n  {}^", " ".repeat(23));
    assert!(err.contains(&caret), "{err}");
}

#[test]
fn search_narrows_by_time_window_and_tenant() {
    let (_tmp, store) = store();
    let (out, _) = ok(
        &store,
        &[
            "search",
            "op:MailItemsAccessed",
            "--from",
            "2026-01-02",
            "--to",
            "2026-01-03",
            "--format",
            "csv",
        ],
    );
    assert_eq!(out.lines().count() - 1, 10, "{out}");
    let (out, err) = ok(&store, &["search", "*", "--tenant", "fabrikam"]);
    assert_eq!(out.lines().count(), 1, "only the header: {out}");
    assert!(err.contains("No events match"), "{err}");
}

#[test]
fn stats_count_apps_per_day_as_the_store_holds_them() {
    let (_tmp, store) = store();
    let (out, err) = ok(
        &store,
        &[
            "stats",
            "--by",
            "client_app",
            "--interval",
            "1d",
            "op:MailItemsAccessed",
            "--format",
            "csv",
        ],
    );
    // Day d holds records i with i % 6 == d - 1; the app alternates with i % 2.
    let mut want = std::collections::BTreeMap::new();
    for i in 0..60usize {
        let day = format!("2026-01-{:02}T00:00:00Z", 1 + i % 6);
        *want.entry((day, APPS[i % 2].to_owned())).or_insert(0u64) += 1;
    }
    let mut got = std::collections::BTreeMap::new();
    let mut lines = out.lines();
    assert_eq!(lines.next(), Some("bucket,client_app,count"));
    for l in lines {
        let f: Vec<&str> = l.split(',').collect();
        got.insert(
            (f[0].to_owned(), f[1].to_owned()),
            f[2].parse::<u64>().unwrap(),
        );
    }
    assert_eq!(got, want);
    assert!(err.starts_with("60 events in 6 groups"), "{err}");
}

#[test]
fn stats_refuses_a_field_it_cannot_group() {
    let (_tmp, store) = store();
    let out = mailtrail(&store, &["stats", "--by", "session"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("cannot group by 'session'"), "{err}");
}

#[test]
fn timeline_shows_reads_and_the_rule_set_by_someone_else_in_order() {
    let (_tmp, store) = store();
    let (out, _) = ok(
        &store,
        &[
            "timeline",
            "--mailbox",
            "CEO@contoso.com",
            "--format",
            "jsonl",
        ],
    );
    let entries = jsonl(&out);
    assert_eq!(entries.len(), 21, "20 reads and one rule: {out}");
    let times: Vec<&str> = entries
        .iter()
        .map(|e| e["time"].as_str().unwrap())
        .collect();
    let mut sorted = times.clone();
    sorted.sort();
    assert_eq!(times, sorted, "oldest first");
    let rule = entries
        .iter()
        .find(|e| e["operation"] == "New-InboxRule")
        .unwrap();
    assert_eq!(rule["actor"], "admin@contoso.com");
    assert_eq!(rule["ip"], "198.51.100.23");
    assert!(
        rule["detail"]
            .as_str()
            .unwrap()
            .contains("ForwardTo=drop@evil.example")
    );
    let read = entries
        .iter()
        .find(|e| e["operation"] == "MailItemsAccessed")
        .unwrap();
    assert_eq!(
        read["detail"],
        "Bind: 1 message in \\Inbox (1); 1 operation"
    );
    assert!(
        read["message_ids"][0]
            .as_str()
            .unwrap()
            .starts_with("<msg-")
    );

    let (table, _) = ok(&store, &["timeline", "--mailbox", "ceo@contoso.com"]);
    assert!(table.starts_with("TIME"), "{table}");
    assert_eq!(table.lines().count(), 22);
}

#[test]
fn reindex_rebuilds_the_same_answers_and_search_catches_up_a_missing_index() {
    let (_tmp, store) = store();
    let queries = [
        "op:MailItemsAccessed -ip:10.0.0.0/8",
        "restsystem",
        "touches:ceo@contoso.com",
    ];
    let answers = |store: &Path| -> Vec<String> {
        queries
            .iter()
            .map(|q| ok(store, &["search", q, "--limit", "1000", "--format", "csv"]).0)
            .collect()
    };
    let before = answers(&store);
    let (_, err) = ok(&store, &["reindex"]);
    assert!(err.starts_with("Indexed 61 records"), "{err}");
    assert_eq!(answers(&store), before);

    // Deleted, the index is rebuilt by the next search.
    std::fs::remove_dir_all(store.join("index")).unwrap();
    assert_eq!(answers(&store), before);
}
