//! Severities, contact lists, a connection's alerting and acknowledging an incident in a real
//! headless Chromium: the pages are thin clients of the REST API (`static/alerting.js`).

use netpulse_domain::incident_severity::{AlertSource, IncidentSeverity};
use netpulse_ports::alerting_store::{AlertRoute, AlertSubject};
use serde_json::json;

use crate::browser::Browser;
use crate::helpers::{TestApp, push_body};
use crate::web_auth::{EMAIL, PASSWORD};
use crate::web_browser::db_label;

pub(crate) async fn alerting_pages_in_a_browser(t: &TestApp) {
    let hook = crate::notifications::Receiver::start(&[200]).await;
    let (status, channel) = t
        .send(
            reqwest::Method::POST,
            "/api/v1/notifications/channels",
            &json!({"name": "pager", "type": "webhook", "settings": {"url": hook.url}}),
        )
        .await;
    assert_eq!(status, 201, "{channel}");
    let agent = t.probe("home").await;
    let c = t.connection(&agent.probe.id, "wan1", &[]).await;

    let b = Browser::start(&t.base, &db_label()).await;
    b.goto("/").await;
    b.fill("#email", EMAIL).await;
    b.fill("#password", PASSWORD).await;
    b.fill("#password_confirm", PASSWORD).await;
    b.click("form.form button[type=submit]").await;
    b.wait_until("the dashboard", "location.pathname === '/'")
        .await;

    // Severities.
    b.goto("/settings/notifications").await;
    b.watch_errors().await;
    b.wait_until(
        "the severities",
        "document.querySelectorAll('#sev-check option').length === 5",
    )
    .await;
    b.css("#sev-check")
        .await
        .select_by_value("low")
        .await
        .unwrap();
    b.click("#sev-save").await;
    b.wait_until(
        "saved",
        "document.querySelector('#sev-status').textContent === 'Saved.'",
    )
    .await;
    assert_eq!(
        t.app.storage.source_severities().await.unwrap(),
        vec![(AlertSource::Check, IncidentSeverity::Low)]
    );

    // A contact list: a bad interval is shown next to its field, then it is created.
    b.click("#add-list").await;
    b.fill("#l-name", "on-call").await;
    b.fill("#l-reminder", "0").await;
    b.wait_until(
        "the channel checkbox",
        "document.querySelector('#list-form input[type=checkbox]') !== null",
    )
    .await;
    b.click("#list-form input[type=checkbox]").await;
    b.click("#l-save").await;
    b.wait_until(
        "the interval's error",
        "document.querySelector('#l-reminder-error').textContent.trim() !== ''",
    )
    .await;
    assert!(t.app.storage.contact_lists().await.unwrap().is_empty());
    b.fill("#l-reminder", "30").await;
    b.click("#l-save").await;
    b.wait_until(
        "the new list",
        "document.querySelector('.list-row[data-list=on-call]') !== null",
    )
    .await;
    let lists = t.app.storage.contact_lists().await.unwrap();
    assert_eq!(lists.len(), 1);
    assert_eq!(lists[0].reminder_minutes, Some(30));
    assert_eq!(lists[0].channel_ids, [channel["id"].as_str().unwrap()]);
    assert!(b.text(".list-row").await.contains("pager"));

    // The connection routes to it from its edit page.
    b.goto(&format!("/settings/connections/{}", c.id)).await;
    b.watch_errors().await;
    b.wait_until(
        "the lists",
        "document.querySelectorAll('#a-list option').length === 2",
    )
    .await;
    b.css("#a-severity")
        .await
        .select_by_value("critical")
        .await
        .unwrap();
    b.css("#a-list")
        .await
        .select_by_value(&lists[0].id)
        .await
        .unwrap();
    b.click("#a-save").await;
    b.wait_until(
        "saved",
        "document.querySelector('#a-status').textContent === 'Saved.'",
    )
    .await;
    let route = t
        .app
        .storage
        .alert_route(AlertSubject::Connection, c.id.as_str())
        .await
        .unwrap();
    assert_eq!(route.severity, Some(IncidentSeverity::Critical));
    assert_eq!(route.contact_list_id.as_deref(), Some(lists[0].id.as_str()));

    // An incident, acknowledged on the Incidents page.
    for _ in 0..3 {
        let body = push_body(
            t.clock_now(),
            &c,
            None,
            r#"{"type":"log","level":"error","message":"Cannot open socket"}"#,
            2,
            true,
        );
        assert_eq!(t.push(&agent, &body).await.0, 201);
    }
    crate::notifications::eventually("the alert", || hook.got().len() == 1).await;
    assert!(
        hook.got()[0].json()["body"]
            .as_str()
            .unwrap()
            .ends_with("Severity: CRITICAL\n")
    );
    b.goto("/incidents").await;
    b.watch_errors().await;
    b.wait_until(
        "the open incident",
        "document.querySelector('.incident-row .btn-ack') !== null",
    )
    .await;
    b.click(".incident-row .btn-ack").await;
    b.wait_until(
        "no open incident left",
        "document.querySelector('.incident-row') === null",
    )
    .await;
    b.click("#state-acked").await;
    b.wait_until(
        "the acknowledged incident",
        "document.querySelector('.incident-row') !== null",
    )
    .await;
    let row = b.text(".incident-row").await;
    assert!(row.contains(EMAIL) && row.contains("wan1"), "{row}");
    let (_, acked) = t.get("/api/v1/incidents?state=acked").await;
    assert_eq!(acked["items"][0]["acknowledgedBy"], EMAIL);
    assert!(
        b.errors().await.is_empty(),
        "script errors: {:?}",
        b.errors().await
    );
}

