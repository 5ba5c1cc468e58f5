//! The index's publishing contract and its behaviour on events built in memory.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Test code: a failed unwrap is a failed test.

use mailtrail_event::{
    AuditEvent, Folder, MailAccess, MailAccessType, MailItem, NameValue, SignIn, parse_time,
};
use mailtrail_index::{
    Index, IndexError, Query, SearchField, SearchOptions, StatsRequest, TimelineEntry,
};

fn event(time: &str, user: &str, op: &str) -> AuditEvent {
    AuditEvent {
        time: parse_time(time).unwrap(),
        workload: Some("Exchange".into()),
        user_id: Some(user.into()),
        operation: op.into(),
        ..Default::default()
    }
}

fn search(index: &Index, q: &str) -> Vec<u64> {
    let page = index
        .search(&Query::parse(q).unwrap(), &SearchOptions::default())
        .unwrap();
    page.hits.iter().map(|h| h.seq).collect()
}

#[test]
fn queries_never_return_uncommitted_documents() {
    let dir = tempfile::tempdir().unwrap();
    let mut writer = Index::open(dir.path()).unwrap();
    let reader = Index::open(dir.path()).unwrap();
    for seq in 0..10 {
        writer
            .add(seq, &event("2026-01-01T00:00:00Z", "a@x.com", "Send"))
            .unwrap();
    }
    assert_eq!(search(&writer, "op:Send"), Vec::<u64>::new());
    assert_eq!(writer.watermark(), 0);
    writer.commit(10).unwrap();
    assert_eq!(search(&writer, "op:Send").len(), 10);
    assert_eq!(writer.watermark(), 10);

    // Another handle sees the batch only after it reloads, and then all of it at once.
    let mut reader = reader;
    assert_eq!(search(&reader, "op:Send").len(), 0);
    writer
        .add(10, &event("2026-01-01T00:00:00Z", "a@x.com", "Send"))
        .unwrap();
    reader.reload().unwrap();
    assert_eq!(
        search(&reader, "op:Send").len(),
        10,
        "the pending 11th is not published"
    );
    assert_eq!(reader.watermark(), 10);
}

#[test]
fn a_crash_loses_only_the_unpublished_batch() {
    let dir = tempfile::tempdir().unwrap();
    {
        let mut index = Index::open(dir.path()).unwrap();
        index
            .add(0, &event("2026-01-01T00:00:00Z", "a@x.com", "Send"))
            .unwrap();
        index.commit(1).unwrap();
        index
            .add(1, &event("2026-01-01T00:00:00Z", "b@x.com", "Send"))
            .unwrap();
        // Dropped without commit, as a killed process would.
    }
    let mut index = Index::open(dir.path()).unwrap();
    assert_eq!(index.watermark(), 1);
    assert_eq!(search(&index, "op:Send"), [0]);
    // The lost record is indexed again from the watermark, once.
    index
        .add(1, &event("2026-01-01T00:00:00Z", "b@x.com", "Send"))
        .unwrap();
    index.commit(2).unwrap();
    assert_eq!(search(&index, "op:Send"), [1, 0]);
}

#[test]
fn commit_alongside_publishes_only_after_the_durable_side_succeeds() {
    let dir = tempfile::tempdir().unwrap();
    let mut index = Index::open(dir.path()).unwrap();
    let send = event("2026-01-01T00:00:00Z", "a@x.com", "Send");
    for seq in 0..5 {
        index.add(seq, &send).unwrap();
    }
    // The durable side fails: nothing is published and the batch is dropped.
    let (durable, published) = index.commit_alongside(|| {
        assert!(
            search(&index_reader(dir.path()), "op:Send").is_empty(),
            "nothing is visible while the durable side runs"
        );
        Err::<((), u64), &str>("disk full")
    });
    assert_eq!(durable, Err("disk full"));
    published.unwrap();
    assert_eq!(index.watermark(), 0);
    assert!(search(&index, "op:Send").is_empty());
    assert!(search(&index_reader(dir.path()), "op:Send").is_empty());

    // It succeeds: the new batch is published under the watermark it returned, one past the
    // last event (a record without an event counts as indexed).
    for seq in 0..5 {
        index.add(seq, &send).unwrap();
    }
    let (durable, published) = index.commit_alongside(|| Ok::<_, ()>(("stored", 6)));
    assert_eq!(durable, Ok("stored"));
    published.unwrap();
    assert_eq!(index.watermark(), 6);
    assert_eq!(search(&index, "op:Send"), [4, 3, 2, 1, 0]);
    assert_eq!(index_reader(dir.path()).watermark(), 6);

    // A watermark behind the added events is refused and publishes nothing.
    index.add(6, &send).unwrap();
    let (durable, published) = index.commit_alongside(|| Ok::<_, ()>(((), 6)));
    assert_eq!(durable, Ok(()));
    assert!(
        matches!(
            published,
            Err(IndexError::WatermarkBehind {
                watermark: 6,
                required: 7
            })
        ),
        "{published:?}"
    );
    assert_eq!(index_reader(dir.path()).watermark(), 6);
}

