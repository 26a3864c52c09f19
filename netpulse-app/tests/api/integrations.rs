//! Incident tools end to end: channels created through the REST API (secrets write-only), a
//! connection crossing an alert edge through the agent API, the alert active in a real
//! `prometheus-alertmanager` on a loopback port and resolved by the recovery — while a
//! PagerDuty channel whose receiver fails keeps retrying without holding anything up.

use std::process::Stdio;
use std::time::Duration;

use netpulse_domain::model::Connection;
use serde_json::{Value, json};

use crate::helpers::{Agent, TestApp, ookla_stdout, push_body};
use crate::notifications::{Receiver, eventually};

struct Alertmanager {
    child: std::process::Child,
    base: String,
    dir: std::path::PathBuf,
}

impl Drop for Alertmanager {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

async fn alertmanager() -> Alertmanager {
    let dir = std::env::temp_dir().join(format!("netpulse-am-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let conf = dir.join("alertmanager.yml");
    std::fs::write(
        &conf,
        "route:\n  receiver: none\nreceivers:\n  - name: none\n",
    )
    .unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = std::process::Command::new("prometheus-alertmanager")
        .arg(format!("--config.file={}", conf.display()))
        .arg(format!("--storage.path={}", dir.join("data").display()))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .arg("--cluster.listen-address=")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("prometheus-alertmanager is installed");
    let am = Alertmanager {
        child,
        base: format!("http://127.0.0.1:{port}"),
        dir,
    };
    for _ in 0..200 {
        if let Ok(r) = reqwest::get(format!("{}/-/ready", am.base)).await
            && r.status().is_success()
        {
            return am;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("alertmanager did not become ready");
}

async fn active(am: &Alertmanager) -> Vec<Value> {
    let v: Value = reqwest::get(format!("{}/api/v2/alerts", am.base))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    v.as_array().unwrap().clone()
}

async fn channel(t: &TestApp, body: &Value) -> Value {
    let (status, c) = t
        .send(
            reqwest::Method::POST,
            "/api/v1/notifications/channels",
            body,
        )
        .await;
    assert_eq!(status, 201, "{c}");
    c
}

fn failed(t: &TestApp, c: &Connection) -> Value {
    push_body(
        t.clock_now(),
        c,
        None,
        r#"{"type":"log","level":"error","message":"Cannot open socket"}"#,
        2,
        true,
    )
}

fn healthy(t: &TestApp, c: &Connection) -> Value {
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

async fn delivery_lines(t: &TestApp) -> Vec<(String, String, String)> {
    let (_, log) = t.get("/api/v1/notifications/deliveries").await;
    log["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["kind"].as_str().unwrap().to_owned(),
                d["channelName"].as_str().unwrap().to_owned(),
                d["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

pub(crate) async fn alertmanager_gets_the_alert_and_its_resolution_while_a_failing_pagerduty_retries(
    t: &TestApp,
) {
    let am = alertmanager().await;
    let pd = Receiver::start(&[500]).await;
    channel(
        t,
        &json!({"name": "noc", "type": "alertmanager", "settings": {"url": am.base, "password": "am-secret", "username": "np"}}),
    )
    .await;
    let paging = channel(
        t,
        &json!({"name": "pager", "type": "pagerduty", "settings": {"url": pd.url, "routingKey": "0123456789abcdef0123456789abcdef"}}),
    )
    .await;
    // Secrets are write-only; incident tools are not subscribed to digests.
    let text = paging.to_string();
    assert!(!text.contains("0123456789abcdef"), "{text}");
    assert_eq!(paging["secretsSet"], json!(["routingKey"]));
    assert!(
        !paging["events"]
            .as_array()
            .unwrap()
            .contains(&json!("digest"))
    );
    let (status, refused) = t
        .send(
            reqwest::Method::POST,
            "/api/v1/notifications/channels",
            &json!({"name": "x", "type": "opsgenie", "settings": {"apiKey": "k"}, "events": ["alert", "digest"]}),
        )
        .await;
    assert_eq!(status, 400, "{refused}");
    assert!(refused.to_string().contains("events"), "{refused}");

    // The server's clock runs a little behind the real one, as Alertmanager judges `endsAt` by
    // its own clock (the test advances the server's).
    t.clock.advance_seconds(-30);
    let mut labels = netpulse_domain::values::Labels::new();
    labels.insert("site", "berlin").unwrap();
    let issued = netpulse_app::service::probes::create(&t.app, "home", labels)
        .await
        .unwrap();
    let agent = Agent {
        probe: issued.probe,
        token: issued.token,
    };
    let c = t.connection(&agent.probe.id, "wan1", &[]).await;
    for _ in 0..3 {
        push(t, &agent, &failed(t, &c)).await;
        t.clock.advance_seconds(1);
    }
    let mut alerts = Vec::new();
    for _ in 0..200 {
        alerts = active(&am).await;
        if !alerts.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    let a = &alerts[0];
    assert_eq!(a["status"]["state"], "active");
    assert_eq!(a["labels"]["alertname"], "NetPulseConnectionUnhealthy");
    assert_eq!(a["labels"]["severity"], "high");
    assert_eq!(a["labels"]["probe"], "home");
    assert_eq!(a["labels"]["connection"], "wan1");
    assert_eq!(a["labels"]["site"], "berlin");
    assert_eq!(
        a["annotations"]["summary"],
        "[NetPulse] home/wan1 is unhealthy"
    );
    // The failing PagerDuty receiver was tried and is retried later; it held nothing up.
    eventually("the pagerduty attempt", || !pd.got().is_empty()).await;
    let event = pd.got()[0].json();
    assert_eq!(event["event_action"], "trigger");
    assert_eq!(event["dedup_key"], a["labels"]["incident"]);

    push(t, &agent, &healthy(t, &c)).await;
    let mut left = alerts;
    for _ in 0..200 {
        left = active(&am).await;
        if left.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(left.is_empty(), "the recovery resolves the alert: {left:?}");
    // The outcomes are recorded just after the sends.
    let mut lines = Vec::new();
    for _ in 0..200 {
        lines = delivery_lines(t).await;
        if lines.contains(&("recovery".into(), "noc".into(), "sent".into())) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        lines.contains(&("alert".into(), "noc".into(), "sent".into())),
        "{lines:?}"
    );
    assert!(
        lines.contains(&("recovery".into(), "noc".into(), "sent".into())),
        "{lines:?}"
    );
    let pager: Vec<&str> = lines
        .iter()
        .filter(|(_, channel, _)| channel == "pager")
        .map(|(_, _, status)| status.as_str())
        .collect();
    assert!(
        !pager.is_empty() && pager.iter().all(|s| ["pending", "sending"].contains(s)),
        "the failing channel is still being retried: {lines:?}"
    );
}
