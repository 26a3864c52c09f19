//! The dashboard in a real headless Chromium: the whole flow a person goes through, with
//! screenshots of every page in the light and the dark theme under `target/screenshots/`.

use netpulse_ports::clock::Clock;
use serde_json::json;

use crate::browser::Browser;
use crate::helpers::{TestApp, ookla_stdout, push_body};
use crate::web_auth::{EMAIL, PASSWORD};

async fn sign_in(b: &Browser, password: &str) {
    b.goto("/login").await;
    b.fill("#email", EMAIL).await;
    b.fill("#password", password).await;
    b.click("form.form button[type=submit]").await;
}

pub(crate) async fn browser_flow(t: &TestApp) {
    let label = db_label();
    let b = Browser::start(&t.base, &label).await;

    // First run: everything leads to /setup.
    b.goto("/").await;
    assert_eq!(b.path().await, "/setup");
    b.screenshots("setup").await;
    b.fill("#email", EMAIL).await;
    b.fill("#password", "too short").await;
    b.fill("#password_confirm", "too short").await;
    b.click("form.form button[type=submit]").await;
    assert!(
        b.text("#password-error")
            .await
            .contains("at least 12 characters")
    );
    b.fill("#password", PASSWORD).await;
    b.fill("#password_confirm", PASSWORD).await;
    b.click("form.form button[type=submit]").await;
    b.wait_until("the dashboard", "location.pathname === '/'")
        .await;
    assert!(b.text("main").await.contains("No connections yet"));
    b.screenshots("dashboard-empty").await;

    // Sign out, a failed sign-in, then the real one.
    b.click("header form button[type=submit]").await;
    b.wait_until("the sign-in page", "location.pathname === '/login'")
        .await;
    sign_in(&b, "not the password").await;
    assert_eq!(b.text(".alert-bad").await, "Wrong e-mail or password.");
    b.screenshots("login-failed").await;
    sign_in(&b, PASSWORD).await;
    b.wait_until("the dashboard", "location.pathname === '/'")
        .await;

    // A probe through the settings page: its token is shown once.
    b.goto("/settings/probes").await;
    b.screenshots("settings-probes-empty").await;
    b.fill("#probe-name", "home").await;
    b.fill("#probe-labels", "site=berlin").await;
    b.click("form[action='/settings/probes'] button[type=submit]")
        .await;
    let token = b.text("#issued-token").await;
    assert_eq!(token.len(), 43, "a probe token: {token}");
    b.screenshots("settings-probes-token").await;
    let probe = t.app.storage.probes().await.unwrap().remove(0);
    assert_eq!(probe.labels.get("site"), Some("berlin"));
    let agent = crate::helpers::Agent { probe, token };

    // A connection: a bad value is reported next to its field; cron lines get a preview.
    b.goto("/settings/connections/new").await;
    b.fill("#name", "wan1").await;
    b.fill("#isp", "Acme Fibre").await;
    b.fill("#download_mbps", "1000").await;
    b.fill("#upload_mbps", "50").await;
    b.fill("#server_pool", "12746\n30907").await;
    b.fill("#tests_per_day", "0").await;
    b.click("form.form > .actions button[type=submit]").await;
    assert!(
        b.text("#tests_per_day-error").await.contains(">= 1"),
        "{}",
        b.text("#tests_per_day-error").await
    );
    b.screenshots("connection-form-error").await;
    b.click("input[name=schedule][value=cron]").await;
    b.fill("#cron", "0 8,20 * * *").await;
    b.fill("#timezone", "Europe/Berlin").await;
    b.wait_until(
        "the cron preview",
        // Five runs, recomputed for the typed time zone (not the first preview, in UTC).
        "document.querySelectorAll('#cron-preview li:not([style*=none])').length >= 5 \
         && document.querySelector('#cron-preview').textContent.includes('08:00:00 CE')",
    )
    .await;
    assert!(b.text("#cron-preview").await.contains("08:00:00 CE"));
    b.screenshots("connection-form-cron").await;
    b.click("input[name=schedule][value=even]").await;
    b.fill("#tests_per_day", "24").await;
    b.click("form.form > .actions button[type=submit]").await;
    b.wait_until(
        "the connection list",
        "location.pathname === '/settings/connections'",
    )
    .await;
    assert!(b.text("main table").await.contains("wan1"));
    b.screenshots("settings-connections").await;
    let c = t.app.storage.connections(None).await.unwrap().remove(0);
    assert_eq!(c.pool.entries().len(), 2);
    assert_eq!(c.expected.upload_bps, 50_000_000);

    // Results pushed through the agent API: three an hour for 20 hours.
    let now = t.clock.now();
    for i in (1..=60).rev() {
        let (s, body) = t
            .push(
                &agent,
                &push_body(
                    now.plus_seconds(-1200 * i),
                    &c,
                    Some("12746"),
                    &ookla_stdout(),
                    0,
                    true,
                ),
            )
            .await;
        assert_eq!(s, 201, "{body}");
    }
    b.goto("/").await;
    b.watch_errors().await;
    assert!(b.text(".conn-card").await.contains("wan1"));
    assert!(b.text(".conn-card .badge").await.contains("Healthy"));
    b.wait_until(
        "the chart",
        "document.querySelector('.chart canvas') !== null",
    )
    .await;
    assert!(b.count(".tiles .tile").await >= 4);
    assert_eq!(b.count(".strip li").await, 60);
    // Metric switch (Alpine, CSP build): no request, the chart is redrawn.
    b.click("button[data-metric=ping]").await;
    b.wait_until("the ping chart", "document.querySelector('button[data-metric=ping]').getAttribute('aria-pressed') === 'true'").await;
    b.screenshots_both("dashboard").await;
    b.fits(360).await;

    // Run test: the dialog follows the run to done while the agent does its part.
    b.click("#run-test").await;
    b.wait_until("the dialog", "document.querySelector('dialog').open")
        .await;
    b.click("dialog button[type=submit]").await;
    b.wait_until(
        "queued, with the next poll",
        "document.querySelector('.run-status').textContent.includes('Queued') \
         && document.querySelector('.run-status').textContent.includes('poll')",
    )
    .await;
    let (s, due) = t.due(&agent).await;
    assert_eq!(s, 200);
    let task = due["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["reason"] == "run_now")
        .cloned();
    assert!(task.is_some(), "{due}");
    let (s, _) = t
        .push(
            &agent,
            &push_body(t.clock.now(), &c, Some("30907"), &ookla_stdout(), 0, false),
        )
        .await;
    assert_eq!(s, 201);
    b.wait_until(
        "done",
        "document.querySelector('.run-status').textContent.includes('Done')",
    )
    .await;
    b.wait_until(
        "the link to the result",
        "document.querySelector('#run-result').getAttribute('href').startsWith('/history/')",
    )
    .await;
    assert!(b.text("#run-result").await.contains("Mbps"));
    b.screenshots("run-test").await;
    b.click("dialog button.btn:not(.btn-primary)").await;
    assert!(
        b.errors().await.is_empty(),
        "script errors: {:?}",
        b.errors().await
    );

    // A request without the CSRF token is refused, from the browser too.
    let status = b
        .run_async("fetch('/dashboard/run', {method: 'POST', headers: {'Content-Type': 'application/json'}, body: JSON.stringify({scope: 'all'})}).then(r => done(r.status));")
        .await;
    assert_eq!(status, json!(403));

    // History: filter, detail, a public link, and the CSV of the same filters.
    b.goto("/history").await;
    assert_eq!(b.count("main tbody tr").await, 25);
    b.screenshots_both("history").await;
    b.css("#kind")
        .await
        .select_by_value("manual")
        .await
        .unwrap();
    b.click("form.filters button[type=submit]").await;
    b.wait_until(
        "the filtered list",
        "location.search.includes('kind=manual')",
    )
    .await;
    assert_eq!(b.count("main tbody tr").await, 1, "only the run-now result");
    let csv = b
        .run_async(
            "fetch(document.querySelector('a[download]').href).then(r => r.text()).then(done);",
        )
        .await;
    let csv = csv.as_str().unwrap().to_owned();
    let lines: Vec<&str> = csv.lines().collect();
    assert!(
        lines[0].starts_with("id,completed_at,connection_name"),
        "{csv}"
    );
    assert_eq!(lines.len(), 2, "header and the run-now row: {csv}");
    assert!(lines[1].contains(",wan1,Acme Fibre,60440,"), "{csv}");
    let all = b
        .run_async("fetch('/history/export.csv?window=all').then(r => r.text()).then(done);")
        .await;
    assert_eq!(all.as_str().unwrap().lines().count(), 62);
    b.click("main tbody tr a").await;
    b.wait_until(
        "the detail page",
        "location.pathname.startsWith('/history/')",
    )
    .await;
    assert!(b.text("main pre").await.contains("\"type\""));
    b.click("#create-share").await;
    b.wait_until(
        "the absolute link",
        "document.querySelector('#share a code').textContent.startsWith('http')",
    )
    .await;
    let absolute = b.css("#share a code").await.text().await.unwrap();
    assert!(absolute.starts_with(&t.base), "{absolute}");
    let share = absolute[t.base.len()..].to_owned();
    assert!(share.starts_with("/r/"), "{share}");
    assert_eq!(b.text("#share .copy-link").await, "Copy link");
    b.screenshots_both("history-detail").await;

    // Heatmap and servers.
    b.goto("/heatmap").await;
    assert_eq!(b.count("td.hm-cell").await, 168);
    assert!(
        b.count("td.hm-cell:not(.hm-none)").await >= 1,
        "cells with 3 results are coloured"
    );
    b.screenshots_both("heatmap").await;
    b.fits(360).await;
    b.goto("/servers").await;
    assert!(b.text("main tbody").await.contains("#60440"));
    b.screenshots_both("servers").await;
    b.goto("/settings").await;
    b.screenshots_both("settings").await;

    // Sign out: the dashboard is closed again, the public link still opens.
    b.click("header form button[type=submit]").await;
    b.wait_until("the sign-in page", "location.pathname === '/login'")
        .await;
    b.goto("/").await;
    assert_eq!(b.path().await, "/login");
    b.goto(&share).await;
    let public = b.text("main").await;
    assert!(
        public.contains("Download") && !public.contains("wan1"),
        "{public}"
    );
    assert!(
        public.contains("Plan: 1.0 Gbps down / 50 Mbps up"),
        "{public}"
    );
    b.screenshots_both("share").await;
}

/// `sqlite` or `postgres`, from the test's name.
pub(crate) fn db_label() -> String {
    std::thread::current()
        .name()
        .unwrap_or("db")
        .split("::")
        .next()
        .unwrap_or("db")
        .to_owned()
}

/// Settings → Notifications in Chromium: a webhook channel pointing at a loopback receiver (a
/// missing URL is reported next to its field), its test message arrives and the page says so,
/// the secret URL is shown only as "set", and the master switch survives a reload.
pub(crate) async fn notifications_page_in_a_browser(t: &TestApp) {
    let hook = crate::notifications::Receiver::start(&[200]).await;
    let b = Browser::start(&t.base, &db_label()).await;
    b.goto("/").await;
    assert_eq!(b.path().await, "/setup");
    b.fill("#email", EMAIL).await;
    b.fill("#password", PASSWORD).await;
    b.fill("#password_confirm", PASSWORD).await;
    b.click("form.form button[type=submit]").await;
    b.wait_until("the dashboard", "location.pathname === '/'")
        .await;

    b.goto("/settings/notifications").await;
    b.watch_errors().await;
    assert!(
        b.text("nav.subnav [aria-current=page]")
            .await
            .contains("Notifications")
    );
    let types = netpulse_ports::notify::ChannelKind::ALL.len();
    b.wait_until(
        "the channel types",
        &format!("document.querySelectorAll('#c-type option').length === {types}"),
    )
    .await;
    assert!(b.text("#channels").await.contains("No channels yet"));
    b.click("#add-channel").await;
    b.fill("#c-name", "hook").await;
    b.css("#c-type")
        .await
        .select_by_value("webhook")
        .await
        .unwrap();
    b.wait_until(
        "the webhook fields",
        "document.querySelector('#c-setting-url') !== null",
    )
    .await;
    b.click("#c-save").await;
    b.wait_until(
        "the missing URL's error",
        "document.querySelector('#c-setting-url-error').textContent.trim() !== ''",
    )
    .await;
    assert_eq!(
        b.count(".channel-row").await,
        0,
        "nothing is created on an error"
    );
    b.fill("#c-setting-url", &hook.url).await;
    b.click("#c-save").await;
    b.wait_until(
        "the new channel",
        "document.querySelector('.channel-row[data-channel=hook]') !== null",
    )
    .await;
    let stored = t.app.storage.channels().await.unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].secret_names, vec!["url".to_owned()]);

    // Send test: the receiver gets it, the row says so.
    b.click(".channel-row[data-channel=hook] .btn-test").await;
    b.wait_until(
        "the test result",
        "document.querySelector('.channel-row .test-result').textContent.includes('Test sent.')",
    )
    .await;
    crate::notifications::eventually("the test message", || hook.got().len() == 1).await;
    assert_eq!(hook.got()[0].path, "/hook");
    assert_eq!(hook.kinds(), vec!["test".to_owned()]);
    b.screenshots("settings-notifications").await;

    // Editing shows the secret as set, never its value.
    b.click(".channel-row[data-channel=hook] .btn-edit").await;
    b.wait_until(
        "the editor",
        "document.querySelector('#c-setting-url') !== null && document.querySelector('#c-name').value === 'hook'",
    )
    .await;
    assert_eq!(
        b.text("label[for=c-setting-url] .secret-state").await,
        "set"
    );
    let url_value = b
        .client
        .execute(
            "return document.querySelector('#c-setting-url').value;",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(url_value, json!(""));
    assert!(!b.text("main").await.contains(&hook.url));
    b.screenshots("settings-notifications-edit").await;
    b.click("#channel-form button.btn:not(.btn-primary)").await;

    // The master switch, saved and read back after a reload.
    let switch_on = "document.querySelector('#n-enabled').checked";
    assert_eq!(
        b.client
            .execute(&format!("return {switch_on};"), vec![])
            .await
            .unwrap(),
        json!(true)
    );
    b.click("#n-enabled").await;
    b.click("#n-save").await;
    b.wait_until(
        "saved",
        "document.querySelector('#n-status').textContent === 'Saved.'",
    )
    .await;
    b.goto("/settings/notifications").await;
    b.watch_errors().await;
    b.wait_until(
        "the channels after the reload",
        "document.querySelector('.channel-row[data-channel=hook]') !== null",
    )
    .await;
    b.wait_until("the switch off after the reload", &format!("!{switch_on}"))
        .await;
    let settings = b
        .run_async("fetch('/api/v1/notifications/settings').then(r => r.json()).then(done);")
        .await;
    assert_eq!(settings["enabled"], json!(false), "{settings}");

    // Delete (confirmed).
    b.client
        .execute("window.confirm = () => true;", vec![])
        .await
        .unwrap();
    b.click(".channel-row[data-channel=hook] .btn-delete").await;
    b.wait_until(
        "the channel gone",
        "document.querySelector('.channel-row') === null",
    )
    .await;
    assert!(t.app.storage.channels().await.unwrap().is_empty());
    assert!(
        b.errors().await.is_empty(),
        "script errors: {:?}",
        b.errors().await
    );
}