/// A second handle on the same index, as a concurrent reader sees it.
fn index_reader(dir: &std::path::Path) -> Index {
    Index::open(dir).unwrap()
}

#[test]
fn add_refuses_sequence_numbers_out_of_order() {
    let dir = tempfile::tempdir().unwrap();
    let mut index = Index::open(dir.path()).unwrap();
    let ev = event("2026-01-01T00:00:00Z", "a@x.com", "Send");
    index.add(5, &ev).unwrap();
    let err = index.add(5, &ev).unwrap_err();
    assert!(
        matches!(
            err,
            IndexError::OutOfOrder {
                seq: 5,
                expected: 6
            }
        ),
        "{err}"
    );
    index.commit(8).unwrap();
    let err = index.add(7, &ev).unwrap_err();
    assert_eq!(
        err.to_string(),
        "record 7 cannot be indexed: the index expects sequence numbers from 8 on, in increasing order"
    );
}

#[test]
fn commit_refuses_a_watermark_behind_added_records() {
    let dir = tempfile::tempdir().unwrap();
    let mut index = Index::open(dir.path()).unwrap();
    index
        .add(3, &event("2026-01-01T00:00:00Z", "a@x.com", "Send"))
        .unwrap();
    let err = index.commit(3).unwrap_err();
    assert!(
        matches!(
            err,
            IndexError::WatermarkBehind {
                watermark: 3,
                required: 4
            }
        ),
        "{err}"
    );
    index.commit(4).unwrap();
    assert_eq!(index.watermark(), 4);
}

#[test]
fn a_second_writer_is_refused_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let mut first = Index::open(dir.path()).unwrap();
    first.commit(0).unwrap();
    let mut second = Index::open(dir.path()).unwrap();
    let err = second.commit(0).unwrap_err();
    assert!(matches!(err, IndexError::Locked { .. }), "{err}");
    assert!(
        err.to_string().contains("being written by another process"),
        "{err}"
    );
    first.close().unwrap();
    second.commit(0).unwrap();
}

/// Writes an index in `dir` holding one event, published with `watermark`, and closes it.
fn one_event_index(dir: &std::path::Path, watermark: u64) {
    let mut index = Index::open(dir).unwrap();
    index
        .add(0, &event("2026-01-01T00:00:00Z", "a@x.com", "Send"))
        .unwrap();
    index.commit(watermark).unwrap();
    index.close().unwrap();
}

#[test]
fn watermark_survives_reopening() {
    let dir = tempfile::tempdir().unwrap();
    one_event_index(dir.path(), 42);
    let index = Index::open(dir.path()).unwrap();
    assert_eq!(index.watermark(), 42);
    assert_eq!(index.num_events(), 1);
}

#[test]
fn cursor_pages_ignore_events_indexed_after_the_first_page() {
    let dir = tempfile::tempdir().unwrap();
    let mut index = Index::open(dir.path()).unwrap();
    for seq in 0..6 {
        let t = format!("2026-01-0{}T00:00:00Z", seq + 1);
        index.add(seq, &event(&t, "a@x.com", "Send")).unwrap();
    }
    index.commit(6).unwrap();
    let q = Query::parse("op:Send").unwrap();
    let first = index
        .search(
            &q,
            &SearchOptions {
                limit: 2,
                ..SearchOptions::default()
            },
        )
        .unwrap();
    assert_eq!(first.hits.iter().map(|h| h.seq).collect::<Vec<_>>(), [5, 4]);
    // New events arrive, some older than the page boundary.
    index
        .add(6, &event("2026-01-03T12:00:00Z", "late@x.com", "Send"))
        .unwrap();
    index.commit(7).unwrap();
    let next = first.next.unwrap().to_string().parse().unwrap();
    let second = index
        .search(
            &q,
            &SearchOptions {
                limit: 10,
                after: Some(next),
                ..SearchOptions::default()
            },
        )
        .unwrap();
    assert_eq!(
        second.hits.iter().map(|h| h.seq).collect::<Vec<_>>(),
        [3, 2, 1, 0]
    );
    assert_eq!(second.watermark, 6);
    assert!(second.next.is_none());
    // A fresh search sees the new event.
    assert_eq!(search(&index, "op:Send").len(), 7);
}

