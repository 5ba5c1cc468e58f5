//! Time: UTC seconds inside, Microsoft's two text shapes outside, and local office hours.
//!
//! The generator works in Unix seconds. Local time zones are modelled by hand (a standard offset
//! plus the US, EU or southern-hemisphere daylight-saving rule) rather than read from the system's
//! time zone database, so that output is identical on every machine.

/// Seconds in a day.
pub(crate) const DAY: i64 = 86_400;
/// Seconds in an hour.
pub(crate) const HOUR: i64 = 3_600;
/// Seconds in a minute.
pub(crate) const MINUTE: i64 = 60;

/// Days since 1970-01-01 for a civil date (Howard Hinnant's algorithm).
pub(crate) fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The civil date of a day number.
pub(crate) fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Day of the week, 0 = Monday … 6 = Sunday.
pub(crate) fn weekday(day: i64) -> u32 {
    // 1970-01-01 was a Thursday.
    (day + 3).rem_euclid(7) as u32
}

/// Parses `YYYY-MM-DD` into a day number.
pub(crate) fn parse_date(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<u32> { s.get(r)?.parse().ok() };
    let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    if !(1..=12).contains(&m) || d == 0 || d > 31 {
        return None;
    }
    let day = days_from_civil(i64::from(y), m, d);
    // Reject 2026-02-30 and the like: the date must survive the round trip.
    (civil_from_days(day) == (i64::from(y), m, d)).then_some(day)
}

/// `YYYY-MM-DD` for a day number.
pub(crate) fn format_date(day: i64) -> String {
    let (y, m, d) = civil_from_days(day);
    format!("{y:04}-{m:02}-{d:02}")
}

fn push2(buf: &mut Vec<u8>, n: u32) {
    buf.push(b'0' + (n / 10) as u8);
    buf.push(b'0' + (n % 10) as u8);
}

/// Writes `YYYY-MM-DDTHH:MM:SS`, the Unified Audit Log's `CreationTime` (no zone: it is UTC).
pub(crate) fn write_ual_time(buf: &mut Vec<u8>, t: i64) {
    let (y, m, d) = civil_from_days(t.div_euclid(DAY));
    let s = t.rem_euclid(DAY) as u32;
    let y = y.clamp(0, 9999) as u32;
    push2(buf, y / 100);
    push2(buf, y % 100);
    buf.push(b'-');
    push2(buf, m);
    buf.push(b'-');
    push2(buf, d);
    buf.push(b'T');
    push2(buf, s / 3600);
    buf.push(b':');
    push2(buf, s / 60 % 60);
    buf.push(b':');
    push2(buf, s % 60);
}

/// `YYYY-MM-DDTHH:MM:SS` as a string.
pub(crate) fn ual_time(t: i64) -> String {
    let mut b = Vec::with_capacity(19);
    write_ual_time(&mut b, t);
    String::from_utf8(b).unwrap_or_default()
}

/// `YYYY-MM-DDTHH:MM:SSZ`, Microsoft Graph's `createdDateTime` / `activityDateTime`.
pub(crate) fn graph_time(t: i64) -> String {
    let mut s = ual_time(t);
    s.push('Z');
    s
}

/// Daylight-saving rules of the places offices and travellers are in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Dst {
    /// No daylight saving.
    None,
    /// United States: second Sunday of March to first Sunday of November, 02:00 local.
    Us,
    /// European Union and United Kingdom: last Sunday of March to last Sunday of October, 01:00 UTC.
    Eu,
    /// Australia (south-east): first Sunday of October to first Sunday of April, 02:00 local standard.
    Au,
}

/// A place's clock: standard offset from UTC in minutes and its daylight-saving rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Zone {
    pub(crate) std_offset_min: i32,
    pub(crate) dst: Dst,
}

fn nth_sunday(y: i64, m: u32, n: u32) -> i64 {
    let first = days_from_civil(y, m, 1);
    let to_sunday = (6 - weekday(first) + 7) % 7;
    first + i64::from(to_sunday) + 7 * i64::from(n - 1)
}

