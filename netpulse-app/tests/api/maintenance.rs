//! Operations: repairing history with the current parsers, and readiness when the database is
//! gone.

use netpulse_domain::measurement::Observation;
use serde_json::Value;

use crate::helpers::{Db, ookla_stdout, push_body, spawn};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reparse_rederives_stored_figures_from_the_raw_output() {
    let t = spawn(Db::Sqlite).await.unwrap();
    let agent = t.probe("home").await;
    let c = t.connection(&agent.probe.id, "wan1", &[]).await;
    let (_, r) = t
        .push(
            &agent,
            &push_body(t.clock_now(), &c, None, &ookla_stdout(), 0, true),
        )
        .await;
    let id = netpulse_domain::id::ResultId::parse(r["id"].as_str().unwrap()).unwrap();
    // What an older parser might have stored: nothing but the failure-free shell.
    t.app
        .storage
        .replace_observation(&id, &Observation::default())
        .await
        .unwrap();
    assert_eq!(
        t.app
            .storage
            .measurement(&id)
            .await
            .unwrap()
            .unwrap()
            .observation
            .download_bps,
        None
    );
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_netpulse"))
        .args(["measurements", "reparse", "--json"])
        .env("NETPULSE_DATABASE_URL", &t.db_url)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (&report["examined"], &report["changed"]),
        (&Value::from(1), &Value::from(1)),
        "{report}"
    );
    let repaired = t.app.storage.measurement(&id).await.unwrap().unwrap();
    assert_eq!(repaired.observation.download_bps, Some(931_564_032.0));
    assert_eq!(repaired.observation.server.id.as_deref(), Some("60440"));
    // A second run finds nothing to change.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_netpulse"))
        .args(["measurements", "reparse", "--json"])
        .env("NETPULSE_DATABASE_URL", &t.db_url)
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["changed"], 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn healthcheck_is_503_when_the_database_is_gone() {
    let Some(t) = spawn(Db::Postgres).await else {
        return;
    };
    let get = || async {
        crate::helpers::answer(
            t.client
                .get(t.url("/api/v1/healthcheck"))
                .send()
                .await
                .unwrap(),
        )
        .await
    };
    assert_eq!(get().await.0, 200);
    let admin = netpulse_adapters::testing::postgres_server_url().unwrap();
    let name = t
        .db_url
        .rsplit('/')
        .next()
        .unwrap()
        .split('?')
        .next()
        .unwrap()
        .to_owned();
    let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&admin)
        .await
        .unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE {name} WITH (FORCE)"
    )))
    .execute(&mut conn)
    .await
    .unwrap();
    let (status, body) = get().await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["status"], "unhealthy");
    // No driver error for callers without credentials (the cause is in the server log).
    assert!(body.get("error").is_none_or(Value::is_null), "{body}");
    // The API keeps answering (with 503 JSON), it does not crash.
    let agent_status = t
        .client
        .get(t.url("/api/v1/probes/00000000-0000-4000-8000-000000000000/due"))
        .bearer_auth("x")
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(agent_status, 503);
    assert_eq!(
        t.client
            .get(t.url("/api/v1/ping"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
}
