//! The status summary (`netpulse status`, `GET /api/v1/status`, the Outages page's head): the
//! PlexSheep-style tallies of the check results over a window (in all, per check kind, per
//! family), uptime with coverage, and the 10 latest and 10 most severe outages of the window;
//! and the dashboard's status board (a 90-day bar per probe, uptime tiles, open outages).
//!
//! Cost: the tallies are one grouped query over the window's result rows (bounded by the
//! window, at most 400 days; the check state rows' counters have no window), the uptime one
//! grouped query per series over its stored rounds, the lists two index reads of 10 rows; the
//! board one grouped query per probe over 90 days of stored rounds (days × states rows), one
//! uptime and one list of the window's outages (at most 1000), never raw check results.

use std::collections::BTreeMap;

use netpulse_domain::Timestamp;
use netpulse_domain::check::Outcome;
use netpulse_domain::id::ProbeId;
use netpulse_domain::outage::OutageRules;
use netpulse_domain::outage::SeriesFamily;
use netpulse_domain::outage::availability::{Availability, StateTime};
use netpulse_domain::outage::day_grade::DayGrade;
use netpulse_ports::outage_store::{OutageFilter, OutageOrder, StoredOutage, Uptime};
use netpulse_ports::status_store::{ResultTally, Summary, Tally};

use super::App;
use super::outages;
use crate::error::AppError;

/// Outages per list of the summary.
pub const LIST_LEN: u32 = 10;
/// Days on the dashboard's bar.
pub const BOARD_DAYS: i64 = 90;
const DAY_MS: i64 = 86_400_000;

fn add(tally: &mut Tally, t: &ResultTally) {
    tally.checks += t.count;
    match t.outcome {
        Outcome::Ok => tally.ok += t.count,
        Outcome::Fail => tally.bad += t.count,
        Outcome::NotApplicable | Outcome::LocalError => tally.other += t.count,
    }
    tally.first = Some(tally.first.map_or(t.first, |f| f.min(t.first)));
    tally.last = Some(
        tally
            .last
            .map_or(t.last, |l| if t.last > l { t.last } else { l }),
    );
}

/// Reads a window's start: a duration back from `now` (`30d`, `12h`, `90m`) or an RFC 3339
/// time; `field` names the flag or parameter in the error.
pub fn parse_since(field: &str, text: &str, now: Timestamp) -> Result<Timestamp, AppError> {
    let t = text.trim();
    let unit = t.chars().last().unwrap_or(' ');
    let scale = match unit {
        'd' => Some(86_400),
        'h' => Some(3_600),
        'm' => Some(60),
        _ => None,
    };
    if let Some(scale) = scale
        && let Ok(n) = t[..t.len() - 1].parse::<i64>()
    {
        if !(1..=outages::MAX_UPTIME_SECONDS / scale).contains(&n) {
            return Err(AppError::invalid(
                field,
                format!("must be 1m–400d back (got {t:?})"),
            ));
        }
        return Ok(now.plus_seconds(-n * scale));
    }
    Timestamp::parse_rfc3339(t).map_err(|_| {
        AppError::invalid(
            field,
            format!("must be a duration such as 30d, 12h or 90m, or an RFC 3339 time (got {t:?})"),
        )
    })
}

/// The summary of `probe` (or every probe) over `[since, until)` (default: the last 30
/// days).
pub async fn summary(
    app: &App,
    probe: Option<&ProbeId>,
    since: Option<Timestamp>,
    until: Option<Timestamp>,
) -> Result<Summary, AppError> {
    let uptime = outages::uptime(app, probe, since, until).await?;
    let tallies = app
        .storage
        .result_tallies(probe, uptime.since, uptime.until)
        .await?;
    let mut all = Tally::default();
    let mut kinds: BTreeMap<String, Tally> = BTreeMap::new();
    let mut families: BTreeMap<String, Tally> = BTreeMap::new();
    for t in &tallies {
        add(&mut all, t);
        add(kinds.entry(t.kind.clone()).or_default(), t);
        add(families.entry(t.family.as_str().to_owned()).or_default(), t);
    }
    let filter = OutageFilter {
        probe: probe.cloned(),
        family: None,
        since: Some(uptime.since),
        until: Some(uptime.until),
    };
    let latest = outages::list(app, &filter, OutageOrder::Latest, LIST_LEN, None).await?;
    let severe = outages::list(app, &filter, OutageOrder::Severity, LIST_LEN, None).await?;
    Ok(Summary {
        probe: probe.cloned(),
        all,
        kinds: kinds.into_iter().collect(),
        families: families.into_iter().collect(),
        uptime,
        latest: latest.items,
        most_severe: severe.items,
    })
}

