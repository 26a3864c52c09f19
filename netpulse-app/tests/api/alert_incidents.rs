//! Incidents of service-check and probe-offline alerts (issue 21): a row when the alert opens,
//! listed on `/incidents` with its kind, subject and the severity its alert carried, reminded
//! once per interval to the check's or probe's contact list, stopped by an acknowledgement
//! (operators and admins), resolved by the recovery. Real server, a webhook receiver.

use netpulse_domain::Timestamp;
use netpulse_domain::access::Role;
use reqwest::Method;
use serde_json::{Value, json};

use crate::checks::{create, push_checks, result};
use crate::helpers::TestApp;
use crate::notifications::{Receiver, eventually};
use crate::probe_alerting::{ack_as, token_of};

async fn settle() {
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
}

/// Probe-offline messages off (the clock moves by hours), a webhook in a list reminding every
/// 30 minutes and another webhook outside it. Returns (list id, listed hook, other hook).
async fn reminding_list(t: &TestApp, probe_offline: bool) -> (String, Receiver, Receiver) {
    let (status, s) = t
        .send(
            Method::PATCH,
            "/api/v1/notifications/settings",
            &json!({"probeOffline": probe_offline}),
        )
        .await;
    assert_eq!(status, 200, "{s}");
    let hook = Receiver::start(&[200]).await;
    let other = Receiver::start(&[200]).await;
    let mut ids = Vec::new();
    for (name, url) in [("on-call", &hook.url), ("other", &other.url)] {
        let (status, c) = t
            .send(
                Method::POST,
                "/api/v1/notifications/channels",
                &json!({"name": name, "type": "webhook", "settings": {"url": url}}),
            )
            .await;
        assert_eq!(status, 201, "{c}");
        ids.push(c["id"].as_str().unwrap().to_owned());
    }
    let (status, l) = t
        .send(
            Method::POST,
            "/api/v1/notifications/contact-lists",
            &json!({"name": "on-call", "channelIds": [ids[0]], "reminderMinutes": 30}),
        )
        .await;
    assert_eq!(status, 201, "{l}");
    (l["id"].as_str().unwrap().to_owned(), hook, other)
}

/// The reminders a receiver got.
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

