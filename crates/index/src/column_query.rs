//! Queries answered from a column alone: keyword fields with few values (see
//! [`SearchField::column_only`]) and flags, which have no terms.
//!
//! A keyword column holds, per segment, a sorted dictionary of the values as written and one
//! ordinal per event. A query lower-cases each dictionary value and tests it, then scans the
//! column for the ordinals it accepted, a block of events at a time.

use std::ops::RangeInclusive;
use std::sync::Arc;

use tantivy::columnar::{Column, ColumnType};
use tantivy::query::{ConstScorer, EmptyScorer, EnableScoring, Explanation, Query, Scorer, Weight};
use tantivy::{DocId, DocSet, Score, SegmentReader, TERMINATED, TantivyError};
use tantivy_fst::Automaton;

use crate::SearchField;
use crate::schema::lowercase;

/// What a column query accepts.
#[derive(Clone, Debug)]
pub(crate) enum Accept {
    /// Keyword values equal to this one, lower-cased.
    Value(String),
    /// Keyword values whose lower-cased form this regular expression matches whole.
    Pattern(Arc<tantivy_fst::Regex>),
    /// Flags of this value.
    Flag(bool),
}

impl Accept {
    fn value(&self, value: &str) -> bool {
        let value = lowercase(value);
        match self {
            Accept::Value(want) => *want == value,
            Accept::Pattern(re) => {
                let state = value.bytes().try_fold(re.start(), |s, b| {
                    re.can_match(&s).then(|| re.accept(&s, b))
                });
                state.is_some_and(|s| re.is_match(&s))
            }
            Accept::Flag(_) => false,
        }
    }
}

/// Events whose column of `field` holds a value `accept` accepts.
#[derive(Clone, Debug)]
pub(crate) struct ColumnQuery {
    pub(crate) field: SearchField,
    pub(crate) accept: Accept,
}

impl Query for ColumnQuery {
    fn weight(&self, _: EnableScoring<'_>) -> tantivy::Result<Box<dyn Weight>> {
        Ok(Box::new(self.clone()))
    }
}

impl Weight for ColumnQuery {
    fn scorer(&self, reader: &SegmentReader, boost: Score) -> tantivy::Result<Box<dyn Scorer>> {
        let fast = reader.fast_fields();
        let name = self.field.name();
        let (column, ranges) = match &self.accept {
            Accept::Flag(flag) => {
                let Some((column, _)) =
                    fast.u64_lenient_for_type(Some(&[ColumnType::Bool]), name)?
                else {
                    return Ok(Box::new(EmptyScorer));
                };
                let v = u64::from(*flag);
                (column, vec![v..=v])
            }
            accept => {
                let Some(column) = fast.str(name)? else {
                    return Ok(Box::new(EmptyScorer));
                };
                // Ordinals follow the dictionary's order: runs of accepted values are ranges.
                let mut ranges: Vec<RangeInclusive<u64>> = Vec::new();
                let mut values = column.dictionary().stream()?;
                while values.advance() {
                    let ord = values.term_ord();
                    let text = std::str::from_utf8(values.key()).unwrap_or_default();
                    if !accept.value(text) {
                        continue;
                    }
                    match ranges.last_mut() {
                        Some(r) if *r.end() + 1 == ord => *r = *r.start()..=ord,
                        _ => ranges.push(ord..=ord),
                    }
                }
                (column.ords().clone(), ranges)
            }
        };
        // The column's range scan takes values within its own least and greatest: outside, it
        // would shift them past zero and match what it should not.
        let (min, max) = (column.min_value(), column.max_value());
        let ranges: Vec<_> = ranges
            .into_iter()
            .map(|r| (*r.start()).max(min)..=(*r.end()).min(max))
            .filter(|r| !r.is_empty())
            .collect();
        if ranges.is_empty() {
            return Ok(Box::new(EmptyScorer));
        }
        let docs = ColumnDocSet::new(column, ranges, reader.max_doc());
        Ok(Box::new(ConstScorer::new(docs, boost)))
    }

