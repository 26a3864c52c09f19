//! When a connection is tested: an even cadence with a fixed per-connection jitter, or a list of
//! cron expressions evaluated in a time zone.

use crate::crc32::crc32_ieee;
use crate::error::InvalidValue;
use crate::id::ConnectionId;
use crate::time::Timestamp;

/// The most tests per day an even schedule accepts (one a minute); a speed test takes tens of
/// seconds, so more would only queue up.
pub const MAX_TESTS_PER_DAY: u32 = 1440;

/// Evaluates cron expressions. The domain declares it; an adapter implements it (with `croner`:
/// standard 5-field syntax, weekdays 0–6 from Sunday, named time zones).
pub trait CronCalendar {
    /// Checks that an expression and a time-zone name can be evaluated. The error says why not
    /// (naming the field of the expression at fault).
    fn check(&self, expression: &str, time_zone: &str) -> Result<(), String>;

    /// Checks that a time-zone name is known. The error says why not.
    fn check_time_zone(&self, time_zone: &str) -> Result<(), String>;

    /// The first tick strictly after `after` (whole minutes), or `None` if there is none.
    fn next_tick_after(
        &self,
        expression: &str,
        time_zone: &str,
        after: Timestamp,
    ) -> Option<Timestamp>;
}

/// An even schedule: `tests_per_day` tests a day, each interval lengthened by a fixed,
/// per-connection jitter in `0..=jitter_seconds`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EvenSchedule {
    tests_per_day: u32,
    jitter_seconds: u32,
}

impl EvenSchedule {
    /// Validates `1 <= tests_per_day <= 1440` and `jitter_seconds <= 86400`.
    pub fn new(tests_per_day: u32, jitter_seconds: u32) -> Result<Self, InvalidValue> {
        if tests_per_day < 1 {
            return Err(InvalidValue::new(
                "tests_per_day",
                tests_per_day,
                "must be >= 1",
            ));
        }
        if tests_per_day > MAX_TESTS_PER_DAY {
            return Err(InvalidValue::new(
                "tests_per_day",
                tests_per_day,
                format!("must be <= {MAX_TESTS_PER_DAY} (one test a minute)"),
            ));
        }
        if jitter_seconds > 86_400 {
            return Err(InvalidValue::new(
                "jitter_seconds",
                jitter_seconds,
                "must be <= 86400",
            ));
        }
        Ok(Self {
            tests_per_day,
            jitter_seconds,
        })
    }

    /// Tests per day.
    pub const fn tests_per_day(&self) -> u32 {
        self.tests_per_day
    }

    /// Largest jitter in seconds.
    pub const fn jitter_seconds(&self) -> u32 {
        self.jitter_seconds
    }

    /// `floor(86400 / tests_per_day)`.
    pub const fn slot_seconds(&self) -> u32 {
        86_400 / self.tests_per_day
    }

    /// The connection's fixed jitter: `crc32_ieee(id text) mod (jitter_seconds + 1)`.
    pub fn jitter_for(&self, connection: &ConnectionId) -> u32 {
        if self.jitter_seconds == 0 {
            0
        } else {
            crc32_ieee(connection.as_str().as_bytes()) % (self.jitter_seconds + 1)
        }
    }

    /// Slot plus the connection's jitter.
    pub fn interval_seconds(&self, connection: &ConnectionId) -> u32 {
        self.slot_seconds() + self.jitter_for(connection)
    }
}

/// The most expressions a cron schedule has.
pub const MAX_CRON_EXPRESSIONS: usize = 32;
/// The longest cron expression, in characters.
pub const MAX_CRON_EXPRESSION_CHARS: usize = 128;