#[test]
fn options_narrow_by_time_and_tenant() {
    let dir = tempfile::tempdir().unwrap();
    let mut index = Index::open(dir.path()).unwrap();
    for (seq, (t, tenant)) in [
        ("2026-01-01T00:00:00Z", "contoso"),
        ("2026-01-02T00:00:00Z", "contoso"),
        ("2026-01-03T00:00:00Z", "fabrikam"),
    ]
    .into_iter()
    .enumerate()
    {
        let mut ev = event(t, "a@x.com", "Send");
        ev.tenant_id = Some(tenant.into());
        index.add(seq as u64, &ev).unwrap();
    }
    index.commit(3).unwrap();
    let opts = SearchOptions {
        from: parse_time("2026-01-02T00:00:00Z"),
        tenant: Some("CONTOSO".into()),
        ..SearchOptions::default()
    };
    let page = index.search(&Query::all(), &opts).unwrap();
    assert_eq!(page.hits.iter().map(|h| h.seq).collect::<Vec<_>>(), [1]);
    let opts = SearchOptions {
        to: parse_time("2026-01-02T00:00:00Z"),
        ..SearchOptions::default()
    };
    assert_eq!(index.search(&Query::all(), &opts).unwrap().total, 1);
}

#[test]
fn free_text_reaches_parameters_and_folders_and_ids_their_fields() {
    let dir = tempfile::tempdir().unwrap();
    let mut index = Index::open(dir.path()).unwrap();
    let mut rule = event("2026-01-01T00:00:00Z", "admin@contoso.com", "New-InboxRule");
    rule.parameters = vec![NameValue {
        name: "ForwardTo".into(),
        value: "exfil@evil.example".into(),
    }];
    let mut read = event(
        "2026-01-02T00:00:00Z",
        "app@contoso.com",
        "MailItemsAccessed",
    );
    read.mail_access = Some(MailAccess {
        access_type: Some(MailAccessType::Bind),
        folders: vec![Folder {
            path: Some("\\Inbox\\Board minutes".into()),
            message_ids: vec!["<CAF=x1@mail.contoso.com>".into()],
            ..Default::default()
        }],
        ..Default::default()
    });
    let mut sent = event("2026-01-03T00:00:00Z", "cfo@contoso.com", "Send");
    sent.items = vec![MailItem {
        internet_message_id: Some("<CAF=x2@mail.contoso.com>".into()),
        subject: Some("Wire transfer: new bank details".into()),
        folder: Some("\\Sent Items".into()),
    }];
    index.add(0, &rule).unwrap();
    index.add(1, &read).unwrap();
    index.add(2, &sent).unwrap();
    index.commit(3).unwrap();
    // The subjects of the messages an operation acted on.
    assert_eq!(search(&index, "\"bank details\""), [2]);
    assert_eq!(search(&index, "wire"), [2]);
    assert_eq!(search(&index, "evil"), [0]);
    assert_eq!(search(&index, "\"evil example\""), [0]);
    assert_eq!(search(&index, "forwardto"), [0]);
    assert_eq!(search(&index, "\"board minutes\""), [1]);
    // Message ids are searched by field, not as words.
    assert_eq!(search(&index, "x1"), Vec::<u64>::new());
    assert_eq!(
        search(&index, "message_id:\"<caf=x1@mail.contoso.com>\""),
        [1]
    );
    assert_eq!(search(&index, "folder:*board*"), [1]);
    assert_eq!(
        search(&index, "\"example board\""),
        Vec::<u64>::new(),
        "phrases stay in one value"
    );
}

