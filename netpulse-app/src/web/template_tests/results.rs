//! The measurement pages: dashboard, history, share, heatmap, servers, connectivity.

use crate::web::pages::connectivity::{CheckRowView, ConnectivityPage, ResolverLine, band};
use crate::web::pages::history::Column;
use crate::web::pages::servers::{ServerRow, ServersPage};
use crate::web::pages::share::SharePage;
use crate::web::render::Templates;
use crate::web::view::PageContext;

use crate::web::template_fixtures::*;

use super::Coverage;

pub(super) fn render_all(t: &Templates, cov: &mut Coverage) {
    let full = render(t, "dashboard.html", &full_dashboard(), true);
    let empty = render(t, "dashboard.html", &empty_dashboard(), true);
    cov.check(
        "dashboard.html",
        full,
        empty.clone(),
        &[
            "wan1 &lt;fibre&gt;",
            "Degraded",
            "931.6 Mbps",
            "Run test",
            "strip-failed",
            "Upload 98 Mbps &lt; 350 Mbps (70 % of plan)",
            "Last test failed 5 minutes ago: Network unreachable: &lt;socket&gt;",
            "Every test of wan1 failed in the last 24 hours",
            "Unhealthy tests",
            "failed test (1)",
            "polled just now",
        ],
    );
    assert!(empty.contains("No connections yet"));
    assert!(empty.contains("Getting started") && empty.contains("netpulse-agent"));
    let live = t
        .render_block(
            "dashboard.html",
            "live",
            &PageContext {
                layout: &layout(true),
                page: &full_dashboard(),
            },
        )
        .unwrap();
    assert!(live.contains("931.6 Mbps") && !live.contains("<html"));
    // The status board: a cell per day, the tiles, the banner and the sparse probe.
    let full = render(t, "dashboard.html", &full_dashboard(), true);
    assert_eq!(
        full.matches("<li class=\"day day-").count(),
        180,
        "90 days × 2 probes"
    );
    for needle in [
        "home &lt;fibre&gt;: currently down since 2026-12-02 11:30",
        "Complete</span> so far",
        "href=\"/outages/000000012-0000-4000-8000-000000000000\"",
        "day day-major",
        "day day-partial",
        "day day-up is-sparse",
        "99.97 %",
        "strict 99.97 %",
        "coverage 96.45 %",
        "down 12 min",
        "no connectivity data yet",
        "2 outages:",
        "11:30 30 min (ongoing) · Complete · v4",
        "02:00 10 h 0 min (ongoing) · Partial (83.33 %) · v6",
        "under 50 % measured",
        "3 more probes: see",
    ] {
        assert!(full.contains(needle), "dashboard board: {needle:?} missing");
    }
    assert!(
        !render(t, "dashboard.html", &empty_dashboard(), true).contains("class=\"card board\"")
    );

    let full = render(t, "history.html", &history(true), true);
    let empty = render(t, "history.html", &history(false), true);
    cov.check(
        "history.html",
        full,
        empty.clone(),
        &[
            "Orange · Warsaw",
            "run-now",
            "aria-sort=\"descending\"",
            "since is wrong",
            "Older results",
        ],
    );
    assert!(empty.contains("No measurements match"));

    let full = render(t, "history_detail.html", &detail(true), true);
    let empty = render(t, "history_detail.html", &detail(false), true);
    cov.check(
        "history_detail.html",
        full,
        empty,
        &["&lt;script&gt;", "/r/t", "Revoke", "Failed (network): boom"],
    );

    let share = SharePage {
        when: "2026-06-06 14:05:00 CEST".into(),
        status: "healthy".into(),
        status_label: "Within the plan's thresholds".into(),
        facts: vec![fact("Download")],
        plan: "1.0 Gbps down / 500 Mbps up; healthy from 70 % / 70 % of it".into(),
        breaches: vec!["Upload 98 Mbps < 350 Mbps (70 % of plan)".into()],
    };
    let empty_share = SharePage {
        facts: vec![],
        plan: String::new(),
        breaches: vec![],
        ..share.clone()
    };
    cov.check(
        "share.html",
        render(t, "share.html", &share, false),
        render(t, "share.html", &empty_share, false),
        &["Download value"],
    );

    let full = render(t, "heatmap.html", &heatmap_page(true), true);
    let empty = render(t, "heatmap.html", &heatmap_page(false), true);
    cov.check(
        "heatmap.html",
        full,
        empty.clone(),
        &[
            "Monday 00:00 — ",
            "no data",
            "class=\"hm-cell g",
            "fewer than 3 results",
        ],
    );
    assert!(empty.contains("No connections yet"));

    let servers = ServersPage {
        windows: vec![opt("30d", true)],
        columns: vec![Column {
            label: "Server".into(),
            href: "/servers?sort=name".into(),
            sorted: "ascending".into(),
            numeric: false,
        }],
        rows: vec![ServerRow {
            connection: "wan1".into(),
            colour: "teal".into(),
            share: "93 % of plan".into(),
            name: "Orange".into(),
            location: "Warsaw".into(),
            id: "#12746".into(),
            download: "1 Mbps".into(),
            upload: "1 Mbps".into(),
            ping: "1 ms".into(),
            loss: "—".into(),
            tests: 4,
            health: "75 %".into(),
            last_seen: "2 hours ago".into(),
            history_href: "/history?server=12746".into(),
        }],
    };
    let empty_servers = ServersPage {
        rows: vec![],
        ..servers.clone()
    };
    cov.check(
        "servers.html",
        render(t, "servers.html", &servers, true),
        render(t, "servers.html", &empty_servers, true),
        &["Orange", "75 %", "wan1", "93 % of plan", "#12746"],
    );

    let buckets = vec![
        crate::service::connectivity::Bucket {
            count: 2,
            failed: 0,
            median_ms: Some(10.0),
            low_ms: Some(8.0),
            high_ms: Some(14.0),
            loss_pct: Some(20.0),
        },
        crate::service::connectivity::Bucket::default(),
        crate::service::connectivity::Bucket {
            count: 1,
            failed: 1,
            ..Default::default()
        },
    ];
    let connectivity = ConnectivityPage {
        probes: vec![opt("p1", true)],
        windows: vec![opt("24h", true)],
        probe: "p1".into(),
        rows: vec![CheckRowView {
            name: "icmp 1.1.1.1".into(),
            family: "v4".into(),
            role: "connectivity".into(),
            state: "up".into(),
            tone: "healthy".into(),
            last_failure: "2 hours ago: timeout — no reply".into(),
            success: "99.5 %".into(),
            latency: "10 ms / 14 ms".into(),
            loss: "0.4 %".into(),
            dns_rating: "GOOD".into(),
            dns_resolvers: vec![
                ResolverLine {
                    name: "1.1.1.1 A".into(),
                    rating: "GOOD".into(),
                    tone: "healthy".into(),
                    detail: "7.2 ms".into(),
                },
                ResolverLine {
                    name: "9.9.9.9 AAAA".into(),
                    rating: "FAILED".into(),
                    tone: "failed".into(),
                    detail: "— · 3 of 3 rounds failed".into(),
                },
            ],
            band: band(&buckets),
        }],
    };
    let empty_connectivity = ConnectivityPage {
        rows: vec![],
        ..connectivity.clone()
    };
    cov.check(
        "connectivity.html",
        render(t, "connectivity.html", &connectivity, true),
        render(t, "connectivity.html", &empty_connectivity, true),
        &[
            "icmp 1.1.1.1",
            "99.5 %",
            "<polygon",
            "band-mark-heavy",
            "DNS rating per resolver",
            "9.9.9.9 AAAA",
            "badge-failed\">FAILED",
            "3 of 3 rounds failed",
        ],
    );
}
