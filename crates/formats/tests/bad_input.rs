//! Bad input is reported with its location and skipped; nothing panics; memory stays bounded.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Test code: a failed unwrap is a failed test.

mod util;

use std::ops::ControlFlow;

use mailtrail_formats::{
    Input, InputErrorKind, Position, ReadOptions, Reader, RecordError, RecordErrorKind,
};
use util::{fixture, gzip, read_bytes, read_path, read_with, zip, zstd};

const GOOD: &str =
    r#"{"Id":"1","CreationTime":"2023-06-16T09:01:02","Operation":"Send","RecordType":2}"#;

fn good(id: u32) -> String {
    GOOD.replace(r#""Id":"1""#, &format!(r#""Id":"{id}""#))
}

fn ndjson(n: u32) -> String {
    (1..=n).map(|i| good(i) + "\n").collect()
}

#[test]
fn malformed_line_in_the_middle_is_reported_with_its_line_and_the_rest_is_read() {
    let text = format!(
        "{}{{\"Id\":\"x\",\"CreationTime\":\n{}",
        good(1) + "\n",
        ndjson(3)
    );
    let r = read_bytes("audit.ndjson", text);
    assert_eq!(r.events.len(), 4);
    assert_eq!(r.rejects.len(), 1);
    let e = &r.rejects[0];
    assert_eq!(e.location().line(), 2);
    assert_eq!(e.location().position(), Position::Line);
    assert!(matches!(e.kind(), RecordErrorKind::Json(_)), "{e}");
    assert!(
        e.to_string().starts_with("audit.ndjson:2: invalid JSON"),
        "{e}"
    );
    assert_eq!((r.summary.records(), r.summary.rejected()), (4, 1));
}

#[test]
fn a_bad_array_element_is_reported_by_index() {
    let text = format!("[{},\n{{\"Id\":\"2\"}},\n{}]", good(1), good(3));
    let r = read_bytes("blob.json", text);
    assert_eq!(r.events.len(), 2);
    let e = &r.rejects[0];
    assert_eq!(e.location().position(), Position::Element(1));
    assert_eq!(e.location().line(), 2);
    assert!(matches!(e.kind(), RecordErrorKind::UnknownSchema(_)), "{e}");
    assert!(
        e.to_string().starts_with("blob.json:2 (element 1, byte "),
        "{e}"
    );
}

fn text_offset_of_e9() -> usize {
    let record =
        b"{\"Id\":\"2\",\"CreationTime\":\"2023-06-16T09:01:02\",\"Operation\":\"Caf\xe9\"}";
    record.iter().position(|b| *b == 0xe9).unwrap()
}

#[test]
fn non_utf8_records_say_so() {
    let mut text = good(1).into_bytes();
    text.push(b'\n');
    text.extend_from_slice(
        b"{\"Id\":\"2\",\"CreationTime\":\"2023-06-16T09:01:02\",\"Operation\":\"Caf\xe9\"}\n",
    );
    text.extend_from_slice(good(3).as_bytes());
    let r = read_bytes("latin1.json", text);
    assert_eq!(r.events.len(), 2);
    assert_eq!(r.rejects.len(), 1);
    assert_eq!(r.rejects[0].location().line(), 2);
    let bad = text_offset_of_e9();
    assert!(
        matches!(r.rejects[0].kind(), RecordErrorKind::NotUtf8 { valid_up_to } if *valid_up_to == bad),
        "{}",
        r.rejects[0]
    );
}

#[test]
fn truncated_gzip_is_an_input_error_after_the_records_before_it() {
    let gz = gzip(ndjson(2000).as_bytes());
    let cut = &gz[..gz.len() * 2 / 3];
    let r = read_bytes("cut.json.gz", cut.to_vec());
    assert!(
        r.events.len() > 100,
        "records before the cut are read: {}",
        r.events.len()
    );
    let errors = r.summary.errors();
    assert_eq!(errors.len(), 1);
    assert!(
        matches!(
            errors[0].kind(),
            InputErrorKind::Decompress { format: "gzip", .. }
        ),
        "{}",
        errors[0]
    );
    assert!(
        errors[0]
            .to_string()
            .starts_with("cut.json.gz: gzip stream is truncated or corrupt after")
    );
}

#[test]
fn truncated_zstd_is_an_input_error() {
    let zst = zstd(ndjson(2000).as_bytes());
    let r = read_bytes("cut.json.zst", zst[..zst.len() / 2].to_vec());
    let errors = r.summary.errors();
    assert_eq!(errors.len(), 1, "{:?}", r.rejects);
    assert!(
        matches!(
            errors[0].kind(),
            InputErrorKind::Decompress { format: "zstd", .. }
        ),
        "{}",
        errors[0]
    );
}

#[test]
fn truncated_zip_is_an_input_error() {
    let z = zip(&[("a.json", ndjson(50).as_bytes())]);
    let r = read_bytes("cut.zip", z[..z.len() - 30].to_vec());
    let errors = r.summary.errors();
    assert_eq!(errors.len(), 1);
    assert!(
        matches!(errors[0].kind(), InputErrorKind::Zip(_)),
        "{}",
        errors[0]
    );
}

#[test]
fn zip_members_are_read_whatever_they_hold_and_a_bad_member_spares_the_others() {
    let csv = std::fs::read(fixture("purview-current.csv")).unwrap();
    let gz = gzip(&csv);
    let z = zip(&[
        ("day1/audit.json", ndjson(3).as_bytes()),
        ("day2/purview.csv.gz", &gz),
        ("notes.txt", b"exported by the night shift"),
        ("day3/blob.json", format!("[{}]", good(9)).as_bytes()),
    ]);
    let r = read_bytes("export.zip", z);
    assert_eq!(r.events.len(), 3 + 3 + 1);
    let errors = r.summary.errors();
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].input(), "export.zip!/notes.txt");
    assert!(matches!(errors[0].kind(), InputErrorKind::UnknownFormat(_)));
}

