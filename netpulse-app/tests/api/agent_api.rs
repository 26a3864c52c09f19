//! The agent API, every route and error case.

use serde_json::{Value, json};

use crate::helpers::{TestApp, ookla_stdout, push_body};

fn tasks(v: &Value) -> &Vec<Value> {
    v["tasks"].as_array().expect("tasks")
}

pub(crate) async fn first_run_then_schedule_then_rotation(t: &TestApp) {
    let agent = t.probe("home").await;
    let c = t
        .connection(&agent.probe.id, "wan1", &["12746", "fra.example:8080"])
        .await;
    let (status, due) = t.due(&agent).await;
    assert_eq!(status, 200, "{due}");
    assert_eq!(due["pollAfterSeconds"], 60);
    let task = &tasks(&due)[0];
    assert_eq!(task["connectionId"], c.id.as_str());
    assert_eq!(task["reason"], "first_run");
    assert_eq!(task["poolEntry"], "12746");
    assert_eq!(task["engine"], "ookla");
    assert_eq!(task["scheduled"], true);
    assert_eq!(task["serverId"], "12746");
    assert_eq!(task["taskId"].as_str().unwrap().len(), 36);

    // The poll was recorded with the agent's details.
    let probe = t.app.storage.probe(&agent.probe.id).await.unwrap().unwrap();
    assert_eq!(probe.agent_version.as_deref(), Some("9.9.9"));
    assert_eq!(probe.last_poll_at, Some(t.clock_now()));

    let (status, recorded) = t
        .push(
            &agent,
            &push_body(t.clock_now(), &c, Some("12746"), &ookla_stdout(), 0, true),
        )
        .await;
    assert_eq!(status, 201, "{recorded}");
    assert_eq!(recorded["status"], "completed");
    assert_eq!(
        recorded["healthy"], false,
        "upload 49 Mbps of 500 is below 70 %"
    );
    assert_eq!(recorded["breaches"], json!(["upload_below"]));
    assert_eq!(recorded["alreadyRecorded"], false);

    let (_, due) = t.due(&agent).await;
    assert!(tasks(&due).is_empty(), "not due again right away: {due}");
    t.clock.advance_seconds(3599);
    let (_, due) = t.due(&agent).await;
    // Degraded (the last result was unhealthy): retested after the adaptive 300 s instead.
    assert_eq!(tasks(&due)[0]["reason"], "adaptive");
    assert_eq!(
        tasks(&due)[0]["poolEntry"],
        "fra.example:8080",
        "rotation on the requested entry"
    );
    assert_eq!(tasks(&due)[0]["serverId"], "fra.example:8080");
}

pub(crate) async fn degraded_connections_are_retested_sooner(t: &TestApp) {
    let agent = t.probe("home").await;
    let c = t.connection(&agent.probe.id, "wan1", &["a", "b"]).await;
    // A healthy result: due again only after the full hour.
    let stdout = ookla_stdout().replace("6181475", "60000000");
    let (s, r) = t
        .push(
            &agent,
            &push_body(t.clock_now(), &c, Some("a"), &stdout, 0, true),
        )
        .await;
    assert_eq!((s, &r["healthy"]), (201, &json!(true)), "{r}");
    t.clock.advance_seconds(600);
    assert!(tasks(&t.due(&agent).await.1).is_empty());
    t.clock.advance_seconds(3000);
    assert_eq!(tasks(&t.due(&agent).await.1)[0]["reason"], "schedule");
    // A failure: due again after 300 s.
    let failed = push_body(
        t.clock_now(),
        &c,
        Some("b"),
        r#"{"type":"log","level":"error","message":"Cannot open socket"}"#,
        2,
        true,
    );
    let (s, r) = t.push(&agent, &failed).await;
    assert_eq!((s, &r["status"]), (201, &json!("failed")), "{r}");
    assert_eq!(r["breaches"], json!(["test_failed"]));
    t.clock.advance_seconds(299);
    assert!(tasks(&t.due(&agent).await.1).is_empty());
    t.clock.advance_seconds(1);
    let (_, due) = t.due(&agent).await;
    assert_eq!(tasks(&due)[0]["reason"], "adaptive");
    assert_eq!(tasks(&due)[0]["poolEntry"], "a");
}

