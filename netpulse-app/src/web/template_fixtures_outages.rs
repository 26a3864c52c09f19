//! The outage pages' fixtures (the Outages page, one outage, the dashboard's status board),
//! built with the pages' own view functions from domain data.

use netpulse_domain::Timestamp;
use netpulse_domain::id::ProbeId;
use netpulse_domain::outage::availability::{Availability, StateTime};
use netpulse_domain::outage::day_grade::DayGrade;
use netpulse_domain::outage::{Episode, SeriesFamily};
use netpulse_ports::outage_store::{OutageDetail, SeriesUptime, StoredOutage, StoredRound, Uptime};

use super::opt;
use crate::service::outage_board::{self, BoardDay, BoardProbe, DayFamily, OutageView};
use crate::web::pages::dashboard::board;
use crate::web::pages::outages::{self, FailingCheck, LegendEntry, OutageDetailPage, OutagesPage};

/// 2026-12-02T12:00:00Z.
pub(crate) fn fixture_now() -> Timestamp {
    Timestamp::from_unix_millis(1_796_212_800_000)
}

/// An episode of `family` starting `minutes_ago` before [`fixture_now`], `down` full and
/// `partial` partial rounds (closed unless `open`).
pub(crate) fn stored_outage(
    family: &str,
    minutes_ago: i64,
    down: u32,
    partial: u32,
    open: bool,
) -> StoredOutage {
    let start = fixture_now().unix_millis() - minutes_ago * 60_000;
    let rounds = i64::from(down + partial);
    StoredOutage {
        id: format!("0000000{down}-0000-4000-8000-00000000000{partial}"),
        probe_id: ProbeId::parse("11111111-1111-4111-8111-111111111111").unwrap(),
        family: SeriesFamily::parse(family).unwrap(),
        episode: Episode {
            started_at_ms: start,
            last_failure_end_ms: start + rounds * 60_000,
            closed: !open,
            end_uncertain: false,
            rounds_down: down,
            rounds_partial: partial,
            failed_checks: u64::from(down) * 4 + u64::from(partial) * 3,
            counted_checks: (u64::from(down) + u64::from(partial)) * 4,
            impact_ms: f64::from(down) * 60_000.0 + f64::from(partial) * 45_000.0,
            failing_checks: vec![("c1".into(), Some("timeout".into())), ("<c2>".into(), None)],
            ..Episode::default()
        },
    }
}

/// A probe on the board: 90 days with data and outages (`full`), or a new probe without any.
pub(crate) fn board_probe(full: bool) -> BoardProbe {
    let now = fixture_now();
    let days = outage_board::board_days(now, &jiff::tz::TimeZone::UTC);
    let grades = [
        DayGrade::Up,
        DayGrade::Partial,
        DayGrade::Minor,
        DayGrade::Major,
        DayGrade::NoData,
    ];
    let outage = stored_outage("v4", 30, 12, 0, true);
    let board_days = days
        .iter()
        .enumerate()
        .map(|(i, &(start, end))| {
            let grade = match (full, i) {
                (false, _) => DayGrade::NoData,
                (true, 89) => DayGrade::Major,
                (true, _) => grades[i % grades.len()],
            };
            let time = StateTime {
                known_ms: if grade == DayGrade::NoData {
                    0
                } else {
                    80_000_000
                },
                complete_ms: if grade == DayGrade::Major {
                    2_000_000
                } else {
                    0
                },
                ..StateTime::default()
            };
            let availability = Availability::of(86_400_000, &time);
            BoardDay {
                start,
                end,
                families: if full {
                    vec![DayFamily {
                        family: SeriesFamily::V4,
                        time,
                        availability,
                        grade,
                    }]
                } else {
                    vec![]
                },
                grade,
                coverage: if full {
                    Some(if i == 10 { 0.2 } else { 0.93 })
                } else {
                    None
                },
                outages: if full && i == 89 {
                    vec![outage.clone(), stored_outage("v6", 600, 1, 2, true)]
                } else {
                    vec![]
                },
            }
        })
        .collect();
    let uptime_series = SeriesUptime {
        probe_id: outage.probe_id.clone(),
        family: SeriesFamily::V4,
        time: StateTime {
            known_ms: 2_500_000_000,
            complete_ms: 720_000,
            partial_ms: 60_000,
            ..StateTime::default()
        },
        availability: Availability {
            availability: Some(0.999_712),
            strict: Some(0.999_688),
            coverage: Some(0.9645),
        },
        unknown_ms: 92_000_000,
    };
    BoardProbe {
        probe_id: outage.probe_id.clone(),
        name: if full {
            "home <fibre>".into()
        } else {
            "new-probe".into()
        },
        days: board_days,
        uptime: Uptime {
            since: Timestamp::from_unix_millis(now.unix_millis() - 30 * 86_400_000),
            until: now,
            series: if full { vec![uptime_series] } else { vec![] },
        },
        open: if full { vec![outage] } else { vec![] },
    }
}

