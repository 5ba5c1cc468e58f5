//! Records' bytes read back from their input files after the sort.

use std::collections::{HashMap, VecDeque};
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::PathBuf;

use bytes::Bytes;

/// Reads records' bodies back from their input files. Records come in time order, which in an
/// export is nearly file order, so bodies are read in blocks and shared; a file whose records
/// come in no useful order is read record by record instead.
pub(super) struct Bodies {
    files: Vec<Option<PathBuf>>,
    /// The files open now, each with the clock of its last use: a hunt over thousands of API
    /// content blobs keeps only the most recently used open.
    open: HashMap<u32, (BlockReader, u64)>,
    clock: u64,
    block: u64,
}

/// Input files kept open at once to read bodies back.
const FILES_OPEN: usize = 32;

impl Bodies {
    /// Bodies of the inputs `files` names (by input index), read `block` bytes at a time.
    pub(super) fn new(files: Vec<Option<PathBuf>>, block: u64) -> Self {
        Self {
            files,
            open: HashMap::new(),
            clock: 0,
            block,
        }
    }

    pub(super) fn fetch(&mut self, input: u32, offset: u64, len: u32) -> Result<Bytes, String> {
        let path = self
            .files
            .get(input as usize)
            .and_then(Option::as_ref)
            .ok_or("its input is not a file")?;
        self.clock += 1;
        if !self.open.contains_key(&input) {
            if self.open.len() >= FILES_OPEN
                && let Some(&oldest) = self
                    .open
                    .iter()
                    .min_by_key(|(_, (_, used))| *used)
                    .map(|(i, _)| i)
            {
                self.open.remove(&oldest);
            }
            let file = File::open(path)
                .map_err(|e| format!("cannot open {} again: {e}", path.display()))?;
            self.open
                .insert(input, (BlockReader::new(file, self.block), self.clock));
        }
        let Some((reader, used)) = self.open.get_mut(&input) else {
            return Err("its input could not be opened".to_owned());
        };
        *used = self.clock;
        reader.read(offset, len).map_err(|e| {
            format!(
                "cannot read it again from {} at byte {offset}: {e}",
                path.display()
            )
        })
    }
}

/// Block reads of one file, the last few blocks kept.
struct BlockReader {
    file: File,
    block: u64,
    blocks: VecDeque<(u64, Bytes)>,
    block_reads: u64,
    served: u64,
    one_by_one: bool,
}

pub(super) const BLOCK: u64 = 256 << 10;
const BLOCKS_KEPT: usize = 4;

impl BlockReader {
    fn new(file: File, block: u64) -> Self {
        Self {
            file,
            block: block.max(1),
            blocks: VecDeque::new(),
            block_reads: 0,
            served: 0,
            one_by_one: false,
        }
    }

    fn read(&mut self, offset: u64, len: u32) -> std::io::Result<Bytes> {
        let end = offset + u64::from(len);
        for (start, block) in &self.blocks {
            if *start <= offset && end <= start + block.len() as u64 {
                self.served += 1;
                return Ok(block.slice((offset - start) as usize..(end - start) as usize));
            }
        }
        // A block that serves fewer than a few records is a waste: the file is out of order.
        if self.block_reads >= 64 && self.served < 4 * self.block_reads {
            self.one_by_one = true;
        }
        let (start, want) = if self.one_by_one {
            (offset, u64::from(len))
        } else {
            let start = offset - offset % self.block;
            (start, self.block.max(end - start))
        };
        self.file.seek(SeekFrom::Start(start))?;
        let mut buf = Vec::with_capacity(usize::try_from(want).unwrap_or(0));
        (&mut self.file).take(want).read_to_end(&mut buf)?;
        if (buf.len() as u64) < end - start {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "the file is shorter than when it was first read",
            ));
        }
        let block = Bytes::from(buf);
        let body = block.slice((offset - start) as usize..(end - start) as usize);
        if !self.one_by_one {
            self.block_reads += 1;
            self.blocks.push_front((start, block));
            self.blocks.truncate(BLOCKS_KEPT);
        }
        Ok(body)
    }
}
