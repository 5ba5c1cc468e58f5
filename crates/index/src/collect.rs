//! Collectors that read columns: the newest (or oldest) hits by time, and group counts.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::net::Ipv6Addr;

use tantivy::collector::{Collector, SegmentCollector};
use tantivy::columnar::{Column, StrColumn};
use tantivy::{DateTime, DocId, Score, SegmentOrdinal, SegmentReader};

use crate::SearchField;
use crate::fields::FieldKind;
use crate::schema::SEQ;

/// A hit's sort key: its time in nanoseconds, then its sequence number, which breaks ties so the
/// order is total and a cursor is exact.
pub(crate) type Key = (i64, u64);

/// The time column's name.
fn time_name() -> &'static str {
    SearchField::Common(mailtrail_event::Field::Time).name()
}

/// Counts the matches and keeps the `keep` first in time order (newest or oldest first), optionally
/// only among those strictly before a cursor in that order.
pub(crate) struct TopByTime {
    pub(crate) keep: usize,
    pub(crate) newest_first: bool,
    /// Only keys after this one in the order (i.e. older when newest first).
    pub(crate) after: Option<Key>,
}

/// What [`TopByTime`] found.
#[derive(Default)]
pub(crate) struct Top {
    /// Every match.
    pub(crate) total: u64,
    /// Matches past the cursor.
    pub(crate) remaining: u64,
    /// The first `keep` of those, in order.
    pub(crate) keys: Vec<Key>,
}

/// Keys ordered so that "greater" means "comes first".
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Rank(i64, u64);

fn rank(key: Key, newest_first: bool) -> Rank {
    if newest_first {
        Rank(key.0, key.1)
    } else {
        // Bitwise not reverses the order of both without overflow.
        Rank(!key.0, !key.1)
    }
}

fn unrank(r: Rank, newest_first: bool) -> Key {
    if newest_first {
        (r.0, r.1)
    } else {
        (!r.0, !r.1)
    }
}

impl Collector for TopByTime {
    type Fruit = Top;
    type Child = TopSegment;

    fn for_segment(&self, _: SegmentOrdinal, seg: &SegmentReader) -> tantivy::Result<TopSegment> {
        Ok(TopSegment {
            time: seg.fast_fields().date(time_name())?,
            seq: seg.fast_fields().u64(SEQ)?,
            keep: self.keep,
            newest_first: self.newest_first,
            after: self.after.map(|k| rank(k, self.newest_first)),
            heap: BinaryHeap::new(),
            total: 0,
            remaining: 0,
        })
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(&self, fruits: Vec<Top>) -> tantivy::Result<Top> {
        let mut all = Top::default();
        let mut ranks: Vec<Rank> = Vec::new();
        for f in fruits {
            all.total += f.total;
            all.remaining += f.remaining;
            ranks.extend(f.keys.into_iter().map(|k| rank(k, self.newest_first)));
        }
        ranks.sort_unstable_by(|a, b| b.cmp(a));
        ranks.truncate(self.keep);
        all.keys = ranks
            .into_iter()
            .map(|r| unrank(r, self.newest_first))
            .collect();
        Ok(all)
    }
}

pub(crate) struct TopSegment {
    time: Column<DateTime>,
    seq: Column<u64>,
    keep: usize,
    newest_first: bool,
    after: Option<Rank>,
    /// The best `keep` so far, worst on top.
    heap: BinaryHeap<Reverse<Rank>>,
    total: u64,
    remaining: u64,
}

impl SegmentCollector for TopSegment {
    type Fruit = Top;

    fn collect(&mut self, doc: DocId, _: Score) {
        self.total += 1;
        // Every document has both columns; a document without them cannot be placed in time.
        let (Some(t), Some(s)) = (self.time.first(doc), self.seq.first(doc)) else {
            return;
        };
        let r = rank((t.into_timestamp_nanos(), s), self.newest_first);
        if self.after.is_some_and(|a| r >= a) {
            return;
        }
        self.remaining += 1;
        if self.keep == 0 {
            return;
        }
        if self.heap.len() < self.keep {
            self.heap.push(Reverse(r));
        } else if self.heap.peek().is_some_and(|Reverse(worst)| r > *worst) {
            self.heap.pop();
            self.heap.push(Reverse(r));
        }
    }

