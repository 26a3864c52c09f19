//! The loop: back-off after failures, the server's pause, shutdown mid-test.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use netpulse_agent::Engines;
use netpulse_agent::backoff::Backoff;
use netpulse_agent::cycle::CycleReport;
use netpulse_domain::pool::Engine;
use netpulse_ports::agent_api::AgentApiError;
use tokio::sync::oneshot;

use crate::helpers::{
    Behaviour, CONN_A, CannedRunner, FakeServer, Reply, agent, client, config, due, engines,
    pending_in, task, task_id,
};

#[tokio::test]
async fn shutdown_abandons_a_running_test_at_once_and_pushes_nothing_half_done() {
    let server = FakeServer::start().await;
    server.script_due([Reply::json(
        200,
        &due(&[task(&task_id(1), CONN_A, "ookla", None)], 60),
    )]);
    let ookla = CannedRunner::new(Engine::Ookla, Behaviour::Hang);
    let dir = tempfile::tempdir().unwrap();
    let agent = agent(&server.url(), dir.path(), &[&ookla]);
    let (stop, stopped) = oneshot::channel::<()>();
    let started = ookla.started.notified();
    let running = tokio::spawn(agent.run(async {
        let _ = stopped.await;
    }));
    tokio::time::timeout(Duration::from_secs(5), started)
        .await
        .expect("the test started");
    assert_eq!(ookla.runs_in_progress.load(Ordering::SeqCst), 1);

    let asked = Instant::now();
    stop.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(1), running)
        .await
        .expect("stopped within a second")
        .unwrap();
    assert!(asked.elapsed() < Duration::from_secs(1));
    assert_eq!(
        ookla.runs_in_progress.load(Ordering::SeqCst),
        0,
        "the test's future was dropped"
    );
    assert!(ookla.dropped_unfinished.load(Ordering::SeqCst));
    assert!(server.pushes().is_empty());
    assert!(pending_in(dir.path()).is_empty());
}

#[tokio::test]
async fn the_loop_backs_off_after_failures_and_recovers() {
    let server = FakeServer::start().await;
    server.script_due([
        Reply::Status(500, "boom".to_owned()),
        Reply::Status(502, "bad gateway".to_owned()),
        Reply::Status(503, "starting".to_owned()),
        Reply::Status(200, "not json".to_owned()),
        Reply::json(200, &due(&[task(&task_id(1), CONN_A, "ookla", None)], 0)),
    ]);
    let ookla = CannedRunner::ok(Engine::Ookla, "{}");
    let dir = tempfile::tempdir().unwrap();
    let mut config = config(dir.path());
    config.backoff_base = Duration::from_millis(100);
    config.poll_interval = Duration::from_millis(1500);
    let (stop, stopped) = oneshot::channel::<()>();
    let running = tokio::spawn(netpulse_agent::run(
        config,
        engines(&[&ookla]),
        Arc::new(client(&server.url())),
        async {
            let _ = stopped.await;
        },
    ));
    // 5 polls and 1 push; then the next poll only after the fallback interval.
    server.wait_for_requests(6, Duration::from_secs(10)).await;
    let after_push = Instant::now();
    server.wait_for_requests(7, Duration::from_secs(10)).await;
    let fallback_wait = after_push.elapsed();
    stop.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(1), running)
        .await
        .unwrap()
        .unwrap()
        .unwrap();

    assert_eq!(server.recorded().len(), 1);
    assert!(
        fallback_wait >= Duration::from_millis(1300),
        "pollAfterSeconds 0 means the configured interval: {fallback_wait:?}"
    );
    // The gaps between failed polls grow: ~[50,100] ms, [100,200], [200,400], [400,800]
    // (plus scheduling latency, hence lower bounds only).
    let polls = server.polls();
    assert_eq!(polls.len(), 6);
    let gaps: Vec<Duration> = polls.windows(2).map(|w| w[1].at - w[0].at).collect();
    assert!(gaps[2] >= Duration::from_millis(200), "{gaps:?}");
    assert!(gaps[3] >= Duration::from_millis(400), "{gaps:?}");
    assert!(gaps[3] > gaps[0], "{gaps:?}");
    let log = server.requests();
    assert!(log[4].path.contains("/due?") && log[5].path.ends_with("/results"));
}

