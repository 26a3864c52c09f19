//! A probe's own alerting (issue 21): its outage and probe-offline alerts go to the contact
//! list the probe routes to (none: every channel), with the probe's severity, else the one set
//! for the source. Real server, channels pointing at receivers on loopback ports.

use netpulse_app::service::api_tokens::{self, NewToken};
use netpulse_app::service::{sessions, users};
use netpulse_domain::access::{Permission, Role};
use netpulse_domain::check::Family;
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::TestApp;
use crate::notifications::{Receiver, eventually};
use crate::outages::{MIN, Round, T0, probe_with_defaults, results};

async fn settle() {
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
}

async fn channel(t: &TestApp, body: &Value) -> String {
    let (status, c) = t
        .send(Method::POST, "/api/v1/notifications/channels", body)
        .await;
    assert_eq!(status, 201, "{c}");
    c["id"].as_str().unwrap().to_owned()
}

/// A webhook channel and a PagerDuty channel (on the same kind of receiver), in one list;
/// another webhook outside it. Returns (list id, listed hook, PagerDuty, other hook).
async fn listed(t: &TestApp) -> (String, Receiver, Receiver, Receiver) {
    let hook = Receiver::start(&[200]).await;
    let pd = Receiver::start(&[202]).await;
    let other = Receiver::start(&[200]).await;
    let hook_id = channel(
        t,
        &json!({"name": "ops", "type": "webhook", "settings": {"url": hook.url}}),
    )
    .await;
    let pd_id = channel(
        t,
        &json!({"name": "pd", "type": "pagerduty",
                "settings": {"routingKey": "R0123456789abcdef0123456789abcd",
                             "url": pd.url.trim_end_matches("/hook")}}),
    )
    .await;
    channel(
        t,
        &json!({"name": "other", "type": "webhook", "settings": {"url": other.url}}),
    )
    .await;
    let (status, l) = t
        .send(
            Method::POST,
            "/api/v1/notifications/contact-lists",
            &json!({"name": "ops", "channelIds": [hook_id, pd_id]}),
        )
        .await;
    assert_eq!(status, 201, "{l}");
    (l["id"].as_str().unwrap().to_owned(), hook, pd, other)
}

