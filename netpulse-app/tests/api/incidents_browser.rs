//! The `/incidents` page in a real headless Chromium (issue 21): a connection incident, an
//! outage incident and a service-check incident in one list with their subject, severity and
//! state; the outage and the check acknowledged from the page (through `POST /api/v1/outage-incidents/{id}/ack`); screenshots at 1280 and
//! 390 px, light and dark.

use netpulse_domain::check::Family;
use serde_json::json;

use crate::browser::Browser;
use crate::helpers::{TestApp, push_body};
use crate::outages::{Round, probe_with_defaults, results};
use crate::web_auth::{EMAIL, PASSWORD};
use crate::web_browser::db_label;

pub(crate) async fn incidents_of_every_kind_on_one_page(t: &TestApp) {
    let hook = crate::notifications::Receiver::start(&[200]).await;
    let (status, channel) = t
        .send(
            reqwest::Method::POST,
            "/api/v1/notifications/channels",
            &json!({"name": "pager", "type": "webhook", "settings": {"url": hook.url}}),
        )
        .await;
    assert_eq!(status, 201, "{channel}");
    // An outage over IPv6 (no severity configured: HIGH, one family down).
    let (a, checks) = probe_with_defaults(t, "home").await;
    for (m, v6) in [(0, Round::Up), (1, Round::Down)] {
        let mut batch = results(&checks, Family::V4, m, Round::Up);
        batch.extend(results(&checks, Family::V6, m, v6));
        netpulse_app::service::check_results::ingest(&t.app, &a.probe.id, batch)
            .await
            .unwrap();
    }
    // A connection incident (its own severity: CRITICAL).
    let c = t.connection(&a.probe.id, "wan1", &[]).await;
    let (s, v) = t
        .send(
            reqwest::Method::PUT,
            &format!("/api/v1/connections/{}/alerting", c.id),
            &json!({"severity": "critical"}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    for _ in 0..3 {
        let body = push_body(
            t.clock_now(),
            &c,
            None,
            r#"{"type":"log","level":"error","message":"Cannot open socket"}"#,
            2,
            true,
        );
        assert_eq!(t.push(&a, &body).await.0, 201);
    }
    // A failing service check (the checks' default severity: MEDIUM).
    let check = crate::checks::create(
        t,
        json!({"probeId": a.probe.id.to_string(), "kind": "http",
               "target": "https://shop.example/", "family": "v4"}),
    )
    .await;
    let check_id = check["id"].as_str().unwrap().to_owned();
    let minute = 60_000;
    let base = (t.clock_now().unix_millis() / minute - 10) * minute;
    let rounds: Vec<serde_json::Value> = (1..=3)
        .map(|m| {
            let round = netpulse_domain::Timestamp::from_unix_millis(base + m * minute);
            crate::checks::result(&check_id, &round.to_rfc3339(), "v4", "fail")
        })
        .collect();
    let (status, r) = crate::checks::push_checks(t, &a, &json!({ "results": rounds })).await;
    assert_eq!(status, 200, "{r}");
    crate::notifications::eventually("the alerts", || hook.got().len() >= 3).await;

    // The API's one list: both kinds, newest first, with names and severities.
    let (_, l) = t.get("/api/v1/incidents?state=open").await;
    let entries = l["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 3, "{l:#}");
    let check_entry = entries.iter().find(|e| e["kind"] == "check").unwrap();
    assert_eq!(
        check_entry["subject"],
        "home: check http https://shop.example/ (IPv4)"
    );
    assert_eq!(check_entry["severity"], "medium");
    let check_incident = check_entry["id"].as_str().unwrap().to_owned();
    let entries: Vec<&serde_json::Value> =
        entries.iter().filter(|e| e["kind"] != "check").collect();
    // The outage opened a round (one minute) after the connection's alert.
    assert_eq!(entries[0]["kind"], "outage", "{l:#}");
    assert_eq!(entries[0]["subject"], "home: outage over IPv6");
    assert_eq!(entries[0]["severity"], "high");
    let outage_rows: Vec<&serde_json::Value> = l["outages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["source"] == "outage")
        .collect();
    assert_eq!(entries[0]["id"], outage_rows[0]["id"]);
    assert_eq!(entries[1]["kind"], "connection");
    assert_eq!(entries[1]["subject"], "wan1 (home)");
    assert_eq!(entries[1]["severity"], "critical");
    assert_eq!(entries[1]["id"], l["items"][0]["id"]);
    let outage_id = entries[0]["id"].as_str().unwrap().to_owned();

    let b = Browser::start(&t.base, &format!("{}-incidents", db_label())).await;
    b.goto("/").await;
    b.fill("#email", EMAIL).await;
    b.fill("#password", PASSWORD).await;
    b.fill("#password_confirm", PASSWORD).await;
    b.click("form.form button[type=submit]").await;
    b.wait_until("the dashboard", "location.pathname === '/'")
        .await;
    b.goto("/incidents").await;
    b.watch_errors().await;
    b.wait_until(
        "the three incidents",
        "document.querySelectorAll('.incident-row').length === 3",
    )
    .await;
    let outage_row = format!(".incident-row[data-kind=outage][data-incident='{outage_id}']");
    b.wait_until(
        "the rows' text",
        &format!(
            "document.querySelector(\"{outage_row}\") !== null \
             && document.querySelector(\"{outage_row}\").textContent.includes('HIGH') \
             && document.querySelector('.incident-row[data-kind=connection]').textContent.includes('CRITICAL')"
        ),
    )
    .await;
    let text = b.text(&outage_row).await;
    assert!(
        text.contains("home: outage over IPv6") && text.contains("HIGH"),
        "{text}"
    );
    let text = b.text(".incident-row[data-kind=connection]").await;
    assert!(
        text.contains("wan1 (home)") && text.contains("CRITICAL"),
        "{text}"
    );
    let check_row = format!(".incident-row[data-kind=check][data-incident='{check_incident}']");
    b.wait_until(
        "the check's row",
        &format!(
            "document.querySelector(\"{check_row}\") !== null \
             && document.querySelector(\"{check_row}\").textContent.includes('MEDIUM')"
        ),
    )
    .await;
    let text = b.text(&check_row).await;
    assert!(
        text.contains("Service check")
            && text.contains("home: check http https://shop.example/ (IPv4)"),
        "{text}"
    );
    b.screenshots_both("incidents-open").await;
    b.fits(390).await;

    // Acknowledge the outage from the page.
    b.click(&format!("{outage_row} .btn-ack")).await;
    b.wait_until(
        "two open incidents left",
        "document.querySelectorAll('.incident-row').length === 2",
    )
    .await;
    // And the check's, through the same endpoint.
    b.click(&format!("{check_row} .btn-ack")).await;
    b.wait_until(
        "one open incident left",
        "document.querySelectorAll('.incident-row').length === 1",
    )
    .await;
    let stored = t
        .app
        .storage
        .outage_incident(&check_incident)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.acknowledged_by.as_deref(), Some(EMAIL));
    let stored = t
        .app
        .storage
        .outage_incident(&outage_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.acknowledged_by.as_deref(), Some(EMAIL));
    b.click("#state-acked").await;
    b.wait_until(
        "the acknowledged outage",
        "document.querySelector('.incident-row[data-kind=outage]') !== null",
    )
    .await;
    let row = b.text(".incident-row").await;
    assert!(row.contains(EMAIL) && row.contains("acked"), "{row}");
    b.screenshots_both("incidents-acked").await;
    assert!(
        b.errors().await.is_empty(),
        "script errors: {:?}",
        b.errors().await
    );
}
