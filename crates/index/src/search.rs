//! What a search asks for and what it returns: options, hits, pages and cursors.

use std::fmt;
use std::str::FromStr;

use mailtrail_event::Timestamp;

/// Narrows and pages a search, stats or timeline.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SearchOptions {
    /// Only events at or after this time.
    pub from: Option<Timestamp>,
    /// Only events before this time.
    pub to: Option<Timestamp>,
    /// Only events of this tenant (`OrganizationId`), case-insensitively.
    pub tenant: Option<String>,
    /// How many hits a page holds.
    pub limit: usize,
    /// Hits to skip before the page (page-number paging). Ignored with [`after`](Self::after).
    pub offset: usize,
    /// Continue after this cursor (from [`SearchPage::next`]). Unlike offsets, cursors are
    /// stable: a page continues exactly where the previous one ended, and events indexed since
    /// the first page do not shift or join the results.
    pub after: Option<Cursor>,
}

impl Default for SearchOptions {
    fn default() -> Self {
        SearchOptions {
            from: None,
            to: None,
            tenant: None,
            limit: 50,
            offset: 0,
            after: None,
        }
    }
}

/// One matching event: where it is in the store, and when it happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Hit {
    /// The record's sequence number in the store (`Store::get_seq`).
    pub seq: u64,
    /// The event's time.
    pub time: Timestamp,
}

/// One page of results, newest first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SearchPage {
    /// The hits of this page.
    pub hits: Vec<Hit>,
    /// How many events match in all (every page together).
    pub total: u64,
    /// Where the next page starts, when there is one.
    pub next: Option<Cursor>,
    /// The index covered store records `[0, watermark)` when it answered.
    pub watermark: u64,
}

/// A position in the newest-first order of a search, for fetching the page after it.
///
/// It names the last hit shown (time and sequence number, which order hits totally) and the
/// watermark of the first page, so later pages see the same set of events as the first did.
/// Printed as an opaque token such as `1718000000000000000.42.1000`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cursor {
    pub(crate) time_nanos: i64,
    pub(crate) seq: u64,
    pub(crate) watermark: u64,
}

impl fmt::Display for Cursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.time_nanos, self.seq, self.watermark)
    }
}

/// A cursor token that is not one this program printed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("'{0}' is not a search cursor (use the `next` value a previous page printed)")]
pub struct CursorError(String);

impl FromStr for Cursor {
    type Err = CursorError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || CursorError(s.to_owned());
        let mut parts = s.trim().split('.');
        let (Some(t), Some(seq), Some(w), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(bad());
        };
        Ok(Cursor {
            time_nanos: t.parse().map_err(|_| bad())?,
            seq: seq.parse().map_err(|_| bad())?,
            watermark: w.parse().map_err(|_| bad())?,
        })
    }
}

/// The hits that touched one mailbox, oldest first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Timeline {
    /// The hits, oldest first (at most the limit asked for).
    pub hits: Vec<Hit>,
    /// How many events match in all; more than `hits.len()` when the limit cut the list.
    pub total: u64,
    /// The index covered store records `[0, watermark)` when it answered.
    pub watermark: u64,
}

pub(crate) fn timestamp(nanos: i64) -> Timestamp {
    Timestamp::from_nanosecond(i128::from(nanos)).unwrap_or(Timestamp::UNIX_EPOCH)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_through_text() {
        let c = Cursor {
            time_nanos: -5,
            seq: 42,
            watermark: 1000,
        };
        assert_eq!(c.to_string().parse::<Cursor>(), Ok(c));
    }

    #[test]
    fn malformed_cursors_are_refused() {
        for bad in ["", "1.2", "1.2.3.4", "a.b.c", "1..3"] {
            assert!(bad.parse::<Cursor>().is_err(), "{bad}");
        }
    }
}
