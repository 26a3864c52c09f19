//! Notifications end to end: the real server, results pushed through the agent API, a channel
//! created through the REST API pointing at a webhook receiver on a loopback port.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use netpulse_adapters::notify::webhook_signature;
use netpulse_domain::model::Connection;
use poem::listener::{Acceptor, Listener, TcpListener};
use poem::{EndpointExt, Request, Response, Route, handler};
use serde_json::{Value, json};

use crate::helpers::{Agent, TestApp, ookla_stdout, push_body};

/// A request the receiver got.
#[derive(Debug, Clone)]
pub(crate) struct Got {
    pub(crate) path: String,
    pub(crate) signature: Option<String>,
    pub(crate) body: String,
}

impl Got {
    pub(crate) fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap()
    }
}

#[derive(Clone)]
struct Script {
    statuses: Arc<Mutex<Vec<u16>>>,
    got: Arc<Mutex<Vec<Got>>>,
}

#[handler]
#[allow(clippy::needless_pass_by_value)] // poem extractors are taken by value
fn receive(req: &Request, body: String, script: poem::web::Data<&Script>) -> Response {
    script.got.lock().unwrap().push(Got {
        path: req.uri().path().to_owned(),
        signature: req
            .headers()
            .get("x-netpulse-signature")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
        body,
    });
    let status = {
        let mut s = script.statuses.lock().unwrap();
        if s.len() > 1 { s.remove(0) } else { s[0] }
    };
    Response::builder()
        .status(poem::http::StatusCode::from_u16(status).unwrap())
        .body("{}")
}

/// A webhook receiver on a loopback port answering the given statuses in turn (the last one
/// repeats).
pub(crate) struct Receiver {
    pub(crate) url: String,
    got: Arc<Mutex<Vec<Got>>>,
}

impl Receiver {
    pub(crate) async fn start(statuses: &[u16]) -> Self {
        let script = Script {
            statuses: Arc::new(Mutex::new(statuses.to_vec())),
            got: Arc::new(Mutex::new(Vec::new())),
        };
        let acceptor = TcpListener::bind("127.0.0.1:0")
            .into_acceptor()
            .await
            .unwrap();
        let addr = acceptor.local_addr()[0].as_socket_addr().copied().unwrap();
        let got = script.got.clone();
        tokio::spawn(
            poem::Server::new_with_acceptor(acceptor)
                .run(Route::new().at("/*path", receive).data(script)),
        );
        Self {
            url: format!("http://{addr}/hook"),
            got,
        }
    }

    pub(crate) fn got(&self) -> Vec<Got> {
        self.got.lock().unwrap().clone()
    }

    pub(crate) fn kinds(&self) -> Vec<String> {
        self.got()
            .iter()
            .map(|g| g.json()["kind"].as_str().unwrap_or_default().to_owned())
            .collect()
    }
}

/// Waits (up to 10 s) until `check` holds.
pub(crate) async fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    for _ in 0..200 {
        if check() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out waiting for {what}");
}

/// Lets the background tasks run a few rounds (to show that nothing more arrives).
async fn settle() {
    tokio::time::sleep(Duration::from_millis(400)).await;
}

async fn webhook_channel(t: &TestApp, url: &str, extra: Value) -> Value {
    let mut body = json!({
        "name": "hook",
        "type": "webhook",
        "settings": {"url": url, "secret": "hmac-key-123"},
    });
    if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
        for (k, v) in e {
            b.insert(k.clone(), v.clone());
        }
    }
    let (status, channel) = t
        .send(
            reqwest::Method::POST,
            "/api/v1/notifications/channels",
            &body,
        )
        .await;
    assert_eq!(status, 201, "{channel}");
    channel
}

fn failed_body(t: &TestApp, c: &Connection) -> Value {
    push_body(
        t.clock_now(),
        c,
        None,
        r#"{"type":"log","level":"error","message":"Cannot open socket"}"#,
        2,
        true,
    )
}

fn healthy_body(t: &TestApp, c: &Connection) -> Value {
    push_body(
        t.clock_now(),
        c,
        None,
        &ookla_stdout().replace("6181475", "60000000"),
        0,
        true,
    )
}

