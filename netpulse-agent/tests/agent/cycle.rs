//! Cycles against the fake server: polling, running, pushing, spooling and replaying.

use std::time::Duration;

use netpulse_agent::spool::Spool;
use netpulse_domain::pool::Engine;
use netpulse_ports::agent_api::AgentApiError;
use serde_json::json;

use crate::helpers::{
    Behaviour, CONN_A, CONN_B, CannedRunner, FakeServer, PROBE, Reply, TOKEN, agent, dead_addr,
    due, files_in, pending_in, result, task, task_id,
};

const OOKLA_JSON: &str = r#"{"type":"result","download":{"bandwidth":12500000}}"#;

#[tokio::test]
async fn tasks_are_run_with_their_engine_and_pushed() {
    let server = FakeServer::start().await;
    server.script_due([Reply::json(
        200,
        &due(
            &[
                task(&task_id(1), CONN_A, "ookla", Some("12345")),
                json!({
                    "taskId": task_id(2), "connectionId": CONN_B, "poolEntry": "https://speed.example/",
                    "engine": "http", "reason": "run_now", "scheduled": false,
                    "sourceInterface": "eth1", "sourceAddress": "192.0.2.9", "timeoutSeconds": 120
                }),
            ],
            30,
        ),
    )]);
    let ookla = CannedRunner::ok(Engine::Ookla, OOKLA_JSON);
    let http = CannedRunner::ok(Engine::Http, r#"{"engine":"http"}"#);
    let iperf = CannedRunner::unavailable(Engine::Iperf3);
    let dir = tempfile::tempdir().unwrap();
    let agent = agent(&server.url(), dir.path(), &[&ookla, &http, &iperf]);

    let before = crate::helpers::now();
    let report = agent.cycle().await;
    assert!(report.succeeded(), "{report:?}");
    assert_eq!(report.poll_after_seconds, Some(30));
    assert_eq!((report.tasks, report.delivered, report.spooled), (2, 2, 0));
    assert_eq!(report.pending, 0);
    assert!(pending_in(dir.path()).is_empty());

    let poll = &server.polls()[0];
    assert_eq!(
        poll.header("authorization"),
        Some(format!("Bearer {TOKEN}").as_str())
    );
    assert_eq!(poll.header("accept"), Some("application/json"));
    assert_eq!(poll.header("x-netpulse-agent-version"), Some("9.9.9-test"));
    assert_eq!(poll.header("x-netpulse-agent-engines"), Some("ookla,http"));

    let calls = http.calls();
    assert_eq!(calls.len(), 1);
    assert_eq!(
        calls[0].pool_entry.as_ref().unwrap().as_str(),
        "https://speed.example/"
    );
    assert_eq!(calls[0].source_interface.as_deref(), Some("eth1"));
    assert_eq!(calls[0].source_address.as_deref(), Some("192.0.2.9"));
    assert_eq!(calls[0].timeout, Duration::from_mins(2));

    let pushes = server.pushes();
    assert_eq!(pushes.len(), 2);
    assert_eq!(
        pushes[0].header("authorization"),
        Some(format!("Bearer {TOKEN}").as_str())
    );
    let first = pushes[0].json();
    assert_eq!(first["connectionId"], CONN_A);
    assert_eq!(first["taskId"], task_id(1));
    assert_eq!(first["engine"], "ookla");
    assert_eq!(first["poolEntry"], "12345");
    assert_eq!(first["scheduled"], true);
    assert_eq!(first["exitCode"], 0);
    assert_eq!(first["stdout"], OOKLA_JSON);
    assert_eq!(first["stderr"], "");
    let id = uuid::Uuid::parse_str(first["resultId"].as_str().unwrap()).unwrap();
    assert_eq!(id.get_version_num(), 7, "result ids are UUID v7");
    let started =
        netpulse_domain::Timestamp::parse_rfc3339(first["startedAt"].as_str().unwrap()).unwrap();
    assert!(started >= before.plus_seconds(-1));
    assert!(first["finishedAt"].as_str().unwrap().ends_with('Z'));
    let second = pushes[1].json();
    assert_eq!(second["engine"], "http");
    assert_eq!(second["scheduled"], false);
    assert_eq!(second["taskId"], task_id(2));
    assert_eq!(server.recorded().len(), 2);
}

#[tokio::test]
async fn a_task_for_an_engine_without_an_available_runner_yields_a_tool_missing_result() {
    let server = FakeServer::start().await;
    server.script_due([Reply::json(
        200,
        &due(
            &[
                task(&task_id(1), CONN_A, "iperf3", Some("iperf3://10.0.0.1")),
                task(&task_id(2), CONN_A, "http", Some("http://10.0.0.1/")),
            ],
            60,
        ),
    )]);
    let iperf = CannedRunner::unavailable(Engine::Iperf3);
    let dir = tempfile::tempdir().unwrap();
    let agent = agent(&server.url(), dir.path(), &[&iperf]);

    let report = agent.cycle().await;
    assert!(report.succeeded(), "{report:?}");
    assert!(iperf.calls().is_empty(), "an unavailable runner is not run");
    assert_eq!(
        server.polls()[0].header("x-netpulse-agent-engines"),
        Some("")
    );
    let pushes = server.pushes();
    assert_eq!(pushes.len(), 2);
    for (push, engine) in pushes.iter().zip(["iperf3", "http"]) {
        let body = push.json();
        assert_eq!(body["engine"], engine);
        assert_eq!(body["exitCode"], serde_json::Value::Null);
        assert_eq!(body["stdout"], "");
        let stderr = body["stderr"].as_str().unwrap();
        assert!(
            stderr.starts_with(&format!(
                "netpulse-agent: tool-missing: no runner for the {engine} engine"
            )),
            "{stderr}"
        );
        assert!(stderr.ends_with('\n'));
    }
}

#[tokio::test]
async fn a_panicking_runner_gives_a_failed_result_and_the_next_task_still_runs() {
    let server = FakeServer::start().await;
    server.script_due([Reply::json(
        200,
        &due(
            &[
                task(&task_id(1), CONN_A, "iperf3", Some("iperf3://10.0.0.1")),
                task(&task_id(2), CONN_B, "ookla", None),
            ],
            60,
        ),
    )]);
    let iperf = CannedRunner::new(Engine::Iperf3, Behaviour::Panic);
    let ookla = CannedRunner::ok(Engine::Ookla, OOKLA_JSON);
    let dir = tempfile::tempdir().unwrap();
    let agent = agent(&server.url(), dir.path(), &[&iperf, &ookla]);

    let report = agent.cycle().await;
    assert!(report.succeeded(), "{report:?}");
    assert_eq!(report.delivered, 2);
    let pushes = server.pushes();
    let failed = pushes[0].json();
    assert_eq!(failed["engine"], "iperf3");
    assert_eq!(failed["exitCode"], serde_json::Value::Null);
    assert_eq!(
        failed["stderr"],
        "netpulse-agent: error: the iperf3 runner panicked: canned runner exploded\n"
    );
    assert_eq!(pushes[1].json()["stdout"], OOKLA_JSON);
    assert_eq!(pushes[1].json()["poolEntry"], serde_json::Value::Null);
}

#[tokio::test]
async fn tasks_with_an_invalid_id_or_engine_are_skipped() {
    let server = FakeServer::start().await;
    server.script_due([Reply::json(
        200,
        &due(
            &[
                task("not-a-uuid", CONN_A, "ookla", None),
                task(&task_id(2), CONN_A, "ping", None),
                task(&task_id(3), CONN_A, "ookla", None),
            ],
            60,
        ),
    )]);
    let ookla = CannedRunner::ok(Engine::Ookla, OOKLA_JSON);
    let dir = tempfile::tempdir().unwrap();
    let agent = agent(&server.url(), dir.path(), &[&ookla]);
    let report = agent.cycle().await;
    assert!(report.succeeded(), "{report:?}");
    assert_eq!(report.tasks, 1);
    assert_eq!(server.pushes()[0].json()["taskId"], task_id(3));
}

#[tokio::test]
async fn results_wait_in_the_spool_while_the_server_is_down_and_are_replayed_exactly_once() {
    // The poll works but every push gets no answer (the connection drops).
    let server = FakeServer::start().await;
    server.script_due([Reply::json(
        200,
        &due(
            &[
                task(&task_id(1), CONN_A, "ookla", None),
                task(&task_id(2), CONN_B, "ookla", None),
            ],
            60,
        ),
    )]);
    server.script_push([Reply::Hangup]);
    let ookla = CannedRunner::ok(Engine::Ookla, OOKLA_JSON);
    let dir = tempfile::tempdir().unwrap();
    let agent = agent(&server.url(), dir.path(), &[&ookla]);

    let report = agent.cycle().await;
    assert!(report.succeeded(), "spooled counts as handled: {report:?}");
    assert_eq!(
        (report.delivered, report.spooled, report.pending),
        (0, 2, 2)
    );
    assert!(matches!(
        report.push_error,
        Some(AgentApiError::Unreachable(_))
    ));
    assert_eq!(
        server.pushes().len(),
        1,
        "after the first push failed, the rest were only spooled"
    );
    let spooled = pending_in(dir.path());
    assert_eq!(spooled.len(), 2);

    // Next cycle: the server answers again; both results are replayed, oldest first.
    let report = agent.cycle().await;
    assert!(report.succeeded(), "{report:?}");
    assert_eq!((report.replayed, report.pending, report.tasks), (2, 0, 0));
    let recorded = server.recorded();
    assert_eq!(
        recorded,
        spooled
            .iter()
            .map(|n| n.trim_end_matches(".json").to_owned())
            .collect::<Vec<_>>()
    );
    let replayed: Vec<_> = server.pushes()[1..]
        .iter()
        .map(|p| p.json()["taskId"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(replayed, [task_id(1), task_id(2)]);

    // And never again.
    let report = agent.cycle().await;
    assert_eq!(report.replayed, 0);
    assert_eq!(server.pushes().len(), 3);
    assert!(pending_in(dir.path()).is_empty());
}

#[tokio::test]
async fn an_unreachable_server_fails_the_cycle_and_a_restarted_agent_replays_the_spool() {
    let dir = tempfile::tempdir().unwrap();
    let spooled = [result(CONN_A, Engine::Ookla), result(CONN_B, Engine::Http)];
    {
        let (spool, _) = Spool::open(dir.path(), 10).unwrap();
        for r in &spooled {
            spool.store(r).unwrap();
        }
    }
    let addr = dead_addr().await;
    let ookla = CannedRunner::ok(Engine::Ookla, OOKLA_JSON);
    {
        let down = agent(&format!("http://{addr}"), dir.path(), &[&ookla]);
        let report = down.cycle().await;
        assert!(!report.succeeded());
        assert!(
            matches!(report.poll_error, Some(AgentApiError::Unreachable(_))),
            "{report:?}"
        );
        assert!(report.replay_error.is_some());
        assert_eq!(report.pending, 2);
    }
    // The server comes up at that address; a new agent (a restart) replays the spool.
    let server = FakeServer::start_at(addr).await;
    let up = agent(&server.url(), dir.path(), &[&ookla]);
    let report = up.cycle().await;
    assert!(report.succeeded(), "{report:?}");
    assert_eq!(report.replayed, 2);
    assert_eq!(
        server.recorded(),
        spooled
            .iter()
            .map(|r| r.result_id.to_string())
            .collect::<Vec<_>>()
    );
    let body = server.pushes()[0].json();
    assert_eq!(body["stdout"], r#"{"type":"result"}"#);
    assert_eq!(body["startedAt"], spooled[0].started_at.to_rfc3339());
    up.cycle().await;
    assert_eq!(server.pushes().len(), 2, "replayed exactly once");
}

#[tokio::test]
async fn a_server_error_keeps_the_result_until_a_later_push_succeeds() {
    let server = FakeServer::start().await;
    server.script_due([Reply::json(
        200,
        &due(&[task(&task_id(1), CONN_A, "ookla", None)], 60),
    )]);
    server.script_push([Reply::Status(500, "database is locked".to_owned())]);
    let ookla = CannedRunner::ok(Engine::Ookla, OOKLA_JSON);
    let dir = tempfile::tempdir().unwrap();
    let agent = agent(&server.url(), dir.path(), &[&ookla]);

    let report = agent.cycle().await;
    assert!(report.succeeded(), "{report:?}");
    assert!(
        matches!(&report.push_error, Some(AgentApiError::ServerError { status: 500, body }) if body == "database is locked"),
        "{report:?}"
    );
    assert_eq!(report.pending, 1);

    let report = agent.cycle().await;
    assert_eq!(report.replayed, 1);
    assert_eq!(report.pending, 0);
    let pushes = server.pushes();
    assert_eq!(pushes.len(), 2);
    assert_eq!(
        pushes[0].json(),
        pushes[1].json(),
        "the same result, byte for byte"
    );
    assert_eq!(server.recorded().len(), 1);
}

#[tokio::test]
async fn already_recorded_counts_as_delivered() {
    let dir = tempfile::tempdir().unwrap();
    let old = result(CONN_A, Engine::Ookla);
    {
        let (spool, _) = Spool::open(dir.path(), 10).unwrap();
        spool.store(&old).unwrap();
    }
    let server = FakeServer::start().await;
    server.already_has(old.result_id.as_str());
    let agent = agent(&server.url(), dir.path(), &[]);
    let report = agent.cycle().await;
    assert!(report.succeeded(), "{report:?}");
    assert_eq!((report.replayed, report.already_recorded), (1, 1));
    assert!(pending_in(dir.path()).is_empty());
    assert!(server.recorded().is_empty());
}

#[tokio::test]
async fn a_rejected_result_moves_to_rejected_and_is_not_pushed_again() {
    let server = FakeServer::start().await;
    server.script_due([Reply::json(
        200,
        &due(&[task(&task_id(1), CONN_A, "ookla", None)], 60),
    )]);
    server.script_push([Reply::Status(
        400,
        r#"{"error":"unknown connection"}"#.to_owned(),
    )]);
    let ookla = CannedRunner::ok(Engine::Ookla, OOKLA_JSON);
    let dir = tempfile::tempdir().unwrap();
    let agent = agent(&server.url(), dir.path(), &[&ookla]);

    let report = agent.cycle().await;
    assert!(!report.succeeded(), "a rejected result fails the cycle");
    assert_eq!(report.rejected, 1);
    assert_eq!(report.pending, 0);
    let rejected_dir = dir.path().join("rejected");
    let rejected = pending_in(&rejected_dir);
    assert_eq!(rejected.len(), 1);
    let reason =
        std::fs::read_to_string(rejected_dir.join(format!("{}.reason.txt", rejected[0]))).unwrap();
    assert!(reason.contains("HTTP 400"), "{reason}");
    assert!(reason.contains("unknown connection"), "{reason}");
    assert!(reason.contains(CONN_A), "{reason}");

    let report = agent.cycle().await;
    assert!(report.succeeded(), "{report:?}");
    assert_eq!(server.pushes().len(), 1);
}

#[tokio::test]
async fn refused_credentials_fail_the_poll_and_keep_results_spooled() {
    let server = FakeServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let old = result(CONN_A, Engine::Ookla);
    {
        let (spool, _) = Spool::open(dir.path(), 10).unwrap();
        spool.store(&old).unwrap();
    }
    server.script_push([Reply::Status(401, "bad token".to_owned())]);
    server.script_due([Reply::Status(403, "probe disabled".to_owned())]);
    let agent = agent(&server.url(), dir.path(), &[]);

    let report = agent.cycle().await;
    assert!(!report.succeeded());
    assert!(
        matches!(&report.poll_error, Some(AgentApiError::Unauthorized { status: 403, body }) if body == "probe disabled"),
        "{report:?}"
    );
    assert!(report.replay_error.as_deref().unwrap().contains("401"));
    assert_eq!(report.rejected, 0);
    assert_eq!(
        pending_in(dir.path()).len(),
        1,
        "not rejected: it may be accepted later"
    );
    assert!(files_in(&dir.path().join("rejected")).is_empty());

    let report = agent.cycle().await;
    assert!(report.succeeded(), "{report:?}");
    assert_eq!(report.replayed, 1);
}

#[tokio::test]
async fn garbage_answers_are_invalid_responses_and_lose_nothing() {
    let server = FakeServer::start().await;
    server.script_due([
        Reply::Status(200, "<html>captive portal</html>".to_owned()),
        Reply::json(200, &due(&[task(&task_id(1), CONN_A, "ookla", None)], 60)),
    ]);
    server.script_push([Reply::Status(200, "OK".to_owned())]);
    let ookla = CannedRunner::ok(Engine::Ookla, OOKLA_JSON);
    let dir = tempfile::tempdir().unwrap();
    let agent = agent(&server.url(), dir.path(), &[&ookla]);

    let report = agent.cycle().await;
    assert!(
        matches!(&report.poll_error, Some(AgentApiError::InvalidResponse(m)) if m.contains("not JSON")),
        "{report:?}"
    );
    assert!(ookla.calls().is_empty());

    let report = agent.cycle().await;
    assert!(
        matches!(&report.push_error, Some(AgentApiError::InvalidResponse(_))),
        "{report:?}"
    );
    assert_eq!(
        report.pending, 1,
        "a 200 that is not the API's answer is not a delivery"
    );

    let report = agent.cycle().await;
    assert_eq!(report.replayed, 1);
    assert_eq!(server.recorded().len(), 1);
}

#[tokio::test]
async fn a_redirect_is_not_followed() {
    let server = FakeServer::start().await;
    server.script_due([Reply::Status(301, String::new())]);
    let dir = tempfile::tempdir().unwrap();
    let agent = agent(&server.url(), dir.path(), &[]);
    let report = agent.cycle().await;
    assert!(
        matches!(&report.poll_error, Some(AgentApiError::InvalidResponse(m)) if m.contains("redirected")),
        "{report:?}"
    );
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn unreadable_spool_files_are_set_aside_and_the_rest_replayed() {
    let dir = tempfile::tempdir().unwrap();
    let good = result(CONN_A, Engine::Ookla);
    {
        let (spool, _) = Spool::open(dir.path(), 10).unwrap();
        spool.store(&good).unwrap();
    }
    let broken = "01000000-0000-7000-8000-000000000001.json";
    std::fs::write(dir.path().join(broken), b"{\"format\":1,").unwrap();
    let server = FakeServer::start().await;
    let agent = agent(&server.url(), dir.path(), &[]);

    let report = agent.cycle().await;
    assert!(report.succeeded(), "{report:?}");
    assert_eq!((report.corrupt, report.replayed, report.pending), (1, 1, 0));
    assert_eq!(pending_in(&dir.path().join("corrupt")), [broken]);
    assert_eq!(server.recorded(), [good.result_id.to_string()]);
}

#[tokio::test]
async fn the_spool_cap_evicts_the_oldest_undelivered_results() {
    let server = FakeServer::start().await;
    let tasks: Vec<_> = (1..=4)
        .map(|i| task(&task_id(i), CONN_A, "ookla", None))
        .collect();
    server.script_due([Reply::json(200, &due(&tasks, 60))]);
    server.script_push([Reply::Status(503, "maintenance".to_owned())]);
    let ookla = CannedRunner::ok(Engine::Ookla, OOKLA_JSON);
    let dir = tempfile::tempdir().unwrap();
    let mut config = crate::helpers::config(dir.path());
    config.spool_max_results = 2;
    let agent = netpulse_agent::Agent::new(
        config,
        crate::helpers::engines(&[&ookla]),
        std::sync::Arc::new(crate::helpers::client(&server.url())),
    )
    .unwrap();

    let report = agent.cycle().await;
    assert_eq!((report.tasks, report.spooled, report.evicted), (4, 4, 2));
    assert_eq!(report.pending, 2);
    agent.cycle().await;
    let replayed: Vec<_> = server.pushes()[1..]
        .iter()
        .map(|p| p.json()["taskId"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        replayed,
        [task_id(3), task_id(4)],
        "the newest two survived"
    );
}

#[tokio::test]
async fn the_probe_id_is_in_the_path() {
    let server = FakeServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    agent(&server.url(), dir.path(), &[]).cycle().await;
    // The default long-poll wait (25 s) rides along as a query.
    assert_eq!(
        server.polls()[0].path,
        format!("/api/v1/probes/{PROBE}/due?wait=25")
    );
}

/// Log lines written while the guard lives (current-thread runtime: every event of the test).
#[derive(Clone, Default)]
struct Captured(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

#[tokio::test]
async fn a_failed_test_is_logged_as_a_warning_with_its_reason() {
    let logs = Captured::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_ansi(false)
        .with_max_level(tracing::Level::INFO)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let server = FakeServer::start().await;
    server.script_due([Reply::json(
        200,
        &due(
            &[task(
                &task_id(1),
                CONN_A,
                "iperf3",
                Some("iperf.example:5201"),
            )],
            30,
        ),
    )]);
    let failing = CannedRunner::new(
        Engine::Iperf3,
        Behaviour::Output(netpulse_domain::model::RawOutput {
            exit_code: Some(1),
            stdout: r#"{"start":{},"error":"unable to connect to server: Connection refused"}"#
                .to_owned(),
            stderr: String::new(),
        }),
    );
    let dir = tempfile::tempdir().unwrap();
    let agent = agent(&server.url(), dir.path(), &[&failing]);
    let report = agent.cycle().await;
    assert_eq!(report.tasks, 1, "{report:?}");

    let text = logs.text();
    let line = text
        .lines()
        .find(|l| l.contains("test failed"))
        .unwrap_or_else(|| panic!("no `test failed` line in:\n{text}"));
    assert!(line.contains("WARN"), "{line}");
    assert!(line.contains("exit_code=1"), "{line}");
    assert!(!text.contains("Some(1)"), "{text}");
    assert!(line.contains("fail_reason=\"network\""), "{line}");
    assert!(line.contains("Connection refused"), "{line}");
}
