//! The index as a derived view of a real evidence store: catch-up, reindex, and hits that lead
//! back to the stored records.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Test code: a failed unwrap is a failed test.

use bytes::Bytes;
use mailtrail_event::{AuditEvent, SourceFormat};
use mailtrail_index::{
    Clause, Expr, Index, IndexDocument, IndexError, Query, SearchField, SearchOptions, catch_up,
    catch_up_report, reindex,
};
use mailtrail_store::{OpenMode, SignerConfig, Store};

const USERS: &[&str] = &[
    "alice@contoso.com",
    "bob@contoso.com",
    "mallory@fabrikam.com",
];
const OPS: &[&str] = &["MailItemsAccessed", "Send", "New-InboxRule"];

/// A Unified Audit Log record as the Management Activity API writes it.
fn ual(i: usize) -> String {
    let user = USERS[i % USERS.len()];
    let op = OPS[i % OPS.len()];
    format!(
        concat!(
            r#"{{"CreationTime":"2026-01-{:02}T{:02}:{:02}:00","Id":"00000000-0000-4000-8000-{:012}","#,
            r#""Operation":"{}","OrganizationId":"contoso-tenant","RecordType":50,"ResultStatus":"Succeeded","#,
            r#""UserKey":"1003","UserType":0,"Version":1,"Workload":"Exchange","ClientIP":"203.0.113.{}","#,
            r#""UserId":"{}","AppId":"00000002-0000-0ff1-ce00-000000000000","#,
            r#""ClientAppId":"d3590ed6-52b3-4102-aeff-aad2292ab01c","ClientInfoString":"Client=REST;Client=RESTSystem;","#,
            r#""MailboxOwnerUPN":"{}","SessionId":"s-{}","#,
            r#""OperationProperties":[{{"Name":"MailAccessType","Value":"Bind"}}],"#,
            r#""Folders":[{{"FolderItems":[{{"InternetMessageId":"<m{}@contoso.com>"}}],"Id":"LgAA","Path":"\\Inbox"}}],"#,
            r#""OperationCount":{}}}"#
        ),
        1 + i % 28,
        i % 24,
        i % 60,
        i,
        op,
        i % 250,
        user,
        user,
        i % 7,
        i,
        1 + i % 5,
    )
}

fn event(raw: String) -> AuditEvent {
    mailtrail_formats::normalize(SourceFormat::UalNdjson, Bytes::from(raw)).unwrap()
}

fn store_with(n: usize) -> (tempfile::TempDir, std::path::PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("store");
    let mut store = Store::init(&dir, SignerConfig::default()).unwrap();
    for i in 0..n {
        assert!(store.append(&event(ual(i))).unwrap().is_new());
    }
    store.commit().unwrap();
    (tmp, dir)
}

fn seqs(index: &Index, q: &str) -> Vec<u64> {
    let opts = SearchOptions {
        limit: 10_000,
        ..SearchOptions::default()
    };
    index
        .search(&Query::parse(q).unwrap(), &opts)
        .unwrap()
        .hits
        .iter()
        .map(|h| h.seq)
        .collect()
}

const QUERIES: &[&str] = &[
    "op:MailItemsAccessed",
    "user:*@contoso.com -op:Send",
    "ip:203.0.113.0/25 op_count:>3",
    "time:[2026-01-03 TO 2026-01-05] OR session:s-3",
    "restsystem inbox",
    "message_id:\"<m17@contoso.com>\"",
];

#[test]
fn catch_up_indexes_every_committed_record() {
    let (_tmp, dir) = store_with(300);
    let store = Store::open(&dir, OpenMode::ReadOnly).unwrap();
    let mut index = Index::open(&dir).unwrap();
    assert_eq!(index.watermark(), 0);
    assert_eq!(catch_up(&mut index, &store).unwrap(), 300);
    assert_eq!(index.watermark(), 300);
    assert_eq!(index.num_events(), 300);
    // Caught up: nothing more to do.
    assert_eq!(catch_up(&mut index, &store).unwrap(), 0);

    // Every hit leads back to a stored record that says what the query asked.
    let hits = seqs(&index, "op:MailItemsAccessed user:alice@contoso.com");
    assert_eq!(hits.len(), 100);
    for seq in hits {
        let rec = store.get_seq(seq).unwrap().unwrap();
        let ev = mailtrail_formats::normalize(rec.source, rec.raw).unwrap();
        assert_eq!(ev.operation, "MailItemsAccessed");
        assert_eq!(ev.user_id.as_deref(), Some("alice@contoso.com"));
    }
    assert_eq!(seqs(&index, "message_id:\"<m17@contoso.com>\""), [17]);
}