#[test]
fn a_fifty_megabyte_field_is_rejected_and_skipped_without_buffering_it() {
    let big = "A".repeat(50 << 20);
    let text = format!(
        "{}\n{{\"Id\":\"big\",\"CreationTime\":\"2023-06-16T09:01:02\",\"Operation\":\"Send\",\"Blob\":\"{big}\"}}\n{}\n",
        good(1),
        good(3)
    );
    drop(big);
    let r = read_bytes("big.json", text);
    assert_eq!(r.events.len(), 2);
    assert_eq!(r.rejects.len(), 1);
    let e = &r.rejects[0];
    assert_eq!(e.location().line(), 2);
    assert!(
        matches!(e.kind(), RecordErrorKind::TooLarge { size, limit } if *size > 50 << 20 && *limit == 16 << 20),
        "{e}"
    );

    // The same in an array, in a CSV cell, and with a smaller limit.
    let big = "B".repeat(3 << 20);
    let array = format!("[{},{{\"Id\":\"{big}\"}},{}]", good(1), good(3));
    let r = read_with(
        &Input::bytes("big-array.json", array),
        ReadOptions {
            max_record_size: 1 << 20,
            ..Default::default()
        },
    );
    assert_eq!((r.events.len(), r.rejects.len()), (2, 1));
    assert_eq!(r.rejects[0].location().position(), Position::Element(1));
    let csv = format!(
        "CreationDate,UserIds,Operations,AuditData\r\nx,y,z,\"{}\"\r\nx,y,z,\"{{\"\"Blob\"\":\"\"{big}\"\"}}\"\r\n",
        good(1).replace('"', "\"\"")
    );
    let r = read_with(
        &Input::bytes("big.csv", csv),
        ReadOptions {
            max_record_size: 1 << 20,
            ..Default::default()
        },
    );
    assert_eq!((r.events.len(), r.rejects.len()), (1, 1));
    assert!(matches!(
        r.rejects[0].kind(),
        RecordErrorKind::TooLarge { .. }
    ));
}

