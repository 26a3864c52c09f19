//! Severities, contact lists and acknowledgement (issue 21) end to end: the real server,
//! results pushed through the agent API, channels pointing at receivers on loopback ports.

use netpulse_app::service::api_tokens::{self, NewToken};
use netpulse_app::service::{sessions, users};
use netpulse_domain::access::{Permission, Role};
use netpulse_domain::model::Connection;
use serde_json::{Value, json};

use crate::helpers::{Agent, TestApp, push_body};
use crate::notifications::{Receiver, eventually};

async fn settle() {
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
}

async fn send(t: &TestApp, method: reqwest::Method, path: &str, body: &Value) -> (u16, Value) {
    t.send(method, path, body).await
}

async fn webhook(t: &TestApp, name: &str, url: &str) -> String {
    let (status, c) = send(
        t,
        reqwest::Method::POST,
        "/api/v1/notifications/channels",
        &json!({"name": name, "type": "webhook", "settings": {"url": url}}),
    )
    .await;
    assert_eq!(status, 201, "{c}");
    c["id"].as_str().unwrap().to_owned()
}

async fn contact_list(t: &TestApp, body: &Value) -> String {
    let (status, l) = send(
        t,
        reqwest::Method::POST,
        "/api/v1/notifications/contact-lists",
        body,
    )
    .await;
    assert_eq!(status, 201, "{l}");
    l["id"].as_str().unwrap().to_owned()
}

async fn route(t: &TestApp, c: &Connection, body: &Value) {
    let (status, r) = send(
        t,
        reqwest::Method::PUT,
        &format!("/api/v1/connections/{}/alerting", c.id),
        body,
    )
    .await;
    assert_eq!(status, 200, "{r}");
}

/// Three failed results: the connection's alert edge.
async fn fail_three_times(t: &TestApp, agent: &Agent, c: &Connection) {
    for _ in 0..3 {
        let body = push_body(
            t.clock_now(),
            c,
            None,
            r#"{"type":"log","level":"error","message":"Cannot open socket"}"#,
            2,
            true,
        );
        let (status, r) = t.push(agent, &body).await;
        assert_eq!(status, 201, "{r}");
    }
}

async fn recover(t: &TestApp, agent: &Agent, c: &Connection) {
    let stdout = crate::helpers::ookla_stdout().replace("6181475", "60000000");
    let body = push_body(t.clock_now(), c, None, &stdout, 0, true);
    let (status, r) = t.push(agent, &body).await;
    assert_eq!(status, 201, "{r}");
}

/// No probe-offline messages while the test moves the clock by hours.
async fn quiet_probes(t: &TestApp) {
    let (status, s) = send(
        t,
        reqwest::Method::PATCH,
        "/api/v1/notifications/settings",
        &json!({"probeOffline": false}),
    )
    .await;
    assert_eq!(status, 200, "{s}");
}

fn subjects(r: &Receiver) -> Vec<String> {
    r.got()
        .iter()
        .map(|g| g.json()["subject"].as_str().unwrap_or_default().to_owned())
        .collect()
}