    fn explain(&self, reader: &SegmentReader, doc: DocId) -> tantivy::Result<Explanation> {
        let mut scorer = self.scorer(reader, 1.0)?;
        if scorer.seek(doc) != doc {
            return Err(TantivyError::InvalidArgument(format!(
                "document {doc} does not match"
            )));
        }
        Ok(Explanation::new("column value", 1.0))
    }
}

/// Events a block covers per scan of the column.
const BLOCK: u32 = 4096;
/// The first block a seek far ahead scans: an intersection with a rare term needs only the events
/// at its targets. Blocks double from there while they find nothing.
const SEEK_BLOCK: u32 = 64;

/// The events of a segment whose column value falls in one of a few ranges, found a block at a
/// time with the column's own range scan.
struct ColumnDocSet {
    column: Column<u64>,
    ranges: Vec<RangeInclusive<u64>>,
    max_doc: DocId,
    /// The matching events of the block scanned last, and the position in them.
    found: Vec<DocId>,
    at: usize,
    /// Where the next block starts.
    next_block: DocId,
    scratch: Vec<DocId>,
}

impl ColumnDocSet {
    fn new(column: Column<u64>, ranges: Vec<RangeInclusive<u64>>, max_doc: DocId) -> Self {
        let mut docs = ColumnDocSet {
            column,
            ranges,
            max_doc,
            found: Vec::new(),
            at: 0,
            next_block: 0,
            scratch: Vec::new(),
        };
        docs.scan_from(0, BLOCK);
        docs
    }

    /// Scans blocks from `start`, the first `block` events long, until one holds a match or the
    /// segment ends.
    fn scan_from(&mut self, start: DocId, mut block: u32) {
        self.found.clear();
        self.at = 0;
        let mut from = start;
        while self.found.is_empty() && from < self.max_doc {
            let to = from.saturating_add(block).min(self.max_doc);
            block = (block * 2).min(BLOCK);
            for range in &self.ranges {
                self.scratch.clear();
                self.column
                    .get_docids_for_value_range(range.clone(), from..to, &mut self.scratch);
                self.found.extend_from_slice(&self.scratch);
            }
            if self.ranges.len() > 1 {
                // An event with several values (none of these fields has) would appear twice.
                self.found.sort_unstable();
                self.found.dedup();
            }
            from = to;
        }
        self.next_block = from;
    }
}

impl DocSet for ColumnDocSet {
    fn advance(&mut self) -> DocId {
        self.at += 1;
        if self.at >= self.found.len() {
            self.scan_from(self.next_block, BLOCK);
        }
        self.doc()
    }

    fn seek(&mut self, target: DocId) -> DocId {
        if self.doc() >= target {
            return self.doc();
        }
        if self.found.last().is_some_and(|&last| last >= target) {
            // Seeks mostly go a few events ahead (an intersection, an exclusion): gallop.
            let rest = &self.found[self.at..];
            let mut end = 1;
            while end < rest.len() && rest[end] < target {
                end *= 2;
            }
            let start = end / 2;
            let end = end.min(rest.len());
            self.at += start + rest[start..end].partition_point(|&d| d < target);
        } else {
            // Near the blocks scanned so far, a dense intersection goes on block by block; far
            // ahead, a sparse one wants the target's events only.
            let near = target < self.next_block.saturating_add(BLOCK);
            let block = if near { BLOCK } else { SEEK_BLOCK };
            self.scan_from(target.max(self.next_block), block);
        }
        self.doc()
    }

    fn doc(&self) -> DocId {
        self.found.get(self.at).copied().unwrap_or(TERMINATED)
    }

    fn size_hint(&self) -> u32 {
        self.max_doc
    }

    fn cost(&self) -> u64 {
        u64::from(self.max_doc)
    }
}
