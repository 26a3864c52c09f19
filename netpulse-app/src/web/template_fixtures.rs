//! The page contexts the template tests render: every field populated, or empty.

use netpulse_domain::Timestamp;
use netpulse_domain::degradation::HealthSample;
use netpulse_ports::web_store::SeriesSample;
use serde::Serialize;

use super::forms::FieldErrors;
use super::pages::connections::{ConnectionForm, FormPage};
use super::pages::dashboard::board;
use super::pages::dashboard::first_run::{Checklist, Step};
use super::pages::dashboard::{
    AllFailed, Card, Choice, DashboardPage, FailureNote, Health, Latest, ProbeLiveness, RunRow,
    Selected, StripCell, Tile,
};
use super::pages::heatmap::{self, HeatmapPage};
use super::pages::history::{Column, DetailPage, Fact, HistoryPage, Opt, Row, ShareRow};
use super::pages::outages::{self, FailingCheck, LegendEntry, OutageDetailPage, OutagesPage};
use super::render::Templates;
use super::settings::SiteSettings;
use super::sparkline::draw;
use super::view::{Layout, PageContext};
use crate::service::outage_board::{self, BoardDay, BoardProbe, DayFamily, OutageView};
use netpulse_domain::id::ProbeId;
use netpulse_domain::outage::availability::{Availability, StateTime};
use netpulse_domain::outage::day_grade::DayGrade;
use netpulse_domain::outage::{Episode, SeriesFamily};
use netpulse_ports::outage_store::{OutageDetail, SeriesUptime, StoredOutage, StoredRound, Uptime};

pub(super) fn layout(user: bool) -> Layout {
    Layout {
        site_name: "Home <NetPulse>".into(),
        title: "Page".into(),
        active: "dashboard".into(),
        settings_tab: if user {
            "general".into()
        } else {
            String::new()
        },
        user: user.then(|| "admin@example.org".into()),
        nonce: "bm9uY2U=".into(),
        csrf: "csrf-token-value".into(),
        time_zone: "Europe/Berlin".into(),
        version: "0.1.0".into(),
        can: super::view::Can::of(user.then_some(netpulse_domain::access::Role::Admin)),
    }
}

pub(super) fn render<T: Serialize>(t: &Templates, name: &str, page: &T, user: bool) -> String {
    let l = layout(user);
    t.render(name, &PageContext { layout: &l, page })
        .unwrap_or_else(|e| panic!("{name} failed to render: {e:?}"))
}

pub(super) fn errors(fields: &[&str]) -> FieldErrors {
    let mut e = FieldErrors::default();
    for f in fields {
        e.add(f, format!("{f} is wrong"));
    }
    e
}

pub(super) fn opt(v: &str, selected: bool) -> Opt {
    Opt {
        value: v.into(),
        label: format!("{v} label"),
        selected,
    }
}

pub(super) fn fact(l: &str) -> Fact {
    Fact {
        label: l.into(),
        value: format!("{l} value"),
    }
}

