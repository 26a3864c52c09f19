//! Long-poll: `GET /due?wait=N` holds a poll with nothing to do until work is queued for the
//! probe (in this process, by another process on the same database) or the wait ends.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::helpers::{Agent, TestApp, answer, ookla_stdout, push_body};

/// A probe whose first run is done, so nothing is due until someone asks.
async fn idle_agent(t: &TestApp) -> (Agent, netpulse_domain::model::Connection) {
    let agent = t.probe("home").await;
    let c = t.connection(&agent.probe.id, "wan1", &["a"]).await;
    t.due(&agent).await;
    let (s, _) = t
        .push(
            &agent,
            &push_body(t.clock_now(), &c, Some("a"), &ookla_stdout(), 0, true),
        )
        .await;
    assert_eq!(s, 201);
    (agent, c)
}

/// Starts `GET {base}/api/v1/probes/{id}/due?wait={wait}`; the handle yields the answer and
/// how long it took.
fn long_poll(
    base: &str,
    agent: &Agent,
    wait: u32,
) -> tokio::task::JoinHandle<((u16, Value), Duration)> {
    let url = format!("{base}/api/v1/probes/{}/due?wait={wait}", agent.probe.id);
    let token = agent.token.clone();
    tokio::spawn(async move {
        let start = Instant::now();
        let r = reqwest::Client::new()
            .get(url)
            .bearer_auth(token)
            .header("X-NetPulse-Agent-Engines", "ookla")
            .timeout(Duration::from_secs(u64::from(wait) + 10))
            .send()
            .await
            .unwrap();
        (answer(r).await, start.elapsed())
    })
}

/// Waits until the poll is surely held (it has not answered after a while).
async fn held(poll: &tokio::task::JoinHandle<((u16, Value), Duration)>) {
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert!(
        !poll.is_finished(),
        "a poll with nothing to do answered at once"
    );
}

fn assert_woken_with_run_now(answer: &(u16, Value), elapsed: Duration, wait: u64) {
    let (status, due) = answer;
    assert_eq!(*status, 200, "{due}");
    let tasks = due["tasks"].as_array().unwrap();
    assert_eq!(tasks.len(), 1, "{due}");
    assert_eq!(tasks[0]["reason"], "run_now");
    assert_eq!(due["waitedSeconds"], json!(wait));
    // Woken, not answered at the end of the wait (which would also carry the task).
    assert!(
        elapsed < Duration::from_secs(wait - 10),
        "answered after {elapsed:?} of a {wait} s wait: not woken"
    );
}

/// A run-now request queued through the REST API wakes a waiting poll of its probe at once;
/// a poll with nothing to do answers empty when its wait ends; a bad `wait` is named.
pub(crate) async fn a_run_now_wakes_a_waiting_poll(t: &TestApp) {
    let (agent, c) = idle_agent(t).await;
    let poll = long_poll(&t.base, &agent, 25);
    held(&poll).await;
    let (s, _) = t
        .send(
            reqwest::Method::POST,
            &format!("/api/v1/connections/{}/run", c.id),
            &json!({}),
        )
        .await;
    assert_eq!(s, 202);
    let (due, elapsed) = poll.await.unwrap();
    assert_woken_with_run_now(&due, elapsed, 25);

    // Nothing to do: the answer comes when the wait ends, empty.
    let ((s, due), elapsed) = long_poll(&t.base, &agent, 1).await.unwrap();
    assert_eq!(s, 200);
    assert!(due["tasks"].as_array().unwrap().is_empty(), "{due}");
    assert!(elapsed >= Duration::from_secs(1), "{elapsed:?}");
    // Without `wait`, an old agent's poll answers at once and says nothing about waiting.
    let (_, due) = t.due(&agent).await;
    assert!(due.get("waitedSeconds").is_none(), "{due}");

    for (wait, why) in [
        ("abc", "whole seconds"),
        ("51", "at most 50"),
        ("-1", "whole"),
    ] {
        let r = t
            .client
            .get(t.url(&format!(
                "/api/v1/probes/{}/due?wait={wait}",
                agent.probe.id
            )))
            .bearer_auth(&agent.token)
            .send()
            .await
            .unwrap();
        let (s, body) = answer(r).await;
        assert_eq!(s, 400, "{wait}: {body}");
        assert!(body.to_string().contains("wait"), "{body}");
        assert!(body.to_string().contains(why), "{body}");
    }
}