pub(crate) async fn an_outage_goes_to_the_probes_list_with_the_source_severity(t: &TestApp) {
    let (list, hook, pd, other) = listed(t).await;
    let (a, checks) = probe_with_defaults(t, "home").await;
    let path = format!("/api/v1/probes/{}/alerting", a.probe.id);
    let (status, r) = t.get(&path).await;
    assert_eq!(status, 200, "{r}");
    assert_eq!(r, json!({"severity": null, "contactListId": null}));
    let (status, r) = t
        .send(Method::PUT, &path, &json!({"contactListId": list}))
        .await;
    assert_eq!(status, 200, "{r}");
    assert_eq!(
        t.get(&path).await.1,
        json!({"severity": null, "contactListId": list})
    );
    // Outages default to HIGH (one family down); the `outage` source is lowered to LOW.
    let (status, s) = t
        .send(
            Method::PUT,
            "/api/v1/notifications/severities",
            &json!({"outage": "low"}),
        )
        .await;
    assert_eq!(status, 200, "{s}");
    let outage = s["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["source"] == "outage")
        .cloned();
    assert_eq!(
        outage,
        Some(
            json!({"source": "outage", "configured": "low", "effective": "low", "default": "high"})
        )
    );

    // v4 up, then down: the opening.
    for (m, v4) in [(0, Round::Up), (1, Round::Down)] {
        let mut batch = results(&checks, Family::V4, m, v4);
        batch.extend(results(&checks, Family::V6, m, Round::Up));
        netpulse_app::service::check_results::ingest(&t.app, &a.probe.id, batch)
            .await
            .unwrap();
    }
    eventually("the opening on the list's webhook", || {
        hook.kinds() == ["alert"]
    })
    .await;
    eventually("the opening on PagerDuty", || pd.got().len() == 1).await;
    let event = pd.got()[0].json();
    assert_eq!(event["event_action"], "trigger");
    assert_eq!(
        event["payload"]["severity"], "info",
        "LOW is PagerDuty's info"
    );
    settle().await;
    assert!(other.got().is_empty(), "the probe routes to its list only");

    // The probe's own severity wins over the source's.
    let (status, r) = t
        .send(
            Method::PUT,
            &path,
            &json!({"severity": "critical", "contactListId": list}),
        )
        .await;
    assert_eq!(status, 200, "{r}");
    for m in 2..6 {
        let mut batch = results(&checks, Family::V4, m, Round::Up);
        batch.extend(results(&checks, Family::V6, m, Round::Up));
        netpulse_app::service::check_results::ingest(&t.app, &a.probe.id, batch)
            .await
            .unwrap();
    }
    eventually("the resolve on PagerDuty", || pd.got().len() == 2).await;
    let event = pd.got()[1].json();
    assert_eq!(event["event_action"], "resolve");
    eventually("the closing on the list's webhook", || {
        hook.kinds() == ["alert", "recovery"]
    })
    .await;
    settle().await;
    assert!(other.got().is_empty(), "{:#?}", other.got());

    // A list a probe routes to cannot be deleted.
    let (status, e) = t
        .send(
            Method::DELETE,
            &format!("/api/v1/notifications/contact-lists/{list}"),
            &json!({}),
        )
        .await;
    assert_eq!(status, 409, "{e}");
}

pub(crate) async fn a_silent_probe_alerts_its_list_with_its_own_severity(t: &TestApp) {
    let (list, hook, pd, other) = listed(t).await;
    let agent = t.probe("attic").await;
    let path = format!("/api/v1/probes/{}/alerting", agent.probe.id);
    let (status, r) = t
        .send(
            Method::PUT,
            &path,
            &json!({"severity": "medium", "contactListId": list}),
        )
        .await;
    assert_eq!(status, 200, "{r}");
    assert_eq!(t.due(&agent).await.0, 200);
    t.clock.advance_seconds(151);
    eventually("the offline alert on the list", || hook.got().len() == 1).await;
    assert_eq!(hook.kinds(), ["probe_offline"]);
    eventually("the offline alert on PagerDuty", || pd.got().len() == 1).await;
    assert_eq!(
        pd.got()[0].json()["payload"]["severity"],
        "warning",
        "the probe's MEDIUM, not the source's CRITICAL"
    );
    settle().await;
    assert!(other.got().is_empty(), "the probe routes to its list only");

    // Back to every channel.
    let (status, r) = t
        .send(
            Method::PUT,
            &path,
            &json!({"severity": null, "contactListId": null}),
        )
        .await;
    assert_eq!(status, 200, "{r}");
    assert_eq!(t.due(&agent).await.0, 200);
    eventually("the back message everywhere", || {
        other.kinds() == ["probe_back"] && hook.kinds() == ["probe_offline", "probe_back"]
    })
    .await;
}

pub(crate) async fn probe_alerting_input_errors_name_the_field(t: &TestApp) {
    let agent = t.probe("home").await;
    let path = format!("/api/v1/probes/{}/alerting", agent.probe.id);
    let (status, e) = t
        .send(Method::PUT, &path, &json!({"contactListId": "nope"}))
        .await;
    assert_eq!(status, 400, "{e}");
    assert!(e.to_string().contains("contactListId"), "{e}");
    let (status, e) = t
        .send(Method::PUT, &path, &json!({"severity": "urgent"}))
        .await;
    assert_eq!(status, 400, "{e}");
    assert!(e.to_string().contains("severity"), "{e}");
    let (status, e) = t
        .send(
            Method::PUT,
            "/api/v1/notifications/severities",
            &json!({"outage": "urgent"}),
        )
        .await;
    assert_eq!(status, 400, "{e}");
    assert!(e.to_string().contains("outage"), "{e}");
    let (status, e) = t
        .get("/api/v1/probes/00000000-0000-4000-8000-000000000000/alerting")
        .await;
    assert_eq!(status, 404, "{e}");
}

/// A bearer token of a new user with `role`.
pub(crate) async fn token_of(t: &TestApp, role: Role) -> String {
    let email = format!("{}@example.org", role.as_str());
    let user = users::create_with_role(&t.app, email, "correct horse battery".into(), role)
        .await
        .unwrap();
    let _ = sessions::start(&t.app, &user.id).await.unwrap();
    api_tokens::create(
        &t.app,
        &NewToken {
            name: format!("{} token", role.as_str()),
            owner: Some(user.id.clone()),
            scopes: Permission::ALL.to_vec(),
            expires_at: None,
        },
    )
    .await
    .unwrap()
    .secret
}

/// `POST /api/v1/outage-incidents/{id}/ack` as `token`: (status, body).
pub(crate) async fn ack_as(t: &TestApp, token: &str, id: &str) -> (u16, Value) {
    let r = reqwest::Client::new()
        .post(t.url(&format!("/api/v1/outage-incidents/{id}/ack")))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap())
}

