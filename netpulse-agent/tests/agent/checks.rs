//! The agent's connectivity checks: the set taken from `/due` (and `checksVersion` sent back),
//! rounds spooled while the server is away and delivered exactly once when it returns, results
//! flagged during speed tests, and `netpulse-agent --test` in a namespace test network.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use netpulse_adapters::wire_checks::DueChecksBody;
use netpulse_agent::checks::CheckRounds;
use netpulse_agent::checks::suspend::SuspendClocks;
use netpulse_domain::check::{
    CheckKind, CheckParams, CheckRole, CheckSetVersion, CheckSpec, FamilyMode, Outcome, PortState,
    UdpPayload,
};
use netpulse_domain::id::CheckId;
use netpulse_ports::agent_api::CheckSet;
use serde_json::json;

use crate::helpers::{FakeServer, PROBE, Reply, agent, client, dead_addr, due, files_in};

const TCP_CHECK: &str = "c0000000-0000-4000-8000-000000000001";
const UDP_CHECK: &str = "c0000000-0000-4000-8000-000000000002";

fn spec(kind: CheckKind, target: &str, port: u16, params: CheckParams) -> CheckSpec {
    CheckSpec {
        kind,
        target: target.to_owned(),
        port: Some(port),
        family: FamilyMode::V4,
        role: CheckRole::Service,
        interval_s: 60,
        params,
    }
    .validate()
    .unwrap()
}

/// A TCP check of a listening loopback port and a UDP check of a closed one.
async fn loopback_set() -> (CheckSet, tokio::net::TcpListener) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let open = listener.local_addr().unwrap().port();
    let closed = {
        let s = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        s.local_addr().unwrap().port()
    };
    let set = CheckSet {
        version: CheckSetVersion::parse("v1").unwrap(),
        period_s: 60,
        unchanged: false,
        items: vec![
            (
                CheckId::parse(TCP_CHECK).unwrap(),
                spec(
                    CheckKind::Tcp,
                    "127.0.0.1",
                    open,
                    CheckParams::Tcp { timeout_ms: 1000 },
                ),
            ),
            (
                CheckId::parse(UDP_CHECK).unwrap(),
                spec(
                    CheckKind::Udp,
                    "127.0.0.1",
                    closed,
                    CheckParams::Udp {
                        payload: UdpPayload::Ntp,
                        timeout_ms: 500,
                    },
                ),
            ),
        ],
    };
    (set, listener)
}

#[tokio::test]
async fn check_results_taken_while_the_server_is_down_arrive_once_after_it_returns() {
    let dir = tempfile::tempdir().unwrap();
    let addr = dead_addr().await;
    let api = client(&format!("http://{addr}"));
    let rounds = CheckRounds::new(dir.path(), PROBE).unwrap();
    let (set, _listener) = loopback_set().await;
    let first = netpulse_domain::Timestamp::from_unix_millis(1_780_747_534_905);
    let second = first.plus_seconds(60);
    for at in [first, second] {
        let results = rounds.run_round(&set, at, false).await;
        assert_eq!(results.len(), 2);
        let tcp = results
            .iter()
            .find(|m| m.check_id.as_str() == TCP_CHECK)
            .unwrap();
        assert_eq!(
            (tcp.outcome, tcp.port_state),
            (Outcome::Ok, Some(PortState::Open))
        );
        let udp = results
            .iter()
            .find(|m| m.check_id.as_str() == UDP_CHECK)
            .unwrap();
        assert_eq!(udp.port_state, Some(PortState::Closed));
        rounds.store(at, results).await;
    }
    let spool = rounds.spool().unwrap();
    assert_eq!(spool.unsynced_rounds(), 2, "written, not yet flushed");
    let away = rounds.push_spooled(&api).await;
    assert_eq!((away.recorded, away.pending_rounds), (0, 2), "{away:?}");
    assert_eq!(
        files_in(&dir.path().join("checks")).len(),
        2,
        "both rounds stay spooled"
    );
    assert_eq!(spool.unsynced_rounds(), 0, "the failed push flushed them");

    let server = FakeServer::start_at(addr).await;
    let back = rounds.push_spooled(&api).await;
    assert_eq!(
        (back.recorded, back.duplicates, back.pending_rounds),
        (4, 0, 0),
        "{back:?}"
    );
    assert!(files_in(&dir.path().join("checks")).is_empty());
    assert_eq!(
        rounds.push_spooled(&api).await.recorded,
        0,
        "nothing left to push"
    );
    // A round spooled again (as after a crash between push and delete) counts once.
    let again = rounds.run_round(&set, first, false).await;
    rounds.store(first, again).await;
    assert_eq!(spool.unsynced_rounds(), 1);
    let replay = rounds.push_spooled(&api).await;
    assert_eq!((replay.recorded, replay.duplicates), (0, 2), "{replay:?}");
    assert_eq!(
        spool.unsynced_rounds(),
        0,
        "pushed and removed: nothing to flush"
    );
    let keys = server.check_keys();
    assert_eq!(keys.len(), 4, "{keys:?}");
    assert!(keys.iter().any(|(id, family, at)| id == TCP_CHECK
        && family == "v4"
        && at == "2026-06-06T12:05:34.905Z"));
}

