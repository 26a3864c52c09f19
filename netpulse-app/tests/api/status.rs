//! `netpulse status` and `GET /api/v1/status` show the same figures for the same data, and
//! the figures are the ones the pushed rounds imply (PlexSheep-style totals, outages).

use std::process::Command;

use netpulse_domain::time::Timestamp;
use serde_json::{Value, json};

use crate::helpers::TestApp;
use crate::outages::{MIN, Round, T0, probe_with_defaults, push_plan};

fn cli_status(t: &TestApp, args: &[&str]) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_netpulse"))
        .arg("status")
        .args(args)
        .arg("--json")
        .env("NETPULSE_DATABASE_URL", &t.db_url)
        .env_remove("NETPULSE_JSON")
        .output()
        .expect("run netpulse");
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_str(text.trim()).expect("one JSON object")
}

pub(crate) async fn status_figures_are_the_same_in_cli_and_api(t: &TestApp) {
    let (b, checks) = probe_with_defaults(t, "status").await;
    assert_eq!(checks.len(), 8, "four checks per family");
    let mut plan = vec![Round::Up; 60];
    for r in &mut plan[10..42] {
        *r = Round::Down;
    }
    push_plan(t, &b.probe.id, &checks, &plan).await;
    let probe = b.probe.id.to_string();
    let since = Timestamp::from_unix_millis(T0).to_rfc3339();
    let until = Timestamp::from_unix_millis(T0 + 60 * MIN).to_rfc3339();

    let (s, api) = t
        .get(&format!(
            "/api/v1/status?probe={probe}&since={since}&until={until}"
        ))
        .await;
    assert_eq!(s, 200, "{api}");
    // 60 rounds of 8 results; 32 rounds with every check failing.
    assert_eq!(api["checks"]["checks"], json!(480), "{api:#}");
    assert_eq!(api["checks"]["ok"], json!(224));
    assert_eq!(api["checks"]["bad"], json!(256));
    let ratio = api["checks"]["successRatio"].as_f64().unwrap();
    assert!((ratio - 224.0 / 480.0).abs() < 1e-9, "{ratio}");
    let families: Vec<(String, u64)> = api["families"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["name"].as_str().unwrap().to_owned(),
                f["checks"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(families, vec![("v4".into(), 240), ("v6".into(), 240)]);
    let latest = api["latest"].as_array().unwrap();
    assert_eq!(latest.len(), 3, "v4, v6 and all: {latest:#?}");
    assert!(
        latest
            .iter()
            .all(|o| o["durationSeconds"] == json!(1920.0) && o["severityLabel"] == "Complete")
    );

    // The CLI (the real binary over the same database) prints the same figures. Its window
    // ends at the wall clock, so only the figures that do not depend on the window's end are
    // compared: every tally and both outage lists, and each series' downtime.
    let cli = cli_status(t, &["--probe", &probe, "--since", &since]);
    for key in ["checks", "kinds", "families", "latest", "mostSevere"] {
        assert_eq!(cli[key], api[key], "{key} differs between CLI and API");
    }
    let downtime = |v: &Value| -> Vec<(Value, Value)> {
        v["uptime"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| (s["family"].clone(), s["downtimeSeconds"].clone()))
            .collect()
    };
    assert_eq!(downtime(&cli), downtime(&api));
    assert!(
        downtime(&api).iter().all(|(_, d)| d == &json!(1920.0)),
        "{api:#}"
    );

    // Bad input names the field, in both.
    let (s, e) = t.get("/api/v1/status?since=yesterday").await;
    assert_eq!(s, 400, "{e}");
    assert!(e.to_string().contains("since"), "{e}");
    let out = Command::new(env!("CARGO_BIN_EXE_netpulse"))
        .args(["status", "--since", "yesterday"])
        .env("NETPULSE_DATABASE_URL", &t.db_url)
        .output()
        .unwrap();
    assert_ne!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--since"));
}
