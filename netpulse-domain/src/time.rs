//! UTC instants with millisecond precision, and the civil-calendar arithmetic the domain needs
//! (RFC 3339 text, weekday and hour in a fixed UTC offset). No time crate: the domain is std only.

use std::fmt;
use std::time::Duration;

/// An instant in UTC, stored as milliseconds since the Unix epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(i64);

/// Why a text could not be read as an RFC 3339 timestamp.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimestampError {
    /// The text that was given.
    pub value: String,
    /// What was wrong with it.
    pub reason: &'static str,
}

impl fmt::Display for TimestampError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:?} is not an RFC 3339 timestamp: {}",
            self.value, self.reason
        )
    }
}

impl std::error::Error for TimestampError {}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
pub(crate) fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The proleptic Gregorian date of a day count since 1970-01-01 (`civil_from_days`).
pub(crate) fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        4 | 6 | 9 | 11 => 30,
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        _ => 31,
    }
}

impl Timestamp {
    /// The Unix epoch.
    pub const EPOCH: Self = Self(0);

    /// From whole seconds since the Unix epoch.
    pub const fn from_unix_seconds(seconds: i64) -> Self {
        Self(seconds.saturating_mul(1000))
    }

    /// From milliseconds since the Unix epoch.
    pub const fn from_unix_millis(millis: i64) -> Self {
        Self(millis)
    }

    /// Whole seconds since the Unix epoch (rounded towards negative infinity).
    pub const fn unix_seconds(self) -> i64 {
        self.0.div_euclid(1000)
    }

    /// Milliseconds since the Unix epoch.
    pub const fn unix_millis(self) -> i64 {
        self.0
    }

    /// This instant plus a number of seconds (saturating).
    #[must_use]
    pub const fn plus_seconds(self, seconds: i64) -> Self {
        Self(self.0.saturating_add(seconds.saturating_mul(1000)))
    }

    /// This instant plus a duration (saturating, millisecond precision).
    #[must_use]
    pub fn plus(self, duration: Duration) -> Self {
        let millis = i64::try_from(duration.as_millis()).unwrap_or(i64::MAX);
        Self(self.0.saturating_add(millis))
    }

    /// Signed whole seconds from `earlier` to `self` (negative when `earlier` is later).
    pub const fn seconds_since(self, earlier: Self) -> i64 {
        (self.0 - earlier.0).div_euclid(1000)
    }

    /// The earlier of two instants.
    #[must_use]
    pub fn min(self, other: Self) -> Self {
        if self <= other { self } else { other }
    }

    /// Reads RFC 3339 text such as `2026-06-06T12:05:00Z`, `2026-06-06T12:05:00.123+02:00`
    /// (fractional seconds beyond milliseconds are truncated; a space may replace the `T`).
    pub fn parse_rfc3339(text: &str) -> Result<Self, TimestampError> {
        let fail = |reason| TimestampError {
            value: text.to_owned(),
            reason,
        };
        let b = text.trim().as_bytes();
        if b.len() < 20 {
            return Err(fail(
                "too short (expected YYYY-MM-DDTHH:MM:SS and an offset)",
            ));
        }
        let num = |range: std::ops::Range<usize>| -> Option<u32> {
            let part = b.get(range)?;
            if part.iter().all(u8::is_ascii_digit) {
                std::str::from_utf8(part).ok()?.parse().ok()
            } else {
                None
            }
        };
        let (Some(year), Some(month), Some(day)) = (num(0..4), num(5..7), num(8..10)) else {
            return Err(fail("the date must be YYYY-MM-DD"));
        };
        if b[4] != b'-' || b[7] != b'-' {
            return Err(fail("the date must be YYYY-MM-DD"));
        }
        if !matches!(b[10], b'T' | b't' | b' ') {
            return Err(fail("expected 'T' between date and time"));
        }
        let (Some(hour), Some(minute), Some(second)) = (num(11..13), num(14..16), num(17..19))
        else {
            return Err(fail("the time must be HH:MM:SS"));
        };
        if b[13] != b':' || b[16] != b':' {
            return Err(fail("the time must be HH:MM:SS"));
        }
        if !(1..=12).contains(&month) || day == 0 || day > days_in_month(i64::from(year), month) {
            return Err(fail("no such calendar date"));
        }
        if hour > 23 || minute > 59 || second > 60 {
            return Err(fail("no such time of day"));
        }
        let mut i = 19;
        let mut millis: i64 = 0;
        if b.get(i) == Some(&b'.') {
            i += 1;
            let start = i;
            while i < b.len() && b[i].is_ascii_digit() {
                if i - start < 3 {
                    millis = millis * 10 + i64::from(b[i] - b'0');
                }
                i += 1;
            }
            if i == start {
                return Err(fail("expected digits after '.'"));
            }
            for _ in (i - start)..3 {
                millis *= 10;
            }
        }
        let offset_seconds: i64 = match b.get(i) {
            Some(b'Z' | b'z') if i + 1 == b.len() => 0,
            Some(sign @ (b'+' | b'-')) if i + 6 == b.len() && b[i + 3] == b':' => {
                let (Some(oh), Some(om)) = (num(i + 1..i + 3), num(i + 4..i + 6)) else {
                    return Err(fail("the offset must be +HH:MM or -HH:MM"));
                };
                if oh > 23 || om > 59 {
                    return Err(fail("the offset must be +HH:MM or -HH:MM"));
                }
                let s = i64::from(oh * 3600 + om * 60);
                if *sign == b'-' { -s } else { s }
            }
            _ => return Err(fail("expected 'Z' or an offset such as +02:00 at the end")),
        };
        let days = days_from_civil(i64::from(year), month, day);
        let seconds =
            days * 86_400 + i64::from(hour * 3600 + minute * 60 + second.min(59)) - offset_seconds;
        Ok(Self(seconds * 1000 + millis))
    }

