//! The dashboard's status board, as the template shows it: per probe a 90-day bar (a cell per
//! day in the site time zone, with its availability, coverage and outages on hover or focus),
//! uptime tiles over 30 days (availability, strict availability, coverage: never one without
//! the others) and a "Currently down since …" banner per open episode.

use jiff::tz::TimeZone;
use netpulse_domain::Timestamp;
use netpulse_domain::outage::SeriesFamily;
use netpulse_domain::outage::day_grade::DayGrade;
use netpulse_ports::outage_store::SeriesUptime;
use serde::Serialize;

use crate::notify::render::duration;
use crate::service::outage_board::{BoardDay, BoardProbe};
use crate::web::format::{self, UNKNOWN};

/// A share 0–1 as a percentage with two decimals (`99.95 %`), an em dash when unknown.
pub fn pct(share: Option<f64>) -> String {
    share
        .filter(|v| v.is_finite())
        .map_or_else(|| UNKNOWN.into(), |v| format!("{:.2} %", v * 100.0))
}

/// One day's cell.
#[derive(Debug, Clone, Serialize)]
pub struct DayCell {
    /// `up`, `partial`, `minor`, `major` or `none`.
    pub grade: String,
    /// Little data that day (drawn hatched).
    pub sparse: bool,
    /// `2026-12-01`.
    pub date: String,
    /// Everything the tooltip says, in one line (the cell's accessible name).
    pub label: String,
    /// The tooltip's lines after the date.
    pub lines: Vec<String>,
    /// Where the tooltip opens: `start`, `middle` or `end` (keeps it inside narrow screens).
    pub tip: String,
}

/// An uptime tile (one family over 30 days).
#[derive(Debug, Clone, Serialize)]
pub struct UptimeTile {
    /// `v4`, `v6` or `all`.
    pub family: String,
    /// Availability (complete outages only).
    pub availability: String,
    /// Strict availability (complete and partial).
    pub strict: String,
    /// Coverage.
    pub coverage: String,
    /// Downtime (complete).
    pub downtime: String,
}

/// A probe on the board.
#[derive(Debug, Clone, Serialize)]
pub struct BoardView {
    /// The probe's name.
    pub name: String,
    /// Its outages.
    pub href: String,
    /// Oldest first.
    pub cells: Vec<DayCell>,
    /// Per family.
    pub tiles: Vec<UptimeTile>,
    /// Whether no day has data.
    pub empty: bool,
    /// The bar's first day.
    pub first_day: String,
}

/// A probe's open episodes (one banner per probe: its families' episodes usually start
/// together).
#[derive(Debug, Clone, Serialize)]
pub struct DownBanner {
    /// The probe's name.
    pub probe: String,
    /// The families down or partly down: `v4, v6, all`.
    pub family: String,
    /// When it started, in the site zone.
    pub since: String,
    /// How long ago.
    pub ago: String,
    /// `Complete` or `Partial (37.50 %)` so far (of the `all` episode when there is one,
    /// else of the earliest).
    pub severity: String,
    /// `complete` or `partial`.
    pub tone: String,
    /// The detail page of that episode.
    pub href: String,
}

fn grade_word(g: DayGrade) -> &'static str {
    match g {
        DayGrade::NoData => "no data",
        DayGrade::Up => "no outage",
        DayGrade::Partial => "partial outages only",
        DayGrade::Minor => "down for less than 1 %",
        DayGrade::Major => "down for 1 % or more",
    }
}

