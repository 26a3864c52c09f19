//! Settings, probes, incidents, notifications, connections, sign-in, users, two-factor, audit.

use crate::web::forms::FieldErrors;
use crate::web::pages::auth::AuthPage;
use crate::web::pages::connections::{ConnectionRow, ConnectionsPage};
use crate::web::pages::incidents::IncidentsPage;
use crate::web::pages::notifications::NotificationsPage;
use crate::web::pages::probes::{AgentSetup, ProbeRow, ProbesPage};
use crate::web::pages::settings::{SettingsPage, TokenRow};
use crate::web::render::Templates;

use crate::web::template_fixtures::*;

use super::Coverage;

pub(super) fn render_all(t: &Templates, cov: &mut Coverage) {
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
    cov.check(
        "settings.html",
        render(t, "settings.html", &settings, true),
        render(t, "settings.html", &SettingsPage::default(), true),
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
    let banner = render(t, "settings_probes.html", &probes, true);
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
    cov.check(
        "settings_probes.html",
        render(t, "settings_probes.html", &probes, true),
        render(t, "settings_probes.html", &ProbesPage::default(), true),
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
    cov.check(
        "incidents.html",
        render(t, "incidents.html", &incidents, true),
        render(t, "incidents.html", &IncidentsPage::default(), true),
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
    let shell = render(t, "settings_notifications.html", &running, true);
    assert!(
        !shell.contains("not running") && shell.contains("/static/notifications.js"),
        "{shell}"
    );
    cov.check(
        "settings_notifications.html",
        render(t, "settings_notifications.html", &notifications, true),
        render(
            t,
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
    cov.check(
        "settings_connections.html",
        render(t, "settings_connections.html", &connections, true),
        render(t, "settings_connections.html", &no_connections, true),
        &["wan1", "24/day", "disabled", "Saved “wan1”."],
    );

    cov.check(
        "connection_form.html",
        render(t, "connection_form.html", &connection_form(true), true),
        render(t, "connection_form.html", &connection_form(false), true),
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
    cov.check(
        "setup.html",
        render(t, "setup.html", &auth, false),
        render(t, "setup.html", &AuthPage::default(), false),
        &["email is wrong", "password_confirm is wrong"],
    );
    cov.check(
        "login.html",
        render(t, "login.html", &auth, false),
        render(t, "login.html", &AuthPage::default(), false),
        &["_form is wrong", "/history"],
    );

    let users_page = crate::web::pages::users::UsersPage {
        users: vec![crate::web::pages::users::UserRow {
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
    cov.check(
        "settings_users.html",
        render(t, "settings_users.html", &users_page, true),
        render(
            t,
            "settings_users.html",
            &crate::web::pages::users::UsersPage::default(),
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

    let code_page = crate::web::pages::two_factor::CodePage {
        errors: errors(&["code", "_form"]),
    };
    cov.check(
        "login_two_factor.html",
        render(t, "login_two_factor.html", &code_page, false),
        render(
            t,
            "login_two_factor.html",
            &crate::web::pages::two_factor::CodePage::default(),
            false,
        ),
        &["code is wrong", "_form is wrong", "one-time-code"],
    );
    let enrolling = crate::web::pages::two_factor::TwoFactorPage {
        qr_png_base64: "iVBORw0KGgo=".into(),
        uri: "otpauth://totp/NetPulse:a%40b.cd?secret=JBSWY3DP".into(),
        secret: "JBSWY3DPEHPK3PXP".into(),
        required: true,
        errors: errors(&["code", "_form"]),
        ..Default::default()
    };
    let enabled = crate::web::pages::two_factor::TwoFactorPage {
        enabled: true,
        recovery_left: 9,
        new_codes: vec!["0123z-018zh".into()],
        notice: "Two-factor sign-in is on.".into(),
        ..Default::default()
    };
    let enabled_html = render(t, "settings_two_factor.html", &enabled, true);
    for needle in ["0123z-018zh", "New recovery codes", ">9<", "Turn off"] {
        assert!(enabled_html.contains(needle), "{needle:?} missing");
    }
    cov.check(
        "settings_two_factor.html",
        render(t, "settings_two_factor.html", &enrolling, true),
        render(
            t,
            "settings_two_factor.html",
            &crate::web::pages::two_factor::TwoFactorPage::default(),
            true,
        ),
        &[
            "data:image/png;base64,iVBORw0KGgo=",
            "JBSWY3DPEHPK3PXP",
            "code is wrong",
            "is required on this site",
        ],
    );

    let audit = crate::web::pages::audit::AuditPage {
        rows: vec![crate::web::pages::audit::AuditRow {
            at: "2026-12-04 02:00".into(),
            actor: "admin@example.org".into(),
            action: "user.role".into(),
            subject: "user:op@example.org".into(),
            detail: "operator → viewer".into(),
        }],
        older: "/settings/audit?before=1_x".into(),
    };
    cov.check(
        "settings_audit.html",
        render(t, "settings_audit.html", &audit, true),
        render(
            t,
            "settings_audit.html",
            &crate::web::pages::audit::AuditPage::default(),
            true,
        ),
        &[
            "user.role",
            "operator → viewer",
            "before=1_x",
            "admin@example.org",
        ],
    );
}
