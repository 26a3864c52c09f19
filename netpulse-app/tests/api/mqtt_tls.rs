//! MQTT over TLS against a real `mosquitto` with a TLS listener whose certificate (for
//! `127.0.0.1` only) is signed by a CA the test generates: the custom CA setting (`caPem`,
//! validated, stored in the settings row, shown) makes `mqtts://` work with a private CA; a
//! wrong CA or a host name the certificate does not name is refused, and the refusal shows in
//! the status counters and error. The publisher's connection, failures and drops are
//! `/metrics` series read from memory.
#![allow(clippy::float_cmp)] // the values compared are exact (0 or 1, or whole counts)

use std::time::{Duration, Instant};

use netpulse_adapters::testing_mqtt::{Mosquitto, PASSWORD, Subscriber, TestCa, USER};
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::TestApp;

async fn put(t: &TestApp, body: &Value) -> (u16, Value) {
    t.send(Method::PUT, "/api/v1/integrations/mqtt", body).await
}

fn tls_body(url: &str, ca: Option<&str>) -> Value {
    json!({
        "enabled": true, "brokerUrl": url, "clientId": "netpulse-tls-test",
        "user": USER, "password": PASSWORD, "topicPrefix": "tls", "discovery": false,
        "caPem": ca,
    })
}

