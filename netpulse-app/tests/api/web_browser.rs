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

    // A probe and a connection (through the API here; the settings pages have their own flow).
    let agent = t.probe("home").await;
    // A plan the fixture's result (931 / 49 Mbps) meets.
    let c = netpulse_app::service::connections::create(
        &t.app,
        &agent.probe.id,
        netpulse_app::service::connections::ConnectionInput {
            name: Some("wan1".into()),
            isp: Some("Acme Fibre".into()),
            download_mbps: Some(1000),
            upload_mbps: Some(50),
            server_pool: Some(vec!["12746".into(), "30907".into()]),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let now = t.clock.now();
    for i in (1..=20).rev() {
        let (s, body) = t
            .push(
                &agent,
                &push_body(
                    now.plus_seconds(-1800 * i),
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
    assert!(b.count(".strip li").await == 20);
    // Metric switch (Alpine, CSP build): no request, the chart is redrawn.
    b.click("button[data-metric=ping]").await;
    b.wait_until("the ping chart", "document.querySelector('button[data-metric=ping]').getAttribute('aria-pressed') === 'true'").await;
    b.screenshots("dashboard").await;
    b.fits(360).await;

    // Run test: the dialog follows the run to done while the agent does its part.
    b.click("#run-test").await;
    b.wait_until("the dialog", "document.querySelector('dialog').open")
        .await;
    b.click("dialog button[type=submit]").await;
    b.wait_until(
        "queued",
        "document.querySelector('.run-status').textContent.includes('Queued')",
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

    // Sign out: the dashboard is closed again.
    b.click("header form button[type=submit]").await;
    b.wait_until("the sign-in page", "location.pathname === '/login'")
        .await;
    b.goto("/").await;
    assert_eq!(b.path().await, "/login");
}

/// `sqlite` or `postgres`, from the test's name.
fn db_label() -> String {
    std::thread::current()
        .name()
        .unwrap_or("db")
        .split("::")
        .next()
        .unwrap_or("db")
        .to_owned()
}