#[tokio::test]
async fn run_reports_a_spool_it_cannot_use() {
    let dir = tempfile::tempdir().unwrap();
    let first = agent("http://127.0.0.1:9", dir.path(), &[]);
    let err = netpulse_agent::run(
        config(dir.path()),
        Engines::default(),
        Arc::new(client("http://127.0.0.1:9")),
        std::future::ready(()),
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("in use by another agent"), "{err}");
    drop(first);
}

#[tokio::test]
async fn run_once_returns_the_report_or_none_when_stopped_first() {
    let server = FakeServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let report = agent(&server.url(), dir.path(), &[])
        .run_once(std::future::pending())
        .await
        .unwrap();
    assert!(report.succeeded(), "{report:?}");

    server.script_due([Reply::json(
        200,
        &due(&[task(&task_id(1), CONN_A, "ookla", None)], 60),
    )]);
    let ookla = CannedRunner::new(Engine::Ookla, Behaviour::Hang);
    let agent = agent(&server.url(), dir.path(), &[&ookla]);
    let stop = async {
        ookla.started.notified().await;
    };
    let started_before = Instant::now();
    // `notified()` registers only when first polled, which `select!` does before the cycle
    // reaches the runner.
    assert!(agent.run_once(stop).await.is_none());
    assert!(started_before.elapsed() < Duration::from_secs(5));
    assert!(ookla.dropped_unfinished.load(Ordering::SeqCst));
}

#[test]
fn the_pause_follows_the_server_then_backs_off() {
    let dir = tempfile::tempdir().unwrap();
    let agent = agent("http://127.0.0.1:9", dir.path(), &[]);
    let mut backoff = Backoff::new(Duration::from_millis(50), Duration::from_secs(1));
    let ok = |seconds| CycleReport {
        poll_after_seconds: Some(seconds),
        ..CycleReport::default()
    };
    let failed = || CycleReport {
        poll_error: Some(AgentApiError::Unreachable("down".to_owned())),
        ..CycleReport::default()
    };
    assert_eq!(
        agent.pause_after(&ok(30), &mut backoff),
        Duration::from_secs(30)
    );
    assert_eq!(
        agent.pause_after(&ok(0), &mut backoff),
        Duration::from_secs(1),
        "0 means the configured interval"
    );
    let mut pauses = Vec::new();
    for _ in 0..6 {
        pauses.push(agent.pause_after(&failed(), &mut backoff));
    }
    assert!(pauses[0] <= Duration::from_millis(50), "{pauses:?}");
    assert!(pauses[3] >= Duration::from_millis(200), "{pauses:?}");
    assert!(
        pauses.iter().all(|p| *p <= Duration::from_secs(1)),
        "{pauses:?}"
    );
    assert_eq!(backoff.failures(), 6);
    agent.pause_after(&ok(5), &mut backoff);
    assert_eq!(
        backoff.failures(),
        0,
        "a successful poll resets the back-off"
    );
}

#[test]
fn after_a_held_poll_the_agent_polls_again_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let agent = agent("http://127.0.0.1:9", dir.path(), &[]);
    let mut backoff = Backoff::new(Duration::from_millis(50), Duration::from_secs(1));
    let held = CycleReport {
        poll_after_seconds: Some(60),
        long_polled: true,
        ..CycleReport::default()
    };
    // The held poll was the pause; only the configured shortest sleep is left.
    assert_eq!(
        agent.pause_after(&held, &mut backoff),
        agent.config().min_sleep
    );
}
