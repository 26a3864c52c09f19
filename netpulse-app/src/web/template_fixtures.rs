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
use super::render::Templates;
use super::settings::SiteSettings;
use super::sparkline::draw;
use super::view::{Layout, PageContext};

#[path = "template_fixtures_outages.rs"]
mod outage_fixtures;
pub(super) use outage_fixtures::*;

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
            baseline_key: "baseline (14-day median ± 30 %)".into(),
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
        board_hidden: 3,
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
        board_hidden: 0,
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
