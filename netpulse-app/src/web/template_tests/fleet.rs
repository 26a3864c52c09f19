//! The fleet, outage pages and the error page.

use crate::web::pages::ErrorPage;
use crate::web::pages::fleet::{FleetPage, FleetRow};
use crate::web::pages::history::Column;
use crate::web::render::Templates;

use crate::web::template_fixtures::*;

use super::Coverage;

pub(super) fn render_all(t: &Templates, cov: &mut Coverage) {
    let fleet = FleetPage {
        states: vec![opt("?state=offline", true)],
        q: "berlin".into(),
        state: "offline".into(),
        columns: vec![Column {
            label: "State".into(),
            href: "/fleet?sort=state".into(),
            sorted: "ascending".into(),
            numeric: false,
        }],
        rows: vec![FleetRow {
            state: "offline".into(),
            state_label: "Offline".into(),
            detail: "silent for 9 minutes".into(),
            name: "branch-0042".into(),
            location: "Berlin".into(),
            labels: vec!["site=eu".into()],
            version: "0.0.9".into(),
            outdated: true,
            engines: "ookla, iperf3".into(),
            last_poll: "9 minutes ago".into(),
            last_poll_at: "2026-12-02 05:31".into(),
            checks: "3 of 8".into(),
            checks_failing: true,
            tests_today: 7,
        }],
        total: 1000,
    };
    cov.check(
        "fleet.html",
        render(t, "fleet.html", &fleet, true),
        render(
            t,
            "fleet.html",
            &FleetPage {
                rows: vec![],
                total: 0,
                ..fleet.clone()
            },
            true,
        ),
        &[
            "branch-0042",
            "badge-offline\">Offline",
            "outdated",
            "3 of 8",
            "aria-sort=\"ascending\"",
        ],
    );

    cov.check(
        "outages.html",
        render(t, "outages.html", &outages_page(true), true),
        render(t, "outages.html", &outages_page(false), true),
        &[
            "2026-12-02 11:30",
            "<span class=\"ongoing\">ongoing</span>",
            "12 min",
            "sev-complete\">Complete",
            "sev-partial\">Partial (81.25 %)",
            "1 single-round blip (one failing round each)",
            "home &lt;fibre&gt;",
            "Next page",
            "First page",
        ],
    );
    assert!(
        render(t, "outages.html", &outages_page(false), true)
            .contains("No outages in this period.")
    );
    cov.check(
        "outage_detail.html",
        render(t, "outage_detail.html", &outage_detail_page(true), true),
        render(t, "outage_detail.html", &outage_detail_page(false), true),
        &[
            "st-target",
            "st-partial in-outage",
            "st-down in-outage",
            "st-unknown in-outage",
            "st-local",
            "st-maintenance",
            "11:31 down (4 of 4 checks failed)",
            "11:34 no data",
            "icmp &lt;1.1.1.1&gt;",
            "99.97 %",
            "could not measure",
        ],
    );
    assert!(
        render(t, "outage_detail.html", &outage_detail_page(false), true)
            .contains("No stored rounds.")
    );

    let error = ErrorPage {
        status: 404,
        message: "gone".into(),
    };
    cov.check(
        "error.html",
        render(t, "error.html", &error, true),
        render(t, "error.html", &error, false),
        &["404", "gone"],
    );
}
