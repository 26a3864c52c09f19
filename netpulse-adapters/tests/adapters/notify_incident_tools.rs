//! PagerDuty Events v2 and Opsgenie against loopback receivers that check the documented
//! request shapes: trigger and resolve (create and close) with one key per incident.

use netpulse_adapters::notify::{HttpClient, build};
use netpulse_domain::incident_severity::{AlertSource, IncidentSeverity};
use netpulse_ports::notify::{ChannelKind, IncidentRef, Notification, NotificationKind};
use serde_json::Value;

use super::notify_channels::{Received, alert, config, receiver};

fn with_incident(mut n: Notification, key: &str, severity: IncidentSeverity) -> Notification {
    n.incident = Some(IncidentRef {
        key: key.into(),
        severity,
        source: AlertSource::Connection,
        started_at: Some(n.at.plus_seconds(-300)),
        site: Some("berlin".into()),
        check: None,
        family: None,
    });
    n
}

fn recovery(of: &Notification) -> Notification {
    let mut n = Notification::new(
        NotificationKind::Recovery,
        "[NetPulse] home/wän1 recovered",
        "ok",
        of.at.plus_seconds(600),
    );
    n.probe.clone_from(&of.probe);
    n.connection.clone_from(&of.connection);
    n.incident.clone_from(&of.incident);
    n
}

/// The keys of a JSON object.
fn keys(v: &Value) -> Vec<&str> {
    v.as_object()
        .unwrap_or_else(|| panic!("not an object: {v}"))
        .keys()
        .map(String::as_str)
        .collect()
}

/// Checks a PagerDuty Events v2 event against the documented shape
/// (developer.pagerduty.com, "Send an Alert Event" / "Send a Resolve Event").
fn pagerduty_shape(r: &Received) -> Value {
    assert_eq!(r.method, "POST");
    assert_eq!(r.path, "/v2/enqueue");
    assert_eq!(r.header("content-type"), Some("application/json"));
    let v = r.json();
    for k in keys(&v) {
        assert!(
            [
                "routing_key",
                "event_action",
                "dedup_key",
                "payload",
                "images",
                "links",
                "client",
                "client_url"
            ]
            .contains(&k),
            "undocumented key {k}"
        );
    }
    assert!(v["routing_key"].as_str().is_some_and(|k| k.len() == 32));
    let key = v["dedup_key"].as_str().expect("dedup_key");
    assert!(!key.is_empty() && key.len() <= 255);
    match v["event_action"].as_str().unwrap() {
        "trigger" => {
            let p = &v["payload"];
            for k in keys(p) {
                assert!(
                    [
                        "summary",
                        "source",
                        "severity",
                        "timestamp",
                        "component",
                        "group",
                        "class",
                        "custom_details"
                    ]
                    .contains(&k),
                    "undocumented payload key {k}"
                );
            }
            let summary = p["summary"].as_str().expect("summary");
            assert!(!summary.is_empty() && summary.chars().count() <= 1024);
            assert!(!p["source"].as_str().unwrap().is_empty());
            assert!(
                ["critical", "error", "warning", "info"].contains(&p["severity"].as_str().unwrap())
            );
            if let Some(ts) = p["timestamp"].as_str() {
                assert!(
                    netpulse_domain::Timestamp::parse_rfc3339(ts).is_ok(),
                    "{ts}"
                );
            }
            for l in v["links"].as_array().into_iter().flatten() {
                assert!(l["href"].as_str().unwrap().starts_with("http"));
            }
        }
        "resolve" | "acknowledge" => {
            assert!(v.get("payload").is_none(), "a resolve carries no payload");
        }
        other => panic!("unknown event_action {other}"),
    }
    v
}

#[tokio::test]
async fn pagerduty_triggers_and_resolves_with_one_dedup_key_per_incident() {
    let r = receiver(vec![202]).await;
    let key = "0123456789abcdef0123456789abcdef";
    let c = config(
        ChannelKind::Pagerduty,
        &[("url", &r.base)],
        &[("routingKey", key)],
    );
    let channel = build(&c, &HttpClient::new()).unwrap();
    let fire = with_incident(alert(), "inc-1", IncidentSeverity::High);
    channel.send(&fire).await.unwrap();
    channel.send(&recovery(&fire)).await.unwrap();
    let other = with_incident(alert(), "inc-2", IncidentSeverity::Critical);
    channel.send(&other).await.unwrap();
    let got: Vec<Value> = r.taken().iter().map(pagerduty_shape).collect();
    assert_eq!(got.len(), 3);
    assert_eq!(got[0]["event_action"], "trigger");
    assert_eq!(got[0]["routing_key"], key);
    assert_eq!(got[0]["payload"]["severity"], "error");
    assert_eq!(got[0]["payload"]["source"], "home");
    assert_eq!(got[0]["payload"]["component"], "wän1");
    assert_eq!(got[0]["payload"]["group"], "berlin");
    assert_eq!(got[0]["payload"]["custom_details"]["severity"], "HIGH");
    assert_eq!(
        got[0]["links"][0]["href"],
        "https://np.example/measurements/r-1"
    );
    assert_eq!(got[1]["event_action"], "resolve");
    assert_eq!(got[1]["dedup_key"], got[0]["dedup_key"]);
    assert_eq!(got[2]["payload"]["severity"], "critical");
    assert_ne!(got[2]["dedup_key"], got[0]["dedup_key"]);

    // A test message opens and closes a throw-away incident.
    let before = r.taken().len();
    let test = Notification::new(NotificationKind::Test, "test", "test", fire.at);
    channel.send(&test).await.unwrap();
    let t: Vec<Value> = r.taken()[before..].iter().map(pagerduty_shape).collect();
    assert_eq!(t.len(), 2);
    assert_eq!(
        (t[0]["event_action"].as_str(), t[1]["event_action"].as_str()),
        (Some("trigger"), Some("resolve"))
    );
    assert_eq!(t[0]["dedup_key"], t[1]["dedup_key"]);
    // Digests are not incidents: refused for good, nothing sent.
    let digest = Notification::new(NotificationKind::Digest, "d", "d", fire.at);
    assert!(!channel.send(&digest).await.unwrap_err().retryable());
    assert_eq!(r.taken().len(), before + 2);
}

