//! Opening an input and recognising what it holds, from its bytes and never from its name:
//! compression by magic number (gzip, zstd, zip — nested as deep as [`MAX_DEPTH`]), then the text
//! container (JSON or one of the CSV exports), then the splitter that yields its records.

use std::fs::File;
use std::io::{self, Cursor, Read, Seek};
use std::ops::ControlFlow;
use std::sync::Arc;

use crate::csv::{CsvSplitter, looks_like_csv};
use crate::error::{InputError, InputErrorKind};
use crate::input::{Input, InputKind};
use crate::json::{JsonSplitter, Split};

/// How many archive or compression layers are followed (`.zip` of `.gz` files is two).
pub(crate) const MAX_DEPTH: u8 = 4;
/// How much is read before deciding what the text is.
const HEAD: usize = 64 * 1024;

/// Receives what the splitters find, in order.
pub(crate) trait Emit {
    /// A record or a record error.
    fn split(&mut self, split: Split<'_>) -> ControlFlow<()>;
}

/// Which layer an I/O error came from, to name it in the message.
#[derive(Clone, Copy)]
enum Layer {
    Plain,
    Gzip,
    Zstd,
    ZipMember,
}

/// Reads one input, emitting its records; problems that stop (part of) the input go to `errors`.
pub(crate) fn read_input(
    input: &Input,
    max: usize,
    out: &mut dyn Emit,
    errors: &mut Vec<InputError>,
) -> ControlFlow<()> {
    let name: Arc<str> = input.name().into();
    match &input.kind {
        InputKind::Stdin => read_stream(
            &name,
            Box::new(io::stdin().lock()),
            None,
            0,
            Layer::Plain,
            max,
            out,
            errors,
        ),
        InputKind::Bytes { data, .. } => read_stream(
            &name,
            Box::new(Cursor::new(data.clone())),
            None,
            0,
            Layer::Plain,
            max,
            out,
            errors,
        ),
        InputKind::Path(path) => match File::open(path) {
            // Only a regular file can be read again at an offset: a named pipe or a process
            // substitution (`<(zcat export.gz)`) is read once, like standard input.
            Ok(file) => match file.try_clone() {
                Ok(seekable) => read_stream(
                    &name,
                    Box::new(file),
                    seekable
                        .metadata()
                        .is_ok_and(|m| m.is_file())
                        .then_some(seekable),
                    0,
                    Layer::Plain,
                    max,
                    out,
                    errors,
                ),
                Err(e) => {
                    errors.push(InputError::new(&*name, InputErrorKind::Open(e)));
                    ControlFlow::Continue(())
                }
            },
            Err(e) => {
                errors.push(InputError::new(&*name, InputErrorKind::Open(e)));
                ControlFlow::Continue(())
            }
        },
    }
}

fn io_error(layer: Layer, offset: u64, source: io::Error) -> InputErrorKind {
    match layer {
        Layer::Plain => InputErrorKind::Read { offset, source },
        Layer::Gzip => InputErrorKind::Decompress {
            format: "gzip",
            offset,
            source,
        },
        Layer::Zstd => InputErrorKind::Decompress {
            format: "zstd",
            offset,
            source,
        },
        Layer::ZipMember => InputErrorKind::Zip(format!(
            "member is truncated or corrupt after {offset} decompressed bytes: {source}"
        )),
    }
}

/// Reads up to `n` bytes (fewer only at the end of the input).
fn read_head(src: &mut dyn Read, n: usize) -> io::Result<Vec<u8>> {
    let mut head = Vec::with_capacity(n);
    src.take(n as u64).read_to_end(&mut head)?;
    Ok(head)
}

#[allow(clippy::too_many_arguments)]
fn read_stream(
    name: &Arc<str>,
    mut src: Box<dyn Read + '_>,
    seekable: Option<File>,
    depth: u8,
    layer: Layer,
    max: usize,
    out: &mut dyn Emit,
    errors: &mut Vec<InputError>,
) -> ControlFlow<()> {
    let head = match read_head(&mut src, HEAD) {
        Ok(h) => h,
        Err(e) => {
            errors.push(InputError::new(&**name, io_error(layer, 0, e)));
            return ControlFlow::Continue(());
        }
    };
    let mut magic = [0u8; 4];
    let n = head.len().min(4);
    magic[..n].copy_from_slice(&head[..n]);
    let magic = &magic[..n];
    let compressed = magic.starts_with(&[0x1f, 0x8b])
        || magic.starts_with(&[0x28, 0xb5, 0x2f, 0xfd])
        || magic.starts_with(b"PK\x03\x04")
        || magic.starts_with(b"PK\x05\x06");
    if compressed && depth >= MAX_DEPTH {
        errors.push(InputError::new(&**name, InputErrorKind::TooDeep(MAX_DEPTH)));
        return ControlFlow::Continue(());
    }
    let rest = Cursor::new(head).chain(src);
    if magic.starts_with(&[0x1f, 0x8b]) {
        let dec = flate2::read::MultiGzDecoder::new(rest);
        return read_stream(
            name,
            Box::new(dec),
            None,
            depth + 1,
            Layer::Gzip,
            max,
            out,
            errors,
        );
    }
    if magic.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        return match zstd::stream::read::Decoder::new(rest) {
            Ok(dec) => read_stream(
                name,
                Box::new(dec),
                None,
                depth + 1,
                Layer::Zstd,
                max,
                out,
                errors,
            ),
            Err(e) => {
                errors.push(InputError::new(&**name, io_error(Layer::Zstd, 0, e)));
                ControlFlow::Continue(())
            }
        };
    }
    if magic.starts_with(b"PK") && compressed {
        return read_zip(name, rest, seekable, depth, max, out, errors);
    }
    let (head, src) = rest.into_inner();
    let head = head.into_inner();
    if head.starts_with(&[0xff, 0xfe]) || head.starts_with(&[0xfe, 0xff]) {
        errors.push(InputError::new(&**name, InputErrorKind::Utf16));
        return ControlFlow::Continue(());
    }
    let text = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&head);
    let first = text.iter().find(|b| !b.is_ascii_whitespace()).copied();
    match first {
        None | Some(b'{') | Some(b'[') => {
            let mut splitter = JsonSplitter::new(name.clone(), head, src, max);
            // A file read as it is: the records are its bytes.
            if seekable.is_some() && depth == 0 {
                splitter = splitter.in_file();
            }
            loop {
                match splitter.next() {
                    Ok(Some(split)) => {
                        if out.split(split).is_break() {
                            return ControlFlow::Break(());
                        }
                    }
                    Ok(None) => return ControlFlow::Continue(()),
                    Err(e) => {
                        let offset = splitter.offset();
                        errors.push(InputError::new(&**name, io_error(layer, offset, e)));
                        return ControlFlow::Continue(());
                    }
                }
            }
        }
        _ if looks_like_csv(&head) => {
            let mut splitter = match CsvSplitter::new(name.clone(), head, src, max) {
                Ok(s) => s,
                Err((kind, _)) => {
                    let kind = match kind {
                        InputErrorKind::Read { offset, source } => io_error(layer, offset, source),
                        other => other,
                    };
                    errors.push(InputError::new(&**name, kind));
                    return ControlFlow::Continue(());
                }
            };
            loop {
                match splitter.next() {
                    Ok(Some(split)) => {
                        if out.split(split).is_break() {
                            return ControlFlow::Break(());
                        }
                    }
                    Ok(None) => return ControlFlow::Continue(()),
                    Err(e) => {
                        let offset = splitter.offset();
                        errors.push(InputError::new(&**name, io_error(layer, offset, e)));
                        return ControlFlow::Continue(());
                    }
                }
            }
        }
        _ => {
            errors.push(InputError::new(
                &**name,
                InputErrorKind::UnknownFormat(describe(text)),
            ));
            ControlFlow::Continue(())
        }
    }
}

