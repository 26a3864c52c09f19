//! The dashboard's status board and the Outages page's detail: per probe a 90-day bar (one
//! cell per day in the site time zone, graded from that day's availability with its
//! coverage), uptime over the last 30 days (the same figures as `GET /api/v1/uptime`), and its
//! open episodes; one outage with the names of its failing checks and the availability of its
//! series around it.
//!
//! Cost per probe: one grouped query per series over 90 days of stored round states
//! (15-minute buckets × states, at most 8,640 × 7 rows, whatever the number of check results),
//! one uptime (one grouped query per series) and one list of the window's outages (at most
//! [`MAX_DAY_OUTAGES`]); never raw check results.

use jiff::tz::TimeZone;
use netpulse_domain::Timestamp;
use netpulse_domain::id::ProbeId;
use netpulse_domain::outage::availability::{Availability, StateTime};
use netpulse_domain::outage::day_grade::DayGrade;
use netpulse_domain::outage::{OutageRules, SeriesFamily};
use netpulse_ports::outage_store::{
    OutageDetail, OutageFilter, OutageOrder, SeriesUptime, StoredOutage, Uptime,
};

use super::App;
use super::outages;
use super::rollups::local_day;
use crate::error::AppError;

/// Days on the bar.
pub const BOARD_DAYS: usize = 90;
/// The bucket the stored rounds are grouped in: every time zone's offset is a multiple of it,
/// so a bucket never straddles a local midnight.
pub const BUCKET_MS: i64 = 15 * 60_000;
/// The most outages the bar lists over its 90 days (newest first).
pub const MAX_DAY_OUTAGES: u32 = 1000;
/// The most probes the board shows (those with an open outage first, then those with data,
/// then by name): its cost grows with the probes it shows.
pub const BOARD_PROBES: usize = 12;
/// Below this coverage a day is drawn as sparse (little data), whatever its grade.
pub const SPARSE_BELOW: f64 = 0.5;

/// One family on one day.
#[derive(Debug, Clone, PartialEq)]
pub struct DayFamily {
    /// The family.
    pub family: SeriesFamily,
    /// Time per state.
    pub time: StateTime,
    /// Availability and coverage of the day (today: up to now).
    pub availability: Availability,
    /// Its grade.
    pub grade: DayGrade,
}

/// One day of a probe's bar.
#[derive(Debug, Clone, PartialEq)]
pub struct BoardDay {
    /// Local midnight at its start.
    pub start: Timestamp,
    /// Local midnight at its end (23 or 25 hours on DST days).
    pub end: Timestamp,
    /// Per family of the probe's series (v4, v6, all).
    pub families: Vec<DayFamily>,
    /// The worst grade of its families.
    pub grade: DayGrade,
    /// The best coverage of its families (`None`: nothing outside maintenance).
    pub coverage: Option<f64>,
    /// The outages (every family) going on that day, newest first.
    pub outages: Vec<StoredOutage>,
}

impl BoardDay {
    /// Whether so little of the day was measured that its grade says little.
    pub fn sparse(&self) -> bool {
        self.grade != DayGrade::NoData && self.coverage.is_some_and(|c| c < SPARSE_BELOW)
    }
}

/// One probe on the board.
#[derive(Debug, Clone, PartialEq)]
pub struct BoardProbe {
    /// The probe.
    pub probe_id: ProbeId,
    /// Its name.
    pub name: String,
    /// Oldest first, [`BOARD_DAYS`] of them, today last.
    pub days: Vec<BoardDay>,
    /// Uptime over the last 30 days, as `GET /api/v1/uptime?probe=` answers it.
    pub uptime: Uptime,
    /// Its open episodes.
    pub open: Vec<StoredOutage>,
}

fn rank(g: DayGrade) -> u8 {
    match g {
        DayGrade::NoData => 0,
        DayGrade::Up => 1,
        DayGrade::Partial => 2,
        DayGrade::Minor => 3,
        DayGrade::Major => 4,
    }
}

/// The [`BOARD_DAYS`] local days ending with today's, oldest first.
pub fn board_days(now: Timestamp, tz: &TimeZone) -> Vec<(Timestamp, Timestamp)> {
    let mut days = vec![local_day(now, tz)];
    while days.len() < BOARD_DAYS {
        let first = days[days.len() - 1].0;
        days.push(local_day(
            Timestamp::from_unix_millis(first.unix_millis() - 1),
            tz,
        ));
    }
    days.reverse();
    days
}

fn overlaps(o: &StoredOutage, start: Timestamp, end: Timestamp, now: Timestamp) -> bool {
    let e = &o.episode;
    let until = e.ended_at_ms().unwrap_or(now.unix_millis());
    e.started_at_ms < end.unix_millis() && until >= start.unix_millis()
}