/// Checks an IANA time-zone name (trimmed, 1–64 characters, known to the calendar) and returns
/// it trimmed. Checked whenever one is given, also with an even schedule (which does not use it),
/// so a mistyped zone is never dropped silently.
pub fn check_time_zone<'a>(
    time_zone: &'a str,
    calendar: &dyn CronCalendar,
) -> Result<&'a str, InvalidValue> {
    let time_zone = time_zone.trim();
    crate::values::check_length("timezone", time_zone, 64)?;
    if time_zone.is_empty() {
        return Err(InvalidValue::new(
            "timezone",
            time_zone,
            "must not be empty",
        ));
    }
    calendar
        .check_time_zone(time_zone)
        .map_err(|why| InvalidValue::new("timezone", time_zone, format!("is invalid: {why}")))?;
    Ok(time_zone)
}

/// A cron schedule: a non-empty list of 5-field expressions (kept as a list, never split on
/// commas, so `0 8,20 * * *` is one expression) and the IANA time zone they are read in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CronSchedule {
    expressions: Vec<String>,
    time_zone: String,
}

impl CronSchedule {
    /// Validates the list with the calendar that will evaluate it, each expression's fields
    /// included ([`crate::cron_fields`]: names only where they belong, ranges, never-firing
    /// dates).
    pub fn new(
        expressions: Vec<String>,
        time_zone: &str,
        calendar: &dyn CronCalendar,
    ) -> Result<Self, InvalidValue> {
        Self::build(expressions, time_zone, calendar, true)
    }

    /// Rebuilds a stored schedule: the checks of [`Self::new`] except the field rules, which
    /// came later, so a connection saved before them (say `MON * * * *`) still loads and runs
    /// as it did; editing it applies them.
    pub fn from_stored(
        expressions: Vec<String>,
        time_zone: &str,
        calendar: &dyn CronCalendar,
    ) -> Result<Self, InvalidValue> {
        Self::build(expressions, time_zone, calendar, false)
    }

    fn build(
        expressions: Vec<String>,
        time_zone: &str,
        calendar: &dyn CronCalendar,
        field_rules: bool,
    ) -> Result<Self, InvalidValue> {
        if expressions.is_empty() {
            return Err(InvalidValue::new(
                "cron",
                "[]",
                "needs at least one expression",
            ));
        }
        if expressions.len() > MAX_CRON_EXPRESSIONS {
            return Err(InvalidValue::new(
                "cron",
                format!("{} expressions", expressions.len()),
                format!("must have at most {MAX_CRON_EXPRESSIONS} expressions"),
            ));
        }
        let time_zone = check_time_zone(time_zone, calendar)?;
        let mut cleaned = Vec::with_capacity(expressions.len());
        for expr in expressions {
            crate::values::check_length("cron", &expr, MAX_CRON_EXPRESSION_CHARS)?;
            let e = expr.split_whitespace().collect::<Vec<_>>().join(" ");
            if e.split(' ').count() != 5 {
                return Err(InvalidValue::new(
                    "cron",
                    &expr,
                    "must have 5 fields: minute hour day-of-month month day-of-week",
                ));
            }
            if field_rules {
                crate::cron_fields::check_cron_fields(&e).map_err(|why| {
                    InvalidValue::new("cron", &expr, format!("is invalid: {why}"))
                })?;
            }
            calendar.check(&e, time_zone).map_err(|why| {
                let field = if why.contains("time zone") {
                    "timezone"
                } else {
                    "cron"
                };
                let value = if field == "timezone" {
                    time_zone
                } else {
                    expr.as_str()
                };
                InvalidValue::new(field, value, format!("is invalid: {why}"))
            })?;
            cleaned.push(e);
        }
        Ok(Self {
            expressions: cleaned,
            time_zone: time_zone.to_owned(),
        })
    }

    /// The expressions, in order.
    pub fn expressions(&self) -> &[String] {
        &self.expressions
    }

    /// The IANA time-zone name.
    pub fn time_zone(&self) -> &str {
        &self.time_zone
    }

    /// The earliest tick of any expression strictly after `after`.
    pub fn next_tick_after(
        &self,
        after: Timestamp,
        calendar: &dyn CronCalendar,
    ) -> Option<Timestamp> {
        self.expressions
            .iter()
            .filter_map(|e| calendar.next_tick_after(e, &self.time_zone, after))
            .min()
    }