/// The outage incidents `GET /api/v1/incidents` lists (`outages`).
async fn outage_incidents(t: &TestApp, query: &str) -> Vec<Value> {
    let (status, l) = t.get(&format!("/api/v1/incidents{query}")).await;
    assert_eq!(status, 200, "{l}");
    l["outages"].as_array().unwrap().clone()
}

pub(crate) async fn an_outage_has_one_incident_row_from_opening_to_closing(t: &TestApp) {
    let (a, checks) = probe_with_defaults(t, "home").await;
    assert!(outage_incidents(t, "").await.is_empty());
    // v6 up, then down: the opening makes an open incident naming probe and family.
    let mut rounds = Vec::new();
    for (m, v6) in [(0, Round::Up), (1, Round::Down)] {
        let mut batch = results(&checks, Family::V4, m, Round::Up);
        batch.extend(results(&checks, Family::V6, m, v6));
        rounds.push(batch.clone());
        netpulse_app::service::check_results::ingest(&t.app, &a.probe.id, batch)
            .await
            .unwrap();
    }
    let open = outage_incidents(t, "").await;
    assert_eq!(open.len(), 1, "{open:#?}");
    let i = &open[0];
    assert_eq!(i["probeId"], a.probe.id.to_string());
    assert_eq!(i["family"], "v6");
    assert_eq!(i["state"], "open");
    assert!(i["closedAt"].is_null(), "{i}");
    assert!(i["acknowledgedAt"].is_null(), "{i}");
    assert_eq!(outage_incidents(t, "?state=open").await.len(), 1);
    assert!(outage_incidents(t, "?state=resolved").await.is_empty());

    // A replayed batch finds the opening claimed: still one incident.
    netpulse_app::service::check_results::ingest(&t.app, &a.probe.id, rounds[1].clone())
        .await
        .unwrap();
    assert_eq!(outage_incidents(t, "").await.len(), 1);

    // Viewers cannot acknowledge; an operator can, and an admin's later ack keeps the first.
    let id = i["id"].as_str().unwrap().to_owned();
    let (viewer, operator, admin) = (
        token_of(t, Role::Viewer).await,
        token_of(t, Role::Operator).await,
        token_of(t, Role::Admin).await,
    );
    let (status, e) = ack_as(t, &viewer, &id).await;
    assert_eq!(status, 403, "{e}");
    let (status, ack) = ack_as(t, &operator, &id).await;
    assert_eq!(status, 200, "{ack}");
    assert_eq!(ack["state"], "acked");
    assert_eq!(ack["acknowledgedBy"], "operator@example.org");
    let (status, ack) = ack_as(t, &admin, &id).await;
    assert_eq!(status, 200, "{ack}");
    assert_eq!(
        ack["acknowledgedBy"], "operator@example.org",
        "the first stays"
    );
    assert_eq!(outage_incidents(t, "?state=acked").await.len(), 1);
    let audit = t.app.storage.audit_entries(None, 50).await.unwrap();
    let acks: Vec<_> = audit
        .iter()
        .filter(|e| e.action == "incident.ack")
        .collect();
    assert_eq!(acks.len(), 1, "{audit:?}");
    assert_eq!(acks[0].subject, format!("outage-incident:{id}"));
    let (status, e) = ack_as(t, &operator, "no-such-incident").await;
    assert_eq!(status, 404, "{e}");

    // Good rounds close the episode: the same incident is resolved.
    for m in 2..6 {
        let mut batch = results(&checks, Family::V4, m, Round::Up);
        batch.extend(results(&checks, Family::V6, m, Round::Up));
        netpulse_app::service::check_results::ingest(&t.app, &a.probe.id, batch)
            .await
            .unwrap();
    }
    let done = outage_incidents(t, "").await;
    assert_eq!(done.len(), 1, "{done:#?}");
    assert_eq!(done[0]["id"], i["id"]);
    assert_eq!(done[0]["state"], "resolved");
    assert_eq!(done[0]["acknowledgedBy"], "operator@example.org");
    assert_eq!(done[0]["openedAt"], i["openedAt"]);
    assert!(
        done[0]["closedAt"].as_str().unwrap() > i["openedAt"].as_str().unwrap(),
        "{done:#?}"
    );
    assert!(outage_incidents(t, "?state=open").await.is_empty());
    assert_eq!(outage_incidents(t, "?state=resolved").await.len(), 1);
    // Asking for one connection's incidents lists no outage incidents.
    let (status, l) = t
        .get("/api/v1/incidents?connection=00000000-0000-4000-8000-000000000000")
        .await;
    assert_eq!(status, 200, "{l}");
    assert_eq!(l["outages"], json!([]));
}