/// `v4, v6, all` (in that order).
fn family_list(mut families: Vec<SeriesFamily>) -> String {
    families.sort_by_key(|f| SeriesFamily::ALL.iter().position(|a| a == f));
    families.dedup();
    families
        .iter()
        .map(|f| f.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// `10:05 12 min · Complete · v4, all`: the day's outages, those of several families with the
/// same start, length and severity on one line; the time alone when it starts that day.
fn outage_lines(d: &BoardDay, tz: &TimeZone, now: Timestamp) -> Vec<String> {
    let mut lines: Vec<(String, Vec<SeriesFamily>)> = Vec::new();
    for o in &d.outages {
        let e = &o.episode;
        let start = Timestamp::from_unix_millis(e.started_at_ms);
        let end = e.ended_at_ms().unwrap_or(now.unix_millis());
        let when = if start >= d.start {
            format::time_of_day(start, tz)
        } else {
            format::date_time(start, tz)
        };
        let text = format!(
            "{when} {}{} · {}",
            duration((end - e.started_at_ms) / 1000),
            if e.closed { "" } else { " (ongoing)" },
            e.severity().label()
        );
        match lines.iter_mut().find(|(t, _)| *t == text) {
            Some((_, families)) => families.push(o.family),
            None => lines.push((text, vec![o.family])),
        }
    }
    lines
        .into_iter()
        .map(|(text, families)| format!("{text} · {}", family_list(families)))
        .collect()
}

fn cell(i: usize, d: &BoardDay, tz: &TimeZone, now: Timestamp) -> DayCell {
    let date = format::date(d.start, tz);
    let mut lines = vec![grade_word(d.grade).to_owned()];
    // Families with the same figures share a line.
    let mut figures: Vec<(String, Vec<SeriesFamily>)> = Vec::new();
    for f in &d.families {
        if f.availability.coverage.is_some_and(|c| c > 0.0) {
            let text = format!(
                "{} available, strict {}, coverage {}",
                pct(f.availability.availability),
                pct(f.availability.strict),
                pct(f.availability.coverage)
            );
            match figures.iter_mut().find(|(t, _)| *t == text) {
                Some((_, families)) => families.push(f.family),
                None => figures.push((text, vec![f.family])),
            }
        }
    }
    for (text, families) in figures {
        lines.push(format!("{}: {text}", family_list(families)));
    }
    if d.families.is_empty() || d.grade == DayGrade::NoData {
        lines.push(format!("coverage {}", pct(d.coverage.or(Some(0.0)))));
    }
    let outages = outage_lines(d, tz, now);
    match outages.len() {
        0 => {}
        1 => lines.push("1 outage:".into()),
        n => lines.push(format!("{n} outages:")),
    }
    lines.extend(outages.iter().take(6).cloned());
    if outages.len() > 6 {
        lines.push(format!("… and {} more", outages.len() - 6));
    }
    let tip = match i {
        0..30 => "start",
        30..60 => "middle",
        _ => "end",
    };
    DayCell {
        grade: d.grade.as_str().to_owned(),
        sparse: d.sparse(),
        label: format!("{date}: {}", lines.join("; ")),
        date,
        lines,
        tip: tip.to_owned(),
    }
}

/// A tile from an uptime series.
pub fn tile(s: &SeriesUptime) -> UptimeTile {
    UptimeTile {
        family: s.family.as_str().to_owned(),
        availability: pct(s.availability.availability),
        strict: pct(s.availability.strict),
        coverage: pct(s.availability.coverage),
        downtime: duration(s.time.complete_ms / 1000),
    }
}

/// The board's views and the banners of its open episodes.
pub fn views(
    board: &[BoardProbe],
    tz: &TimeZone,
    now: Timestamp,
) -> (Vec<BoardView>, Vec<DownBanner>) {
    let mut banners = Vec::new();
    let views = board
        .iter()
        .map(|p| {
            let earliest = p.open.iter().min_by_key(|o| o.episode.started_at_ms);
            let main = p
                .open
                .iter()
                .find(|o| o.family == netpulse_domain::outage::SeriesFamily::All)
                .or(earliest);
            if let (Some(o), Some(first)) = (main, earliest) {
                let since = Timestamp::from_unix_millis(first.episode.started_at_ms);
                let severity = o.episode.severity();
                banners.push(DownBanner {
                    probe: p.name.clone(),
                    family: family_list(p.open.iter().map(|o| o.family).collect()),
                    since: format::date_time(since, tz),
                    ago: format::relative(since, now),
                    severity: severity.label(),
                    tone: match severity {
                        netpulse_domain::outage::Severity::Complete => "complete",
                        netpulse_domain::outage::Severity::Partial(_) => "partial",
                    }
                    .to_owned(),
                    href: format!("/outages/{}", o.id),
                });
            }
            BoardView {
                name: p.name.clone(),
                href: format!("/outages?probe={}", p.probe_id),
                cells: p
                    .days
                    .iter()
                    .enumerate()
                    .map(|(i, d)| cell(i, d, tz, now))
                    .collect(),
                tiles: p.uptime.series.iter().map(tile).collect(),
                empty: p.days.iter().all(|d| d.grade == DayGrade::NoData),
                first_day: p
                    .days
                    .first()
                    .map_or_else(String::new, |d| format::date(d.start, tz)),
            }
        })
        .collect();
    (views, banners)
}