    fn harvest(self) -> Top {
        let newest_first = self.newest_first;
        Top {
            total: self.total,
            remaining: self.remaining,
            keys: self
                .heap
                .into_iter()
                .map(|Reverse(r)| unrank(r, newest_first))
                .collect(),
        }
    }
}

/// One value of a grouping column, before it is turned into text.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
enum Raw {
    Missing,
    Ord(u64),
    Int(i64),
    Ip(Ipv6Addr),
    Bool(bool),
}

/// A grouping column of one segment.
enum GroupColumn {
    Str(Option<StrColumn>),
    Int(Column<i64>),
    Ip(Column<Ipv6Addr>),
    Bool(Column<bool>),
}

impl GroupColumn {
    fn open(seg: &SegmentReader, field: SearchField) -> tantivy::Result<GroupColumn> {
        let ff = seg.fast_fields();
        let name = field.name();
        Ok(match field.kind() {
            FieldKind::Int => GroupColumn::Int(ff.i64(name)?),
            FieldKind::Ip => GroupColumn::Ip(ff.ip_addr(name)?),
            FieldKind::Bool => GroupColumn::Bool(ff.bool(name)?),
            _ => GroupColumn::Str(ff.str(name)?),
        })
    }

    fn raw(&self, doc: DocId) -> Raw {
        let v = match self {
            GroupColumn::Str(Some(c)) => c.term_ords(doc).next().map(Raw::Ord),
            GroupColumn::Str(None) => None,
            GroupColumn::Int(c) => c.first(doc).map(Raw::Int),
            GroupColumn::Ip(c) => c.first(doc).map(Raw::Ip),
            GroupColumn::Bool(c) => c.first(doc).map(Raw::Bool),
        };
        v.unwrap_or(Raw::Missing)
    }

    fn text(&self, raw: Raw) -> Option<String> {
        match (self, raw) {
            (GroupColumn::Str(Some(c)), Raw::Ord(ord)) => {
                let mut s = String::new();
                c.ord_to_str(ord, &mut s)
                    .ok()
                    .filter(|found| *found)
                    .map(|_| s)
            }
            (_, Raw::Int(n)) => Some(n.to_string()),
            (_, Raw::Ip(ip)) => Some(match ip.to_ipv4_mapped() {
                Some(v4) => v4.to_string(),
                None => ip.to_string(),
            }),
            (_, Raw::Bool(b)) => Some(b.to_string()),
            _ => None,
        }
    }
}

/// The most fields a grouping key holds.
pub(crate) const MAX_GROUP_FIELDS: usize = 4;

/// A group: the time bucket (its start in nanoseconds) and the values of the grouping fields.
pub(crate) type Group = (Option<i64>, Vec<Option<String>>);

/// Counts matches per time bucket and per combination of field values.
pub(crate) struct GroupCounts {
    pub(crate) by: Vec<SearchField>,
    /// Bucket width in nanoseconds.
    pub(crate) interval: Option<i64>,
}

pub(crate) struct GroupSegment {
    time: Column<DateTime>,
    columns: Vec<GroupColumn>,
    interval: Option<i64>,
    counts: HashMap<(Option<i64>, [Raw; MAX_GROUP_FIELDS]), u64>,
}

impl Collector for GroupCounts {
    type Fruit = HashMap<Group, u64>;
    type Child = GroupSegment;

    fn for_segment(&self, _: SegmentOrdinal, seg: &SegmentReader) -> tantivy::Result<GroupSegment> {
        Ok(GroupSegment {
            time: seg.fast_fields().date(time_name())?,
            columns: self
                .by
                .iter()
                .map(|f| GroupColumn::open(seg, *f))
                .collect::<tantivy::Result<_>>()?,
            interval: self.interval,
            counts: HashMap::new(),
        })
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(
        &self,
        fruits: Vec<HashMap<Group, u64>>,
    ) -> tantivy::Result<HashMap<Group, u64>> {
        let mut all: HashMap<Group, u64> = HashMap::new();
        for f in fruits {
            for (k, n) in f {
                *all.entry(k).or_default() += n;
            }
        }
        Ok(all)
    }
}

impl SegmentCollector for GroupSegment {
    type Fruit = HashMap<Group, u64>;

    fn collect(&mut self, doc: DocId, _: Score) {
        let bucket = self.interval.and_then(|width| {
            let t = self.time.first(doc)?.into_timestamp_nanos();
            Some(t.div_euclid(width).saturating_mul(width))
        });
        let mut key = [Raw::Missing; MAX_GROUP_FIELDS];
        for (slot, c) in key.iter_mut().zip(&self.columns) {
            *slot = c.raw(doc);
        }
        *self.counts.entry((bucket, key)).or_default() += 1;
    }

    fn harvest(self) -> HashMap<Group, u64> {
        // Segment-local ordinals become text here, once per distinct group rather than per hit.
        let mut out: HashMap<Group, u64> = HashMap::with_capacity(self.counts.len());
        for ((bucket, key), n) in self.counts {
            let values = self
                .columns
                .iter()
                .zip(key)
                .map(|(c, raw)| c.text(raw))
                .collect();
            *out.entry((bucket, values)).or_default() += n;
        }
        out
    }
}