#[tokio::test]
async fn results_taken_while_a_speed_test_runs_are_flagged() {
    let rounds = Arc::new(CheckRounds::without_spool(PROBE));
    let (set, _listener) = loopback_set().await;
    let at = netpulse_domain::Timestamp::from_unix_millis(1_780_747_534_905);
    assert!(
        rounds
            .run_round(&set, at, true)
            .await
            .iter()
            .all(|m| !m.during_speed_test)
    );
    let guard = rounds.speed_test();
    assert!(
        rounds
            .run_round(&set, at, true)
            .await
            .iter()
            .all(|m| m.during_speed_test)
    );
    drop(guard);
    // A speed test that starts and ends while the round runs (its starts spread over 2 s)
    // still flags it.
    let running = rounds.run_round(&set, at, false);
    let during = async {
        tokio::time::sleep(Duration::from_millis(20)).await;
        drop(rounds.speed_test());
    };
    let (results, ()) = tokio::join!(running, during);
    assert!(results.iter().all(|m| m.during_speed_test), "{results:?}");
}

/// Clocks the test moves: `running` keeps going while "suspended", `awake` stops.
#[derive(Debug, Default)]
struct TestClocks {
    running: AtomicI64,
    awake: AtomicI64,
}

#[derive(Debug)]
struct SharedClocks(Arc<TestClocks>);

impl SuspendClocks for SharedClocks {
    fn running_ms(&self) -> i64 {
        self.0.running.load(Ordering::SeqCst)
    }
    fn awake_ms(&self) -> i64 {
        self.0.awake.load(Ordering::SeqCst)
    }
}

#[tokio::test]
async fn rounds_within_30_s_after_a_suspend_are_flagged_after_resume_and_spooled_so() {
    let dir = tempfile::tempdir().unwrap();
    let clocks = Arc::new(TestClocks::default());
    let rounds = CheckRounds::new(dir.path(), PROBE)
        .unwrap()
        .with_suspend_clocks(Box::new(SharedClocks(Arc::clone(&clocks))));
    let (set, _listener) = loopback_set().await;
    let round =
        |m: i64| netpulse_domain::Timestamp::from_unix_millis(1_780_747_500_000 + m * 60_000);
    let awake = |ms: i64| {
        clocks.running.fetch_add(ms, Ordering::SeqCst);
        clocks.awake.fetch_add(ms, Ordering::SeqCst);
    };
    awake(60_000);
    let before = rounds.run_round(&set, round(0), true).await;
    assert!(
        !before.is_empty() && before.iter().all(|m| !m.after_resume),
        "{before:?}"
    );
    // The host sleeps for an hour: the running clock moves, the awake one does not.
    clocks.running.fetch_add(3_600_000, Ordering::SeqCst);
    awake(1_000);
    let first = rounds.run_round(&set, round(61), true).await;
    assert!(first.iter().all(|m| m.after_resume), "{first:?}");
    awake(28_000);
    let second = rounds.run_round(&set, round(62), true).await;
    assert!(second.iter().all(|m| m.after_resume), "{second:?}");
    // 30 s after the suspend was noticed, the grace is over.
    awake(2_000);
    let third = rounds.run_round(&set, round(63), true).await;
    assert!(third.iter().all(|m| !m.after_resume), "{third:?}");
    // The flag goes on the wire (and through the spool); it is left out when false.
    rounds.store(round(61), first.clone()).await;
    let body = netpulse_adapters::wire_checks::CheckResultBody::from(&first[0]);
    assert_eq!(serde_json::to_value(&body).unwrap()["afterResume"], true);
    let body = netpulse_adapters::wire_checks::CheckResultBody::from(&third[0]);
    assert!(
        serde_json::to_value(&body)
            .unwrap()
            .get("afterResume")
            .is_none()
    );
    let spool = netpulse_agent::checks::spool::CheckSpool::open(
        dir.path(),
        netpulse_agent::checks::MAX_SPOOLED_ROUNDS,
    )
    .unwrap();
    let pending = spool.pending().unwrap();
    assert_eq!(pending.len(), 1);
    let spooled = spool.load(&pending[0]);
    assert_eq!(spooled.len(), first.len());
    assert!(spooled.iter().all(|m| m.after_resume), "{spooled:?}");
}

#[tokio::test]
async fn the_check_set_comes_with_due_and_its_version_goes_back() {
    let dir = tempfile::tempdir().unwrap();
    let server = FakeServer::start().await;
    let (set, _listener) = loopback_set().await;
    let mut answer = due(&[], 60);
    answer["checks"] = serde_json::to_value(DueChecksBody::new(&set)).unwrap();
    let unchanged = {
        let mut a = due(&[], 60);
        a["checks"] = json!({"version": "v1", "periodSeconds": 60, "unchanged": true, "items": []});
        a
    };
    server.script_due([Reply::json(200, &answer), Reply::json(200, &unchanged)]);
    let agent = agent(&server.url(), dir.path(), &[]);
    agent.cycle().await;
    assert_eq!(agent.checks().set().unwrap().items.len(), 2);
    agent.cycle().await;
    assert_eq!(
        agent.checks().set().unwrap(),
        set,
        "unchanged keeps the set"
    );
    agent.cycle().await;
    assert_eq!(
        agent.checks().set().unwrap(),
        set,
        "an answer without checks (an older server) keeps the set"
    );
    drop(agent);
    let restarted =
        crate::helpers::agent(&format!("http://{}", dead_addr().await), dir.path(), &[]);
    assert_eq!(
        restarted.checks().set().unwrap(),
        set,
        "a restart while the server is away keeps measuring the last set"
    );
    let polls = server.polls();
    assert!(!polls[0].path.contains("checksVersion"));
    assert!(
        polls[1].path.ends_with("/due?checksVersion=v1&wait=25"),
        "{}",
        polls[1].path
    );
}
