//! Counts by field values and time buckets.

use std::fmt;
use std::str::FromStr;

use mailtrail_event::Timestamp;

use crate::SearchField;

/// The width of a date-histogram bucket: `30s`, `15m`, `1h`, `1d`, `1w`.
///
/// Buckets are aligned on the Unix epoch in UTC, so `1d` buckets start at midnight UTC and `1w`
/// buckets on Thursdays (1970-01-01 was one).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Interval {
    nanos: i64,
    text: (u32, char),
}

impl Interval {
    /// The width in nanoseconds.
    pub fn nanos(self) -> i64 {
        self.nanos
    }
}

impl fmt::Display for Interval {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", self.text.0, self.text.1)
    }
}

/// An interval that is not a positive count followed by s, m, h, d or w.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("'{0}' is not an interval: write a count and a unit, e.g. 15m, 1h, 1d or 1w")]
pub struct IntervalError(String);

impl FromStr for Interval {
    type Err = IntervalError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || IntervalError(s.to_owned());
        let s = s.trim();
        let unit = s.chars().last().ok_or_else(bad)?;
        let count: u32 = s[..s.len() - unit.len_utf8()].parse().map_err(|_| bad())?;
        let unit_secs: i64 = match unit {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            'w' => 7 * 86_400,
            _ => return Err(bad()),
        };
        let nanos = i64::from(count)
            .checked_mul(unit_secs)
            .and_then(|secs| secs.checked_mul(1_000_000_000))
            .filter(|n| *n > 0)
            .ok_or_else(bad)?;
        Ok(Interval {
            nanos,
            text: (count, unit),
        })
    }
}

/// What to count: groups of field values, optionally per time bucket.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StatsRequest {
    /// Fields to group by (at most four), in order. None: one count per bucket.
    pub by: Vec<SearchField>,
    /// Bucket width; `None` counts the whole time range as one.
    pub interval: Option<Interval>,
}

/// One row of counts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatsRow {
    /// Start of the time bucket, when an interval was asked for.
    pub bucket: Option<Timestamp>,
    /// The value of each grouping field, in the order asked; `None` when the event has none.
    pub values: Vec<Option<String>>,
    /// How many events.
    pub count: u64,
}

/// The counts, in a stable order: by bucket (oldest first), then count (largest first), then
/// values.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stats {
    /// The fields grouped by.
    pub by: Vec<SearchField>,
    /// Every matching event.
    pub total: u64,
    /// One row per non-empty group.
    pub rows: Vec<StatsRow>,
    /// The index covered store records `[0, watermark)` when it answered.
    pub watermark: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals_parse_counts_and_units() {
        let i: Interval = "15m".parse().unwrap();
        assert_eq!(i.nanos(), 15 * 60 * 1_000_000_000);
        assert_eq!(i.to_string(), "15m");
        assert_eq!(
            "1d".parse::<Interval>().map(Interval::nanos),
            Ok(86_400_000_000_000)
        );
    }

    #[test]
    fn bad_intervals_are_refused() {
        for bad in ["", "d", "0h", "1y", "-1h", "1.5h", "99999999999w", "1ß"] {
            assert!(bad.parse::<Interval>().is_err(), "{bad}");
        }
    }
}
