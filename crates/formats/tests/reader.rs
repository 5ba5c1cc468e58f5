//! The reader's contract: order is preserved whatever the thread count, a sink can stop it, the
//! iterator yields the same records on another thread, and summaries count per input.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Test code: a failed unwrap is a failed test.

mod util;

use std::ops::ControlFlow;

use mailtrail_event::{AuditEvent, SourceFormat};
use mailtrail_formats::{Input, RawBytes, ReadOptions, Reader, Record, RecordKey};

/// `n` records across several batches, with a bad line every 1,000 records.
fn many(n: usize) -> String {
    (0..n)
        .map(|i| {
            if i % 1000 == 999 {
                "not json\n".to_owned()
            } else {
                format!(r#"{{"Id":"{i}","CreationTime":"2023-06-16T09:01:02","Operation":"Send","RecordType":2}}"#) + "\n"
            }
        })
        .collect()
}

fn ids(threads: usize, inputs: &[Input]) -> Vec<String> {
    let mut out = Vec::new();
    Reader::new(ReadOptions {
        threads,
        ..Default::default()
    })
    .read_all(inputs, &mut |r: Record| {
        out.push(match r {
            Ok(ev) => ev.record_id,
            Err(e) => format!("!{}", e.location()),
        });
        ControlFlow::Continue(())
    });
    out
}

#[test]
fn order_is_the_same_on_one_thread_or_many() {
    let inputs = [
        Input::bytes("a.json", many(12_000)),
        Input::bytes(
            "b.json",
            format!(
                "[{}]",
                many(9_000)
                    .lines()
                    .filter(|l| l.starts_with('{'))
                    .collect::<Vec<_>>()
                    .join(",")
            ),
        ),
    ];
    let one = ids(1, &inputs);
    assert_eq!(one.len(), 12_000 + 8_991);
    assert_eq!(one[0], "0");
    assert_eq!(one[999], "!a.json:1000");
    for threads in [2, 3, 5] {
        assert_eq!(ids(threads, &inputs), one, "{threads} threads");
    }
}

#[test]
fn a_sink_can_stop_the_reading() {
    for threads in [1, 2] {
        let mut seen = 0;
        let summary = Reader::new(ReadOptions {
            threads,
            ..Default::default()
        })
        .read_all(
            &[
                Input::bytes("a.json", many(50_000)),
                Input::bytes("b.json", many(10)),
            ],
            &mut |_r: Record| {
                seen += 1;
                if seen == 10 {
                    ControlFlow::Break(())
                } else {
                    ControlFlow::Continue(())
                }
            },
        );
        assert_eq!(seen, 10);
        assert!(summary.stopped());
        assert_eq!(summary.inputs().len(), 1, "b.json was never started");
        assert_eq!(summary.records(), 10);
    }
}

#[test]
fn events_iterate_on_another_thread() {
    let reader = Reader::new(ReadOptions::default());
    let events = reader
        .events(vec![
            Input::bytes("a.json", many(3_000)),
            Input::bytes("b.json", many(5)),
        ])
        .unwrap();
    let records: Vec<Record> = events.collect();
    assert_eq!(records.len(), 3_005);
    assert_eq!(records.iter().filter(|r| r.is_err()).count(), 3);

    let mut events = reader
        .events(vec![Input::bytes("a.json", many(3_000))])
        .unwrap();
    assert_eq!(events.next().unwrap().unwrap().record_id, "0");
    let summary = events.finish();
    assert!(summary.records() >= 1);
}

#[test]
fn summaries_count_per_input_and_per_source() {
    let summary = Reader::default().read_all(
        &[
            Input::bytes("a.json", many(2_500)),
            Input::bytes(
                "b.json",
                format!("[{}]", many(3).trim_end().replace('\n', ",")),
            ),
        ],
        &mut |_r: Record| ControlFlow::Continue(()),
    );
    let [a, b] = summary.inputs() else {
        panic!("two inputs")
    };
    assert_eq!((a.name(), a.records(), a.rejected()), ("a.json", 2_498, 2));
    assert_eq!(a.rejects().len(), 2);
    assert_eq!(a.by_source().get(&SourceFormat::UalNdjson), Some(&2_498));
    assert_eq!(b.by_source().get(&SourceFormat::ManagementApi), Some(&3));
    assert_eq!((summary.records(), summary.rejected()), (2_501, 2));
}

#[test]
fn what_crosses_threads_is_send() {
    fn send<T: Send>() {}
    send::<mailtrail_formats::Events>();
    send::<Record>();
    send::<mailtrail_formats::Summary>();
    send::<Reader>();
    send::<Input>();
}

/// Every fixture of `tests/data`, one input each: every format and container.
fn fixture_inputs() -> Vec<Input> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data");
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x != "md"))
        .map(|p| Input::bytes(&p.display().to_string(), std::fs::read(&p).unwrap()))
        .collect()
}