#[test]
fn ten_thousand_deep_nesting_is_an_error_not_a_stack_overflow() {
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let text = format!(
        "{}\n{{\"Id\":\"deep\",\"CreationTime\":\"2023-06-16T09:01:02\",\"Operation\":\"Send\",\"X\":{deep}}}\n{{\"Id\":\"deeper\",\"Folders\":{deep}}}\n{}\n",
        good(1),
        good(3)
    );
    // Run on a thread with a small stack: recursion would overflow it.
    let r = std::thread::Builder::new()
        .stack_size(256 * 1024)
        .spawn(move || {
            let r = read_with(
                &Input::bytes("deep.json", text),
                ReadOptions {
                    threads: 1,
                    ..Default::default()
                },
            );
            (
                r.events.len(),
                r.rejects
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>(),
            )
        })
        .unwrap()
        .join()
        .unwrap();
    assert_eq!(r.0, 2);
    assert_eq!(r.1.len(), 2, "{:?}", r.1);
    assert!(
        r.1.iter().all(|e| e.contains("recursion limit exceeded")),
        "{:?}",
        r.1
    );
}

#[test]
fn an_empty_file_has_no_records_and_no_errors() {
    for text in ["", "\n\n  \r\n", "\u{feff}", "[]", "{\"value\":[]}"] {
        let r = read_bytes("empty.json", text);
        assert_eq!((r.events.len(), r.rejects.len()), (0, 0), "{text:?}");
        assert!(r.summary.errors().is_empty(), "{text:?}");
    }
}

#[test]
fn an_unknown_format_is_an_input_error_and_other_inputs_are_still_read() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.txt"), "Date;Who;What\n2023;me;this\n").unwrap();
    std::fs::write(
        dir.path().join("b.bin"),
        [0x7f, b'E', b'L', b'F', 2, 1, 1, 0],
    )
    .unwrap();
    std::fs::write(dir.path().join("c.json"), ndjson(2)).unwrap();
    std::fs::write(dir.path().join("d.csv"), "Date,Name\n1,2\n").unwrap();
    std::fs::write(
        dir.path().join("e.json"),
        "\u{feff}".to_owned() + &ndjson(1),
    )
    .unwrap();
    let inputs = mailtrail_formats::Inputs::expand(&[dir.path()]);
    let mut n = 0;
    let summary = Reader::default().read_all(&inputs.inputs, &mut |r: Result<_, RecordError>| {
        n += usize::from(r.is_ok());
        ControlFlow::Continue(())
    });
    assert_eq!(n, 3);
    let errors: Vec<String> = summary.errors().map(ToString::to_string).collect();
    assert_eq!(errors.len(), 3, "{errors:?}");
    assert!(errors[0].ends_with("a.txt: unknown format: starts with \"Date;Who;What\\n2023;me;this\\n\"; mailtrail reads JSON (arrays, NDJSON, Graph and Azure Monitor envelopes) and Purview/Search-UnifiedAuditLog CSV, optionally in gzip, zstd or zip"), "{}", errors[0]);
    assert!(
        errors[1].contains("binary data (7f 45 4c 46"),
        "{}",
        errors[1]
    );
    assert!(
        errors[2].contains("unknown format: starts with \"Date,Name"),
        "{}",
        errors[2]
    );
}

#[test]
fn utf16_text_gets_a_hint() {
    let r = read_bytes("ps.json", vec![0xff, 0xfe, b'{', 0, b'}', 0]);
    assert!(matches!(
        r.summary.errors()[0].kind(),
        InputErrorKind::Utf16
    ));
}

#[test]
fn strict_mode_stops_at_the_first_bad_record() {
    let text = format!("{}\nnot json\n{}", good(1), ndjson(5));
    let options = ReadOptions {
        strict: true,
        ..Default::default()
    };
    let mut seen = Vec::new();
    let summary =
        Reader::new(options).read_all(&[Input::bytes("s.json", text)], &mut |r: Result<
            _,
            RecordError,
        >| {
            seen.push(r.is_ok());
            ControlFlow::Continue(())
        });
    assert_eq!(seen, [true, false]);
    assert!(summary.stopped());
    assert_eq!(summary.inputs().len(), 1);
}

#[test]
fn a_missing_file_is_an_input_error() {
    let r = read_path(&fixture("does-not-exist.json"));
    assert!(matches!(
        r.summary.errors()[0].kind(),
        InputErrorKind::Open(_)
    ));
}