pub(crate) async fn alerts_go_to_the_connections_contact_list_only(t: &TestApp) {
    let ops = Receiver::start(&[200]).await;
    let other = Receiver::start(&[200]).await;
    let broken = Receiver::start(&[503]).await;
    let ops_id = webhook(t, "ops", &ops.url).await;
    webhook(t, "other", &other.url).await;
    let broken_id = webhook(t, "broken", &broken.url).await;
    // The failing channel is in the same list: it must not hold up the good one.
    let list = contact_list(
        t,
        &json!({"name": "ops", "channelIds": [ops_id, broken_id]}),
    )
    .await;
    let agent = t.probe("home").await;
    let wan1 = t.connection(&agent.probe.id, "wan1", &[]).await;
    let wan2 = t.connection(&agent.probe.id, "wan2", &[]).await;
    route(t, &wan1, &json!({"contactListId": list})).await;

    fail_three_times(t, &agent, &wan1).await;
    eventually("the ops alert", || ops.got().len() == 1).await;
    eventually("the broken channel's attempt", || broken.got().len() == 1).await;
    settle().await;
    assert!(other.got().is_empty(), "wan1 routes to ops only");
    assert_eq!(subjects(&ops), ["[NetPulse] home/wan1 is unhealthy"]);

    // wan2 has no list: every channel, as before contact lists existed.
    fail_three_times(t, &agent, &wan2).await;
    eventually("wan2 on other", || other.got().len() == 1).await;
    eventually("wan2 on ops", || ops.got().len() == 2).await;
    assert_eq!(subjects(&other), ["[NetPulse] home/wan2 is unhealthy"]);

    // A list with a minimum severity above the connection's gets nothing.
    let (status, l) = send(
        t,
        reqwest::Method::PUT,
        &format!("/api/v1/notifications/contact-lists/{list}"),
        &json!({"name": "ops", "channelIds": [ops_id], "minSeverity": "critical"}),
    )
    .await;
    assert_eq!(status, 200, "{l}");
    assert_eq!(l["minSeverity"], "critical");
    recover(t, &agent, &wan1).await;
    settle().await;
    assert_eq!(
        ops.got().len(),
        2,
        "a HIGH recovery is below the list's CRITICAL"
    );
    // The route is readable, and a list in use cannot be deleted.
    let (_, r) = t
        .get(&format!("/api/v1/connections/{}/alerting", wan1.id))
        .await;
    assert_eq!(r, json!({"severity": null, "contactListId": list}));
    let (status, e) = send(
        t,
        reqwest::Method::DELETE,
        &format!("/api/v1/notifications/contact-lists/{list}"),
        &Value::Null,
    )
    .await;
    assert_eq!(status, 409, "{e}");
}