/// The board: at most [`BOARD_PROBES`] probes (a probe without data gets a bar of days
/// without data), and how many more there are.
pub async fn board(app: &App, tz: &TimeZone) -> Result<(Vec<BoardProbe>, usize), AppError> {
    let now = app.clock.now();
    let period = OutageRules::default().period_ms;
    let days = board_days(now, tz);
    let (since, until) = (days[0].0, days[BOARD_DAYS - 1].1);
    let series = app.storage.outage_series(None).await?;
    let mut probes = super::probes::list(app).await?;
    probes.sort_by_cached_key(|p| {
        let mine = series.iter().filter(|s| s.probe_id == p.id);
        let rank = if mine.clone().any(|s| s.open.is_some()) {
            0
        } else if mine.count() > 0 {
            1
        } else {
            2
        };
        (rank, p.name.to_string())
    });
    let hidden = probes.len().saturating_sub(BOARD_PROBES);
    probes.truncate(BOARD_PROBES);
    let mut out = Vec::new();
    for p in probes {
        let mine: Vec<_> = series.iter().filter(|s| s.probe_id == p.id).collect();
        let mut per_family = Vec::new();
        for s in &mine {
            let buckets = app
                .storage
                .outage_state_buckets(&p.id, s.family, since, until, BUCKET_MS, period)
                .await?;
            per_family.push((s.family, buckets));
        }
        let filter = OutageFilter {
            probe: Some(p.id.clone()),
            family: None,
            since: Some(since),
            until: Some(until),
        };
        let window =
            outages::list(app, &filter, OutageOrder::Latest, MAX_DAY_OUTAGES, None).await?;
        let board_days = days
            .iter()
            .map(|&(start, end)| {
                let day_ms =
                    (end.unix_millis().min(now.unix_millis()) - start.unix_millis()).max(1);
                let families: Vec<DayFamily> = per_family
                    .iter()
                    .map(|(family, buckets)| {
                        let mut time = StateTime::default();
                        for (b, t) in buckets {
                            if *b >= start && *b < end {
                                time.merge(t);
                            }
                        }
                        let availability = Availability::of(day_ms, &time);
                        DayFamily {
                            family: *family,
                            time,
                            availability,
                            grade: DayGrade::of(&availability),
                        }
                    })
                    .collect();
                let grade = families
                    .iter()
                    .map(|f| f.grade)
                    .max_by_key(|g| rank(*g))
                    .unwrap_or(DayGrade::NoData);
                let coverage = families
                    .iter()
                    .filter_map(|f| f.availability.coverage)
                    .reduce(f64::max);
                BoardDay {
                    start,
                    end,
                    families,
                    grade,
                    coverage,
                    outages: window
                        .items
                        .iter()
                        .filter(|o| overlaps(o, start, end, now))
                        .cloned()
                        .collect(),
                }
            })
            .collect();
        let uptime = outages::uptime(app, Some(&p.id), None, Some(now)).await?;
        out.push(BoardProbe {
            probe_id: p.id.clone(),
            name: p.name.to_string(),
            days: board_days,
            uptime,
            open: mine.iter().filter_map(|s| s.open.clone()).collect(),
        });
    }
    Ok((out, hidden))
}

/// One outage as its page shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct OutageView {
    /// The episode and its rounds.
    pub detail: OutageDetail,
    /// The probe's name.
    pub probe_name: String,
    /// Its failing checks: (name, first failure class).
    pub failing_checks: Vec<(String, Option<String>)>,
    /// Its series' uptime over the 30 days up to its end (or now).
    pub context: Option<SeriesUptime>,
}

/// One outage by id, with check names and its series' 30-day availability.
pub async fn outage_view(app: &App, id: &str) -> Result<OutageView, AppError> {
    let detail = outages::get(app, id).await?;
    let o = &detail.outage;
    let probe = super::probes::get(app, &o.probe_id).await?;
    let checks = super::checks::list(app, Some(&o.probe_id)).await?;
    let failing_checks = o
        .episode
        .failing_checks
        .iter()
        .map(|(id, class)| {
            let name = checks
                .iter()
                .find(|c| c.id.as_str() == id.as_str())
                .map_or_else(
                    || format!("check {id} (deleted)"),
                    |c| match c.spec.port {
                        Some(port) => format!("{} {}:{port}", c.spec.kind, c.spec.target),
                        None => format!("{} {}", c.spec.kind, c.spec.target),
                    },
                );
            (name, class.clone())
        })
        .collect();
    let end = o
        .episode
        .ended_at_ms()
        .map_or_else(|| app.clock.now(), Timestamp::from_unix_millis);
    let uptime = outages::uptime(
        app,
        Some(&o.probe_id),
        Some(end.plus_seconds(-outages::DEFAULT_UPTIME_SECONDS)),
        Some(end),
    )
    .await?;
    let context = uptime.series.into_iter().find(|s| s.family == o.family);
    Ok(OutageView {
        probe_name: probe.name.to_string(),
        detail,
        failing_checks,
        context,
    })
}