    /// RFC 3339 text in UTC: `2026-06-06T12:05:00Z`, or with `.123` when there are milliseconds.
    pub fn to_rfc3339(self) -> String {
        let secs = self.0.div_euclid(1000);
        let millis = self.0.rem_euclid(1000);
        let (year, month, day) = civil_from_days(secs.div_euclid(86_400));
        let sod = secs.rem_euclid(86_400);
        let (h, m, s) = (sod / 3600, (sod % 3600) / 60, sod % 60);
        if millis == 0 {
            format!("{year:04}-{month:02}-{day:02}T{h:02}:{m:02}:{s:02}Z")
        } else {
            format!("{year:04}-{month:02}-{day:02}T{h:02}:{m:02}:{s:02}.{millis:03}Z")
        }
    }

    /// Weekday (0 = Monday … 6 = Sunday) and hour (0–23) of this instant in a fixed UTC offset.
    pub fn weekday_and_hour(self, utc_offset_seconds: i32) -> (u8, u8) {
        let local = self.unix_seconds() + i64::from(utc_offset_seconds);
        let days = local.div_euclid(86_400);
        // 1970-01-01 was a Thursday (index 3 when Monday is 0).
        let weekday = (days + 3).rem_euclid(7) as u8;
        let hour = (local.rem_euclid(86_400) / 3600) as u8;
        (weekday, hour)
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_rfc3339())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_round_trips_and_accepts_offsets() {
        let t = Timestamp::parse_rfc3339("2026-06-06T12:05:00Z").unwrap();
        assert_eq!(t.unix_seconds(), 1_780_747_500);
        assert_eq!(t.to_rfc3339(), "2026-06-06T12:05:00Z");
        let o = Timestamp::parse_rfc3339("2026-06-06T14:05:00.250+02:00").unwrap();
        assert_eq!(o.unix_millis(), t.unix_millis() + 250);
        assert_eq!(o.to_rfc3339(), "2026-06-06T12:05:00.250Z");
        assert_eq!(
            Timestamp::parse_rfc3339("1969-12-31T23:59:59Z")
                .unwrap()
                .unix_seconds(),
            -1
        );
        assert_eq!(
            Timestamp::parse_rfc3339("2024-02-29T00:00:00.123456789Z")
                .unwrap()
                .unix_millis()
                % 1000,
            123
        );
    }

    #[test]
    fn rfc3339_errors_say_what_is_wrong() {
        for (text, reason) in [
            ("2026-02-30T00:00:00Z", "no such calendar date"),
            (
                "2026-06-06T12:05:00",
                "too short (expected YYYY-MM-DDTHH:MM:SS and an offset)",
            ),
            (
                "2026-06-06T12:05:00+0200",
                "expected 'Z' or an offset such as +02:00 at the end",
            ),
            ("2026-06-06X12:05:00Z", "expected 'T' between date and time"),
            ("2026-06-06T25:05:00Z", "no such time of day"),
        ] {
            let err = Timestamp::parse_rfc3339(text).unwrap_err();
            assert_eq!(err.reason, reason, "{text}");
            assert!(err.to_string().contains(text));
        }
    }

    #[test]
    fn weekday_and_hour_follow_the_offset() {
        // 2026-06-08 is a Monday.
        let t = Timestamp::parse_rfc3339("2026-06-08T00:30:00Z").unwrap();
        assert_eq!(t.weekday_and_hour(0), (0, 0));
        assert_eq!(t.weekday_and_hour(-3600), (6, 23));
        assert_eq!(t.weekday_and_hour(9 * 3600), (0, 9));
    }

    #[test]
    fn civil_conversions_agree() {
        for days in [-800_000_i64, -1, 0, 1, 19_000, 20_000, 2_000_000] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
    }
}
