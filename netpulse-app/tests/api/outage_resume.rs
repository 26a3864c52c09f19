//! The suspend grace end to end (wave2-specs §2.3, self-connectivity guard item 3): an agent
//! whose host slept sends no rounds for the suspended time (unknown) and flags the failing
//! rounds of its 30 s grace after the resume `afterResume`; pushed over REST, those rounds are
//! unknown, open no outage and leave the availability unchanged while the coverage drops. The
//! same rounds without the flag are an outage.

use netpulse_adapters::wire_checks::CheckResultBody;
use netpulse_domain::Timestamp;
use netpulse_domain::check::{CheckMeasurement, Family};
use serde_json::{Value, json};

use crate::helpers::{Agent, TestApp};
use crate::outages::{MIN, Round, T0, probe_with_defaults, results};

/// Pushes one round of both families over REST, flagged `afterResume` when `after_resume`.
async fn push_round(
    t: &TestApp,
    a: &Agent,
    checks: &[(netpulse_domain::id::CheckId, Family)],
    m: i64,
    what: Round,
    after_resume: bool,
) {
    let mut batch: Vec<CheckMeasurement> = results(checks, Family::V4, m, what);
    batch.extend(results(checks, Family::V6, m, what));
    let bodies: Vec<Value> = batch
        .iter()
        .map(|r| {
            let mut v = serde_json::to_value(CheckResultBody::from(r)).unwrap();
            if after_resume {
                v["afterResume"] = json!(true);
            }
            v
        })
        .collect();
    let r = t
        .client
        .post(t.url(&format!("/api/v1/probes/{}/check-results", a.probe.id)))
        .bearer_auth(&a.token)
        .json(&json!({ "results": bodies }))
        .send()
        .await
        .unwrap();
    let (s, body) = crate::helpers::answer(r).await;
    assert!(s == 200 || s == 201, "{s} {body}");
}

/// Up for 10 rounds, suspended for an hour (no rounds), two failing rounds right after the
/// resume (flagged or not), then up for 8 rounds.
async fn suspend_scenario(t: &TestApp, name: &str, flagged: bool) -> (Agent, Value, Value) {
    let (a, checks) = probe_with_defaults(t, name).await;
    for m in 0..10 {
        push_round(t, &a, &checks, m, Round::Up, false).await;
    }
    for m in 70..72 {
        push_round(t, &a, &checks, m, Round::Down, flagged).await;
    }
    for m in 72..80 {
        push_round(t, &a, &checks, m, Round::Up, false).await;
    }
    let probe = a.probe.id.to_string();
    let (s, outages) = t.get(&format!("/api/v1/outages?probe={probe}")).await;
    assert_eq!(s, 200, "{outages}");
    let at = |m: i64| Timestamp::from_unix_millis(T0 + m * MIN).to_rfc3339();
    let (s, uptime) = t
        .get(&format!(
            "/api/v1/uptime?probe={probe}&since={}&until={}",
            at(0),
            at(80)
        ))
        .await;
    assert_eq!(s, 200, "{uptime}");
    (a, outages, uptime)
}

fn series<'a>(uptime: &'a Value, family: &str) -> &'a Value {
    uptime["series"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["family"] == family)
        .unwrap_or_else(|| panic!("no {family} series in {uptime}"))
}

pub(crate) async fn failing_rounds_after_a_resume_are_unknown_and_open_no_outage(t: &TestApp) {
    let (a, outages, uptime) = suspend_scenario(t, "resumed", true).await;
    assert_eq!(outages["items"], json!([]), "{outages}");
    for family in ["v4", "v6", "all"] {
        let s = series(&uptime, family);
        // 18 of 80 minutes measured: the suspended hour and the two grace rounds are unknown.
        assert_eq!(s["availability"], json!(1.0), "{s}");
        assert_eq!(s["downtimeSeconds"], json!(0.0), "{s}");
        assert_eq!(s["unknownSeconds"], json!(62.0 * 60.0), "{s}");
        let coverage = s["coverage"].as_f64().unwrap();
        assert!((coverage - 18.0 / 80.0).abs() < 1e-12, "{s}");
    }
    // The flag is stored with the results and read back.
    let (s, page) = t
        .get(&format!(
            "/api/v1/check-results?probe={}&limit=1000",
            a.probe.id
        ))
        .await;
    assert_eq!(s, 200, "{page}");
    let items = page["items"].as_array().unwrap();
    let flagged = |v: &Value| v["afterResume"] == json!(true);
    let at = |m: i64| json!(Timestamp::from_unix_millis(T0 + m * MIN).to_rfc3339());
    assert_eq!(items.iter().filter(|v| flagged(v)).count(), 2 * 8, "{page}");
    assert!(
        items
            .iter()
            .filter(|v| flagged(v))
            .all(|v| v["roundAt"] == at(70) || v["roundAt"] == at(71)),
        "{page}"
    );

    // The same rounds without the flag: an outage in each family and in `all`, and downtime.
    let (_, outages, uptime) = suspend_scenario(t, "not-flagged", false).await;
    assert_eq!(outages["items"].as_array().unwrap().len(), 3, "{outages}");
    let v4 = series(&uptime, "v4");
    assert_eq!(v4["downtimeSeconds"], json!(120.0), "{v4}");
    let coverage = v4["coverage"].as_f64().unwrap();
    assert!((coverage - 20.0 / 80.0).abs() < 1e-12, "{v4}");
}