async fn push(t: &TestApp, agent: &Agent, body: &Value) {
    let (status, r) = t.push(agent, body).await;
    assert_eq!(status, 201, "{r}");
}

pub(crate) async fn three_unhealthy_results_alert_once_and_one_healthy_recovers_once(t: &TestApp) {
    let hook = Receiver::start(&[200]).await;
    webhook_channel(t, &hook.url, json!({})).await;
    let agent = t.probe("home").await;
    let c = t.connection(&agent.probe.id, "wan1", &[]).await;
    for _ in 0..2 {
        push(t, &agent, &failed_body(t, &c)).await;
        t.clock.advance_seconds(300);
    }
    settle().await;
    assert!(hook.got().is_empty(), "two failures are not an edge yet");
    // The third is an unhealthy *completed* run (a run-now one): a breach counts like a failure.
    let slow = push_body(t.clock_now(), &c, None, &ookla_stdout(), 0, false);
    push(t, &agent, &slow).await;
    eventually("the alert", || hook.got().len() == 1).await;
    let alert = &hook.got()[0];
    assert_eq!(alert.path, "/hook");
    assert_eq!(
        alert.signature.as_deref(),
        Some(webhook_signature("hmac-key-123", alert.body.as_bytes()).as_str())
    );
    let body = alert.json();
    assert_eq!(body["kind"], "alert");
    assert_eq!(body["severity"], "critical");
    assert_eq!(body["subject"], "[NetPulse] home/wan1 is unhealthy");
    assert_eq!(body["connection"]["id"], c.id.as_str());
    assert_eq!(body["probe"]["name"], "home");
    assert_eq!(body["verdict"], "unhealthy");
    assert_eq!(body["breaches"], json!(["upload_below"]));
    assert_eq!(body["result"]["id"], slow["resultId"]);
    assert!(
        body["links"]["share"]
            .as_str()
            .unwrap()
            .starts_with("https://www.speedtest.net/result/")
    );
    // More bad results: no second alert.
    t.clock.advance_seconds(300);
    push(t, &agent, &failed_body(t, &c)).await;
    settle().await;
    assert_eq!(hook.kinds(), ["alert"]);
    // One healthy result: exactly one recovery.
    t.clock.advance_seconds(300);
    push(t, &agent, &healthy_body(t, &c)).await;
    eventually("the recovery", || hook.got().len() == 2).await;
    t.clock.advance_seconds(300);
    push(t, &agent, &healthy_body(t, &c)).await;
    settle().await;
    assert_eq!(hook.kinds(), ["alert", "recovery"]);
    let recovery = hook.got()[1].json();
    assert_eq!(recovery["subject"], "[NetPulse] home/wan1 recovered");
    assert!(
        recovery["body"]
            .as_str()
            .unwrap()
            .contains("It was unhealthy for"),
        "{recovery}"
    );
    // The delivery log shows both, sent; the counter counted both.
    let (_, log) = t.get("/api/v1/notifications/deliveries").await;
    let statuses: Vec<(&str, &str)> = log["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["kind"].as_str().unwrap(), d["status"].as_str().unwrap()))
        .collect();
    assert_eq!(statuses, [("recovery", "sent"), ("alert", "sent")]);
    assert_eq!(t.notify.counter().get("alert", "webhook", "sent"), 1);
    assert_eq!(t.notify.counter().get("recovery", "webhook", "sent"), 1);
    // The incident is in the history data.
    let (_, incidents) = t
        .get(&format!("/api/v1/incidents?connection={}", c.id))
        .await;
    let items = incidents["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["announced"], true);
    assert!(items[0]["closedAt"].is_string());
}

pub(crate) async fn a_silent_probe_raises_one_offline_alert_and_one_back(t: &TestApp) {
    let hook = Receiver::start(&[200]).await;
    webhook_channel(t, &hook.url, json!({})).await;
    let agent = t.probe("attic").await;
    assert_eq!(t.due(&agent).await.0, 200);
    t.clock.advance_seconds(150);
    settle().await;
    assert!(
        hook.got().is_empty(),
        "more than 2 × 60 s + 30 s of silence is needed (poll interval 60 s)"
    );
    t.clock.advance_seconds(1);
    eventually("the offline alert", || hook.got().len() == 1).await;
    let body = hook.got()[0].json();
    assert_eq!(body["kind"], "probe_offline");
    assert_eq!(body["severity"], "critical");
    assert_eq!(body["subject"], "[NetPulse] probe attic is offline");
    assert_eq!(body["probe"]["id"], agent.probe.id.as_str());
    t.clock.advance_seconds(3600);
    settle().await;
    assert_eq!(
        hook.kinds(),
        ["probe_offline"],
        "one alert, however long the silence"
    );
    assert_eq!(t.due(&agent).await.0, 200);
    eventually("the back message", || hook.got().len() == 2).await;
    settle().await;
    assert_eq!(hook.kinds(), ["probe_offline", "probe_back"]);
}

pub(crate) async fn a_delivery_is_retried_after_500_then_sent(t: &TestApp) {
    let hook = Receiver::start(&[500, 200]).await;
    webhook_channel(t, &hook.url, json!({})).await;
    let agent = t.probe("home").await;
    let c = t.connection(&agent.probe.id, "wan1", &[]).await;
    for _ in 0..3 {
        push(t, &agent, &failed_body(t, &c)).await;
    }
    eventually("the first attempt", || hook.got().len() == 1).await;
    settle().await;
    let (_, log) = t.get("/api/v1/notifications/deliveries").await;
    let d = &log["items"][0];
    assert_eq!(
        (d["status"].as_str(), d["attempts"].as_u64()),
        (Some("pending"), Some(1)),
        "{d}"
    );
    assert!(d["lastError"].as_str().unwrap().contains("500"), "{d}");
    assert_eq!(hook.got().len(), 1, "no retry before the back-off (30 s)");
    t.clock.advance_seconds(30);
    eventually("the retry", || hook.got().len() == 2).await;
    eventually("the log to say sent", || {
        t.notify.counter().get("alert", "webhook", "sent") == 1
    })
    .await;
    // The counter and the log are written one after the other: wait for the log too.
    let mut log = Value::Null;
    for _ in 0..200 {
        log = t.get("/api/v1/notifications/deliveries").await.1;
        if log["items"][0]["status"] == "sent" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    let d = &log["items"][0];
    assert_eq!(
        (d["status"].as_str(), d["attempts"].as_u64()),
        (Some("sent"), Some(2)),
        "{d}"
    );
    assert_eq!(
        hook.got()[0].body,
        hook.got()[1].body,
        "the same message is retried"
    );
}

pub(crate) async fn a_permanent_failure_is_logged_and_counted_and_others_still_deliver(
    t: &TestApp,
) {
    let broken = Receiver::start(&[404]).await;
    let good = Receiver::start(&[200]).await;
    webhook_channel(t, &broken.url, json!({"name": "broken"})).await;
    webhook_channel(t, &good.url, json!({"name": "good"})).await;
    let agent = t.probe("home").await;
    let c = t.connection(&agent.probe.id, "wan1", &[]).await;
    for _ in 0..3 {
        push(t, &agent, &failed_body(t, &c)).await;
    }
    eventually("the good channel", || good.got().len() == 1).await;
    eventually("the failure to be counted", || {
        t.notify.counter().get("alert", "webhook", "failed") == 1
    })
    .await;
    settle().await;
    assert_eq!(broken.got().len(), 1, "a 404 is not retried");
    let (_, log) = t.get("/api/v1/notifications/deliveries").await;
    let mut lines: Vec<(String, String)> = log["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["channelName"].as_str().unwrap().to_owned(),
                d["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    lines.sort();
    assert_eq!(
        lines,
        [
            ("broken".to_owned(), "failed".to_owned()),
            ("good".to_owned(), "sent".to_owned())
        ]
    );
    let failed = log["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["status"] == "failed")
        .unwrap();
    assert!(
        failed["lastError"].as_str().unwrap().contains("404"),
        "{failed}"
    );
    assert_eq!(t.notify.counter().get("alert", "webhook", "sent"), 1);
}

pub(crate) async fn channels_api_keeps_secrets_write_only(t: &TestApp) {
    let hook = Receiver::start(&[200]).await;
    let created = webhook_channel(t, &hook.url, json!({"events": ["alert"], "quietHours": {"start": "22:00", "end": "07:00", "timezone": "Europe/Berlin"}})).await;
    let text = created.to_string();
    assert!(
        !text.contains("hmac-key-123") && !text.contains("/hook"),
        "{text}"
    );
    assert_eq!(created["secretsSet"], json!(["secret", "url"]));
    assert_eq!(created["events"], json!(["alert"]));
    assert_eq!(created["quietHours"]["end"], "07:00");
    let id = created["id"].as_str().unwrap();
    // Stored sealed: the database never holds the secret in clear.
    let stored = t.app.storage.channel(id).await.unwrap().unwrap();
    let sealed = stored.sealed_secrets.unwrap();
    assert!(sealed.starts_with("v1:") && !sealed.contains("hmac-key-123"));
    // The test button sends now.
    let (status, result) = t
        .send(
            reqwest::Method::POST,
            &format!("/api/v1/notifications/channels/{id}/test"),
            &json!({}),
        )
        .await;
    assert_eq!((status, &result["sent"]), (200, &json!(true)), "{result}");
    let got = hook.got();
    assert_eq!(got[0].json()["kind"], "test");
    assert_eq!(
        got[0].signature.as_deref(),
        Some(webhook_signature("hmac-key-123", got[0].body.as_bytes()).as_str())
    );
    // A change keeps omitted secrets; null removes one.
    let (status, changed) = t
        .send(
            reqwest::Method::PATCH,
            &format!("/api/v1/notifications/channels/{id}"),
            &json!({"name": "renamed", "settings": {"secret": null}, "quietHours": null}),
        )
        .await;
    assert_eq!(status, 200, "{changed}");
    assert_eq!(changed["secretsSet"], json!(["url"]));
    assert_eq!(changed["quietHours"], Value::Null);
    let (_, result) = t
        .send(
            reqwest::Method::POST,
            &format!("/api/v1/notifications/channels/{id}/test"),
            &json!({}),
        )
        .await;
    assert_eq!(result["sent"], true);
    assert_eq!(
        hook.got()[1].signature,
        None,
        "unsigned once the secret is removed"
    );
    // Errors name the field.
    for (body, field) in [
        (json!({"name": "x", "type": "pager"}), "type"),
        (
            json!({"name": "x", "type": "webhook", "settings": {"url": "ftp://x"}}),
            "settings.url",
        ),
        (
            json!({"name": "x", "type": "webhook", "settings": {}}),
            "settings.url",
        ),
        (
            json!({"name": "x", "type": "webhook", "settings": {"url": "http://h", "colour": "red"}}),
            "settings.colour",
        ),
        (
            json!({"name": "x", "type": "email", "settings": {"host": "h", "from": "a@b.c", "to": 5}}),
            "settings.to",
        ),
        (
            json!({"name": "x", "type": "email", "settings": {"host": "h", "from": "a@b.c", "to": ["bad"]}}),
            "settings.to",
        ),
        (
            json!({"name": "x", "type": "webhook", "settings": {"url": "http://h"}, "events": ["alert", "nope"]}),
            "events[1]",
        ),
        (
            json!({"name": "x", "type": "webhook", "settings": {"url": "http://h"}, "quietHours": {"start": "25:00", "end": "07:00"}}),
            "quietHours.start",
        ),
        (json!({"name": "", "type": "webhook"}), "name"),
    ] {
        let (status, problem) = t
            .send(
                reqwest::Method::POST,
                "/api/v1/notifications/channels",
                &body,
            )
            .await;
        assert_eq!(
            (status, problem["field"].as_str()),
            (400, Some(field)),
            "{body}: {problem}"
        );
    }
    let (_, types) = t.get("/api/v1/notifications/channel-types").await;
    assert_eq!(
        types["items"].as_array().unwrap().len(),
        netpulse_ports::notify::ChannelKind::ALL.len()
    );
    let (status, _) = t
        .send(
            reqwest::Method::DELETE,
            &format!("/api/v1/notifications/channels/{id}"),
            &json!({}),
        )
        .await;
    assert_eq!(status, 204);
    assert_eq!(
        t.get(&format!("/api/v1/notifications/channels/{id}"))
            .await
            .0,
        404
    );
    // Settings.
    let (status, s) = t
        .send(reqwest::Method::PATCH, "/api/v1/notifications/settings", &json!({"alertAfter": 2, "digestDaily": true, "digestTime": "07:30", "digestWeekday": "sun", "digestTimezone": "Europe/Berlin"}))
        .await;
    assert_eq!(status, 200, "{s}");
    assert_eq!(
        (s["alertAfter"].as_u64(), s["digestWeekday"].as_str()),
        (Some(2), Some("sun"))
    );
    for (body, field) in [
        (json!({"alertAfter": 0}), "alertAfter"),
        (json!({"digestTime": "7:30"}), "digestTime"),
        (json!({"digestTimezone": "Mars/Base"}), "digestTimezone"),
        (json!({"logRetentionDays": 0}), "logRetentionDays"),
        (json!({"publicUrl": "example.com"}), "publicUrl"),
        (json!({"colour": 1}), "colour"),
    ] {
        let (status, problem) = t
            .send(
                reqwest::Method::PATCH,
                "/api/v1/notifications/settings",
                &body,
            )
            .await;
        assert_eq!(
            (status, problem["field"].as_str()),
            (400, Some(field)),
            "{body}: {problem}"
        );
    }
}

pub(crate) async fn the_global_threshold_and_the_master_switch_apply(t: &TestApp) {
    let hook = Receiver::start(&[200]).await;
    webhook_channel(t, &hook.url, json!({})).await;
    let (status, _) = t
        .send(
            reqwest::Method::PATCH,
            "/api/v1/notifications/settings",
            &json!({"alertAfter": 1, "enabled": false}),
        )
        .await;
    assert_eq!(status, 200);
    let agent = t.probe("home").await;
    let c = t.connection(&agent.probe.id, "wan1", &[]).await;
    push(t, &agent, &failed_body(t, &c)).await;
    settle().await;
    assert!(hook.got().is_empty(), "notifications are off");
    // Switched on while still unhealthy: the held alert is sent by housekeeping, once.
    t.send(
        reqwest::Method::PATCH,
        "/api/v1/notifications/settings",
        &json!({"enabled": true}),
    )
    .await;
    eventually("the held alert", || hook.got().len() == 1).await;
    assert!(
        hook.got()[0].json()["body"]
            .as_str()
            .unwrap()
            .contains("held back")
    );
    push(t, &agent, &failed_body(t, &c)).await;
    settle().await;
    assert_eq!(hook.kinds(), ["alert"]);
}

pub(crate) async fn maintenance_holds_alerts_until_it_ends(t: &TestApp) {
    let hook = Receiver::start(&[200]).await;
    webhook_channel(t, &hook.url, json!({})).await;
    let agent = t.probe("home").await;
    let c = t.connection(&agent.probe.id, "wan1", &[]).await;
    let now = t.clock_now();
    let (status, w) = t
        .send(
            reqwest::Method::POST,
            &format!("/api/v1/connections/{}/maintenance-windows", c.id),
            &json!({"startsAt": now.plus_seconds(-60).to_rfc3339(), "endsAt": now.plus_seconds(3600).to_rfc3339(), "note": "ISP works"}),
        )
        .await;
    assert_eq!(status, 201, "{w}");
    let (status, bad) = t
        .send(
            reqwest::Method::POST,
            &format!("/api/v1/connections/{}/maintenance-windows", c.id),
            &json!({"startsAt": now.to_rfc3339(), "endsAt": now.to_rfc3339()}),
        )
        .await;
    assert_eq!((status, bad["field"].as_str()), (400, Some("endsAt")));
    for _ in 0..3 {
        push(t, &agent, &failed_body(t, &c)).await;
    }
    settle().await;
    assert!(hook.got().is_empty(), "no alert during maintenance");
    // The window is in the history data.
    let (_, list) = t
        .get(&format!("/api/v1/maintenance-windows?connection={}", c.id))
        .await;
    assert_eq!(list["items"][0]["note"], "ISP works");
    // After the window, still unhealthy: one alert.
    t.clock.advance_seconds(3600);
    eventually("the alert after maintenance", || hook.got().len() == 1).await;
    settle().await;
    assert_eq!(hook.kinds(), ["alert"]);
    // A recovery inside a later window is still sent (its alert was announced).
    push(t, &agent, &healthy_body(t, &c)).await;
    eventually("the recovery", || hook.got().len() == 2).await;
}

pub(crate) async fn quiet_hours_hold_recoveries_but_not_alerts(t: &TestApp) {
    let hook = Receiver::start(&[200]).await;
    // Quiet from the current UTC minute for one hour.
    let now = t.clock_now().unix_seconds();
    let minute = |s: i64| format!("{:02}:{:02}", (s / 3600) % 24, (s / 60) % 60);
    webhook_channel(
        t,
        &hook.url,
        json!({"quietHours": {"start": minute(now), "end": minute(now + 3600), "timezone": "UTC"}}),
    )
    .await;
    let agent = t.probe("home").await;
    let c = t.connection(&agent.probe.id, "wan1", &[]).await;
    for _ in 0..3 {
        push(t, &agent, &failed_body(t, &c)).await;
    }
    eventually("the alert, critical, through quiet hours", || {
        hook.got().len() == 1
    })
    .await;
    push(t, &agent, &healthy_body(t, &c)).await;
    settle().await;
    assert_eq!(hook.kinds(), ["alert"], "the recovery is held");
    let (_, log) = t.get("/api/v1/notifications/deliveries").await;
    assert_eq!(log["items"][0]["status"], "held");
    t.clock.advance_seconds(3600);
    eventually("the held recovery", || hook.got().len() == 2).await;
    assert_eq!(hook.kinds(), ["alert", "recovery"]);
}

pub(crate) async fn digests_summarize_the_day_and_skip_empty_days(t: &TestApp) {
    let hook = Receiver::start(&[200]).await;
    webhook_channel(t, &hook.url, json!({"events": ["digest"]})).await;
    let now = t.clock_now().unix_seconds();
    // The digest slot is the next whole minute + 2 (UTC).
    let slot = (now / 60 + 2) * 60;
    let at = format!("{:02}:{:02}", (slot / 3600) % 24, (slot / 60) % 60);
    let (status, _) = t
        .send(
            reqwest::Method::PATCH,
            "/api/v1/notifications/settings",
            &json!({"digestDaily": true, "digestTime": at, "digestTimezone": "UTC"}),
        )
        .await;
    assert_eq!(status, 200);
    settle().await; // housekeeping schedules the first slot
    t.clock.advance_seconds(slot - now + 1);
    settle().await;
    assert!(hook.got().is_empty(), "no data: no digest");
    let agent = t.probe("home").await;
    let c = t.connection(&agent.probe.id, "wan1", &[]).await;
    push(t, &agent, &healthy_body(t, &c)).await;
    push(t, &agent, &failed_body(t, &c)).await;
    t.clock.advance_seconds(86_400);
    eventually("the digest", || hook.got().len() == 1).await;
    let body = hook.got()[0].json();
    assert_eq!(body["kind"], "digest");
    assert_eq!(body["subject"], "[NetPulse] daily digest — 1 connection");
    let text = body["body"].as_str().unwrap();
    assert!(
        text.contains("- home/wan1: down 931.6 Mbps (p5 931.6 Mbps), up 480.0 Mbps"),
        "{text}"
    );
    assert!(
        text.contains("uptime 50.0 % (2 tests, 1 failures)"),
        "{text}"
    );
    settle().await;
    assert_eq!(hook.got().len(), 1, "one digest per slot");
}

/// Two server processes on one PostgreSQL (two pools, two notification services, two HTTP
/// servers) take results concurrently: exactly one alert and one recovery arrive.
pub(crate) async fn two_processes_send_one_alert_per_edge(t: &TestApp) {
    let hook = Receiver::start(&[200]).await;
    webhook_channel(t, &hook.url, json!({})).await;
    let storage = netpulse_adapters::storage::open(&t.db_url).await.unwrap();
    let (second, _notify, _tasks) = crate::helpers::app_over(storage, t.clock.clone());
    let agent = t.probe("home").await;
    let c = t.connection(&agent.probe.id, "wan1", &[]).await;
    let submission = |body: &Value| netpulse_ports::agent_api::ResultPush {
        result_id: netpulse_domain::id::ResultId::parse(body["resultId"].as_str().unwrap())
            .unwrap(),
        connection_id: c.id.clone(),
        task_id: None,
        engine: netpulse_domain::pool::Engine::Ookla,
        pool_entry: None,
        started_at: t.clock_now().plus_seconds(-30),
        finished_at: t.clock_now(),
        scheduled: true,
        raw: netpulse_domain::model::RawOutput {
            exit_code: Some(2),
            stdout: body["stdout"].as_str().unwrap().to_owned(),
            stderr: String::new(),
        },
    };
    for round in 0..3 {
        // Each round, both processes record a failure at the same moment.
        let (a, b) = (failed_body(t, &c), failed_body(t, &c));
        let (x, y) = tokio::join!(
            t.push(&agent, &a),
            netpulse_app::service::ingest::ingest(&second, &agent.probe.id, submission(&b))
        );
        assert_eq!(x.0, 201, "round {round}");
        y.unwrap();
    }
    eventually("the alert", || !hook.got().is_empty()).await;
    settle().await;
    assert_eq!(hook.kinds(), ["alert"]);
    let healthy = healthy_body(t, &c);
    let mut s = submission(&healthy);
    s.raw.exit_code = Some(0);
    let pushed = healthy_body(t, &c);
    let (x, y) = tokio::join!(
        t.push(&agent, &pushed),
        netpulse_app::service::ingest::ingest(&second, &agent.probe.id, s)
    );
    assert_eq!(x.0, 201);
    y.unwrap();
    eventually("the recovery", || hook.got().len() == 2).await;
    settle().await;
    assert_eq!(hook.kinds(), ["alert", "recovery"]);
}

/// Before the notification settings are first saved, the digest's time zone is the site's
/// (UTC until a site zone is set); once saved, it is what was saved.
pub(crate) async fn the_digest_zone_defaults_to_the_sites(t: &TestApp) {
    let zone = |s: &Value| s["digestTimezone"].as_str().map(str::to_owned);
    let (status, s) = t.get("/api/v1/notifications/settings").await;
    assert_eq!(status, 200, "{s}");
    assert_eq!(zone(&s).as_deref(), Some("UTC"));
    let general = netpulse_app::service::settings::General::check("", "Asia/Kolkata").unwrap();
    netpulse_app::service::settings::save_general(&t.app, &general)
        .await
        .unwrap();
    let (_, s) = t.get("/api/v1/notifications/settings").await;
    assert_eq!(zone(&s).as_deref(), Some("Asia/Kolkata"));
    // A first save of something else keeps the site's zone for the digest.
    let (status, s) = t
        .send(
            reqwest::Method::PATCH,
            "/api/v1/notifications/settings",
            &json!({"digestDaily": true}),
        )
        .await;
    assert_eq!(status, 200, "{s}");
    assert_eq!(zone(&s).as_deref(), Some("Asia/Kolkata"));
    // Saved settings keep their zone when the site's changes.
    let general = netpulse_app::service::settings::General::check("", "Europe/Berlin").unwrap();
    netpulse_app::service::settings::save_general(&t.app, &general)
        .await
        .unwrap();
    let (_, s) = t.get("/api/v1/notifications/settings").await;
    assert_eq!(zone(&s).as_deref(), Some("Asia/Kolkata"));
}
