//! Shared helpers for the behaviour tests: read inputs, collect events and rejects.

#![allow(dead_code)] // Each test file uses a different part.
#![allow(clippy::unwrap_used, clippy::expect_used)] // Test code: a failed unwrap is a failed test.

use std::ops::ControlFlow;
use std::path::{Path, PathBuf};

use mailtrail_event::AuditEvent;
use mailtrail_formats::{Input, InputSummary, ReadOptions, Reader, RecordError};

/// A fixture written by `tests/data/make_fixtures.py`.
pub(crate) fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

/// A file of the third-party Golden SAML dataset in `shared/`.
pub(crate) fn otrf(name: &str) -> PathBuf {
    Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/data/otrf-golden-saml"
    ))
    .join(name)
}

/// What reading one input gave.
pub(crate) struct Read {
    pub(crate) events: Vec<AuditEvent>,
    pub(crate) rejects: Vec<RecordError>,
    pub(crate) summary: InputSummary,
}

pub(crate) fn read_with(input: &Input, options: ReadOptions) -> Read {
    let mut events = Vec::new();
    let mut rejects = Vec::new();
    let summary = Reader::new(options).read(input, &mut |r: Result<AuditEvent, RecordError>| {
        match r {
            Ok(ev) => events.push(ev),
            Err(e) => rejects.push(e),
        }
        ControlFlow::Continue(())
    });
    Read {
        events,
        rejects,
        summary,
    }
}

pub(crate) fn read(input: &Input) -> Read {
    read_with(input, ReadOptions::default())
}

pub(crate) fn read_path(path: &Path) -> Read {
    read(&Input::path(path))
}

pub(crate) fn read_bytes(name: &str, data: impl Into<Vec<u8>>) -> Read {
    read(&Input::bytes(name, data.into()))
}

pub(crate) fn gzip(data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(data).unwrap();
    enc.finish().unwrap()
}

pub(crate) fn zstd(data: &[u8]) -> Vec<u8> {
    zstd::encode_all(data, 3).unwrap()
}

pub(crate) fn zip(members: &[(&str, &[u8])]) -> Vec<u8> {
    use std::io::Write;
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, data) in members {
        w.start_file(*name, zip::write::SimpleFileOptions::default())
            .unwrap();
        w.write_all(data).unwrap();
    }
    w.finish().unwrap().into_inner()
}
