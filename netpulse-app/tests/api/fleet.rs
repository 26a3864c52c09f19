//! The fleet (issue 20): agent states in `GET /api/v1/probes` and `/metrics`, probe
//! maintenance (windows, the manual switch, what `/due` and run-now do meanwhile) and
//! registration tokens with agent self-registration.
#![allow(clippy::float_cmp)] // the values compared are exact (0 or 1)

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::TestApp;

async fn state_of(t: &TestApp, probe: &str) -> Value {
    let (s, p) = t.get(&format!("/api/v1/probes/{probe}")).await;
    assert_eq!(s, 200, "{p}");
    let (s, list) = t.get("/api/v1/probes").await;
    assert_eq!(s, 200, "{list}");
    let listed = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == probe)
        .unwrap();
    assert_eq!(listed["state"], p["state"], "the list and the probe agree");
    p["state"].clone()
}

/// Never seen: OFFLINE; polled: ONLINE; late (> 1.5 polls): DEGRADED; silent longer than
/// max(120, 2 × 60 + 30) = 150 s: OFFLINE.
pub(crate) async fn agent_states_follow_the_one_offline_rule(t: &TestApp) {
    let agent = t.probe("branch-01").await;
    let id = agent.probe.id.to_string();
    let s = state_of(t, &id).await;
    assert_eq!(
        (&s["state"], &s["alive"]),
        (&json!("OFFLINE"), &json!(false)),
        "{s}"
    );
    assert_eq!(s["offlineAfterSeconds"], 150);
    assert_eq!(t.due(&agent).await.0, 200);
    let s = state_of(t, &id).await;
    assert_eq!(
        (&s["state"], &s["reasons"]),
        (&json!("ONLINE"), &json!([])),
        "{s}"
    );
    t.clock.advance_seconds(91);
    let s = state_of(t, &id).await;
    assert_eq!(
        (&s["state"], &s["reasons"]),
        (&json!("DEGRADED"), &json!(["late_poll"])),
        "{s}"
    );
    t.clock.advance_seconds(59);
    assert_eq!(
        state_of(t, &id).await["state"],
        "DEGRADED",
        "150 s: not yet offline"
    );
    t.clock.advance_seconds(1);
    let s = state_of(t, &id).await;
    assert_eq!(
        (&s["state"], &s["alive"]),
        (&json!("OFFLINE"), &json!(false)),
        "{s}"
    );
    assert_eq!(t.due(&agent).await.0, 200);
    assert_eq!(state_of(t, &id).await["state"], "ONLINE");
}