/// The subjects a receiver got that are reminders.
fn reminders(r: &Receiver) -> Vec<Value> {
    r.got()
        .iter()
        .map(crate::notifications::Got::json)
        .filter(|v| {
            v["subject"]
                .as_str()
                .is_some_and(|s| s.starts_with("[NetPulse] Reminder:"))
        })
        .collect()
}

/// Feeds rounds `from..=to` with IPv4 down (IPv6 up) and moves the clock to round `to`, so the
/// outage stays open (housekeeping closes a silent series).
async fn down_until(t: &TestApp, a: &crate::helpers::Agent, checks: &Checks, from: i64, to: i64) {
    for m in from..=to {
        let mut batch = results(checks, Family::V4, m, Round::Down);
        batch.extend(results(checks, Family::V6, m, Round::Up));
        netpulse_app::service::check_results::ingest(&t.app, &a.probe.id, batch)
            .await
            .unwrap();
    }
    t.clock
        .set(netpulse_domain::Timestamp::from_unix_millis(T0 + to * MIN));
}

type Checks = Vec<(netpulse_domain::id::CheckId, Family)>;

pub(crate) async fn outage_reminders_repeat_each_interval_until_acknowledged(t: &TestApp) {
    let (status, s) = t
        .send(
            Method::PATCH,
            "/api/v1/notifications/settings",
            &json!({"probeOffline": false}),
        )
        .await;
    assert_eq!(status, 200, "{s}");
    let hook = Receiver::start(&[200]).await;
    let other = Receiver::start(&[200]).await;
    let hook_id = channel(
        t,
        &json!({"name": "on-call", "type": "webhook", "settings": {"url": hook.url}}),
    )
    .await;
    channel(
        t,
        &json!({"name": "other", "type": "webhook", "settings": {"url": other.url}}),
    )
    .await;
    let (status, l) = t
        .send(
            Method::POST,
            "/api/v1/notifications/contact-lists",
            &json!({"name": "on-call", "channelIds": [hook_id], "reminderMinutes": 30}),
        )
        .await;
    assert_eq!(status, 201, "{l}");
    let (a, checks) = probe_with_defaults(t, "home").await;
    let (status, r) = t
        .send(
            Method::PUT,
            &format!("/api/v1/probes/{}/alerting", a.probe.id),
            &json!({"contactListId": l["id"]}),
        )
        .await;
    assert_eq!(status, 200, "{r}");
    let up = results(&checks, Family::V4, 0, Round::Up)
        .into_iter()
        .chain(results(&checks, Family::V6, 0, Round::Up))
        .collect();
    netpulse_app::service::check_results::ingest(&t.app, &a.probe.id, up)
        .await
        .unwrap();
    // Round 1: IPv4 goes down, the outage opens (announced to the probe's list).
    down_until(t, &a, &checks, 1, 1).await;
    eventually("the opening", || hook.kinds() == ["alert"]).await;
    let open = outage_incidents(t, "?state=open").await;
    let v4: Vec<&Value> = open.iter().filter(|i| i["family"] == "v4").collect();
    assert_eq!(v4.len(), 1, "{open:#?}");
    let id = v4[0]["id"].as_str().unwrap().to_owned();

    // 29 minutes after the opening: nothing; at 30: one reminder, then no second one.
    down_until(t, &a, &checks, 2, 30).await;
    settle().await;
    assert!(reminders(&hook).is_empty(), "no reminder before 30 minutes");
    down_until(t, &a, &checks, 31, 31).await;
    eventually("the first reminder", || reminders(&hook).len() == 1).await;
    settle().await;
    assert_eq!(reminders(&hook).len(), 1, "one reminder per interval");
    let r = &reminders(&hook)[0];
    assert_eq!(r["kind"], "alert");
    assert_eq!(
        r["subject"],
        "[NetPulse] Reminder: home still has an internet outage (IPv4)"
    );
    let body = r["body"].as_str().unwrap();
    assert!(
        body.contains(&format!("/api/v1/outage-incidents/{id}/ack")),
        "{body}"
    );
    assert!(body.ends_with("Severity: HIGH\n"), "{body}");
    let stored = t.app.storage.outage_incident(&id).await.unwrap().unwrap();
    assert_eq!(stored.reminded_at, Some(t.clock_now()));

    // The next interval: the second one.
    down_until(t, &a, &checks, 32, 61).await;
    eventually("the second reminder", || reminders(&hook).len() == 2).await;

    // A reminder is claimed once, whoever asks (two processes at the same moment).
    let stored = t.app.storage.outage_incident(&id).await.unwrap().unwrap();
    let now = t.clock_now().plus_seconds(1);
    let (x, y) = tokio::join!(
        t.app
            .storage
            .claim_outage_reminder(&id, stored.reminded_at, now),
        t.app
            .storage
            .claim_outage_reminder(&id, stored.reminded_at, now),
    );
    assert_eq!(
        u8::from(x.unwrap()) + u8::from(y.unwrap()),
        1,
        "exactly one claim wins"
    );

    // The acknowledgement stops them.
    let (status, acked) = t
        .send(
            Method::POST,
            &format!("/api/v1/outage-incidents/{id}/ack"),
            &Value::Null,
        )
        .await;
    assert_eq!(status, 200, "{acked}");
    assert_eq!(acked["state"], "acked");
    down_until(t, &a, &checks, 62, 125).await;
    settle().await;
    let v4_reminders = reminders(&hook)
        .iter()
        .filter(|r| r["subject"].as_str().unwrap().contains("(IPv4)"))
        .count();
    assert_eq!(v4_reminders, 2, "no reminder after the acknowledgement");
    assert!(other.got().is_empty(), "the probe routes to its list only");
}