#[test]
fn identifiers_are_found_by_every_handle_and_after_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let with_session = |session: &str| AuditEvent {
        session_id: Some(session.into()),
        ..event("2026-01-01T00:00:00Z", "a@x.com", "MailItemsAccessed")
    };
    // Two handles on a new index, each with a key of its own until one commits: the second writer
    // must take the committed key, or its identifiers would never be found.
    let mut first = Index::open(dir.path()).unwrap();
    let mut second = Index::open(dir.path()).unwrap();
    first.add(0, &with_session("Session-A")).unwrap();
    first.commit(1).unwrap();
    first.close().unwrap();
    second.add(1, &with_session("session-b")).unwrap();
    second.commit(2).unwrap();
    second.close().unwrap();
    let reopened = Index::open(dir.path()).unwrap();
    assert_eq!(search(&reopened, "session:session-a"), [0]);
    assert_eq!(search(&reopened, "SessionId:\"SESSION-B\""), [1]);
    assert_eq!(search(&reopened, "session:*").len(), 2);
    assert_eq!(search(&reopened, "session:session-c"), Vec::<u64>::new());
    let err = Query::parse("session:session-*").unwrap_err();
    assert!(err.to_string().contains("matched whole"), "{err}");
}

#[test]
fn an_index_of_another_version_asks_for_reindex_without_showing_its_key() {
    let dir = tempfile::tempdir().unwrap();
    one_event_index(dir.path(), 1);
    let meta = dir.path().join("index/meta.json");
    let text = std::fs::read_to_string(&meta).unwrap();
    let key = text.split("ids=").nth(1).unwrap()[..32].to_owned();
    let layout = text.split("mailtrail-index/").nth(1).unwrap();
    let layout = &layout[..layout.find(' ').unwrap()];
    std::fs::write(
        &meta,
        text.replace(&format!("mailtrail-index/{layout}"), "mailtrail-index/0"),
    )
    .unwrap();
    let err = Index::open(dir.path()).unwrap_err();
    assert!(matches!(err, IndexError::Outdated { .. }), "{err}");
    let message = err.to_string();
    assert!(message.contains("mailtrail-index/0"), "{message}");
    assert!(message.contains("mailtrail reindex"), "{message}");
    assert!(!message.contains(&key), "{message}");

    // An index with other fields altogether.
    let other = tempfile::tempdir().unwrap();
    std::fs::create_dir(other.path().join("index")).unwrap();
    let mut schema = tantivy::schema::Schema::builder();
    schema.add_text_field("body", tantivy::schema::TEXT);
    tantivy::Index::create_in_dir(other.path().join("index"), schema.build()).unwrap();
    let err = Index::open(other.path()).unwrap_err();
    assert!(err.to_string().contains("mailtrail reindex"), "{err}");
}

#[test]
fn free_text_finds_whole_words_of_values_left_to_keyword_fields() {
    let dir = tempfile::tempdir().unwrap();
    let mut index = Index::open(dir.path()).unwrap();
    let mut read = event(
        "2026-01-01T00:00:00Z",
        "Alice.Evans@Contoso.com",
        "MailItemsAccessed",
    );
    read.user_agent = Some("Mozilla/5.0 (Windows NT 10.0; Win64) Outlook/16.0".into());
    read.result_status = Some("Succeeded".into());
    // Longer than a keyword holds (1 KiB): the field keeps the first KiB, which ends in "tailw".
    let mut send = event("2026-01-02T00:00:00Z", "bob@contoso.com", "Send");
    send.user_agent = Some(format!("LongAgent/1.0 {} tailword more", "x".repeat(1004)));
    assert_eq!(
        send.user_agent.as_deref().unwrap()[..1024]
            .rsplit(' ')
            .next(),
        Some("tailw")
    );
    let mut sign_in = event("2026-01-03T00:00:00Z", "carol@contoso.com", "Sign-in");
    sign_in.sign_in = Some(Box::new(SignIn {
        app_display_name: Some("Microsoft Teams Web Client".into()),
        ..Default::default()
    }));
    index.add(0, &read).unwrap();
    index.add(1, &send).unwrap();
    index.add(2, &sign_in).unwrap();
    index.commit(3).unwrap();
    let none = Vec::<u64>::new();
    assert_eq!(search(&index, "\"teams web\""), [2]);
    assert_eq!(search(&index, "outlook"), [0]);
    assert_eq!(search(&index, "OUTLOOK succeeded"), [0]);
    assert_eq!(search(&index, "outloo"), none, "words match whole");
    assert_eq!(search(&index, "indows"), none);
    assert_eq!(search(&index, "\"windows nt\""), [0]);
    assert_eq!(
        search(&index, "\"nt windows\""),
        none,
        "phrases keep their order"
    );
    assert_eq!(search(&index, "\"evans contoso\""), [0]);
    assert_eq!(search(&index, "out*k"), [0]);
    assert_eq!(search(&index, "win??"), [0]);
    assert_eq!(search(&index, "mailitemsaccessed"), [0]);
    assert_eq!(search(&index, "tailword"), [1]);
    assert_eq!(
        search(&index, "tailw"),
        none,
        "the word cut at 1 KiB is no word"
    );
    assert_eq!(search(&index, "longagent"), [1]);
    let mut all = search(&index, "contoso");
    all.sort();
    assert_eq!(all, [0, 1, 2]);
    let mut not_outlook = search(&index, "contoso -outlook");
    not_outlook.sort();
    assert_eq!(not_outlook, [1, 2]);
}