/// The manual switch and scheduled windows: MAINTENANCE (with the liveness underneath), `/due`
/// hands out no tests and an empty check set, run-now is refused, and the windows answer for
/// past times too.
pub(crate) async fn maintenance_suppresses_work_and_shows_in_the_state(t: &TestApp) {
    let agent = t.probe("branch-02").await;
    let id = agent.probe.id.to_string();
    let c = t.connection(&agent.probe.id, "wan1", &[]).await;
    let (s, due) = t.due(&agent).await;
    assert_eq!(s, 200);
    assert_eq!(
        due["tasks"].as_array().unwrap().len(),
        1,
        "first run: {due}"
    );
    assert!(due.get("maintenance").is_none(), "{due}");
    let normal_version = due["checks"]["version"].clone();

    let switch = format!("/api/v1/probes/{id}/maintenance/switch");
    let (s, on) = t
        .send(
            Method::POST,
            &switch,
            &json!({"on": true, "reason": "router swap"}),
        )
        .await;
    assert_eq!(s, 200, "{on}");
    assert_eq!(on["inMaintenance"], true);
    assert_eq!(on["window"]["manual"], true);
    assert_eq!(on["window"]["endsAt"], Value::Null);
    let st = state_of(t, &id).await;
    assert_eq!(
        (&st["state"], &st["alive"]),
        (&json!("MAINTENANCE"), &json!(true)),
        "{st}"
    );
    assert_eq!(st["maintenanceReason"], "router swap");
    // Switching on again keeps the one window.
    let (_, again) = t.send(Method::POST, &switch, &json!({"on": true})).await;
    assert_eq!(again["window"]["id"], on["window"]["id"]);

    let (s, due) = t.due(&agent).await;
    assert_eq!(s, 200);
    assert_eq!(due["tasks"], json!([]), "no tests in maintenance: {due}");
    assert_eq!(due["maintenance"], true);
    assert_eq!(due["checks"]["version"], "maintenance");
    assert_eq!(due["checks"]["items"], json!([]));
    let (s, refused) = t
        .send(
            Method::POST,
            &format!("/api/v1/connections/{}/run", c.id),
            &json!({}),
        )
        .await;
    assert_eq!(s, 409, "run-now in maintenance: {refused}");
    // Silence in maintenance: still MAINTENANCE, dead underneath.
    t.clock.advance_seconds(1_000);
    let st = state_of(t, &id).await;
    assert_eq!(
        (&st["state"], &st["alive"]),
        (&json!("MAINTENANCE"), &json!(false)),
        "{st}"
    );

    let (s, off) = t.send(Method::POST, &switch, &json!({"on": false})).await;
    assert_eq!((s, &off["inMaintenance"]), (200, &json!(false)), "{off}");
    let (_, due) = t.due(&agent).await;
    assert!(due.get("maintenance").is_none(), "{due}");
    assert_eq!(
        due["checks"]["version"], normal_version,
        "the real check set again"
    );
    assert_eq!(state_of(t, &id).await["state"], "ONLINE");

    // A scheduled window an hour from now, for 30 minutes.
    let now = t.clock_now();
    let window = json!({
        "startsAt": now.plus_seconds(3_600).to_rfc3339(),
        "endsAt": now.plus_seconds(5_400).to_rfc3339(),
        "reason": "ISP works",
    });
    let path = format!("/api/v1/probes/{id}/maintenance");
    let (s, w) = t.send(Method::POST, &path, &window).await;
    assert_eq!(s, 201, "{w}");
    let (_, list) = t.get(&path).await;
    assert_eq!(
        list["items"].as_array().unwrap().len(),
        1,
        "the ended manual one is gone: {list}"
    );
    assert_eq!(state_of(t, &id).await["state"], "ONLINE");
    t.clock.advance_seconds(3_600);
    assert_eq!(t.due(&agent).await.1["maintenance"], true);
    assert_eq!(state_of(t, &id).await["state"], "MAINTENANCE");
    // What other features ask: was the probe in maintenance at a time (past ones too)?
    let in_m = |secs: i64| {
        netpulse_app::service::fleet::probe_in_maintenance(
            &t.app,
            &agent.probe.id,
            now.plus_seconds(secs),
        )
    };
    assert!(!in_m(3_599).await.unwrap());
    assert!(in_m(3_600).await.unwrap());
    assert!(in_m(5_399).await.unwrap());
    assert!(!in_m(5_400).await.unwrap());
    assert!(in_m(-100).await.unwrap(), "the manual window, in the past");
    t.clock.advance_seconds(1_800);
    assert!(t.due(&agent).await.1.get("maintenance").is_none());

    // Bad input names its field; unknown probes and windows are 404.
    let bad = json!({"startsAt": now.to_rfc3339(), "endsAt": now.plus_seconds(-1).to_rfc3339()});
    let (s, e) = t.send(Method::POST, &path, &bad).await;
    assert_eq!((s, &e["field"]), (400, &json!("endsAt")), "{e}");
    let (s, e) = t
        .send(Method::POST, &path, &json!({"startsAt": "soon"}))
        .await;
    assert_eq!((s, &e["field"]), (400, &json!("startsAt")), "{e}");
    let (s, e) = t.send(Method::POST, &switch, &json!({})).await;
    assert_eq!((s, &e["field"]), (400, &json!("on")), "{e}");
    let unknown = "/api/v1/probes/00000000-0000-4000-8000-00000000abcd/maintenance";
    assert_eq!(t.get(unknown).await.0, 404);
    let (s, _) = t
        .send(
            Method::DELETE,
            &format!("{path}/{}", w["id"].as_str().unwrap()),
            &json!({}),
        )
        .await;
    assert_eq!(s, 204);
    let (s, _) = t
        .send(
            Method::DELETE,
            &format!("{path}/{}", w["id"].as_str().unwrap()),
            &json!({}),
        )
        .await;
    assert_eq!(s, 404);
}

/// `netpulse_probe_state{state}`: 1 for the probe's state, 0 for the others.
pub(crate) async fn probe_state_is_a_metric(t: &TestApp) {
    let agent = t.probe("branch-03").await;
    let value = |e: &crate::metrics::Exposition, state: &str| {
        e.value(
            "netpulse_probe_state",
            &[("probe", "branch-03"), ("state", state)],
        )
    };
    let e = crate::metrics::exposition(t).await;
    assert_eq!(value(&e, "OFFLINE"), 1.0);
    assert_eq!(value(&e, "ONLINE"), 0.0);
    t.due(&agent).await;
    let e = crate::metrics::exposition(t).await;
    assert_eq!(
        ["ONLINE", "DEGRADED", "OFFLINE", "MAINTENANCE"].map(|s| value(&e, s)),
        [1.0, 0.0, 0.0, 0.0]
    );
    let switch = format!("/api/v1/probes/{}/maintenance/switch", agent.probe.id);
    t.send(Method::POST, &switch, &json!({"on": true})).await;
    let e = crate::metrics::exposition(t).await;
    assert_eq!(value(&e, "MAINTENANCE"), 1.0);
    assert_eq!(value(&e, "ONLINE"), 0.0);
}