/// The Outages page: rows and blips with a next page, or nothing.
pub(crate) fn outages_page(full: bool) -> OutagesPage {
    let tz = jiff::tz::TimeZone::UTC;
    let row = |o: &StoredOutage| outages::row(o, "home <fibre>", &tz);
    OutagesPage {
        probes: vec![opt("", true), opt("p1", false)],
        families: vec![opt("", true), opt("v4", false)],
        periods: vec![opt("30d", true)],
        orders: vec![opt("latest", true), opt("severity", false)],
        rows: if full {
            vec![
                row(&stored_outage("v4", 30, 12, 0, false)),
                row(&stored_outage("all", 300, 2, 6, true)),
            ]
        } else {
            vec![]
        },
        blips: if full {
            vec![row(&stored_outage("v6", 900, 1, 0, false))]
        } else {
            vec![]
        },
        next: full.then(|| "/outages?cursor=abc".into()),
        first: full.then(|| "/outages".into()),
    }
}

/// One outage's page from a real timeline (up, target, partial, down, a gap, local,
/// maintenance), or one without rounds, checks or context.
pub(crate) fn outage_detail_page(full: bool) -> OutageDetailPage {
    let tz = jiff::tz::TimeZone::UTC;
    let outage = stored_outage("v4", 30, 3, 1, true);
    let start = outage.episode.started_at_ms;
    let states = [
        "up",
        "target",
        "partial",
        "down",
        "down",
        "down",
        "unknown",
        "local",
        "maintenance",
        "up",
    ];
    let rounds = states
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != 6)
        .map(|(i, s)| StoredRound {
            round_at: Timestamp::from_unix_millis(start + (i as i64 - 2) * 60_000),
            state: s,
            failed: if *s == "down" {
                4
            } else {
                u32::from(*s == "partial") * 2
            },
            counted: 4,
        })
        .collect();
    let view = OutageView {
        probe_name: "home <fibre>".into(),
        failing_checks: vec![("icmp 1.1.1.1".into(), Some("timeout".into()))],
        context: None,
        detail: OutageDetail {
            outage: outage.clone(),
            rounds: if full { rounds } else { vec![] },
        },
    };
    let (cells, from, to) = outages::timeline(&view, &tz);
    OutageDetailPage {
        outage: outages::row(&outage, "home <fibre>", &tz),
        probe_href: "/outages?probe=p1".into(),
        rounds_down: 3,
        rounds_partial: 1,
        rounds_unknown: 0,
        impact: "3 min".into(),
        complete: "3 min".into(),
        partial: "1 min".into(),
        cells,
        timeline_from: from,
        timeline_to: to,
        legend: outages::LEGEND
            .iter()
            .map(|(s, l)| LegendEntry {
                state: (*s).into(),
                label: (*l).into(),
            })
            .collect(),
        failing_checks: if full {
            vec![FailingCheck {
                name: "icmp <1.1.1.1>".into(),
                class: "timeout".into(),
            }]
        } else {
            vec![]
        },
        context: full.then(|| board::tile(&board_probe(true).uptime.series[0])),
    }
}