/// What an unrecognised input starts with, for the error message.
fn describe(head: &[u8]) -> String {
    let start = &head[..head.len().min(48)];
    let printable = start
        .iter()
        .all(|b| b.is_ascii_graphic() || b.is_ascii_whitespace() || *b >= 0x80);
    let shown = if printable {
        format!("{:?}", String::from_utf8_lossy(start))
    } else {
        let hex: Vec<String> = start.iter().take(8).map(|b| format!("{b:02x}")).collect();
        format!("binary data ({})", hex.join(" "))
    };
    format!(
        "starts with {shown}; mailtrail reads JSON (arrays, NDJSON, Graph and Azure Monitor \
         envelopes) and Purview/Search-UnifiedAuditLog CSV, optionally in gzip, zstd or zip"
    )
}

fn read_zip(
    name: &Arc<str>,
    mut rest: impl Read,
    seekable: Option<File>,
    depth: u8,
    max: usize,
    out: &mut dyn Emit,
    errors: &mut Vec<InputError>,
) -> ControlFlow<()> {
    // Zip's directory is at the end, so the archive must be seekable: the file itself, or a
    // temporary copy of a stream (standard input, or a zip inside another archive).
    let file = match seekable {
        Some(mut f) => f.rewind().map(|()| f),
        None => tempfile::tempfile().and_then(|mut t| {
            io::copy(&mut rest, &mut t)?;
            t.rewind()?;
            Ok(t)
        }),
    };
    let file = match file {
        Ok(f) => f,
        Err(e) => {
            errors.push(InputError::new(
                &**name,
                InputErrorKind::Read {
                    offset: 0,
                    source: e,
                },
            ));
            return ControlFlow::Continue(());
        }
    };
    let mut archive = match zip::ZipArchive::new(file) {
        Ok(a) => a,
        Err(e) => {
            errors.push(InputError::new(&**name, InputErrorKind::Zip(e.to_string())));
            return ControlFlow::Continue(());
        }
    };
    for i in 0..archive.len() {
        let member = match archive.by_index(i) {
            Ok(m) => m,
            Err(e) => {
                errors.push(InputError::new(
                    format!("{name}!/#{i}"),
                    InputErrorKind::Zip(e.to_string()),
                ));
                continue;
            }
        };
        if member.is_dir() {
            continue;
        }
        let member_name: Arc<str> = format!("{name}!/{}", member.name()).into();
        let flow = read_stream(
            &member_name,
            Box::new(member),
            None,
            depth + 1,
            Layer::ZipMember,
            max,
            out,
            errors,
        );
        if flow.is_break() {
            return flow;
        }
    }
    ControlFlow::Continue(())
}
