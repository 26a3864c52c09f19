//! A result the server always answers with a 5xx does not block the results spooled behind it:
//! after a few tries it is set back (kept, retried on later replays) and the replay goes on.

use netpulse_agent::spool::Spool;
use netpulse_domain::pool::Engine;

use crate::helpers::{CONN_A, CONN_B, FakeServer, agent, files_in, pending_in, result};

#[tokio::test]
async fn a_result_the_server_keeps_failing_is_set_back_and_the_rest_are_delivered() {
    let dir = tempfile::tempdir().unwrap();
    let spooled = [
        result(CONN_A, Engine::Ookla),
        result(CONN_B, Engine::Ookla),
        result(CONN_A, Engine::Http),
    ];
    {
        let (spool, _) = Spool::open(dir.path(), 10).unwrap();
        for r in &spooled {
            spool.store(r).unwrap();
        }
    }
    let ids: Vec<String> = spooled.iter().map(|r| r.result_id.to_string()).collect();
    let server = FakeServer::start().await;
    server.always_fail(&ids[0], 500);
    let agent = agent(&server.url(), dir.path(), &[]);

    // Two replays stop at the oldest result (a server failing for everything would fail them all).
    for tries in 1..=2 {
        let report = agent.cycle().await;
        assert_eq!((report.replayed, report.set_back), (0, 0), "{report:?}");
        assert!(report.replay_error.is_some());
        assert_eq!(server.pushed_ids(), vec![ids[0].clone(); tries]);
    }
    // The third 5xx in a row sets it back; the results behind it are delivered.
    let report = agent.cycle().await;
    assert_eq!((report.replayed, report.set_back), (2, 1), "{report:?}");
    assert_eq!(report.pending, 1);
    assert_eq!(server.recorded(), ids[1..]);
    assert_eq!(pending_in(dir.path()), [format!("{}.json", ids[0])]);
    assert!(report.to_string().contains("1 set back"), "{report}");

    // It is skipped on the next replay, tried on the one after (set back again, now for two).
    let pushes = server.pushes().len();
    let report = agent.cycle().await;
    assert_eq!(report.set_back, 1);
    assert_eq!(server.pushes().len(), pushes, "skipped");
    let report = agent.cycle().await;
    assert_eq!(report.set_back, 1);
    assert_eq!(server.pushes().len(), pushes + 1, "tried again");

    // The count survives a restart; once the server takes it, it is delivered and forgotten.
    drop(agent);
    server.stop_failing();
    let agent = crate::helpers::agent(&server.url(), dir.path(), &[]);
    for _ in 0..2 {
        assert_eq!(agent.cycle().await.set_back, 1, "still set back");
    }
    assert_eq!(server.pushes().len(), pushes + 1);
    let report = agent.cycle().await;
    assert_eq!((report.replayed, report.pending), (1, 0), "{report:?}");
    assert_eq!(
        server.recorded(),
        [ids[1].clone(), ids[2].clone(), ids[0].clone()]
    );
    // (`checks/` is the connectivity-check spool beside the results.)
    assert_eq!(
        files_in(dir.path()),
        [".lock", "checks"],
        "no attempts record left"
    );
}
