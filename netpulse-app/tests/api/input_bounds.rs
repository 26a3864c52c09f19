//! Input a new user typed wrong, refused with a message naming the field: cron expressions
//! that name a weekday in the minute field or never fire, a time zone given with an even
//! schedule, result times that cannot be a test's.

use serde_json::{Value, json};

use crate::helpers::{TestApp, ookla_stdout, push_body};

/// Creates a connection with `body` merged in; the 400's field and message.
async fn refused(t: &TestApp, probe: &str, extra: Value) -> (Value, String) {
    let mut body = json!({"probeId": probe, "name": "x"});
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    let (status, answer) = t
        .send(reqwest::Method::POST, "/api/v1/connections", &body)
        .await;
    assert_eq!(status, 400, "{body} → {answer}");
    (
        answer["field"].clone(),
        answer["message"].as_str().unwrap_or_default().to_owned(),
    )
}

pub(crate) async fn cron_and_time_zone_mistakes_are_refused(t: &TestApp) {
    let agent = t.probe("home").await;
    let pid = agent.probe.id.as_str();
    let (field, detail) = refused(t, pid, json!({"cron": ["MON * * * *"]})).await;
    assert_eq!(field, "cron");
    assert!(detail.contains("minute field \"MON\""), "{detail}");
    let (field, detail) = refused(t, pid, json!({"cron": ["0 0 31 2 *"]})).await;
    assert_eq!(field, "cron");
    assert!(detail.contains("never fires"), "{detail}");
    let (field, detail) = refused(t, pid, json!({"cron": ["0 25 * * *"]})).await;
    assert_eq!(field, "cron");
    assert!(detail.contains("hour field \"25\""), "{detail}");
    assert!(!detail.contains("Component error"), "{detail}");
    // A time zone with an even schedule is checked too, on create and on update.
    let (field, detail) =
        refused(t, pid, json!({"testsPerDay": 24, "timezone": "Mars/Base"})).await;
    assert_eq!(field, "timezone");
    assert!(detail.contains("Mars/Base"), "{detail}");
    let c = t.connection(&agent.probe.id, "wan1", &[]).await;
    let path = format!("/api/v1/connections/{}", c.id);
    let (status, answer) = t
        .send(
            reqwest::Method::PATCH,
            &path,
            &json!({"timezone": "Mars/Base"}),
        )
        .await;
    assert_eq!(
        (status, &answer["field"]),
        (400, &json!("timezone")),
        "{answer}"
    );
    // A valid one is accepted (and unused by the even schedule).
    let (status, answer) = t
        .send(
            reqwest::Method::PATCH,
            &path,
            &json!({"timezone": "Europe/Berlin"}),
        )
        .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["schedule"], "even");
    // The weekday where it belongs still works.
    let (status, answer) = t
        .send(
            reqwest::Method::PATCH,
            &path,
            &json!({"cron": ["0 9 * * MON-FRI"], "timezone": "Europe/Berlin"}),
        )
        .await;
    assert_eq!(status, 200, "{answer}");
}

pub(crate) async fn result_times_are_bounded(t: &TestApp) {
    let agent = t.probe("home").await;
    let c = t.connection(&agent.probe.id, "wan1", &[]).await;
    let now = t.clock_now();
    let good = push_body(now, &c, None, &ookla_stdout(), 0, true);
    for (started, finished, field) in [
        ("0000-01-01T00:00:00Z", now.to_rfc3339(), "startedAt"),
        ("1999-12-31T23:59:59Z", now.to_rfc3339(), "startedAt"),
        (
            &now.plus_seconds(2 * 86_400).to_rfc3339(),
            now.plus_seconds(2 * 86_400 + 30).to_rfc3339(),
            "startedAt",
        ),
        (
            &now.plus_seconds(-30).to_rfc3339(),
            now.plus_seconds(-60).to_rfc3339(),
            "finishedAt",
        ),
        (
            &now.plus_seconds(-30).to_rfc3339(),
            now.plus_seconds(3 * 86_400).to_rfc3339(),
            "finishedAt",
        ),
    ] {
        let mut body = good.clone();
        body["startedAt"] = json!(started);
        body["finishedAt"] = json!(finished);
        let (status, answer) = t.push(&agent, &body).await;
        assert_eq!(status, 400, "{started}..{finished}: {answer}");
        assert_eq!(answer["field"], field, "{answer}");
    }
    let (_, list) = t.get("/api/v1/measurements").await;
    assert!(list["items"].as_array().unwrap().is_empty(), "{list}");
    // A month-old result (a replayed spool) and a clock a few minutes ahead are fine.
    let mut old = good.clone();
    old["startedAt"] = json!(now.plus_seconds(-30 * 86_400).to_rfc3339());
    old["finishedAt"] = json!(now.plus_seconds(-30 * 86_400 + 30).to_rfc3339());
    assert_eq!(t.push(&agent, &old).await.0, 201);
    let mut ahead = push_body(now.plus_seconds(300), &c, None, &ookla_stdout(), 0, true);
    ahead["startedAt"] = json!(now.plus_seconds(270).to_rfc3339());
    assert_eq!(t.push(&agent, &ahead).await.0, 201);
}