/// Settings → Notifications: a probe's and a check's own severity and contact list, set per
/// row through `/probes/{id}/alerting` and `/checks/{id}/alerting`; an error the API answers
/// shows in the row. Screenshots at 1280 and 390 px, light and dark.
pub(crate) async fn probe_and_check_alerting_on_the_settings_page(t: &TestApp) {
    let hook = crate::notifications::Receiver::start(&[200]).await;
    let (status, channel) = t
        .send(
            reqwest::Method::POST,
            "/api/v1/notifications/channels",
            &json!({"name": "pager", "type": "webhook", "settings": {"url": hook.url}}),
        )
        .await;
    assert_eq!(status, 201, "{channel}");
    let mut lists = Vec::new();
    for name in ["ops", "night"] {
        let (status, l) = t
            .send(
                reqwest::Method::POST,
                "/api/v1/notifications/contact-lists",
                &json!({"name": name, "channelIds": [channel["id"]]}),
            )
            .await;
        assert_eq!(status, 201, "{l}");
        lists.push(l["id"].as_str().unwrap().to_owned());
    }
    let agent = t.probe("home").await;
    let p = agent.probe.id.to_string();
    let (status, check) = t
        .send(
            reqwest::Method::POST,
            "/api/v1/checks",
            &json!({"probeId": p, "kind": "tcp", "target": "example.org", "port": 443}),
        )
        .await;
    assert_eq!(status, 201, "{check}");
    let check_id = check["id"].as_str().unwrap().to_owned();

    let b = Browser::start(&t.base, &format!("{}-subject-alerting", db_label())).await;
    b.goto("/").await;
    b.fill("#email", EMAIL).await;
    b.fill("#password", PASSWORD).await;
    b.fill("#password_confirm", PASSWORD).await;
    b.click("form.form button[type=submit]").await;
    b.wait_until("the dashboard", "location.pathname === '/'")
        .await;
    b.goto("/settings/notifications").await;
    b.watch_errors().await;
    b.wait_until(
        "the probe's and the check's rows",
        "document.querySelectorAll('#subject-alerting .subject-row').length === 2 \
         && document.querySelectorAll('#subject-alerting .s-list')[0].options.length === 3",
    )
    .await;
    let probe_row = format!("#subject-alerting .subject-row[data-kind=probe][data-subject='{p}']");
    let check_row =
        format!("#subject-alerting .subject-row[data-kind=check][data-subject='{check_id}']");
    b.wait_until(
        "the rows' names",
        &format!(
            "document.querySelector(\"{probe_row}\").textContent.includes('home') \
             && document.querySelector(\"{check_row}\").textContent.includes('example.org')"
        ),
    )
    .await;
    let text = b.text(&check_row).await;
    assert!(text.contains("TCP example.org:443"), "{text}");

    // The probe: CRITICAL to "ops".
    b.css(&format!("{probe_row} .s-severity"))
        .await
        .select_by_value("critical")
        .await
        .unwrap();
    b.css(&format!("{probe_row} .s-list"))
        .await
        .select_by_value(&lists[0])
        .await
        .unwrap();
    b.click(&format!("{probe_row} .s-save")).await;
    b.wait_until(
        "the probe's saved",
        &format!("document.querySelector(\"{probe_row} .s-status\").textContent === 'Saved.'"),
    )
    .await;
    assert_eq!(
        t.app
            .storage
            .alert_route(AlertSubject::Probe, &p)
            .await
            .unwrap(),
        AlertRoute {
            severity: Some(IncidentSeverity::Critical),
            contact_list_id: Some(lists[0].clone()),
        }
    );

    // The check: a list deleted meanwhile is refused, and the answer shows in its row.
    let (status, _) = t
        .send(
            reqwest::Method::DELETE,
            &format!("/api/v1/notifications/contact-lists/{}", lists[1]),
            &json!({}),
        )
        .await;
    assert_eq!(status, 204);
    b.css(&format!("{check_row} .s-list"))
        .await
        .select_by_value(&lists[1])
        .await
        .unwrap();
    b.click(&format!("{check_row} .s-save")).await;
    b.wait_until(
        "the check's error",
        &format!(
            "document.querySelector(\"{check_row} .s-error\").textContent.includes('no contact list')"
        ),
    )
    .await;
    assert_eq!(
        t.app
            .storage
            .alert_route(AlertSubject::Check, &check_id)
            .await
            .unwrap(),
        AlertRoute::default()
    );
    b.screenshots_both("subject-alerting-error").await;
    b.css(&format!("{check_row} .s-severity"))
        .await
        .select_by_value("low")
        .await
        .unwrap();
    b.css(&format!("{check_row} .s-list"))
        .await
        .select_by_value(&lists[0])
        .await
        .unwrap();
    b.click(&format!("{check_row} .s-save")).await;
    b.wait_until(
        "the check's saved",
        &format!("document.querySelector(\"{check_row} .s-status\").textContent === 'Saved.'"),
    )
    .await;
    assert_eq!(
        t.app
            .storage
            .alert_route(AlertSubject::Check, &check_id)
            .await
            .unwrap(),
        AlertRoute {
            severity: Some(IncidentSeverity::Low),
            contact_list_id: Some(lists[0].clone()),
        }
    );

    // A reload shows what is stored.
    b.goto("/settings/notifications").await;
    b.wait_until(
        "the stored choices",
        &format!(
            "document.querySelector(\"{check_row} .s-severity\") !== null \
             && document.querySelector(\"{check_row} .s-severity\").value === 'low' \
             && document.querySelector(\"{probe_row} .s-list\").value === '{}'",
            lists[0]
        ),
    )
    .await;
    b.screenshots_both("subject-alerting").await;
    b.fits(390).await;
    assert!(
        b.errors().await.is_empty(),
        "script errors: {:?}",
        b.errors().await
    );
}
