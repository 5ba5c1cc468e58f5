//! Time parsing: every timestamp inside mailtrail is a UTC [`Timestamp`].

/// An instant in UTC, with nanosecond precision.
pub use jiff::Timestamp;

/// Parses the timestamps Microsoft 365 and Entra ID exports contain, returning UTC.
///
/// Accepts `YYYY-MM-DDTHH:MM:SS` with an optional fraction of up to nine digits (the Unified Audit
/// Log writes seven) and an optional zone (`Z` or `±HH:MM`); a space may replace the `T`. A time
/// without a zone is UTC, which is what `CreationTime` means. Returns `None` for anything else,
/// including locale-formatted dates such as `8/2/2021 1:32:07 PM`, which are ambiguous.
pub fn parse_time(s: &str) -> Option<Timestamp> {
    let s = s.trim();
    fast_parse(s.as_bytes()).or_else(|| slow_parse(s))
}

/// The hot path: a strict scanner for the common shape, without allocation.
fn fast_parse(b: &[u8]) -> Option<Timestamp> {
    if b.len() < 19 || b[4] != b'-' || b[7] != b'-' || b[13] != b':' || b[16] != b':' {
        return None;
    }
    if b[10] != b'T' && b[10] != b't' && b[10] != b' ' {
        return None;
    }
    let year = digits(&b[0..4])? as i64;
    let month = digits(&b[5..7])?;
    let day = digits(&b[8..10])?;
    let hour = digits(&b[11..13])?;
    let minute = digits(&b[14..16])?;
    let second = digits(&b[17..19])?;
    if !(1..=12).contains(&month)
        || day == 0
        || day > days_in_month(year, month)
        || hour > 23
        || minute > 59
        || second > 59
    {
        return None;
    }
    let mut rest = &b[19..];
    let mut nanos: u32 = 0;
    if let Some((&b'.', tail)) = rest.split_first() {
        let n = tail.iter().take_while(|c| c.is_ascii_digit()).count();
        if n == 0 {
            return None;
        }
        // Digits beyond nanoseconds are dropped, not rounded: the source never has them in practice.
        for (i, &c) in tail[..n].iter().enumerate() {
            if i < 9 {
                nanos = nanos * 10 + u32::from(c - b'0');
            }
        }
        for _ in n..9 {
            nanos *= 10;
        }
        rest = &tail[n..];
    }
    let offset_secs: i64 = match rest {
        [] | [b'Z'] | [b'z'] => 0,
        [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] | [sign @ (b'+' | b'-'), h1, h2, m1, m2] => {
            let h = digits(&[*h1, *h2])? as i64;
            let m = digits(&[*m1, *m2])? as i64;
            if h > 23 || m > 59 {
                return None;
            }
            let off = h * 3600 + m * 60;
            if *sign == b'+' { off } else { -off }
        }
        _ => return None,
    };
    let days = days_from_civil(year, month, day);
    let secs = days * 86_400 + i64::from(hour * 3600 + minute * 60 + second) - offset_secs;
    Timestamp::new(secs, nanos as i32).ok()
}

/// Everything else jiff understands (RFC 9557 suffixes, leap-second notation, …).
fn slow_parse(s: &str) -> Option<Timestamp> {
    if let Ok(ts) = s.parse::<Timestamp>() {
        return Some(ts);
    }
    let civil: jiff::civil::DateTime = s.parse().ok()?;
    civil
        .to_zoned(jiff::tz::TimeZone::UTC)
        .ok()
        .map(|z| z.timestamp())
}

fn digits(b: &[u8]) -> Option<u32> {
    let mut v = 0u32;
    for &c in b {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v * 10 + u32::from(c - b'0');
    }
    Some(v)
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        4 | 6 | 9 | 11 => 30,
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ts(s: &str) -> String {
        parse_time(s).map(|t| t.to_string()).unwrap_or_default()
    }

    #[test]
    fn accepts_the_shapes_exports_use() {
        assert_eq!(ts("2021-08-02T13:32:07.0000000Z"), "2021-08-02T13:32:07Z");
        assert_eq!(ts("2021-08-02T13:32:07"), "2021-08-02T13:32:07Z");
        assert_eq!(ts("2021-08-02 13:32:07"), "2021-08-02T13:32:07Z");
        assert_eq!(ts("2021-08-02T13:29:25.983Z"), "2021-08-02T13:29:25.983Z");
        assert_eq!(ts("2021-08-02T15:32:07+02:00"), "2021-08-02T13:32:07Z");
        assert_eq!(ts("2021-08-02T08:32:07-0500"), "2021-08-02T13:32:07Z");
        assert_eq!(ts(" 2024-02-29T00:00:00Z\r\n"), "2024-02-29T00:00:00Z");
    }

    #[test]
    fn rejects_what_is_not_a_time() {
        for bad in [
            "",
            "8/2/2021 1:32:07 PM",
            "2021-13-01T00:00:00Z",
            "2023-02-29T00:00:00Z",
            "2021-08-02T24:00:00Z",
            "2021-08-02T13:32:07.Z",
            "2021-08-02T13:32:07Zjunk",
            "２０２１-08-02T13:32:07Z",
        ] {
            assert_eq!(parse_time(bad), None, "{bad:?}");
        }
    }

    proptest! {
        #[test]
        fn fast_path_agrees_with_jiff(secs in 0i64..4_102_444_800, nanos in 0u32..1_000_000_000) {
            let t = Timestamp::new(secs, nanos as i32).unwrap();
            let s = t.to_string();
            prop_assert_eq!(fast_parse(s.as_bytes()), Some(t));
        }

        #[test]
        fn never_panics(s in "\\PC{0,40}") {
            let _ = parse_time(&s);
        }
    }
}