#[tokio::test]
async fn pagerduty_rate_limits_are_retried_and_bad_requests_are_not() {
    let r = receiver(vec![429, 400]).await;
    let c = config(
        ChannelKind::Pagerduty,
        &[("url", &r.base)],
        &[("routingKey", "0123456789abcdef0123456789abcdef")],
    );
    let channel = build(&c, &HttpClient::new()).unwrap();
    let fire = with_incident(alert(), "inc-1", IncidentSeverity::Low);
    assert!(channel.send(&fire).await.unwrap_err().retryable());
    assert!(!channel.send(&fire).await.unwrap_err().retryable());
}

/// Checks an Opsgenie Alert API request against the documented shape
/// (docs.opsgenie.com, Alert API: "Create Alert", "Close Alert").
fn opsgenie_shape(r: &Received) -> Value {
    assert_eq!(r.method, "POST");
    assert_eq!(r.header("authorization"), Some("GenieKey og-key-1"));
    assert_eq!(r.header("content-type"), Some("application/json"));
    let v = r.json();
    if r.path == "/v2/alerts" {
        for k in keys(&v) {
            assert!(
                [
                    "message",
                    "alias",
                    "description",
                    "responders",
                    "visibleTo",
                    "actions",
                    "tags",
                    "details",
                    "entity",
                    "source",
                    "priority",
                    "user",
                    "note"
                ]
                .contains(&k),
                "undocumented key {k}"
            );
        }
        let message = v["message"].as_str().expect("message");
        assert!(!message.is_empty() && message.chars().count() <= 130);
        assert!(v["alias"].as_str().unwrap().len() <= 512);
        assert!(v["description"].as_str().unwrap().chars().count() <= 15000);
        assert!(["P1", "P2", "P3", "P4", "P5"].contains(&v["priority"].as_str().unwrap()));
        for t in v["tags"].as_array().unwrap() {
            assert!(t.as_str().unwrap().len() <= 50);
        }
        for (_, d) in v["details"].as_object().unwrap() {
            assert!(d.is_string(), "details are strings: {d}");
        }
        for resp in v["responders"].as_array().into_iter().flatten() {
            assert!(
                ["team", "user", "escalation", "schedule"]
                    .contains(&resp["type"].as_str().unwrap())
            );
        }
    } else {
        let (path, query) = r.path.split_once('?').expect("a query");
        assert_eq!(query, "identifierType=alias");
        let alias = path
            .strip_prefix("/v2/alerts/")
            .and_then(|p| p.strip_suffix("/close"))
            .unwrap_or_else(|| panic!("not a close: {}", r.path));
        assert!(!alias.is_empty());
        for k in keys(&v) {
            assert!(
                ["user", "source", "note"].contains(&k),
                "undocumented key {k}"
            );
        }
    }
    v
}

#[tokio::test]
async fn opsgenie_creates_and_closes_by_alias() {
    let r = receiver(vec![202]).await;
    let c = config(
        ChannelKind::Opsgenie,
        &[("url", &r.base), ("team", "noc")],
        &[("apiKey", "og-key-1")],
    );
    let channel = build(&c, &HttpClient::new()).unwrap();
    let fire = with_incident(alert(), "inc-7", IncidentSeverity::Medium);
    channel.send(&fire).await.unwrap();
    channel.send(&recovery(&fire)).await.unwrap();
    let got = r.taken();
    let bodies: Vec<Value> = got.iter().map(opsgenie_shape).collect();
    assert_eq!(got[0].path, "/v2/alerts");
    assert_eq!(bodies[0]["alias"], "inc-7");
    assert_eq!(bodies[0]["priority"], "P3");
    assert_eq!(bodies[0]["entity"], "wän1");
    assert_eq!(bodies[0]["responders"][0]["name"], "noc");
    assert_eq!(bodies[0]["details"]["site"], "berlin");
    assert_eq!(bodies[0]["details"]["severity"], "MEDIUM");
    assert_eq!(got[1].path, "/v2/alerts/inc-7/close?identifierType=alias");
    assert_eq!(got.len(), 2);
}