/// Record ids are not in the index; the store looks them up, in any case and inside any query.
#[test]
fn record_ids_are_found_through_the_store() {
    let (_tmp, dir) = store_with(60);
    let store = Store::open(&dir, OpenMode::ReadOnly).unwrap();
    let mut index = Index::open(&dir).unwrap();
    catch_up(&mut index, &store).unwrap();
    let id = |i: usize| format!("00000000-0000-4000-8000-{i:012}");
    assert_eq!(seqs(&index, &format!("id:{}", id(17))), [17]);
    assert_eq!(seqs(&index, &format!("id:{}", id(17).to_uppercase())), [17]);
    let mut either = seqs(&index, &format!("id:{} OR id:{}", id(3), id(41)));
    either.sort();
    assert_eq!(either, [3, 41]);
    // Record 6 is alice's MailItemsAccessed; excluding it by id leaves the other 19.
    let q = format!("op:MailItemsAccessed user:alice@contoso.com -id:{}", id(6));
    let hits = seqs(&index, &q);
    assert_eq!(hits.len(), 19);
    assert!(!hits.contains(&6));
    assert!(seqs(&index, "id:00000000-0000-4000-8000-999999999999").is_empty());
    assert_eq!(seqs(&index, "id:*").len(), 60);
    let err = Query::parse("id:00000000-0000*").unwrap_err();
    assert!(err.to_string().contains("matched whole"), "{err}");
    // The same clause built through the API, which the parser never sees.
    let Expr::Clause(Clause::Wildcard { pattern, .. }) =
        Query::parse("user:00000000-0000*").unwrap().expr().clone()
    else {
        panic!("a wildcard on a keyword field");
    };
    let wildcard = Query::from_expr(Expr::Clause(Clause::Wildcard {
        field: SearchField::from_name("id").unwrap(),
        pattern,
    }));
    let err = index
        .search(&wildcard, &SearchOptions::default())
        .unwrap_err();
    assert!(matches!(err, IndexError::IdWildcard { .. }), "{err}");
    assert!(err.to_string().contains("matched whole"), "{err}");
}

#[test]
fn catch_up_resumes_from_the_watermark_after_a_lost_batch() {
    let (_tmp, dir) = store_with(120);
    let store = Store::open(&dir, OpenMode::ReadOnly).unwrap();
    {
        let mut index = Index::open(&dir).unwrap();
        for rec in store.scan(0).take(50) {
            let rec = rec.unwrap();
            index
                .add(
                    rec.seq,
                    &mailtrail_formats::normalize(rec.source, rec.raw).unwrap(),
                )
                .unwrap();
        }
        index.commit(50).unwrap();
        for rec in store.scan(50).take(30) {
            let rec = rec.unwrap();
            index
                .add(
                    rec.seq,
                    &mailtrail_formats::normalize(rec.source, rec.raw).unwrap(),
                )
                .unwrap();
        }
        // Killed before the second commit.
    }
    let mut index = Index::open(&dir).unwrap();
    assert_eq!(index.watermark(), 50);
    assert_eq!(catch_up(&mut index, &store).unwrap(), 70);
    assert_eq!(index.num_events(), 120, "each record once");
    let all = seqs(&index, "*");
    let mut sorted = all.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(sorted, (0..120).collect::<Vec<u64>>());
}