pub(super) fn full_dashboard() -> DashboardPage {
    let board = board::views(
        &[board_probe(true), board_probe(false)],
        &jiff::tz::TimeZone::UTC,
        fixture_now(),
    );
    let at = Timestamp::from_unix_seconds;
    let spark = draw(
        &[
            (at(0), Some(1.0)),
            (at(60), Some(3.0)),
            (at(120), None),
            (at(900), Some(2.0)),
        ],
        at(0),
        3600,
        300,
    );
    let failure = FailureNote {
        when: "2026-06-06 14:00".into(),
        ago: "5 minutes ago".into(),
        reason: "Network unreachable: <socket>".into(),
        href: "/history/f".into(),
    };
    DashboardPage {
        cards: vec![Card {
            id: "c1".into(),
            name: "wan1 <fibre>".into(),
            probe: "home".into(),
            colour: "violet".into(),
            isp: "Acme".into(),
            status: "degraded".into(),
            status_label: "Degraded".into(),
            download: "931.6 Mbps".into(),
            latest_when: "5 minutes ago".into(),
            sparkline: spark.clone(),
            failure: Some(failure.clone()),
            all_failed: Some(3),
            selected: true,
            enabled: false,
            href: "/?connection=c1&range=7d".into(),
        }],
        selected: Some(Selected {
            id: "c1".into(),
            name: "wan1".into(),
            colour: "violet".into(),
            chart_json: r#"{"x":[1],"download":[1.0]}"#.into(),
            chart_summary: "summary".into(),
            sparse: true,
            tiles: vec![Tile {
                label: "Packet loss".into(),
                value: "2 %".into(),
                trend: "+5 %".into(),
                trend_tone: "bad".into(),
                warn: true,
                sparkline: spark,
            }],
            health: Health {
                uptime: "95 %".into(),
                uptime_value: 95.0,
                unhealthy: 3,
                incidents: 2,
                tests: 40,
                failed: 1,
                strip: vec![StripCell {
                    tone: "failed".into(),
                    label: "2026-06-06 14:05 — failed".into(),
                }],
            },
            latest: Some(Latest {
                when: "2026-06-06 14:05".into(),
                ago: "just now".into(),
                server: "Orange · Warsaw".into(),
                download: "1 Mbps".into(),
                upload: "1 Mbps".into(),
                ping: "1 ms".into(),
                jitter: "1 ms".into(),
                loss: "0 %".into(),
                verdict: "Unhealthy".into(),
                breaches: vec!["Upload 98 Mbps < 350 Mbps (70 % of plan)".into()],
                healthy: false,
                href: "/history/x".into(),
            }),
            failure: Some(failure.clone()),
            failed_in_range: 1,
            pool: vec!["12746".into(), "iperf3://h?protocol=udp&streams=2".into()],
            run_state: "running".into(),
            enabled: true,
        }),
        range: "7d".into(),
        ranges: vec![Choice {
            value: "7d".into(),
            href: "/?range=7d".into(),
            selected: true,
        }],
        probes: vec![ProbeLiveness {
            name: "home".into(),
            online: true,
            label: "polled just now".into(),
            agent_version: "1.0".into(),
        }],
        runs: vec![RunRow {
            connection: "wan1".into(),
            phase: "queued".into(),
            ago: "just now".into(),
        }],
        cursor: "1.2.3".into(),
        rendered_at: "14:05".into(),
        query: "connection=c1&range=7d".into(),
        checklist: None,
        all_failed: vec![AllFailed {
            name: "wan1".into(),
            tests: 3,
            reason: failure.reason.clone(),
            href: failure.href.clone(),
        }],
        poll_seconds: 60,
        board: board.0,
        down: board.1,
    }
}

pub(super) fn empty_dashboard() -> DashboardPage {
    DashboardPage {
        cards: vec![],
        selected: None,
        range: "7d".into(),
        ranges: vec![],
        probes: vec![],
        runs: vec![],
        cursor: "0.0.0".into(),
        rendered_at: "00:00".into(),
        query: String::new(),
        checklist: Some(Checklist {
            steps: vec![Step {
                label: "Agent polling".into(),
                done: false,
                hint: "start it".into(),
                href: "/settings/probes".into(),
            }],
            command: Some("NETPULSE_SERVER_URL='http://x' netpulse-agent".into()),
        }),
        all_failed: vec![],
        poll_seconds: 60,
        board: vec![],
        down: vec![],
    }
}

pub(super) fn history(full: bool) -> HistoryPage {
    let column = |l: &str, sorted: &str| Column {
        label: l.into(),
        href: "/history?sort=x".into(),
        sorted: sorted.into(),
        numeric: true,
    };
    HistoryPage {
        windows: vec![opt("7d", true)],
        since: if full {
            "2026-01-01".into()
        } else {
            String::new()
        },
        until: String::new(),
        connections: vec![opt("", true)],
        servers: vec![opt("", true), opt("12746", false)],
        statuses: vec![opt("", true)],
        verdicts: vec![opt("", true)],
        kinds: vec![opt("", true)],
        sorts: vec![opt("completed_at_desc", true)],
        limits: vec![opt("25", true)],
        columns: vec![
            column("Time", "descending"),
            column("Download", "ascending"),
            column("Upload", "none"),
        ],
        rows: if full {
            vec![Row {
                href: "/history/x".into(),
                when: "2026-06-06 14:05".into(),
                connection: "wan1".into(),
                colour: "primary".into(),
                server: "Orange · Warsaw".into(),
                download: "1 Mbps".into(),
                upload: "1 Mbps".into(),
                ping: "1 ms".into(),
                jitter: "1 ms".into(),
                loss: "—".into(),
                status: "failed".into(),
                status_label: "Failed".into(),
                manual: true,
                breached: vec!["upload".into()],
                reason: "Upload 1 Mbps < 350 Mbps (70 % of plan)".into(),
            }]
        } else {
            vec![]
        },
        total: u64::from(full),
        showing: "Showing 1–1 of 1".into(),
        first_href: full.then(|| "/history".into()),
        next_href: full.then(|| "/history?cursor=x".into()),
        csv_href: "/history/export.csv".into(),
        errors: if full {
            errors(&["since", "window", "_form"])
        } else {
            FieldErrors::default()
        },
    }
}

