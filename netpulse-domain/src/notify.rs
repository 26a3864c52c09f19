//! The rules of notifications besides the alert edge itself ([`crate::alert`]): when a probe is
//! offline, when quiet hours hold a message, when a digest is due and what it says, how failed
//! deliveries are retried, and what happens to an alert raised during maintenance.
//!
//! - **Probe offline**: a probe silent for longer than `max(120 s, 2 × poll interval + 30 s)`
//!   ([`offline_after_seconds`], the one rule of [`crate::agent_state`]) is offline: one alert, and one "back" message when it polls
//!   again ([`liveness_edge`]).
//! - **Quiet hours** ([`QuietHours`]): a daily local-time window `[start, end)` (it may cross
//!   midnight) in an IANA time zone. Critical messages go through; the others are held until the
//!   window ends.
//! - **Digests** ([`DigestSchedule`]): daily and/or weekly at a local time (weekly on one
//!   weekday). A slot's window is the period before it: `[slot − 1 day, slot)` or
//!   `[slot − 7 days, slot)`. [`summarize`] computes per-connection figures.
//! - **Retries** ([`retry_delay_seconds`]): after a retryable failure the next attempt waits
//!   30 s, 2 min, 10 min, 30 min, then 1 h; after [`MAX_ATTEMPTS`] attempts the delivery fails.
//! - **Maintenance** ([`MaintenanceWindow`]): an alert whose result falls in a maintenance window
//!   of its connection is not announced; the incident stays open and is announced when the
//!   window ends if the link is still bad. A recovery is announced only when its alert was.

use crate::error::InvalidValue;
use crate::schedule::CronCalendar;
use crate::stats;
use crate::time::Timestamp;

/// Silence after which a probe counts as offline, seconds: the agent-state rule,
/// `max(120, 2 × poll interval + 30)` ([`crate::agent_state::offline_after_seconds`]).
pub fn offline_after_seconds(poll_interval_seconds: u32) -> i64 {
    crate::agent_state::offline_after_seconds(poll_interval_seconds)
}

/// A change of a probe's liveness.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LivenessEdge {
    /// It stopped polling.
    Offline,
    /// It polls again.
    Back,
}

/// The edge a probe crosses now, given whether it is known to be offline and how long it has
/// been silent: offline once silent for *longer* than `offline_after` (as the agent state).
pub const fn liveness_edge(
    known_offline: bool,
    silent_seconds: i64,
    offline_after: i64,
) -> Option<LivenessEdge> {
    let silent = silent_seconds > offline_after;
    match (known_offline, silent) {
        (false, true) => Some(LivenessEdge::Offline),
        (true, false) => Some(LivenessEdge::Back),
        _ => None,
    }
}

/// A time of day, minutes after local midnight.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LocalTime(u16);

impl LocalTime {
    /// Reads `HH:MM` (24-hour clock).
    pub fn parse(field: &'static str, text: &str) -> Result<Self, InvalidValue> {
        let bad = || InvalidValue::new(field, text, "must be HH:MM (00:00–23:59)");
        let (h, m) = text.trim().split_once(':').ok_or_else(bad)?;
        if h.len() != 2 || m.len() != 2 {
            return Err(bad());
        }
        let h: u16 = h.parse().map_err(|_| bad())?;
        let m: u16 = m.parse().map_err(|_| bad())?;
        if h > 23 || m > 59 {
            return Err(bad());
        }
        Ok(Self(h * 60 + m))
    }

    /// The hour.
    pub const fn hour(self) -> u16 {
        self.0 / 60
    }

    /// The minute.
    pub const fn minute(self) -> u16 {
        self.0 % 60
    }

    /// Minutes after midnight.
    pub const fn minutes(self) -> u16 {
        self.0
    }

    /// From minutes after midnight (`< 1440`).
    pub fn from_minutes(field: &'static str, minutes: u16) -> Result<Self, InvalidValue> {
        if minutes < 24 * 60 {
            Ok(Self(minutes))
        } else {
            Err(InvalidValue::new(field, minutes, "must be < 1440"))
        }
    }