/// One day of a probe's bar.
#[derive(Debug, Clone, PartialEq)]
pub struct BoardDay {
    /// The day's start (UTC midnight).
    pub day: Timestamp,
    /// Its time per state (the `all` series).
    pub time: StateTime,
    /// Its availability and coverage.
    pub availability: Availability,
    /// Its grade.
    pub grade: DayGrade,
    /// The outages (every family) going on that day.
    pub outages: Vec<StoredOutage>,
}

/// One probe on the status board.
#[derive(Debug, Clone, PartialEq)]
pub struct BoardProbe {
    /// The probe.
    pub probe_id: ProbeId,
    /// Its name.
    pub name: String,
    /// Oldest day first, [`BOARD_DAYS`] of them, today last.
    pub days: Vec<BoardDay>,
    /// Uptime over the last 30 days (as `GET /api/v1/uptime` answers it).
    pub uptime: Uptime,
    /// Its open outages.
    pub open: Vec<StoredOutage>,
}

/// The dashboard's status board: every probe with an outage series.
pub async fn board(app: &App) -> Result<Vec<BoardProbe>, AppError> {
    let now = app.clock.now();
    let today = now.unix_millis().div_euclid(DAY_MS) * DAY_MS;
    let start = Timestamp::from_unix_millis(today - (BOARD_DAYS - 1) * DAY_MS);
    let end = Timestamp::from_unix_millis(today + DAY_MS);
    let period = OutageRules::default().period_ms;
    let series = app.storage.outage_series(None).await?;
    let probes = super::probes::list(app).await?;
    let mut out = Vec::new();
    for p in &probes {
        let mine: Vec<_> = series.iter().filter(|s| s.probe_id == p.id).collect();
        if mine.is_empty() {
            continue;
        }
        let stored = app
            .storage
            .outage_days(&p.id, SeriesFamily::All, start, end, period)
            .await?;
        let filter = OutageFilter {
            probe: Some(p.id.clone()),
            family: None,
            since: Some(start),
            until: Some(end),
        };
        let window = outages::list(app, &filter, OutageOrder::Latest, 1000, None).await?;
        let days = (0..BOARD_DAYS)
            .map(|i| {
                let day = Timestamp::from_unix_millis(start.unix_millis() + i * DAY_MS);
                let time = stored
                    .iter()
                    .find(|d| d.day == day)
                    .map(|d| d.time)
                    .unwrap_or_default();
                // Today counts only up to now.
                let day_ms = (now.unix_millis() - day.unix_millis()).clamp(1, DAY_MS);
                let availability = Availability::of(day_ms, &time);
                let day_end = day.unix_millis() + DAY_MS;
                let outages = window
                    .items
                    .iter()
                    .filter(|o| {
                        let e = &o.episode;
                        let end = e.ended_at_ms().unwrap_or(now.unix_millis());
                        e.started_at_ms < day_end && end >= day.unix_millis()
                    })
                    .cloned()
                    .collect();
                BoardDay {
                    day,
                    time,
                    availability,
                    grade: DayGrade::of(&availability),
                    outages,
                }
            })
            .collect();
        let uptime = outages::uptime(app, Some(&p.id), None, Some(now)).await?;
        out.push(BoardProbe {
            probe_id: p.id.clone(),
            name: p.name.to_string(),
            days,
            uptime,
            open: mine.iter().filter_map(|s| s.open.clone()).collect(),
        });
    }
    Ok(out)
}