#[test]
fn unreadable_records_are_counted_and_passed() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("store");
    let mut store = Store::init(&dir, SignerConfig::default()).unwrap();
    store.append(&event(ual(0))).unwrap();
    let broken = AuditEvent {
        record_id: "broken-1".into(),
        source: SourceFormat::UalNdjson,
        raw: Bytes::from_static(b"this is not a record"),
        ..Default::default()
    };
    store.append(&broken).unwrap();
    store.append(&event(ual(1))).unwrap();
    store.commit().unwrap();
    let mut index = Index::open(&dir).unwrap();
    let report = catch_up_report(&mut index, &store, |_| {}).unwrap();
    assert_eq!(
        (report.indexed, report.unreadable, report.watermark),
        (2, 1, 3)
    );
    assert_eq!(seqs(&index, "*"), [2, 0]);
}

#[test]
fn reindex_gives_identical_results() {
    let (_tmp, dir) = store_with(400);
    let store = Store::open(&dir, OpenMode::ReadOnly).unwrap();
    let mut index = Index::open(&dir).unwrap();
    catch_up(&mut index, &store).unwrap();
    let before: Vec<Vec<u64>> = QUERIES.iter().map(|q| seqs(&index, q)).collect();
    assert!(
        before.iter().all(|r| !r.is_empty()),
        "every query finds something: {before:?}"
    );
    index.close().unwrap();

    let mut progress = Vec::new();
    let report = reindex(&store, |p| progress.push(p.watermark)).unwrap();
    assert_eq!((report.indexed, report.watermark), (400, 400));
    assert_eq!(progress.last(), Some(&400));
    let index = Index::open(&dir).unwrap();
    let after: Vec<Vec<u64>> = QUERIES.iter().map(|q| seqs(&index, q)).collect();
    assert_eq!(before, after);
    assert!(!dir.join("index.new").exists());
    assert!(!dir.join("index.old").exists());
}

#[test]
fn documents_built_on_another_thread_index_as_added_events_do() {
    let events: Vec<AuditEvent> = (0..400).map(|i| event(ual(i))).collect();
    let tmp = tempfile::tempdir().unwrap();
    let mut added = Index::open(&tmp.path().join("added")).unwrap();
    for (seq, e) in (0..).zip(&events) {
        added.add(seq, e).unwrap();
    }
    added.commit(400).unwrap();

    let mut built = Index::open(&tmp.path().join("built")).unwrap();
    let builder = built.document_builder().unwrap();
    let documents: Vec<IndexDocument> = std::thread::scope(|s| {
        s.spawn(|| events.iter().map(|e| builder.build(e)).collect())
            .join()
            .unwrap()
    });
    for (seq, d) in (0..).zip(documents) {
        built.add_document(seq, d).unwrap();
    }
    built.commit(400).unwrap();
    for q in QUERIES {
        let found = seqs(&added, q);
        assert!(!found.is_empty(), "{q}");
        assert_eq!(seqs(&built, q), found, "{q}");
    }

    // Each index hashes identifiers under its own key: another index's document is refused.
    let foreign = added.document_builder().unwrap().build(&events[0]);
    assert!(matches!(
        built.add_document(400, foreign),
        Err(IndexError::ForeignDocument)
    ));
}

#[test]
fn reindex_repairs_a_damaged_index() {
    let (_tmp, dir) = store_with(30);
    let store = Store::open(&dir, OpenMode::ReadOnly).unwrap();
    std::fs::create_dir_all(dir.join("index")).unwrap();
    std::fs::write(dir.join("index").join("meta.json"), b"{ not json").unwrap();
    assert!(Index::open(&dir).is_err());
    reindex(&store, |_| {}).unwrap();
    let index = Index::open(&dir).unwrap();
    assert_eq!(index.num_events(), 30);
}

#[test]
fn reindex_waits_for_no_one_and_refuses_while_an_ingest_writes() {
    let (_tmp, dir) = store_with(10);
    let store = Store::open(&dir, OpenMode::ReadOnly).unwrap();
    let mut ingesting = Index::open(&dir).unwrap();
    catch_up(&mut ingesting, &store).unwrap();
    let err = reindex(&store, |_| {}).unwrap_err();
    assert!(matches!(err, IndexError::Locked { .. }), "{err}");
    drop(ingesting);
    reindex(&store, |_| {}).unwrap();
}
