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

const FIELD_NAMES: [&str; 5] = ["minute", "hour", "day-of-month", "month", "day-of-week"];

fn parse(expression: &str) -> Result<Cron, String> {
    let fields: Vec<&str> = expression.split_whitespace().collect();
    if fields.len() != 5 {
        return Err("expected 5 fields: minute hour day-of-month month day-of-week".to_owned());
    }
    Cron::from_str(expression).map_err(|e| explain(&fields, &e))
}

/// croner's message ("Component error: Number out of bounds") reworded, naming the field at
/// fault: the first field that croner refuses on its own (the others as `*`).
fn explain(fields: &[&str], error: &croner::errors::CronError) -> String {
    let what = match error {
        croner::errors::CronError::ComponentError(m)
        | croner::errors::CronError::InvalidPattern(m)
        | croner::errors::CronError::IllegalCharacters(m) => m.trim_end_matches('.').to_owned(),
        other => other.to_string(),
    };
    let what = what.replace("Number out of bounds", "a number is out of range");
    let alone = |i: usize| {
        let mut probe = ["*"; 5];
        probe[i] = fields[i];
        Cron::from_str(&probe.join(" ")).is_err()
    };
    match (0..5).find(|&i| alone(i)) {
        Some(i) => format!("{} field {:?}: {what}", FIELD_NAMES[i], fields[i]),
        None => format!("the fields do not fit together: {what}"),
    }
}

impl CronCalendar for CronerCalendar {
    fn check(&self, expression: &str, time_zone: &str) -> Result<(), String> {
        zone(time_zone)?;
        parse(expression).map(|_| ())
    }

    fn check_time_zone(&self, time_zone: &str) -> Result<(), String> {
        zone(time_zone).map(|_| ())
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
    fn croner_messages_name_the_field() {
        let c = CronerCalendar;
        let e = c.check("0 25 * * *", "UTC").unwrap_err();
        assert!(!e.contains("Component error"), "{e}");
        assert!(e.starts_with("hour field \"25\": "), "{e}");
        let e = c.check("0 0 * * 9", "UTC").unwrap_err();
        assert!(e.starts_with("day-of-week field \"9\": "), "{e}");
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
        assert!(c.check_time_zone("Europe/Berlin").is_ok());
        assert!(
            c.check_time_zone("Mars/Base")
                .unwrap_err()
                .contains("Mars/Base")
        );
        assert!(
            c.check("0 0 * * * *", "UTC")
                .unwrap_err()
                .contains("5 fields")
        );
    }
}
