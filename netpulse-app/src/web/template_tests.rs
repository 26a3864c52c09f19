//! Every template renders with a fully populated context and with empty data (tera 2 fails on
//! anything undefined), and no template carries inline styles or event handlers (the CSP
//! would block them).

use std::collections::BTreeSet;

use super::forms::FieldErrors;
use super::pages::ErrorPage;
use super::pages::auth::AuthPage;
use super::pages::connections::{ConnectionRow, ConnectionsPage};
use super::pages::connectivity::{CheckRowView, ConnectivityPage, ResolverLine, band};
use super::pages::fleet::{FleetPage, FleetRow};
use super::pages::history::Column;
use super::pages::incidents::IncidentsPage;
use super::pages::notifications::NotificationsPage;
use super::pages::probes::{AgentSetup, ProbeRow, ProbesPage};
use super::pages::servers::{ServerRow, ServersPage};
use super::pages::settings::{SettingsPage, TokenRow};
use super::pages::share::SharePage;
use super::render::Templates;
use super::view::PageContext;

use super::template_fixtures::*;

#[test]
fn every_template_renders_full_and_empty() {
    let t = Templates::load().expect("templates parse");
    let mut covered = BTreeSet::new();
    let mut check = |name: &str, full: String, empty: String, needles: &[&str]| {
        covered.insert(name.to_owned());
        for n in needles {
            assert!(full.contains(n), "{name}: {n:?} missing from the full page");
        }
        assert!(
            full.contains("nonce=\"bm9uY2U=\""),
            "{name}: scripts carry the nonce"
        );
        assert!(!empty.is_empty());
        assert!(!full.contains("<script>\""), "{name}: output is escaped");
    };

    let full = render(&t, "dashboard.html", &full_dashboard(), true);
    let empty = render(&t, "dashboard.html", &empty_dashboard(), true);
    check(
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
    let full = render(&t, "dashboard.html", &full_dashboard(), true);
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
        !render(&t, "dashboard.html", &empty_dashboard(), true).contains("class=\"card board\"")
    );

    let full = render(&t, "history.html", &history(true), true);
    let empty = render(&t, "history.html", &history(false), true);
    check(
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

    let full = render(&t, "history_detail.html", &detail(true), true);
    let empty = render(&t, "history_detail.html", &detail(false), true);
    check(
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
    check(
        "share.html",
        render(&t, "share.html", &share, false),
        render(&t, "share.html", &empty_share, false),
        &["Download value"],
    );

    let full = render(&t, "heatmap.html", &heatmap_page(true), true);
    let empty = render(&t, "heatmap.html", &heatmap_page(false), true);
    check(
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
    check(
        "servers.html",
        render(&t, "servers.html", &servers, true),
        render(&t, "servers.html", &empty_servers, true),
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
    check(
        "connectivity.html",
        render(&t, "connectivity.html", &connectivity, true),
        render(&t, "connectivity.html", &empty_connectivity, true),
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

    let settings = SettingsPage {
        site_name: "Home".into(),
        time_zone: "Europe/Berlin".into(),
        zones: vec!["Europe/Berlin".into()],
        tokens: vec![TokenRow {
            id: "t1".into(),
            name: "scripts".into(),
            created: "2026".into(),
            last_used: "never".into(),
            owner: "admin@example.org".into(),
            scopes: "read-only".into(),
            expires: "never".into(),
        }],
        scope_presets: vec![("viewer".into(), "Read-only".into())],
        issued: Some(("scripts".into(), "SECRET-TOKEN".into())),
        notice: "Saved.".into(),
        errors: errors(&[
            "site_name",
            "time_zone",
            "token_name",
            "current_password",
            "new_password",
            "brokerUrl",
            "caPem",
            "_form",
        ]),
        mqtt: crate::web::pages::mqtt::MqttForm {
            shown: true,
            enabled: true,
            broker_url: "mqtt://broker.lan:1883".into(),
            client_id: "netpulse-home".into(),
            user: "ha".into(),
            password_set: true,
            topic_prefix: "netpulse".into(),
            discovery: true,
            discovery_prefix: "homeassistant".into(),
            retain: true,
            ca_pem: "-----BEGIN CERTIFICATE-----\nMIIB-HOME-CA\n-----END CERTIFICATE-----\n".into(),
            status:
                "Connected; 4 messages queued, 4 acknowledged, 0 dropped (broker down or slow)."
                    .into(),
        },
    };
    check(
        "settings.html",
        render(&t, "settings.html", &settings, true),
        render(&t, "settings.html", &SettingsPage::default(), true),
        &[
            "SECRET-TOKEN",
            "scripts",
            "time_zone is wrong",
            "current_password is wrong",
            "mqtt://broker.lan:1883",
            "MIIB-HOME-CA",
            "caPem is wrong",
            "brokerUrl is wrong",
            "Remove the stored password",
            "0 dropped",
        ],
    );

    let probes = ProbesPage {
        probes: vec![ProbeRow {
            id: "p1".into(),
            name: "home".into(),
            labels: "site=berlin".into(),
            enabled: false,
            online: false,
            liveness: "never polled".into(),
            agent: "—".into(),
            created: "2026".into(),
            connections: 2,
        }],
        issued: Some(("home".into(), "p1".into(), "PROBE-TOKEN".into())),
        name: "x".into(),
        labels: "bad".into(),
        errors: errors(&["name", "labels", "_form"]),
        server_url: "http://127.0.0.1:8080".into(),
        setup: Some(AgentSetup::new(
            "http://127.0.0.1:8080",
            "p1",
            "PROBE-TOKEN",
        )),
    };
    let banner = render(&t, "settings_probes.html", &probes, true);
    assert!(!banner.contains("NETPULSE_API_URL"), "{banner}");
    for var in [
        netpulse_agent::config::env::SERVER_URL,
        netpulse_agent::config::env::PROBE_ID,
        netpulse_agent::config::env::PROBE_TOKEN,
    ] {
        for form in [format!("{var}=&#39;"), format!("-e {var}=")] {
            assert!(banner.contains(&form), "{form} missing: {banner}");
        }
    }
    let setup = AgentSetup::new("http://h:8080", "p1", "T");
    assert_eq!(
        setup.env_file,
        "NETPULSE_SERVER_URL=http://h:8080\nPROBE_ID=p1\nPROBE_TOKEN=T\n"
    );
    assert_eq!(
        setup.shell,
        "NETPULSE_SERVER_URL='http://h:8080' PROBE_ID='p1' PROBE_TOKEN='T' netpulse-agent"
    );
    check(
        "settings_probes.html",
        render(&t, "settings_probes.html", &probes, true),
        render(&t, "settings_probes.html", &ProbesPage::default(), true),
        &[
            "PROBE-TOKEN",
            "PROBE_ID=&#39;p1&#39;",
            "docker run",
            "agent.env",
            "site=berlin",
            "labels is wrong",
        ],
    );

    let incidents = IncidentsPage {
        states: vec!["open", "acked", "resolved"],
    };
    check(
        "incidents.html",
        render(&t, "incidents.html", &incidents, true),
        render(&t, "incidents.html", &IncidentsPage::default(), true),
        &[
            "x-data=\"incidents\"",
            "id=\"state-acked\"",
            "/static/alerting.js",
            "btn-ack",
            "badge-sev-",
        ],
    );

    let notifications = NotificationsPage {
        time_zone: "Europe/Berlin".into(),
        zones: vec!["Europe/Berlin".into(), "UTC".into()],
        running: false,
    };
    let running = NotificationsPage {
        running: true,
        ..NotificationsPage::default()
    };
    let shell = render(&t, "settings_notifications.html", &running, true);
    assert!(
        !shell.contains("not running") && shell.contains("/static/notifications.js"),
        "{shell}"
    );
    check(
        "settings_notifications.html",
        render(&t, "settings_notifications.html", &notifications, true),
        render(
            &t,
            "settings_notifications.html",
            &NotificationsPage::default(),
            true,
        ),
        &[
            "not running in this server process",
            "data-timezone=\"Europe/Berlin\"",
            "<option value=\"UTC\">",
            "x-data=\"notifications\"",
            "x-data=\"alerting\"",
            "id=\"contact-lists\"",
            "x-data=\"subjectAlerting\"",
            "id=\"subject-alerting\"",
        ],
    );

    let connections = ConnectionsPage {
        connections: vec![ConnectionRow {
            id: "c1".into(),
            name: "wan1".into(),
            colour: "amber".into(),
            probe: "home".into(),
            isp: "Acme".into(),
            plan: "1.0 Gbps / 500 Mbps".into(),
            schedule: "24/day · jitter 120 s".into(),
            pool: "automatic".into(),
            enabled: false,
        }],
        has_probes: true,
        errors: errors(&["_form"]),
        saved: "wan1".into(),
    };
    let no_connections = ConnectionsPage {
        connections: vec![],
        has_probes: false,
        errors: FieldErrors::default(),
        saved: String::new(),
    };
    check(
        "settings_connections.html",
        render(&t, "settings_connections.html", &connections, true),
        render(&t, "settings_connections.html", &no_connections, true),
        &["wan1", "24/day", "disabled", "Saved “wan1”."],
    );

    check(
        "connection_form.html",
        render(&t, "connection_form.html", &connection_form(true), true),
        render(&t, "connection_form.html", &connection_form(false), true),
        &[
            "0 8,20 * * *",
            "cron is wrong",
            "href=\"#cron\"",
            "2026-06-07 08:00:00 CEST",
            "/settings/connections/c1",
            "x-data=\"connectionAlerting\"",
            "data-connection=\"c1\"",
        ],
    );

    let auth = AuthPage {
        email: "a@b.cd".into(),
        next: "/history".into(),
        errors: errors(&["email", "password", "password_confirm", "_form"]),
    };
    check(
        "setup.html",
        render(&t, "setup.html", &auth, false),
        render(&t, "setup.html", &AuthPage::default(), false),
        &["email is wrong", "password_confirm is wrong"],
    );
    check(
        "login.html",
        render(&t, "login.html", &auth, false),
        render(&t, "login.html", &AuthPage::default(), false),
        &["_form is wrong", "/history"],
    );

    let users_page = super::pages::users::UsersPage {
        users: vec![super::pages::users::UserRow {
            id: "u1".into(),
            email: "viewer@example.org".into(),
            role: "viewer".into(),
            disabled: true,
            created: "2026".into(),
            me: false,
            two_factor: true,
        }],
        require_2fa: true,
        roles: vec!["viewer".into(), "operator".into(), "admin".into()],
        role: "viewer".into(),
        email: "typed@example.org".into(),
        notice: "Saved.".into(),
        errors: errors(&["email", "password", "_form"]),
    };
    check(
        "settings_users.html",
        render(&t, "settings_users.html", &users_page, true),
        render(
            &t,
            "settings_users.html",
            &super::pages::users::UsersPage::default(),
            true,
        ),
        &[
            "viewer@example.org",
            "Enable",
            "typed@example.org",
            "email is wrong",
            "_form is wrong",
            "Reset 2FA",
            "name=\"required\" value=\"on\" checked",
        ],
    );

    let code_page = super::pages::two_factor::CodePage {
        errors: errors(&["code", "_form"]),
    };
    check(
        "login_two_factor.html",
        render(&t, "login_two_factor.html", &code_page, false),
        render(
            &t,
            "login_two_factor.html",
            &super::pages::two_factor::CodePage::default(),
            false,
        ),
        &["code is wrong", "_form is wrong", "one-time-code"],
    );
    let enrolling = super::pages::two_factor::TwoFactorPage {
        qr_png_base64: "iVBORw0KGgo=".into(),
        uri: "otpauth://totp/NetPulse:a%40b.cd?secret=JBSWY3DP".into(),
        secret: "JBSWY3DPEHPK3PXP".into(),
        required: true,
        errors: errors(&["code", "_form"]),
        ..Default::default()
    };
    let enabled = super::pages::two_factor::TwoFactorPage {
        enabled: true,
        recovery_left: 9,
        new_codes: vec!["0123z-018zh".into()],
        notice: "Two-factor sign-in is on.".into(),
        ..Default::default()
    };
    let enabled_html = render(&t, "settings_two_factor.html", &enabled, true);
    for needle in ["0123z-018zh", "New recovery codes", ">9<", "Turn off"] {
        assert!(enabled_html.contains(needle), "{needle:?} missing");
    }
    check(
        "settings_two_factor.html",
        render(&t, "settings_two_factor.html", &enrolling, true),
        render(
            &t,
            "settings_two_factor.html",
            &super::pages::two_factor::TwoFactorPage::default(),
            true,
        ),
        &[
            "data:image/png;base64,iVBORw0KGgo=",
            "JBSWY3DPEHPK3PXP",
            "code is wrong",
            "is required on this site",
        ],
    );

    let audit = super::pages::audit::AuditPage {
        rows: vec![super::pages::audit::AuditRow {
            at: "2026-12-04 02:00".into(),
            actor: "admin@example.org".into(),
            action: "user.role".into(),
            subject: "user:op@example.org".into(),
            detail: "operator → viewer".into(),
        }],
        older: "/settings/audit?before=1_x".into(),
    };
    check(
        "settings_audit.html",
        render(&t, "settings_audit.html", &audit, true),
        render(
            &t,
            "settings_audit.html",
            &super::pages::audit::AuditPage::default(),
            true,
        ),
        &[
            "user.role",
            "operator → viewer",
            "before=1_x",
            "admin@example.org",
        ],
    );

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
    check(
        "fleet.html",
        render(&t, "fleet.html", &fleet, true),
        render(
            &t,
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

    check(
        "outages.html",
        render(&t, "outages.html", &outages_page(true), true),
        render(&t, "outages.html", &outages_page(false), true),
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
        render(&t, "outages.html", &outages_page(false), true)
            .contains("No outages in this period.")
    );
    check(
        "outage_detail.html",
        render(&t, "outage_detail.html", &outage_detail_page(true), true),
        render(&t, "outage_detail.html", &outage_detail_page(false), true),
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
        render(&t, "outage_detail.html", &outage_detail_page(false), true)
            .contains("No stored rounds.")
    );

    let error = ErrorPage {
        status: 404,
        message: "gone".into(),
    };
    check(
        "error.html",
        render(&t, "error.html", &error, true),
        render(&t, "error.html", &error, false),
        &["404", "gone"],
    );

    let pages: BTreeSet<String> = t
        .names()
        .into_iter()
        .filter(|n| !n.starts_with('_') && n != "base.html")
        .collect();
    assert_eq!(
        covered, pages,
        "every page template is rendered by this test"
    );
}

#[test]
fn templates_have_no_inline_styles_or_handlers() {
    use rust_embed::RustEmbed;
    #[derive(RustEmbed)]
    #[folder = "templates/"]
    struct Files;
    for name in Files::iter() {
        let text = String::from_utf8(Files::get(&name).unwrap().data.into_owned()).unwrap();
        let lower = text.to_lowercase();
        assert!(!lower.contains(" style="), "{name} has an inline style");
        for handler in [
            " onclick=",
            " onload=",
            " onsubmit=",
            " onchange=",
            " oninput=",
            "javascript:",
        ] {
            assert!(!lower.contains(handler), "{name} has {handler}");
        }
        assert!(!lower.contains("<style"), "{name} has a style element");
        // Every inline script carries the nonce.
        for (i, _) in lower.match_indices("<script") {
            assert!(
                lower[i..].split('>').next().unwrap().contains("nonce="),
                "{name}: a script without nonce"
            );
        }
    }
}