pub(crate) async fn a_severity_override_reaches_pagerduty_and_the_message(t: &TestApp) {
    let pd = Receiver::start(&[202]).await;
    let hook = Receiver::start(&[200]).await;
    let base = pd.url.trim_end_matches("/hook").to_owned();
    let (status, c) = send(
        t,
        reqwest::Method::POST,
        "/api/v1/notifications/channels",
        &json!({"name": "pd", "type": "pagerduty",
                "settings": {"routingKey": "R0123456789abcdef0123456789abcd", "url": base}}),
    )
    .await;
    assert_eq!(status, 201, "{c}");
    webhook(t, "hook", &hook.url).await;
    // Connections default to HIGH; the source is lowered to LOW, one connection raised to
    // CRITICAL.
    let (status, s) = send(
        t,
        reqwest::Method::PUT,
        "/api/v1/notifications/severities",
        &json!({"connection": "LOW"}),
    )
    .await;
    assert_eq!(status, 200, "{s}");
    let connection = s["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["source"] == "connection")
        .unwrap();
    assert_eq!(
        connection,
        &json!({"source": "connection", "configured": "low", "effective": "low", "default": "high"})
    );
    let agent = t.probe("home").await;
    let wan1 = t.connection(&agent.probe.id, "wan1", &[]).await;
    let wan2 = t.connection(&agent.probe.id, "wan2", &[]).await;
    route(t, &wan2, &json!({"severity": "critical"})).await;

    fail_three_times(t, &agent, &wan1).await;
    eventually("wan1 on PagerDuty", || pd.got().len() == 1).await;
    let event = pd.got()[0].json();
    assert_eq!(pd.got()[0].path, "/v2/enqueue");
    assert_eq!(event["event_action"], "trigger");
    assert_eq!(
        event["payload"]["severity"], "info",
        "LOW is PagerDuty's info"
    );
    fail_three_times(t, &agent, &wan2).await;
    eventually("wan2 on PagerDuty", || pd.got().len() == 2).await;
    assert_eq!(pd.got()[1].json()["payload"]["severity"], "critical");
    eventually("both on the webhook", || hook.got().len() == 2).await;
    let bodies: Vec<String> = hook
        .got()
        .iter()
        .map(|g| g.json()["body"].as_str().unwrap().to_owned())
        .collect();
    assert!(bodies[0].ends_with("Severity: LOW\n"), "{}", bodies[0]);
    assert!(bodies[1].ends_with("Severity: CRITICAL\n"), "{}", bodies[1]);
}

pub(crate) async fn reminders_repeat_each_interval_until_acknowledged(t: &TestApp) {
    quiet_probes(t).await;
    let hook = Receiver::start(&[200]).await;
    let id = webhook(t, "on-call", &hook.url).await;
    let list = contact_list(
        t,
        &json!({"name": "on-call", "channelIds": [id], "reminderMinutes": 30}),
    )
    .await;
    let agent = t.probe("home").await;
    let c = t.connection(&agent.probe.id, "wan1", &[]).await;
    route(t, &c, &json!({"contactListId": list})).await;
    fail_three_times(t, &agent, &c).await;
    eventually("the alert", || hook.got().len() == 1).await;
    let (_, open) = t.get("/api/v1/incidents?state=open").await;
    let incident = open["items"][0]["id"].as_str().unwrap().to_owned();
    assert_eq!(open["items"][0]["state"], "open");

    t.clock.advance_seconds(29 * 60);
    settle().await;
    assert_eq!(hook.got().len(), 1, "no reminder before 30 minutes");
    t.clock.advance_seconds(60);
    eventually("the first reminder", || hook.got().len() == 2).await;
    settle().await;
    assert_eq!(hook.got().len(), 2, "one reminder per interval");
    t.clock.advance_seconds(30 * 60);
    eventually("the second reminder", || hook.got().len() == 3).await;
    let reminder = hook.got()[2].json();
    assert_eq!(reminder["kind"], "alert");
    assert_eq!(
        reminder["subject"],
        "[NetPulse] Reminder: home/wan1 is still unhealthy"
    );
    assert!(
        reminder["body"].as_str().unwrap().contains(&incident),
        "{reminder}"
    );

    // No reminder during a maintenance window of the connection.
    let (status, w) = send(
        t,
        reqwest::Method::POST,
        &format!("/api/v1/connections/{}/maintenance-windows", c.id),
        &json!({"startsAt": t.clock_now().to_rfc3339(),
                "endsAt": t.clock_now().plus_seconds(7200).to_rfc3339(), "note": "swap"}),
    )
    .await;
    assert_eq!(status, 201, "{w}");
    t.clock.advance_seconds(31 * 60);
    settle().await;
    assert_eq!(hook.got().len(), 3, "maintenance holds reminders");

    // A reminder is claimed once, whoever asks (two processes at the same moment).
    let status = t
        .app
        .storage
        .incident_status(&incident)
        .await
        .unwrap()
        .unwrap();
    let now = t.clock_now().plus_seconds(1);
    let (a, b) = tokio::join!(
        t.app
            .storage
            .claim_reminder(&incident, status.reminded_at, now),
        t.app
            .storage
            .claim_reminder(&incident, status.reminded_at, now),
    );
    assert_eq!(
        [a.unwrap(), b.unwrap()].iter().filter(|w| **w).count(),
        1,
        "exactly one claim wins"
    );

    let (status, acked) = send(
        t,
        reqwest::Method::POST,
        &format!("/api/v1/incidents/{incident}/ack"),
        &Value::Null,
    )
    .await;
    assert_eq!(status, 200, "{acked}");
    assert_eq!(acked["state"], "acked");
    assert_eq!(acked["acknowledgedBy"], "tests");
    assert_eq!(acked["acknowledgedAt"], t.clock_now().to_rfc3339());
    t.clock.advance_seconds(3 * 3600);
    settle().await;
    assert_eq!(hook.got().len(), 3, "no reminder after the acknowledgement");
    let (_, listed) = t.get("/api/v1/incidents?state=acked").await;
    assert_eq!(listed["items"].as_array().unwrap().len(), 1);
    let (_, listed) = t.get("/api/v1/incidents?state=open").await;
    assert_eq!(listed["items"], json!([]));

    // Recovery resolves it; a resolved incident cannot be acknowledged (again).
    recover(t, &agent, &c).await;
    eventually("the recovery", || hook.got().len() == 4).await;
    let (_, listed) = t.get("/api/v1/incidents?state=resolved").await;
    assert_eq!(listed["items"][0]["id"], incident.as_str());
    assert_eq!(listed["items"][0]["acknowledgedBy"], "tests");
}

pub(crate) async fn only_operators_and_admins_may_acknowledge(t: &TestApp) {
    let agent = t.probe("home").await;
    let c = t.connection(&agent.probe.id, "wan1", &[]).await;
    fail_three_times(t, &agent, &c).await;
    let mut incident = String::new();
    for _ in 0..200 {
        let (_, open) = t.get("/api/v1/incidents?state=open").await;
        if let Some(id) = open["items"][0]["id"].as_str() {
            incident = id.to_owned();
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(!incident.is_empty(), "the incident opened");
    let client = reqwest::Client::new();
    let mut answers = Vec::new();
    for role in [Role::Viewer, Role::Operator, Role::Admin] {
        let email = format!("{}@example.org", role.as_str());
        let user = users::create_with_role(&t.app, email, "correct horse battery".into(), role)
            .await
            .unwrap();
        let _ = sessions::start(&t.app, &user.id).await.unwrap();
        let token = api_tokens::create(
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
        .secret;
        let r = client
            .post(t.url(&format!("/api/v1/incidents/{incident}/ack")))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        let body: Value = r.json().await.unwrap();
        answers.push((role, status, body));
    }
    let (_, viewer, body) = &answers[0];
    assert_eq!(*viewer, 403, "{body}");
    let (_, operator, body) = &answers[1];
    assert_eq!(*operator, 200, "{body}");
    assert_eq!(body["acknowledgedBy"], "operator@example.org");
    let (_, admin, body) = &answers[2];
    assert_eq!(*admin, 200, "{body}");
    assert_eq!(
        body["acknowledgedBy"], "operator@example.org",
        "the first acknowledgement stays"
    );
    let audit = t.app.storage.audit_entries(None, 50).await.unwrap();
    let acks: Vec<_> = audit
        .iter()
        .filter(|e| e.action == "incident.ack")
        .collect();
    assert_eq!(acks.len(), 1, "{audit:?}");
    assert_eq!(acks[0].actor_email.as_deref(), Some("operator@example.org"));
    assert_eq!(acks[0].subject, format!("incident:{incident}"));
    let (status, e) = send(
        t,
        reqwest::Method::POST,
        &format!(
            "/api/v1/incidents/{}/ack",
            netpulse_app::service::new_uuid()
        ),
        &Value::Null,
    )
    .await;
    assert_eq!(status, 404, "{e}");
}

pub(crate) async fn alerting_input_errors_name_the_field(t: &TestApp) {
    let hook = Receiver::start(&[200]).await;
    let channel = webhook(t, "hook", &hook.url).await;
    let agent = t.probe("home").await;
    let c = t.connection(&agent.probe.id, "wan1", &[]).await;
    let bad = netpulse_app::service::new_uuid();
    let lists = "/api/v1/notifications/contact-lists";
    let alerting = format!("/api/v1/connections/{}/alerting", c.id);
    let cases: Vec<(reqwest::Method, String, Value, &str)> = vec![
        (
            reqwest::Method::PUT,
            "/api/v1/notifications/severities".into(),
            json!({"check": "urgent"}),
            "check",
        ),
        (
            reqwest::Method::PUT,
            "/api/v1/notifications/severities".into(),
            json!({"digest": "low"}),
            "digest",
        ),
        (
            reqwest::Method::POST,
            lists.into(),
            json!({"name": " ", "channelIds": []}),
            "name",
        ),
        (
            reqwest::Method::POST,
            lists.into(),
            json!({"name": "a", "channelIds": [], "reminderMinutes": 0}),
            "reminderMinutes",
        ),
        (
            reqwest::Method::POST,
            lists.into(),
            json!({"name": "a", "channelIds": [channel, bad]}),
            "channelIds[1]",
        ),
        (
            reqwest::Method::POST,
            lists.into(),
            json!({"name": "a", "channelIds": [], "minSeverity": "p1"}),
            "minSeverity",
        ),
        (
            reqwest::Method::PUT,
            alerting.clone(),
            json!({"severity": "urgent", "contactListId": null}),
            "severity",
        ),
        (
            reqwest::Method::PUT,
            alerting.clone(),
            json!({"severity": null, "contactListId": bad}),
            "contactListId",
        ),
        (
            reqwest::Method::PUT,
            "/api/v1/connections/nope/alerting".into(),
            json!({"severity": null, "contactListId": null}),
            "connectionId",
        ),
    ];
    for (method, path, body, field) in cases {
        let (status, e) = send(t, method.clone(), &path, &body).await;
        assert_eq!(status, 400, "{method} {path} {body}: {e}");
        assert_eq!(e["field"], field, "{method} {path} {body}: {e}");
    }
    let (status, e) = t.get("/api/v1/incidents?state=closed").await;
    assert_eq!((status, e["field"].as_str()), (400, Some("state")), "{e}");
    contact_list(t, &json!({"name": "dup", "channelIds": []})).await;
    let (status, e) = send(
        t,
        reqwest::Method::POST,
        lists,
        &json!({"name": "dup", "channelIds": []}),
    )
    .await;
    assert_eq!((status, e["field"].as_str()), (400, Some("name")), "{e}");
    let (status, e) = send(
        t,
        reqwest::Method::PUT,
        &format!("/api/v1/connections/{bad}/alerting"),
        &json!({"severity": null, "contactListId": null}),
    )
    .await;
    assert_eq!(status, 404, "{e}");
    // Nothing was stored by the refused requests.
    let (_, s) = t.get("/api/v1/notifications/severities").await;
    assert!(
        s["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|i| i["configured"].is_null()),
        "{s}"
    );
    let (_, r) = t.get(&alerting).await;
    assert_eq!(r, json!({"severity": null, "contactListId": null}));
}

pub(crate) async fn a_check_routes_to_its_list_with_its_own_severity(t: &TestApp) {
    use crate::checks::{create, push_checks, result};
    let pd = Receiver::start(&[202]).await;
    let other = Receiver::start(&[200]).await;
    let base = pd.url.trim_end_matches("/hook").to_owned();
    let (status, c) = send(
        t,
        reqwest::Method::POST,
        "/api/v1/notifications/channels",
        &json!({"name": "pd", "type": "pagerduty",
                "settings": {"routingKey": "R0123456789abcdef0123456789abcd", "url": base}}),
    )
    .await;
    assert_eq!(status, 201, "{c}");
    webhook(t, "other", &other.url).await;
    let list = contact_list(t, &json!({"name": "pager", "channelIds": [c["id"]]})).await;
    let agent = t.probe("home").await;
    let check = create(
        t,
        json!({"probeId": agent.probe.id.to_string(), "kind": "http",
               "target": "https://shop.example/", "family": "v4"}),
    )
    .await;
    let id = check["id"].as_str().unwrap().to_owned();
    let (status, r) = send(
        t,
        reqwest::Method::PUT,
        &format!("/api/v1/checks/{id}/alerting"),
        &json!({"severity": "high", "contactListId": list}),
    )
    .await;
    assert_eq!(status, 200, "{r}");
    let rounds: Vec<Value> = (1..=3)
        .map(|m| result(&id, &format!("2026-06-06T12:{m:02}:00.000Z"), "v4", "fail"))
        .collect();
    let (status, a) = push_checks(t, &agent, &json!({ "results": rounds })).await;
    assert_eq!(status, 200, "{a}");
    eventually("the check alert on PagerDuty", || pd.got().len() == 1).await;
    let event = pd.got()[0].json();
    assert_eq!(
        event["payload"]["severity"], "error",
        "HIGH instead of the checks' MEDIUM"
    );
    assert_eq!(event["payload"]["class"], "check");
    settle().await;
    assert!(other.got().is_empty(), "the check routes to its list only");
}