/// `serve --local-agent --local-agent-target URL` on a later start: applied to the local
/// probe's one connection; with several, not applied and the reason names them.
pub(crate) async fn the_local_agent_target_is_applied_on_every_start(t: &TestApp) {
    use netpulse_app::service::local_agent::{TargetOutcome, ensure_probe};
    let pool = |c: &netpulse_domain::model::Connection| -> Vec<String> {
        c.pool.entries().iter().map(ToString::to_string).collect()
    };
    let connections = |id| async move {
        netpulse_app::service::connections::list(&t.app, Some(id))
            .await
            .unwrap()
    };
    // First start without Ookla and without a target: the default HTTP target.
    let (probe, outcome) = ensure_probe(&t.app, "box", false, None).await.unwrap();
    assert_eq!(outcome, TargetOutcome::NotGiven);
    let first = connections(&probe.id).await;
    assert_eq!(pool(&first[0]), ["https://speed.cloudflare.com"]);
    // A later start with a target: the pool follows it (and says what it was).
    let lan = "http://192.168.1.10:8080";
    let (again, outcome) = ensure_probe(&t.app, "box", false, Some(lan)).await.unwrap();
    assert_eq!(again.id, probe.id);
    assert_eq!(
        outcome,
        TargetOutcome::Applied {
            connection: "internet".into(),
            previous_pool: vec!["https://speed.cloudflare.com".into()],
        }
    );
    assert_eq!(pool(&connections(&probe.id).await[0]), [lan]);
    let (_, outcome) = ensure_probe(&t.app, "box", true, Some(lan)).await.unwrap();
    assert_eq!(outcome, TargetOutcome::Unchanged);
    // Without a target the pool is left alone.
    let (_, outcome) = ensure_probe(&t.app, "box", true, None).await.unwrap();
    assert_eq!(outcome, TargetOutcome::NotGiven);
    assert_eq!(pool(&connections(&probe.id).await[0]), [lan]);
    // Two connections: the server cannot tell which one is meant, and says so.
    t.connection(&probe.id, "backup", &[]).await;
    let (_, outcome) = ensure_probe(&t.app, "box", false, Some("http://10.0.0.2"))
        .await
        .unwrap();
    let TargetOutcome::NotApplied(why) = outcome else {
        panic!("{outcome:?}")
    };
    assert!(
        why.contains("2 connections (") && why.contains("backup"),
        "{why}"
    );
    let internet = connections(&probe.id)
        .await
        .into_iter()
        .find(|c| c.name.to_string() == "internet")
        .unwrap();
    assert_eq!(pool(&internet), [lan], "left alone");
    // A bad target is refused naming the field.
    let e = ensure_probe(&t.app, "box", false, Some("ftp://x"))
        .await
        .unwrap_err();
    assert!(
        matches!(&e, netpulse_app::error::AppError::Invalid { field, .. } if field == "serverPool" || field == "server_pool"),
        "{e:?}"
    );
}

/// An agent that says it cannot run Ookla (`X-NetPulse-Agent-Engines: http`) is handed the
/// pool's HTTP entry, not the Ookla one; an agent that names both gets the rotation.
pub(crate) async fn tasks_follow_the_engines_the_agent_advertises(t: &TestApp) {
    let agent = t.probe("home").await;
    t.connection(&agent.probe.id, "wan1", &["12345", "https://speed.example"])
        .await;
    let due = |engines: &'static str| {
        let agent = &agent;
        async move {
            crate::helpers::answer(
                t.client
                    .get(t.url(&format!("/api/v1/probes/{}/due", agent.probe.id)))
                    .bearer_auth(&agent.token)
                    .header("X-NetPulse-Agent-Version", "9.9.9")
                    .header("X-NetPulse-Agent-Engines", engines)
                    .send()
                    .await
                    .unwrap(),
            )
            .await
        }
    };
    let (status, plan) = due("http").await;
    assert_eq!(status, 200, "{plan}");
    let tasks = plan["tasks"].as_array().unwrap();
    assert_eq!(tasks.len(), 1, "{plan}");
    assert_eq!(tasks[0]["engine"], "http", "{plan}");
    assert_eq!(tasks[0]["poolEntry"], "https://speed.example");
    let (_, plan) = due("ookla,http").await;
    assert_eq!(plan["tasks"][0]["engine"], "ookla", "{plan}");
}

/// A connection saved before the cron field rules (`MON * * * *` was accepted) still loads and
/// is listed; editing it asks for a valid expression.
pub(crate) async fn connections_saved_before_the_cron_rules_still_load(t: &TestApp) {
    let agent = t.probe("home").await;
    let pid = agent.probe.id.as_str();
    let (status, c) = t
        .send(
            reqwest::Method::POST,
            "/api/v1/connections",
            &json!({"probeId": pid, "name": "old", "cron": ["1 * * * *"]}),
        )
        .await;
    assert_eq!(status, 201, "{c}");
    let id = c["id"].as_str().unwrap().to_owned();
    let sql =
        format!("UPDATE connections SET cron_expressions = '[\"MON * * * *\"]' WHERE id = '{id}'");
    if t.db_url.starts_with("sqlite") {
        let mut db = <sqlx::SqliteConnection as sqlx::Connection>::connect(&t.db_url)
            .await
            .unwrap();
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .execute(&mut db)
            .await
            .unwrap();
    } else {
        let mut db = <sqlx::PgConnection as sqlx::Connection>::connect(&t.db_url)
            .await
            .unwrap();
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .execute(&mut db)
            .await
            .unwrap();
    }
    let (status, list) = t.get("/api/v1/connections").await;
    assert_eq!(status, 200, "{list}");
    assert_eq!(list["items"][0]["cron"], json!(["MON * * * *"]), "{list}");
    let (status, answer) = t
        .send(
            reqwest::Method::PATCH,
            &format!("/api/v1/connections/{id}"),
            &json!({"name": "renamed"}),
        )
        .await;
    assert_eq!(
        (status, &answer["field"]),
        (400, &json!("cron")),
        "{answer}"
    );
    let (status, answer) = t
        .send(
            reqwest::Method::PATCH,
            &format!("/api/v1/connections/{id}"),
            &json!({"name": "renamed", "cron": ["0 * * * 1"]}),
        )
        .await;
    assert_eq!(status, 200, "{answer}");
}