    /// The next `count` ticks after `after`, merged across expressions (for previews).
    pub fn upcoming(
        &self,
        after: Timestamp,
        count: usize,
        calendar: &dyn CronCalendar,
    ) -> Vec<Timestamp> {
        let mut out = Vec::with_capacity(count);
        let mut cursor = after;
        while out.len() < count {
            let Some(next) = self.next_tick_after(cursor, calendar) else {
                break;
            };
            out.push(next);
            cursor = next;
        }
        out
    }
}

/// When a connection is tested.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Schedule {
    /// A fixed number of tests a day.
    Even(EvenSchedule),
    /// Cron expressions in a time zone.
    Cron(CronSchedule),
}

impl Default for Schedule {
    /// 24 tests a day with up to 120 s of jitter.
    fn default() -> Self {
        Self::Even(EvenSchedule {
            tests_per_day: 24,
            jitter_seconds: 120,
        })
    }
}

impl Schedule {
    /// The normal interval, for the adaptive rule: slot + jitter for even schedules, 86400 s for
    /// cron schedules.
    pub fn normal_interval_seconds(&self, connection: &ConnectionId) -> u32 {
        match self {
            Self::Even(even) => even.interval_seconds(connection),
            Self::Cron(_) => 86_400,
        }
    }

    /// The mode's name: `even` or `cron`.
    pub const fn mode(&self) -> &'static str {
        match self {
            Self::Even(_) => "even",
            Self::Cron(_) => "cron",
        }
    }
}

/// A calendar for tests: each expression maps to an explicit, sorted list of ticks. Only the
/// expressions it was given are valid.
#[derive(Debug, Clone, Default)]
pub struct ListedTicks {
    entries: Vec<(String, Vec<Timestamp>)>,
}

impl ListedTicks {
    /// An empty calendar.
    pub fn new() -> Self {
        Self::default()
    }

    /// Declares the ticks of an expression.
    #[must_use]
    pub fn with(mut self, expression: &str, mut ticks: Vec<Timestamp>) -> Self {
        ticks.sort();
        self.entries.push((expression.to_owned(), ticks));
        self
    }

    /// A calendar where `expression` ticks every `every_seconds` from the epoch (so
    /// `every(" * * * * *", 60)` models `* * * * *` and `every("0 0 * * *", 86400)` midnight UTC).
    pub fn every(expression: &str, every_seconds: i64, from: Timestamp, until: Timestamp) -> Self {
        let first = from.unix_seconds().div_euclid(every_seconds) * every_seconds;
        let count = (until.unix_seconds() - first).max(0) / every_seconds + 1;
        let ticks = (0..count)
            .map(|i| Timestamp::from_unix_seconds(first + i * every_seconds))
            .collect();
        Self::new().with(expression, ticks)
    }
}

impl CronCalendar for ListedTicks {
    fn check_time_zone(&self, time_zone: &str) -> Result<(), String> {
        if time_zone == "UTC" {
            Ok(())
        } else {
            Err(format!("unknown time zone {time_zone:?}"))
        }
    }

    fn check(&self, expression: &str, time_zone: &str) -> Result<(), String> {
        self.check_time_zone(time_zone)?;
        if self.entries.iter().any(|(e, _)| e == expression) {
            Ok(())
        } else {
            Err(format!("unknown expression {expression:?}"))
        }
    }