    /// The daily cron expression of this time.
    fn cron(self) -> String {
        format!("{} {} * * *", self.minute(), self.hour())
    }
}

impl std::fmt::Display for LocalTime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:02}:{:02}", self.hour(), self.minute())
    }
}

fn check_zone(
    field: &'static str,
    time_zone: &str,
    calendar: &dyn CronCalendar,
) -> Result<(), InvalidValue> {
    calendar
        .check("0 0 * * *", time_zone)
        .map_err(|e| InvalidValue::new(field, time_zone, e))
}

/// A channel's quiet hours: `[start, end)` every day in a time zone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuietHours {
    start: LocalTime,
    end: LocalTime,
    time_zone: String,
}

impl QuietHours {
    /// Validates: start and end differ, the time zone is known.
    pub fn new(
        start: LocalTime,
        end: LocalTime,
        time_zone: &str,
        calendar: &dyn CronCalendar,
    ) -> Result<Self, InvalidValue> {
        if start == end {
            return Err(InvalidValue::new(
                "quietHours.end",
                end,
                "must differ from the start",
            ));
        }
        check_zone("quietHours.timezone", time_zone, calendar)?;
        Ok(Self {
            start,
            end,
            time_zone: time_zone.to_owned(),
        })
    }

    /// The start.
    pub const fn start(&self) -> LocalTime {
        self.start
    }

    /// The end.
    pub const fn end(&self) -> LocalTime {
        self.end
    }

    /// The time zone.
    pub fn time_zone(&self) -> &str {
        &self.time_zone
    }

    /// When the quiet period covering `at` ends; `None` when `at` is outside quiet hours.
    /// (Inside the window the next end comes before the next start.)
    pub fn holds_until(&self, at: Timestamp, calendar: &dyn CronCalendar) -> Option<Timestamp> {
        let next_end = calendar.next_tick_after(&self.end.cron(), &self.time_zone, at)?;
        let next_start = calendar.next_tick_after(&self.start.cron(), &self.time_zone, at)?;
        (next_end < next_start).then_some(next_end)
    }
}

/// The digest periods.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DigestPeriod {
    /// Every day.
    Daily,
    /// Every week.
    Weekly,
}

impl DigestPeriod {
    /// The name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Daily => "daily",
            Self::Weekly => "weekly",
        }
    }

    /// The window a digest covers, seconds.
    pub const fn window_seconds(self) -> i64 {
        match self {
            Self::Daily => 86_400,
            Self::Weekly => 7 * 86_400,
        }
    }
}

/// Weekday names, Monday first.
pub const WEEKDAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/// When digests are sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DigestSchedule {
    /// Send a daily digest.
    pub daily: bool,
    /// Send a weekly digest.
    pub weekly: bool,
    /// Local time of day.
    pub at: LocalTime,
    /// Weekday of the weekly digest, 0 = Monday … 6 = Sunday.
    pub weekday: u8,
    /// IANA time zone.
    pub time_zone: String,
}

impl Default for DigestSchedule {
    /// No digests; 08:00 UTC, weekly on Monday, when switched on.
    fn default() -> Self {
        Self {
            daily: false,
            weekly: false,
            at: LocalTime(8 * 60),
            weekday: 0,
            time_zone: "UTC".to_owned(),
        }
    }
}

impl DigestSchedule {
    /// Validates the weekday and the time zone.
    pub fn validate(&self, calendar: &dyn CronCalendar) -> Result<(), InvalidValue> {
        if self.weekday > 6 {
            return Err(InvalidValue::new(
                "digest.weekday",
                self.weekday,
                "must be 0 (Monday) … 6 (Sunday)",
            ));
        }
        check_zone("digest.timezone", &self.time_zone, calendar)
    }

    /// Whether `period` is switched on.
    pub const fn enabled(&self, period: DigestPeriod) -> bool {
        match period {
            DigestPeriod::Daily => self.daily,
            DigestPeriod::Weekly => self.weekly,
        }
    }

