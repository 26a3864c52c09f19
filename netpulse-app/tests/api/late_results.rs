//! Late results end to end: an agent replays results days older than the connection's newest
//! one while an incident is open. They are stored, but send nothing and change no live state
//! (incident, degraded flag, the dashboard card, the `/metrics` latest figures).

use std::time::Duration;

use netpulse_domain::model::Connection;
use serde_json::{Value, json};

use crate::helpers::{Agent, TestApp, ookla_stdout, push_body};
use crate::metrics::{Exposition, exposition};
use crate::notifications::{Receiver, eventually};
use crate::web_auth::WebClient;

const DAY: i64 = 86_400;

async fn push(t: &TestApp, agent: &Agent, body: &Value) {
    let (status, r) = t.push(agent, body).await;
    assert_eq!(status, 201, "{r}");
}

/// An Ookla result at `seconds` from now: unhealthy (the fixture's upload is below the plan)
/// unless `healthy`.
fn result(t: &TestApp, c: &Connection, seconds: i64, healthy: bool) -> Value {
    let stdout = if healthy {
        ookla_stdout().replace("6181475", "60000000")
    } else {
        ookla_stdout()
    };
    push_body(
        t.clock_now().plus_seconds(seconds),
        c,
        None,
        &stdout,
        0,
        true,
    )
}

/// The live figures of `wan1` that late results must not move.
fn live_figures(e: &Exposition) -> Vec<(&'static str, f64)> {
    let wan1 = [("connection", "wan1")];
    [
        "netpulse_connection_degraded",
        "netpulse_connection_healthy",
        "netpulse_last_result_timestamp_seconds",
        "netpulse_download_bits_per_second",
        "netpulse_upload_bits_per_second",
    ]
    .into_iter()
    .map(|name| (name, e.value(name, &wan1)))
    .collect()
}

/// The status badge of the `wan1` card on the dashboard.
async fn card_badge(w: &mut WebClient) -> String {
    let page = w.get("/").await;
    assert_eq!(page.status, 200);
    let after = page
        .body
        .split("<span class=\"conn-name\">wan1</span>")
        .nth(1)
        .expect("the wan1 card");
    after
        .split("class=\"badge ")
        .nth(1)
        .and_then(|s| s.split('<').next())
        .expect("its badge")
        .to_owned()
}

async fn incidents(t: &TestApp, c: &Connection) -> Vec<Value> {
    let (_, body) = t
        .get(&format!("/api/v1/incidents?connection={}", c.id))
        .await;
    body["items"].as_array().unwrap().clone()
}

pub(crate) async fn old_results_replayed_during_an_incident_change_no_live_state(t: &TestApp) {
    let hook = Receiver::start(&[200]).await;
    let (status, channel) = t
        .send(
            reqwest::Method::POST,
            "/api/v1/notifications/channels",
            &json!({"name": "hook", "type": "webhook", "settings": {"url": hook.url, "secret": "hmac-key-123"}}),
        )
        .await;
    assert_eq!(status, 201, "{channel}");
    let mut w = WebClient::new(t);
    w.setup().await;
    let agent = t.probe("home").await;
    let c = t.connection(&agent.probe.id, "wan1", &[]).await;

    // Three unhealthy results: the alert, an open incident, a degraded card.
    for _ in 0..3 {
        t.clock.advance_seconds(600);
        push(t, &agent, &result(t, &c, 0, false)).await;
    }
    eventually("the alert", || hook.kinds() == ["alert"]).await;
    let open = incidents(t, &c).await;
    assert_eq!(open.len(), 1);
    assert!(open[0]["closedAt"].is_null());
    let figures = live_figures(&exposition(t).await);
    assert_eq!(figures[0], ("netpulse_connection_degraded", 1.0));
    assert_eq!(figures[1], ("netpulse_connection_healthy", 0.0));
    let badge = card_badge(&mut w).await;
    assert!(badge.starts_with("badge-degraded"), "{badge}");

    // The agent replays healthy results 7 to 30 days older than the newest one.
    for day in 7..=30 {
        push(t, &agent, &result(t, &c, -day * DAY, true)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;

    assert_eq!(hook.kinds(), ["alert"], "no recovery was sent");
    let (_, log) = t.get("/api/v1/notifications/deliveries").await;
    assert_eq!(log["items"].as_array().unwrap().len(), 1, "{log}");
    let still = incidents(t, &c).await;
    assert_eq!(still.len(), 1);
    assert!(still[0]["closedAt"].is_null(), "the incident stays open");
    assert_eq!(
        live_figures(&exposition(t).await),
        figures,
        "degraded, healthy and the latest figures are the newest result's"
    );
    assert_eq!(card_badge(&mut w).await, badge, "the card is as it was");
    // They are stored all the same (history, charts, CSV).
    let (_, page) = t
        .get(&format!(
            "/api/v1/measurements?connection={}&limit=100",
            c.id
        ))
        .await;
    assert_eq!(page["items"].as_array().unwrap().len(), 3 + 24, "{page}");

    // A newer healthy result still recovers, once.
    t.clock.advance_seconds(600);
    push(t, &agent, &result(t, &c, 0, true)).await;
    eventually("the recovery", || hook.kinds() == ["alert", "recovery"]).await;
    let closed = incidents(t, &c).await;
    assert!(closed[0]["closedAt"].is_string());
}