/// A write by another process (the admin CLI opens the database with its own service context,
/// like this one) wakes the server's waiting poll: polling the version row on SQLite, `NOTIFY`
/// on PostgreSQL.
pub(crate) async fn a_write_by_another_process_wakes_a_waiting_poll(t: &TestApp) {
    let (agent, c) = idle_agent(t).await;
    let other = netpulse_app::startup::open_app(&t.db_url).await.unwrap();
    let poll = long_poll(&t.base, &agent, 25);
    held(&poll).await;
    netpulse_app::service::runs::request(
        &other,
        &netpulse_app::service::runs::RunTarget::Connection(c.id.clone()),
        None,
    )
    .await
    .unwrap();
    let (due, elapsed) = poll.await.unwrap();
    assert_woken_with_run_now(&due, elapsed, 25);
}

/// Two `netpulse serve` processes on one PostgreSQL: an agent waits on the second; a run-now
/// queued through the first reaches it through `LISTEN/NOTIFY`, well before the second
/// process's 5 s safety-net poll of the version row.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_server_processes_on_postgres() {
    let Some(t) = crate::helpers::spawn(crate::helpers::Db::Postgres).await else {
        return;
    };
    let (agent, c) = idle_agent(&t).await;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_netpulse"))
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .env("NETPULSE_DATABASE_URL", &t.db_url)
        .env(
            "NETPULSE_SECRET_KEY",
            "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        )
        .env_remove("RUST_LOG")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let second = format!("http://127.0.0.1:{port}");
    let mut up = false;
    for _ in 0..200 {
        if reqwest::get(format!("{second}/api/v1/ping")).await.is_ok() {
            up = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(up, "the second server did not start");
    // A first long poll starts the second server's listener; then the real one.
    let ((s, _), _) = long_poll(&second, &agent, 1).await.unwrap();
    assert_eq!(s, 200);
    let poll = long_poll(&second, &agent, 25);
    held(&poll).await;
    let (s, _) = t
        .send(
            reqwest::Method::POST,
            &format!("/api/v1/connections/{}/run", c.id),
            &json!({}),
        )
        .await;
    assert_eq!(s, 202);
    let (due, elapsed) = poll.await.unwrap();
    assert_woken_with_run_now(&due, elapsed, 25);
    assert!(
        elapsed < Duration::from_secs(4),
        "woken after {elapsed:?}: by the 5 s fallback poll, not by NOTIFY"
    );
    let _ = child.kill().await;
}

/// The agent's own client long-polls: it sends `wait`, waits longer than the server holds the
/// poll, and sees that the server held it.
pub(crate) async fn the_agent_client_long_polls(t: &TestApp) {
    use netpulse_ports::agent_api::{AgentApi, AgentInfo};
    let (agent, c) = idle_agent(t).await;
    let client =
        netpulse_adapters::agent_client::HttpAgentApi::new(&t.base, &agent.probe.id, &agent.token)
            .unwrap();
    let info = AgentInfo {
        version: "9.9.9".into(),
        engines: vec![netpulse_domain::pool::Engine::Ookla],
        checks_version: None,
        wait: Some(Duration::from_secs(25)),
    };
    let poll = tokio::spawn(async move {
        let start = Instant::now();
        (client.due(&info).await, start.elapsed())
    });
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert!(!poll.is_finished(), "the poll was not held");
    netpulse_app::service::runs::request(
        &t.app,
        &netpulse_app::service::runs::RunTarget::Connection(c.id.clone()),
        None,
    )
    .await
    .unwrap();
    let (plan, elapsed) = poll.await.unwrap();
    let plan = plan.unwrap();
    assert!(plan.long_polled);
    assert_eq!(plan.tasks.len(), 1);
    assert!(!plan.tasks[0].scheduled, "a run-now task");
    assert!(elapsed < Duration::from_secs(15), "{elapsed:?}");
}
