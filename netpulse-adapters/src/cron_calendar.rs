//! The domain's `CronCalendar`, implemented with croner: standard 5-field expressions (minute,
//! hour, day of month, month, day of week with 0 or 7 = Sunday, names allowed), evaluated in an
//! IANA time zone with jiff, daylight-saving changes included.

use std::str::FromStr;

use croner::Cron;
use jiff::Timestamp as JiffTimestamp;
use jiff::tz::TimeZone;
use netpulse_domain::Timestamp;
use netpulse_domain::schedule::CronCalendar;

/// Cron evaluation with croner and the system time-zone database (bundled when the system has
/// none).
#[derive(Debug, Clone, Copy, Default)]
pub struct CronerCalendar;

fn zone(name: &str) -> Result<TimeZone, String> {
    TimeZone::get(name).map_err(|e| format!("unknown time zone {name:?} ({e})"))
}

fn parse(expression: &str) -> Result<Cron, String> {
    if expression.split_whitespace().count() != 5 {
        return Err("expected 5 fields: minute hour day-of-month month day-of-week".to_owned());
    }
    Cron::from_str(expression).map_err(|e| e.to_string())
}

impl CronCalendar for CronerCalendar {
    fn check(&self, expression: &str, time_zone: &str) -> Result<(), String> {
        zone(time_zone)?;
        parse(expression).map(|_| ())
    }

    fn next_tick_after(
        &self,
        expression: &str,
        time_zone: &str,
        after: Timestamp,
    ) -> Option<Timestamp> {
        let cron = parse(expression).ok()?;
        let tz = zone(time_zone).ok()?;
        let start = JiffTimestamp::from_millisecond(after.unix_millis())
            .ok()?
            .to_zoned(tz);
        let next = cron.find_next_occurrence(&start, false).ok()?;
        Some(Timestamp::from_unix_millis(
            next.timestamp().as_millisecond(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(text: &str) -> Timestamp {
        Timestamp::parse_rfc3339(text).unwrap()
    }

    #[test]
    fn five_field_expressions_in_utc() {
        let c = CronerCalendar;
        assert_eq!(
            c.next_tick_after("0 8,20 * * *", "UTC", ts("2026-06-06T12:05:00Z")),
            Some(ts("2026-06-06T20:00:00Z"))
        );
        assert_eq!(
            c.next_tick_after("* * * * *", "UTC", ts("2026-06-06T12:05:30Z")),
            Some(ts("2026-06-06T12:06:00Z"))
        );
        // Strictly after: a tick exactly at `after` is not returned.
        assert_eq!(
            c.next_tick_after("5 12 * * *", "UTC", ts("2026-06-06T12:05:00Z")),
            Some(ts("2026-06-07T12:05:00Z"))
        );
        // Weekday 0 is Sunday (2026-06-07 is a Sunday).
        assert_eq!(
            c.next_tick_after("0 0 * * 0", "UTC", ts("2026-06-06T12:00:00Z")),
            Some(ts("2026-06-07T00:00:00Z"))
        );
    }

    #[test]
    fn time_zones_and_daylight_saving() {
        let c = CronerCalendar;
        // 08:00 in Berlin is 06:00 UTC in summer, 07:00 UTC in winter.
        assert_eq!(
            c.next_tick_after("0 8 * * *", "Europe/Berlin", ts("2026-06-06T12:00:00Z")),
            Some(ts("2026-06-07T06:00:00Z"))
        );
        assert_eq!(
            c.next_tick_after("0 8 * * *", "Europe/Berlin", ts("2026-12-06T12:00:00Z")),
            Some(ts("2026-12-07T07:00:00Z"))
        );
    }

    #[test]
    fn checks_reject_bad_input_with_reasons() {
        let c = CronerCalendar;
        assert!(c.check("0 8,20 * * *", "Europe/Berlin").is_ok());
        assert!(
            c.check("0 8 * * *", "Mars/Olympus")
                .unwrap_err()
                .contains("time zone")
        );
        assert!(c.check("61 * * * *", "UTC").is_err());
        assert!(
            c.check("0 0 * * * *", "UTC")
                .unwrap_err()
                .contains("5 fields")
        );
    }
}