async fn register(t: &TestApp, body: &Value) -> (u16, Value) {
    let r = t
        .client
        .post(t.url("/api/v1/agents/register"))
        .json(body)
        .send()
        .await
        .unwrap();
    crate::helpers::answer(r).await
}

async fn due_with(t: &TestApp, probe: &str, token: &str) -> u16 {
    let r = t
        .client
        .get(t.url(&format!("/api/v1/probes/{probe}/due")))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    r.status().as_u16()
}

/// Registration tokens: created with labels and a use count; an agent registers, gets a probe
/// and a token; the same name and machine again is the same probe with a new token; the spent,
/// revoked or unknown token registers nothing new; the secret is never listed.
pub(crate) async fn agents_register_themselves_with_a_token(t: &TestApp) {
    let (s, issued) = t
        .send(
            Method::POST,
            "/api/v1/registration-tokens",
            &json!({"name": "branches", "maxUses": 1, "labels": {"site": "eu"}}),
        )
        .await;
    assert_eq!(s, 201, "{issued}");
    let secret = issued["secret"].as_str().unwrap().to_owned();
    assert_eq!(secret.len(), 43);
    assert_eq!(issued["token"]["status"], "active");
    let body = json!({
        "token": secret, "name": "branch-07", "location": "Lyon", "machineId": "m-7",
    });
    let (s, first) = register(t, &body).await;
    assert_eq!(s, 201, "{first}");
    assert_eq!(first["created"], true);
    let probe = first["probe"]["id"].as_str().unwrap().to_owned();
    assert_eq!(first["probe"]["name"], "branch-07");
    assert_eq!(
        first["probe"]["labels"],
        json!({"site": "eu", "location": "Lyon"})
    );
    let token1 = first["token"].as_str().unwrap().to_owned();
    assert_eq!(due_with(t, &probe, &token1).await, 200);

    // The same agent again (its state directory was lost): the same probe, a new token.
    let (s, again) = register(t, &body).await;
    assert_eq!(s, 200, "{again}");
    assert_eq!(
        (&again["created"], &again["probe"]["id"]),
        (&json!(false), &json!(probe))
    );
    let token2 = again["token"].as_str().unwrap().to_owned();
    assert_eq!(
        due_with(t, &probe, &token1).await,
        401,
        "the old token stops"
    );
    assert_eq!(due_with(t, &probe, &token2).await, 200);
    let (_, probes) = t.get("/api/v1/probes").await;
    assert_eq!(
        probes["items"].as_array().unwrap().len(),
        1,
        "no duplicate: {probes}"
    );

    // Its one use is spent: another machine is refused.
    let other = json!({"token": body["token"], "name": "branch-08", "machineId": "m-8"});
    let (s, e) = register(t, &other).await;
    assert_eq!(s, 403, "{e}");
    assert!(
        e["message"].as_str().unwrap().contains("no uses left"),
        "{e}"
    );
    let (s, _) = register(
        t,
        &json!({"token": "x".repeat(43), "name": "a", "machineId": "m"}),
    )
    .await;
    assert_eq!(s, 401);
    let (s, e) = register(
        t,
        &json!({"token": body["token"], "name": "a", "machineId": "a b"}),
    )
    .await;
    assert_eq!((s, &e["field"]), (400, &json!("machineId")), "{e}");

    let (s, list) = t.get("/api/v1/registration-tokens").await;
    assert_eq!(s, 200);
    let item = &list["items"][0];
    assert_eq!(
        (&item["uses"], &item["status"]),
        (&json!(1), &json!("used_up")),
        "{list}"
    );
    assert!(
        !list.to_string().contains(&secret),
        "the secret is never listed"
    );

    // Revoked: even the known agent cannot register again.
    let id = item["id"].as_str().unwrap();
    let (s, _) = t
        .send(
            Method::POST,
            &format!("/api/v1/registration-tokens/{id}/revoke"),
            &json!({}),
        )
        .await;
    assert_eq!(s, 204);
    let (s, e) = register(t, &body).await;
    assert_eq!(s, 403, "{e}");
    assert_eq!(
        due_with(t, &probe, &token2).await,
        200,
        "its probe keeps working"
    );

    let (s, e) = t
        .send(
            Method::POST,
            "/api/v1/registration-tokens",
            &json!({"name": "x", "maxUses": 0}),
        )
        .await;
    assert_eq!((s, &e["field"]), (400, &json!("maxUses")), "{e}");
    let past = t.clock_now().plus_seconds(-1).to_rfc3339();
    let (s, e) = t
        .send(
            Method::POST,
            "/api/v1/registration-tokens",
            &json!({"name": "x", "expiresAt": past}),
        )
        .await;
    assert_eq!((s, &e["field"]), (400, &json!("expiresAt")), "{e}");
}