#[test]
fn events_sharing_their_batch_bytes_equal_events_with_copies() {
    let inputs = fixture_inputs();
    let read = |raw, threads| {
        let mut events = Vec::new();
        Reader::new(ReadOptions {
            raw,
            threads,
            ..Default::default()
        })
        .read_all(&inputs, &mut |r: Record| {
            events.extend(r.ok());
            ControlFlow::Continue(())
        });
        events
    };
    let copied = read(RawBytes::Copied, 1);
    assert!(copied.len() >= 40, "{}", copied.len());
    for threads in [1, 3] {
        let shared = read(RawBytes::Shared, threads);
        // The whole event, its raw bytes included.
        assert_eq!(shared, copied, "{threads} threads");
    }
}

#[test]
fn prepared_records_are_the_events_prepared_on_the_workers_in_order() {
    // Among the fixtures' records, `many` puts five malformed lines.
    let mut inputs = fixture_inputs();
    inputs.push(Input::bytes("many.json", many(5_000)));
    let shown = |r: Record| r.map_err(|e| e.to_string());
    for threads in [1, 3] {
        let reader = Reader::new(ReadOptions {
            threads,
            ..Default::default()
        });
        let mut events = Vec::new();
        let all = reader.read_all(&inputs, &mut |r: Record| {
            events.push(shown(r));
            ControlFlow::Continue(())
        });
        let mut prepared = Vec::new();
        let prepare = |ev: AuditEvent| (std::thread::current().name().map(str::to_owned), ev);
        let summary = reader.read_prepared(&inputs, &prepare, &mut |r: Record<_>| {
            prepared.push(r.map_err(|e| e.to_string()));
            ControlFlow::Continue(())
        });
        let (threads_used, prepared): (Vec<_>, Vec<_>) = prepared
            .into_iter()
            .map(|r| match r {
                Ok((thread, ev)) => (thread, Ok(ev)),
                Err(e) => (None, Err(e)),
            })
            .unzip();
        assert!(events.len() > 5_000, "{}", events.len());
        assert_eq!(prepared, events, "{threads} threads");
        assert_eq!(
            (summary.records(), summary.rejected()),
            (all.records(), all.rejected())
        );
        assert!(all.rejected() >= 2, "{}", all.rejected());
        let by_source = |s: &mailtrail_formats::Summary| {
            s.inputs()
                .iter()
                .map(|i| i.by_source().clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(by_source(&summary), by_source(&all));
        // Prepared where they were made: on the workers, or on the caller's thread without them.
        let caller = std::thread::current().name().map(str::to_owned);
        for (thread, ev) in threads_used.iter().zip(&events) {
            if ev.is_ok() {
                let on_worker = thread
                    .as_deref()
                    .is_some_and(|t| t.starts_with("mailtrail-normalise"));
                assert_eq!(on_worker, threads > 1, "{thread:?}");
                assert_eq!(*thread == caller, threads == 1, "{thread:?}");
            }
        }
    }
}

#[test]
fn records_read_in_part_are_kept_counted_and_located() {
    let good = r#"{"Id":"1","CreationTime":"2023-06-16T09:01:02","Operation":"MoveToDeletedItems","AffectedItems":[{"InternetMessageId":"<a@x>"}]}"#;
    let odd = r#"{"Id":"2","CreationTime":"2023-06-16T09:01:03","Operation":"HardDelete","AffectedItems":"gone"}"#;
    let input = Input::bytes("items.json", format!("{good}\n{odd}\n{good}\n"));
    for threads in [1, 3] {
        let reader = Reader::new(ReadOptions {
            threads,
            ..Default::default()
        });
        let mut events = Vec::new();
        let summary = reader.read_all(std::slice::from_ref(&input), &mut |r: Record| {
            events.extend(r.ok());
            ControlFlow::Continue(())
        });
        assert_eq!((summary.records(), summary.rejected()), (3, 0));
        assert_eq!(summary.partial(), 1);
        let [w] = &summary.warnings().collect::<Vec<_>>()[..] else {
            panic!("one warning")
        };
        assert_eq!((w.location().line(), w.record_id()), (2, "2"));
        assert!(w.unread()[0].contains("AffectedItems"), "{w}");
        assert!(
            w.to_string()
                .starts_with("items.json:2: record 2 read in part: "),
            "{w}"
        );
        // The event is there, without its messages, and says so.
        assert_eq!(events[1].record_id, "2");
        assert!(events[1].items.is_empty());
        assert_eq!(events[1].unread, w.unread());
        assert!(events[0].unread.is_empty() && events[0].items.len() == 1);
    }
}

#[test]
fn keys_are_read_from_the_same_fields_as_events() {
    let inputs = fixture_inputs();
    let reader = Reader::default();
    let mut events = Vec::new();
    let full = reader.read_all(&inputs, &mut |r: Record| {
        events.push(r.map(|ev| (ev.time, ev.record_id, ev.source, ev.raw)));
        ControlFlow::Continue(())
    });
    let mut keys = Vec::new();
    let keyed = reader.read_keys(&inputs, &mut |r: Record<RecordKey>| {
        keys.push(r.map(|k| (k.time, k.record_id, k.source, k.raw)));
        ControlFlow::Continue(())
    });
    assert!(full.records() >= 40, "{}", full.records());
    assert_eq!(
        (keyed.records(), keyed.rejected()),
        (full.records(), full.rejected())
    );
    let ok = |v: &[Record<_>]| {
        v.iter()
            .filter_map(|r| r.as_ref().ok())
            .cloned()
            .collect::<Vec<_>>()
    };
    assert_eq!(ok(&keys), ok(&events));
}

#[test]
fn a_record_of_an_uncompressed_file_says_where_its_bytes_are_in_the_file() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data");
    let mut in_file = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let csv = path.extension().is_some_and(|x| x == "csv");
        if path.extension().is_some_and(|x| x == "md") {
            continue;
        }
        let bytes = std::fs::read(&path).unwrap();
        let check = |input: Input, expect_offsets: bool, in_file: &mut usize| {
            Reader::default().read_keys(&[input], &mut |r: Record<RecordKey>| {
                if let Ok(k) = r {
                    match k.location.file_offset() {
                        Some(at) => {
                            assert!(expect_offsets, "{}", k.location);
                            let at = at as usize;
                            assert_eq!(&bytes[at..at + k.raw.len()], &k.raw[..], "{}", k.location);
                            *in_file += 1;
                        }
                        None => assert!(!expect_offsets, "{}", k.location),
                    }
                }
                ControlFlow::Continue(())
            });
        };
        check(Input::path(&path), !csv, &mut in_file);
        // The same bytes from memory or decompressed are not the file's.
        check(Input::bytes("mem", bytes.clone()), false, &mut in_file);
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut gz, &bytes).unwrap();
        check(
            Input::bytes("gz", gz.finish().unwrap()),
            false,
            &mut in_file,
        );
    }
    assert!(in_file >= 30, "{in_file}");
}

/// A named pipe (or a shell's `<(zcat export.gz)`) is read once: its records cannot be read again
/// from an offset, so they do not claim one.
#[cfg(unix)]
#[test]
fn a_named_pipe_is_not_a_file_to_read_again() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("pipe");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    let writer = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::write(fifo, many(50)).unwrap())
    };
    let mut read = 0;
    Reader::default().read_keys(&[Input::path(&fifo)], &mut |r: Record<RecordKey>| {
        if let Ok(k) = r {
            assert_eq!(k.location.file_offset(), None, "{}", k.location);
            read += 1;
        }
        ControlFlow::Continue(())
    });
    writer.join().unwrap();
    assert_eq!(read, 50);
}