#[test]
fn timeline_includes_changes_made_to_a_mailbox_by_others() {
    let dir = tempfile::tempdir().unwrap();
    let mut index = Index::open(dir.path()).unwrap();
    let mut perm = event(
        "2026-01-02T00:00:00Z",
        "admin@contoso.com",
        "Add-MailboxPermission",
    );
    perm.parameters = vec![
        NameValue {
            name: "Identity".into(),
            value: "ceo@contoso.com".into(),
        },
        NameValue {
            name: "User".into(),
            value: "intruder@contoso.com".into(),
        },
    ];
    let mut read = event(
        "2026-01-03T00:00:00Z",
        "intruder@contoso.com",
        "MailItemsAccessed",
    );
    read.mailbox_owner_upn = Some("CEO@contoso.com".into());
    let own = event("2026-01-01T00:00:00Z", "ceo@contoso.com", "Send");
    let other = event("2026-01-01T00:00:00Z", "cfo@contoso.com", "Send");
    for (seq, ev) in [&perm, &read, &own, &other].into_iter().enumerate() {
        index.add(seq as u64, ev).unwrap();
    }
    index.commit(4).unwrap();
    let tl = index
        .timeline("ceo@contoso.com", &SearchOptions::default())
        .unwrap();
    assert_eq!(tl.hits.iter().map(|h| h.seq).collect::<Vec<_>>(), [2, 0, 1]);
    assert_eq!(tl.total, 3);
    let entry = TimelineEntry::describe(&perm);
    assert_eq!(
        entry.detail,
        "Identity=ceo@contoso.com, User=intruder@contoso.com"
    );
    // The limit keeps the earliest.
    let first = index
        .timeline(
            "ceo@contoso.com",
            &SearchOptions {
                limit: 1,
                ..SearchOptions::default()
            },
        )
        .unwrap();
    assert_eq!(first.hits.iter().map(|h| h.seq).collect::<Vec<_>>(), [2]);
    assert_eq!(first.total, 3);
}

#[test]
fn stats_refuse_fields_without_a_column() {
    let dir = tempfile::tempdir().unwrap();
    let index = Index::open(dir.path()).unwrap();
    let req = StatsRequest {
        by: vec![SearchField::from_name("session").unwrap()],
        interval: None,
    };
    let err = index
        .stats(&Query::all(), &SearchOptions::default(), &req)
        .unwrap_err();
    assert!(
        err.to_string()
            .starts_with("cannot group by 'session'; fields that can be grouped: kind, source"),
        "{err}"
    );
}

#[test]
fn stats_without_fields_count_per_bucket() {
    let dir = tempfile::tempdir().unwrap();
    let mut index = Index::open(dir.path()).unwrap();
    for (seq, t) in [
        "2026-01-01T01:00:00Z",
        "2026-01-01T23:00:00Z",
        "2026-01-03T00:00:00Z",
    ]
    .into_iter()
    .enumerate()
    {
        index.add(seq as u64, &event(t, "a@x.com", "Send")).unwrap();
    }
    index.commit(3).unwrap();
    let req = StatsRequest {
        by: vec![],
        interval: Some("1d".parse().unwrap()),
    };
    let stats = index
        .stats(&Query::all(), &SearchOptions::default(), &req)
        .unwrap();
    let rows: Vec<(String, u64)> = stats
        .rows
        .iter()
        .map(|r| (r.bucket.unwrap().to_string(), r.count))
        .collect();
    assert_eq!(
        rows,
        [
            ("2026-01-01T00:00:00Z".to_owned(), 2),
            ("2026-01-03T00:00:00Z".to_owned(), 1)
        ]
    );
    assert_eq!(stats.total, 3);
}