    fn next_tick_after(
        &self,
        expression: &str,
        _time_zone: &str,
        after: Timestamp,
    ) -> Option<Timestamp> {
        let (_, ticks) = self.entries.iter().find(|(e, _)| e == expression)?;
        ticks.iter().copied().find(|t| *t > after)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cron_schedule_has_at_most_32_short_expressions() {
        let many = vec!["* * * * *".to_owned(); MAX_CRON_EXPRESSIONS + 1];
        let e = CronSchedule::new(many, "UTC", &ListedTicks::new()).unwrap_err();
        assert_eq!(e.field, "cron");
        assert!(e.rule.contains("at most 32 expressions"), "{e}");
        let long = vec![format!("0 0 * * {}", "1,".repeat(100))];
        let e = CronSchedule::new(long, "UTC", &ListedTicks::new()).unwrap_err();
        assert_eq!(e.field, "cron");
        assert!(e.rule.contains("at most 128 characters"), "{e}");
    }

    fn id(text: &str) -> ConnectionId {
        ConnectionId::parse(text).unwrap()
    }

    #[test]
    fn slots_and_jitter_match_section_1_3() {
        for (per_day, slot) in [(24, 3600), (288, 300), (48, 1800), (7, 12_342)] {
            assert_eq!(EvenSchedule::new(per_day, 0).unwrap().slot_seconds(), slot);
        }
        let s = EvenSchedule::new(24, 120).unwrap();
        assert_eq!(
            s.jitter_for(&id("22222222-2222-4222-8222-222222222222")),
            115
        );
        assert_eq!(
            s.interval_seconds(&id("22222222-2222-4222-8222-222222222222")),
            3715
        );
        assert_eq!(
            s.jitter_for(&id("66666666-6666-4666-8666-666666666666")),
            37
        );
        assert_eq!(
            s.jitter_for(&id("33333333-3333-4333-8333-333333333333")),
            16
        );
        assert_eq!(
            s.jitter_for(&id("11111111-1111-7111-8111-111111111111")),
            84
        );
        let wide = EvenSchedule::new(24, 300).unwrap();
        assert_eq!(
            wide.jitter_for(&id("11111111-1111-7111-8111-111111111111")),
            189
        );
        assert_eq!(
            EvenSchedule::new(24, 0)
                .unwrap()
                .jitter_for(&id("11111111-1111-7111-8111-111111111111")),
            0
        );
    }

    #[test]
    fn even_schedule_validation_names_the_field() {
        assert_eq!(
            EvenSchedule::new(0, 0).unwrap_err().to_string(),
            "tests_per_day must be >= 1, got \"0\""
        );
        assert_eq!(
            EvenSchedule::new(1441, 0).unwrap_err().field,
            "tests_per_day"
        );
        assert_eq!(
            EvenSchedule::new(1, 86_401).unwrap_err().field,
            "jitter_seconds"
        );
    }

    #[test]
    fn cron_lists_are_validated_by_the_calendar() {
        let cal = ListedTicks::new().with("0 8,20 * * *", vec![]);
        let ok = CronSchedule::new(vec!["0  8,20 * * *".into()], "UTC", &cal).unwrap();
        assert_eq!(ok.expressions(), ["0 8,20 * * *"]);
        assert_eq!(
            CronSchedule::new(vec![], "UTC", &cal).unwrap_err().field,
            "cron"
        );
        assert_eq!(
            CronSchedule::new(vec!["* * *".into()], "UTC", &cal)
                .unwrap_err()
                .field,
            "cron"
        );
        assert_eq!(
            CronSchedule::new(vec!["0 8,20 * * *".into()], "Mars/Base", &cal)
                .unwrap_err()
                .field,
            "timezone"
        );
    }

    #[test]
    fn upcoming_merges_expressions() {
        let t = Timestamp::from_unix_seconds;
        let cal = ListedTicks::new()
            .with("1 * * * *", vec![t(100), t(300)])
            .with("2 * * * *", vec![t(200), t(400)]);
        let s =
            CronSchedule::new(vec!["1 * * * *".into(), "2 * * * *".into()], "UTC", &cal).unwrap();
        assert_eq!(s.upcoming(t(0), 3, &cal), vec![t(100), t(200), t(300)]);
        assert_eq!(s.upcoming(t(350), 5, &cal), vec![t(400)]);
    }
}