    /// The cron expression of a period's slots.
    pub fn cron(&self, period: DigestPeriod) -> String {
        match period {
            DigestPeriod::Daily => self.at.cron(),
            // croner: 0 or 7 = Sunday, 1 = Monday.
            DigestPeriod::Weekly => format!(
                "{} {} * * {}",
                self.at.minute(),
                self.at.hour(),
                (self.weekday + 1) % 7
            ),
        }
    }

    /// The first slot of `period` strictly after `after`.
    pub fn next_slot(
        &self,
        period: DigestPeriod,
        after: Timestamp,
        calendar: &dyn CronCalendar,
    ) -> Option<Timestamp> {
        calendar.next_tick_after(&self.cron(period), &self.time_zone, after)
    }
}

/// Attempts of one delivery before it is given up.
pub const MAX_ATTEMPTS: u32 = 6;

/// How long to wait after the `attempt`-th failed attempt (1-based) before the next one;
/// `None` once [`MAX_ATTEMPTS`] attempts were made.
pub const fn retry_delay_seconds(attempt: u32) -> Option<i64> {
    if attempt >= MAX_ATTEMPTS {
        return None;
    }
    Some(match attempt {
        0 | 1 => 30,
        2 => 120,
        3 => 600,
        4 => 1800,
        _ => 3600,
    })
}

/// A connection's maintenance window `[starts_at, ends_at)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MaintenanceWindow {
    /// Start.
    pub starts_at: Timestamp,
    /// End.
    pub ends_at: Timestamp,
}

impl MaintenanceWindow {
    /// Validates `starts_at < ends_at`.
    pub fn new(starts_at: Timestamp, ends_at: Timestamp) -> Result<Self, InvalidValue> {
        if starts_at >= ends_at {
            return Err(InvalidValue::new(
                "endsAt",
                ends_at,
                "must be after startsAt",
            ));
        }
        Ok(Self { starts_at, ends_at })
    }

    /// Whether `at` falls in the window.
    pub fn covers(&self, at: Timestamp) -> bool {
        self.starts_at <= at && at < self.ends_at
    }
}

/// What to do with an incident's announcement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Announcement {
    /// Tell people now.
    Now,
    /// Keep it open and unannounced (maintenance, or notifications are off); housekeeping
    /// announces it later if it is still open when that no longer holds.
    Later,
}

/// Whether an alert is announced when it is raised.
pub const fn announce_alert(notifications_on: bool, in_maintenance: bool) -> Announcement {
    if notifications_on && !in_maintenance {
        Announcement::Now
    } else {
        Announcement::Later
    }
}

/// Whether a recovery is announced: only when its alert was (people who never heard of the
/// outage are not told it ended), and only while notifications are on.
pub const fn announce_recovery(alert_announced: bool, notifications_on: bool) -> bool {
    alert_announced && notifications_on
}

/// One result, as a digest sees it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DigestSample {
    /// Whether the test failed.
    pub failed: bool,
    /// The verdict.
    pub healthy: bool,
    /// Download, bits/s.
    pub download_bps: Option<f64>,
    /// Upload, bits/s.
    pub upload_bps: Option<f64>,
    /// Ping, ms.
    pub ping_ms: Option<f64>,
    /// Packet loss, percent.
    pub packet_loss_percent: Option<f64>,
}

/// One connection's figures over a digest window.
#[derive(Debug, Clone, PartialEq)]
pub struct ConnectionSummary {
    /// Tests in the window (failed included).
    pub tests: u32,
    /// Failed tests.
    pub failures: u32,
    /// Healthy tests.
    pub healthy: u32,
    /// Mean download, bits/s.
    pub download_mean_bps: Option<f64>,
    /// 5th percentile of download (95 % of tests were at least this fast), bits/s.
    pub download_p5_bps: Option<f64>,
    /// Mean upload, bits/s.
    pub upload_mean_bps: Option<f64>,
    /// 5th percentile of upload, bits/s.
    pub upload_p5_bps: Option<f64>,
    /// Mean ping, ms.
    pub ping_mean_ms: Option<f64>,
    /// 95th percentile of ping, ms.
    pub ping_p95_ms: Option<f64>,
    /// Mean packet loss, percent.
    pub packet_loss_mean_percent: Option<f64>,
    /// Healthy tests / all tests, percent (`None` without tests).
    pub uptime_percent: Option<f64>,
    /// Incidents (alerts) opened in the window.
    pub incidents: u32,
    /// Time spent in incidents within the window, seconds.
    pub incident_seconds: i64,
}

