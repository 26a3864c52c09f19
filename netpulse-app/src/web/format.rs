//! How figures and times are written on the pages (§7 of the PHP reference): speeds in Mbps or
//! Gbps, milliseconds, percentages, relative times, and times in the configured time zone.
//! An unknown figure is always an em dash, never 0.

use jiff::tz::TimeZone;
use netpulse_domain::Timestamp;
use netpulse_domain::wording;

/// What an unknown value is written as.
pub const UNKNOWN: &str = "—";

/// A number rounded to one decimal, without the decimal when it is whole: `9.5`, `950`.
pub fn one_decimal(value: f64) -> String {
    wording::one_decimal(value)
}

/// bits/s → `950 Mbps`, `9.5 Mbps`; from 1000 Mbps on `1.2 Gbps` (always one decimal).
pub fn speed(bits_per_second: Option<f64>) -> String {
    bits_per_second
        .filter(|v| v.is_finite())
        .map_or_else(|| UNKNOWN.into(), wording::speed)
}

/// bytes → `11.1 GB`, `850 MB`.
pub fn volume(bytes: Option<u64>) -> String {
    bytes.map_or_else(|| UNKNOWN.into(), wording::volume)
}

/// Milliseconds → `12.3 ms`.
pub fn millis(ms: Option<f64>) -> String {
    ms.filter(|v| v.is_finite())
        .map_or_else(|| UNKNOWN.into(), |v| format!("{} ms", one_decimal(v)))
}

/// Percent → `1.2 %`.
pub fn percent(p: Option<f64>) -> String {
    p.filter(|v| v.is_finite())
        .map_or_else(|| UNKNOWN.into(), |v| format!("{} %", one_decimal(v)))
}

/// A signed trend → `+12.5 %`, `−3 %`.
pub fn trend(p: Option<f64>) -> String {
    match p.filter(|v| v.is_finite()) {
        None => UNKNOWN.into(),
        Some(v) if v > 0.0 => format!("+{} %", one_decimal(v)),
        Some(v) if v < 0.0 => format!("−{} %", one_decimal(-v)),
        Some(_) => "0 %".into(),
    }
}

fn plural(n: i64, unit: &str) -> String {
    if n == 1 {
        format!("1 {unit} ago")
    } else {
        format!("{n} {unit}s ago")
    }
}

/// `just now`, `5 minutes ago`, `1 hour ago`, `3 days ago` (the future counts as now).
pub fn relative(at: Timestamp, now: Timestamp) -> String {
    let s = now.seconds_since(at);
    if s < 60 {
        "just now".into()
    } else if s < 3600 {
        plural(s / 60, "minute")
    } else if s < 86_400 {
        plural(s / 3600, "hour")
    } else {
        plural(s / 86_400, "day")
    }
}

/// The time zone of a name, UTC when the name is unknown.
pub fn zone(name: &str) -> TimeZone {
    TimeZone::get(name).unwrap_or(TimeZone::UTC)
}

fn zoned(at: Timestamp, tz: &TimeZone) -> jiff::Zoned {
    jiff::Timestamp::from_millisecond(at.unix_millis())
        .unwrap_or(jiff::Timestamp::UNIX_EPOCH)
        .to_zoned(tz.clone())
}

/// `2026-06-06 14:05` in the zone.
pub fn date_time(at: Timestamp, tz: &TimeZone) -> String {
    zoned(at, tz).strftime("%Y-%m-%d %H:%M").to_string()
}

/// `2026-06-06 14:05:09 CEST` in the zone.
pub fn date_time_long(at: Timestamp, tz: &TimeZone) -> String {
    zoned(at, tz).strftime("%Y-%m-%d %H:%M:%S %Z").to_string()
}

/// `14:05` in the zone.
pub fn time_of_day(at: Timestamp, tz: &TimeZone) -> String {
    zoned(at, tz).strftime("%H:%M").to_string()
}

/// `2026-06-06` in the zone.
pub fn date(at: Timestamp, tz: &TimeZone) -> String {
    zoned(at, tz).strftime("%Y-%m-%d").to_string()
}

/// The zone's offset from UTC at an instant, seconds.
pub fn offset_seconds(at: Timestamp, tz: &TimeZone) -> i32 {
    tz.to_offset(
        jiff::Timestamp::from_millisecond(at.unix_millis()).unwrap_or(jiff::Timestamp::UNIX_EPOCH),
    )
    .seconds()
}

/// Midnight at the start of a `YYYY-MM-DD` day in the zone.
pub fn start_of_day(day: &str, tz: &TimeZone) -> Option<Timestamp> {
    let date: jiff::civil::Date = day.trim().parse().ok()?;
    let zoned = date.to_zoned(tz.clone()).ok()?;
    Some(Timestamp::from_unix_millis(
        zoned.timestamp().as_millisecond(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn speeds_follow_the_reference() {
        assert_eq!(speed(Some(950e6)), "950 Mbps");
        assert_eq!(speed(Some(9.5e6)), "9.5 Mbps");
        assert_eq!(speed(Some(120e6)), "120 Mbps");
        assert_eq!(speed(Some(0.0)), "0 Mbps");
        assert_eq!(speed(Some(1e9)), "1.0 Gbps");
        assert_eq!(speed(Some(2e9)), "2.0 Gbps");
        assert_eq!(speed(Some(999.96e6)), "1.0 Gbps");
        assert_eq!(speed(None), "—");
        assert_eq!(speed(Some(f64::NAN)), "—");
    }

    #[test]
    fn millis_percent_and_trend() {
        assert_eq!(millis(Some(50.0)), "50 ms");
        assert_eq!(millis(Some(12.34)), "12.3 ms");
        assert_eq!(millis(Some(2.3)), "2.3 ms");
        assert_eq!(millis(None), "—");
        assert_eq!(percent(Some(1.2)), "1.2 %");
        assert_eq!(percent(Some(20.0)), "20 %");
        assert_eq!(percent(Some(0.0)), "0 %");
        assert_eq!(trend(Some(50.0)), "+50 %");
        assert_eq!(trend(Some(-12.34)), "−12.3 %");
        assert_eq!(trend(Some(0.0)), "0 %");
        assert_eq!(trend(None), "—");
    }

    #[test]
    fn relative_times() {
        let t = Timestamp::from_unix_seconds;
        assert_eq!(relative(t(0), t(59)), "just now");
        assert_eq!(relative(t(0), t(60)), "1 minute ago");
        assert_eq!(relative(t(0), t(3540)), "59 minutes ago");
        assert_eq!(relative(t(0), t(7200)), "2 hours ago");
        assert_eq!(relative(t(0), t(86_340)), "23 hours ago");
        assert_eq!(relative(t(0), t(86_400)), "1 day ago");
        assert_eq!(relative(t(100), t(0)), "just now");
    }

    #[test]
    fn times_in_a_zone() {
        // 2026-06-06T12:05:00Z is 14:05 in Berlin (CEST).
        let at = Timestamp::from_unix_seconds(1_780_747_500);
        let berlin = zone("Europe/Berlin");
        assert_eq!(date_time(at, &berlin), "2026-06-06 14:05");
        assert_eq!(date_time(at, &zone("UTC")), "2026-06-06 12:05");
        assert_eq!(date_time(at, &zone("Not/AZone")), "2026-06-06 12:05");
        assert_eq!(offset_seconds(at, &berlin), 7200);
        assert_eq!(
            start_of_day("2026-06-06", &berlin),
            Some(Timestamp::from_unix_seconds(1_780_696_800))
        );
        assert_eq!(start_of_day("June", &berlin), None);
    }
}