pub(super) fn detail(full: bool) -> DetailPage {
    DetailPage {
        id: "r1".into(),
        heading: "wan1 · 2026-06-06".into(),
        status: "failed".into(),
        verdict: "Failed (network): boom".into(),
        facts: if full { vec![fact("Download")] } else { vec![] },
        meta: if full { vec![fact("Engine")] } else { vec![] },
        stdout: if full {
            "{\"type\":\"result\",\"x\":\"<script>\"}".into()
        } else {
            String::new()
        },
        stderr: if full {
            "warning".into()
        } else {
            String::new()
        },
        result_url: full.then(|| "https://www.speedtest.net/result/c/x".into()),
        shares: if full {
            vec![ShareRow {
                path: "/r/t".into(),
                token: "t".into(),
                created: "2026-06-06 14:05".into(),
            }]
        } else {
            vec![]
        },
    }
}

pub(super) fn heatmap_page(full: bool) -> HeatmapPage {
    let site = SiteSettings::default();
    let samples: Vec<SeriesSample> = (0..600)
        .map(|i| SeriesSample {
            at: Timestamp::from_unix_seconds(1_780_747_500 + i * 3600),
            download_bps: Some(100e6 + i as f64 * 1e6),
            upload_bps: None,
            ping_ms: Some(10.0),
            jitter_ms: None,
            packet_loss_percent: None,
            sample: HealthSample::Healthy,
        })
        .collect();
    let (days, legend) = if full {
        heatmap::grid(&samples, "download", &site)
    } else {
        (vec![], vec![])
    };
    HeatmapPage {
        connections: if full { vec![opt("c1", true)] } else { vec![] },
        metrics: vec![opt("download", true)],
        windows: vec![opt("30d", true)],
        days,
        hours: (0..24).map(|h| format!("{h:02}")).collect(),
        legend,
        caption: "caption".into(),
        results: 200,
        time_zone: "UTC".into(),
    }
}

pub(super) fn connection_form(full: bool) -> FormPage {
    let mut form = ConnectionForm::new_default(Some("p1"));
    if full {
        form.schedule = "cron".into();
        form.cron = "0 8,20 * * *\n*/5 * * * *".into();
    }
    FormPage {
        id: full.then(|| "c1".into()),
        probes: if full { vec![opt("p1", true)] } else { vec![] },
        colours: vec![opt("primary", true)],
        form,
        errors: if full {
            errors(&[
                "name",
                "cron",
                "timezone",
                "probe_id",
                "colour",
                "labels",
                "max_ping_ms",
                "_form",
            ])
        } else {
            FieldErrors::default()
        },
        preview: if full {
            vec!["2026-06-07 08:00:00 CEST".into()]
        } else {
            vec![]
        },
        zones: vec!["Europe/Berlin".into()],
    }
}

/// 2026-12-02T12:00:00Z.
pub(super) fn fixture_now() -> Timestamp {
    Timestamp::from_unix_millis(1_796_212_800_000)
}

/// An episode of `family` starting `minutes_ago` before [`fixture_now`], `down` full and
/// `partial` partial rounds (closed unless `open`).
pub(super) fn stored_outage(
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
pub(super) fn board_probe(full: bool) -> BoardProbe {
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
pub(super) fn outages_page(full: bool) -> OutagesPage {
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
pub(super) fn outage_detail_page(full: bool) -> OutageDetailPage {
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