/// An incident as a digest sees it: when it opened and, if it did, closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IncidentSpan {
    /// Opened.
    pub opened_at: Timestamp,
    /// Closed (`None` while open).
    pub closed_at: Option<Timestamp>,
}

/// Summarizes one connection's samples and incidents over `[from, until)`.
pub fn summarize(
    samples: &[DigestSample],
    incidents: &[IncidentSpan],
    from: Timestamp,
    until: Timestamp,
) -> ConnectionSummary {
    let values = |f: fn(&DigestSample) -> Option<f64>| -> Vec<f64> {
        samples
            .iter()
            .filter(|s| !s.failed)
            .filter_map(f)
            .filter(|v| v.is_finite())
            .collect()
    };
    let down = values(|s| s.download_bps);
    let up = values(|s| s.upload_bps);
    let ping = values(|s| s.ping_ms);
    let loss = values(|s| s.packet_loss_percent);
    let tests = samples.len() as u32;
    let healthy = samples.iter().filter(|s| s.healthy).count() as u32;
    let mut incident_count = 0;
    let mut incident_seconds = 0;
    for i in incidents {
        if i.opened_at >= from && i.opened_at < until {
            incident_count += 1;
        }
        let start = i.opened_at.max(from);
        let end = i.closed_at.unwrap_or(until).min(until);
        if end > start {
            incident_seconds += end.seconds_since(start);
        }
    }
    ConnectionSummary {
        tests,
        failures: samples.iter().filter(|s| s.failed).count() as u32,
        healthy,
        download_mean_bps: stats::mean(&down),
        download_p5_bps: stats::percentile(&down, 5.0),
        upload_mean_bps: stats::mean(&up),
        upload_p5_bps: stats::percentile(&up, 5.0),
        ping_mean_ms: stats::mean(&ping),
        ping_p95_ms: stats::percentile(&ping, 95.0),
        packet_loss_mean_percent: stats::mean(&loss),
        uptime_percent: (tests > 0).then(|| f64::from(healthy) / f64::from(tests) * 100.0),
        incidents: incident_count,
        incident_seconds,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A calendar for UTC and a fixed-offset zone `+01:00`, daily expressions `M H * * *` and
    /// weekly `M H * * D` only: enough to test the rules without a time-zone database.
    struct FixedCalendar;

    fn offset(tz: &str) -> Option<i64> {
        match tz {
            "UTC" => Some(0),
            "Plus1" => Some(3600),
            _ => None,
        }
    }

    impl CronCalendar for FixedCalendar {
        fn check(&self, _e: &str, tz: &str) -> Result<(), String> {
            self.check_time_zone(tz)
        }

        fn check_time_zone(&self, tz: &str) -> Result<(), String> {
            offset(tz).map(|_| ()).ok_or_else(|| "unknown zone".into())
        }

        fn next_tick_after(&self, e: &str, tz: &str, after: Timestamp) -> Option<Timestamp> {
            let off = offset(tz)?;
            let f: Vec<&str> = e.split(' ').collect();
            let (m, h): (i64, i64) = (f[0].parse().ok()?, f[1].parse().ok()?);
            let dow: Option<i64> = f[4].parse().ok();
            let local = after.unix_seconds() + off;
            let mut day = local.div_euclid(86_400);
            loop {
                let t = day * 86_400 + h * 3600 + m * 60;
                // 1970-01-01 was a Thursday (4 in cron numbering).
                let wd = (day + 4).rem_euclid(7);
                if t > local && dow.is_none_or(|d| d % 7 == wd) {
                    return Some(Timestamp::from_unix_seconds(t - off));
                }
                day += 1;
            }
        }
    }

    fn ts(text: &str) -> Timestamp {
        Timestamp::parse_rfc3339(text).unwrap()
    }

    #[test]
    fn offline_threshold_is_two_polls_and_thirty_seconds_but_at_least_two_minutes() {
        assert_eq!(offline_after_seconds(60), 150);
        assert_eq!(offline_after_seconds(45), 120);
        assert_eq!(offline_after_seconds(46), 122);
        assert_eq!(offline_after_seconds(3600), 7_230);
    }

    #[test]
    fn liveness_edges_happen_once_each_way() {
        assert_eq!(liveness_edge(false, 300, 300), None);
        assert_eq!(liveness_edge(false, 301, 300), Some(LivenessEdge::Offline));
        assert_eq!(liveness_edge(true, 1000, 300), None);
        assert_eq!(liveness_edge(true, 10, 300), Some(LivenessEdge::Back));
        assert_eq!(liveness_edge(false, 10, 300), None);
    }

    #[test]
    fn local_times() {
        assert_eq!(LocalTime::parse("t", "07:05").unwrap().minutes(), 425);
        assert_eq!(LocalTime::parse("t", "23:59").unwrap().to_string(), "23:59");
        for bad in ["24:00", "7:05", "07:60", "0705", "", "ab:cd"] {
            assert_eq!(LocalTime::parse("t", bad).unwrap_err().field, "t", "{bad}");
        }
    }

    #[test]
    fn quiet_hours_across_midnight_hold_until_the_end() {
        let c = FixedCalendar;
        let q = QuietHours::new(
            LocalTime::parse("s", "22:00").unwrap(),
            LocalTime::parse("e", "07:00").unwrap(),
            "UTC",
            &c,
        )
        .unwrap();
        assert_eq!(q.holds_until(ts("2026-06-06T21:59:59Z"), &c), None);
        assert_eq!(
            q.holds_until(ts("2026-06-06T22:00:00Z"), &c),
            Some(ts("2026-06-07T07:00:00Z"))
        );
        assert_eq!(
            q.holds_until(ts("2026-06-07T03:00:00Z"), &c),
            Some(ts("2026-06-07T07:00:00Z"))
        );
        assert_eq!(q.holds_until(ts("2026-06-07T07:00:00Z"), &c), None);
        assert_eq!(q.holds_until(ts("2026-06-07T12:00:00Z"), &c), None);
    }

    #[test]
    fn quiet_hours_within_a_day_and_in_a_time_zone() {
        let c = FixedCalendar;
        let q = QuietHours::new(
            LocalTime::parse("s", "12:00").unwrap(),
            LocalTime::parse("e", "14:00").unwrap(),
            "Plus1",
            &c,
        )
        .unwrap();
        // 12:30 local = 11:30 UTC.
        assert_eq!(
            q.holds_until(ts("2026-06-06T11:30:00Z"), &c),
            Some(ts("2026-06-06T13:00:00Z"))
        );
        assert_eq!(
            q.holds_until(ts("2026-06-06T12:30:00Z"), &c),
            Some(ts("2026-06-06T13:00:00Z"))
        );
        assert_eq!(q.holds_until(ts("2026-06-06T13:30:00Z"), &c), None);
        let same = LocalTime::parse("s", "12:00").unwrap();
        assert!(QuietHours::new(same, same, "UTC", &c).is_err());
        assert_eq!(
            QuietHours::new(same, LocalTime(1), "Mars/Base", &c)
                .unwrap_err()
                .field,
            "quietHours.timezone"
        );
    }

    #[test]
    fn digest_slots_daily_and_weekly() {
        let c = FixedCalendar;
        let s = DigestSchedule {
            daily: true,
            weekly: true,
            at: LocalTime::parse("at", "08:00").unwrap(),
            weekday: 0,
            time_zone: "Plus1".into(),
        };
        // 2026-06-06 is a Saturday.
        assert_eq!(
            s.next_slot(DigestPeriod::Daily, ts("2026-06-06T12:00:00Z"), &c),
            Some(ts("2026-06-07T07:00:00Z"))
        );
        assert_eq!(
            s.next_slot(DigestPeriod::Weekly, ts("2026-06-06T12:00:00Z"), &c),
            Some(ts("2026-06-08T07:00:00Z"))
        );
        assert_eq!(s.cron(DigestPeriod::Weekly), "0 8 * * 1");
        let sunday = DigestSchedule { weekday: 6, ..s };
        assert_eq!(sunday.cron(DigestPeriod::Weekly), "0 8 * * 0");
        assert!(
            DigestSchedule {
                weekday: 7,
                ..sunday
            }
            .validate(&c)
            .is_err()
        );
    }

    #[test]
    fn retries_back_off_then_give_up() {
        let delays: Vec<_> = (1..=MAX_ATTEMPTS).map(retry_delay_seconds).collect();
        assert_eq!(
            delays,
            vec![Some(30), Some(120), Some(600), Some(1800), Some(3600), None]
        );
    }

    #[test]
    fn maintenance_suppresses_and_recoveries_follow_their_alert() {
        assert_eq!(announce_alert(true, false), Announcement::Now);
        assert_eq!(announce_alert(true, true), Announcement::Later);
        assert_eq!(announce_alert(false, false), Announcement::Later);
        assert!(announce_recovery(true, true));
        assert!(!announce_recovery(false, true));
        assert!(!announce_recovery(true, false));
        let w =
            MaintenanceWindow::new(ts("2026-06-06T01:00:00Z"), ts("2026-06-06T03:00:00Z")).unwrap();
        assert!(w.covers(ts("2026-06-06T01:00:00Z")));
        assert!(!w.covers(ts("2026-06-06T03:00:00Z")));
        assert!(MaintenanceWindow::new(w.ends_at, w.starts_at).is_err());
    }

    #[test]
    fn summaries_use_means_percentiles_uptime_and_incidents() {
        let ok = |down: f64, ping: f64| DigestSample {
            failed: false,
            healthy: true,
            download_bps: Some(down),
            upload_bps: Some(down / 2.0),
            ping_ms: Some(ping),
            packet_loss_percent: None,
        };
        let mut samples: Vec<DigestSample> = (1..=19)
            .map(|i| ok(f64::from(i) * 1e6, f64::from(i)))
            .collect();
        samples.push(DigestSample {
            failed: true,
            healthy: false,
            download_bps: None,
            upload_bps: None,
            ping_ms: None,
            packet_loss_percent: None,
        });
        let from = ts("2026-06-06T00:00:00Z");
        let until = ts("2026-06-07T00:00:00Z");
        let incidents = [
            IncidentSpan {
                opened_at: ts("2026-06-05T23:00:00Z"),
                closed_at: Some(ts("2026-06-06T00:30:00Z")),
            },
            IncidentSpan {
                opened_at: ts("2026-06-06T23:00:00Z"),
                closed_at: None,
            },
        ];
        let s = summarize(&samples, &incidents, from, until);
        assert_eq!((s.tests, s.failures, s.healthy), (20, 1, 19));
        assert_eq!(s.download_mean_bps, Some(10e6));
        assert_eq!(s.download_p5_bps, Some(1e6));
        assert_eq!(s.ping_p95_ms, Some(19.0));
        assert_eq!(s.ping_mean_ms, Some(10.0));
        assert_eq!(s.packet_loss_mean_percent, None);
        assert_eq!(s.uptime_percent, Some(95.0));
        assert_eq!(s.incidents, 1, "only the one opened in the window");
        assert_eq!(s.incident_seconds, 1800 + 3600);
        let empty = summarize(&[], &[], from, until);
        assert_eq!((empty.tests, empty.uptime_percent), (0, None));
    }
}
