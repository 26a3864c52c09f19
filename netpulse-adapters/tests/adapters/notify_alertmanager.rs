//! The Alertmanager channel against a real `prometheus-alertmanager` (Debian's package) started
//! on a loopback port: an alert appears active through Alertmanager's own API with the labels
//! and annotations NetPulse sent, and the recovery resolves that same alert.

use std::process::Stdio;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use netpulse_adapters::notify::{HttpClient, build};
use netpulse_domain::Timestamp;
use netpulse_domain::incident_severity::{AlertSource, IncidentSeverity};
use netpulse_ports::notify::{ChannelKind, IncidentRef, Notification, NotificationKind};
use serde_json::Value;

use super::notify_channels::{alert, config};

/// A running Alertmanager, killed on drop.
struct Alertmanager {
    child: std::process::Child,
    base: String,
    _dir: tempfile::TempDir,
}

impl Drop for Alertmanager {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn start() -> Alertmanager {
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("alertmanager.yml");
    std::fs::write(
        &conf,
        "route:\n  receiver: blackhole\nreceivers:\n  - name: blackhole\n",
    )
    .unwrap();
    let port = free_port();
    let child = std::process::Command::new("prometheus-alertmanager")
        .arg(format!("--config.file={}", conf.display()))
        .arg(format!(
            "--storage.path={}",
            dir.path().join("data").display()
        ))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .arg("--cluster.listen-address=")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("prometheus-alertmanager is installed (Debian package prometheus-alertmanager)");
    let am = Alertmanager {
        child,
        base: format!("http://127.0.0.1:{port}"),
        _dir: dir,
    };
    let client = reqwest::Client::new();
    for _ in 0..200 {
        if let Ok(r) = client.get(format!("{}/-/ready", am.base)).send().await
            && r.status().is_success()
        {
            return am;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("alertmanager did not become ready");
}

fn now() -> Timestamp {
    let ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis();
    Timestamp::from_unix_millis(i64::try_from(ms).unwrap())
}

fn incident(n: &mut Notification, started: Timestamp) {
    n.incident = Some(IncidentRef {
        key: "inc-42".into(),
        severity: IncidentSeverity::High,
        source: AlertSource::Connection,
        started_at: Some(started),
        site: Some("berlin".into()),
        check: None,
        family: None,
    });
}

async fn alerts(am: &Alertmanager) -> Vec<Value> {
    let v: Value = reqwest::get(format!("{}/api/v2/alerts", am.base))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    v.as_array().unwrap().clone()
}

#[tokio::test]
async fn an_alert_is_active_in_alertmanager_and_the_recovery_resolves_it() {
    let am = start().await;
    let channel = build(
        &config(ChannelKind::Alertmanager, &[("url", &am.base)], &[]),
        &HttpClient::new(),
    )
    .unwrap();
    let started = now().plus_seconds(-60);
    let mut fire = alert();
    fire.at = now();
    incident(&mut fire, started);
    channel.send(&fire).await.unwrap();

    let active = alerts(&am).await;
    assert_eq!(active.len(), 1, "{active:?}");
    let a = &active[0];
    assert_eq!(a["status"]["state"], "active", "{a}");
    let labels = &a["labels"];
    assert_eq!(labels["alertname"], "NetPulseConnectionUnhealthy");
    assert_eq!(labels["severity"], "high");
    assert_eq!(labels["probe"], "home");
    assert_eq!(labels["connection"], "wän1");
    assert_eq!(labels["site"], "berlin");
    assert_eq!(labels["incident"], "inc-42");
    assert_eq!(a["annotations"]["summary"], fire.subject);
    assert_eq!(a["annotations"]["isp"], "Acme");
    assert_eq!(a["generatorURL"], "https://np.example/measurements/r-1");
    let starts = Timestamp::parse_rfc3339(a["startsAt"].as_str().unwrap()).unwrap();
    assert_eq!(starts.unix_seconds(), started.unix_seconds());

    // A second send of the same alert (a retry) is still one alert.
    channel.send(&fire).await.unwrap();
    assert_eq!(alerts(&am).await.len(), 1);

    let mut back = Notification::new(NotificationKind::Recovery, "back", "ok", now());
    back.probe.clone_from(&fire.probe);
    back.connection.clone_from(&fire.connection);
    back.result_link.clone_from(&fire.result_link);
    incident(&mut back, started);
    channel.send(&back).await.unwrap();
    let left = alerts(&am).await;
    assert!(left.is_empty(), "the recovery resolves the alert: {left:?}");
}

#[tokio::test]
async fn a_wrong_path_is_a_permanent_error_and_a_dead_port_a_retryable_one() {
    let am = start().await;
    let mut fire = alert();
    fire.at = now();
    let at = fire.at;
    incident(&mut fire, at);
    let wrong = build(
        &config(
            ChannelKind::Alertmanager,
            &[("url", &format!("{}/nope", am.base))],
            &[],
        ),
        &HttpClient::new(),
    )
    .unwrap();
    let e = wrong.send(&fire).await.unwrap_err();
    assert!(!e.retryable(), "{e}");
    let dead = build(
        &config(
            ChannelKind::Alertmanager,
            &[("url", &format!("http://127.0.0.1:{}", free_port()))],
            &[],
        ),
        &HttpClient::new(),
    )
    .unwrap();
    assert!(dead.send(&fire).await.unwrap_err().retryable());
}