/// Fields kept only as columns, over many blocks of events and two segments: every spelling of a
/// value, exclusions, and intersections with a rare term that seek far ahead, against counts
/// taken from the events themselves.
#[test]
fn column_fields_answer_like_terms_over_many_blocks() {
    const WORKLOADS: [&str; 5] = ["Exchange", "SharePoint", "EXCHANGE", "OneDrive", "exchange"];
    let dir = tempfile::tempdir().unwrap();
    let mut index = Index::open(dir.path()).unwrap();
    let mut events = Vec::new();
    // A sequence without period, so that values and the rare user fall unevenly across blocks.
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    for seq in 0..30_000u64 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let user = if x.is_multiple_of(211) {
            "rare@x.com"
        } else {
            "a@x.com"
        };
        let mut ev = event("2026-01-01T00:00:00Z", user, "MailItemsAccessed");
        ev.workload = Some(WORKLOADS[(x % 5) as usize].into());
        ev.mail_access = (!x.is_multiple_of(3)).then(|| MailAccess {
            is_throttled: Some(x.is_multiple_of(7)),
            ..Default::default()
        });
        index.add(seq, &ev).unwrap();
        events.push(ev);
        if seq == 12_345 {
            index.commit(seq + 1).unwrap();
        }
    }
    index.commit(30_000).unwrap();

    let exchange = |ev: &AuditEvent| {
        ev.workload
            .as_deref()
            .unwrap()
            .eq_ignore_ascii_case("exchange")
    };
    let rare = |ev: &AuditEvent| ev.user_id.as_deref() == Some("rare@x.com");
    let throttled = |ev: &AuditEvent| ev.mail_access.as_ref().and_then(|m| m.is_throttled);
    let count = |f: &dyn Fn(&AuditEvent) -> bool| events.iter().filter(|e| f(e)).count() as u64;
    let cases: [(&str, u64); 8] = [
        ("workload:EXCHANGE", count(&exchange)),
        (
            "workload:exchange user:rare@x.com",
            count(&|e| exchange(e) && rare(e)),
        ),
        ("-workload:exchange", count(&|e| !exchange(e))),
        (
            "user:rare@x.com -workload:exchange",
            count(&|e| rare(e) && !exchange(e)),
        ),
        ("workload:*o*", count(&|e| !exchange(e))),
        (
            "throttled:true user:rare@x.com",
            count(&|e| rare(e) && throttled(e) == Some(true)),
        ),
        ("throttled:false", count(&|e| throttled(e) == Some(false))),
        (
            "workload:nothing OR throttled:*",
            count(&|e| throttled(e).is_some()),
        ),
    ];
    for (q, want) in cases {
        let page = index
            .search(&Query::parse(q).unwrap(), &SearchOptions::default())
            .unwrap();
        assert_eq!(page.total, want, "{q}");
        assert!(want > 0, "{q} tests nothing");
    }
}

/// Records read in part are found by what they left unread, and `unread:*` finds them all.
#[test]
fn records_read_in_part_are_found_by_what_they_left_unread() {
    let dir = tempfile::tempdir().unwrap();
    let mut index = Index::open(dir.path()).unwrap();
    let whole = event("2026-01-01T00:00:00Z", "a@x.com", "MoveToDeletedItems");
    let mut part = whole.clone();
    part.unread = vec!["field AffectedItems: neither a message nor a list of messages".into()];
    index.add(0, &whole).unwrap();
    index.add(1, &part).unwrap();
    index.commit(2).unwrap();
    assert_eq!(search(&index, "unread:*"), vec![1]);
    assert_eq!(search(&index, "read_in_part:*affecteditems*"), vec![1]);
    assert_eq!(search(&index, "-unread:*"), vec![0]);
    assert_eq!(search(&index, "unread:*Item:*"), Vec::<u64>::new());
}