/// Polls the settings until `pred` holds for the status (10 s at most).
async fn wait_status(t: &TestApp, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (s, v) = t.get("/api/v1/integrations/mqtt").await;
        assert_eq!(s, 200, "{v}");
        if pred(&v["status"]) {
            return v;
        }
        assert!(
            Instant::now() < deadline,
            "status never {what}: {}",
            v["status"]
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

pub(crate) async fn mqtt_tls_with_a_custom_ca_connects_and_a_wrong_ca_or_host_is_reported(
    t: &TestApp,
) {
    let broker = Mosquitto::start_tls();
    let ca = broker.ca_pem.clone().unwrap();
    let port = broker.tls_port.unwrap();
    let watcher = Subscriber::connect(&broker, "tls/#").await;

    // The broker's CA: connects over TLS and publishes.
    let (s, v) = put(
        t,
        &tls_body(&format!("mqtts://127.0.0.1:{port}"), Some(&ca)),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["caPem"].as_str().map(str::trim), Some(ca.trim()));
    watcher
        .wait_for("online over TLS", |r| {
            r.topic == "tls/status" && r.payload == "online"
        })
        .await;
    let v = wait_status(t, "connected", |s| s["connected"] == true).await;
    assert_eq!(v["status"]["lastError"], Value::Null, "{v}");
    let failures_before = v["status"]["connectionFailures"].as_u64().unwrap();

    // Another CA: refused, counted and reported; the old connection said offline.
    let other = TestCa::generate("Not the broker's CA");
    let (s, v) = put(
        t,
        &tls_body(&format!("mqtts://127.0.0.1:{port}"), Some(&other.pem)),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    let v = wait_status(t, "failing with an unknown issuer", |s| {
        s["lastError"]
            .as_str()
            .is_some_and(|e| e.contains("UnknownIssuer"))
    })
    .await;
    assert_eq!(v["status"]["connected"], false, "{v}");
    assert!(v["status"]["connectionFailures"].as_u64().unwrap() > failures_before);
    watcher
        .wait_for("offline from the replaced connection", |r| {
            r.topic == "tls/status" && r.payload == "offline"
        })
        .await;

    // The right CA but a host name the certificate does not name.
    let (s, v) = put(
        t,
        &tls_body(&format!("mqtts://localhost:{port}"), Some(&ca)),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    let v = wait_status(t, "failing on the host name", |s| {
        s["lastError"]
            .as_str()
            .is_some_and(|e| e.contains("not valid for name \"localhost\""))
    })
    .await;
    assert_eq!(v["status"]["connected"], false, "{v}");
    // Nothing came online again on the broker after the refusals.
    let onlines = watcher
        .received()
        .iter()
        .filter(|r| r.topic == "tls/status" && r.payload == "online")
        .count();
    assert_eq!(onlines, 1, "{:#?}", watcher.received());
}

pub(crate) async fn mqtt_custom_ca_is_validated_kept_and_removable(t: &TestApp) {
    let ca = TestCa::generate("Home CA");
    let url = "mqtts://broker.lan:8883";
    for (body, field) in [
        (
            json!({"enabled": true, "brokerUrl": url, "caPem": "not a certificate"}),
            "caPem",
        ),
        (
            json!({"enabled": true, "brokerUrl": url,
                   "caPem": "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"}),
            "caPem",
        ),
        (
            json!({"enabled": true, "brokerUrl": url,
                   "caPem": "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"}),
            "caPem",
        ),
        (
            json!({"enabled": true, "brokerUrl": url, "caPem": 7}),
            "caPem",
        ),
        // A CA with a plain-TCP broker would be silently unused.
        (
            json!({"enabled": true, "brokerUrl": "mqtt://broker.lan", "caPem": ca.pem}),
            "caPem",
        ),
    ] {
        let (s, e) = put(t, &body).await;
        assert_eq!(s, 400, "{body}: {e}");
        assert_eq!(e["field"], field, "{body}: {e}");
    }
    let (s, v) = put(
        t,
        &json!({"enabled": false, "brokerUrl": url, "caPem": ca.pem}),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["caPem"].as_str().map(str::trim), Some(ca.pem.trim()));
    // Stored in the settings row.
    let stored = t
        .app
        .storage
        .setting(netpulse_app::service::mqtt::KEY)
        .await
        .unwrap()
        .unwrap();
    assert!(stored.contains("BEGIN CERTIFICATE"), "{stored}");
    // Omitted: kept. Null: removed (the system's roots again).
    let (s, v) = put(t, &json!({"enabled": false, "brokerUrl": url})).await;
    assert_eq!((s, v["caPem"].as_str().is_some()), (200, true), "{v}");
    let (s, v) = put(
        t,
        &json!({"enabled": false, "brokerUrl": url, "caPem": null}),
    )
    .await;
    assert_eq!((s, &v["caPem"]), (200, &Value::Null), "{v}");
    // Two certificates (a bundle) are accepted.
    let bundle = format!("{}{}", ca.pem, TestCa::generate("Second CA").pem);
    let (s, v) = put(
        t,
        &json!({"enabled": false, "brokerUrl": url, "caPem": bundle}),
    )
    .await;
    assert_eq!(s, 200, "{v}");
}

/// Polls `/metrics` until `pred` holds (10 s at most).
async fn wait_metrics(
    t: &TestApp,
    what: &str,
    pred: impl Fn(&crate::metrics::Exposition) -> bool,
) -> crate::metrics::Exposition {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let e = crate::metrics::exposition(t).await;
        if pred(&e) {
            return e;
        }
        assert!(Instant::now() < deadline, "/metrics never {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

pub(crate) async fn mqtt_connection_and_drops_are_metrics(t: &TestApp) {
    let names = crate::metrics::exposition(t).await.names();
    assert!(
        !names.iter().any(|n| n.starts_with("netpulse_mqtt_")),
        "no MQTT series before MQTT is configured: {names:?}"
    );
    let mut broker = Mosquitto::start();
    let (s, v) = put(
        t,
        &json!({"enabled": true, "brokerUrl": format!("mqtt://127.0.0.1:{}", broker.port),
                "user": USER, "password": PASSWORD, "topicPrefix": "m"}),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    let e = wait_metrics(t, "connected", |e| {
        e.value("netpulse_mqtt_connected", &[]) == 1.0
    })
    .await;
    assert_eq!(e.value("netpulse_mqtt_messages_dropped_total", &[]), 0.0);

    // The broker goes away: disconnected, failures counted; a flood of retained topics
    // overflows the bounded queue and the drops show.
    broker.kill();
    wait_metrics(t, "disconnected", |e| {
        e.value("netpulse_mqtt_connected", &[]) == 0.0
            && e.value("netpulse_mqtt_connection_failures_total", &[]) >= 1.0
    })
    .await;
    let engine = t.app.mqtt.clone().expect("the engine runs");
    let probe = netpulse_domain::id::ProbeId::parse(&netpulse_app::service::new_uuid()).unwrap();
    let snapshot = netpulse_app::mqtt::Snapshot {
        connections: (0..400)
            .map(|i| netpulse_app::mqtt::ConnectionView {
                id: netpulse_domain::id::ConnectionId::parse(&netpulse_app::service::new_uuid())
                    .unwrap(),
                probe_id: probe.clone(),
                name: format!("c{i}"),
                latest: None,
            })
            .collect(),
        ..Default::default()
    };
    engine.apply(&snapshot);
    let dropped = engine.status().dropped;
    assert!(
        dropped > 0,
        "the queue (1000) overflowed: {:?}",
        engine.status()
    );
    let e = wait_metrics(t, "showing the drops", |e| {
        e.value("netpulse_mqtt_messages_dropped_total", &[]) >= dropped as f64
    })
    .await;
    let (_, v) = t.get("/api/v1/integrations/mqtt").await;
    assert!(v["status"]["dropped"].as_u64().unwrap() >= dropped, "{v}");
    assert_eq!(e.value("netpulse_mqtt_connected", &[]), 0.0);
}

pub(crate) async fn mqtt_a_new_prefix_or_discovery_off_clears_the_old_retained_topics(t: &TestApp) {
    let broker = Mosquitto::start();
    let watcher = Subscriber::connect(&broker, "#").await;
    let agent = t.probe("home").await;
    let conn = t.connection(&agent.probe.id, "fibre", &["12746"]).await;
    let (p, c) = (agent.probe.id.to_string(), conn.id.to_string());
    let settings = |prefix: &str, discovery: bool, retain: bool| {
        json!({"enabled": true, "brokerUrl": format!("mqtt://127.0.0.1:{}", broker.port),
               "user": USER, "password": PASSWORD, "topicPrefix": prefix,
               "discovery": discovery, "discoveryPrefix": "ha", "retain": retain})
    };
    let (s, v) = put(t, &settings("a", true, true)).await;
    assert_eq!(s, 200, "{v}");
    let probe_state = format!("a/probe/{p}/state");
    let config = format!("ha/sensor/netpulse_{c}_download/config");
    watcher.wait_topic(&probe_state).await;
    watcher.wait_topic(&config).await;
    let before = Subscriber::connect(&broker, "#").await;
    for topic in [&probe_state, &config] {
        let r = before.wait_topic(topic).await;
        assert!(r.retain && !r.payload.is_empty(), "{r:?}");
    }

    // A new prefix, discovery off, state topics not retained.
    let (s, v) = put(t, &settings("b", false, false)).await;
    assert_eq!(s, 200, "{v}");
    for topic in [probe_state.as_str(), config.as_str()] {
        watcher
            .wait_for(&format!("{topic} emptied"), |r| {
                r.topic == topic && r.payload.is_empty()
            })
            .await;
    }
    let new_state = format!("b/probe/{p}/state");
    watcher.wait_topic(&new_state).await;
    // A subscriber arriving now finds only the availability topics retained (the old one
    // says `offline`): no old state, no discovery config, and no new state (retain is off).
    tokio::time::sleep(Duration::from_millis(300)).await;
    let after = Subscriber::connect(&broker, "#").await;
    after
        .wait_for("b/status", |r| {
            r.topic == "b/status" && r.payload == "online"
        })
        .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut retained: Vec<_> = after
        .received()
        .into_iter()
        .filter(|r| r.retain)
        .map(|r| (r.topic, r.payload))
        .collect();
    retained.sort();
    assert_eq!(
        retained,
        vec![
            ("a/status".to_owned(), "offline".to_owned()),
            ("b/status".to_owned(), "online".to_owned())
        ],
        "{:#?}",
        after.received()
    );
}
