//! The Fleet page in headless Chromium: 1,000 probes in every state (one read per kind of
//! data, not per row), the state filter and a text filter, sorting, no sideways scroll at 390
//! px, no script errors; screenshots at 1280 and 390 px, light and dark.

use reqwest::Method;
use serde_json::json;

use crate::browser::Browser;
use crate::helpers::TestApp;
use netpulse_domain::values::Labels;

pub(crate) async fn fleet_page_in_a_browser(t: &TestApp) {
    let b = Browser::start(
        &t.base,
        &format!("{}-fleet", crate::web_browser::db_label()),
    )
    .await;
    crate::web_charts::first_admin(&b).await;
    b.watch_errors().await;
    let mut agents = Vec::new();
    for i in 0..1_000 {
        let mut labels = Labels::new();
        labels
            .insert("location", ["Lyon", "Berlin", "Osaka", "Lima"][i % 4])
            .unwrap();
        labels
            .insert("site", if i % 2 == 0 { "eu" } else { "apac" })
            .unwrap();
        let p = netpulse_app::service::probes::create(&t.app, &format!("branch-{i:04}"), labels)
            .await
            .unwrap();
        agents.push(crate::helpers::Agent {
            probe: p.probe,
            token: p.token,
        });
    }
    // Three polled long ago (offline after 150 s), then the rest polls now: online; one late
    // (degraded), one in maintenance, and the never-seen one stays offline.
    for a in &agents[1..4] {
        t.due(a).await;
    }
    t.clock.advance_seconds(400);
    for a in &agents[10..40] {
        t.due(a).await;
    }
    t.clock.advance_seconds(100);
    for a in &agents[40..60] {
        t.due(a).await;
    }
    let switch = format!("/api/v1/probes/{}/maintenance/switch", agents[5].probe.id);
    t.send(
        Method::POST,
        &switch,
        &json!({"on": true, "reason": "router swap"}),
    )
    .await;

    b.goto("/fleet").await;
    assert_eq!(b.count("table.fleet tbody tr").await, 1_000);
    let first = b
        .text("table.fleet tbody tr:first-child td:first-child")
        .await;
    assert!(first.starts_with("Offline"), "the worst first: {first}");
    assert!(
        b.text(".segmented").await.contains("Maintenance 1"),
        "{}",
        b.text(".segmented").await
    );
    b.goto("/fleet?state=degraded").await;
    assert_eq!(
        b.count("table.fleet tbody tr").await,
        30,
        "polled 100 s ago: late"
    );
    assert!(b.text("table.fleet tbody").await.contains("late poll"));
    b.goto("/fleet?state=maintenance").await;
    assert_eq!(b.count("table.fleet tbody tr").await, 1);
    assert!(b.text("table.fleet tbody").await.contains("router swap"));
    b.goto("/fleet?q=branch-000").await;
    assert_eq!(b.count("table.fleet tbody tr").await, 10);
    b.goto("/fleet?q=osaka&sort=name&dir=desc").await;
    assert_eq!(b.count("table.fleet tbody tr").await, 250);
    assert!(
        b.text("table.fleet tbody tr:first-child")
            .await
            .contains("branch-0998")
    );
    b.goto("/fleet?q=nothing-like-this").await;
    assert!(b.text("main").await.contains("No probe matches"));

    b.goto("/fleet?q=branch-00").await;
    b.fits(390).await;
    b.screenshots_both("fleet").await;
    assert!(
        b.errors().await.is_empty(),
        "script errors: {:?}",
        b.errors().await
    );
}