/// The `entries` of `GET /api/v1/incidents{query}` of `kind`.
async fn entries(t: &TestApp, query: &str, kind: &str) -> Vec<Value> {
    let (status, l) = t.get(&format!("/api/v1/incidents{query}")).await;
    assert_eq!(status, 200, "{l}");
    l["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == kind)
        .cloned()
        .collect()
}

fn rfc(ms: i64) -> String {
    Timestamp::from_unix_millis(ms).to_rfc3339()
}

pub(crate) async fn a_failing_check_is_an_incident_reminded_until_acknowledged(t: &TestApp) {
    let (list, hook, other) = reminding_list(t, false).await;
    let agent = t.probe("home").await;
    let check = create(
        t,
        json!({"probeId": agent.probe.id.to_string(), "kind": "http",
               "target": "https://shop.example/", "family": "v4"}),
    )
    .await;
    let id = check["id"].as_str().unwrap().to_owned();
    let (status, r) = t
        .send(
            Method::PUT,
            &format!("/api/v1/checks/{id}/alerting"),
            &json!({"severity": "high", "contactListId": list}),
        )
        .await;
    assert_eq!(status, 200, "{r}");
    let minute = 60_000;
    let base = (t.clock_now().unix_millis() / minute - 10) * minute;
    let rounds: Vec<Value> = (1..=3)
        .map(|m| result(&id, &rfc(base + m * minute), "v4", "fail"))
        .collect();
    let (status, a) = push_checks(t, &agent, &json!({ "results": rounds })).await;
    assert_eq!(status, 200, "{a}");
    eventually("the check alert", || hook.kinds() == ["alert"]).await;

    // One open incident, of kind `check`, with its subject and the severity it opened with.
    let open = entries(t, "?state=open", "check").await;
    assert_eq!(open.len(), 1, "{open:#?}");
    let e = &open[0];
    assert_eq!(e["subjectId"], id.as_str());
    assert_eq!(
        e["subject"],
        "home: check http https://shop.example/ (IPv4)"
    );
    assert_eq!(e["severity"], "high");
    assert_eq!(e["openedAt"], rfc(base + 3 * minute));
    let incident = e["id"].as_str().unwrap().to_owned();
    let (_, l) = t.get("/api/v1/incidents").await;
    let row = l["outages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["id"] == incident.as_str())
        .cloned()
        .unwrap();
    assert_eq!(row["source"], "check");
    assert_eq!(row["severity"], "high");
    // The severity stays the one it opened with when the check's is changed later.
    let (status, r) = t
        .send(
            Method::PUT,
            &format!("/api/v1/checks/{id}/alerting"),
            &json!({"severity": "low", "contactListId": list}),
        )
        .await;
    assert_eq!(status, 200, "{r}");
    assert_eq!(
        entries(t, "?state=open", "check").await[0]["severity"],
        "high"
    );

    // 29 minutes after the opening: nothing; at 31: one reminder to the list only.
    let opened = base + 3 * minute;
    t.clock
        .set(Timestamp::from_unix_millis(opened + 29 * minute));
    settle().await;
    assert!(reminders(&hook).is_empty(), "no reminder before 30 minutes");
    t.clock
        .set(Timestamp::from_unix_millis(opened + 31 * minute));
    eventually("the first reminder", || reminders(&hook).len() == 1).await;
    settle().await;
    assert_eq!(reminders(&hook).len(), 1, "one reminder per interval");
    let r = &reminders(&hook)[0];
    assert_eq!(r["kind"], "alert");
    assert_eq!(
        r["subject"],
        "[NetPulse] Reminder: home: http https://shop.example/ (IPv4) is still failing"
    );
    let body = r["body"].as_str().unwrap();
    assert!(
        body.contains(&format!("/api/v1/outage-incidents/{incident}/ack")),
        "{body}"
    );
    assert!(body.ends_with("Severity: HIGH\n"), "{body}");
    assert!(other.got().is_empty(), "reminders go to the check's list");

    // A viewer may not acknowledge; an operator may; the audit log has it.
    let viewer = token_of(t, Role::Viewer).await;
    assert_eq!(ack_as(t, &viewer, &incident).await.0, 403);
    let operator = token_of(t, Role::Operator).await;
    let (status, acked) = ack_as(t, &operator, &incident).await;
    assert_eq!(status, 200, "{acked}");
    assert_eq!(acked["state"], "acked");
    assert_eq!(acked["source"], "check");
    let audit = t.app.storage.audit_entries(None, 50).await.unwrap();
    let acks: Vec<_> = audit
        .iter()
        .filter(|e| e.action == "incident.ack")
        .collect();
    assert_eq!(acks.len(), 1, "{audit:?}");
    assert_eq!(acks[0].subject, format!("outage-incident:{incident}"));
    assert_eq!(
        acks[0].detail,
        format!("check {id} on probe {} v4", agent.probe.id)
    );
    assert_eq!(entries(t, "?state=acked", "check").await.len(), 1);
    // No reminder after the acknowledgement.
    t.clock
        .set(Timestamp::from_unix_millis(opened + 95 * minute));
    settle().await;
    assert_eq!(
        reminders(&hook).len(),
        1,
        "the acknowledgement stops reminders"
    );

    // Good rounds recover the check: the incident is resolved.
    let rounds: Vec<Value> = (4..=6)
        .map(|m| result(&id, &rfc(base + m * minute), "v4", "ok"))
        .collect();
    let (status, a) = push_checks(t, &agent, &json!({ "results": rounds })).await;
    assert_eq!(status, 200, "{a}");
    eventually("the recovery", || {
        hook.kinds().contains(&"recovery".to_owned())
    })
    .await;
    let done = entries(t, "?state=resolved", "check").await;
    assert_eq!(done.len(), 1, "{done:#?}");
    assert!(entries(t, "?state=acked", "check").await.is_empty());
    let (status, e) = ack_as(t, &operator, &incident).await;
    assert_eq!(status, 409, "{e}");
}

pub(crate) async fn an_offline_probe_is_an_incident_reminded_until_acknowledged(t: &TestApp) {
    let (list, hook, _other) = reminding_list(t, true).await;
    let agent = t.probe("attic").await;
    let (status, r) = t
        .send(
            Method::PUT,
            &format!("/api/v1/probes/{}/alerting", agent.probe.id),
            &json!({"severity": "medium", "contactListId": list}),
        )
        .await;
    assert_eq!(status, 200, "{r}");
    assert_eq!(t.due(&agent).await.0, 200);
    let polled = t.clock_now();
    t.clock.advance_seconds(151);
    eventually("the offline alert", || hook.kinds() == ["probe_offline"]).await;
    let open = entries(t, "?state=open", "probe_offline").await;
    assert_eq!(open.len(), 1, "{open:#?}");
    assert_eq!(open[0]["subject"], "attic: offline");
    assert_eq!(open[0]["subjectId"], agent.probe.id.to_string());
    assert_eq!(open[0]["severity"], "medium");
    let incident = open[0]["id"].as_str().unwrap().to_owned();

    // 31 minutes after the last poll: one reminder; an acknowledgement stops the next.
    t.clock.set(polled.plus_seconds(31 * 60));
    eventually("the first reminder", || reminders(&hook).len() == 1).await;
    let r = &reminders(&hook)[0];
    assert_eq!(r["kind"], "probe_offline");
    assert_eq!(
        r["subject"],
        "[NetPulse] Reminder: probe attic is still offline"
    );
    assert!(
        r["body"].as_str().unwrap().ends_with("Severity: MEDIUM\n"),
        "{r}"
    );
    let (status, acked) = t
        .send(
            Method::POST,
            &format!("/api/v1/outage-incidents/{incident}/ack"),
            &json!({}),
        )
        .await;
    assert_eq!(status, 200, "{acked}");
    t.clock.set(polled.plus_seconds(95 * 60));
    settle().await;
    assert_eq!(
        reminders(&hook).len(),
        1,
        "the acknowledgement stops reminders"
    );

    // The probe polls again: resolved.
    assert_eq!(t.due(&agent).await.0, 200);
    eventually("the back message", || {
        hook.kinds().contains(&"probe_back".to_owned())
    })
    .await;
    let done = entries(t, "?state=resolved", "probe_offline").await;
    assert_eq!(done.len(), 1, "{done:#?}");
    assert_eq!(done[0]["id"], incident.as_str());
}