fn last_sunday(y: i64, m: u32) -> i64 {
    let next = if m == 12 {
        days_from_civil(y + 1, 1, 1)
    } else {
        days_from_civil(y, m + 1, 1)
    };
    let last = next - 1;
    last - i64::from((weekday(last) + 1) % 7)
}

impl Zone {
    /// The offset from UTC, in seconds, in force at UTC instant `t`.
    pub(crate) fn offset(&self, t: i64) -> i64 {
        let std = i64::from(self.std_offset_min) * MINUTE;
        let (y, _, _) = civil_from_days(t.div_euclid(DAY));
        let dst = match self.dst {
            Dst::None => false,
            Dst::Us => {
                let start = nth_sunday(y, 3, 2) * DAY + 2 * HOUR - std;
                let end = nth_sunday(y, 11, 1) * DAY + 2 * HOUR - (std + HOUR);
                (start..end).contains(&t)
            }
            Dst::Eu => {
                let start = last_sunday(y, 3) * DAY + HOUR;
                let end = last_sunday(y, 10) * DAY + HOUR;
                (start..end).contains(&t)
            }
            Dst::Au => {
                let end = nth_sunday(y, 4, 1) * DAY + 3 * HOUR - (std + HOUR);
                let start = nth_sunday(y, 10, 1) * DAY + 2 * HOUR - std;
                t < end || t >= start
            }
        };
        std + if dst { HOUR } else { 0 }
    }

    /// The UTC instant of local time `secs_into_day` on the local date `day`.
    pub(crate) fn utc(&self, day: i64, secs_into_day: i64) -> i64 {
        let guess = day * DAY + secs_into_day - i64::from(self.std_offset_min) * MINUTE;
        day * DAY + secs_into_day - self.offset(guess)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates_round_trip() {
        for day in [-1000, 0, 19_000, 20_458, 30_000] {
            let (y, m, d) = civil_from_days(day);
            assert_eq!(days_from_civil(y, m, d), day);
        }
        assert_eq!(parse_date("2026-01-05").map(weekday), Some(0));
        assert_eq!(parse_date("2026-02-30"), None);
        assert_eq!(parse_date("26-01-05"), None);
        assert_eq!(format_date(days_from_civil(2026, 1, 5)), "2026-01-05");
    }

    #[test]
    fn times_have_microsofts_shapes() {
        let t = days_from_civil(2026, 1, 5) * DAY + 9 * HOUR + 62;
        assert_eq!(ual_time(t), "2026-01-05T09:01:02");
        assert_eq!(graph_time(t), "2026-01-05T09:01:02Z");
    }

    #[test]
    fn daylight_saving_switches_on_the_documented_sundays() {
        let ny = Zone {
            std_offset_min: -300,
            dst: Dst::Us,
        };
        let london = Zone {
            std_offset_min: 0,
            dst: Dst::Eu,
        };
        let sydney = Zone {
            std_offset_min: 600,
            dst: Dst::Au,
        };
        let jan = days_from_civil(2026, 1, 15) * DAY;
        let jul = days_from_civil(2026, 7, 15) * DAY;
        assert_eq!(ny.offset(jan), -5 * HOUR);
        assert_eq!(ny.offset(jul), -4 * HOUR);
        assert_eq!(london.offset(jan), 0);
        assert_eq!(london.offset(jul), HOUR);
        assert_eq!(sydney.offset(jan), 11 * HOUR);
        assert_eq!(sydney.offset(jul), 10 * HOUR);
        // 2026-03-29 is the last Sunday of March: London moves at 01:00 UTC.
        let switch = days_from_civil(2026, 3, 29) * DAY + HOUR;
        assert_eq!(london.offset(switch - 1), 0);
        assert_eq!(london.offset(switch), HOUR);
        // 09:00 in New York in January is 14:00 UTC.
        assert_eq!(
            ny.utc(days_from_civil(2026, 1, 15), 9 * HOUR),
            jan + 14 * HOUR
        );
    }
}