pub(crate) async fn pushes_are_idempotent(t: &TestApp) {
    let agent = t.probe("home").await;
    let c = t.connection(&agent.probe.id, "wan1", &[]).await;
    let body = push_body(t.clock_now(), &c, None, &ookla_stdout(), 0, true);
    let (s1, first) = t.push(&agent, &body).await;
    let (s2, second) = t.push(&agent, &body).await;
    assert_eq!((s1, s2), (201, 200));
    assert_eq!(first["id"], second["id"]);
    assert_eq!(second["alreadyRecorded"], true);
    let (_, list) = t
        .get(&format!("/api/v1/measurements?connection={}", c.id))
        .await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
}

pub(crate) async fn php_agent_bodies_are_accepted(t: &TestApp) {
    let agent = t.probe("home").await;
    let c = t
        .connection(&agent.probe.id, "wan1", &["12746", "99"])
        .await;
    let mut body: Value = serde_json::from_str(&ookla_stdout()).unwrap();
    body["connectionId"] = json!(c.id.as_str());
    body["scheduled"] = json!(true);
    let (status, r) = t.push(&agent, &body).await;
    assert_eq!(status, 201, "{r}");
    assert_eq!(r["status"], "completed");
    let (_, m) = t
        .get(&format!(
            "/api/v1/measurements/{}",
            r["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(m["downloadBitsPerSecond"], json!(116_445_504_f64 * 8.0));
    assert_eq!(m["engine"], "ookla");
    assert!(
        m["stdout"]
            .as_str()
            .unwrap()
            .contains("\"bandwidth\":116445504")
    );
    assert!(!m["stdout"].as_str().unwrap().contains("connectionId"));

    // A failed-shaped body carries the requested server, which becomes the pool entry.
    let failed = json!({
        "connectionId": c.id.as_str(), "scheduled": true, "type": "error", "error": "boom",
        "server": {"id": 99, "host": "edge.example", "port": 5060}, "isp": "DT"
    });
    let (status, r) = t.push(&agent, &failed).await;
    assert_eq!(status, 201, "{r}");
    assert_eq!(r["status"], "failed");
    let (_, m) = t
        .get(&format!(
            "/api/v1/measurements/{}",
            r["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(m["poolEntry"], "99");
    assert_eq!(m["serverHost"], "edge.example:5060");
    assert_eq!(m["isp"], "DT");
    // Missing `type` on a body without resultId.
    let (status, r) = t
        .push(&agent, &json!({"connectionId": c.id.as_str()}))
        .await;
    assert_eq!((status, &r["field"]), (400, &json!("type")), "{r}");
}

pub(crate) async fn authentication_errors(t: &TestApp) {
    let agent = t.probe("home").await;
    let other = t.probe("other").await;
    let theirs = t.connection(&other.probe.id, "theirs", &[]).await;
    let due_url = t.url(&format!("/api/v1/probes/{}/due", agent.probe.id));

    let none = crate::helpers::answer(t.client.get(&due_url).send().await.unwrap()).await;
    let wrong = crate::helpers::answer(
        t.client
            .get(&due_url)
            .bearer_auth("wrong")
            .send()
            .await
            .unwrap(),
    )
    .await;
    let unknown_url = t.url("/api/v1/probes/00000000-0000-4000-8000-000000000000/due");
    let unknown = crate::helpers::answer(
        t.client
            .get(&unknown_url)
            .bearer_auth(&agent.token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(none.0, 401);
    assert_eq!(wrong, none, "wrong token and no token answer alike");
    assert_eq!(unknown, none, "an unknown probe answers like a wrong token");
    // Another probe's token does not open this probe.
    let cross = crate::helpers::answer(
        t.client
            .get(&due_url)
            .bearer_auth(&other.token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(cross, none);

    let malformed = t.url("/api/v1/probes/not-a-uuid/due");
    let (status, body) = crate::helpers::answer(
        t.client
            .get(&malformed)
            .bearer_auth(&agent.token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((status, &body["field"]), (400, &json!("probeId")), "{body}");

    // A connection of another probe.
    let (status, body) = t
        .push(
            &agent,
            &push_body(t.clock_now(), &theirs, None, "{}", 0, true),
        )
        .await;
    assert_eq!(
        (status, &body["code"]),
        (403, &json!("forbidden")),
        "{body}"
    );

    // A disabled probe.
    t.app
        .storage
        .set_probe_enabled(&agent.probe.id, false)
        .await
        .unwrap();
    let (status, body) = t.due(&agent).await;
    assert_eq!(
        (status, &body["code"]),
        (403, &json!("forbidden")),
        "{body}"
    );

    // Rotating the token retires the old one at once.
    t.app
        .storage
        .set_probe_enabled(&agent.probe.id, true)
        .await
        .unwrap();
    let (s, rotated) = t
        .send(
            reqwest::Method::POST,
            &format!("/api/v1/probes/{}/rotate-token", agent.probe.id),
            &json!({}),
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(t.due(&agent).await.0, 401);
    let fresh = crate::helpers::Agent {
        probe: agent.probe.clone(),
        token: rotated["token"].as_str().unwrap().to_owned(),
    };
    assert_eq!(t.due(&fresh).await.0, 200);
}

pub(crate) async fn body_errors_name_the_field(t: &TestApp) {
    let agent = t.probe("home").await;
    let c = t.connection(&agent.probe.id, "wan1", &[]).await;
    let good = push_body(t.clock_now(), &c, None, &ookla_stdout(), 0, true);
    let cases: Vec<(&str, Value)> = vec![
        ("resultId", json!("nope")),
        ("connectionId", json!("nope")),
        ("engine", json!("speedtest")),
        ("startedAt", json!("yesterday")),
        ("finishedAt", json!(12)),
        ("exitCode", json!("zero")),
        ("scheduled", json!("yes")),
        ("poolEntry", json!("ftp://x")),
        ("stdout", json!(["a"])),
        ("taskId", json!("x")),
        ("extra", json!(1)),
    ];
    for (field, value) in cases {
        let mut body = good.clone();
        body[field] = value;
        let (status, answer) = t.push(&agent, &body).await;
        assert_eq!(status, 400, "{field}: {answer}");
        assert_eq!(answer["field"], field, "{answer}");
        assert_eq!(answer["code"], "invalid");
    }
    let mut missing = good.clone();
    missing.as_object_mut().unwrap().remove("engine");
    let (status, answer) = t.push(&agent, &missing).await;
    assert_eq!((status, &answer["field"]), (400, &json!("engine")));

    let raw = t
        .client
        .post(t.url(&format!("/api/v1/probes/{}/results", agent.probe.id)))
        .bearer_auth(&agent.token)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    let (status, answer) = crate::helpers::answer(raw).await;
    assert_eq!(status, 400, "{answer}");
    assert_eq!(answer["code"], "invalid");
    // Nothing was stored by any of these.
    let (_, list) = t.get("/api/v1/measurements").await;
    assert!(list["items"].as_array().unwrap().is_empty());
}

pub(crate) async fn config_health_ping_and_healthcheck(t: &TestApp) {
    let agent = t.probe("home").await;
    let c = t.connection(&agent.probe.id, "wan1", &["a"]).await;
    let get = |path: String, token: String| async move {
        crate::helpers::answer(
            t.client
                .get(t.url(&path))
                .bearer_auth(token)
                .send()
                .await
                .unwrap(),
        )
        .await
    };
    let (s, cfg) = get(
        format!("/api/v1/probes/{}/config", agent.probe.id),
        agent.token.clone(),
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(cfg["probe"]["id"], agent.probe.id.as_str());
    assert_eq!(cfg["connections"][0]["id"], c.id.as_str());
    assert_eq!(cfg["connections"][0]["serverPool"], json!(["a"]));

    let health = format!("/api/v1/probes/{}/health", agent.probe.id);
    let (s, h) = get(health.clone(), agent.token.clone()).await;
    assert_eq!(
        (s, &h["healthy"]),
        (503, &json!(false)),
        "never polled: {h}"
    );
    t.due(&agent).await;
    let (s, h) = get(health.clone(), agent.token.clone()).await;
    assert_eq!(
        (s, &h["healthy"], &h["staleAfterSeconds"]),
        (200, &json!(true), &json!(150)),
        "{h}"
    );
    t.clock.advance_seconds(150);
    assert_eq!(get(health.clone(), agent.token.clone()).await.0, 200);
    t.clock.advance_seconds(1);
    assert_eq!(get(health, agent.token.clone()).await.0, 503);

    let ping =
        crate::helpers::answer(t.client.get(t.url("/api/v1/ping")).send().await.unwrap()).await;
    assert_eq!(ping, (200, json!({"status": "ok"})));
    let hc = crate::helpers::answer(
        t.client
            .get(t.url("/api/v1/healthcheck"))
            .bearer_auth(&t.api_token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(hc.0, 200);
    assert_eq!(hc.1["database"], "up", "the state, with an API token");
    let missing =
        crate::helpers::answer(t.client.get(t.url("/api/v1/nothing")).send().await.unwrap()).await;
    assert_eq!((missing.0, &missing.1["code"]), (404, &json!("not_found")));
    let wrong_method =
        crate::helpers::answer(t.client.delete(t.url("/api/v1/ping")).send().await.unwrap()).await;
    assert_eq!(wrong_method.0, 405);
}

pub(crate) async fn run_now_flows_through_due_and_results(t: &TestApp) {
    let agent = t.probe("home").await;
    let c = t
        .connection(&agent.probe.id, "wan1", &["a", "b", "c"])
        .await;
    // First run is handed out and completed.
    t.due(&agent).await;
    t.push(
        &agent,
        &push_body(
            t.clock_now(),
            &c,
            Some("a"),
            &ookla_stdout().replace("6181475", "60000000"),
            0,
            true,
        ),
    )
    .await;
    let run = format!("/api/v1/connections/{}/run", c.id);
    assert_eq!(t.get(&run).await.1["state"], "idle");
    let (s, queued) = t
        .send(reqwest::Method::POST, &run, &json!({"poolEntry": "c"}))
        .await;
    assert_eq!(
        (s, &queued["state"], &queued["poolEntry"]),
        (202, &json!("queued"), &json!("c")),
        "{queued}"
    );
    let (_, due) = t.due(&agent).await;
    let task = &tasks(&due)[0];
    assert_eq!(
        (&task["reason"], &task["poolEntry"], &task["scheduled"]),
        (&json!("run_now"), &json!("c"), &json!(false))
    );
    assert_eq!(t.get(&run).await.1["state"], "running");
    assert!(tasks(&t.due(&agent).await.1).is_empty(), "taken once");
    let (s, _) = t
        .push(
            &agent,
            &push_body(t.clock_now(), &c, Some("c"), &ookla_stdout(), 0, false),
        )
        .await;
    assert_eq!(s, 201);
    assert_eq!(t.get(&run).await.1["state"], "done");
    let (_, list) = t
        .get(&format!(
            "/api/v1/measurements?connection={}&scheduled=false",
            c.id
        ))
        .await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1);

    // A disabled connection cannot be run; a bad pin is named.
    let (s, body) = t
        .send(
            reqwest::Method::POST,
            &run,
            &json!({"poolEntry": "ftp://x"}),
        )
        .await;
    assert_eq!((s, &body["field"]), (400, &json!("poolEntry")));
    t.app
        .storage
        .set_connection_enabled(&c.id, false)
        .await
        .unwrap();
    let (s, body) = t.send(reqwest::Method::POST, &run, &json!({})).await;
    assert_eq!((s, &body["code"]), (409, &json!("conflict")), "{body}");
}

impl TestApp {
    pub(crate) fn clock_now(&self) -> netpulse_domain::Timestamp {
        use netpulse_ports::clock::Clock;
        self.clock.now()
    }
}
