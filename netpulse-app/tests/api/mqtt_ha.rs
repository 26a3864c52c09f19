//! The MQTT / Home Assistant integration end to end, against a real `mosquitto` on a loopback
//! port (password file, no anonymous clients) observed by a real subscriber: settings through
//! the REST API (the password write-only and sealed at rest), a real Ookla result pushed
//! through the agent API arriving on its result and state topics, check states, retained Home
//! Assistant discovery configs removed when their connection is deleted, a settings change
//! reconnecting without a restart, and a broker that is down never holding up ingest.

use std::time::{Duration, Instant};

use netpulse_adapters::testing_mqtt::{Mosquitto, PASSWORD, Received, Subscriber, USER};
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{TestApp, ookla_stdout, push_body};

fn json_of(r: &Received) -> Value {
    serde_json::from_str(&r.payload).unwrap_or_else(|e| panic!("{}: {e}: {}", r.topic, r.payload))
}

async fn configure(t: &TestApp, port: u16, prefix: &str) -> Value {
    let (s, v) = t
        .send(
            Method::PUT,
            "/api/v1/integrations/mqtt",
            &json!({
                "enabled": true, "brokerUrl": format!("mqtt://127.0.0.1:{port}"),
                "clientId": "netpulse-test", "user": USER, "password": PASSWORD,
                "topicPrefix": prefix, "discovery": true, "discoveryPrefix": "ha", "retain": true,
            }),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    v
}

pub(crate) async fn mqtt_results_states_and_discovery_reach_a_real_broker(t: &TestApp) {
    let broker = Mosquitto::start();
    let watcher = Subscriber::connect(&broker, "#").await;
    let agent = t.probe("home").await;
    let conn = t.connection(&agent.probe.id, "fibre", &["12746"]).await;
    let (p, c) = (agent.probe.id.to_string(), conn.id.to_string());
    let (s, _) = t.due(&agent).await;
    assert_eq!(s, 200);
    let answer = configure(t, broker.port, "np").await;
    assert_eq!(answer["passwordSet"], true);
    assert!(answer.get("password").is_none(), "{answer}");
    watcher
        .wait_for("online", |r| {
            r.topic == "np/status" && r.payload == "online"
        })
        .await;

    // A real result through the agent API.
    let body = push_body(
        t.clock_now(),
        &conn,
        Some("12746"),
        &ookla_stdout(),
        0,
        true,
    );
    let result_id = body["resultId"].as_str().unwrap().to_owned();
    let (s, r) = t.push(&agent, &body).await;
    assert_eq!(s, 201, "{r}");
    let (_, list) = t.get(&format!("/api/v1/measurements?connection={c}")).await;
    let stored = &list["items"][0];
    let mbit = |bps: &Value| (bps.as_f64().unwrap() / 10_000.0).round() / 100.0;

    let result = watcher
        .wait_topic(&format!("np/probe/{p}/connection/{c}/result"))
        .await;
    assert_eq!((result.qos, result.retain), (1, false));
    let v = json_of(&result);
    assert_eq!(v["resultId"], json!(result_id));
    assert_eq!(v["engine"], "ookla");
    assert_eq!(v["completed"], true);
    assert_eq!(v["download"], json!(mbit(&stored["downloadBitsPerSecond"])));
    assert_eq!(v["upload"], json!(mbit(&stored["uploadBitsPerSecond"])));
    assert_eq!(v["ping"], stored["pingMs"]);
    assert_eq!(v["jitter"], stored["jitterMs"]);

    let state_topic = format!("np/probe/{p}/connection/{c}/state");
    let state = watcher
        .wait_for("the connection's state", |r| {
            r.topic == state_topic && r.payload.contains(&result_id)
        })
        .await;
    let v = json_of(&state);
    assert_eq!(
        v["health"],
        json!(if stored["healthy"] == true {
            "healthy"
        } else {
            "unhealthy"
        })
    );
    assert_eq!(v["download"], json!(mbit(&stored["downloadBitsPerSecond"])));
    assert_eq!(v["loss"], stored["packetLossPercent"]);
    assert!(v["lastTest"].as_str().unwrap().starts_with("20"));

    // A replay publishes nothing; a late result is published as a result but leaves the
    // connection's state on the newest one.
    let (s, r) = t.push(&agent, &body).await;
    assert_eq!((s, &r["alreadyRecorded"]), (200, &json!(true)), "{r}");
    let late_body = push_body(
        t.clock_now().plus_seconds(-3600),
        &conn,
        None,
        &ookla_stdout(),
        0,
        true,
    );
    let late_id = late_body["resultId"].as_str().unwrap().to_owned();
    let (s, r) = t.push(&agent, &late_body).await;
    assert_eq!(s, 201, "{r}");
    let result_topic = format!("np/probe/{p}/connection/{c}/result");
    watcher
        .wait_for("the late result", |r| {
            r.topic == result_topic && r.payload.contains(&late_id)
        })
        .await;
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let seen = watcher.received();
    assert_eq!(
        seen.iter()
            .filter(|r| r.topic == result_topic && r.payload.contains(&result_id))
            .count(),
        1,
        "the replay published nothing"
    );
    assert!(
        seen.iter()
            .all(|r| !(r.topic == state_topic && r.payload.contains(&late_id))),
        "a late result moved the state"
    );

    // Retained: a subscriber that comes later gets the states and the discovery configs.
    let late = Subscriber::connect(&broker, "#").await;
    let st = late.wait_topic(&state_topic).await;
    assert!(st.retain && st.payload.contains(&result_id), "{st:?}");
    let probe_state = json_of(&late.wait_topic(&format!("np/probe/{p}/state")).await);
    assert_eq!(probe_state["state"], "online");
    assert_eq!(probe_state["name"], "home");
    let status = late.wait_topic("np/status").await;
    assert_eq!((status.payload.as_str(), status.retain), ("online", true));

    let probe_device = format!("netpulse_probe_{p}");
    for (key, unit, class) in [
        ("download", "Mbit/s", Some("data_rate")),
        ("upload", "Mbit/s", Some("data_rate")),
        ("ping", "ms", Some("duration")),
        ("jitter", "ms", Some("duration")),
        ("loss", "%", None),
    ] {
        let topic = format!("ha/sensor/netpulse_{c}_{key}/config");
        let config = late.wait_topic(&topic).await;
        assert!(config.retain, "{topic} retained");
        let v = json_of(&config);
        assert_eq!(v["unique_id"], json!(format!("netpulse_{c}_{key}")));
        assert_eq!(v["state_topic"], json!(state_topic));
        assert_eq!(
            v["value_template"],
            json!(format!("{{{{ value_json.{key} }}}}"))
        );
        assert_eq!(v["unit_of_measurement"], unit);
        assert_eq!(v["state_class"], "measurement");
        assert_eq!(v["device_class"], class.map_or(Value::Null, |c| json!(c)));
        assert_eq!(v["availability_topic"], "np/status");
        assert_eq!(
            v["device"]["identifiers"],
            json!([format!("netpulse_connection_{c}")])
        );
        assert_eq!(v["device"]["via_device"], json!(probe_device));
        assert_eq!(v["device"]["name"], "NetPulse home fibre");
    }
    let health = json_of(
        &late
            .wait_topic(&format!("ha/binary_sensor/netpulse_{c}_health/config"))
            .await,
    );
    assert_eq!(health["device_class"], "problem");
    assert_eq!(health["state_topic"], json!(state_topic));
    for (component, object, class) in [
        ("sensor", "health", "enum"),
        ("binary_sensor", "availability", "connectivity"),
        ("sensor", "last_test", "timestamp"),
    ] {
        let v = json_of(
            &late
                .wait_topic(&format!("ha/{component}/netpulse_{p}_{object}/config"))
                .await,
        );
        assert_eq!(v["device_class"], class);
        assert_eq!(v["state_topic"], json!(format!("np/probe/{p}/state")));
        assert_eq!(v["device"]["identifiers"], json!([probe_device]));
    }

    // A check's state per family.
    let (s, check) = t
        .send(
            Method::POST,
            "/api/v1/checks",
            &json!({"probeId": p, "kind": "tcp", "target": "example.org", "port": 443}),
        )
        .await;
    assert_eq!(s, 201, "{check}");
    let check_id = check["id"].as_str().unwrap();
    let round = t.clock_now().plus_seconds(-60).to_rfc3339();
    let batch = json!({"results": [check_result(check_id, &round, "v4", "ok"), check_result(check_id, &round, "v6", "fail")]});
    let r = t
        .client
        .post(t.url(&format!("/api/v1/probes/{p}/check-results")))
        .bearer_auth(&agent.token)
        .json(&batch)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    for (family, outcome) in [("v4", "ok"), ("v6", "fail")] {
        let topic = format!("np/probe/{p}/check/{check_id}/{family}/state");
        let v = json_of(&watcher.wait_topic(&topic).await);
        assert_eq!(
            (v["outcome"].as_str(), v["family"].as_str()),
            (Some(outcome), Some(family))
        );
        assert_eq!(v["name"], "example.org");
        assert_eq!(v["kind"], "tcp");
    }

    // Deleting the connection removes its entities: empty retained configs.
    let (s, _) = t
        .send(
            Method::DELETE,
            &format!("/api/v1/connections/{c}"),
            &json!({}),
        )
        .await;
    assert_eq!(s, 204);
    let download = format!("ha/sensor/netpulse_{c}_download/config");
    watcher
        .wait_for("the emptied config", |r| {
            r.topic == download && r.payload.is_empty()
        })
        .await;
    watcher
        .wait_for("the emptied state", |r| {
            r.topic == state_topic && r.payload.is_empty()
        })
        .await;
    let after = Subscriber::connect(&broker, "ha/#").await;
    after
        .wait_topic(&format!("ha/sensor/netpulse_{p}_health/config"))
        .await;
    assert!(after.received().iter().all(|r| !r.topic.contains(&c)));

    // New settings reconnect at once: the old prefix says offline, the new one online.
    configure(t, broker.port, "np2").await;
    watcher
        .wait_for("offline", |r| {
            r.topic == "np/status" && r.payload == "offline"
        })
        .await;
    watcher
        .wait_for("online again", |r| {
            r.topic == "np2/status" && r.payload == "online"
        })
        .await;
    watcher.wait_topic(&format!("np2/probe/{p}/state")).await;
}

fn check_result(check: &str, round: &str, family: &str, outcome: &str) -> Value {
    let failed = outcome != "ok";
    json!({
        "checkId": check, "roundAt": round, "family": family,
        "address": if family == "v4" { json!("192.0.2.7") } else { json!("2001:db8::7") },
        "outcome": outcome,
        "failureClass": if failed { json!("timeout") } else { json!(null) },
        "message": if failed { json!("no answer in 2 s") } else { json!(null) },
        "latencyMs": if failed { json!(null) } else { json!(12.5) },
        "lossPct": null, "jitterMs": null, "rttMinMs": null, "rttMaxMs": null,
        "rttStdevMs": null, "status": null, "ttfbMs": null, "portState": null,
        "dnsRating": null, "duringSpeedTest": false, "degraded": false,
    })
}

pub(crate) async fn mqtt_broker_down_never_holds_up_ingest(t: &TestApp) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let agent = t.probe("home").await;
    let conn = t.connection(&agent.probe.id, "fibre", &["12746"]).await;
    configure(t, port, "np").await;
    let started = Instant::now();
    let mut last = String::new();
    for i in 0..20 {
        let at = t.clock_now().plus_seconds(i64::from(i) - 20);
        let body = push_body(at, &conn, None, &ookla_stdout(), 0, true);
        last = body["resultId"].as_str().unwrap().to_owned();
        let (s, r) = t.push(&agent, &body).await;
        assert_eq!(s, 201, "{r}");
    }
    let took = started.elapsed();
    println!("20 pushes with the broker down: {took:?}");
    assert!(
        took < Duration::from_secs(10),
        "ingest waited for the broker: {took:?}"
    );
    let (_, v) = t.get("/api/v1/integrations/mqtt").await;
    assert_eq!(v["status"]["running"], true);
    assert_eq!(v["status"]["connected"], false);
    // The broker comes up: the server connects on its own and publishes the retained state of
    // the newest result.
    let broker = Mosquitto::start_on(port);
    let watcher = Subscriber::connect(&broker, "np/#").await;
    let state_topic = format!("np/probe/{}/connection/{}/state", agent.probe.id, conn.id);
    let deadline = Instant::now() + Duration::from_secs(40);
    loop {
        if watcher
            .received()
            .iter()
            .any(|r| r.topic == state_topic && r.payload.contains(&last))
        {
            break;
        }
        assert!(Instant::now() < deadline, "{:#?}", watcher.received());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

pub(crate) async fn mqtt_settings_are_checked_and_the_password_is_write_only(t: &TestApp) {
    let (s, v) = t.get("/api/v1/integrations/mqtt").await;
    assert_eq!(s, 200);
    assert_eq!(
        (
            &v["enabled"],
            &v["topicPrefix"],
            &v["discoveryPrefix"],
            &v["discovery"],
            &v["retain"],
            &v["passwordSet"]
        ),
        (
            &json!(false),
            &json!("netpulse"),
            &json!("homeassistant"),
            &json!(true),
            &json!(true),
            &json!(false)
        )
    );
    for (body, field) in [
        (
            json!({"enabled": true, "brokerUrl": "http://broker"}),
            "brokerUrl",
        ),
        (json!({"enabled": true}), "brokerUrl"),
        (
            json!({"enabled": true, "brokerUrl": "mqtt://b:99999"}),
            "brokerUrl",
        ),
        (
            json!({"enabled": true, "brokerUrl": "mqtt://b", "topicPrefix": "a/#"}),
            "topicPrefix",
        ),
        (
            json!({"enabled": true, "brokerUrl": "mqtt://b", "discoveryPrefix": "/ha"}),
            "discoveryPrefix",
        ),
        (
            json!({"enabled": true, "brokerUrl": "mqtt://b", "clientId": "a b"}),
            "clientId",
        ),
        (
            json!({"enabled": true, "brokerUrl": "mqtt://b", "retain": "yes"}),
            "retain",
        ),
        (json!({"brokerUrl": "mqtt://b"}), "enabled"),
        (json!({"enabled": false, "colour": "red"}), "colour"),
    ] {
        let (s, e) = t
            .send(Method::PUT, "/api/v1/integrations/mqtt", &body)
            .await;
        assert_eq!(s, 400, "{body}: {e}");
        assert_eq!(e["field"], field, "{body}: {e}");
    }
    let body = json!({"enabled": false, "brokerUrl": "mqtts://broker.lan", "user": "ha", "password": "pa55-word"});
    let (s, v) = t
        .send(Method::PUT, "/api/v1/integrations/mqtt", &body)
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["passwordSet"], true);
    assert!(!v.to_string().contains("pa55-word"));
    assert!(v["clientId"].as_str().unwrap().starts_with("netpulse-"));
    let stored = t
        .app
        .storage
        .setting(netpulse_app::service::mqtt::KEY)
        .await
        .unwrap()
        .unwrap();
    assert!(!stored.contains("pa55-word"), "sealed at rest: {stored}");
    // Omitted keeps the password and the client id; null removes the password.
    let client_id = v["clientId"].clone();
    let (_, v) = t
        .send(
            Method::PUT,
            "/api/v1/integrations/mqtt",
            &json!({"enabled": false, "brokerUrl": "mqtts://broker.lan", "user": "ha"}),
        )
        .await;
    assert_eq!(
        (&v["passwordSet"], &v["clientId"]),
        (&json!(true), &client_id)
    );
    let (_, v) = t
        .send(
            Method::PUT,
            "/api/v1/integrations/mqtt",
            &json!({"enabled": false, "password": null}),
        )
        .await;
    assert_eq!(v["passwordSet"], false);
    let (_, v) = t.get("/api/v1/integrations/mqtt").await;
    assert_eq!(
        (&v["passwordSet"], &v["status"]["running"]),
        (&json!(false), &json!(false))
    );
}

pub(crate) async fn mqtt_settings_section_on_the_settings_page(t: &TestApp) {
    let mut w = crate::web_auth::WebClient::new(t);
    w.setup().await;
    let page = w.get("/settings").await;
    assert!(
        page.body.contains("Home Assistant and MQTT"),
        "{}",
        page.body
    );
    let token = w.csrf("/settings").await;
    // Without the CSRF token nothing is saved.
    let forged = w
        .post_form(
            "/settings/mqtt",
            &[("enabled", "on"), ("broker_url", "mqtt://evil")],
        )
        .await;
    assert_eq!(forged.status, 403);
    let bad = w
        .post_form(
            "/settings/mqtt",
            &[
                ("_csrf", &token),
                ("enabled", "on"),
                ("broker_url", "tcp://broker"),
            ],
        )
        .await;
    assert_eq!(bad.status, 422);
    assert!(
        bad.body.contains("id=\"mqtt-broker_url-error\""),
        "{}",
        bad.body
    );
    let ok = w
        .post_form(
            "/settings/mqtt",
            &[
                ("_csrf", &token),
                ("broker_url", "mqtt://broker.lan"),
                ("user", "ha"),
                ("password", "page-secret"),
                ("topic_prefix", "home/np"),
                ("discovery", "on"),
            ],
        )
        .await;
    assert_eq!(ok.status, 303);
    let (_, v) = t.get("/api/v1/integrations/mqtt").await;
    assert_eq!(
        (
            &v["enabled"],
            &v["topicPrefix"],
            &v["passwordSet"],
            &v["retain"],
            &v["discovery"]
        ),
        (
            &json!(false),
            &json!("home/np"),
            &json!(true),
            &json!(false),
            &json!(true)
        )
    );
    let shown = w.get("/settings?saved=mqtt").await;
    assert!(shown.body.contains("value=\"home/np\""));
    assert!(shown.body.contains("Remove the stored password"));
    assert!(!shown.body.contains("page-secret"));
}

pub(crate) async fn mqtt_outage_states_open_and_close(t: &TestApp) {
    use crate::outages::{MIN, Round, T0, probe_with_defaults, push_plan, results};
    use netpulse_domain::Timestamp;
    use netpulse_domain::check::Family;
    let broker = Mosquitto::start();
    let watcher = Subscriber::connect(&broker, "np/#").await;
    let (agent, checks) = probe_with_defaults(t, "outage").await;
    let p = agent.probe.id.to_string();
    configure(t, broker.port, "np").await;
    // Ten minutes up, then everything down for ten minutes: an outage is open.
    let mut plan = vec![Round::Up; 10];
    plan.extend(vec![Round::Down; 10]);
    push_plan(t, &agent.probe.id, &checks, &plan).await;
    let since = Timestamp::from_unix_millis(T0 + 10 * MIN).to_rfc3339();
    for family in ["v4", "v6", "all"] {
        let topic = format!("np/probe/{p}/outage/{family}/state");
        let open = watcher
            .wait_for("the open outage", |r| {
                r.topic == topic && r.payload.contains("\"open\"")
            })
            .await;
        let v = json_of(&open);
        assert_eq!(
            (v["state"].as_str(), v["since"].as_str()),
            (Some("open"), Some(since.as_str())),
            "{family}"
        );
    }
    // Retained: a subscriber that comes later gets it, flagged retained.
    let late = Subscriber::connect(&broker, &format!("np/probe/{p}/outage/#")).await;
    let kept = late
        .wait_topic(&format!("np/probe/{p}/outage/all/state"))
        .await;
    assert!(kept.retain && kept.payload.contains("\"open\""), "{kept:?}");
    // Back up: closed since the end of the last failing round.
    for m in 20..30 {
        let mut batch = results(&checks, Family::V4, m, Round::Up);
        batch.extend(results(&checks, Family::V6, m, Round::Up));
        netpulse_app::service::check_results::ingest(&t.app, &agent.probe.id, batch)
            .await
            .unwrap();
    }
    let (_, list) = t
        .get(&format!("/api/v1/outages?probe={p}&family=all"))
        .await;
    let topic = format!("np/probe/{p}/outage/all/state");
    let closed = watcher
        .wait_for("the closed outage", |r| {
            // (Before the outage the series was closed with no outage yet: `since` null.)
            r.topic == topic
                && r.payload.contains("\"closed\"")
                && !r.payload.contains("\"since\":null")
        })
        .await;
    let v = json_of(&closed);
    assert_eq!(v["state"], "closed");
    assert_eq!(v["since"], list["items"][0]["endedAt"], "{list}");
    assert!(v["since"].as_str().is_some());
}

/// Connections and probes deleted while the server was stopped leave Home Assistant when it
/// starts again: the retained topics it published are stored, and the first sweep after the
/// restart empties those it no longer publishes.
pub(crate) async fn mqtt_entities_deleted_while_stopped_are_removed_at_startup(t: &TestApp) {
    let broker = Mosquitto::start();
    let watcher = Subscriber::connect(&broker, "#").await;
    let agent = t.probe("home").await;
    let kept = t.connection(&agent.probe.id, "fibre", &[]).await.id;
    let gone = t.connection(&agent.probe.id, "dsl", &[]).await.id;
    let cabin = t.probe("cabin").await.probe.id;
    configure(t, broker.port, "np").await;
    let download = |id: &dyn std::fmt::Display| format!("ha/sensor/netpulse_{id}_download/config");
    let cabin_health = format!("ha/sensor/netpulse_{cabin}_health/config");
    for topic in [download(&kept), download(&gone), cabin_health.clone()] {
        watcher.wait_topic(&topic).await;
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let stored = t
            .app
            .storage
            .setting(netpulse_app::service::mqtt::RETAINED_KEY)
            .await
            .unwrap();
        if stored.is_some_and(|s| s.contains(&download(&gone)) && s.contains(&cabin_health)) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the retained topics were not stored"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // Stopped: the deletions reach no broker.
    t.stop_mqtt().await;
    watcher
        .wait_for("offline", |r| {
            r.topic == "np/status" && r.payload == "offline"
        })
        .await;
    let (s, _) = t
        .send(
            Method::DELETE,
            &format!("/api/v1/connections/{gone}"),
            &json!({}),
        )
        .await;
    assert_eq!(s, 204);
    let (s, e) = t
        .send(
            Method::DELETE,
            &format!("/api/v1/probes/{cabin}"),
            &json!({}),
        )
        .await;
    assert_eq!(s, 204, "{e}");
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let stale = Subscriber::connect(&broker, "ha/#").await;
    let left = stale.wait_topic(&download(&gone)).await;
    assert!(
        left.retain && !left.payload.is_empty(),
        "still retained while stopped"
    );
    assert!(
        watcher
            .received()
            .iter()
            .all(|r| !(r.payload.is_empty() && r.topic.starts_with("ha/"))),
        "nothing was emptied while stopped"
    );

    // Started again (a new process over the same database): the deleted subjects' configs
    // are emptied, the others stay.
    let _restarted = t.restarted().await;
    watcher
        .wait_for("the deleted connection's config emptied", |r| {
            r.topic == download(&gone) && r.payload.is_empty()
        })
        .await;
    watcher
        .wait_for("the deleted probe's config emptied", |r| {
            r.topic == cabin_health && r.payload.is_empty()
        })
        .await;
    let after = Subscriber::connect(&broker, "ha/#").await;
    after.wait_topic(&download(&kept)).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let seen = after.received();
    assert!(
        seen.iter()
            .all(|r| !r.topic.contains(gone.as_str()) && !r.topic.contains(cabin.as_str())),
        "{:?}",
        seen.iter().map(|r| &r.topic).collect::<Vec<_>>()
    );
    assert!(
        watcher
            .received()
            .iter()
            .all(|r| !(r.topic == download(&kept) && r.payload.is_empty())),
        "a kept connection's config is never emptied"
    );
}
